"""One render per output file at a time, on this machine.

Two renders of the same output (a batch started again while the first still runs, a
cron job that overlaps itself, a producer rendering by hand beside a batch) would write
the same hidden partial file and could ship a mix of both. Each render holds an OS lock
named after its output's absolute path for as long as it writes; the second one stops at
once with a clear error, and in a batch the other jobs go on.

The locks are empty files in the state folder (`locks/outputs/`); they are not removed
after use, because removing a lock file another process may be opening races with it.
Renders on different machines (Dask workers) writing to one shared folder are not
covered: the batch refuses duplicate outputs within one manifest, and that is all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from pipeline.errors import OutputError
from pipeline.paths import state_dir
from pipeline.state import LockBusy, exclusive_lock


def lock_path_for(output_path: Path) -> Path:
    key = hashlib.sha256(str(output_path.resolve()).encode("utf-8", "surrogateescape")).hexdigest()[:32]
    return state_dir() / "locks" / "outputs" / f"{key}.lock"


@contextmanager
def output_lock(output_path: Path) -> Iterator[None]:
    """Held while `output_path` is rendered; OutputError if another render holds it."""
    with ExitStack() as held:
        try:
            held.enter_context(exclusive_lock(lock_path_for(output_path)))
        except LockBusy:
            raise OutputError(
                "another Wayfinder render is writing this output right now; wait for it or pick another output path",
                file=output_path,
            ) from None
        yield
