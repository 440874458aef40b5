"""Two-pass EBU R128 normalization with ffmpeg's loudnorm (the foundation's audio step).

Pass one measures the input's audio only (no video decoding) after the same format
conversion the render applies (48 kHz, output channel layout), so the measured values
describe exactly the signal the second pass normalizes. Pass two is a loudnorm filter in
linear mode fed with those values, inside the one render graph.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from pipeline.config import AudioSettings
from pipeline.errors import AudioError, RenderError
from pipeline.media import run_ffmpeg
from pipeline.probe import MediaInfo

Filter = tuple[str, dict[str, object]]

_JSON_BLOCK = re.compile(r"\{[^{}]*\"input_i\"[^{}]*\}", re.S)


@dataclass(frozen=True)
class LoudnormMeasurement:
    """Pass-one values, named as loudnorm names them."""

    input_i: float
    input_tp: float
    input_lra: float
    input_thresh: float
    target_offset: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def build_format_filters(settings: AudioSettings) -> list[Filter]:
    """Resample to the output rate and convert to the output layout.

    5.1 is downmixed with swresample's default matrix (ITU-R BS.775: centre and surrounds
    at -3 dB, LFE dropped); mono is spread to both channels at -3 dB, which keeps its
    loudness.
    """
    layout = "stereo" if settings.channels == 2 else "mono"
    return [
        ("aresample", {"out_sample_rate": settings.sample_rate_hz}),
        ("aformat", {"sample_rates": settings.sample_rate_hz, "channel_layouts": layout}),
    ]


def _loudnorm_targets(settings: AudioSettings) -> dict[str, object]:
    return {
        "I": settings.target_lufs,
        "TP": settings.true_peak_dbtp,
        "LRA": settings.loudness_range_lu,
    }


def build_measure_args(info: MediaInfo, settings: AudioSettings) -> list[str]:
    """ffmpeg arguments of pass one: audio only, results as JSON on stderr."""
    audio = info.first_audio
    assert audio is not None
    chain = [*build_format_filters(settings), ("loudnorm", {**_loudnorm_targets(settings), "print_format": "json"})]
    return [
        "-i", f"file:{info.path.resolve()}",
        "-map", f"0:{audio.index}", "-vn", "-sn", "-dn",
        "-af", format_filter_chain(chain),
        "-f", "null", "-",
    ]


def format_filter_chain(chain: list[Filter]) -> str:
    """A simple -af chain string; values here are numbers and fixed words only."""
    parts = []
    for name, options in chain:
        if options:
            parts.append(name + "=" + ":".join(f"{key}={value}" for key, value in options.items()))
        else:
            parts.append(name)
    return ",".join(parts)


def parse_measurement(stderr: str, file: Path) -> LoudnormMeasurement:
    match = None
    for match in _JSON_BLOCK.finditer(stderr):
        pass
    if match is None:
        raise RenderError("loudness measurement printed no result", file=file, field="audio")
    data = json.loads(match.group(0))

    def number(key: str) -> float:
        value = float(data[key])  # loudnorm prints "-inf" for silence; float() accepts it
        return value

    return LoudnormMeasurement(
        input_i=number("input_i"),
        input_tp=number("input_tp"),
        input_lra=number("input_lra"),
        input_thresh=number("input_thresh"),
        target_offset=number("target_offset"),
    )


def measure_loudnorm(info: MediaInfo, settings: AudioSettings) -> LoudnormMeasurement:
    """Run pass one. Raises AudioError for digital silence (nothing to normalize)."""
    result = run_ffmpeg(
        build_measure_args(info, settings),
        total_s=info.duration_s,
        capture_stderr_full=True,
        what="loudness measurement",
        file=info.path,
    )
    measurement = parse_measurement(result.stderr_full, info.path)
    if not math.isfinite(measurement.input_i) or measurement.input_i < -70.0:
        raise AudioError(
            "audio is digital silence (or below the -70 LUFS gate): loudness cannot be "
            "normalized and no gain was applied; set [audio] normalize = false to render it as is",
            file=info.path,
            field="audio",
        )
    return measurement


def build_normalize_filters(settings: AudioSettings, measured: LoudnormMeasurement) -> list[Filter]:
    """Pass two: loudnorm in linear mode with the measured values, then back to 48 kHz
    (loudnorm works at 192 kHz internally when it has to fall back to dynamic mode)."""
    return [
        (
            "loudnorm",
            {
                **_loudnorm_targets(settings),
                "measured_I": measured.input_i,
                "measured_TP": measured.input_tp,
                "measured_LRA": measured.input_lra,
                "measured_thresh": measured.input_thresh,
                "offset": measured.target_offset,
                "linear": "true",
            },
        ),
        ("aresample", {"out_sample_rate": settings.sample_rate_hz}),
    ]
