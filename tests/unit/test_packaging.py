"""Every package folder is listed in pyproject.toml, or a built wheel would miss it."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_package_is_listed() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "pipeline").rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert found - listed == set(), f"add these to [tool.setuptools] packages: {sorted(found - listed)}"
    assert "pipeline._presets" in listed


def test_builtin_presets_are_package_data() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert data["package-dir"]["pipeline._presets"] == "presets"
    assert any(p.endswith(".toml") for p in data["package-data"]["pipeline._presets"])
    assert (ROOT / "presets" / "youtube.toml").is_file()


def test_building_the_package_prints_no_setuptools_warning_about_data_folders(tmp_path: Path) -> None:
    # `make demo` showed a large SetuptoolsDeprecationWarning: "Installing
    # 'pipeline._presets.templates' as data is deprecated ... absent from packages".
    import subprocess
    import sys

    # egg_info's folder goes to tmp_path too: the test leaves nothing in the repository.
    done = subprocess.run([sys.executable, "-c", "import setuptools; setuptools.setup()", "egg_info", "--egg-base",
                           str(tmp_path), "build_py", "-d", str(tmp_path / "build"), "--force"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    output = done.stdout + done.stderr
    assert "_presets.templates" not in output, output
    # every data folder (presets' templates, the shipped fonts) is a listed package
    assert "is absent from the `packages` configuration" not in output, output
    assert (tmp_path / "build" / "pipeline" / "video" / "font_files" / "DejaVuSans.ttf").is_file()
    assert (tmp_path / "build" / "pipeline" / "_presets" / "templates" / "navigation.toml").is_file()
    assert (tmp_path / "build" / "pipeline" / "_presets" / "youtube.toml").is_file()
