"""Stereo speech enhanced as its mid once, against each channel apart (issue 12).

Stereo is built from the speech corpus (bench_speech.py's, bench/work/speech-corpus/v2):
the same real speech on both channels, as a phone's two microphones hear a talker in
front of them, with the file's own noise on the left and the same noise half the file
later on the right (unrelated noise, as two microphones hear a diffuse room). Both ways
run the enhancer the render runs (`pipeline.audio.enhance.enhance_array`, DeepFilterNet 3,
no band rule: the comparison is of the stereo handling), and the output (the mid's one
channel, or the left channel of the two) is scored against the clean reference with
bench_speech.py's scorers (PESQ-WB, STOI at 16 kHz, after alignment).

    .venv/bin/python bench/bench_stereo_mid.py [--kinds noise,babble,hvac,hum] [--no-write]

Also measures the enhancer's CPU per way (process time), and writes its section of
bench/RESULTS.md unless --no-write.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
from scipy.io import wavfile

from common import WORK, machine_line, write_section

import bench_speech as bs

CORPUS = WORK / "speech-corpus" / "v2"
TITLE = "## Stereo speech: its mid once, or each channel apart (issue 12)"


SPACED_SAMPLES = 11  # 0.23 ms, 8 cm of path: summed as they are, a notch at 2.2 kHz


def stereo_of(noisy: np.ndarray, ref: np.ndarray, right_late_samples: int = 0) -> np.ndarray:
    noise = noisy - ref
    right = np.roll(ref, right_late_samples) + np.roll(noise, len(noise) // 2)
    return np.stack([ref + noise, right], axis=1).astype(np.float32)


def lined_up_mid(stereo: np.ndarray, folder: Path) -> tuple[np.ndarray, int]:
    """The mid as the render reads it: the survey's lag, then `read_mid` from a spool."""
    from pipeline.audio.stereo_mid import read_mid, survey_channels

    spool = folder / "stereo.f32"
    spool.write_bytes(np.ascontiguousarray(stereo, dtype="<f4").tobytes())
    survey = survey_channels(spool, 2, 48_000)
    assert survey is not None
    with spool.open("rb") as stream:
        mid = read_mid(stream, len(stereo), 0, len(stereo), survey.lag_samples)[:, 0]
    return mid, survey.lag_samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kinds", default="noise,babble,hvac,hum,reverb-noise")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    from pipeline.audio.enhance import enhance_array

    kinds = args.kinds.split(",")
    files = sorted(p for p in CORPUS.glob("*.wav") if not p.name.endswith(".ref.wav")
                   and any(p.stem.rsplit("-", 1)[0].endswith("-" + k) for k in kinds)
                   and p.with_suffix(".ref.wav").exists())
    rows: dict[str, list[tuple[float, float, float, float]]] = {}
    spaced_rows: list[tuple[float, float, float, float]] = []
    lags: list[int] = []
    cpu = {"mid": 0.0, "channels": 0.0}
    load_before = os.getloadavg()[0]
    scratch = WORK / "stereo-mid"
    scratch.mkdir(parents=True, exist_ok=True)
    for path in files:
        _, noisy = wavfile.read(path)
        _, ref = wavfile.read(path.with_suffix(".ref.wav"))
        stereo = stereo_of(noisy.astype(np.float64), ref.astype(np.float64))
        started = time.process_time()
        mid = enhance_array(stereo.mean(axis=1, dtype=np.float32))
        cpu["mid"] += time.process_time() - started
        started = time.process_time()
        apart = enhance_array(stereo)
        cpu["channels"] += time.process_time() - started
        mid_score = bs.score(ref, mid, scratch / "mid.npy")
        apart_score = bs.score(ref, apart[:, 0], scratch / "apart.npy")
        spaced = stereo_of(noisy.astype(np.float64), ref.astype(np.float64), SPACED_SAMPLES)
        mid_lined, lag = lined_up_mid(spaced, scratch)
        lags.append(lag)
        lined_score = bs.score(ref, enhance_array(mid_lined), scratch / "lined.npy")
        naive_score = bs.score(ref, enhance_array(spaced.mean(axis=1, dtype=np.float32)), scratch / "naive.npy")
        spaced_rows.append((lined_score.pesq or float("nan"), naive_score.pesq or float("nan"),
                            lined_score.stoi or float("nan"), naive_score.stoi or float("nan")))
        kind = path.stem.split("-", 1)[1].rsplit("-", 1)[0]
        rows.setdefault(kind, []).append((mid_score.pesq or float("nan"), apart_score.pesq or float("nan"),
                                          mid_score.stoi or float("nan"), apart_score.stoi or float("nan")))
        print(f"{path.stem}: PESQ mid {mid_score.pesq:.2f} apart {apart_score.pesq:.2f}; "
              f"STOI mid {mid_score.stoi:.3f} apart {apart_score.stoi:.3f}", flush=True)
    load_after = os.getloadavg()[0]
    lines = [
        "| kind | files | PESQ-WB mid | PESQ-WB apart | STOI mid | STOI apart |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    every = [row for kind_rows in rows.values() for row in kind_rows]
    for kind, kind_rows in [*sorted(rows.items()), ("all", every)]:
        means = np.nanmean(np.array(kind_rows), axis=0)
        lines.append(f"| {kind} | {len(kind_rows)} | {means[0]:.2f} | {means[1]:.2f} | {means[2]:.3f} | {means[3]:.3f} |")
    spaced_means = np.nanmean(np.array(spaced_rows), axis=0)
    lines += [
        "",
        f"Spaced pair (the right microphone {SPACED_SAMPLES} samples late; all {len(spaced_rows)} files; "
        f"the survey found lag {sorted(set(lags))}):",
        "",
        "| mid | PESQ-WB | STOI |",
        "|---|---:|---:|",
        f"| lined up first (as the render does) | {spaced_means[0]:.2f} | {spaced_means[2]:.3f} |",
        f"| summed as they are (a comb at 2.2 kHz) | {spaced_means[1]:.2f} | {spaced_means[3]:.3f} |",
    ]
    table = "\n".join(lines)
    print(table)
    print(f"enhancer CPU: mid {cpu['mid']:.1f} s, apart {cpu['channels']:.1f} s")
    if args.no_write:
        return
    text = (
        f"{TITLE}\n\n"
        "Run: `.venv/bin/python bench/bench_stereo_mid.py` "
        f"({time.strftime('%Y-%m-%d')}; load average {load_before:.1f} at the start, {load_after:.1f} at the end). "
        f"{machine_line()}\n\n"
        "Stereo built from the speech corpus: the same real speech on both channels (a talker in front of a "
        "phone), the file's own noise on the left and that noise half the file later on the right (unrelated, "
        "as two microphones hear a diffuse room). DeepFilterNet 3 as the render runs it, on the mid (L+R)/2 "
        "once or on each channel; the mid's output and the left channel of the other are scored against the "
        "clean reference (PESQ-WB and STOI at 16 kHz, bench_speech.py's scorers).\n\n"
        f"{table}\n\n"
        f"Enhancer CPU over these files: mid {cpu['mid']:.1f} s, each channel apart {cpu['channels']:.1f} s "
        f"({cpu['channels'] / max(cpu['mid'], 1e-9):.2f}x).\n"
    )
    write_section(TITLE, text)


if __name__ == "__main__":
    main()
