"""The separate recorder's sound put on the camera's clock, as filter steps (pure).

Given an Alignment (recorder time = offset + (1 + drift) * camera time), the recorder's
stream is turned into the sound of any stretch [start_s, end_s) of the camera source at
the output rate, sample for sample:

- drift: the recorder's samples are declared to have been taken at its nominal rate
  times (1 + drift) (`asetrate`), which stretches its timeline onto the camera's, and
  then resampled to the output rate. That is a resampling with exact timing (no
  time-stretching algorithm: `atempo` splices overlapping blocks, which moves sound by
  up to a block and smears transients), at the price of shifting the pitch by the drift
  itself: 200 ppm is 0.35 cent, a hundredth of the smallest pitch step people hear.
  `asetrate` only takes whole hertz, and a whole hertz off at 44.1 kHz is 23 ppm (7 ms
  over 5 minutes), so the recorder is first resampled to an intermediate rate chosen so
  that rate times (1 + drift) is a whole number to within a billionth (two such steps
  for drifts of a few ppm; see plan_rate_stages).
- offset: after resampling, the camera stretch's first sample is a whole sample number
  of the recorder's stream: trimmed by sample count (`atrim start_sample`), or, when the
  recorder started after the camera, preceded by silence (`adelay` in samples).
- the stretch is then padded with silence or cut to its exact length in samples, so
  where the recorder does not reach, the sound is silent, never shifted.
"""

from __future__ import annotations

import numpy as np

from pipeline.audio.align import Alignment
from pipeline.filters import Filter

# Rate factors closer to 1 than this are played at the nominal rate (under 0.3 ms an hour).
NEGLIGIBLE_DRIFT = 1e-10


# A stretch is exact enough when it is off by less than this (0.4 ms a week).
EXACT_FACTOR = 1e-9


def _best_stage(base_hz: int, rate_factor: float) -> tuple[int, int, float]:
    """(intermediate, declared, error): the whole-hertz pair within one octave above
    `base_hz` whose ratio is closest to `rate_factor`."""
    candidates = np.arange(base_hz, 2 * base_hz, dtype=np.float64)
    declared = np.round(candidates * rate_factor)
    errors = np.abs(declared / candidates - rate_factor)
    best = int(np.argmin(errors))
    return int(candidates[best]), int(declared[best]), float(errors[best])


def plan_rate_stages(recorder_rate_hz: int, out_rate_hz: int, rate_factor: float) -> list[tuple[int, int]]:
    """(intermediate rate, declared rate) pairs: resample to the first, declare the
    second; the product of declared / intermediate is `rate_factor` to within
    EXACT_FACTOR. Rates start at the higher of the recorder's and the output's, so
    nothing of the recorder's band is lost on the way.

    One pair reaches that for most factors, but whole hertz near 1 are coarse: no ratio
    of rates under 96 kHz lies between 1 and 1 + 1/96000, so a drift of a few ppm needs
    two: a first step slightly past the factor, and a second from the whole one-octave
    range that takes the small remainder back (those come 1/rate^2 apart: a billionth)."""
    base = max(recorder_rate_hz, out_rate_hz)
    intermediate, declared, error = _best_stage(base, rate_factor)
    if error <= EXACT_FACTOR:
        return [(intermediate, declared)]
    first_declared = round(base * rate_factor) + (1 if rate_factor >= 1 else -1)
    remainder = rate_factor * base / first_declared
    second_intermediate, second_declared, _ = _best_stage(base, remainder)
    return [(base, first_declared), (second_intermediate, second_declared)]


def camera_to_stream_samples(alignment: Alignment, camera_s: float, out_rate_hz: int) -> int:
    """The sample of the stretched and resampled recorder stream that plays at
    `camera_s` on the camera's clock (negative: before the recorder started)."""
    return round((camera_s + alignment.offset_s / alignment.rate_factor) * out_rate_hz)


def build_recorder_filters(
    alignment: Alignment, recorder_rate_hz: int, *, start_s: float, end_s: float, out_rate_hz: int
) -> list[Filter]:
    """Steps that turn the recorder's stream (at its nominal `recorder_rate_hz`) into the
    sound of the camera's [start_s, end_s), at `out_rate_hz`, exactly
    round((end_s - start_s) * out_rate_hz) samples long, its timestamps from 0."""
    length = round((end_s - start_s) * out_rate_hz)
    filters: list[Filter] = []
    if abs(alignment.rate_factor - 1.0) > NEGLIGIBLE_DRIFT:
        for intermediate_hz, declared_hz in plan_rate_stages(recorder_rate_hz, out_rate_hz, alignment.rate_factor):
            filters += [
                ("aresample", {"out_sample_rate": intermediate_hz}),
                ("asetrate", {"sample_rate": declared_hz}),
                # Timestamps from the sample count: asetrate's own are in the old rate's units.
                ("asetpts", {"expr": "N/SR/TB"}),
            ]
    filters += [("aresample", {"out_sample_rate": out_rate_hz}), ("asetpts", {"expr": "N/SR/TB"})]
    first = camera_to_stream_samples(alignment, start_s, out_rate_hz)
    if first >= 0:
        filters.append(("atrim", {"start_sample": first, "end_sample": first + length}))
        filters.append(("asetpts", {"expr": "PTS-STARTPTS"}))
    else:
        filters.append(("atrim", {"end_sample": max(0, first + length)}))
        filters.append(("adelay", {"delays": f"{-first}S", "all": 1}))
    filters += [
        ("apad", {"whole_len": length}),
        ("atrim", {"end_sample": length}),
        ("asetpts", {"expr": "N/SR/TB"}),
    ]
    return filters


def build_camera_filters(*, start_s: float, end_s: float, out_rate_hz: int, gain_db: float) -> list[Filter]:
    """The camera's own sound for the same stretch, at `gain_db`, to mix under the
    recorder: time 0 at the file's start (a late audio stream is padded, as the picture
    keeps its own start), exactly as long as the recorder's stretch."""
    first = round(start_s * out_rate_hz)
    length = round((end_s - start_s) * out_rate_hz)
    return [
        ("aresample", {"out_sample_rate": out_rate_hz, "first_pts": 0}),
        ("asetpts", {"expr": "N/SR/TB"}),
        ("atrim", {"start_sample": first, "end_sample": first + length}),
        ("asetpts", {"expr": "PTS-STARTPTS"}),
        ("apad", {"whole_len": length}),
        ("atrim", {"end_sample": length}),
        ("volume", {"volume": f"{gain_db}dB"}),
    ]
