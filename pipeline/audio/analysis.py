"""One decode of a file's audio, many measurements: loudness (the BS.1770 meter), mains
hum and the noise floor (and, filled in by the caller from a sample of the sound, whether
the speech is reverberant: `pipeline.audio.reverb`). Used to plan the clean-up chain
(before: on the render's one decode of the input, its sound spool) and to report what
the shipped file sounds like (after)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.audio.decode import iter_audio_chunks
from pipeline.audio.hum import HumFinding, SpectrumAccumulator, detect_hum
from pipeline.audio.meter import LoudnessMeter, LoudnessResult
from pipeline.audio.noise import BlockLevelHistogram, NoiseEstimate
from pipeline.audio.noise_bands import BandWeights, band_weights
from pipeline.audio.reverb import ReverbFinding
from pipeline.errors import InputError


@dataclass(frozen=True)
class AudioAnalysis:
    loudness: LoudnessResult
    noise: NoiseEstimate
    hum: HumFinding
    # How much of the enhancer's output to use in each band (None: not measured, all of it).
    noise_bands: BandWeights | None = None
    # Whether the speech is reverberant (None: not measured: turned off, or music).
    reverb: ReverbFinding | None = None

    def to_dict(self) -> dict[str, object]:
        loudness = self.loudness.to_dict()
        keys = ("integrated_lufs", "loudness_range_lu", "true_peak_dbtp", "sample_peak_dbfs", "max_short_term_lufs")
        return {
            **{key: loudness[key] for key in keys},
            **self.noise.to_dict(),
            "hum": self.hum.to_dict(),
            **({"noise_bands": self.noise_bands.to_dict()} if self.noise_bands is not None else {}),
            **({"reverb": self.reverb.to_dict()} if self.reverb is not None else {}),
        }


def analyse_audio(
    path: Path, stream_index: int | None = None, *, hum_min_prominence_db: float = 10.0
) -> AudioAnalysis:
    """Decode the audio of `path` once (no video) and measure everything we plan from."""
    info, chunks = iter_audio_chunks(path, stream_index)
    with chunks:
        return analyse_chunks(chunks, info.sample_rate_hz, info.channel_names,
                              hum_min_prominence_db=hum_min_prominence_db, file=path)


def analyse_chunks(
    chunks: Iterable[object], sample_rate_hz: int, channel_names: Sequence[str] | int, *,
    hum_min_prominence_db: float = 10.0, file: Path | str | None = None,
) -> AudioAnalysis:
    """The same measurements over (n, channels) float blocks already decoded."""
    meter = LoudnessMeter(sample_rate_hz, channel_names)
    spectrum = SpectrumAccumulator(sample_rate_hz)
    levels = BlockLevelHistogram(sample_rate_hz)
    for chunk in chunks:
        try:
            meter.add(chunk)
        except ValueError as exc:
            raise InputError(f"audio cannot be measured: {exc}", file=file, field="audio") from exc
        spectrum.add(chunk)
        levels.add(chunk)
    noise = levels.estimate()
    return AudioAnalysis(
        loudness=meter.result(),
        noise=noise,
        # Hum is judged against the speech it sits under: a line 50 dB down is not heard.
        hum=detect_hum(
            spectrum.power(), min_prominence_db=hum_min_prominence_db, speech_level_dbfs=noise.speech_level_dbfs
        ),
        noise_bands=band_weights(spectrum.power(), spectrum.mean_power()),
    )
