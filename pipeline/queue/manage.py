"""The producer's hands on queued items: cancel one, or send one back to the queue.

Retrying re-checks the files first: an item that failed because its video changed would
only fail again, so the producer is told to queue the new version instead.
"""

from __future__ import annotations

from pipeline.queue.clock import Clock, clock_from_env
from pipeline.queue.gate import check_files_unchanged
from pipeline.queue.lease import runner_alive
from pipeline.queue.model import QueueError, QueueItem
from pipeline.queue.store import QueueStore


def cancel_item(store: QueueStore, item_id: int, clock: Clock | None = None) -> QueueItem:
    now = (clock or clock_from_env())()
    return store.cancel(item_id, now, alive=lambda runner, host: runner_alive(store.state_dir, runner, host))


def retry_item(store: QueueStore, item_id: int, clock: Clock | None = None) -> QueueItem:
    now = (clock or clock_from_env())()
    item = store.require(item_id)
    problem = check_files_unchanged(item.snapshot.get("files", {}))
    if problem is not None:
        raise QueueError(f"item {item_id} cannot be retried: {problem} (and cancel this item: "
                         f"`wayfinder queue cancel {item_id}`)")
    return store.retry(item_id, now)
