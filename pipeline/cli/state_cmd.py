"""`wayfinder state check|backups|backup|restore`: look after the state database (upload
ledger, resumable sessions, quota spent, the queue): check it for damage, list and take
backups, and put a backup back in place of a damaged file (a thin shell over
pipeline.state_file and pipeline.state_backup)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from pipeline.cli.app import handle_errors
from pipeline.cli.console import out_console
from pipeline.errors import StateError, UsageError

state_app = typer.Typer(
    name="state",
    help="The state database (upload ledger, sessions, queue): check it, list or take backups, restore one.",
    no_args_is_help=True,
)


def _state_path() -> Path:
    from pipeline.paths import state_dir
    from pipeline.state import STATE_FILE_NAME

    return state_dir() / STATE_FILE_NAME


def _say(message: str) -> None:
    out_console.print(message, highlight=False, markup=False, soft_wrap=True)


def _local(moment: object) -> str:
    from datetime import datetime

    assert isinstance(moment, datetime)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


@state_app.command("check")
@handle_errors
def check() -> None:
    """Check the state database for damage (SQLite quick_check); exit 4 naming the problem if damaged."""
    from pipeline.state_backup import list_backups
    from pipeline.state_file import connect_state

    path = _state_path()
    if not path.exists():
        _say(f"{path}: no state database yet (nothing was queued or uploaded with this state folder)")
        return
    connect_state(path, recheck=True).close()
    backups = list_backups(path)
    newest = f", newest {_local(backups[0].taken_at)}" if backups else ""
    _say(f"{path}: ok ({len(backups)} backup{'s' if len(backups) != 1 else ''}{newest})")


@state_app.command("backups")
@handle_errors
def backups(json_out: bool = typer.Option(False, "--json", help="Print the backups as JSON.")) -> None:
    """List the backups of the state database, newest first."""
    from pipeline.state_backup import backups_dir, list_backups

    path = _state_path()
    found = list_backups(path)
    if json_out:
        out_console.out(json.dumps([{"path": str(b.path), "taken_at": b.taken_at.isoformat(),
                                     "size_bytes": b.size_bytes} for b in found], indent=2), highlight=False)
        return
    if not found:
        _say(f"no backups in {backups_dir(path)}")
        return
    table = Table(show_edge=False, pad_edge=False)
    for column in ("taken at", "size", "backup"):
        table.add_column(column, overflow="fold")
    for backup in found:
        table.add_row(_local(backup.taken_at), f"{backup.size_bytes / 1e6:.1f} MB", str(backup.path))
    out_console.print(table)


@state_app.command("backup")
@handle_errors
def backup() -> None:
    """Take a backup of the state database now (one is also taken after every command that changes it)."""
    from pipeline.queue.store import QueueStore

    path = _state_path()
    if not path.exists():
        raise StateError("there is no state database to back up yet", file=path)
    with QueueStore(path) as store:
        written = store.back_up()
    _say(f"backed up to {written}" if written else "backups are turned off (WAYFINDER_STATE_BACKUPS=0)")


@state_app.command("restore")
@handle_errors
def restore(
    source: Path | None = typer.Option(None, "--from", help="Backup file to restore (default: the newest backup that passes its check)."),
    force: bool = typer.Option(False, "--force", help="Replace a state database that is NOT damaged (every change since the backup is lost)."),
) -> None:
    """Put a backup in place of a damaged state database; the damaged file is moved aside, not deleted."""
    from pipeline.queue.lease import live_runners
    from pipeline.queue.store import QueueStore
    from pipeline.state_backup import choose_backup, restore_backup, state_problem

    path = _state_path()
    runners = live_runners(path.parent)
    if runners:
        raise StateError(f"a queue runner is running on this machine (runner {', '.join(runners)}); stop it "
                         "before restoring", file=path)
    problem = state_problem(path)
    if problem is None and not force:
        raise UsageError(f"{path}: the state database passes its check; restoring would drop every change made "
                         "since the backup; add --force to restore anyway")
    chosen = choose_backup(path, source)
    restored = restore_backup(path, chosen)
    with QueueStore(path, recheck=True) as store:
        items = len(store.items())
    _say(f"restored {path} from {restored.backup} ({items} queue item{'s' if items != 1 else ''})")
    for moved in restored.moved_aside:
        _say(f"the previous file is kept as {moved}")
    if items:
        _say("check it with `wayfinder queue list`: items uploaded after this backup was taken may show as not "
             "uploaded yet; the upload record beside each video says which are on YouTube")


def register(app: typer.Typer) -> None:
    app.add_typer(state_app, name="state")
