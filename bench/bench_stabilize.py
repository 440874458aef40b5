"""Stabilization on synthesized walks: what `auto` measures and decides, how much of the
frame-to-frame motion is left (phase correlation on the output), the crop, and what the
detect pass and transform add to a render's wall time (mode "off" vs "auto").

Inputs (tests/shaky_media.py): a textured scene held still, the same with sensor noise,
random walks of translation and rotation of several step sizes, a walker's bob (2 Hz
vertical, 1 Hz sway, a slow pan) at 640x360, and the sample walkthrough (test pattern
with its own moving parts) at 1280x720. These are the inputs the auto threshold
(`shake_threshold_percent` = 0.15) was set on.

Run: .venv/bin/python bench/bench_stabilize.py
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from common import machine_line, write_section

from pipeline.media import find_ffmpeg
from pipeline.samples import make_main_video
from tests.shaky_media import CameraPath, make_shaky_clip, make_texture, mean_motion_px, render_frames, write_clip

FPS = 30


def bob(frames: int) -> CameraPath:
    t = np.arange(frames) / FPS
    return CameraPath(3.0 * np.sin(2 * np.pi * 1.0 * t) + 4.0 * t, 4.0 * np.sin(2 * np.pi * 2.0 * t + 1),
                      0.002 * np.sin(2 * np.pi * 1.0 * t + 2))


def make_inputs(folder: Path) -> list[tuple[str, Path]]:
    inputs = []
    still = folder / "still.mp4"
    make_shaky_clip(still, still=True)
    inputs.append(("textured scene, held still (480x270)", still))
    noisy = folder / "noisy.mp4"
    subprocess.run([find_ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(still), "-vf",
                    "noise=alls=12:allf=t", "-c:v", "libx264", "-crf", "23", str(noisy)], check=True)
    inputs.append(("held still, sensor noise (480x270)", noisy))
    for step in (0.25, 0.5, 1.0, 1.5):
        path = folder / f"walk{step}.mp4"
        make_shaky_clip(path, step_px=step, step_rad=step * 0.001)
        inputs.append((f"random walk, {step} px / {step * 0.001 * 57.3:.3f} deg steps (480x270)", path))
    path = folder / "bob.mp4"
    frames = 5 * FPS
    scene = make_texture(640 + 200, 360 + 120, 5)
    write_clip(path, render_frames(scene, bob(frames), (640, 360)), FPS)
    inputs.append(("walker's bob 2 Hz + 1 Hz sway + pan (640x360)", path))
    sample = folder / "walkthrough.mp4"
    make_main_video(sample, width_px=1280, height_px=720, duration_s=6.0, x264_preset="ultrafast")
    inputs.append(("sample walkthrough, test pattern (1280x720)", sample))
    return inputs


def render(folder: Path, source: Path, mode: str) -> tuple[dict, float, Path]:
    out = folder / f"{source.stem}-{mode}.mp4"
    job = folder / f"{source.stem}-{mode}.toml"
    job.write_text(f'preset = "walkthrough"\n[input]\nmain = "{source}"\n[output]\npath = "{out}"\n'
                   f'[video]\nx264_preset = "ultrafast"\n[audio]\nnoise_reduction = false\n'
                   f'[stabilize]\nmode = "{mode}"\n')
    started = time.monotonic()
    subprocess.run([*PYTHON, "-m", "pipeline.cli.app", "render", str(job), "--force"], check=True,
                   capture_output=True)
    wall_s = time.monotonic() - started
    return json.loads(Path(f"{out}.wayfinder.json").read_text()), wall_s, out


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-stabilize-") as temporary:
        folder = Path(temporary)
        for name, source in make_inputs(folder):
            _, off_s, _ = render(folder, source, "off")
            report, auto_s, out = render(folder, source, "auto")
            (take,) = report["measurements"]["picture"]["stabilize"]["takes"]
            before, after = mean_motion_px(source), mean_motion_px(out)
            rows.append(
                f"| {name} | {take['shake_before_percent']:.3f} | {'yes' if take['stabilized'] else 'no'} | "
                f"{before:.2f} | {after:.2f} | {100 * (1 - after / before) if before > 0.05 else 0:.0f} % | "
                f"{take.get('crop_percent', 0):.1f} | {off_s:.1f} | {auto_s:.1f} |"
            )
            print(rows[-1], flush=True)
    text = "\n".join([
        "## Stabilization",
        "",
        f"Run: `.venv/bin/python bench/bench_stabilize.py` ({time.strftime('%Y-%m-%d')}), on a shared, loaded "
        "machine (another session's test loop and CPU hog running): wall times are indicative only.",
        "",
        machine_line(),
        "",
        "Each input rendered with the `walkthrough` preset (x264 ultrafast, speech enhancement off) with "
        "`[stabilize] mode = \"off\"` and `\"auto\"`. Shake: the RMS wobble of the camera's path at a frame "
        "corner, % of the diagonal (what `auto` compares with its 0.15 % threshold). Motion: mean "
        "frame-to-frame shift by phase correlation on the source and on the output.",
        "",
        "| input | shake % | stabilized | motion before px | motion after px | motion removed | crop % "
        "| render off s | render auto s |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        "The test pattern's motion is its own moving parts, not the camera's (phase correlation, which sees one shift per frame, reads them differently on the re-encode: the 17 % is not stabilization, none was applied): `auto` must leave it alone "
        "(its shake reads 0.08 % at 720p and 0.03 % on the 20 s 1080p sample), while the smallest walk a "
        "viewer would see (0.5 px steps, 0.56 px a frame at 480x270) reads 0.20 %: hence 0.15 %.",
        "",
    ])
    write_section("## Stabilization", text)


PYTHON = [__import__("sys").executable]

if __name__ == "__main__":
    main()
