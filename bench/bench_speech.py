"""Speech clean-up: how much each denoiser/enhancer improves real speech under noise, babble,
mains hum, HVAC rumble and a room, and what it does to clean speech (issue 12).

Corpus (bench/speech_corpus.py): real speech from shared/speech-dev (all p862_or*.wav,
upsampled from 8 kHz so band-limited to 4 kHz, pesq_speech_clean.wav, and a two-talker
item with a 12 dB level jump; active speech levels -35..-22 dBFS) under degradations made
here from a fixed seed: white/pink noise at 0/5/10 dB SNR, 8-talker babble built from the
other speech files, the real 0 dB babble file, 50/60 Hz hum with harmonics at -40 and -73
dBFS, HVAC rumble, a synthetic room (RT60 0.4-0.6 s) with and without noise, and the clean
speech itself. jfk_1961.flac (a real noisy recording, no reference) is scored with DNSMOS
only. Everything is processed at 48 kHz and scored at 16 kHz.

Systems: unprocessed; ffmpeg afftdn (nr=12, nf = the measured floor); RNNoise (pyrnnoise,
installed only for this benchmark into bench/work/venv-rnnoise); DeepFilterNet 3 as the
raw enhancer (pipeline.audio.enhance.enhance_array, strength 1, no attenuation limit);
"Wayfinder old chain" (`wayfinder render` at git commit 94f94bc, a worktree in
bench/work/old-wayfinder); "Wayfinder new chain" (`wayfinder render` of this checkout).
Both chains render an audio-only job (preset youtube) to .m4a, decoded back to float.

Scores per output: PESQ-WB (pesq, 16 kHz), STOI (pystoi, not extended), DNSMOS P.835
overall (speechmos, in bench/work/venv-dnsmos because its librosa/onnxruntime are not
project dependencies; each output is first set to -26 dBFS active speech level, because
DNSMOS moves by up to 0.5 with level alone and the chains normalize loudness), and speed
(x real time: audio seconds / processing seconds; for the chains, the wall time of the
whole `wayfinder render` command, start-up and every analysis pass included). Before
scoring, every output is aligned to its reference by the cross-correlation peak within
+-100 ms (the lag found is reported per system: an enhancer that adds latency shows it)
and both are trimmed to the same length.

Speed file (--speed-file, or --speed-only): a 10-minute mono and a stereo 48 kHz WAV (corpus speech
in pink noise) rendered by each chain to .m4a; wall time (x real time) and the peak
resident memory of the whole process tree (psutil, polled every 50 ms).

Run:  .venv/bin/python bench/bench_speech.py                  (all systems; writes the
      "Speech clean-up" section of bench/RESULTS.md; --no-write to only print)
      .venv/bin/python bench/bench_speech.py --quick --no-write   (2 speech items, one
      variant per kind: a fast check)
      options: --systems unprocessed,afftdn,rnnoise,dfn3,old,new   --speech-dev DIR
               --speed-file (add the 10-minute render test)   --speed-only
               --kinds reverb,clean (a subset of the corpus, for tuning)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import time
import venv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import signal

from common import ROOT, WORK, ffmpeg_binary, machine_line, run_with_peak_rss, write_section

import speech_corpus as sc

SECTION = "## Speech clean-up"
OLD_COMMIT = "94f94bc"
OLD_TREE = WORK / "old-wayfinder"
RUNS = WORK / "speech-runs"
RNNOISE_VENV = WORK / "venv-rnnoise"
DNSMOS_VENV = WORK / "venv-dnsmos"
# The interpreter running the bench (the project venv's): a git worktree has no .venv of its own.
VENV_PYTHON = Path(sys.executable)
MAX_LAG_S = 0.1
DNSMOS_LEVEL_DBFS = -26.0

SYSTEMS = {
    "unprocessed": "unprocessed",
    "afftdn": "ffmpeg afftdn (nr 12, nf measured)",
    "rnnoise": "RNNoise (pyrnnoise)",
    "dfn3": "DeepFilterNet 3 raw",
    "old": f"Wayfinder old chain ({OLD_COMMIT})",
    "new": "Wayfinder new chain (this checkout)",
}

# targets of issue 12
TARGET_PESQ_FALLBACK = 2.2  # DeepFilterNet 3's own, when it is not in the run
TARGET_STOI_DROP = 0.01
TARGET_CLEAN_PESQ = 4.4
TARGET_DNSMOS = 2.9


class SystemUnavailable(Exception):
    """The system cannot run at all on this machine (the reason is reported)."""


@dataclass
class Output:
    samples: np.ndarray | None  # 48 kHz mono
    seconds: float | None  # processing time
    error: str | None = None


@dataclass
class Score:
    lag_ms: float | None = None
    pesq: float = math.nan
    stoi: float = math.nan
    dnsmos: float = math.nan
    seconds: float | None = None
    audio_s: float = 0.0
    error: str | None = None


@dataclass
class SystemRun:
    key: str
    scores: dict[str, Score] = field(default_factory=dict)
    unavailable: str | None = None
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------- systems

def run_unprocessed(deg: np.ndarray, cond: sc.Condition, out_dir: Path) -> Output:
    return Output(deg, None)


def measured_floor_dbfs(x: np.ndarray) -> float | None:
    """10th percentile of 50 ms block levels, digital silence left out (as the chain does)."""
    n = int(0.05 * sc.SR)
    blocks = x[: len(x) // n * n].astype(np.float64).reshape(-1, n)
    ms = (blocks ** 2).mean(axis=1)
    ms = ms[ms > 1e-12]
    return float(10 * np.log10(np.percentile(ms, 10))) if len(ms) else None


def run_afftdn(deg: np.ndarray, cond: sc.Condition, out_dir: Path) -> Output:
    floor = measured_floor_dbfs(deg)
    nf = -50.0 if floor is None else min(-20.0, max(-80.0, floor))
    argv = [ffmpeg_binary(), "-nostdin", "-hide_banner", "-v", "error", "-i", str(cond.path),
            "-af", f"afftdn=nr=12:nf={nf:.1f}", "-ac", "1", "-ar", str(sc.SR), "-c:a", "pcm_f32le", "-f", "f32le", "-"]
    started = time.perf_counter()
    result = subprocess.run(argv, capture_output=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        return Output(None, None, f"ffmpeg afftdn failed: {result.stderr.decode(errors='replace')[-300:]}")
    return Output(np.frombuffer(result.stdout, dtype=np.float32).copy(), seconds)


RNNOISE_RUNNER = r"""
import ctypes, json, sys, time
import numpy as np, soundfile as sf
from pyrnnoise import rnnoise as R
results = {}
for src, dst in json.loads(sys.stdin.read()):
    x, rate = sf.read(src, dtype="float32", always_2d=True)
    assert rate == 48000, rate
    x = x.mean(axis=1)
    started = time.perf_counter()
    state = R.create()
    n = R.FRAME_SIZE
    buf = (np.concatenate([x, np.zeros((-len(x)) % n, np.float32)]) * 32768.0).astype(np.float32)
    out = np.empty_like(buf)
    frame_out = np.empty(n, np.float32)
    ptr_out = frame_out.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
    for i in range(0, len(buf), n):
        frame_in = np.ascontiguousarray(buf[i:i + n])
        R.lib.rnnoise_process_frame(state, ptr_out, frame_in.ctypes.data_as(ctypes.POINTER(ctypes.c_float)))
        out[i:i + n] = frame_out
    R.destroy(state)
    seconds = time.perf_counter() - started
    sf.write(dst, out[:len(x)] / 32768.0, 48000, subtype="FLOAT")
    results[src] = seconds
print(json.dumps(results))
"""


def rnnoise_python() -> Path:
    python = RNNOISE_VENV / "bin" / "python"
    if not (python.exists() and subprocess.run([str(python), "-c", "import pyrnnoise, soundfile"], capture_output=True).returncode == 0):
        venv.create(RNNOISE_VENV, with_pip=True, clear=True)
        result = subprocess.run([str(python), "-m", "pip", "install", "-q", "pyrnnoise", "soundfile"], capture_output=True, text=True)
        if result.returncode != 0:
            raise SystemUnavailable(f"pip install pyrnnoise failed: {result.stderr.strip()[-300:]}")
    return python


def package_version(python: Path, name: str) -> str:
    result = subprocess.run([str(python), "-c", f"import importlib.metadata as m; print(m.version('{name}'))"],
                            capture_output=True, text=True)
    return result.stdout.strip() or "?"


def run_rnnoise_batch(conditions: list[sc.Condition], out_dir: Path) -> dict[str, Output]:
    """RNNoise over all conditions in one process of its own venv (timing excludes start-up)."""
    python = rnnoise_python()
    jobs = [(str(c.path), str(out_dir / f"{c.name}.wav")) for c in conditions]
    result = subprocess.run([str(python), "-c", RNNOISE_RUNNER], input=json.dumps(jobs), capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemUnavailable(f"RNNoise runner failed: {result.stderr.strip()[-400:]}")
    seconds = json.loads(result.stdout.strip().splitlines()[-1])
    return {c.name: Output(sc.read_wav(Path(dst)), seconds[src]) for c, (src, dst) in zip(conditions, jobs)}


_dfn_ready = False


def run_dfn3(deg: np.ndarray, cond: sc.Condition, out_dir: Path) -> Output:
    global _dfn_ready
    try:
        from pipeline.audio.enhance import enhance_array
    except Exception as error:  # noqa: BLE001 - any import problem makes it unavailable
        raise SystemUnavailable(f"pipeline.audio.enhance does not import: {error!r}") from error
    if not _dfn_ready:  # model loading is start-up, not processing
        enhance_array(np.zeros(sc.SR, dtype=np.float32))
        _dfn_ready = True
    started = time.perf_counter()
    out = enhance_array(deg.astype(np.float32))
    return Output(out, time.perf_counter() - started)


def ensure_old_tree() -> None:
    if (OLD_TREE / "pipeline" / "cli" / "app.py").exists():
        return
    result = subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(OLD_TREE), OLD_COMMIT],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemUnavailable(f"git worktree add {OLD_COMMIT} failed: {result.stderr.strip()[-300:]}")


def render_argv(key: str, job: Path) -> tuple[list[str], dict[str, str]]:
    """The render command of a chain. Each runs with -P and its own tree first on PYTHONPATH
    (the old chain: a worktree at OLD_COMMIT; the new chain: this checkout, which may be a
    git worktree whose code the venv's editable install does not point at), so neither the
    current directory nor the editable install shadows the `pipeline` package meant."""
    env = {**os.environ}
    if key == "old":
        ensure_old_tree()
    env["PYTHONPATH"] = str(OLD_TREE if key == "old" else ROOT)
    return [str(VENV_PYTHON), "-P", "-c", "from pipeline.cli.app import main; main()", "render", str(job), "--force"], env


def write_job(job_dir: Path, source: Path) -> tuple[Path, Path]:
    job_dir.mkdir(parents=True, exist_ok=True)
    out = job_dir / "out.m4a"
    job = job_dir / "job.toml"
    job.write_text(f'preset = "youtube"\n\n[input]\nmain = "{source}"\n\n[output]\npath = "{out}"\n')
    return job, out


def render_stages(out: Path) -> list[str]:
    """The clean-up stages the render switched on (from its report)."""
    try:
        report = json.loads(out.with_name(out.name + ".wayfinder.json").read_text())
        stages = report["measurements"]["audio"]["cleanup"]
        return [s["stage"] for s in stages if s.get("enabled")]
    except (OSError, KeyError, TypeError, ValueError):
        return []


def make_render(key: str):
    def run(deg: np.ndarray, cond: sc.Condition, out_dir: Path) -> Output:
        job, out = write_job(out_dir / cond.name, cond.path)
        argv, env = render_argv(key, job)
        started = time.perf_counter()
        result = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=job.parent)
        seconds = time.perf_counter() - started
        if result.returncode != 0:
            lines = [ln for ln in (result.stderr or result.stdout).strip().splitlines() if ln.strip()]
            return Output(None, None, f"render exit {result.returncode}: {' '.join(lines[-3:])[-400:]}")
        data, rate = sc.decode(out)
        run.stages[cond.name] = render_stages(out)  # type: ignore[attr-defined]
        return Output(sc.resample(data, rate, sc.SR), seconds)
    run.stages = {}  # type: ignore[attr-defined]
    return run


# ---------------------------------------------------------------------------- scoring

def align(ref: np.ndarray, deg: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray, int]:
    """(ref, deg, lag in samples): deg shifted by the cross-correlation peak within
    +-MAX_LAG_S (positive lag: the output is late), both trimmed to the same length."""
    max_lag = int(MAX_LAG_S * rate)
    corr = signal.correlate(deg.astype(np.float64), ref.astype(np.float64), mode="full", method="fft")
    lags = signal.correlation_lags(len(deg), len(ref), mode="full")
    window = np.abs(lags) <= max_lag
    lag = int(lags[window][np.argmax(np.abs(corr[window]))])
    if lag > 0:
        deg = deg[lag:]
    elif lag < 0:
        deg = np.concatenate([np.zeros(-lag, dtype=deg.dtype), deg])
    n = min(len(ref), len(deg))
    return ref[:n], deg[:n], lag


def speech_gain_db(ref: np.ndarray, deg: np.ndarray) -> float:
    """Gain that puts the speech in `deg` (its projection on the reference) at DNSMOS_LEVEL."""
    g = float(np.dot(deg, ref) / max(np.dot(ref, ref), 1e-20))
    level = sc.active_level_db(ref, sc.SCORE_SR) + 20 * math.log10(max(abs(g), 1e-9))
    return DNSMOS_LEVEL_DBFS - level


def for_dnsmos(deg: np.ndarray, gain_db: float) -> np.ndarray:
    x = deg.astype(np.float64) * 10 ** (gain_db / 20)
    peak = np.abs(x).max()
    if peak > 0.999:
        x *= 0.999 / peak
    return x.astype(np.float32)


def score(ref48: np.ndarray | None, out48: np.ndarray, dnsmos_path: Path) -> Score:
    import pesq
    from pystoi import stoi

    out16 = sc.resample(out48, sc.SR, sc.SCORE_SR).astype(np.float64)
    s = Score()
    if ref48 is None:
        np.save(dnsmos_path, for_dnsmos(out16, DNSMOS_LEVEL_DBFS - sc.active_level_db(out16, sc.SCORE_SR)))
        return s
    ref16 = sc.resample(ref48, sc.SR, sc.SCORE_SR).astype(np.float64)
    ref16, out16, lag = align(ref16, out16, sc.SCORE_SR)
    s.lag_ms = 1000.0 * lag / sc.SCORE_SR
    try:
        s.pesq = float(pesq.pesq(sc.SCORE_SR, ref16, out16, "wb"))
    except Exception as error:  # noqa: BLE001 - PESQ refuses some signals; keep going
        s.error = f"PESQ: {error}"
    s.stoi = float(stoi(ref16, out16, sc.SCORE_SR, extended=False))
    np.save(dnsmos_path, for_dnsmos(out16, speech_gain_db(ref16, out16)))
    return s


DNSMOS_RUNNER = r"""
import json, sys, warnings
warnings.filterwarnings("ignore")
import numpy as np
from speechmos import dnsmos
out = {}
need = int(9.02 * 16000)  # DNSMOS scores 9.01 s windows and doubles shorter clips until they fill one
for path in json.loads(sys.stdin.read()):
    x = np.load(path)
    if len(x) < need:  # loop it once to one window (the same as the package's doubling, one window only)
        x = np.tile(x, need // len(x) + 1)[:need]
    out[path] = float(dnsmos.run(x, sr=16000)["ovrl_mos"])
print(json.dumps(out))
"""


def dnsmos_python() -> Path:
    python = DNSMOS_VENV / "bin" / "python"
    if not (python.exists() and subprocess.run([str(python), "-c", "import speechmos.dnsmos"], capture_output=True).returncode == 0):
        venv.create(DNSMOS_VENV, with_pip=True, clear=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "speechmos", "onnxruntime", "librosa"], check=True)
    return python


def run_dnsmos(paths: list[Path]) -> dict[str, float]:
    if not paths:
        return {}
    result = subprocess.run([str(dnsmos_python()), "-c", DNSMOS_RUNNER], input=json.dumps([str(p) for p in paths]),
                            capture_output=True, text=True)
    if result.returncode != 0:
        print(f"DNSMOS failed: {result.stderr[-500:]}", file=sys.stderr)
        return {}
    return json.loads(result.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------- the run

def run_system(key: str, conditions: list[sc.Condition], jfk: sc.Condition | None) -> SystemRun:
    run = SystemRun(key)
    out_dir = RUNS / key
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    (out_dir / "dnsmos").mkdir()
    every = conditions + ([jfk] if jfk is not None else [])
    started = time.monotonic()
    try:
        if key == "rnnoise":
            python = rnnoise_python()
            run.notes.append(f"pyrnnoise {package_version(python, 'pyrnnoise')} (bench/work/venv-rnnoise)")
            outputs = run_rnnoise_batch(every, out_dir)
        else:
            runner = {"unprocessed": run_unprocessed, "afftdn": run_afftdn, "dfn3": run_dfn3}.get(key) or make_render(key)
            if key in ("old", "new"):
                render_argv(key, out_dir / "job.toml")  # the worktree must exist
            outputs = {}
            for cond in every:
                deg, _ = cond.load()
                outputs[cond.name] = runner(deg, cond, out_dir)
                if outputs[cond.name].error:
                    print(f"  {key} {cond.name}: {outputs[cond.name].error}", flush=True)
                    if len(outputs) == 1:  # the first one failed: the rest will too
                        raise SystemUnavailable(outputs[cond.name].error)
    except SystemUnavailable as reason:
        run.unavailable = str(reason)
        return run
    for cond in every:
        out = outputs[cond.name]
        deg, ref = cond.load()
        if out.samples is None:
            run.scores[cond.name] = Score(error=out.error, audio_s=len(deg) / sc.SR)
            continue
        s = score(ref, out.samples, out_dir / "dnsmos" / f"{cond.name}.npy")
        s.seconds, s.audio_s = out.seconds, len(deg) / sc.SR
        run.scores[cond.name] = s
    stages = getattr(runner, "stages", None) if key not in ("rnnoise",) else None
    if stages:
        counts: dict[str, int] = {}
        for names in stages.values():
            for name in names:
                counts[name] = counts.get(name, 0) + 1
        run.notes.append("stages on: " + ", ".join(f"{k} {v}/{len(stages)}" for k, v in counts.items()))
    print(f"  {key}: {len(run.scores)} outputs in {time.monotonic() - started:.0f} s", flush=True)
    return run


def mean(values: list[float]) -> float:
    finite = [v for v in values if v is not None and not math.isnan(v)]
    return float(np.mean(finite)) if finite else math.nan


def fmt(v: float | None, digits: int = 2, sign: bool = False) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v:+.{digits}f}" if sign else f"{v:.{digits}f}"


def speed(scores: list[Score]) -> float | None:
    timed = [s for s in scores if s.seconds]
    if not timed:
        return None
    return sum(s.audio_s for s in timed) / sum(s.seconds for s in timed)  # type: ignore[misc]


def report(runs: list[SystemRun], conditions: list[sc.Condition], jfk: sc.Condition | None) -> tuple[list[str], dict]:
    lines: list[str] = []
    by_kind = {k: [c for c in conditions if c.kind == k] for k in sc.KINDS}
    base = next((r for r in runs if r.key == "unprocessed" and not r.unavailable), None)
    live = [r for r in runs if not r.unavailable]
    summary: dict = {}

    def input_stoi(c: sc.Condition) -> float:
        return base.scores[c.name].stoi if base and c.name in base.scores else math.nan

    for kind, conds in by_kind.items():
        if not conds:
            continue
        details = sorted({c.detail for c in conds})
        lines += ["", f"**{kind}** ({len(conds)} files: {'; '.join(details)})", "",
                  "| system | PESQ-WB | STOI | STOI - input (mean) | STOI - input (min) | DNSMOS ovrl | x real time |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for r in live:
            got = [r.scores[c.name] for c in conds if c.name in r.scores]
            deltas = [r.scores[c.name].stoi - input_stoi(c) for c in conds if c.name in r.scores]
            deltas = [d for d in deltas if not math.isnan(d)]
            row = {
                "pesq": mean([s.pesq for s in got]), "stoi": mean([s.stoi for s in got]),
                "dstoi_mean": mean(deltas), "dstoi_min": min(deltas) if deltas else math.nan,
                "dnsmos": mean([s.dnsmos for s in got]), "speed": speed(got),
            }
            summary.setdefault(r.key, {})[kind] = row
            lines.append(f"| {SYSTEMS[r.key]} | {fmt(row['pesq'])} | {fmt(row['stoi'], 3)} | {fmt(row['dstoi_mean'], 3, True)} | "
                         f"{fmt(row['dstoi_min'], 3, True)} | {fmt(row['dnsmos'])} | {fmt(row['speed'], 1)} |")
    noisy = [c for c in conditions if c.kind in sc.NOISY_KINDS]
    lines += ["", f"**Overall, noisy set** ({len(noisy)} files: every kind but clean; "
              "worst kind = the kind whose mean STOI change against the input is lowest)", "",
              "| system | PESQ-WB | STOI | worst kind STOI - input | worst single file STOI - input | DNSMOS ovrl | clean PESQ-WB | jfk_1961 DNSMOS | x real time | lag ms (median, range) |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in live:
        got = [r.scores[c.name] for c in noisy if c.name in r.scores]
        kinds = summary.get(r.key, {})
        worst_kind = min(((kinds[k]["dstoi_mean"], k) for k in sc.NOISY_KINDS if k in kinds and not math.isnan(kinds[k]["dstoi_mean"])), default=(math.nan, "-"))
        worst_file = min((kinds[k]["dstoi_min"] for k in sc.NOISY_KINDS if k in kinds and not math.isnan(kinds[k]["dstoi_min"])), default=math.nan)
        lags = [s.lag_ms for s in r.scores.values() if s.lag_ms is not None]
        every = list(r.scores.values())
        jfk_score = r.scores.get(jfk.name).dnsmos if jfk and jfk.name in r.scores else math.nan
        o = {
            "pesq": mean([s.pesq for s in got]), "stoi": mean([s.stoi for s in got]), "worst_kind": worst_kind,
            "worst_file": worst_file, "dnsmos": mean([s.dnsmos for s in got]),
            "clean_pesq": kinds.get("clean", {}).get("pesq", math.nan), "jfk": jfk_score, "speed": speed(every),
            "lag": (float(np.median(lags)), min(lags), max(lags)) if lags else None,
            "errors": [f"{n}: {s.error}" for n, s in r.scores.items() if s.error],
        }
        summary.setdefault(r.key, {})["overall"] = o
        lag = f"{o['lag'][0]:+.2f} ({o['lag'][1]:+.2f}..{o['lag'][2]:+.2f})" if o["lag"] else "-"
        wk = f"{fmt(worst_kind[0], 3, True)} ({worst_kind[1]})" if not math.isnan(worst_kind[0]) else "-"
        lines.append(f"| {SYSTEMS[r.key]} | {fmt(o['pesq'])} | {fmt(o['stoi'], 3)} | {wk} | {fmt(worst_file, 3, True)} | "
                     f"{fmt(o['dnsmos'])} | {fmt(o['clean_pesq'])} | {fmt(jfk_score)} | {fmt(o['speed'], 1)} | {lag} |")
    return lines, summary


def dump_per_file(runs: list[SystemRun], conditions: list[sc.Condition], jfk: sc.Condition | None, json_path: Path) -> dict:
    """Every score of every file: printed, and saved to `json_path`."""
    every = conditions + ([jfk] if jfk is not None else [])
    per_file: dict = {}
    live = [r for r in runs if not r.unavailable]
    print("\nper file: PESQ-WB / STOI / DNSMOS / lag ms per system (" + ", ".join(r.key for r in live) + ")")
    for c in every:
        row = {"kind": c.kind, "detail": c.detail, "systems": {}}
        cells = []
        for r in live:
            s = r.scores.get(c.name)
            if s is None:
                continue
            row["systems"][r.key] = {"pesq": s.pesq, "stoi": s.stoi, "dnsmos": s.dnsmos, "lag_ms": s.lag_ms,
                                     "seconds": s.seconds, "audio_s": s.audio_s, "error": s.error}
            cells.append(f"{fmt(s.pesq)}/{fmt(s.stoi, 3)}/{fmt(s.dnsmos)}/{fmt(s.lag_ms, 1)}")
        per_file[c.name] = row
        print(f"  {c.name:24s} {c.detail[:44]:44s} " + "  ".join(cells))
    json_path.write_text(json.dumps(per_file, indent=1, default=str))
    return per_file


def target_lines(runs: list[SystemRun], summary: dict) -> list[str]:
    dfn = summary.get("dfn3", {}).get("overall")
    pesq_target = dfn["pesq"] if dfn and not math.isnan(dfn["pesq"]) else TARGET_PESQ_FALLBACK
    source = "DeepFilterNet 3 raw in this run" if dfn else "issue 12's figure for DeepFilterNet 3"
    lines = ["", f"**Targets (issue 12)**: noisy-set PESQ-WB >= {pesq_target:.2f} ({source}); on every degradation kind "
             f"mean STOI >= the input's - {TARGET_STOI_DROP}; clean speech PESQ-WB >= {TARGET_CLEAN_PESQ}; "
             f"noisy-set DNSMOS overall >= {TARGET_DNSMOS}.", "",
             "| system | PESQ-WB | STOI every kind | clean PESQ-WB | DNSMOS |", "|---|---|---|---|---|"]

    def mark(ok: bool, text: str) -> str:
        return f"{'PASS' if ok else 'FAIL'} {text}"

    for r in runs:
        o = summary.get(r.key, {}).get("overall")
        if not o or r.key == "unprocessed":
            continue
        wk = o["worst_kind"]
        lines.append(
            f"| {SYSTEMS[r.key]} | {mark(o['pesq'] >= pesq_target - 1e-9, fmt(o['pesq']))} | "
            f"{mark(not math.isnan(wk[0]) and wk[0] >= -TARGET_STOI_DROP, f'worst {fmt(wk[0], 3, True)} ({wk[1]})')} | "
            f"{mark(o['clean_pesq'] >= TARGET_CLEAN_PESQ, fmt(o['clean_pesq']))} | "
            f"{mark(o['dnsmos'] >= TARGET_DNSMOS, fmt(o['dnsmos']))} |"
        )
    return lines


# ---------------------------------------------------------------------------- speed file

def speed_file_run(key: str, source: Path, minutes: float, layout: str) -> dict:
    """One chain renders the long file: wall time and peak RSS of the process tree."""
    job, out = write_job(RUNS / "speed" / f"{key}-{layout}", source)
    argv, env = render_argv(key, job)
    started = time.perf_counter()
    code, out_text, err_text, peak = run_with_peak_rss(argv, env=env, cwd=job.parent)
    wall = time.perf_counter() - started
    result = {"key": key, "layout": layout, "wall_s": wall, "x_real_time": minutes * 60 / wall, "peak_rss_mb": peak / 2 ** 20,
              "exit": code, "stages": render_stages(out)}
    if code != 0:
        lines = [ln for ln in (err_text or out_text).strip().splitlines() if ln.strip()]
        result["error"] = " ".join(lines[-3:])[-400:]
    return result


def speed_section(keys: list[str], speech_dev: Path, minutes: float = 10.0) -> tuple[list[str], list[dict]]:
    results = []
    for layout in ("mono", "stereo"):
        source = sc.speed_file(speech_dev, sc.CACHE / f"speed-{minutes:g}min-{layout}.wav", minutes, layout=layout)
        for key in keys:
            print(f"speed file ({layout}): {key} ...", flush=True)
            r = speed_file_run(key, source, minutes, layout)
            print(f"  {r}", flush=True)
            results.append(r)
    lines = ["", f"**Speed file**: {minutes:g} minutes of corpus speech in pink noise (48 kHz float WAV; mono as a "
             "lavalier recorder writes it, stereo as a phone's two microphones) rendered by `wayfinder render` "
             "(preset youtube) to .m4a. Targets: >= 8x real time, peak memory of the process tree < 400 MB.", "",
             "| chain | source | wall s | x real time | peak RSS MB (process tree) | stages on | result |",
             "|---|---|---:|---:|---:|---|---|"]
    for r in results:
        ok = "ok" if r["exit"] == 0 else f"FAILED: {r.get('error', '')}"
        verdict = ""
        if r["exit"] == 0:
            verdict = (f"; speed {'PASS' if r['x_real_time'] >= 8 else 'FAIL'}, "
                       f"memory {'PASS' if r['peak_rss_mb'] < 400 else 'FAIL'}")
        lines.append(f"| {SYSTEMS[r['key']]} | {r['layout']} | {r['wall_s']:.1f} | {r['x_real_time']:.1f} | {r['peak_rss_mb']:.0f} | "
                     f"{', '.join(r['stages']) or '-'} | {ok}{verdict} |")
    return lines, results


# ---------------------------------------------------------------------------- main

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2 speech items, one variant per kind")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help=f"comma list of {', '.join(SYSTEMS)}")
    parser.add_argument("--speech-dev", type=Path, default=sc.DEFAULT_SPEECH_DEV)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--speed-file", action="store_true", help="also render a 10-minute file with each chain")
    parser.add_argument("--speed-only", action="store_true", help="only the 10-minute render test (prints, never writes)")
    parser.add_argument("--speed-minutes", type=float, default=10.0)
    parser.add_argument("--kinds", default="", help=f"comma list of degradation kinds to run ({', '.join(sc.KINDS)}); "
                        "default all. A subset is for tuning: its overall rows are not the noisy set's")
    options = parser.parse_args()
    keys = [k.strip() for k in options.systems.split(",") if k.strip()]
    unknown = [k for k in keys if k not in SYSTEMS]
    if unknown:
        parser.error(f"unknown systems {unknown}; choose from {list(SYSTEMS)}")
    if not options.speech_dev.is_dir():
        parser.error(f"speech-dev folder not found: {options.speech_dev} (pass --speech-dev)")
    if "unprocessed" not in keys:
        keys.insert(0, "unprocessed")  # the input's STOI is the reference for the STOI target
    chains = [k for k in keys if k in ("old", "new")]
    bench_started = time.monotonic()
    load_before = os.getloadavg()[0]
    command = "bench/bench_speech.py " + " ".join(sys.argv[1:])

    if options.speed_only:
        lines, _ = speed_section(chains or ["new"], options.speech_dev, options.speed_minutes)
        print("\n".join(lines))
        return

    conditions, jfk = sc.build_corpus(options.speech_dev, quick=options.quick)
    if options.kinds:
        kinds = {k.strip() for k in options.kinds.split(",") if k.strip()}
        if kinds - set(sc.KINDS):
            parser.error(f"unknown kinds {sorted(kinds - set(sc.KINDS))}; choose from {list(sc.KINDS)}")
        conditions, jfk = [c for c in conditions if c.kind in kinds], None
    audio_s = sum(len(c.load()[0]) for c in conditions) / sc.SR
    print(f"corpus: {len(conditions)} files with references ({audio_s:.0f} s), plus jfk_1961: {sc.CACHE}", flush=True)
    runs = []
    for key in keys:
        print(f"{SYSTEMS[key]} ...", flush=True)
        run = run_system(key, conditions, jfk)
        if run.unavailable:
            print(f"  {key} could not run: {run.unavailable}", flush=True)
        runs.append(run)
    paths = [RUNS / r.key / "dnsmos" / f"{name}.npy" for r in runs for name in r.scores if (RUNS / r.key / "dnsmos" / f"{name}.npy").exists()]
    print(f"DNSMOS on {len(paths)} outputs ...", flush=True)
    mos = run_dnsmos(paths)
    for r in runs:
        for name, s in r.scores.items():
            s.dnsmos = mos.get(str(RUNS / r.key / "dnsmos" / f"{name}.npy"), math.nan)

    json_path = RUNS / ("results-quick.json" if options.quick else "results.json")
    per_file = dump_per_file(runs, conditions, jfk, json_path)
    table, summary = report(runs, conditions, jfk)
    speed_lines: list[str] = []
    if options.speed_file and chains:
        speed_lines, _ = speed_section(chains, options.speech_dev, options.speed_minutes)
    runtime = time.monotonic() - bench_started

    kinds = ", ".join(f"{k} {sum(c.kind == k for c in conditions)}" for k in sc.KINDS)
    lines = [
        SECTION, "",
        f"Run: `.venv/bin/python {command.strip()}` ({time.strftime('%Y-%m-%d')}, {runtime / 60:.1f} min; 1-minute load "
        f"average {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end: speeds are lower on a busy machine). "
        f"{machine_line()}",
        "",
        f"Corpus ({'quick: ' if options.quick else ''}{len(conditions)} files with a clean reference, {audio_s:.0f} s; "
        f"{kinds}): real speech from shared/speech-dev (p862_or*.wav upsampled from 8 kHz, so band-limited to 4 kHz; "
        "pesq_speech_clean.wav; a two-talker item with a 12 dB level jump; active speech levels -35..-22 dBFS) under "
        "degradations made by bench/speech_corpus.py from a fixed seed, plus the real 0 dB babble file; jfk_1961.flac "
        "(real, no reference) scored with DNSMOS only. Processed at 48 kHz, scored at 16 kHz: PESQ-WB, STOI, DNSMOS "
        f"P.835 overall (each output set to {DNSMOS_LEVEL_DBFS:g} dBFS speech level first). Every output is aligned to its "
        "reference by the cross-correlation peak within +-100 ms before scoring (lag below: positive = the output is late). "
        "x real time: audio s / processing s; afftdn and the chains include process start-up (the chains: the whole "
        "`wayfinder render`, every analysis and measuring pass and the AAC encode, on short files), RNNoise and "
        "DeepFilterNet 3 exclude model loading.",
    ]
    import importlib.metadata as meta

    lines.append("")
    lines.append(f"Scorers: pesq {meta.version('pesq')}, pystoi {meta.version('pystoi')}, speechmos "
                 f"{package_version(dnsmos_python(), 'speechmos')} (onnxruntime {package_version(dnsmos_python(), 'onnxruntime')}, "
                 f"bench/work/venv-dnsmos). Per-file scores: bench/{json_path.relative_to(ROOT / 'bench')}.")
    lines += table
    lines += target_lines(runs, summary)
    notes = []
    for r in runs:
        if r.unavailable:
            notes.append(f"- {SYSTEMS[r.key]}: could not run: {r.unavailable}")
            continue
        o = summary.get(r.key, {}).get("overall", {})
        extra = list(r.notes)
        lost = [f"{name} ({row['systems'][r.key]['stoi'] - row['systems']['unprocessed']['stoi']:+.2f})"
                for name, row in per_file.items() if r.key in row["systems"] and "unprocessed" in row["systems"]
                and row["systems"][r.key]["stoi"] < row["systems"]["unprocessed"]["stoi"] - 0.1]
        if lost:
            extra.append("target speech lost (STOI down more than 0.1; PESQ-WB is not meaningful there): " + ", ".join(lost))
        if o.get("errors"):
            extra.append(f"{len(o['errors'])} scoring/processing errors: " + "; ".join(o["errors"][:3]))
        if extra:
            notes.append(f"- {SYSTEMS[r.key]}: " + "; ".join(extra))
    if notes:
        lines += ["", "Notes:", ""] + notes
    lines += speed_lines
    lines += ["", f"Bench runtime: {runtime:.0f} s.", ""]
    text = "\n".join(lines)
    print(text)
    if not options.no_write:
        write_section(SECTION, text)


if __name__ == "__main__":
    main()
