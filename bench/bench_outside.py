"""Where a render's CPU outside the picture encode goes (issue 16): the render's steps run
one after the other in one process (the real render runs the sound beside the picture;
here nothing overlaps), each step's CPU taken as this process' plus its reaped
children's user+system time (`getrusage`), so every CPU second lands on exactly one step:
Python start-up and imports, the job's loading, the probe, the light analysis (its
decode and its planning), every pass of the sound stage (decode, analysis, the clean-up
before the enhancer, the enhancer, the measuring pass, the limiter's calibration, the
track encode, the check of the encoded track), the picture encode, the mux, the check of
the output and its hash.

    .venv/bin/python bench/bench_outside.py [JOB.toml ...]   (none: bench_speed.py's 8 s edit)
    .venv/bin/python bench/bench_outside.py --base /work/main --repeat 2 JOB.toml [...]

Prints one table per job (CPU s, wall s, per step, nested steps indented). The
calibration's two side-by-side passes and the enhancer's segments run on their own
threads: they are counted in their step's total, not apart. With `--base DIR` each job
runs in a fresh process with this checkout's package and with DIR's, in turn (the order
turned each repeat), and the table gives both CPU columns (the median of the repeats)
and the 1-minute load average before each run.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time

START_CPU_S = time.process_time()  # the interpreter's own start-up is measured apart
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
if not os.environ.get("PYTHONPATH"):  # else the caller chose which checkout's package runs
    sys.path.insert(0, str(HERE.parent))


def cpu_s() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class Ledger:
    """Inclusive CPU and wall per step, nested by the step that was open on the main
    thread (or the one worker thread that runs alone: the light analysis)."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, str, float, float]] = []
        self.depth = 0

    def measure(self, label: str, work, *args, **kwargs):
        index = len(self.rows)
        self.rows.append((self.depth, label, 0.0, 0.0))
        self.depth += 1
        started_cpu, started_wall = cpu_s(), time.monotonic()
        try:
            return work(*args, **kwargs)
        finally:
            self.depth -= 1
            self.rows[index] = (self.depth, label, cpu_s() - started_cpu, time.monotonic() - started_wall)

    def wrap(self, module, name: str, label: str, *,
             skip_threads: tuple[str, ...] = ("calibration", "ThreadPool")) -> None:
        original = getattr(module, name)

        def wrapped(*args, **kwargs):
            if threading.current_thread().name.startswith(skip_threads):
                return original(*args, **kwargs)  # side by side with its siblings: counted in the parent
            return self.measure(label, original, *args, **kwargs)

        setattr(module, name, wrapped)


def profile_job(job_path: Path, ledger: Ledger) -> None:
    import tempfile

    from pipeline import config, render, sound_stage
    from pipeline.audio import prepare, sound, verify
    from pipeline.media import run_ffmpeg
    from pipeline.plan import (build_picture_plan, build_render_plan, build_sound_track_args, build_video_mode,
                               sound_path_for)
    from pipeline.state import sha256_of_file
    from pipeline.video import prepare as video_prepare

    ledger.wrap(video_prepare, "sample_picture", "light: decode (sample frames)", skip_threads=())
    ledger.wrap(video_prepare, "plan_light", "light: plan", skip_threads=())
    ledger.wrap(prepare, "decode_sound", "sound: decode to the spool")
    ledger.wrap(prepare, "analyse_chunks", "sound: analysis (loudness, hum, noise, bands)")
    ledger.wrap(prepare, "run_enhanced_sound", "sound: enhancer (all)")
    ledger.wrap(sound, "_filter_to", "clean-up before the enhancer (ffmpeg)")
    ledger.wrap(sound, "survey_channels", "stereo survey")
    ledger.wrap(prepare, "measure_pass", "sound: measuring pass (ffmpeg + meter)")
    ledger.wrap(prepare, "measure_limited_gain", "sound: limiter calibration passes")
    ledger.wrap(verify, "analyse_audio", "check of the encoded track (decode + analysis)")

    job = ledger.measure("load the job", config.load_job, job_path)
    with tempfile.TemporaryDirectory(prefix="i16-outside-", dir=job.output_path.parent) as folder:
        work_dir = Path(folder)
        start = ledger.measure("probe, insets, cards (start_job)", render.start_job, job, work_dir)
        prep = ledger.measure("light analysis (waited for, alone)", start.with_light)
        info = start.info
        video_mode = build_video_mode(job, info)
        picture = ledger.measure("plan the picture", build_picture_plan, job, info, work_dir, prep=prep)
        ledger.measure("PICTURE ENCODE (x264)", run_ffmpeg, picture.args, total_s=picture.duration_s,
                       what="picture encode", file=job.main_path)
        audio_prep, notes = ledger.measure("sound: plan (all)", sound_stage.plan_sound, job, info, start.prep, work_dir)
        duration_s = picture.duration_s
        sound_path = sound_path_for(work_dir)
        ledger.measure("sound: track encode (ffmpeg, AAC)", run_ffmpeg,
                       build_sound_track_args(job, info, audio_prep, sound_path, prep=start.prep,
                                              with_cards=video_mode == "encode"),
                       total_s=duration_s, what="sound encode", file=job.main_path)
        verified = ledger.measure("sound: verify_and_correct (all)", verify.verify_and_correct, sound_path, "ipod",
                                  job.settings.audio, audio_prep, duration_s=duration_s, file=job.main_path)
        plan = build_render_plan(job, info, audio_prep, work_dir=work_dir, prep=prep, notes=notes, picture=picture)
        ledger.measure("mux", run_ffmpeg, plan.mux_args, total_s=plan.duration_s, what="mux", file=job.main_path)
        ledger.measure("verify the output (probe)", render.verify_output, plan, job, plan.partial_path)
        ledger.measure("hash the output", sha256_of_file, plan.partial_path)
        plan.partial_path.unlink()
        print(f"  verified: {verified.get('first_pass')} corrected={verified.get('corrected')}", file=sys.stderr)


def profile_here(job_paths: list[str]) -> list[tuple[int, str, float, float]]:
    ledger = Ledger()
    started = cpu_s()
    import pipeline.cli.app  # noqa: F401  what `wayfinder` imports before any command

    del pipeline
    ledger.rows.append((0, "imports: CLI (typer, pipeline.cli.app)", cpu_s() - started, 0.0))
    for label, module in (("imports: render engine (pipeline.render)", "pipeline.render"),
                          ("imports: sound engine (pipeline.audio.prepare: scipy)", "pipeline.audio.prepare"),
                          ("imports: check of the track (pipeline.audio.verify)", "pipeline.audio.verify")):
        ledger.measure(label, __import__, module)
    for job_path in job_paths:
        print(f"== {job_path}", file=sys.stderr)
        profile_job(Path(job_path), ledger)
    ledger.rows.insert(0, (0, "interpreter start-up (process_time before this script)", START_CPU_S, 0.0))
    return ledger.rows


def default_job() -> Path:
    """bench_speed.py's edit of its 8 s clip at `youtube-draft` (its media made if missing)."""
    sys.path.insert(0, str(HERE))
    from bench_speed import OUT, make_media, write_job

    main_path, inset = make_media(8)
    return write_job("youtube-draft", main_path, inset, OUT / "outside-8s.mp4", "outside-8s")


def run_child(code: Path, job_path: str) -> tuple[float, list[tuple[int, str, float, float]]]:
    load = os.getloadavg()[0]
    env = {**os.environ, "PYTHONPATH": str(code), "OPENBLAS_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, __file__, "--json", job_path], env=env, check=True,
                          stdout=subprocess.PIPE, text=True)
    return load, [tuple(row) for row in json.loads(done.stdout)]  # type: ignore[misc]


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["--json"]:
        print(json.dumps(profile_here(args[1:])))
        return
    if not args:  # as bench/run_all.py runs it: bench_speed.py's 8 s edit
        args = [str(default_job())]
    if args[:1] != ["--base"]:
        rows = profile_here(args)
        print(f"{'step':<62} {'CPU s':>8} {'wall s':>8}")
        for depth, label, cpu, wall in rows:
            print(f"{'  ' * depth + label:<62} {cpu:8.2f} {wall:8.2f}")
        return
    base = Path(args[1]).resolve()
    repeat = int(args[3]) if args[2:3] == ["--repeat"] else 1
    jobs = args[4:] if args[2:3] == ["--repeat"] else args[2:]
    codes = [("this", HERE.parent), ("base", base)]
    for job_path in jobs:
        runs: dict[str, list[list[tuple[int, str, float, float]]]] = {"this": [], "base": []}
        loads: dict[str, list[float]] = {"this": [], "base": []}
        for index in range(repeat):
            for label, code in codes[index % 2:] + codes[:index % 2]:
                load, rows = run_child(code, job_path)
                runs[label].append(rows)
                loads[label].append(load)
        print(f"\n{job_path}: load before each run: this {loads['this']}, base {loads['base']}")
        print("| step | CPU s this | CPU s base |\n|---|---:|---:|")
        labels = [(depth, label) for depth, label, _, _ in runs["this"][0]]
        for depth, label in labels:
            def median(which: str) -> str:
                values = [cpu for rows in runs[which] for d, l, cpu, _ in rows if (d, l) == (depth, label)]
                return f"{statistics.median(values):.2f}" if values else "-"
            print(f"| {'&nbsp;&nbsp;' * depth}{label} | {median('this')} | {median('base')} |")


if __name__ == "__main__":
    main()
