"""`make demo` renders every sample job through one batch manifest (samples/demo.toml),
so the batch's up-to-date check decides what renders: nothing is forced."""

from __future__ import annotations

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples"


def test_the_demo_manifest_lists_every_sample_job_and_nothing_else() -> None:
    manifest = tomllib.loads((SAMPLES / "demo.toml").read_text(encoding="utf-8"))
    listed = sorted(manifest["jobs"])
    shipped = sorted(path.relative_to(SAMPLES).as_posix() for path in (SAMPLES / "jobs").glob("*.toml"))
    assert listed == shipped


def test_make_demo_renders_through_the_batch_without_forcing() -> None:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    demo_recipe = makefile.split("\ndemo:", 1)[1].split("\n\n", 1)[0]
    assert "render_all.py" in demo_recipe
    render_all = (SAMPLES / "render_all.py").read_text(encoding="utf-8")
    assert '"batch"' in render_all and "demo.toml" in render_all
    assert "--force" not in render_all
