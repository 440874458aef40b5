"""Benchmark of the streaming loudness meter (pipeline.audio.meter) against its peers.

What it measures, each in its own child process pinned to one core (`taskset -c 0`
when available, BLAS/OpenMP threads set to 1):

1. our `measure_file` on a synthesized 2-hour 48 kHz stereo FLAC: wall time, times real
   time, peak RSS (targets: >= 100x real time, < 200 MB);
2. ffmpeg's `ebur128=peak=true` on the same file: wall time and peak RSS;
3. plain pyloudnorm (integrated + loudness range) on a shorter excerpt held in memory
   (2 hours of float64 stereo alone is 5.5 GB, and pyloudnorm copies it), compared
   with our meter on the same excerpt as ratios.

Run:  .venv/bin/python bench/bench_meter.py            (writes the "Loudness meter"
      section of bench/RESULTS.md; --no-write to only print; --duration-s to change
      the long file's length; the synthesized files are kept in bench/work/).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / "work"
RESULTS = HERE / "RESULTS.md"
SECTION_TITLE = "## Loudness meter"
SAMPLE_RATE_HZ = 48_000
SINGLE_THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
}

sys.path.insert(0, str(HERE))
import common  # noqa: E402  (bench/common.py: machine description, RESULTS.md sections)
from common import ffmpeg_binary  # noqa: E402


# --- material ----------------------------------------------------------------------------


def synthesize(path: Path, duration_s: float) -> None:
    """Programme-like stereo: a pink-noise bed that swells and drops out (pauses), and a
    speech-like harmonic stack in syllables, at 48 kHz, 16-bit FLAC."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.flac")
    voice = (
        "(0.25*sin(2*PI*140*t)+0.15*sin(2*PI*280*t)+0.08*sin(2*PI*420*t)+0.03*sin(2*PI*3100*t))"
        "*(0.55+0.45*sin(2*PI*3.7*t))*gt(sin(2*PI*t/2.3)+0.4\\,0)"
    )
    graph = (
        "[0][1]amerge=inputs=2,volume='0.15+0.85*gt(sin(2*PI*t/47)\\,-0.5)*(0.6+0.4*sin(2*PI*t/300))'"
        ":eval=frame[bed];"
        "[2]pan=stereo|c0=c0|c1=0.8*c0[voice];"
        "[bed][voice]amix=inputs=2:normalize=0,alimiter=limit=0.9:level=false"
    )
    subprocess.run(
        [
            ffmpeg_binary(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"anoisesrc=d={duration_s}:c=pink:a=0.12:seed=1:r={SAMPLE_RATE_HZ}",
            "-f", "lavfi", "-i", f"anoisesrc=d={duration_s}:c=pink:a=0.12:seed=2:r={SAMPLE_RATE_HZ}",
            "-f", "lavfi", "-i", f"aevalsrc={voice}:s={SAMPLE_RATE_HZ}:d={duration_s}",
            "-filter_complex", graph,
            "-c:a", "flac", "-sample_fmt", "s16", str(partial),
        ],
        check=True,
    )
    partial.replace(path)


def ensure_file(path: Path, duration_s: float) -> float:
    """Synthesize `path` unless it is already there; returns the seconds spent."""
    if path.exists():
        return 0.0
    print(f"synthesizing {path.name} ({duration_s:.0f} s) ...", file=sys.stderr)
    started = time.perf_counter()
    synthesize(path, duration_s)
    return time.perf_counter() - started


# --- child processes ---------------------------------------------------------------------


def child_ours(path: str) -> dict[str, object]:
    from pipeline.audio.meter import measure_file

    started = time.perf_counter()
    result = measure_file(path)
    wall_s = time.perf_counter() - started
    return {
        "wall_s": wall_s,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "duration_s": result.duration_s,
        "result": result.to_dict(),
    }


def child_baseline() -> dict[str, object]:
    """RSS of the interpreter with the meter's imports loaded, before any audio."""
    import pipeline.audio.meter  # noqa: F401

    return {"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def child_pyloudnorm(path: str) -> dict[str, object]:
    import numpy as np
    import pyloudnorm

    from pipeline.audio.decode import iter_audio_chunks

    started = time.perf_counter()
    info, chunks = iter_audio_chunks(path)
    with chunks:
        samples = np.concatenate(list(chunks)).astype(np.float64)
    decode_s = time.perf_counter() - started
    meter = pyloudnorm.Meter(info.sample_rate_hz)
    started = time.perf_counter()
    integrated = meter.integrated_loudness(samples)
    integrated_s = time.perf_counter() - started
    started = time.perf_counter()
    lra = meter.loudness_range(samples)
    lra_s = time.perf_counter() - started
    return {
        "decode_s": decode_s,
        "integrated_s": integrated_s,
        "lra_s": lra_s,
        "wall_s": decode_s + integrated_s + lra_s,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "duration_s": samples.shape[0] / info.sample_rate_hz,
        "integrated_lufs": float(integrated),
        "loudness_range_lu": float(lra),
    }


def pinned(argv: list[str]) -> list[str]:
    return (["taskset", "-c", "0"] if shutil.which("taskset") else []) + argv


def run_child(kind: str, *args: str) -> dict[str, object]:
    env = {**os.environ, **SINGLE_THREAD_ENV}
    completed = subprocess.run(
        pinned([sys.executable, str(Path(__file__).resolve()), "--child", kind, *args]),
        env=env, capture_output=True, text=True, check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{kind} child failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def run_ffmpeg_ebur128(path: Path) -> dict[str, object]:
    """ffmpeg's meter on one core; peak RSS of that process from wait4."""
    argv = pinned([
        ffmpeg_binary(), "-hide_banner", "-nostdin", "-nostats", "-threads", "1",
        "-i", str(path), "-af", "ebur128=peak=true", "-f", "null", "-",
    ])
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, **SINGLE_THREAD_ENV})
    assert process.stderr is not None
    stderr = process.stderr.read().decode("utf-8", "replace")
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall_s = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"ffmpeg failed:\n{stderr[-3000:]}")
    summary = stderr[stderr.rindex("Summary:") :]

    def number(label: str) -> float:
        match = re.search(rf"{label}:\s+(-?[\d.]+)", summary)
        return float(match.group(1)) if match else float("nan")

    return {
        "wall_s": wall_s,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "integrated_lufs": number("I"),
        "loudness_range_lu": number("LRA"),
        "true_peak_dbtp": number("Peak"),
    }


# --- report ------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    """The shared machine description plus the library versions this benchmark depends on."""
    import av
    import numpy
    import scipy

    return {
        **common.machine(),
        "versions": f"numpy {numpy.__version__}, scipy {scipy.__version__}, PyAV {av.__version__}",
        "pinned": "taskset -c 0" if shutil.which("taskset") else "not pinned (no taskset)",
    }


def write_section(text: str) -> None:
    common.write_section(SECTION_TITLE, text)


def fmt(value: object, digits: int = 2) -> str:
    return f"{value:.{digits}f}" if isinstance(value, (int, float)) else str(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration-s", type=float, default=7200.0, help="length of the long file (default 2 h)")
    parser.add_argument("--excerpt-s", type=float, default=600.0, help="length of the pyloudnorm comparison file")
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/RESULTS.md alone")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("child_args", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        handlers = {"ours": child_ours, "baseline": child_baseline, "pyloudnorm": child_pyloudnorm}
        print(json.dumps(handlers[args.child](*args.child_args)))
        return

    long_file = WORK / f"meter_programme_{int(args.duration_s)}s_48k_stereo.flac"
    excerpt_file = WORK / f"meter_programme_{int(args.excerpt_s)}s_48k_stereo.flac"
    synth_s = ensure_file(long_file, args.duration_s) + ensure_file(excerpt_file, args.excerpt_s)

    print("baseline ...", file=sys.stderr)
    baseline = run_child("baseline")
    print("our meter, long file ...", file=sys.stderr)
    ours = run_child("ours", str(long_file))
    print("ffmpeg ebur128, long file ...", file=sys.stderr)
    reference = run_ffmpeg_ebur128(long_file)
    print("our meter and pyloudnorm, excerpt ...", file=sys.stderr)
    ours_excerpt = run_child("ours", str(excerpt_file))
    plain = run_child("pyloudnorm", str(excerpt_file))

    duration_s = float(ours["duration_s"])
    excerpt_s = float(plain["duration_s"])
    result = ours["result"]
    result_excerpt = ours_excerpt["result"]
    info = machine()
    command = ".venv/bin/python bench/bench_meter.py" + (
        f" --duration-s {args.duration_s:g}" if args.duration_s != 7200 else ""
    ) + (f" --excerpt-s {args.excerpt_s:g}" if args.excerpt_s != 600 else "")
    ours_speed = duration_s / float(ours["wall_s"])
    ffmpeg_speed = duration_s / float(reference["wall_s"])
    excerpt_speed = excerpt_s / float(ours_excerpt["wall_s"])
    plain_speed = excerpt_s / float(plain["wall_s"])
    plain_compute_speed = excerpt_s / (float(plain["integrated_s"]) + float(plain["lra_s"]))

    lines = [
        SECTION_TITLE,
        "",
        f"Run: `{command}` ({time.strftime('%Y-%m-%d')}). Each meter runs in its own process on one core "
        f"({info['pinned']}, BLAS/OpenMP threads = 1); peak RSS is the process's `ru_maxrss`.",
        "",
        f"Machine: {info['nproc']} CPUs ({info['cpu']}), {info['memory']} RAM; Python {info['python']}, "
        f"{info['versions']}; {info['ffmpeg']}.",
        "",
        f"Material: synthesized programme-like stereo (pink-noise bed with swells and drop-outs, a "
        f"speech-like harmonic voice in syllables), 48 kHz, 16-bit FLAC, in `bench/work/` "
        f"(synthesis took {synth_s:.0f} s; 0 means the files were reused).",
        "",
        f"### {duration_s / 3600:.2f} h file ({duration_s:.0f} s)",
        "",
        "| meter | wall s | x real time | peak RSS MB | integrated LUFS | LRA LU | true peak dBTP |",
        "|---|---:|---:|---:|---:|---:|---:|",
        f"| ours, `measure_file` (decode + all measures) | {fmt(ours['wall_s'])} | {ours_speed:.0f} | "
        f"{fmt(ours['peak_rss_mb'], 0)} | {fmt(result['integrated_lufs'])} | {fmt(result['loudness_range_lu'])} | "
        f"{fmt(result['true_peak_dbtp'])} |",
        f"| ffmpeg `ebur128=peak=true` | {fmt(reference['wall_s'])} | {ffmpeg_speed:.0f} | "
        f"{fmt(reference['peak_rss_mb'], 0)} | {fmt(reference['integrated_lufs'], 1)} | "
        f"{fmt(reference['loudness_range_lu'], 1)} | {fmt(reference['true_peak_dbtp'], 1)} |",
        "",
        f"Targets: peak RSS < 200 MB -> **{'met' if float(ours['peak_rss_mb']) < 200 else 'NOT met'}** "
        f"({fmt(ours['peak_rss_mb'], 0)} MB, of which {fmt(baseline['peak_rss_mb'], 0)} MB is the interpreter with "
        f"numpy, scipy, PyAV and pyloudnorm imported before any audio); >= 100x real time -> "
        f"**{'met' if ours_speed >= 100 else 'NOT met'}** ({ours_speed:.0f}x). "
        f"Our meter is {ours_speed / ffmpeg_speed:.2f}x ffmpeg's speed on this file.",
        "",
        f"### pyloudnorm, {excerpt_s:.0f} s excerpt held in memory",
        "",
        "pyloudnorm needs the whole signal as one float64 array (2 h of stereo is 5.5 GB before its "
        "own copies), so it runs on a shorter file of the same material; compare the ratios.",
        "",
        "| meter | wall s | x real time | peak RSS MB | RSS MB per audio minute | integrated LUFS | LRA LU |",
        "|---|---:|---:|---:|---:|---:|---:|",
        f"| ours, `measure_file` | {fmt(ours_excerpt['wall_s'])} | {excerpt_speed:.0f} | "
        f"{fmt(ours_excerpt['peak_rss_mb'], 0)} | {float(ours_excerpt['peak_rss_mb']) / (excerpt_s / 60):.1f} | "
        f"{fmt(result_excerpt['integrated_lufs'])} | {fmt(result_excerpt['loudness_range_lu'])} |",
        f"| pyloudnorm (PyAV decode {fmt(plain['decode_s'])} s + integrated {fmt(plain['integrated_s'])} s "
        f"+ LRA {fmt(plain['lra_s'])} s; no true peak) | {fmt(plain['wall_s'])} | {plain_speed:.0f} "
        f"(compute only: {plain_compute_speed:.0f}) | {fmt(plain['peak_rss_mb'], 0)} | "
        f"{float(plain['peak_rss_mb']) / (excerpt_s / 60):.1f} | {fmt(plain['integrated_lufs'])} | "
        f"{fmt(plain['loudness_range_lu'])} |",
        "",
        f"Ratios on the excerpt: ours is {excerpt_speed / plain_speed:.1f}x faster than pyloudnorm end to end "
        f"and uses {float(plain['peak_rss_mb']) / float(ours_excerpt['peak_rss_mb']):.1f}x less peak memory, "
        "while also measuring true peak, momentary/short-term series and per-channel values. "
        "pyloudnorm's own K-weighting reads about 0.04 LU below BS.1770's 997 Hz anchor (its high-pass "
        "stage is normalised to unity gain), which our meter calibrates out; its LRA also appends 1.5 s "
        "of silence and uses a 0.09 s hop, so small LRA differences are expected.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section(text)
        print(f"(written to {RESULTS.relative_to(ROOT)})", file=sys.stderr)


if __name__ == "__main__":
    main()
