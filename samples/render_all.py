"""Render every sample job in samples/jobs with the real `wayfinder` command (make demo)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    wayfinder = Path(sys.executable).with_name("wayfinder")
    jobs = sorted((HERE / "jobs").glob("*.toml"))
    failed = []
    started = time.monotonic()
    for job in jobs:
        print(f"\n== {job.relative_to(HERE.parent)}", flush=True)
        if subprocess.run([str(wayfinder), "render", str(job), "--force"]).returncode != 0:
            failed.append(job.name)
    print(f"\nrendered {len(jobs) - len(failed)} of {len(jobs)} sample jobs in {time.monotonic() - started:.0f} s")
    print(f"outputs and their reports (*.wayfinder.json) are in {HERE / 'out'}")
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
