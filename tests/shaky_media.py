"""Shaky test media: a textured scene seen through a camera moved by a known random walk
of translation and small rotation (a hand-held walk), and the same scene held still.
Frames are made with numpy/scipy and encoded by the real ffmpeg; the motion that made
them is returned, so tests know what they should measure. Also the motion meter the
tests judge stabilization by: frame-to-frame shift found by phase correlation."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from scipy import ndimage

from pipeline.media import find_ffmpeg


@dataclass(frozen=True)
class CameraPath:
    """Where the camera was in each frame: shift in pixels and rotation in radians."""

    x_px: np.ndarray
    y_px: np.ndarray
    angle_rad: np.ndarray


def make_texture(width_px: int, height_px: int, seed: int) -> np.ndarray:
    """A scene with detail at several scales (blobs and edges), 8-bit grey, seeded."""
    rng = np.random.default_rng(seed)
    scene = np.zeros((height_px, width_px))
    for sigma_px, weight in ((1.5, 0.6), (4.0, 1.0), (12.0, 1.4)):
        layer = ndimage.gaussian_filter(rng.standard_normal((height_px, width_px)), sigma_px)
        scene += weight * layer / layer.std()
    scene = 128 + 40 * scene
    return np.clip(scene, 0, 255)


def random_walk(frames: int, *, step_px: float, step_rad: float, seed: int, pull: float = 0.08) -> CameraPath:
    """A random walk of translation and rotation, pulled gently back to the centre (as a
    hand-held camera is), so it stays inside the scene's margin."""
    rng = np.random.default_rng(seed)
    path = np.zeros((frames, 3))
    for index in range(1, frames):
        step = rng.standard_normal(3) * (step_px, step_px, step_rad)
        path[index] = path[index - 1] * (1 - pull) + step
    return CameraPath(path[:, 0], path[:, 1], path[:, 2])


def steady(frames: int) -> CameraPath:
    zeros = np.zeros(frames)
    return CameraPath(zeros, zeros, zeros)


def render_frames(scene: np.ndarray, path: CameraPath, size_px: tuple[int, int]) -> list[np.ndarray]:
    """Each frame: the window of `size_px` at the scene's centre, moved and rotated by the
    camera path (bilinear sampling)."""
    width_px, height_px = size_px
    scene_h, scene_w = scene.shape
    frames = []
    for x_px, y_px, angle in zip(path.x_px, path.y_px, path.angle_rad):
        cos, sin = np.cos(angle), np.sin(angle)
        matrix = np.array([[cos, -sin], [sin, cos]])  # (row, col) from the frame's centre
        centre_out = np.array([height_px / 2, width_px / 2])
        centre_in = np.array([scene_h / 2 + y_px, scene_w / 2 + x_px])
        offset = centre_in - matrix @ centre_out
        frame = ndimage.affine_transform(scene, matrix, offset=offset, output_shape=(height_px, width_px), order=1)
        frames.append(np.clip(frame, 0, 255).astype(np.uint8))
    return frames


def write_clip(path: Path, frames: list[np.ndarray], fps: int) -> Path:
    """Grey frames encoded as H.264 yuv420p (almost lossless: the motion is what counts)."""
    height_px, width_px = frames[0].shape
    args = [
        find_ffmpeg(), "-hide_banner", "-loglevel", "error", "-y",
        "-f", "rawvideo", "-pix_fmt", "gray", "-s", f"{width_px}x{height_px}", "-r", str(fps), "-i", "pipe:0",
        "-c:v", "libx264", "-preset", "ultrafast", "-crf", "10", "-pix_fmt", "yuv420p", str(path),
    ]
    subprocess.run(args, input=b"".join(frame.tobytes() for frame in frames), check=True)
    return path


def make_shaky_clip(
    path: Path, *, size_px: tuple[int, int] = (480, 270), fps: int = 30, duration_s: float = 4.0,
    step_px: float = 1.5, step_rad: float = 0.0015, seed: int = 7, still: bool = False,
) -> CameraPath:
    """Write a clip of the textured scene moved by a seeded random walk (or held still);
    returns the camera path that made it."""
    frames = round(fps * duration_s)
    margin = 80
    scene = make_texture(size_px[0] + 2 * margin, size_px[1] + 2 * margin, seed)
    camera = steady(frames) if still else random_walk(frames, step_px=step_px, step_rad=step_rad, seed=seed)
    write_clip(path, render_frames(scene, camera, size_px), fps)
    return camera


def grey_frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="gray").astype(np.float64) for frame in container.decode(video=0)]


def phase_shift_px(a: np.ndarray, b: np.ndarray, border_px: int) -> tuple[float, float]:
    """The translation from frame `a` to frame `b` by phase correlation (Hann window,
    parabolic sub-pixel peak), measured inside `border_px` of the edges."""
    if border_px:
        a = a[border_px:-border_px, border_px:-border_px]
        b = b[border_px:-border_px, border_px:-border_px]
    window = np.outer(np.hanning(a.shape[0]), np.hanning(a.shape[1]))
    fa = np.fft.fft2((a - a.mean()) * window)
    fb = np.fft.fft2((b - b.mean()) * window)
    cross = fa * np.conj(fb)
    surface = np.real(np.fft.ifft2(cross / (np.abs(cross) + 1e-9)))
    row, col = np.unravel_index(int(np.argmax(surface)), surface.shape)

    def refine(values: tuple[float, float, float]) -> float:
        left, centre, right = values
        denominator = left - 2 * centre + right
        return 0.0 if denominator == 0 else 0.5 * (left - right) / denominator

    rows, cols = surface.shape
    dy = row + refine((surface[row - 1, col], surface[row, col], surface[(row + 1) % rows, col]))
    dx = col + refine((surface[row, col - 1], surface[row, col], surface[row, (col + 1) % cols]))
    dy = dy - rows if dy > rows / 2 else dy
    dx = dx - cols if dx > cols / 2 else dx
    return float(dx), float(dy)


def mean_motion_px(path: Path, border_px: int = 24) -> float:
    """Mean frame-to-frame shift (pixels) of a clip, by phase correlation."""
    frames = grey_frames(path)
    shifts = [np.hypot(*phase_shift_px(a, b, border_px)) for a, b in zip(frames, frames[1:])]
    return float(np.mean(shifts))


def measured_crop_percent(source: np.ndarray, output: np.ndarray, *, border_px: int = 24) -> float:
    """How much of the source's width the output frame shows less of: the magnification
    (searched in 0.25 % steps, each aligned in translation by phase correlation) that
    best matches `output`, as the share cut away, 100 * (1 - 1/magnification)."""
    height_px, width_px = source.shape
    centre = np.array([height_px / 2, width_px / 2])
    inner = (slice(2 * border_px, -2 * border_px), slice(2 * border_px, -2 * border_px))
    best_score, best_scale = -2.0, 1.0
    for scale in np.arange(1.0, 1.2, 0.0025):
        matrix = np.eye(2) / scale
        zoomed = ndimage.affine_transform(source, matrix, offset=centre - matrix @ centre, order=1)
        dx, dy = phase_shift_px(output, zoomed, border_px)
        aligned = ndimage.shift(zoomed, (dy, dx), order=1)
        score = np.corrcoef(aligned[inner].ravel(), output[inner].ravel())[0, 1]
        if score > best_score:
            best_score, best_scale = score, float(scale)
    return 100 * (1 - 1 / best_scale)
