"""Stabilization decisions (pure): from the motions ffmpeg's `vidstabdetect` found in a
take to whether the take is stabilized, and with which `vidstabtransform` settings.

The detect pass writes, for every frame, the local motions of a grid of fields (ASCII
"VID.STAB 1" format). From them each frame's motion relative to the previous one is
estimated robustly (median shift; median rotation of the fields about the centre), and
summed into the camera's path. Shake is that path's jitter: the path minus its own
smoothed self (the same Gaussian window vid.stab uses, half-width `SHAKE_WINDOW_S`),
as the RMS displacement of a frame corner, in percent of the frame's diagonal. It does
not count a deliberate pan or the walk itself, only what wobbles around them.

The correction vid.stab applies is the path smoothed with `smoothing_s` minus the path.
vid.stab magnifies by (1 + zoom/100) (measured on its output), so it draws the source
through a window of z = 1 / (1 + zoom/100) of the frame, rotated by the correction's
angle and shifted by its translation; the window stays inside the source (no border)
while, per axis,
    |shift_x| <= W/2 - z * (W/2 * cos a + H/2 * sin a), likewise for y with W and H swapped.
The zoom is the smallest that covers the whole correction, and never more than
`max_crop_percent`; when the correction needs more, `maxshift` and `maxangle` clamp it
to what that crop covers (the picture is then less smooth, never bordered). The crop
reported is this zoom: the share of the frame's width and height cut away.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.config import StabilizeSettings
from pipeline.filters import Filter

# The jitter meter's window: footsteps (about 2 Hz) and hand tremor are shake, anything
# slower than about half a second is the walk or a pan.
SHAKE_WINDOW_S = 0.5
# vidstabdetect: walking footage moves quickly (shakiness 8 of 10 searches far enough
# for a step's jolt at 1080p); accuracy 9 of 15 keeps the pass cheap, and the fields it
# finds are plenty for a translation and a rotation.
DETECT_SHAKINESS = 8
DETECT_ACCURACY = 9
MIN_FIELDS = 3  # fewer fields in a frame: its motion is not measured (left at zero)
# Fields agree on a motion within this (their shifts are whole pixels, so a true shift
# of half a pixel reads 0 or 1); a frame's motion counts when this share of its fields agree.
AGREE_PX = 1.5
MIN_AGREEING = 0.4
SAFETY_PX = 1.0  # vid.stab's bilinear sampling reads one pixel around each point

_FRAME = re.compile(r"^Frame\s+(\d+)\s+\(List\s+\d+\s+\[(.*)\]\)\s*$")
_FIELD = re.compile(r"\(LM\s+(-?\d+)\s+(-?\d+)\s+(-?\d+)\s+(-?\d+)\s+(\d+)\s+([-\d.eE+]+)\s+([-\d.eE+]+)\)")


@dataclass(frozen=True)
class FrameMotions:
    """Each frame's motion from the previous one: shift in pixels, rotation in radians,
    and whether enough fields were found to measure it."""

    dx_px: np.ndarray
    dy_px: np.ndarray
    da_rad: np.ndarray
    measured: np.ndarray  # bool per frame

    @property
    def frames(self) -> int:
        return len(self.dx_px)


def estimate_frame_motion(fields: np.ndarray, size_px: tuple[int, int]) -> tuple[float, float, float] | None:
    """A frame's camera motion from its fields (rows of dx, dy, x, y): shift (px) and
    rotation (rad) about the centre, or None when no motion is shared by enough fields.

    Things moving in the scene (people, doors, a screen) move some fields on their own,
    so a plain median can follow them. Instead the shift that most fields agree with
    (within `AGREE_PX`) is found first, then a similarity (shift, rotation, scale: a
    walk forward also magnifies) is fitted by least squares to the fields that agree."""
    width_px, height_px = size_px
    tolerance = AGREE_PX
    vectors = fields[:, :2]
    rx, ry = fields[:, 2] - width_px / 2, fields[:, 3] - height_px / 2
    candidates = np.unique(vectors, axis=0)
    agree = (np.abs(vectors[None, :, :] - candidates[:, None, :]).max(axis=2) <= tolerance).sum(axis=1)
    best = candidates[int(np.argmax(agree))]
    inliers = np.abs(vectors - best).max(axis=1) <= tolerance
    model = np.zeros(4)
    for _ in range(2):
        if np.count_nonzero(inliers) < MIN_FIELDS:
            return None
        # dx = tx - a*ry + s*rx ; dy = ty + a*rx + s*ry
        ones, zeros = np.ones(np.count_nonzero(inliers)), np.zeros(np.count_nonzero(inliers))
        a_x = np.stack([ones, zeros, -ry[inliers], rx[inliers]], axis=1)
        a_y = np.stack([zeros, ones, rx[inliers], ry[inliers]], axis=1)
        design = np.concatenate([a_x, a_y])
        target = np.concatenate([vectors[inliers, 0], vectors[inliers, 1]])
        model = np.linalg.lstsq(design, target, rcond=None)[0]
        predicted_x = model[0] - model[2] * ry + model[3] * rx
        predicted_y = model[1] + model[2] * rx + model[3] * ry
        inliers = np.maximum(np.abs(vectors[:, 0] - predicted_x), np.abs(vectors[:, 1] - predicted_y)) <= tolerance
    if np.count_nonzero(inliers) < max(MIN_FIELDS, MIN_AGREEING * len(fields)):
        return None
    return float(model[0]), float(model[1]), float(model[2])


def parse_local_motions(text: str, size_px: tuple[int, int]) -> FrameMotions:
    """The per-frame motions in an ASCII vidstabdetect file of frames `size_px` large."""
    dx: list[float] = []
    dy: list[float] = []
    da: list[float] = []
    measured: list[bool] = []
    for line in text.splitlines():
        match = _FRAME.match(line)
        if match is None:
            continue
        fields = np.array([[float(v) for v in item[:4]] for item in _FIELD.findall(match.group(2))]).reshape(-1, 4)
        motion = estimate_frame_motion(fields, size_px) if len(fields) >= MIN_FIELDS else None
        shift_x, shift_y, angle = motion if motion is not None else (0.0, 0.0, 0.0)
        dx.append(shift_x), dy.append(shift_y), da.append(angle), measured.append(motion is not None)
    return FrameMotions(np.array(dx), np.array(dy), np.array(da), np.array(measured, dtype=bool))


def gaussian_smooth(path: np.ndarray, half_width_frames: int) -> np.ndarray:
    """The path low-passed as vid.stab's `optalgo=gauss` does it: a window of 2n+1
    frames weighted exp(-(i-n)^2 / (n/2)^2), renormalized where it runs off the ends."""
    n = max(0, int(half_width_frames))
    if n == 0 or len(path) == 0:
        return path.copy()
    offsets = np.arange(-n, n + 1)
    kernel = np.exp(-(offsets ** 2) / (n / 2) ** 2)
    weighted = np.convolve(path, kernel, mode="same")
    weights = np.convolve(np.ones_like(path), kernel, mode="same")
    return weighted / weights


def trend(path: np.ndarray, half_width_frames: int) -> np.ndarray:
    """The path's slow part for the shake meter: the same window, with the path mirrored
    point-wise about its ends so a steady pan has no wobble at the clip's edges."""
    n = min(max(0, int(half_width_frames)), len(path) - 1)
    if n <= 0:
        return path.copy()
    offsets = np.arange(-n, n + 1)
    kernel = np.exp(-(offsets ** 2) / (n / 2) ** 2)
    padded = np.pad(path, n, mode="reflect", reflect_type="odd")
    return np.convolve(padded, kernel / kernel.sum(), mode="valid")


def _paths(motions: FrameMotions) -> np.ndarray:
    return np.stack([np.cumsum(motions.dx_px), np.cumsum(motions.dy_px), np.cumsum(motions.da_rad)], axis=1)


def _jitter_percent(path: np.ndarray, size_px: tuple[int, int], window_frames: int) -> float:
    """RMS displacement of a frame corner by the path's wobble, % of the diagonal."""
    if len(path) < 2:
        return 0.0
    wobble = path - np.stack([trend(path[:, axis], window_frames) for axis in range(3)], axis=1)
    half_diagonal = math.hypot(*size_px) / 2
    corner = np.hypot(wobble[:, 0], wobble[:, 1]) + np.abs(wobble[:, 2]) * half_diagonal
    return float(100 * math.sqrt(np.mean(corner ** 2)) / (2 * half_diagonal))


def _shift_room_px(size_px: tuple[int, int], scale: float, angle_rad: float) -> tuple[float, float]:
    """The largest |shift| in x and in y that a window of `scale` of the frame, rotated
    by `angle_rad`, may make and stay inside the source."""
    half_w, half_h = size_px[0] / 2, size_px[1] / 2
    cos, sin = math.cos(angle_rad), math.sin(abs(angle_rad))
    return half_w - scale * (half_w * cos + half_h * sin), half_h - scale * (half_h * cos + half_w * sin)


def needed_scale(correction: np.ndarray, size_px: tuple[int, int]) -> float:
    """The largest window (fraction of the frame) that stays inside the source for every
    frame's correction (x px, y px, angle rad)."""
    half_w, half_h = size_px[0] / 2, size_px[1] / 2
    rx = np.abs(correction[:, 0]) + SAFETY_PX
    ry = np.abs(correction[:, 1]) + SAFETY_PX
    cos, sin = np.cos(correction[:, 2]), np.sin(np.abs(correction[:, 2]))
    scale_x = (half_w - rx) / (half_w * cos + half_h * sin)
    scale_y = (half_h - ry) / (half_h * cos + half_w * sin)
    return float(min(1.0, scale_x.min(), scale_y.min())) if len(correction) else 1.0


@dataclass(frozen=True)
class TakeStabilization:
    """One take's measurement and decision, and its transform's settings when stabilized."""

    index: int
    size_px: tuple[int, int]
    frames: int
    measured_frames: int
    shake_percent: float
    stabilize: bool
    reason: str
    shake_after_percent: float | None = None
    crop_percent: float = 0.0
    needed_crop_percent: float = 0.0
    max_shift_px: int = 0
    max_angle_rad: float = 0.0
    smoothing_frames: int = 0
    transforms_path: Path | None = None

    def transform_filters(self) -> list[Filter]:
        """vidstabtransform with this take's transforms; nothing when not stabilized."""
        if not self.stabilize or self.transforms_path is None:
            return []
        return [build_transform_filter(self)]

    def to_report(self) -> dict[str, object]:
        report: dict[str, object] = {
            "take": self.index,
            "frames": self.frames,
            "measured_frames": self.measured_frames,
            "shake_before_percent": round(self.shake_percent, 4),
            "stabilized": self.stabilize,
            "reason": self.reason,
        }
        if self.stabilize:
            report.update({
                # Estimated from the detected motions with the clamped correction applied.
                "shake_after_percent": round(self.shake_after_percent or 0.0, 4),
                "crop_percent": round(self.crop_percent, 2),
                "zoom_percent": round(zoom_percent(self.crop_percent), 3),
                "crop_needed_percent": round(self.needed_crop_percent, 2),
                "max_shift_px": self.max_shift_px,
                "max_angle_deg": round(math.degrees(self.max_angle_rad), 3),
                "smoothing_frames": self.smoothing_frames,
                "frame_px": list(self.size_px),
            })
        return report


def _clamp_to_crop(correction: np.ndarray, size_px: tuple[int, int], scale: float) -> tuple[int, float]:
    """maxshift (px) and maxangle (rad) that a window of `scale` covers, shrinking the
    largest correction in proportion until it fits."""
    need_shift = float(np.abs(correction[:, :2]).max()) + SAFETY_PX if len(correction) else 0.0
    need_angle = float(np.abs(correction[:, 2]).max()) if len(correction) else 0.0

    def room(fraction: float) -> float:
        return min(_shift_room_px(size_px, scale, fraction * need_angle)) - fraction * need_shift

    low, high = 0.0, 1.0
    if room(high) < 0:
        for _ in range(40):
            middle = (low + high) / 2
            low, high = (middle, high) if room(middle) >= 0 else (low, middle)
    else:
        low = high
    angle = low * need_angle
    shift = min(_shift_room_px(size_px, scale, angle))
    return max(0, math.floor(shift)), angle


def plan_take(
    index: int, motions: FrameMotions, size_px: tuple[int, int], fps: float, settings: StabilizeSettings,
    transforms_path: Path | None,
) -> TakeStabilization:
    """Whether one take is stabilized (mode, measured shake) and with what settings."""
    window = max(1, round(fps * SHAKE_WINDOW_S))
    measured = int(np.count_nonzero(motions.measured))
    base = dict(index=index, size_px=size_px, frames=motions.frames, measured_frames=measured,
                transforms_path=transforms_path)
    if motions.frames < 2 or measured < max(2, motions.frames // 2):
        return TakeStabilization(**base, shake_percent=0.0, stabilize=False,
                                 reason=("the camera's motion could not be measured (too little detail, or the scene moves "
                                         "more than the camera): left as shot"))
    path = _paths(motions)
    shake = _jitter_percent(path, size_px, window)
    if settings.mode == "auto" and shake < settings.shake_threshold_percent:
        return TakeStabilization(**base, shake_percent=shake, stabilize=False, reason=(
            f"steady: shake {shake:.3f} % is under the threshold {settings.shake_threshold_percent:g} %"))
    smoothing = max(1, round(fps * settings.smoothing_s))
    smoothed = np.stack([gaussian_smooth(path[:, axis], smoothing) for axis in range(3)], axis=1)
    correction = smoothed - path
    needed_crop = 100 * (1 - needed_scale(correction, size_px))
    crop = min(settings.max_crop_percent, math.ceil(needed_crop * 10) / 10)
    scale = 1 - crop / 100
    max_shift, max_angle = _clamp_to_crop(correction, size_px, scale)
    clamped = np.stack([
        np.clip(correction[:, 0], -max_shift, max_shift),
        np.clip(correction[:, 1], -max_shift, max_shift),
        np.clip(correction[:, 2], -max_angle, max_angle),
    ], axis=1)
    after = _jitter_percent(path + clamped, size_px, window)
    if settings.mode == "on":
        reason = "mode = \"on\""
    else:
        reason = f"shaky: shake {shake:.3f} % reaches the threshold {settings.shake_threshold_percent:g} %"
    if needed_crop > settings.max_crop_percent:
        reason += f"; the correction needs {needed_crop:.1f} % crop, limited to {settings.max_crop_percent:g} %"
    return TakeStabilization(
        **base, shake_percent=shake, stabilize=True, reason=reason, shake_after_percent=after,
        crop_percent=crop, needed_crop_percent=needed_crop, max_shift_px=max_shift, max_angle_rad=max_angle,
        smoothing_frames=smoothing,
    )


def build_detect_filter(transforms_path: Path) -> Filter:
    """vidstabdetect writing ASCII transforms (parsed by `parse_local_motions`)."""
    return ("vidstabdetect", {
        "result": str(transforms_path.resolve()), "fileformat": 1,
        "shakiness": DETECT_SHAKINESS, "accuracy": DETECT_ACCURACY,
    })


def zoom_percent(crop_percent: float) -> float:
    """vid.stab's zoom that cuts `crop_percent` off the frame's width and height."""
    return 100 * (1 / (1 - crop_percent / 100) - 1)


def build_transform_filter(take: TakeStabilization) -> Filter:
    """vidstabtransform with a fixed zoom (the crop) and the correction clamped to it."""
    assert take.transforms_path is not None
    return ("vidstabtransform", {
        "input": str(take.transforms_path.resolve()),
        "smoothing": take.smoothing_frames,
        "optalgo": "gauss",
        "optzoom": 0,
        "zoom": f"{zoom_percent(take.crop_percent):.3f}",
        "maxshift": take.max_shift_px,
        "maxangle": f"{take.max_angle_rad:.6f}",
        "crop": "black",
        "interpol": "bilinear",
    })


@dataclass(frozen=True)
class StabilizePlan:
    """Every take's stabilization (one entry for a job without an edit list)."""

    takes: tuple[TakeStabilization, ...]
    mode: str
    max_crop_percent: float

    def filters_for(self, index: int) -> list[Filter]:
        for take in self.takes:
            if take.index == index:
                return take.transform_filters()
        return []

    def notes(self) -> list[str]:
        """One line per take for the producer: stabilized (and the crop) or why not."""
        lines = []
        for take in self.takes:
            name = f"take {take.index}" if len(self.takes) > 1 else "picture"
            if take.stabilize:
                lines.append(f"{name} stabilized: shake {take.shake_percent:.3f} % -> about "
                             f"{take.shake_after_percent or 0.0:.3f} %, crop {take.crop_percent:.1f} %")
            else:
                lines.append(f"{name} not stabilized: {take.reason}")
        return lines

    def to_report(self) -> dict[str, object]:
        return {
            "mode": self.mode,
            "max_crop_percent": self.max_crop_percent,
            "takes": [take.to_report() for take in self.takes],
        }


def transforms_path_for(work_dir: Path, index: int) -> Path:
    return work_dir / f"stabilize-take{index}.trf"

