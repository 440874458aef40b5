"""Run every benchmark in bench/ (bench_*.py) one after another; each writes its own
section of bench/RESULTS.md. Not run by CI: these take minutes and want a quiet machine."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    failed = []
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"== {script.name}", flush=True)
        if subprocess.run([sys.executable, script.name], cwd=HERE).returncode != 0:
            failed.append(script.name)
    if failed:
        print("failed: " + ", ".join(failed))
    sys.exit(1 if failed else 0)
