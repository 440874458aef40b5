"""A stress-like CPU hog for testing the suite on a loaded machine: N processes spinning in
busy loops until killed (SIGTERM/SIGINT) or for --seconds.

    python -m tests.tools.cpu_hog                # 2 x cores workers, until Ctrl-C
    python -m tests.tools.cpu_hog --workers 4 --seconds 600
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import sys
import time


def spin(hog_pid: int) -> None:
    """One busy loop; it ends when its process is killed, or when the hog that started it
    is gone (killed with SIGKILL, it could not stop its workers)."""
    # The hog stops the workers with SIGTERM; the default action ends them at once.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    n = 0
    while os.getppid() == hog_pid:
        for _ in range(1_000_000):
            n = (n * 1103515245 + 12345) & 0x7FFFFFFF


def default_workers() -> int:
    return 2 * (os.cpu_count() or 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=default_workers(),
                        help="busy processes (default: 2 x cores = %(default)s)")
    parser.add_argument("--seconds", type=float, default=None, help="stop after this long (default: until killed)")
    parser.add_argument("--with-parent", action="store_true",
                        help="also stop when the process that started the hog is gone")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")

    stop_requested = False

    def request_stop(_signum: int, _frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    parent_pid = os.getppid()
    workers = [multiprocessing.Process(target=spin, args=(os.getpid(),), daemon=True) for _ in range(args.workers)]
    for worker in workers:
        worker.start()
    print(f"cpu_hog: {args.workers} busy workers (pids {' '.join(str(w.pid) for w in workers)})", flush=True)
    end_s = None if args.seconds is None else time.monotonic() + args.seconds
    try:
        while (not stop_requested and (end_s is None or time.monotonic() < end_s)
               and not (args.with_parent and os.getppid() != parent_pid)):
            time.sleep(0.2)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.join()
    print("cpu_hog: stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
