"""A speech-like voice for the demo media (numpy, deterministic, no downloads).

Formant synthesis, as early speech synthesizers did it: a glottal pulse train whose pitch
glides through each phrase is filtered by three vocal-tract resonances (the formants of a
vowel), one vowel per syllable, with noise bursts for consonants, syllables at a talking
rhythm (about 4 a second) and pauses between phrases. Then the room: a short reverberant
tail, pink room noise and, if asked, mains hum. It is not language, but it has the
spectrum, rhythm and pauses that a speech enhancer, a loudness meter and a producer's ear
treat as a voice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import signal

# Average adult formant frequencies (Hz) of a few vowels (Peterson & Barney, 1952).
VOWEL_FORMANTS_HZ: dict[str, tuple[float, float, float]] = {
    "a": (730.0, 1090.0, 2440.0),
    "e": (530.0, 1840.0, 2480.0),
    "i": (270.0, 2290.0, 3010.0),
    "o": (570.0, 840.0, 2410.0),
    "u": (300.0, 870.0, 2240.0),
    "schwa": (500.0, 1500.0, 2500.0),
}
FORMANT_BANDWIDTHS_HZ = (90.0, 110.0, 170.0)
ATTACK_S = 0.025
RELEASE_S = 0.045


@dataclass(frozen=True)
class Voice:
    """One speaker: pitch, vocal-tract size (formant scale) and peak level."""

    f0_hz: float = 125.0
    formant_scale: float = 1.0  # 1.15-1.2: a shorter vocal tract (a higher voice)
    peak: float = 0.3  # peak sample of the dry voice, full scale = 1


@dataclass(frozen=True)
class Room:
    """What the microphone hears besides the voice."""

    reverb_rt60_s: float = 0.35
    reverb_mix: float = 0.18  # level of the reverberant tail against the dry voice
    noise_rms: float = 0.003  # pink room noise (ventilation)
    hum_hz: float = 60.0
    hum_amplitude: float = 0.0  # fundamental; the 3rd harmonic at half of it


def _resonator(formant_hz: float, bandwidth_hz: float, rate_hz: int) -> tuple[np.ndarray, np.ndarray]:
    """A two-pole resonance with unity gain at 0 Hz (Klatt's formant resonator)."""
    r = np.exp(-np.pi * bandwidth_hz / rate_hz)
    a1 = -2.0 * r * np.cos(2.0 * np.pi * formant_hz / rate_hz)
    a2 = r * r
    return np.array([1.0 + a1 + a2]), np.array([1.0, a1, a2])


def _envelope(n: int, rate_hz: int) -> np.ndarray:
    env = np.ones(n)
    attack, release = min(n // 2, int(ATTACK_S * rate_hz)), min(n // 2, int(RELEASE_S * rate_hz))
    env[:attack] = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, attack))
    env[n - release:] = 0.5 + 0.5 * np.cos(np.linspace(0.0, np.pi, release))
    return env


def _glottal_source(f0_track_hz: np.ndarray, rate_hz: int) -> np.ndarray:
    """Rosenberg-like glottal pulses at the given pitch, differentiated (lip radiation)."""
    phase = np.cumsum(f0_track_hz / rate_hz) % 1.0
    open_phase = 0.6
    pulse = np.where(phase < open_phase, 0.5 - 0.5 * np.cos(np.pi * phase / open_phase), 0.0)
    closing = (phase >= open_phase) & (phase < open_phase + 0.15)
    pulse[closing] = np.cos(0.5 * np.pi * (phase[closing] - open_phase) / 0.15)
    return np.diff(pulse, prepend=0.0)


def _syllable_plan(start_s: float, end_s: float, rng: np.random.Generator) -> list[tuple[float, float, str, str]]:
    """(start, length, vowel, consonant) for each syllable: phrases of 1.6-3.2 s of
    syllables, then 0.35-0.9 s of pause."""
    plan = []
    t = start_s + 0.25
    vowels = list(VOWEL_FORMANTS_HZ)
    while t < end_s - 0.5:
        phrase_end = min(end_s - 0.3, t + rng.uniform(1.6, 3.2))
        while t < phrase_end:
            length = rng.uniform(0.13, 0.27)
            consonant = rng.choice(["", "fricative", "plosive", "nasal"], p=[0.25, 0.3, 0.3, 0.15])
            plan.append((t, length, str(rng.choice(vowels)), str(consonant)))
            t += length + rng.uniform(0.0, 0.05)
        t += rng.uniform(0.35, 0.9)
    return plan


def synthesize_voice(
    turns: Sequence[tuple[float, float, Voice]], duration_s: float, rate_hz: int, *, seed: int
) -> np.ndarray:
    """Mono dry speech: each turn (start_s, end_s, voice) talks in its own time span."""
    rng = np.random.default_rng(seed)
    n = int(round(duration_s * rate_hz))
    out = np.zeros(n)
    fricative_b, fricative_a = signal.butter(2, [2500.0, 7000.0], btype="bandpass", fs=rate_hz)
    for turn_start_s, turn_end_s, voice in turns:
        turn = np.zeros(n)
        plan = _syllable_plan(turn_start_s, turn_end_s, rng)
        # Pitch: declines over each phrase, with a slow wobble (intonation).
        t = np.arange(n) / rate_hz
        f0 = voice.f0_hz * (1.0 + 0.06 * np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, 6)))
        f0 *= 1.0 + 0.05 * np.sin(2 * np.pi * 0.23 * t)
        source = _glottal_source(f0, rate_hz)
        for start_s, length_s, vowel, consonant in plan:
            first = int(start_s * rate_hz)
            count = min(int(length_s * rate_hz), n - first)
            if count <= 0:
                continue
            formants = [f * voice.formant_scale for f in VOWEL_FORMANTS_HZ[vowel]]
            voiced = source[first:first + count]
            for formant_hz, bandwidth_hz in zip(formants, FORMANT_BANDWIDTHS_HZ):
                b, a = _resonator(formant_hz, bandwidth_hz, rate_hz)
                voiced = signal.lfilter(b, a, voiced)
            # Each syllable at about the same effort: the formants' resonances would make
            # close vowels (i, u) far louder than open ones.
            voiced = voiced / (np.sqrt(np.mean(voiced**2)) + 1e-12)
            syllable = voiced * _envelope(count, rate_hz) * rng.uniform(0.6, 1.0)
            if consonant in ("fricative", "plosive"):
                burst_n = int((0.07 if consonant == "fricative" else 0.015) * rate_hz)
                lead = min(burst_n, first)
                noise = signal.lfilter(fricative_b, fricative_a, rng.standard_normal(lead + burst_n // 2))
                noise *= _envelope(len(noise), rate_hz) * (0.25 if consonant == "fricative" else 0.5) / (
                    np.sqrt(np.mean(noise**2)) + 1e-12)
                turn[first - lead:first - lead + len(noise)] += noise[: n - (first - lead)]
            if consonant == "nasal":
                syllable[: count // 3] *= 0.4  # a murmur before the vowel opens
            turn[first:first + count] += syllable
        peak = np.abs(turn).max()
        if peak > 0:
            out += turn * (voice.peak / peak)
    return out


def pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """Noise with a 1/f power spectrum, unit RMS."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.arange(len(spectrum), dtype=float)
    freqs[0] = 1.0
    noise = np.fft.irfft(spectrum / np.sqrt(freqs), n)
    return noise / np.sqrt(np.mean(noise**2))


def add_room(dry: np.ndarray, rate_hz: int, room: Room, *, seed: int) -> np.ndarray:
    """The voice as a microphone in a corridor hears it: reverb tail, room noise, hum."""
    rng = np.random.default_rng(seed)
    tail_n = int(room.reverb_rt60_s * rate_hz)
    decay = np.exp(-6.9 * np.arange(tail_n) / tail_n)  # -60 dB at rt60
    impulse = rng.standard_normal(tail_n) * decay
    impulse *= room.reverb_mix / np.sqrt(np.sum(impulse**2))
    wet = dry + signal.fftconvolve(dry, impulse)[: len(dry)]
    t = np.arange(len(dry)) / rate_hz
    hum = room.hum_amplitude * (np.sin(2 * np.pi * room.hum_hz * t) + 0.5 * np.sin(2 * np.pi * 3 * room.hum_hz * t))
    return wet + room.noise_rms * pink_noise(len(dry), rng) + hum


def frame_levels(voice: np.ndarray, rate_hz: int, fps: float, frames: int) -> np.ndarray:
    """0..1 loudness of the voice in each video frame (for a mouth that moves with it)."""
    per_frame = rate_hz / fps
    levels = np.zeros(frames)
    for i in range(frames):
        chunk = voice[int(i * per_frame):int((i + 1) * per_frame)]
        levels[i] = np.sqrt(np.mean(chunk**2)) if len(chunk) else 0.0
    top = np.percentile(levels, 95) or 1.0
    return np.clip(levels / top, 0.0, 1.0)
