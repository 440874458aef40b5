"""The package's layering, read from its source: lower modules never import upper ones
(cli -> render/batch/queue -> plan -> audio/video/youtube/qa/captions -> config -> probe/media/errors),
not even inside a function, and no two modules import each other at module level.

The layer of each top-level module or sub-package is written out below, so a new module
must be placed on purpose; the test fails until it is."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[2] / "pipeline"

# rank: a module may import modules of its own rank or lower, never higher
LAYERS: dict[str, int] = {
    # base: files, processes, errors, the state database
    "pipeline": 0,
    "errors": 0,
    "paths": 0,
    "tomlfile": 0,
    "local_time": 0,
    "ffmpeg_failure": 0,
    "lifeline": 0,
    "speed": 0,
    "background": 0,
    "filters": 0,
    "containers": 0,
    "state_file": 0,
    "state_backup": 0,
    "state": 0,
    "output_lock": 0,
    "leftovers": 0,
    "overlay_specs": 0,
    "probe": 0,
    "media": 0,
    # settings: what a job, preset or manifest says
    "config": 1,
    "timeline": 1,
    "sources": 1,
    # builders: each knows its own filters, checks or API
    "audio": 2,
    "video": 2,
    "captions": 2,
    "youtube": 2,
    "qa": 2,
    "sample_scenes": 2,
    "sample_voice": 2,
    # composition: job to graphs
    "plan": 3,
    "programme": 3,
    "sound_stage": 3,
    # runs: render, batch, queue, demo media
    "render": 4,
    "batch": 4,
    "queue": 4,
    "samples": 4,
    # the command line
    "cli": 5,
}

# Settings schemas that live beside their builder but are read by `config` (a lower layer);
# they may import only base modules and each other.
SCHEMA_LEAVES = frozenset(
    {
        "pipeline.captions.settings",
        "pipeline.qa.settings",
        "pipeline.qa.model",
        "pipeline.youtube.metadata",
    }
)


def module_files() -> dict[str, Path]:
    modules: dict[str, Path] = {}
    for path in PACKAGE_DIR.rglob("*.py"):
        parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


MODULES = module_files()


def resolve(name: str) -> str | None:
    """The package module an imported name lives in (`pipeline.a.b.func` -> `pipeline.a.b`)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(path: Path) -> tuple[set[str], set[str]]:
    """(module-level imports, imports anywhere) of one file, as package module names."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top_level_ids = {id(node) for node in tree.body}
    at_top: set[str] = set()
    anywhere: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pipeline"):
            names = [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names if alias.name.startswith("pipeline")]
        for name in names:
            target = resolve(name)
            if target is None:
                continue
            anywhere.add(target)
            if id(node) in top_level_ids:
                at_top.add(target)
    return at_top, anywhere


def layer_of(module: str) -> int:
    group = module.split(".")[1] if "." in module else "pipeline"
    if group not in LAYERS:
        pytest.fail(f"{module}: no layer written for '{group}' in {Path(__file__).name}")
    return LAYERS[group]


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle among `edges`, as a path that returns to its start, or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for target in sorted(edges.get(module, ())):
            if state.get(target) == 1:
                return [*path[path.index(target):], target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        path.pop()
        state[module] = 2
        return None

    for module in sorted(edges):
        if module not in state:
            found = visit(module)
            if found:
                return found
    return None


def test_every_module_has_a_layer() -> None:
    for module in MODULES:
        layer_of(module)


def test_no_module_imports_a_higher_layer() -> None:
    upward: list[str] = []
    for module, path in sorted(MODULES.items()):
        _, anywhere = imports_of(path)
        for target in sorted(anywhere):
            if target in SCHEMA_LEAVES and layer_of(module) >= LAYERS["config"]:
                continue
            if layer_of(target) > layer_of(module):
                upward.append(f"{module} imports {target}")
    assert upward == []


def test_schema_leaves_import_only_base_modules_and_each_other() -> None:
    for module in sorted(SCHEMA_LEAVES):
        assert module in MODULES, f"{module} is named in SCHEMA_LEAVES but does not exist"
        _, anywhere = imports_of(MODULES[module])
        others = {t for t in anywhere if t not in SCHEMA_LEAVES and layer_of(t) > 0}
        assert others == set(), f"{module} imports {sorted(others)}"


def test_no_import_cycle_at_module_level() -> None:
    edges: dict[str, set[str]] = defaultdict(set)
    for module, path in MODULES.items():
        at_top, _ = imports_of(path)
        edges[module] |= {target for target in at_top if target != module and target != "pipeline"}
    assert find_cycle(edges) is None


def test_the_checks_find_what_they_look_for() -> None:
    """The helpers above would see an upward import and a cycle (so a green run means something)."""
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    assert layer_of("pipeline.video.prepare") < layer_of("pipeline.plan")
