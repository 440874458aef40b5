"""The speech clean-up corpus for bench/bench_speech.py: real speech from shared/speech-dev
with degradations made here, from a fixed seed, at 48 kHz.

Speech (the clean references): every p862_or*.wav (8 kHz, so band-limited to 4 kHz after
upsampling), pesq_speech_clean.wav (16 kHz), and one two-talker item (a loud and a quiet
speaker in a row, 12 dB apart). Each is set to its own active speech level between -35
and -20 dBFS and padded with 0.5 s of silence at both ends.

Degradations, per speech item (variants rotate over the items so that every setting is
used, and every item gets every kind):

| kind | what |
|---|---|
| clean | the speech itself |
| noise | white and pink noise, SNR 0 / 5 / 10 dB (against the active speech level) |
| babble | 8 talkers from the p862 recordings (or and dg) of sentences other than the target's, each looped from a random start at +-3 dB, summed and made diffuse by a room (RT60 0.5 s), SNR 0 / 5 / 10 dB; plus the real 0 dB babble file of speech-dev |
| hum | mains hum, 50 or 60 Hz with 9 harmonics (odd ones stronger), at -40 dBFS (audible) and -73 dBFS (faint) |
| hvac | rumble: brown noise low-passed at 200 Hz (4th order) with a faint pink component 20 dB under it, SNR 5 / 10 / 15 dB |
| reverb | a synthetic room: exponentially decaying Gaussian noise RIR after a direct path, RT60 0.4 / 0.5 / 0.6 s, direct-to-reverberant ratio +4 / +2 / 0 dB; the reference is the dry speech |
| reverb+noise | the same room plus pink noise at 5 / 10 / 15 dB SNR |

jfk_1961.flac (a real noisy recording, no reference) is loaded as it is, mono, at 48 kHz.

Files are cached as 32-bit float WAV under bench/work/speech-corpus/<VERSION>/ (NAME.wav
the degraded input, NAME.ref.wav the reference); change VERSION when the recipe changes.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import signal
from scipy.io import wavfile

from common import ROOT, WORK

SR = 48_000
SCORE_SR = 16_000
VERSION = "v2"
CACHE = WORK / "speech-corpus" / VERSION
DEFAULT_SPEECH_DEV = ROOT.parent / "shared" / "speech-dev"
PAD_S = 0.5
SEED = 12  # issue 12

KINDS = ("clean", "noise", "babble", "hum", "hvac", "reverb", "reverb+noise")
NOISY_KINDS = KINDS[1:]


@dataclass(frozen=True)
class Speech:
    name: str
    samples: np.ndarray  # 48 kHz mono float32, padded
    source: str  # the speech-dev file(s) it comes from
    level_dbfs: float


@dataclass(frozen=True)
class Condition:
    name: str
    kind: str
    speech: str
    detail: str
    path: Path  # degraded input, 48 kHz float WAV
    ref_path: Path | None  # clean reference at 48 kHz (None: no reference)

    def load(self) -> tuple[np.ndarray, np.ndarray | None]:
        deg = read_wav(self.path)
        ref = read_wav(self.ref_path) if self.ref_path is not None else None
        return deg, ref


# ---------------------------------------------------------------------------- audio i/o

def decode(path: Path) -> tuple[np.ndarray, int]:
    """Any audio file -> (mono float32, its rate), with PyAV."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        rate = stream.rate
        mono = av.AudioResampler(format="flt", layout="mono", rate=rate)
        chunks = []
        for frame in container.decode(stream):
            for out in mono.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
        for out in mono.resample(None):
            chunks.append(out.to_ndarray().reshape(-1))
    return np.concatenate(chunks), rate


def resample(samples: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    if rate_in == rate_out:
        return samples.astype(np.float32)
    g = np.gcd(rate_in, rate_out)
    return signal.resample_poly(samples.astype(np.float64), rate_out // g, rate_in // g).astype(np.float32)


def read_wav(path: Path) -> np.ndarray:
    with warnings.catch_warnings():  # soundfile's extra chunks
        warnings.simplefilter("ignore", wavfile.WavFileWarning)
        rate, data = wavfile.read(path)
    if data.dtype.kind == "i":
        data = data.astype(np.float32) / float(np.iinfo(data.dtype).max + 1)
    if data.ndim == 2:
        data = data.mean(axis=1)
    return resample(data.astype(np.float32), rate, SR)


def write_wav(path: Path, samples: np.ndarray, rate: int = SR) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".tmp")
    wavfile.write(partial, rate, samples.astype(np.float32))
    partial.replace(path)


# ---------------------------------------------------------------------------- levels

def active_level_db(x: np.ndarray, sr: int = SR) -> float:
    """Mean power of the 20 ms frames within 40 dB of the loudest one (a simple active
    speech level, close to P.56 for clean speech)."""
    n = int(0.02 * sr)
    frames = x[: len(x) // n * n].astype(np.float64).reshape(-1, n)
    ms = (frames ** 2).mean(axis=1)
    active = ms > ms.max() * 1e-4
    return float(10 * np.log10(ms[active].mean() + 1e-20))


def rms_db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(x.astype(np.float64) ** 2) + 1e-20))


def at_level(x: np.ndarray, level_db: float) -> np.ndarray:
    return (x * 10 ** ((level_db - active_level_db(x)) / 20)).astype(np.float32)


def noise_at_snr(speech: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """Noise scaled so that active speech level - noise RMS = snr_db."""
    gain = 10 ** ((active_level_db(speech) - snr_db - rms_db(noise)) / 20)
    return (noise * gain).astype(np.float32)


# ---------------------------------------------------------------------------- noises

def rng_for(*key: object) -> np.random.Generator:
    digest = hashlib.sha256(repr((SEED,) + key).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def white(n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal(n)


def pink(n: int, rng: np.random.Generator) -> np.ndarray:
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / SR)
    f[0] = f[1]
    return np.fft.irfft(spectrum / np.sqrt(f), n)


def hvac(n: int, rng: np.random.Generator) -> np.ndarray:
    brown = np.cumsum(rng.standard_normal(n))
    brown = signal.sosfilt(signal.butter(2, 15, "highpass", fs=SR, output="sos"), brown)  # no drift
    rumble = signal.sosfiltfilt(signal.butter(4, 200, "lowpass", fs=SR, output="sos"), brown)
    air = pink(n, rng)
    air *= 10 ** ((rms_db(rumble) - 20 - rms_db(air)) / 20)
    return rumble + air


HUM_HARMONICS = (1.0, 0.5, 0.7, 0.25, 0.45, 0.15, 0.3, 0.1, 0.2, 0.08)


def hum(n: int, mains_hz: float, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(n) / SR
    drift = 1 + 0.0005 * np.sin(2 * np.pi * 0.1 * t)  # the grid wanders a little
    out = np.zeros(n)
    for k, amplitude in enumerate(HUM_HARMONICS, start=1):
        phase = 2 * np.pi * np.cumsum(np.full(n, k * mains_hz / SR) * drift)
        out += amplitude * np.sin(phase + rng.uniform(0, 2 * np.pi))
    return out


def room_rir(rt60_s: float, drr_db: float, rng: np.random.Generator) -> np.ndarray:
    """Direct path (1.0 at sample 0) then a diffuse tail from 2.5 ms: Gaussian noise with
    an exponential decay of 60 dB in rt60_s, slightly low-passed (air and wall absorption),
    scaled to the direct-to-reverberant ratio."""
    n = int(1.2 * rt60_s * SR)
    t = np.arange(n) / SR
    tail = rng.standard_normal(n) * np.exp(-6.908 * t / rt60_s)
    tail[: int(0.0025 * SR)] = 0.0
    tail = signal.sosfilt(signal.butter(1, 6000, "lowpass", fs=SR, output="sos"), tail)
    tail *= np.sqrt(10 ** (-drr_db / 10) / np.sum(tail ** 2))
    tail[0] = 1.0
    return tail


def reverberate(x: np.ndarray, rir: np.ndarray) -> np.ndarray:
    return signal.fftconvolve(x.astype(np.float64), rir)[: len(x)]


# ---------------------------------------------------------------------------- speech

def load_speech(speech_dev: Path) -> list[Speech]:
    """The clean speech items, each at its own level, padded with silence."""
    def source(name: str) -> np.ndarray:
        data, rate = decode(speech_dev / name)
        x = resample(data, rate, SR)
        return x - x.mean()

    pad = np.zeros(int(PAD_S * SR), dtype=np.float32)

    def padded(x: np.ndarray) -> np.ndarray:
        return np.concatenate([pad, x, pad]).astype(np.float32)

    p862 = sorted(p.name for p in speech_dev.glob("p862_or*.wav"))
    if not p862 or not (speech_dev / "pesq_speech_clean.wav").exists():
        raise FileNotFoundError(f"{speech_dev}: no p862_or*.wav or pesq_speech_clean.wav (see --speech-dev)")
    levels = (-26.0, -32.0, -22.0, -35.0, -29.0, -23.0)
    items = []
    for i, name in enumerate(p862):
        level = levels[i % len(levels)]
        items.append(Speech(Path(name).stem.replace("p862_", ""), padded(at_level(source(name), level)), name, level))
    clean = source("pesq_speech_clean.wav")
    items.append(Speech("pesq", padded(at_level(clean, -23.0)), "pesq_speech_clean.wav", -23.0))
    # two talkers in a row, 12 dB apart: a wideband loud one, then a quiet band-limited one
    second = source(p862[1 % len(p862)])
    gap = np.zeros(int(0.3 * SR), dtype=np.float32)
    pair = np.concatenate([at_level(clean, -22.0), gap, at_level(second, -34.0)])
    items.append(Speech("pair", padded(pair), f"pesq_speech_clean.wav + {p862[1 % len(p862)]}", -22.0))
    return items


def load_voices(speech_dev: Path) -> dict[str, np.ndarray]:
    """Babble voices: every p862 recording (or and dg), 48 kHz, each at -30 dBFS."""
    voices = {}
    for path in sorted(speech_dev.glob("p862_*.wav")):
        data, rate = decode(path)
        voices[path.name] = at_level(resample(data - data.mean(), rate, SR), -30.0)
    return voices


def babble(target: Speech, voices: dict[str, np.ndarray], n: int, rng: np.random.Generator, streams: int = 8) -> np.ndarray:
    """A crowd: `streams` talkers from recordings other than the target's own sentences,
    each looped from a random start with a random gain (+-3 dB), summed, then made diffuse
    by a room (RT60 0.5 s, direct-to-reverberant -3 dB)."""
    sentences = [name[-7:-4] for name in voices]  # p862_or105.wav -> 105
    own = {num for num in sentences if num in target.source}
    pool = [v for name, v in voices.items() if name[-7:-4] not in own]
    out = np.zeros(n)
    order = rng.permutation(len(pool))
    for k in range(streams):
        talker = pool[order[k % len(pool)]].astype(np.float64)
        looped = np.tile(talker, n // len(talker) + 2)
        start = int(rng.integers(0, len(talker)))
        out += looped[start:start + n] * 10 ** (rng.uniform(-3, 3) / 20)
    return reverberate(out, room_rir(0.5, -3.0, rng))


# ---------------------------------------------------------------------------- conditions

NOISE_SNRS = (0.0, 5.0, 10.0)
BABBLE_SNRS = (0.0, 5.0, 10.0)
HVAC_SNRS = (5.0, 10.0, 15.0)
ROOMS = ((0.4, 4.0), (0.5, 2.0), (0.6, 0.0))  # (RT60 s, DRR dB)
ROOM_NOISE_SNRS = (5.0, 10.0, 15.0)


def _make(item: Speech, voices: dict[str, np.ndarray], kind: str, variant: int, index: int) -> tuple[str, np.ndarray, np.ndarray]:
    """(detail, degraded, reference) for one variant of one kind on one speech item."""
    x = item.samples.astype(np.float64)
    n = len(x)
    rng = rng_for(item.name, kind, variant)
    if kind == "clean":
        return "clean speech", x, x
    if kind == "noise":
        colour = ("white", "pink")[variant]
        snr = NOISE_SNRS[(index + variant) % len(NOISE_SNRS)]
        noise = white(n, rng) if colour == "white" else pink(n, rng)
        return f"{colour} noise {snr:g} dB SNR", x + noise_at_snr(x, noise, snr), x
    if kind == "babble":
        snr = BABBLE_SNRS[index % len(BABBLE_SNRS)]
        return f"8-talker diffuse babble {snr:g} dB SNR", x + noise_at_snr(x, babble(item, voices, n, rng), snr), x
    if kind == "hum":
        mains = (50.0, 60.0)[(index + variant) % 2]
        level = (-40.0, -73.0)[variant]
        h = hum(n, mains, rng)
        h *= 10 ** ((level - rms_db(h)) / 20)
        return f"{mains:g} Hz hum {level:g} dBFS", x + h, x
    if kind == "hvac":
        snr = HVAC_SNRS[index % len(HVAC_SNRS)]
        return f"HVAC rumble {snr:g} dB SNR", x + noise_at_snr(x, hvac(n, rng), snr), x
    rt60, drr = ROOMS[index % len(ROOMS)]
    wet = reverberate(x, room_rir(rt60, drr, rng))
    if kind == "reverb":
        return f"room RT60 {rt60:g} s DRR {drr:+g} dB", wet, x
    if kind == "reverb+noise":
        snr = ROOM_NOISE_SNRS[index % len(ROOM_NOISE_SNRS)]
        noise = noise_at_snr(wet, pink(n, rng_for(item.name, kind, variant, "noise")), snr)
        return f"room RT60 {rt60:g} s + pink noise {snr:g} dB SNR", wet + noise, x
    raise ValueError(kind)


VARIANTS = {"clean": 1, "noise": 2, "babble": 1, "hum": 2, "hvac": 1, "reverb": 1, "reverb+noise": 1}


def build_corpus(speech_dev: Path = DEFAULT_SPEECH_DEV, *, quick: bool = False) -> tuple[list[Condition], Condition | None]:
    """(conditions with references, the jfk_1961 recording without one). Cached."""
    speech_dev = Path(speech_dev)
    items = load_speech(speech_dev)
    voices = load_voices(speech_dev)
    chosen = [i for i in items if i.name in ("pesq", "or105")] if quick else items
    conditions: list[Condition] = []
    for index, item in enumerate(items):
        if item not in chosen:
            continue
        for kind in KINDS:
            for variant in range(1 if quick else VARIANTS[kind]):
                name = f"{item.name}-{kind.replace('+', '-')}-{variant}"
                path, ref_path = CACHE / f"{name}.wav", CACHE / f"{name}.ref.wav"
                detail_path = CACHE / f"{name}.txt"
                if not (path.exists() and ref_path.exists() and detail_path.exists()):
                    detail, deg, ref = _make(item, voices, kind, variant, index)
                    peak = max(np.abs(deg).max(), 1e-9)
                    if peak > 0.99:  # never clip: lower input and reference together
                        deg, ref = deg * 0.99 / peak, ref * 0.99 / peak
                    write_wav(path, deg)
                    write_wav(ref_path, ref)
                    detail_path.write_text(detail)
                conditions.append(Condition(name, kind, item.name, detail_path.read_text(), path, ref_path))
    # the real babble recording of speech-dev, against its clean original
    real_clean, real_babble = speech_dev / "pesq_speech_clean.wav", speech_dev / "pesq_speech_babble_0dB.wav"
    if real_babble.exists():
        name = "pesq-realbabble-0"
        path, ref_path = CACHE / f"{name}.wav", CACHE / f"{name}.ref.wav"
        if not (path.exists() and ref_path.exists()):
            clean, rate = decode(real_clean)
            noisy, rate_b = decode(real_babble)
            clean, noisy = resample(clean, rate, SR), resample(noisy, rate_b, SR)
            m = min(len(clean), len(noisy))
            gain = 10 ** ((-23.0 - active_level_db(clean[:m])) / 20)
            pad = np.zeros(int(PAD_S * SR))
            write_wav(path, np.concatenate([pad, noisy[:m] * gain, pad]))
            write_wav(ref_path, np.concatenate([pad, clean[:m] * gain, pad]))
        conditions.append(Condition(name, "babble", "pesq", "real babble recording 0 dB SNR (speech-dev)", path, ref_path))
    jfk = None
    if (speech_dev / "jfk_1961.flac").exists():
        path = CACHE / "jfk_1961.wav"
        if not path.exists():
            data, rate = decode(speech_dev / "jfk_1961.flac")
            write_wav(path, resample(data, rate, SR))
        jfk = Condition("jfk_1961", "real", "jfk_1961", "real 1961 recording, hiss and crowd, no reference", path, None)
    return conditions, jfk


def speed_file(speech_dev: Path, path: Path, minutes: float = 10.0, *, layout: str = "stereo") -> Path:
    """A 48 kHz WAV of `minutes` of corpus speech (the clean items in turn, each at its own
    level, with pauses) under pink noise at 15 dB SNR and a faint 50 Hz hum. "stereo": two
    microphones (the right one later and with its own noise: not a dual mono), as a phone
    records; "mono": the left microphone alone, as a lavalier recorder writes it."""
    if path.exists():
        return path
    items = load_speech(Path(speech_dev))
    n = int(minutes * 60 * SR)
    rng = rng_for("speed-file")
    speech = np.zeros(n)
    at, k = 0, 0
    while at < n:
        piece = items[k % len(items)].samples
        take = min(len(piece), n - at)
        speech[at:at + take] = piece[:take]
        at += take + int(rng.uniform(0.2, 1.5) * SR)
        k += 1
    noise = noise_at_snr(speech, pink(n, rng), 15.0)
    h = hum(n, 50.0, rng)
    h *= 10 ** ((-60.0 - rms_db(h)) / 20)
    mono = speech + noise + h
    right = np.roll(mono, 24) * 0.9 + 0.1 * noise_at_snr(speech, white(n, rng), 20.0)  # not a dual mono
    stereo = np.stack([mono, right], axis=1)
    stereo *= min(1.0, 0.99 / np.abs(stereo).max())
    sound = stereo if layout == "stereo" else stereo[:, 0]
    path.parent.mkdir(parents=True, exist_ok=True)
    wavfile.write(path.with_name(path.name + ".tmp"), SR, sound.astype(np.float32))
    path.with_name(path.name + ".tmp").replace(path)
    return path
