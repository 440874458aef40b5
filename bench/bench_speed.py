"""Speed overhead benchmark (issue 16): a whole `wayfinder render` against a bare ffmpeg
re-encode with the same x264/AAC settings, and where the render's extra time goes.

The edit: a 1080p30 main (the sample walkthrough, cut to 8 s or looped to 60 s) with a
640x360 inset (the sample guide, cropped) from 1 s to the end, automatic light, the
audio chain; presets `youtube-draft` and `youtube`. Each cell runs bare then Wayfinder
back to back (interleaved, so both see about the same load); the ratio is whole wall /
bare wall in that pair. From the render's own speed record (its report's `speed`
section) it also lists the encode's time, the time outside it and the biggest passes.

Then `--jobs`: the same small batch (four 8 s draft jobs of that edit) with `--jobs 1`,
`--jobs 2` and `--jobs 1` again (the two 1s bracket the 2, so a load change shows).

Writes the "Speed overhead (issue 16)" and "Batch --jobs default (issue 16)" sections of
bench/RESULTS.md.

With `--base DIR` (another checkout, e.g. main's worktree) every cell also renders with
that code, interleaved with this checkout's render and the bare encode (the order turned
by one each cell): before/after ratios from one run, under the same load.

    .venv/bin/python bench/bench_speed.py [--lengths 8,60] [--presets youtube-draft,youtube] [--base DIR] [--no-batch | --only-batch]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

from common import ROOT, WORK, ffmpeg_binary, machine_line, write_section

from bench_edit import Timing, encoder_args, timed

SECTION = "## Speed overhead (issue 16)"
BATCH_SECTION = "## Batch --jobs default (issue 16)"
OUT = WORK / "speed"
INSET_W_PX, INSET_H_PX = 640, 360


def sample(name: str) -> Path:
    for folder in (ROOT / "samples" / "media", WORK / "media"):
        if (folder / name).is_file():
            return folder / name
    from pipeline.samples import write_samples

    write_samples(WORK / "media")
    return WORK / "media" / name


def make_media(length_s: int) -> tuple[Path, Path]:
    """The main clip of `length_s` (near-lossless x264, so its decode is like a camera
    file's) and the 640x360 inset."""
    OUT.mkdir(parents=True, exist_ok=True)
    main, inset = OUT / f"main-{length_s}s.mp4", OUT / "inset-640x360.mp4"
    if not main.is_file():
        subprocess.run([ffmpeg_binary(), "-v", "error", "-y", "-stream_loop", "-1", "-i", str(sample("walkthrough.mp4")),
                        "-t", str(length_s), "-c:v", "libx264", "-preset", "veryfast", "-crf", "16", "-pix_fmt", "yuv420p",
                        "-c:a", "aac", "-b:a", "256k", str(main)], check=True)
    if not inset.is_file():
        subprocess.run([ffmpeg_binary(), "-v", "error", "-y", "-i", str(sample("guide.mp4")),
                        "-vf", "crop=640:360,fps=30", "-c:v", "libx264", "-preset", "veryfast", "-crf", "16",
                        "-c:a", "aac", "-b:a", "192k", str(inset)], check=True)
    return main, inset


def write_job(preset: str, main: Path, inset: Path, out: Path, name: str) -> Path:
    job = OUT / f"{name}.toml"
    job.write_text(f"""
preset = "{preset}"
[input]
main = "{main}"
[output]
path = "{out}"
[light]
mode = "auto"
[[pip]]
source = "{inset}"
corner = "bottom-right"
width = {INSET_W_PX / 1920:.6f}
start_s = 1.0
when_short = "hold"
audio = "duck"
""")
    return job


def run_bare(preset: str, main: Path, name: str) -> Timing:
    args, _ = encoder_args(preset)
    argv = [ffmpeg_binary(), "-hide_banner", "-nostdin", "-y", "-i", str(main), "-map", "0:v:0", "-map", "0:a:0",
            *args, str(OUT / f"bare-{name}.mp4")]
    return timed(argv, OUT / f"bare-{name}.log")


def run_wayfinder(job: Path, out: Path, name: str, code: Path = ROOT) -> tuple[Timing, dict]:
    """`wayfinder render` with the package at `code` (this checkout, or `--base`'s)."""
    argv = [sys.executable, "-m", "pipeline.cli.app", "render", str(job), "--force"]
    env = {"WAYFINDER_CACHE_DIR": str(WORK / "cache"), "PYTHONPATH": str(code)}
    if code != ROOT:
        # Older code lacks the single-threaded BLAS that keeps a render from hanging in
        # OpenBLAS (see pipeline/__init__.py); it costs nothing either way.
        env["OPENBLAS_NUM_THREADS"] = "1"
    # Run from OUT: `python -m` puts the working folder first on sys.path.
    timing = timed(argv, OUT / f"wayfinder-{name}.log", env=env, cwd=OUT)
    return timing, json.loads(out.with_name(out.name + ".wayfinder.json").read_text())


def biggest_outside(speed: dict, count: int = 3) -> str:
    """The longest passes that are not the encode (the sound's whole span is left out:
    it runs beside the picture; its own passes are listed)."""
    passes = [p for p in speed["passes"]
              if p["name"] not in speed["encode_passes"] and not p["name"].startswith("sound (")]
    passes.sort(key=lambda p: p["duration_s"], reverse=True)
    return "; ".join(f"{p['name']} {p['duration_s']:.2f}" for p in passes[:count])


def picture_cpu_s(speed: dict) -> str:
    return next((f"{p['cpu_s']:.1f}" for p in speed["passes"] if p["name"] == "picture encode" and p["cpu_s"] is not None), "")


def run_batch(jobs: int, inset: Path, main: Path, label: str) -> tuple[Timing, dict]:
    folder = OUT / f"batch-{label}"
    folder.mkdir(parents=True, exist_ok=True)
    manifest = folder / "manifest.toml"
    manifest.write_text("".join(f"""
[[jobs]]
name = "j{index}"
preset = "youtube-draft"
input = {{ main = "{main}" }}
output = {{ path = "out/j{index}.mp4" }}
light = {{ mode = "auto" }}
audio = {{ target_lufs = {-14 - index} }}
pip = [{{ source = "{inset}", corner = "bottom-right", width = {INSET_W_PX / 1920:.6f}, start_s = 1.0, audio = "duck" }}]
""" for index in range(4)))
    argv = [sys.executable, "-m", "pipeline.cli.app", "batch", str(manifest), "--jobs", str(jobs), "--force"]
    timing = timed(argv, folder / "batch.log", env={"WAYFINDER_CACHE_DIR": str(WORK / "cache")})
    return timing, json.loads((folder / "batch-report.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lengths", default="8,60")
    parser.add_argument("--presets", default="youtube-draft,youtube")
    parser.add_argument("--no-batch", action="store_true")
    parser.add_argument("--only-batch", action="store_true")
    parser.add_argument("--section", default=SECTION,
                        help="the heading whose section of bench/RESULTS.md the table replaces (e.g. a subsection)")
    parser.add_argument("--base", type=Path, default=None,
                        help="another checkout (e.g. main's worktree): its render runs beside this one's in each cell")
    options = parser.parse_args()
    started = datetime.datetime.now(datetime.timezone.utc)
    rows = []
    codes = [("this", ROOT)] + ([("base", options.base.resolve())] if options.base else [])
    cell = 0
    for length_s in ([] if options.only_batch else (int(v) for v in options.lengths.split(","))):
        main_path, inset = make_media(length_s)
        for preset in options.presets.split(","):
            name = f"{preset}-{length_s}s"
            # Interleaved: bare and each checkout's render back to back, the order turned
            # by one each cell so that no variant always runs first (or last) under a load.
            runs: list[tuple[str, Path | None]] = [("bare", None), *codes]
            runs = runs[cell % len(runs):] + runs[:cell % len(runs)]
            cell += 1
            bare = None
            renders = {}
            for label, code in runs:
                if code is None:
                    bare = run_bare(preset, main_path, name)
                    continue
                out = OUT / f"wayfinder-{name}-{label}.mp4"
                job = write_job(preset, main_path, inset, out, f"{name}-{label}")
                renders[label] = run_wayfinder(job, out, f"{name}-{label}", code)
            assert bare is not None
            for label, _ in codes:
                whole, report = renders[label]
                speed = report["speed"]
                rows.append((length_s, preset, label, bare, whole, speed))
                print(f"{name} {label}: bare {bare.wall_s:.1f} s, whole {whole.wall_s:.1f} s "
                      f"({whole.wall_s / bare.wall_s:.2f}x); encode {speed['encode_s']:.1f} s, "
                      f"outside {speed['outside_encode_s']:.1f} s; order {[r[0] for r in runs]}", flush=True)
    batch_rows = []
    if not options.no_batch:
        main_path, inset = make_media(8)
        for label, jobs in (("1a", 1), ("2", 2), ("1b", 1)):
            timing, report = run_batch(jobs, inset, main_path, label)
            batch_rows.append((label, jobs, timing, report))
            print(f"batch --jobs {jobs}: {timing.wall_s:.1f} s wall, machine share {report.get('machine_share')}", flush=True)

    head = (f"Run {started:%Y-%m-%d %H:%M} UTC. {machine_line()} The machine is shared: other sessions' tests and "
            "benchmarks ran at the same time, so the load (1-minute load average before each run) is given per row "
            "and single runs carry several percent of noise.")
    if rows:
        tail = f" --lengths {options.lengths} --presets {options.presets}" + (f" --base {options.base}" if options.base else "")
        if options.section != SECTION:
            tail += f" --section '{options.section}'"
        write_section(options.section, "\n".join(speed_lines(rows, head, tail, options.section)) + "\n")
    if batch_rows:
        write_section(BATCH_SECTION, "\n".join(batch_lines(batch_rows, head)) + "\n")


def speed_lines(rows: list, head: str, command_tail: str = "", title: str = SECTION) -> list[str]:
    lines = [
        title, "",
        head, "",
        f"Command: `.venv/bin/python bench/bench_speed.py --no-batch{command_tail}`", "",
        "Edit: 1080p30 main (sample walkthrough, cut/looped), 640x360 inset from 1 s (ducked), auto light, "
        "the audio chain. Bare: `ffmpeg -i main` re-encoded with the preset's x264/AAC settings, no filters. "
        "Whole: `wayfinder render` (process start to exit). Encode / outside: from the render's report "
        "(`speed.encode_s`, `speed.outside_encode_s`; wall there excludes Python start-up).", "",
        "| clip | preset | code | load | bare s | whole s | whole / bare | render wall s | encode s | outside s | bare CPU s | picture encode CPU s | render CPU s | machine share | biggest passes outside the encode (s) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for length_s, preset, label, bare, whole, speed in rows:
        lines.append(
            f"| {length_s} s | {preset} | {label} | {bare.load_before:.1f} / {whole.load_before:.1f} | {bare.wall_s:.1f} | "
            f"{whole.wall_s:.1f} | {whole.wall_s / bare.wall_s:.2f}x | {speed['wall_s']:.1f} | {speed['encode_s']:.1f} | "
            f"{speed['outside_encode_s']:.1f} | {bare.cpu_s:.1f} | {picture_cpu_s(speed)} | {speed['cpu_s']} | "
            f"{speed['machine_share']} | {biggest_outside(speed)} |")
    return lines


def batch_lines(batch_rows: list, head: str) -> list[str]:
    lines = [BATCH_SECTION, "", head, "", "Command: `.venv/bin/python bench/bench_speed.py --only-batch`", ""]
    if batch_rows:
        lines += ["`--jobs` (four 8 s `youtube-draft` jobs of the same edit, `wayfinder batch --force`, run in this order):", "",
                  "| run | --jobs | load before | wall s | CPU s | batch machine share |", "|---|---|---|---|---|---|"]
        for label, jobs, timing, report in batch_rows:
            lines.append(f"| {label} | {jobs} | {timing.load_before:.1f} | {timing.wall_s:.1f} | {timing.cpu_s:.1f} | "
                         f"{report.get('machine_share')} |")
    return lines


if __name__ == "__main__":
    main()
