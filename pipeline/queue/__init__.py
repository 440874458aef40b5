"""The scheduled upload queue: crash-safe SQLite items, quota budgeting, publish times, a QA gate.

Modules, one job each:

- `model`: states, the item record, how times are stored.
- `clock`: what time it is (injectable: `WAYFINDER_FAKE_NOW`), how users write times.
- `store`: the tables in the state database; every change one transaction; leases.
- `lease`: runner identity, and proof that a lease holder on this machine is dead.
- `budget`: pricing planned calls with the quota table; fits today or waits for the reset.
- `snapshot`: the checked upload plan as JSON, and back.
- `add`: `add_item`, the one way into the queue (validates now, stores the snapshot).
- `gate`: the file-changed check and the loudness QA gate before an upload.
- `decide`: what an error means for the item and the run.
- `runner`: taking due items and uploading them with `pipeline.youtube.publish`.

The library entry point for other engines (batch) is `pipeline.queue.add_item`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["add_item"]


def __getattr__(name: str) -> Any:
    # Lazy, so `pipeline.queue.model` and friends import without the publishing stack.
    if name == "add_item":
        from pipeline.queue.add import add_item

        return add_item
    raise AttributeError(f"module 'pipeline.queue' has no attribute {name!r}")
