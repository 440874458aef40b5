"""Synthesize the demo media into a folder (default: samples/media next to this script).

Same as `wayfinder samples DIR`; the synthesis itself lives in pipeline/samples.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pipeline.samples import write_samples

if __name__ == "__main__":
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "media"
    for name, path in write_samples(folder).items():
        print(f"{name}: {path}")
