"""Benchmark of `wayfinder qa`: 20 one-minute videos with `--jobs 1` and `--jobs 2`, as wall
time and real-time factor (seconds of audio checked per second of wall time), plus the
peak memory of one 1-minute and one 10-minute file to show that memory does not grow
with duration, and the share of the time the QA detectors add to the loudness meter.

Material: one minute of the demo's speech-like voice (pipeline.samples) with pink room
noise, re-levelled per file to -18.5 .. -12.5 LUFS, some with 50 Hz hum, a dropout or
a clipped burst added, muxed as H.264 320x180 + AAC 48 kHz stereo MP4 (QA reads only the
audio packets). The files are kept in bench/work/qa/ and reused.

Each configuration runs the real command (`python -m pipeline.cli.app qa FOLDER --json
--jobs N`) in a child process, so the wall time includes start-up, the worker processes
and JSON output; the configurations are interleaved and the fastest of `--repeat` runs of
each is kept. Peak RSS is the largest single
process of the run (the command or one of its workers) and CPU s the user + system time
of all of them, both sampled from /proc every 50 ms while the run lasts.

Run:  .venv/bin/python bench/bench_qa.py        (writes the "Loudness QA" section of
      bench/RESULTS.md; --no-write to only print; --repeat N).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from common import ROOT, WORK, ffmpeg_binary, machine, write_section

QA_WORK = WORK / "qa"
SECTION_TITLE = "## Loudness QA"
FILES = 20
FILE_S = 60.0
LONG_FILE_S = 600.0
RATE_HZ = 48000


def ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_binary(), "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def speech_track(path: Path, duration_s: float) -> None:
    """A mono speech-like voice with pink room noise (the demo's recipe), as FLAC."""
    from pipeline.samples import SpeechSpec, speech_expression

    spec = SpeechSpec(duration_s=duration_s, switch_s=duration_s / 2, hum_amplitude=0.0)
    expr = speech_expression(spec).replace(",", "\\,")
    graph = (f"aevalsrc=exprs={expr}:sample_rate={RATE_HZ}:duration={duration_s}[v];"
             f"anoisesrc=color=pink:amplitude=0.004:seed=3:sample_rate={RATE_HZ}:duration={duration_s}[n];"
             "[v][n]amix=inputs=2:normalize=0:duration=first")
    ffmpeg("-f", "lavfi", "-i", graph, "-c:a", "flac", str(path))


def variant_filter(index: int) -> str:
    """Per-file level and defect: a realistic mix of clean and faulty deliveries."""
    # The voice reads about -26.5 LUFS: most files land near -14 LUFS, some miss it.
    gain_db = (12.5, 13.0, 8.0, 12.0, 14.0)[index % 5]
    chain = [f"volume={gain_db}dB"]
    if index % 4 == 1:
        chain.append("aeval=val(0)+0.01*sin(2*PI*50*t):c=same")  # mains hum
    if index % 4 == 2:
        chain.append("volume=0:enable='between(t,20,20.4)'")  # a dropout
    if index % 4 == 3:
        # A clipped burst: 0.1 s of a loud syllable (the envelope peaks at t = n + 0.25) 20 dB too hot.
        chain.append("volume=20dB:enable='between(t,30.2,30.3)',asoftclip=type=hard:threshold=1")
    chain.append("pan=stereo|c0=c0|c1=c0")
    return ",".join(chain)


def make_file(voice: Path, out: Path, index: int, duration_s: float) -> None:
    ffmpeg(
        "-f", "lavfi", "-i", f"testsrc2=size=320x180:rate=15:duration={duration_s}",
        "-i", str(voice), "-filter:a", variant_filter(index), "-map", "0:v", "-map", "1:a",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "192k", "-ar", str(RATE_HZ), "-t", str(duration_s), str(out),
    )


def make_material() -> tuple[Path, Path, Path, float]:
    """The 20-file folder, a 10-minute file and a 1-minute file; seconds spent making them."""
    started = time.perf_counter()
    batch = QA_WORK / "batch"
    single = QA_WORK / "single"
    batch.mkdir(parents=True, exist_ok=True)
    single.mkdir(parents=True, exist_ok=True)
    voice = QA_WORK / "voice_60s.flac"
    long_voice = QA_WORK / "voice_600s.flac"
    if not voice.exists():
        speech_track(voice, FILE_S)
    for index in range(FILES):
        path = batch / f"clinic-{index + 1:02d}.mp4"
        if not path.exists():
            make_file(voice, path, index, FILE_S)
    short = single / "one-minute.mp4"
    if not short.exists():
        make_file(voice, short, 0, FILE_S)
    long = single / "ten-minutes.mp4"
    if not long.exists():
        if not long_voice.exists():
            ffmpeg("-stream_loop", "-1", "-i", str(voice), "-t", str(LONG_FILE_S), "-c:a", "flac", str(long_voice))
        make_file(long_voice, long, 0, LONG_FILE_S)
    return batch, short, long, time.perf_counter() - started


MEASURE = r"""
import json, os, subprocess, sys, time
from pathlib import Path

def tree(root):
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    found, frontier = {root}, {root}
    while frontier:
        frontier = {c for c, p in parents.items() if p in frontier} - found
        found |= frontier
    return found

def sample(pid):
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    hwm_kb = next((int(l.split()[1]) for l in status.splitlines() if l.startswith("VmHWM:")), 0)
    return hwm_kb / 1024, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

started = time.perf_counter()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
seen = {}
import threading
out = {}
reader = threading.Thread(target=lambda: out.update(zip(("stdout", "stderr"), child.communicate())))
reader.start()
while child.poll() is None:
    for pid in tree(child.pid):
        got = sample(pid)
        if got:  # keep the maxima: a zombie's last reading has no memory figures
            old = seen.get(pid, (0.0, 0.0))
            seen[pid] = (max(old[0], got[0]), max(old[1], got[1]))
    time.sleep(0.05)
reader.join()
wall_s = time.perf_counter() - started
print(json.dumps({"wall_s": wall_s, "rc": child.returncode, "stdout": out["stdout"], "stderr": out["stderr"][-2000:],
                  "max_rss_mb": max((m for m, _ in seen.values()), default=0.0),
                  "cpu_s": sum(c for _, c in seen.values()), "processes": len(seen)}))
"""


def run_qa_command(*args: str) -> dict:
    """The real command in a fresh process tree: wall time, exit code, JSON, peak RSS."""
    command = [sys.executable, "-m", "pipeline.cli.app", "qa", *args, "--json"]
    done = subprocess.run([sys.executable, "-c", MEASURE, *command], capture_output=True, text=True, cwd=ROOT, check=True)
    result = json.loads(done.stdout)
    if result["rc"] not in (0, 1):
        raise SystemExit(f"wayfinder qa failed ({result['rc']}): {result['stderr']}")
    result["report"] = json.loads(result["stdout"])
    return result


def best_of(repeat: int, *args: str) -> dict:
    runs = [run_qa_command(*args) for _ in range(repeat)]
    return min(runs, key=lambda r: r["wall_s"])


def _burn(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


def parallel_headroom(n: int = 10_000_000) -> float:
    """How much faster two processes run a pure-Python CPU loop than one: 2.0 on an idle
    2-core machine, about 1.0 when other work already fills the second core."""
    import multiprocessing

    started = time.perf_counter()
    _burn(n)
    _burn(n)
    serial_s = time.perf_counter() - started
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        pool.map(_burn, [1000, 1000])  # start-up outside the timing
        started = time.perf_counter()
        pool.map(_burn, [n, n])
        parallel_s = time.perf_counter() - started
    return serial_s / parallel_s


def detector_overhead(path: Path) -> tuple[float, float]:
    """In this process: CPU seconds of the meter alone vs meter + QA detectors and checks
    on the same file (best of 3). CPU time, not wall time: other work on the machine
    must not decide the ratio."""
    from pipeline.audio.meter import measure_file
    from pipeline.qa.run import qa_file
    from pipeline.qa.limits import load_qa_limits

    limits = load_qa_limits("youtube")

    def best(fn) -> float:
        times = []
        for _ in range(3):
            started = time.process_time()
            fn()
            times.append(time.process_time() - started)
        return min(times)

    return best(lambda: measure_file(path)), best(lambda: qa_file(str(path), limits))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/RESULTS.md alone")
    parser.add_argument("--repeat", type=int, default=3, help="runs per configuration (interleaved); the fastest is kept")
    options = parser.parse_args()

    batch, short, long, made_s = make_material()
    load_before = " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "unknown"
    audio_s = FILES * FILE_S
    headroom_before = parallel_headroom()
    rows = []
    # Interleaved (1, 2, 1, 2, ...): on a shared machine the load drifts, and running all
    # of one configuration first would hand it a different machine than the other.
    runs: dict[int, list[dict]] = {1: [], 2: []}
    for _ in range(options.repeat):
        for jobs in (1, 2):
            runs[jobs].append(run_qa_command(str(batch), "--jobs", str(jobs)))
    for jobs in (1, 2):
        run = min(runs[jobs], key=lambda r: r["wall_s"])
        summary = run["report"]["summary"]
        assert summary["files"] == FILES, summary
        rows.append((jobs, run["wall_s"], audio_s / run["wall_s"], run["cpu_s"], run["max_rss_mb"], summary))
        print(f"--jobs {jobs}: {run['wall_s']:.1f} s, {audio_s / run['wall_s']:.0f}x real time, "
              f"CPU {run['cpu_s']:.1f} s in {run['processes']} processes, peak RSS {run['max_rss_mb']:.0f} MB, "
              f"{summary}", flush=True)
    one = best_of(1, str(short), "--jobs", "1")
    ten = best_of(1, str(long), "--jobs", "1")
    print(f"1 min file: {one['max_rss_mb']:.0f} MB; 10 min file: {ten['max_rss_mb']:.0f} MB", flush=True)
    meter_s, qa_s = detector_overhead(short)
    print(f"1 min file in-process (CPU): meter {meter_s:.2f} s, meter + detectors {qa_s:.2f} s", flush=True)

    headroom_after = parallel_headroom()
    load_after = " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "unknown"
    m = machine()
    speed_up = rows[0][1] / rows[1][1]
    lines = [
        SECTION_TITLE,
        "",
        f"Run: `.venv/bin/python bench/bench_qa.py` ({date.today().isoformat()}); each configuration runs "
        f"`python -m pipeline.cli.app qa bench/work/qa/batch --json --jobs N` in a fresh process "
        f"(fastest of {options.repeat}, the two configurations interleaved), so wall time includes start-up, "
        "starting the workers and the JSON.",
        "",
        f"Machine: nproc {m['nproc']} ({m['cpu']}), {m['memory']} RAM; Python {m['python']}; {m['ffmpeg']}. "
        f"Load average when the runs started: {load_before}; after: {load_after}. The machine is shared: when "
        "the load is above the core count, wall times (and the gain from a second worker) shrink with the CPU "
        "left to us, while CPU seconds stay comparable.",
        "",
        f"Material: {FILES} files x {FILE_S:.0f} s ({audio_s / 60:.0f} min of audio): H.264 320x180 + AAC 48 kHz "
        "stereo MP4, the demo's speech-like voice with room noise at five levels (-18.5 to -12.5 LUFS), a quarter each with 50 Hz hum, "
        "a 0.4 s dropout or a clipped burst (made once in bench/work/qa/, "
        f"{'reused' if made_s < 5 else f'{made_s:.0f} s to make'}).",
        "",
        "| command | wall s | x real time (wall) | CPU s (all processes) | x real time per CPU second | peak RSS MB (largest process) | pass / warn / fail |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for jobs, wall_s, rtf, cpu_s, rss_mb, summary in rows:
        lines.append(f"| `wayfinder qa bench/work/qa/batch --json --jobs {jobs}` | {wall_s:.1f} | {rtf:.0f} | "
                     f"{cpu_s:.1f} | {audio_s / cpu_s:.0f} | {rss_mb:.0f} | "
                     f"{summary['pass']} / {summary['warn']} / {summary['fail']} |")
    lines += [
        "",
        f"`--jobs 2` is {speed_up:.2f}x as fast as `--jobs 1` on this {m['nproc']}-core machine. For scale: "
        f"a pure-Python CPU loop ran {headroom_before:.2f}x (before the runs) and {headroom_after:.2f}x (after) as "
        "fast in two processes as in one, i.e. that is the parallelism the machine had to give at the time "
        "(2.0 when idle). The workers start from a fork server that has imported numpy, scipy and PyAV once "
        "(about 1.5 s of CPU that spawned workers would each pay); the CPU-seconds column shows what a second "
        "worker costs in total.",
        "",
        "Memory does not grow with duration (one file, `--jobs 1`, peak RSS of the process): "
        f"1 min {one['max_rss_mb']:.0f} MB, 10 min {ten['max_rss_mb']:.0f} MB "
        f"(wall {one['wall_s']:.1f} s and {ten['wall_s']:.1f} s: {FILE_S / one['wall_s']:.0f}x and "
        f"{LONG_FILE_S / ten['wall_s']:.0f}x real time).",
        "",
        f"Cost of the QA detectors on top of the loudness meter (one 1-minute file, in-process, CPU time, "
        f"best of 3): decode + meter alone {meter_s:.2f} s, decode + meter + silence/dropout/clip/phase/hum "
        f"detectors and checks {qa_s:.2f} s ({(qa_s / meter_s - 1) * 100:+.0f} %), all from one decode.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if not options.no_write:
        write_section(SECTION_TITLE, text)


if __name__ == "__main__":
    main()
