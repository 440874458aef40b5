"""A state folder on a full disk or a read-only file system: each command that needs the
state database fails with one line naming it and exit 4, saves nothing half, and leaves no
empty state file behind (the next run would have taken it for a new, empty queue).

The file systems are small tmpfs mounts made by the test, which needs root (and a system
that lets it mount); elsewhere the tests are skipped, saying why."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.cli import wayfinder
from tests.integration.state_files import assert_one_error_line, populate

FULL = "the disk holding the state folder is full"
READ_ONLY = "cannot write in the state folder"


def _mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True, timeout=60)


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs, unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs for a full or read-only state folder needs root")
    if shutil.which("mount") is None or shutil.which("umount") is None:
        pytest.skip("no mount/umount command on this system")
    mount_point = tmp_path / "fs"
    mount_point.mkdir()
    mounted = _mount("-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", str(mount_point))
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (a container without CAP_SYS_ADMIN?): {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], capture_output=True, timeout=60, check=False)


def fill(path: Path) -> None:
    """Write zeros to `path` until the file system says it is full."""
    block = bytes(64 * 1024)
    with open(path, "wb") as stream:
        try:
            while True:
                stream.write(block)
                stream.flush()
        except OSError as error:
            assert error.errno == errno.ENOSPC, error
    # What the buffer could not flush is dropped when the file closes; top up byte by byte.
    with open(path, "ab", buffering=0) as stream:
        try:
            while True:
                stream.write(b"\0" * 512)
        except OSError as error:
            assert error.errno == errno.ENOSPC, error


def states(state_dir: Path) -> list[str]:
    listed = wayfinder("queue", "list", "--json", env={"WAYFINDER_STATE_DIR": str(state_dir)})
    assert listed.returncode == 0, listed.stdout + listed.stderr
    return [item["state"] for item in json.loads(listed.stdout)["items"]]


def test_a_full_disk_under_the_state_is_one_line_and_saves_nothing_half(small_fs: Path) -> None:
    state_dir = small_fs / "state"
    populate(state_dir)
    state_file = state_dir / "state.sqlite3"
    env = {"WAYFINDER_STATE_DIR": str(state_dir)}
    filler = small_fs / "filler"
    fill(filler)

    cancelled = wayfinder("queue", "cancel", "2", env=env)
    assert_one_error_line(cancelled, state_file, FULL)

    filler.unlink()
    assert states(state_dir) == ["pending", "pending", "pending"]  # the refused change left no trace
    assert wayfinder("queue", "cancel", "2", env=env).returncode == 0  # and the file is sound
    assert states(state_dir) == ["pending", "cancelled", "pending"]


def test_a_full_disk_never_leaves_an_empty_state_file_behind(small_fs: Path) -> None:
    state_dir = small_fs / "state"
    state_dir.mkdir()
    fill(small_fs / "filler")
    state_file = state_dir / "state.sqlite3"

    listed = wayfinder("queue", "list", env={"WAYFINDER_STATE_DIR": str(state_dir)})
    assert_one_error_line(listed, state_file, FULL)
    assert os.listdir(state_dir) == []  # an empty state.sqlite3 here would later pass for an empty queue


def test_a_read_only_state_folder_is_one_line(small_fs: Path) -> None:
    state_dir = small_fs / "state"
    populate(state_dir)
    state_file = state_dir / "state.sqlite3"
    before = state_file.read_bytes()
    remounted = _mount("-o", "remount,ro", str(small_fs))
    assert remounted.returncode == 0, remounted.stderr
    env = {"WAYFINDER_STATE_DIR": str(state_dir)}

    assert_one_error_line(wayfinder("queue", "cancel", "1", env=env), state_file, READ_ONLY)
    assert_one_error_line(wayfinder("queue", "run", "--once", env=env), state_file, READ_ONLY)
    assert state_file.read_bytes() == before

    missing_dir = small_fs / "elsewhere" / "state"  # a state folder that cannot even be created
    missing = wayfinder("queue", "list", env={"WAYFINDER_STATE_DIR": str(missing_dir)})
    assert_one_error_line(missing, missing_dir / "state.sqlite3", READ_ONLY)
