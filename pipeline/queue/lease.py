"""Who a runner is, and whether the runner holding a lease is still alive.

A lease in the database carries an expiry: a runner that died stops renewing it, and
once it expires any runner may take the item (and resumes its upload session). Waiting
out the expiry is the only safe rule across machines. On the same machine we can know
sooner: each runner holds an OS lock on `<state dir>/locks/queue-runner-<id>.lock` for
its whole life, and the OS drops that lock the moment the process dies (even on
SIGKILL). If we can take a lease holder's lock, the holder is dead and its lease is void.
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from pipeline.state_file import os_state_error

LOCK_PREFIX = "queue-runner-"


@dataclass(frozen=True)
class RunnerIdentity:
    id: str
    host: str
    pid: int

    @classmethod
    def new(cls) -> RunnerIdentity:
        return cls(id=secrets.token_hex(8), host=socket.gethostname(), pid=os.getpid())


def _lock_path(state_dir: Path, runner_id: str) -> Path:
    return state_dir / "locks" / f"{LOCK_PREFIX}{runner_id}.lock"


class RunnerLock:
    """Held for a runner's lifetime: proof, to other runners on this machine, that it is alive."""

    def __init__(self, state_dir: Path, identity: RunnerIdentity) -> None:
        self.path = _lock_path(state_dir, identity.id)
        self._fd: int | None = None

    def __enter__(self) -> RunnerLock:
        try:
            import fcntl
        except ImportError:  # not POSIX: leases simply wait for their expiry
            return self
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
        except OSError as error:  # a read-only or full state folder: one line, not a traceback
            raise os_state_error(self.path, error) from error
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a fresh random id: nobody else has it
        self._fd = fd
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._fd is not None:
            self.path.unlink(missing_ok=True)
            os.close(self._fd)
            self._fd = None


def runner_alive(state_dir: Path, runner_id: str, host: str | None) -> bool:
    """False only when we can prove the runner is gone; True when it is alive or we cannot tell."""
    if host != socket.gethostname():
        return True  # another machine's runner: only its lease expiry can tell
    try:
        import fcntl
    except ImportError:
        return True
    path = _lock_path(state_dir, runner_id)
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return False  # a runner removes its lock file only after releasing its leases, or never had one
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        path.unlink(missing_ok=True)  # the dead runner's file; nobody will hold it again
        return False
    finally:
        os.close(fd)


def live_runners(state_dir: Path) -> list[str]:
    """Ids of the runners alive on this machine now (each holds its lock file)."""
    folder = state_dir / "locks"
    try:
        names = sorted(p.name for p in folder.iterdir() if p.name.startswith(LOCK_PREFIX) and p.suffix == ".lock")
    except OSError:
        return []
    host = socket.gethostname()
    return [runner_id for runner_id in (name[len(LOCK_PREFIX):-len(".lock")] for name in names)
            if runner_alive(state_dir, runner_id, host)]
