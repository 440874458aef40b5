"""Picture edit benchmark: the same 1080p edit rendered three ways.

The edit: the 20 s 1080p30 walkthrough (dark, warm) with the guide inset (640x480,
25 fps) in the bottom-right corner from 4 s to 16 s (faded, bordered, last frame held,
its voice ducked over the walkthrough's sound), automatic light correction, and the
audio chain.

- Wayfinder: `wayfinder render JOB` as a producer runs it (probe, audio analysis and
  gain passes, light analysis, the one render graph, the encoded-output check).
  Its single render pass is also timed alone (the exact command from its report).
- moviepy: a CompositeVideoClip script doing the same edit frame by frame in Python:
  the same per-channel light gains Wayfinder estimated, the inset resized, bordered,
  frozen and cross-faded, the walkthrough's audio ducked and mixed with the guide's.
- bare: ffmpeg re-encoding the walkthrough with no filters, same encoder settings.

Every variant uses the preset's encoder settings (x264 preset, CRF, closed GOP, AAC
384 kbps). Wall and CPU seconds (user + system of every child process) are recorded; CPU
time is the steadier number on a shared machine. Writes the "Picture edit" section of
bench/RESULTS.md. Media: samples/media (or bench/work/media, synthesized if missing).

    .venv/bin/python bench/bench_edit.py [--presets youtube,youtube-draft] [--repeat 2]
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
import tempfile
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
    timing = timed(argv, OUT / f"wayfinder-{preset}.log", env={"WAYFINDER_CACHE_DIR": str(WORK / "cache")})
    report = json.loads((OUT / f"wayfinder-{preset}.mp4.wayfinder.json").read_text())
    return timing, report


def run_render_pass(preset: str, report: dict[str, object]) -> Timing:
    """Wayfinder's one render graph alone: the command its report recorded."""
    argv = shlex.split(str(report["command"]))
    argv[0] = ffmpeg_binary()
    argv[-2] = f"file:{OUT / f'graph-only-{preset}.mp4'}"  # the partial file it wrote to
    return timed(argv, OUT / f"graph-only-{preset}.log")


def run_graph_without_encoding(preset: str, report: dict[str, object]) -> Timing:
    """Wayfinder's render graph (decode and every filter) with the encoder left out."""
    argv = shlex.split(str(report["command"]))
    argv[0] = ffmpeg_binary()
    graph_at = argv.index("-filter_complex")
    maps = [argv[i + 1] for i, arg in enumerate(argv) if arg == "-map"]
    argv = argv[:graph_at + 2] + [part for label in maps for part in ("-map", label)] + ["-f", "null", "-"]
    return timed(argv, OUT / f"graph-null-{preset}.log")


def phases_child(job_path: str) -> None:
    """Where Wayfinder's time goes: the steps of `run_render`, each timed (own process).
    The light analysis runs on a worker thread beside the audio passes, as in a render:
    its row is the wait for it after the audio was done."""
    from pipeline import config
    from pipeline.audio.verify import verify_and_correct
    from pipeline.media import run_ffmpeg
    from pipeline.plan import build_render_plan
    from pipeline.probe import probe
    from pipeline.render import plan_sound
    from pipeline.video.compose import build_output_fps, build_output_size
    from pipeline.video.prepare import prepare_picture, start_light_analysis, with_light

    def cpu() -> float:
        own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

    steps: dict[str, tuple[float, float]] = {}
    mark = (time.monotonic(), cpu())

    def step(name: str) -> None:
        nonlocal mark
        now = (time.monotonic(), cpu())
        steps[name] = (now[0] - mark[0], now[1] - mark[1])
        mark = now

    job = config.load_job(Path(job_path))
    info = probe(job.main_path)
    step("load job, probe")
    assert info.first_audio is not None and info.video is not None
    light_task = start_light_analysis(job, info)
    size_px, _ = build_output_size(info.video, job.settings.video)
    fps, _ = build_output_fps(info.video, job.settings.video)
    picture = prepare_picture(job, info, size_px, fps, analyse_light=light_task is None)
    step("picture: inset probe, cards")
    with tempfile.TemporaryDirectory(prefix="wayfinder-bench-") as work:
        work_dir = Path(work)
        audio_prep, notes = plan_sound(job, info, picture, work_dir)
        step("audio: analysis, enhancement and measuring passes (light analysis beside them)")
        if light_task is not None:
            picture = with_light(picture, light_task.result())
        step("picture: rest of the light analysis")
        plan = build_render_plan(job, info, audio_prep, work_dir=work_dir, prep=picture, notes=notes)
        assert plan.picture.args is not None and plan.sound_args is not None and plan.sound_path is not None
        run_ffmpeg(plan.picture.args, total_s=plan.duration_s)
        step("the picture encode (a render runs the sound steps beside it)")
        run_ffmpeg(plan.sound_args, total_s=plan.duration_s)
        step("the sound encode")
        assert audio_prep is not None
        verify_and_correct(plan.sound_path, "ipod", job.settings.audio, audio_prep,
                           duration_s=plan.duration_s, file=job.main_path)
        step("audio: check of the encoded track")
        run_ffmpeg(plan.mux_args, total_s=plan.duration_s)
        step("the mux")
        plan.partial_path.unlink()
    print(json.dumps(steps))


def run_phases(preset: str, job: Path) -> dict[str, tuple[float, float]]:
    argv = [sys.executable, str(Path(__file__).resolve()), "--phases-child", str(job)]
    result = subprocess.run(argv, check=True, capture_output=True, text=True,
                            env={**os.environ, "WAYFINDER_CACHE_DIR": str(WORK / "cache")})
    return json.loads(result.stdout.strip().splitlines()[-1])


def light_gains(report: dict[str, object]) -> list[float]:
    """Wayfinder's estimated correction as per-channel gains (BT.709), for moviepy."""
    shot = report["measurements"]["picture"]["light"]["shots"][0]  # type: ignore[index]
    gain, cb, cr = shot["luma_gain"], shot["white_balance"]["cb_per_luma"], shot["white_balance"]["cr_per_luma"]
    return [gain * (1 + 1.5748 * cr), gain * (1 - 0.4681 * cr - 0.1873 * cb), gain * (1 + 1.8556 * cb)]


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--presets", default="youtube,youtube-draft")
    parser.add_argument("--repeat", type=int, default=2, help="runs of bare and Wayfinder; the fastest counts")
    parser.add_argument("--moviepy-child", help=argparse.SUPPRESS)
    parser.add_argument("--phases-child", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.moviepy_child:
        moviepy_child(json.loads(options.moviepy_child))
        return
    if options.phases_child:
        phases_child(options.phases_child)
        return
    OUT.mkdir(parents=True, exist_ok=True)
    main_path, guide = media()
    rows = []
    edit_only: tuple[Timing, Timing] | None = None  # the encoder left out: same for every preset
    phases: dict[str, dict[str, tuple[float, float]]] = {}
    for preset in options.presets.split(","):
        job = write_job(preset, main_path, guide)
        bare = min((run_bare(preset, main_path) for _ in range(options.repeat)), key=lambda t: t.wall_s)
        runs = [run_wayfinder(preset, job) for _ in range(options.repeat)]
        wayfinder, report = min(runs, key=lambda r: r[0].wall_s)
        graph = min((run_render_pass(preset, report) for _ in range(options.repeat)), key=lambda t: t.wall_s)
        movie = run_moviepy(preset, main_path, guide, report)
        rows.append((preset, bare, wayfinder, graph, movie))
        phases[preset] = run_phases(preset, job)
        if not edit_only:
            graph_null = min((run_graph_without_encoding(preset, report) for _ in range(options.repeat)),
                             key=lambda t: t.wall_s)
            edit_only = (graph_null, run_moviepy(preset, main_path, guide, report, encode=False))
        print(f"{preset}: bare {bare.wall_s:.1f} s, wayfinder {wayfinder.wall_s:.1f} s "
              f"(render pass {graph.wall_s:.1f} s), moviepy {movie.wall_s:.1f} s", flush=True)
    assert edit_only is not None
    write_section(SECTION, format_section(rows, edit_only, phases))


def format_section(
    rows: list[tuple[str, Timing, Timing, Timing, Timing]],
    edit_only: tuple[Timing, Timing],
    phases: dict[str, dict[str, tuple[float, float]]],
) -> str:
    today = datetime.date.today().isoformat()
    lines = [
        SECTION, "",
        f"Run: `.venv/bin/python bench/bench_edit.py` ({today}). {machine_line()}",
        "",
        "The edit: the 20 s 1080p30 sample walkthrough with the 640x480 25 fps guide inset "
        "(bottom-right, 28 % wide, 4-16 s, 0.5 s fades, 6 px border, last frame held, voice ducked 10 dB), "
        "`light.mode = \"auto\"`, and the audio chain. moviepy does the same picture edit with the per-channel "
        "gains Wayfinder estimated and the same duck and static gain (it has no loudness measurement or clean-up). "
        "bare = ffmpeg re-encoding the walkthrough, no filters. All with the preset's encoder settings. "
        "Fastest of the Wayfinder and bare runs; CPU = user + system seconds of all processes.",
        "",
        "| preset | variant | wall s | CPU s | wall / bare | CPU / bare | load avg before |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for preset, bare, wayfinder, graph, movie in rows:
        for name, timing in (("bare re-encode", bare), ("Wayfinder `render` (everything)", wayfinder),
                             ("Wayfinder's render pass alone", graph), ("moviepy CompositeVideoClip", movie)):
            lines.append(
                f"| {preset} | {name} | {timing.wall_s:.1f} | {timing.cpu_s:.1f} | "
                f"{timing.wall_s / bare.wall_s:.2f} | {timing.cpu_s / bare.cpu_s:.2f} | {timing.load_before:.1f} |"
            )
    graph_null, movie_null = edit_only
    lines += [
        "",
        "The edit alone, encoder left out (decode, every filter or composition, sound included; nothing written):",
        "",
        "| variant | wall s | CPU s | load avg before |",
        "|---|---:|---:|---:|",
        f"| Wayfinder's render graph, `-f null` | {graph_null.wall_s:.1f} | {graph_null.cpu_s:.1f} | {graph_null.load_before:.1f} |",
        f"| moviepy composition, frames and audio iterated | {movie_null.wall_s:.1f} | {movie_null.cpu_s:.1f} | {movie_null.load_before:.1f} |",
        "",
        f"moviepy / Wayfinder for the edit alone: {movie_null.wall_s / graph_null.wall_s:.1f}x wall, "
        f"{movie_null.cpu_s / graph_null.cpu_s:.1f}x CPU.",
        "",
    ]
    lines += [
        "Where Wayfinder's time goes (the steps of `run_render` timed in one process; wall s / CPU s):",
        "",
        "| step | " + " | ".join(phases) + " |",
        "|---|" + "---:|" * len(phases),
    ]
    for name in next(iter(phases.values())):
        lines.append(f"| {name} | " + " | ".join(f"{p[name][0]:.1f} / {p[name][1]:.1f}" for p in phases.values()) + " |")
    lines.append("")
    for preset, bare, wayfinder, graph, movie in rows:
        lines.append(
            f"- {preset}: Wayfinder / bare = {wayfinder.wall_s / bare.wall_s:.2f}x wall "
            f"({wayfinder.cpu_s / bare.cpu_s:.2f}x CPU; target <= 1.10x); render pass / bare = "
            f"{graph.wall_s / bare.wall_s:.2f}x wall ({graph.cpu_s / bare.cpu_s:.2f}x CPU); "
            f"moviepy / Wayfinder = {movie.wall_s / wayfinder.wall_s:.1f}x wall "
            f"({movie.cpu_s / wayfinder.cpu_s:.1f}x CPU; target >= 8x). Ceiling for that last ratio: "
            f"moviepy / bare = {movie.wall_s / bare.wall_s:.1f}x wall ({movie.cpu_s / bare.cpu_s:.1f}x CPU), "
            "since any tool that encodes the same frames with the same encoder takes at least the bare time."
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
