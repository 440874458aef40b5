"""Shared test settings: isolate every test from the user's real config and state folders."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def isolated_folders(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    base = tmp_path_factory.mktemp("wayfinder-home")
    monkeypatch.setenv("WAYFINDER_CONFIG_DIR", str(base / "config"))
    monkeypatch.setenv("WAYFINDER_STATE_DIR", str(base / "state"))
    monkeypatch.setenv("WAYFINDER_CACHE_DIR", str(base / "cache"))
