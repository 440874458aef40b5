"""A corpus of speech-like test files with known problems, made with ffmpeg from
`pipeline.samples.SpeechSpec` (shared by the tests and bench/bench_loudness.py)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from pipeline.samples import SpeechSpec, speech_expression
from tests.media import ffmpeg

DURATION_S = 12.0
BASE = SpeechSpec(duration_s=DURATION_S, switch_s=DURATION_S / 2, amplitude_a=0.3, amplitude_b=0.3,
                  hum_amplitude=0.0, noise_amplitude=0.002)


@dataclass(frozen=True)
class CorpusFile:
    name: str
    spec: SpeechSpec
    sample_rate_hz: int = 48000
    channels: int = 2
    bed: str | None = None  # an extra lavfi source mixed under the voice


CORPUS: tuple[CorpusFile, ...] = (
    CorpusFile("quiet", replace(BASE, amplitude_a=0.06, amplitude_b=0.06)),
    CorpusFile("loud", replace(BASE, amplitude_a=0.8, amplitude_b=0.8)),
    # peaks within a fraction of a dB of full scale
    CorpusFile("near-full-scale", replace(BASE, amplitude_a=0.97, amplitude_b=0.97, noise_amplitude=0.0)),
    CorpusFile("long-pauses", replace(BASE, phrase_s=6.0, pause_s=4.0)),
    CorpusFile("noisy", replace(BASE, noise_amplitude=0.05)),
    CorpusFile("hum", replace(BASE, hum_amplitude=0.05)),
    CorpusFile("two-speakers", replace(BASE, amplitude_b=0.06)),
    # a loud music bed: a sustained chord at about -16 dBFS under the voice
    CorpusFile("music-bed", BASE, bed="aevalsrc=exprs=0.06*sin(2*PI*220*t)+0.05*sin(2*PI*277.18*t)+0.05*sin(2*PI*329.63*t)"),
    CorpusFile("mono", BASE, channels=1),
    CorpusFile("44k1", BASE, sample_rate_hz=44100),
    # about -40 LUFS: needs some 26 dB of gain
    CorpusFile("very-quiet", replace(BASE, amplitude_a=0.012, amplitude_b=0.012, noise_amplitude=0.0004)),
)


def make_corpus_file(item: CorpusFile, folder: Path) -> Path:
    """A WAV file (PCM 24-bit) for `item` in `folder`."""
    path = folder / f"{item.name}.wav"
    rate = item.sample_rate_hz
    expr = speech_expression(item.spec).replace(",", "\\,")
    voice = f"aevalsrc=exprs={expr}:sample_rate={rate}:duration={DURATION_S}"
    noise = f"anoisesrc=color=pink:amplitude={item.spec.noise_amplitude}:seed={item.spec.seed}:sample_rate={rate}:duration={DURATION_S}"
    sources = [voice, noise] + ([f"{item.bed.replace(',', chr(92) + ',')}:sample_rate={rate}:duration={DURATION_S}"] if item.bed else [])
    labels = "".join(f"[s{i}]" for i in range(len(sources)))
    layout = "stereo" if item.channels == 2 else "mono"
    graph = ";".join(f"{src}[s{i}]" for i, src in enumerate(sources))
    graph += f";{labels}amix=inputs={len(sources)}:normalize=0:duration=first,aformat=channel_layouts={layout}"
    ffmpeg("-f", "lavfi", "-i", graph, "-c:a", "pcm_s24le", str(path))
    return path
