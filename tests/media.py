"""Test media made with the real ffmpeg from lavfi sources; expected values in tests come
from the parameters given here."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from pipeline.media import find_ffmpeg


def ffmpeg(*args: str) -> None:
    subprocess.run([find_ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def tone(peak_dbfs: float = -20.0, *, frequency_hz: float = 1000.0, channels: int = 2,
         sample_rate_hz: int = 48000) -> str:
    """A lavfi source: the same sine in every channel at `peak_dbfs`.

    Per EBU Tech 3341 a stereo 1 kHz sine at X dBFS reads X LUFS (BS.1770's -0.691 dB
    offset cancels the K-filter's gain at 1 kHz).
    """
    amplitude = 10 ** (peak_dbfs / 20)
    expr = f"{amplitude:.9f}*sin(2*PI*{frequency_hz}*t)"
    return f"aevalsrc=exprs={'|'.join([expr] * channels)}:sample_rate={sample_rate_hz}"


def make_clip(
    path: Path,
    *,
    duration_s: float = 3.0,
    size: str | None = "320x180",
    fps: int = 30,
    audio: str | None = None,
    channel_layout: str | None = None,
    video_codec: str = "libx264",
    extra_output: tuple[str, ...] = (),
) -> Path:
    """A test-pattern clip with an optional lavfi audio source (default: `tone()`)."""
    audio = tone() if audio is None else audio
    args: list[str] = []
    maps: list[str] = []
    if size is not None:
        args += ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}:duration={duration_s}"]
        maps += ["-map", "0:v"]
    if audio != "none":
        args += ["-f", "lavfi", "-i", f"{audio}:duration={duration_s}"]
        maps += ["-map", f"{len(maps) // 2}:a"]
        if channel_layout:
            args += ["-af", f"aformat=channel_layouts={channel_layout}"]
    codecs: list[str] = []
    if size is not None:
        codecs += ["-c:v", video_codec, "-pix_fmt", "yuv420p"]
        if video_codec == "libx264":
            codecs += ["-preset", "ultrafast"]
    if audio != "none" and path.suffix != ".wav":
        codecs += ["-c:a", "aac", "-b:a", "192k"]
    ffmpeg(*args, *maps, *codecs, *extra_output, str(path))
    return path


def ebur128(path: Path) -> dict[str, float]:
    """Integrated loudness, LRA and true peak of `path` by ffmpeg's own ebur128 filter."""
    result = subprocess.run(
        [find_ffmpeg(), "-hide_banner", "-nostats", "-i", str(path), "-vn",
         "-af", "ebur128=peak=true", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    )
    summary = result.stderr[result.stderr.rindex("Summary:"):]
    values: dict[str, float] = {}
    for line in summary.splitlines():
        key, _, rest = line.strip().partition(":")
        number = rest.strip().split(" ")[0] if rest.strip() else ""
        try:
            value = float(number)
        except ValueError:
            continue
        if key == "I":
            values["integrated_lufs"] = value
        elif key == "LRA":
            values["loudness_range_lu"] = value
        elif key == "Peak":
            values["true_peak_dbtp"] = value
    return values


CLICK_S = 0.3  # the voiced click of the lip-sync tests


def click_template(rate_hz: int = 48_000) -> np.ndarray:
    """A 300 ms vowel (130 Hz voice, formants at 700, 1200 and 2600 Hz) starting at full
    level with a plosive-like first 10 ms three times as loud: the enhancer keeps it as
    speech, its sharp start pins the time, and its peaks make the limiter work."""
    t = np.arange(int(CLICK_S * rate_hz)) / rate_hz
    f0_hz = 130.0 * (1 + 0.03 * np.sin(2 * np.pi * 5 * t))
    phase = 2 * np.pi * np.cumsum(f0_hz) / rate_hz
    vowel = np.zeros_like(t)
    for k in range(1, 40):
        frequency_hz = 130.0 * k
        weight = sum(np.exp(-((frequency_hz - f) / bw) ** 2) for f, bw in ((700, 150), (1200, 200), (2600, 300)))
        vowel += (weight + 0.02) * np.sin(k * phase) / np.sqrt(k)
    vowel[: int(0.01 * rate_hz)] *= 3.0
    return (vowel / np.max(np.abs(vowel))).astype(np.float64)
