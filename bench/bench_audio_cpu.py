"""CPU cost of an audio-only render, one checkout against another, on a loaded machine.

Wall time on a shared, loaded machine says more about the neighbours than about the
code; CPU seconds (user + system of the render and every ffmpeg it starts) say what the
render itself costs. Each checkout renders the same file in turn (ABAB...), as
`wayfinder render` would, with `PYTHONPATH` pointing at the checkout.

    .venv/bin/python bench/bench_audio_cpu.py SOURCE.wav [SOURCE.wav ...] --before /work/main --after . --runs 2

Prints one line per run (wall, CPU, x real time, peak RSS of the process tree, load
average) and the mean ratios per source; with --keep DIR, each checkout's last output
stays there (DIR/<before|after>-<source stem>.m4a) for comparing the sound; writes
nothing else.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path


from common import run_with_peak_rss


def render_cost(checkout: Path, source: Path, folder: Path) -> tuple[float, float, float]:
    """(wall s, CPU s of the process tree, peak RSS MB of the process tree)."""
    job = folder / "job.toml"
    job.write_text(f'preset = "youtube"\n[input]\nmain = "{source.resolve()}"\n[output]\npath = "out.m4a"\n')
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    code, _out, err, peak = run_with_peak_rss(
        [sys.executable, "-m", "pipeline.cli.app", "render", str(job), "--force"],
        env={**os.environ, "PYTHONPATH": str(checkout.resolve())}, cwd=folder,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if code != 0:
        raise SystemExit(f"{checkout}: render failed: {err.strip()[-400:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, peak / 2**20


def duration_s(source: Path) -> float:
    import av

    with av.open(str(source)) as container:
        stream = container.streams.audio[0]
        return float(stream.duration * stream.time_base)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sources", type=Path, nargs="+")
    parser.add_argument("--before", type=Path, required=True, help="checkout of the code before the change")
    parser.add_argument("--after", type=Path, required=True, help="checkout of the code after the change")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="keep each checkout's last output here")
    options = parser.parse_args()
    for source in options.sources:
        length_s = duration_s(source)
        costs: dict[str, list[tuple[float, float, float]]] = {"before": [], "after": []}
        with tempfile.TemporaryDirectory(prefix="bench-audio-cpu-") as folder:
            for run in range(options.runs):
                # ABAB... then BABA on the next run: a load trend hits both alike.
                order = ("before", "after") if run % 2 == 0 else ("after", "before")
                for name in order:
                    checkout = options.before if name == "before" else options.after
                    load_start = os.getloadavg()[0]
                    wall, cpu, peak_mb = render_cost(checkout, source, Path(folder))
                    costs[name].append((wall, cpu, peak_mb))
                    if options.keep is not None:
                        options.keep.mkdir(parents=True, exist_ok=True)
                        shutil.copy(Path(folder) / "out.m4a", options.keep / f"{name}-{source.stem}.m4a")
                    print(f"{source.name} run {run + 1} {name}: wall {wall:.1f} s ({length_s / wall:.1f}x real time), "
                          f"CPU {cpu:.1f} s, peak RSS {peak_mb:.0f} MB "
                          f"(load {load_start:.1f} -> {os.getloadavg()[0]:.1f})", flush=True)
        mean = {name: [sum(c[i] for c in values) / len(values) for i in range(3)] for name, values in costs.items()}
        print(f"{source.name}: mean wall before {mean['before'][0]:.1f} s, after {mean['after'][0]:.1f} s "
              f"(after / before {mean['after'][0] / mean['before'][0]:.2f}); mean CPU before {mean['before'][1]:.1f} s, "
              f"after {mean['after'][1]:.1f} s (after / before {mean['after'][1] / mean['before'][1]:.2f})", flush=True)


if __name__ == "__main__":
    main()
