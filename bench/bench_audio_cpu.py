"""CPU cost of an audio-only render, one checkout against another, on a loaded machine.

Wall time on a shared, loaded machine says more about the neighbours than about the
code; CPU seconds (user + system of the render and every ffmpeg it starts) say what the
render itself costs. Each checkout renders the same file in turn (ABAB...), as
`wayfinder render` would, with `PYTHONPATH` pointing at the checkout.

    .venv/bin/python bench/bench_audio_cpu.py SOURCE.wav --before /work/main --after . --runs 2

Prints one line per run and the mean ratio; writes nothing.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def render_cost(checkout: Path, source: Path, folder: Path) -> tuple[float, float]:
    """(wall s, CPU s of the process tree)."""
    job = folder / "job.toml"
    job.write_text(f'preset = "youtube"\n[input]\nmain = "{source.resolve()}"\n[output]\npath = "out.m4a"\n')
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.cli.app", "render", str(job), "--force"],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(checkout.resolve())}, cwd=folder,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"{checkout}: render failed: {result.stderr.strip()[-400:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path)
    parser.add_argument("--before", type=Path, required=True, help="checkout of the code before the change")
    parser.add_argument("--after", type=Path, required=True, help="checkout of the code after the change")
    parser.add_argument("--runs", type=int, default=2)
    options = parser.parse_args()
    costs: dict[str, list[tuple[float, float]]] = {"before": [], "after": []}
    with tempfile.TemporaryDirectory(prefix="bench-audio-cpu-") as folder:
        for run in range(options.runs):
            for name in ("before", "after"):
                checkout = options.before if name == "before" else options.after
                wall, cpu = render_cost(checkout, options.source, Path(folder))
                costs[name].append((wall, cpu))
                print(f"run {run + 1} {name}: wall {wall:.1f} s, CPU {cpu:.1f} s "
                      f"(load {os.getloadavg()[0]:.1f})", flush=True)
    mean = {name: sum(c[1] for c in values) / len(values) for name, values in costs.items()}
    print(f"mean CPU: before {mean['before']:.1f} s, after {mean['after']:.1f} s, "
          f"after / before = {mean['after'] / mean['before']:.2f}")


if __name__ == "__main__":
    main()
