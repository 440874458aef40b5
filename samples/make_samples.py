"""Synthesize the demo media into a folder (default: samples/media next to this script),
keeping the files that are already there and up to date (`--force` remakes them all).

Same as `wayfinder samples DIR`; the synthesis itself lives in pipeline/samples.py.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from pipeline.samples import write_samples


def main(argv: list[str]) -> int:
    force = "--force" in argv
    folders = [arg for arg in argv if arg != "--force"]
    folder = Path(folders[0]) if folders else Path(__file__).resolve().parent / "media"
    started = time.monotonic()

    def report(name: str, path: Path, made: bool) -> None:
        state = f"made in {time.monotonic() - started:.0f} s" if made else "up to date"
        print(f"{name}: {path} ({state})", flush=True)

    write_samples(folder, force=force, report=report)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
