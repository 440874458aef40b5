"""`make demo`'s second half: render every sample job (samples/demo.toml) as one batch with
the real `wayfinder` command. The batch skips jobs whose outputs are up to date, so only
what is missing or out of date renders."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    wayfinder = Path(sys.executable).with_name("wayfinder")
    started = time.monotonic()
    code = subprocess.run([str(wayfinder), "batch", str(HERE / "demo.toml"), *sys.argv[1:]]).returncode
    print(f"\nmake demo: batch finished in {time.monotonic() - started:.0f} s (exit {code})")
    print(f"outputs and their reports (*.wayfinder.json) are in {HERE / 'out'}")
    return code


if __name__ == "__main__":
    sys.exit(main())
