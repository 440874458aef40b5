"""Loudness normalization: Wayfinder against ffmpeg-normalize on the speech corpus.

Both normalize every file of tests/audio_corpus.py to -14 LUFS / -1 dBTP with AAC output
(384 kbps); every output is then measured ON THE ENCODED FILE with the same meter
(pipeline.audio.meter): error in LU, true peak, sample rate, and wall time.

ffmpeg-normalize is installed only for this benchmark, into bench/work/venv-ffmpeg-normalize,
and runs the same ffmpeg binary (FFMPEG_PATH). It is run the way its users run it for
this target: `ffmpeg-normalize IN -t -14 -tp -1 -c:a aac -b:a 384k -o OUT`.

Run:  .venv/bin/python bench/bench_loudness.py        (writes the "Loudness normalization"
      section of bench/RESULTS.md; --no-write to only print)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import venv
from pathlib import Path

from common import WORK, ffmpeg_binary, machine_line, write_section

from pipeline.audio.meter import measure_file
from tests.audio_corpus import CORPUS, make_corpus_file

TARGET_LUFS = -14.0
CEILING_DBTP = -1.0
SECTION = "## Loudness normalization"
FN_VENV = WORK / "venv-ffmpeg-normalize"


def ffmpeg_normalize() -> Path:
    binary = FN_VENV / "bin" / "ffmpeg-normalize"
    if not binary.exists():
        venv.create(FN_VENV, with_pip=True)
        subprocess.run([str(FN_VENV / "bin" / "python"), "-m", "pip", "install", "-q", "ffmpeg-normalize"], check=True)
    return binary


def timed(argv: list[str], env: dict[str, str] | None = None) -> float:
    started = time.monotonic()
    result = subprocess.run(argv, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed: {result.stderr[-500:]}")
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-write", action="store_true")
    options = parser.parse_args()

    corpus_dir = WORK / "corpus"
    out_dir = WORK / "normalized"
    for folder in (corpus_dir, out_dir / "wayfinder", out_dir / "ffmpeg-normalize"):
        folder.mkdir(parents=True, exist_ok=True)
    fn = ffmpeg_normalize()
    fn_version = subprocess.run([str(fn), "--version"], capture_output=True, text=True).stdout.strip()
    wayfinder = Path(sys.executable).with_name("wayfinder")
    env = {**os.environ, "FFMPEG_PATH": ffmpeg_binary()}

    rows = []
    for item in CORPUS:
        source = make_corpus_file(item, corpus_dir) if not (corpus_dir / f"{item.name}.wav").exists() else corpus_dir / f"{item.name}.wav"
        ours = out_dir / "wayfinder" / f"{item.name}.m4a"
        theirs = out_dir / "ffmpeg-normalize" / f"{item.name}.m4a"
        wall_ours = timed([str(wayfinder), "render", str(source), "-o", str(ours), "--preset", "youtube", "--force"])
        wall_theirs = timed([str(fn), str(source), "-t", str(TARGET_LUFS), "-tp", str(CEILING_DBTP),
                             "-c:a", "aac", "-b:a", "384k", "-f", "-o", str(theirs)], env=env)
        m_ours, m_theirs = measure_file(ours), measure_file(theirs)
        rows.append((item.name, m_ours, wall_ours, m_theirs, wall_theirs))
        print(item.name, m_ours.integrated_lufs, m_ours.true_peak_dbtp, m_theirs.integrated_lufs, m_theirs.true_peak_dbtp, m_theirs.sample_rate_hz, flush=True)

    def err(m: object) -> float:
        return m.integrated_lufs - TARGET_LUFS  # type: ignore[attr-defined]

    lines = [
        SECTION, "",
        f"Run: `.venv/bin/python bench/bench_loudness.py` ({time.strftime('%Y-%m-%d')}). {machine_line()}",
        f"Peer: {fn_version}, installed only for this benchmark, same ffmpeg binary.",
        "Target -14 LUFS / -1 dBTP, AAC 384 kbps; every number measured on the encoded output with "
        "`pipeline.audio.meter` (BS.1770-4, true peak 4x oversampled). Wall time includes each tool's analysis passes.",
        "",
        "| file | Wayfinder error LU | Wayfinder TP dBTP | Wayfinder s | ffmpeg-normalize error LU | ffmpeg-normalize TP dBTP | its output rate Hz | ffmpeg-normalize s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, ours, w_ours, theirs, w_theirs in rows:
        lines.append(
            f"| {name} | {err(ours):+.2f} | {ours.true_peak_dbtp:.2f} | {w_ours:.1f} | "
            f"{err(theirs):+.2f} | {theirs.true_peak_dbtp:.2f} | {theirs.sample_rate_hz} | {w_theirs:.1f} |"
        )
    worst_ours = max(abs(err(r[1])) for r in rows)
    worst_theirs = max(abs(err(r[3])) for r in rows)
    over_ours = sum(1 for r in rows if r[1].true_peak_dbtp > CEILING_DBTP)
    over_theirs = sum(1 for r in rows if r[3].true_peak_dbtp > CEILING_DBTP)
    total_ours, total_theirs = sum(r[2] for r in rows), sum(r[4] for r in rows)
    lines += [
        "",
        f"Worst error: Wayfinder {worst_ours:.2f} LU, ffmpeg-normalize {worst_theirs:.2f} LU. "
        f"Files over the -1 dBTP ceiling after encoding: Wayfinder {over_ours} of {len(rows)}, "
        f"ffmpeg-normalize {over_theirs} of {len(rows)}. Total wall time: Wayfinder {total_ours:.1f} s "
        f"(it also runs the speech clean-up chain and re-measures its output), ffmpeg-normalize {total_theirs:.1f} s "
        f"(ratio {total_ours / total_theirs:.2f}x).",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if not options.no_write:
        write_section(SECTION, text)


if __name__ == "__main__":
    main()
