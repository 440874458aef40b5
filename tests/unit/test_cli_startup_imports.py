"""What every `wayfinder` command loads before it starts (issue 16: start-up and imports
stay lazy). scipy (about a second to import) belongs to the audio engine, loaded by a
render beside its light analysis, and to `samples`: never at start-up."""

from __future__ import annotations

import os
import subprocess
import sys

HEAVY_PACKAGES = ("scipy",)


def test_registering_every_command_does_not_import_scipy() -> None:
    probe = (
        "import sys\n"
        "from pipeline.cli import app\n"
        "app._register_all()\n"
        "print(' '.join(sorted({name.split('.')[0] for name in sys.modules})))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                            env=dict(os.environ), timeout=120)
    loaded = set(result.stdout.split())
    assert "pipeline" in loaded
    assert not loaded & set(HEAVY_PACKAGES), sorted(loaded & set(HEAVY_PACKAGES))
