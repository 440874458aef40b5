"""The queue's daily quota budget: what an item costs, whether today can afford it, and
what is left.

The ledger is the state store's record of every call Wayfinder made (written by
`pipeline.youtube.publish.quota_recorder`), summed per Pacific-time day; the prices come
from the one quota table (`pipeline.youtube.quota`, overridable in `quota.toml`). An
item's planned calls are priced when the runner considers it, so a changed table
applies to items already queued.

Verdicts: `fits`; `wait` (only other runners' uploads in flight make it not fit: try
again when they finish); `defer` (today's spending leaves too little: wait for the
reset at midnight Pacific); `never` (one upload needs more than a whole day allows).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pipeline.youtube.quota import QuotaTable, format_reset, next_reset, quota_day


def price(methods: Iterable[str], table: QuotaTable) -> dict[str, int]:
    """Cost of a list of API calls, per bucket (every bucket present)."""
    return table.total(methods)


@dataclass(frozen=True)
class BudgetVerdict:
    kind: Literal["fits", "wait", "defer", "never"]
    message: str = ""


def judge_budget(need: Mapping[str, int], spent: Mapping[str, int], reserved: Mapping[str, int],
                 limits: Mapping[str, int]) -> BudgetVerdict:
    """Can an upload costing `need` start now, given today's spending and other runners' reservations?"""
    for bucket, limit in limits.items():
        if need.get(bucket, 0) > limit:
            return BudgetVerdict("never", f"this upload needs {need[bucket]} {bucket} of quota, more than the "
                                          f"{limit} a whole day allows (quota.toml daily_limits)")
    for bucket, limit in limits.items():
        used = spent.get(bucket, 0)
        if used + need.get(bucket, 0) > limit:
            return BudgetVerdict("defer", f"quota budget: {used} of {limit} {bucket} already spent today (Pacific time) "
                                          f"and this upload needs {need.get(bucket, 0)}")
    for bucket, limit in limits.items():
        if spent.get(bucket, 0) + reserved.get(bucket, 0) + need.get(bucket, 0) > limit:
            return BudgetVerdict("wait", f"quota budget: uploads in flight have reserved the rest of today's {bucket}")
    return BudgetVerdict("fits")


def add_costs(*costs: Mapping[str, int]) -> dict[str, int]:
    total: dict[str, int] = {}
    for cost in costs:
        for bucket, amount in cost.items():
            total[bucket] = total.get(bucket, 0) + amount
    return total


def quota_status(spent: Mapping[str, int], table: QuotaTable, now: datetime,
                 waiting_need: Mapping[str, int] | None = None) -> dict[str, Any]:
    """Today's usage per bucket, what is left, when it resets, and what waiting items need."""
    buckets = {}
    for bucket, limit in table.daily_limits.items():
        used = spent.get(bucket, 0)
        buckets[bucket] = {"used": used, "limit": limit, "left": max(0, limit - used)}
    status: dict[str, Any] = {
        "day": quota_day(now).isoformat(),
        "buckets": buckets,
        "resets_at": next_reset(now).isoformat(),
        "resets": format_reset(now),
    }
    if waiting_need is not None:
        status["waiting_items_need"] = {bucket: waiting_need.get(bucket, 0) for bucket in table.daily_limits}
    return status


def format_quota_line(status: Mapping[str, Any]) -> str:
    """'quota today (2025-03-10, Pacific): uploads 3 of 100 used, 97 left; units ...; resets ...'"""
    parts = [f"{name} {b['used']:,} of {b['limit']:,} used, {b['left']:,} left" for name, b in status["buckets"].items()]
    return f"quota today ({status['day']}, Pacific time): " + "; ".join(parts) + f"; resets {status['resets']}"
