"""Picture edit benchmark (issue 16's targets): the same 1080p edit rendered by
Wayfinder against a bare re-encode, the edit without its encoder against moviepy, and
renders without picture edits against their own sound stage.

The edit: the 20 s 1080p30 walkthrough (dark, warm) with the guide inset (640x480,
25 fps) in the bottom-right corner from 4 s to 16 s (faded, bordered, last frame held,
its voice ducked over the walkthrough's sound), automatic light correction, and the
audio chain.

- Wayfinder: `wayfinder render JOB` as a producer runs it; its report's speed record
  gives the time outside the encode and the sound stage's own time.
- bare: ffmpeg re-encoding the walkthrough with no filters, same encoder settings.
- The edit alone: Wayfinder's render graph with `-f null` (decode, every filter, sound)
  against a moviepy CompositeVideoClip script doing the same edit frame by frame in
  Python (the per-channel light gains Wayfinder estimated, the inset resized, bordered,
  frozen and cross-faded, the sound ducked and mixed), its frames and sound iterated.
- No picture edits: the walkthrough with its video copied (`.mp4`) and as sound only
  (`.m4a`), against the sound stage inside that render.

Every variant runs once per round, the order turned by one each round (interleaved), with
the 1-minute load average before each run; a ratio whose repeats fall on both sides of
its target is reported as noise. Writes the "Picture edit" section of bench/RESULTS.md.
Media: samples/media (or bench/work/media, synthesized if missing).

    .venv/bin/python bench/bench_edit.py [--presets youtube-draft,youtube] [--repeat 2]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from common import ROOT, WORK, ffmpeg_binary, machine_line, write_section

SECTION = "## Picture edit"
OUT = WORK / "edit"
INSET = {"width": 0.28, "margin": 0.03, "start_s": 4.0, "end_s": 16.0, "fade_s": 0.5, "border_px": 6, "duck_db": 10.0}


@dataclass
class Timing:
    wall_s: float
    cpu_s: float
    load_before: float


def media() -> tuple[Path, Path]:
    for folder in (ROOT / "samples" / "media", WORK / "media"):
        if (folder / "walkthrough.mp4").is_file() and (folder / "guide.mp4").is_file():
            return folder / "walkthrough.mp4", folder / "guide.mp4"
    from pipeline.samples import write_samples

    written = write_samples(WORK / "media")
    return written["walkthrough"], written["guide"]


def write_job(preset: str, main: Path, guide: Path) -> Path:
    job = OUT / f"edit-{preset}.toml"
    job.write_text(f"""
preset = "{preset}"
[input]
main = "{main}"
[output]
path = "{OUT / f'wayfinder-{preset}.mp4'}"
[light]
mode = "auto"
[[pip]]
source = "{guide}"
corner = "bottom-right"
width = {INSET['width']}
margin = {INSET['margin']}
start_s = {INSET['start_s']}
end_s = {INSET['end_s']}
fade_s = {INSET['fade_s']}
border_px = {INSET['border_px']}
border_color = "white"
when_short = "hold"
audio = "duck"
duck_db = {INSET['duck_db']}
""")
    return job


def timed(argv: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path | None = None) -> Timing:
    """Run argv to completion; wall time and the CPU time of it and all its children."""
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    with log.open("w") as handle:
        subprocess.run(argv, check=True, stdout=handle, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
                       cwd=cwd)
    wall_s = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timing(wall_s, cpu_s, load)


def encoder_args(preset: str) -> tuple[list[str], dict[str, object]]:
    """The preset's encoder options exactly as Wayfinder's plan writes them."""
    from pipeline.config import load_preset_settings
    from pipeline.plan import build_video_encode_options

    settings = load_preset_settings(preset)
    video = build_video_encode_options(settings.video, 30.0)
    audio = {"c:a": settings.audio.codec, "b:a": f"{settings.audio.bitrate_kbps}k",
             "ar": settings.audio.sample_rate_hz, "ac": settings.audio.channels}
    args: list[str] = []
    for key, value in {**video, **audio}.items():
        args += [f"-{key}", str(value)]
    return args + ["-movflags", "+faststart"], video


def run_bare(preset: str, main: Path) -> Timing:
    args, _ = encoder_args(preset)
    out = OUT / f"bare-{preset}.mp4"
    argv = [ffmpeg_binary(), "-hide_banner", "-nostdin", "-y", "-i", str(main), "-map", "0:v:0", "-map", "0:a:0",
            *args, str(out)]
    return timed(argv, OUT / f"bare-{preset}.log")


def run_wayfinder(preset: str, job: Path) -> tuple[Timing, dict[str, object]]:
    argv = [sys.executable, "-m", "pipeline.cli.app", "render", str(job), "--force"]
    # From OUT with PYTHONPATH set: `python -m` puts the working folder first on sys.path.
    timing = timed(argv, OUT / f"wayfinder-{preset}.log",
                   env={"WAYFINDER_CACHE_DIR": str(WORK / "cache"), "PYTHONPATH": str(ROOT)}, cwd=OUT)
    report = json.loads((OUT / f"wayfinder-{preset}.mp4.wayfinder.json").read_text())
    return timing, report


def run_graph_without_encoding(preset: str, report: dict[str, object]) -> Timing:
    """Wayfinder's render graph (decode and every filter) with the encoder left out."""
    argv = shlex.split(str(report["command"]))
    argv[0] = ffmpeg_binary()
    graph_at = argv.index("-filter_complex")
    maps = [argv[i + 1] for i, arg in enumerate(argv) if arg == "-map"]
    argv = argv[:graph_at + 2] + [part for label in maps for part in ("-map", label)] + ["-f", "null", "-"]
    return timed(argv, OUT / f"graph-null-{preset}.log")


def light_gains(report: dict[str, object]) -> list[float]:
    """Wayfinder's estimated correction of the first shot as per-channel gains, for moviepy."""
    shot = report["measurements"]["picture"]["light"]["shots"][0]  # type: ignore[index]
    return [float(g) for g in shot["correction"]["channel_gains"]]


def run_moviepy(preset: str, main: Path, guide: Path, report: dict[str, object], *, encode: bool = True) -> Timing:
    gain_db = (report["measurements"].get("audio") or {}).get("gain") or {}  # type: ignore[union-attr]
    spec = {
        "main": str(main), "guide": str(guide), "out": str(OUT / f"moviepy-{preset}.mp4"), "preset": preset,
        "rgb_gains": light_gains(report), "audio_gain_db": gain_db.get("gain_db", 0.0) if isinstance(gain_db, dict) else 0.0,
        "encode": encode,
    }
    argv = [sys.executable, str(Path(__file__).resolve()), "--moviepy-child", json.dumps(spec)]
    return timed(argv, OUT / f"moviepy-{preset}{'' if encode else '-null'}.log")


def moviepy_child(spec: dict[str, object]) -> None:
    """The peer: the same edit as a moviepy script (runs in its own process)."""
    import numpy as np
    from moviepy import CompositeAudioClip, CompositeVideoClip, VideoFileClip, afx, vfx

    from pipeline.config import load_preset_settings

    settings = load_preset_settings(str(spec["preset"]))
    _, video_options = encoder_args(str(spec["preset"]))
    gains = np.asarray(spec["rgb_gains"], dtype=np.float32)

    def correct(frame: np.ndarray) -> np.ndarray:
        return np.clip(frame.astype(np.float32) * gains, 0, 255).astype(np.uint8)

    main = VideoFileClip(str(spec["main"]))
    width_px, height_px = main.size
    inset_w = round(INSET["width"] * width_px / 2) * 2
    guide = VideoFileClip(str(spec["guide"]))
    window_s = INSET["end_s"] - INSET["start_s"]
    inset = guide.resized(width=inset_w).with_effects([
        vfx.Freeze(t="end", total_duration=window_s),  # hold the last frame
        vfx.Margin(margin_size=INSET["border_px"], color=(255, 255, 255)),
        vfx.CrossFadeIn(INSET["fade_s"]),
        vfx.CrossFadeOut(INSET["fade_s"]),
    ])
    margin_px = round(INSET["margin"] * width_px)
    position = (width_px - inset.w - margin_px, height_px - inset.h - margin_px)
    inset = inset.with_start(INSET["start_s"]).with_position(position)
    duck = 10 ** (-INSET["duck_db"] / 20)
    sound = main.audio.with_effects([afx.MultiplyVolume(duck, start_time=INSET["start_s"], end_time=INSET["end_s"])])
    voice = guide.audio.with_start(INSET["start_s"])
    mixed = CompositeAudioClip([sound, voice]).with_effects([afx.MultiplyVolume(10 ** (float(spec["audio_gain_db"]) / 20))])
    final = CompositeVideoClip([main.image_transform(correct), inset], size=main.size).with_audio(mixed)
    final = final.with_duration(main.duration)
    if not spec["encode"]:
        # The edit alone: every frame and audio chunk composed, nothing written.
        for _ in final.iter_frames(fps=30, dtype="uint8"):
            pass
        for _ in final.audio.iter_chunks(fps=48000, chunksize=48000):
            pass
        return
    params = []
    for key in ("profile:v", "crf", "g", "keyint_min", "sc_threshold", "flags", "bf", "colorspace",
                "color_primaries", "color_trc", "color_range"):
        params += [f"-{key}", str(video_options[key])]
    final.write_videofile(
        str(spec["out"]), fps=30, codec="libx264", preset=settings.video.x264_preset, pixel_format="yuv420p",
        audio_codec="aac", audio_bitrate=f"{settings.audio.bitrate_kbps}k", audio_fps=48000,
        ffmpeg_params=[*params, "-movflags", "+faststart"], logger=None,
        temp_audiofile_path=str(OUT),  # moviepy writes its sound beside the output, not in the cwd
    )


def write_plain_job(kind: str, main: Path) -> tuple[Path, Path]:
    """A job with no picture edits: `copy` (the video stream copied, the sound made) or
    `audio` (an .m4a of the sound alone)."""
    out = OUT / ("copy-video.mp4" if kind == "copy" else "audio-only.m4a")
    job = OUT / f"{kind}.toml"
    job.write_text(f'preset = "youtube-draft"\n[input]\nmain = "{main}"\n[output]\npath = "{out}"\n')
    return job, out


def run_plain(kind: str, main: Path) -> tuple[Timing, dict[str, object]]:
    job, out = write_plain_job(kind, main)
    timing = timed([sys.executable, "-m", "pipeline.cli.app", "render", str(job), "--force"], OUT / f"{kind}.log",
                   env={"WAYFINDER_CACHE_DIR": str(WORK / "cache"), "PYTHONPATH": str(ROOT)}, cwd=OUT)
    return timing, json.loads(out.with_name(out.name + ".wayfinder.json").read_text())


def sound_stage_s(report: dict[str, object]) -> float:
    """The sound stage's own wall time, from the render's speed record."""
    speed = report["speed"]
    return next(p["duration_s"] for p in speed["passes"] if p["name"] == "sound (beside the picture)")  # type: ignore[index]


@dataclass
class Variant:
    """One thing to time, `repeat` times, in the interleaved order."""

    name: str
    run: object  # () -> Timing | tuple[Timing, dict]
    timings: list[Timing]
    reports: list[dict[str, object]]


def interleaved(variants: list[Variant], repeat: int) -> None:
    """Run every variant `repeat` times, round by round, each round's order turned by one,
    so that no variant always runs first (or right after the heaviest) under a load."""
    for round_index in range(repeat):
        turn = round_index % len(variants)
        for variant in variants[turn:] + variants[:turn]:
            result = variant.run()  # type: ignore[operator]
            timing, report = result if isinstance(result, tuple) else (result, {})
            variant.timings.append(timing)
            variant.reports.append(report)
            print(f"  {variant.name}: {timing.wall_s:.1f} s wall, {timing.cpu_s:.1f} s CPU, load {timing.load_before:.1f}",
                  flush=True)


def verdict(ratios: list[float], target: float, at_most: bool) -> str:
    """meets / misses, or noise when the repeats fall on both sides of the target."""
    low, high = min(ratios), max(ratios)
    if (high <= target) if at_most else (low >= target):
        return "meets"
    if (low > target) if at_most else (high < target):
        return "misses"
    return "noise (repeats on both sides of the target)"


def span(values: list[float], unit: str = "") -> str:
    low, high = min(values), max(values)
    return f"{low:.2f}{unit}" if abs(high - low) < 0.005 else f"{low:.2f}-{high:.2f}{unit}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--presets", default="youtube-draft,youtube")
    parser.add_argument("--repeat", type=int, default=2, help="rounds; every variant runs once per round")
    parser.add_argument("--moviepy-child", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.moviepy_child:
        moviepy_child(json.loads(options.moviepy_child))
        return
    OUT.mkdir(parents=True, exist_ok=True)
    main_path, guide = media()
    started = datetime.datetime.now(datetime.timezone.utc)
    presets = options.presets.split(",")
    renders: dict[str, tuple[Variant, Variant]] = {}
    variants: list[Variant] = []
    for preset in presets:
        job = write_job(preset, main_path, guide)
        bare = Variant(f"{preset} bare", lambda preset=preset: run_bare(preset, main_path), [], [])
        whole = Variant(f"{preset} wayfinder", lambda preset=preset, job=job: run_wayfinder(preset, job), [], [])
        renders[preset] = (bare, whole)
        variants += [bare, whole]
    copy = Variant("copy-video render", lambda: run_plain("copy", main_path), [], [])
    audio = Variant("audio-only render", lambda: run_plain("audio", main_path), [], [])
    variants += [copy, audio]
    interleaved(variants, options.repeat)
    # The edit with the encoder left out, against moviepy's composition (its gains from
    # Wayfinder's light estimate), after the renders: the graph comes from a render's report.
    report = renders[presets[0]][1].reports[-1]
    graph_null = Variant("render graph -f null", lambda: run_graph_without_encoding(presets[0], report), [], [])
    movie_null = Variant("moviepy composition",
                         lambda: run_moviepy(presets[0], main_path, guide, report, encode=False), [], [])
    interleaved([graph_null, movie_null], options.repeat)
    write_section(SECTION, format_section(started, options, renders, copy, audio, graph_null, movie_null))


def format_section(started: datetime.datetime, options: argparse.Namespace, renders: dict[str, tuple[Variant, Variant]],
                   copy: Variant, audio: Variant, graph_null: Variant, movie_null: Variant) -> str:
    def row(variant: Variant) -> str:
        t = variant.timings
        return (f"| {variant.name} | {span([x.wall_s for x in t])} | {span([x.cpu_s for x in t])} | "
                f"{', '.join(f'{x.load_before:.1f}' for x in t)} |")

    lines = [
        SECTION, "",
        f"Run: `.venv/bin/python bench/bench_edit.py --presets {options.presets} --repeat {options.repeat}` "
        f"({started:%Y-%m-%d %H:%M} UTC). {machine_line()}",
        "",
        "The edit: the 20 s 1080p30 sample walkthrough with the 640x480 25 fps guide inset "
        "(bottom-right, 28 % wide, 4-16 s, 0.5 s fades, 6 px border, last frame held, voice ducked 10 dB), "
        "`light.mode = \"auto\"`, and the audio chain. bare = ffmpeg re-encoding the walkthrough with the preset's "
        "encoder settings, no filters. Every variant ran once per round, the rounds' order turned by one each time "
        "(interleaved); the 1-minute load average before each run is listed. CPU = user + system of all processes. "
        "A ratio is called noise when its repeats fall on both sides of the target.",
        "",
        "| variant | wall s | CPU s | load before each run |",
        "|---|---:|---:|---|",
    ]
    for bare, whole in renders.values():
        lines += [row(bare), row(whole)]
    lines += [row(copy), row(audio), row(graph_null), row(movie_null), "", "Targets (issue 16):", ""]
    for preset, (bare, whole) in renders.items():
        ratios = [w.wall_s / b.wall_s for w, b in zip(whole.timings, bare.timings)]
        cpu = [w.cpu_s / b.cpu_s for w, b in zip(whole.timings, bare.timings)]
        outside = [float(r["speed"]["outside_encode_s"]) for r in whole.reports]  # type: ignore[index]
        lines.append(
            f"- {preset}, whole render / bare re-encode (20 s clip, each round's pair): {span(ratios, 'x')} wall, "
            f"{span(cpu, 'x')} CPU; the render's time outside its encode {span(outside, ' s')}. Targets are 1.15x at "
            f"8 s and 1.05x at 60 s (measured by bench/bench_speed.py); against 1.15x: "
            f"{verdict(ratios, 1.15, at_most=True)}.")
    edit_wall = [m.wall_s / g.wall_s for m, g in zip(movie_null.timings, graph_null.timings)]
    edit_cpu = [m.cpu_s / g.cpu_s for m, g in zip(movie_null.timings, graph_null.timings)]
    lines.append(
        f"- The edit without the encoder (decode, every filter, sound; `-f null` against moviepy's composition "
        f"iterated): moviepy / Wayfinder {span(edit_wall, 'x')} wall, {span(edit_cpu, 'x')} CPU; target >= 10x: "
        f"{verdict(edit_cpu, 10.0, at_most=False)} (CPU), {verdict(edit_wall, 10.0, at_most=False)} (wall).")
    for variant, what in ((copy, "copy-video"), (audio, "audio-only")):
        ratios = [t.wall_s / sound_stage_s(r) for t, r in zip(variant.timings, variant.reports)]
        stage = [sound_stage_s(r) for r in variant.reports]
        lines.append(
            f"- {what} render (`youtube-draft`, no picture edits): whole command / its sound stage "
            f"(the render's speed record, `sound (beside the picture)`: {span(stage, ' s')}) = {span(ratios, 'x')}; "
            f"target <= 1.10x: {verdict(ratios, 1.10, at_most=True)}.")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
