"""Where Wayfinder keeps things on disk: built-in presets, the user's config and state folders.

Environment overrides: `WAYFINDER_CONFIG_DIR` (user presets, templates, credentials) and
`WAYFINDER_STATE_DIR` (upload state store, ledgers, queue). Defaults come from platformdirs.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "wayfinder"


def builtin_presets_dir() -> Path:
    """The presets shipped with Wayfinder (the repository's `presets/`, or package data)."""
    source_tree = Path(__file__).resolve().parent.parent / "presets"
    if source_tree.is_dir():
        return source_tree
    return Path(__file__).resolve().parent / "_presets"


def user_config_dir() -> Path:
    """The user's config folder: user presets in `presets/`, templates in `templates/`."""
    override = os.environ.get("WAYFINDER_CONFIG_DIR")
    if override:
        return Path(override)
    return Path(platformdirs.user_config_dir(APP_NAME))


def user_presets_dir() -> Path:
    return user_config_dir() / "presets"


def state_dir() -> Path:
    """Where the state store, ledgers and upload queue live (created on demand by users)."""
    override = os.environ.get("WAYFINDER_STATE_DIR")
    if override:
        return Path(override)
    return Path(platformdirs.user_data_dir(APP_NAME))


def cache_dir() -> Path:
    """Cache for generated intermediates (title cards). Safe to delete."""
    override = os.environ.get("WAYFINDER_CACHE_DIR")
    if override:
        return Path(override)
    return Path(platformdirs.user_cache_dir(APP_NAME))
