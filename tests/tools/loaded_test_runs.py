"""Run the test suite again and again on a machine loaded by the CPU hog (tests/tools/cpu_hog.py),
stopping at the first failing run: the proof that no test depends on the machine's speed.

    python -m tests.tools.loaded_test_runs --runs 10            # what `make test-loaded` runs
    python -m tests.tools.loaded_test_runs --runs 3 -- tests/integration/test_interrupt.py -x

Everything after `--` goes to pytest instead of the whole suite. Prints one line per run
(exit code, wall time, load average) and exits with the first failing run's exit code.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} {five:.1f} {fifteen:.1f}"


def start_hog(workers: int | None) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "tests.tools.cpu_hog", "--with-parent"]
    if workers is not None:
        command += ["--workers", str(workers)]
    # its own session: a Ctrl-C meant for the test run does not reach it half-way
    return subprocess.Popen(command, cwd=REPO, start_new_session=True)


def stop_hog(hog: subprocess.Popen[bytes]) -> None:
    if hog.poll() is None:
        hog.send_signal(signal.SIGTERM)
    try:
        hog.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(hog.pid, signal.SIGKILL)
        hog.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="runs in a row (default %(default)s)")
    parser.add_argument("--workers", type=int, default=None, help="hog workers (default: 2 x cores)")
    parser.add_argument("pytest_args", nargs="*", help="after --: pytest arguments instead of the whole suite")
    args = parser.parse_args(argv)

    hog = start_hog(args.workers)
    results: list[tuple[int, int, float]] = []
    try:
        time.sleep(2.0)  # not a correctness wait: only lets the load average climb before run 1
        for run in range(1, args.runs + 1):
            print(f"loaded run {run}/{args.runs}: starting, load average {load_average()}", flush=True)
            started_s = time.monotonic()
            code = subprocess.call([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args.pytest_args],
                                   cwd=REPO)
            wall_s = time.monotonic() - started_s
            results.append((run, code, wall_s))
            verdict = "passed" if code == 0 else f"FAILED (exit {code})"
            print(f"loaded run {run}/{args.runs}: {verdict} in {wall_s:.0f} s, load average {load_average()}",
                  flush=True)
            if code != 0:
                break
    finally:
        stop_hog(hog)

    print("summary:")
    for run, code, wall_s in results:
        print(f"  run {run}: exit {code}, {wall_s:.0f} s")
    failed = [code for _run, code, _wall in results if code != 0]
    if failed:
        return failed[0]
    print(f"all {len(results)} runs passed under load")
    return 0


if __name__ == "__main__":
    sys.exit(main())
