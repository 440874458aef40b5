"""Quota budgeting: pricing planned calls with the (overridable) table, verdicts, and what
`queue list` shows about today's usage."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from pipeline.queue.budget import format_quota_line, judge_budget, price, quota_status
from pipeline.youtube.quota import QuotaTable, load_quota_table

LIMITS = {"uploads": 100, "units": 10_000}


def test_price_uses_the_one_quota_table_and_its_overrides(tmp_path: Path) -> None:
    calls = ["channels.list", "videos.insert", "thumbnails.set", "captions.insert", "videos.list"]
    assert price(calls, QuotaTable()) == {"uploads": 1, "units": 1 + 50 + 400 + 1}
    override = tmp_path / "quota.toml"
    override.write_text('[costs]\n"captions.insert" = 100\n[daily_limits]\nunits = 500\n', encoding="utf-8")
    table = load_quota_table(override)
    assert price(calls, table) == {"uploads": 1, "units": 1 + 50 + 100 + 1}
    assert table.daily_limits["units"] == 500


def test_verdicts() -> None:
    need = {"uploads": 1, "units": 452}
    assert judge_budget(need, {}, {}, LIMITS).kind == "fits"
    assert judge_budget(need, {"uploads": 99, "units": 9_548}, {}, LIMITS).kind == "fits"  # exactly the limit
    over_units = judge_budget(need, {"uploads": 99, "units": 9_549}, {}, LIMITS)
    assert over_units.kind == "defer" and "9549 of 10000 units" in over_units.message and "needs 452" in over_units.message
    assert judge_budget(need, {"uploads": 100}, {}, LIMITS).kind == "defer"
    assert judge_budget(need, {"units": 9_000}, {"units": 600}, LIMITS).kind == "wait"
    never = judge_budget({"uploads": 1, "units": 10_001}, {}, {}, LIMITS)
    assert never.kind == "never" and "more than the 10000" in never.message


def test_status_shows_used_left_reset_and_waiting_need() -> None:
    now = datetime(2025, 3, 9, 7, 30, tzinfo=timezone.utc)  # 23:30 PST on 2025-03-08; DST starts that night
    status = quota_status({"uploads": 3, "units": 1_503}, QuotaTable(), now, {"uploads": 2, "units": 104})
    assert status["day"] == "2025-03-08"
    assert status["buckets"] == {"uploads": {"used": 3, "limit": 100, "left": 97},
                                 "units": {"used": 1_503, "limit": 10_000, "left": 8_497}}
    assert status["resets_at"] == "2025-03-09T00:00:00-08:00"
    assert status["waiting_items_need"] == {"uploads": 2, "units": 104}
    line = format_quota_line(status)
    assert line.startswith("quota today (2025-03-08, Pacific time): uploads 3 of 100 used, 97 left; "
                           "units 1,503 of 10,000 used, 8,497 left; resets 2025-03-09 00:00 PST, in 0 h 30 min")
    spent_out = quota_status({"units": 10_400}, QuotaTable(), now)
    assert spent_out["buckets"]["units"]["left"] == 0
