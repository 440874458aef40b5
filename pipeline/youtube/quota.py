"""The one table of YouTube Data API quota costs, and when the quota resets.

Google changes these numbers, so they live here only, and a user can override them in
`<config dir>/quota.toml`:

    [costs]              # API method = units it costs in its bucket
    "captions.insert" = 400
    [daily_limits]       # bucket = what one day allows
    uploads = 100
    units = 10000

`videos.insert` counts in its own daily bucket of calls ("uploads"); every other call
spends units from the shared daily budget ("units"). Both reset at midnight
America/Los_Angeles. The upload queue reuses this table to plan a day's work.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from pipeline.errors import ConfigError
from pipeline.tomlfile import read_toml_file

PACIFIC = ZoneInfo("America/Los_Angeles")

UPLOADS_BUCKET = "uploads"
UNITS_BUCKET = "units"

DEFAULT_COSTS: dict[str, tuple[str, int]] = {
    "videos.insert": (UPLOADS_BUCKET, 1),
    "thumbnails.set": (UNITS_BUCKET, 50),
    "captions.insert": (UNITS_BUCKET, 400),
    "captions.list": (UNITS_BUCKET, 50),
    "playlistItems.insert": (UNITS_BUCKET, 50),
    "playlists.insert": (UNITS_BUCKET, 50),
    "playlists.list": (UNITS_BUCKET, 1),
    "playlistItems.list": (UNITS_BUCKET, 1),
    "videos.list": (UNITS_BUCKET, 1),
    "channels.list": (UNITS_BUCKET, 1),
}
DEFAULT_DAILY_LIMITS: dict[str, int] = {UPLOADS_BUCKET: 100, UNITS_BUCKET: 10_000}


@dataclass(frozen=True)
class QuotaTable:
    """What each API method costs and what a day allows, per bucket."""

    costs: Mapping[str, tuple[str, int]] = field(default_factory=lambda: dict(DEFAULT_COSTS))
    daily_limits: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_DAILY_LIMITS))

    def cost(self, method: str) -> tuple[str, int]:
        """(bucket, cost) of one call; unknown methods are list-like reads costing 1 unit."""
        return self.costs.get(method, (UNITS_BUCKET, 1))

    def total(self, methods: Iterable[str]) -> dict[str, int]:
        """What a sequence of calls costs, per bucket (both buckets always present)."""
        totals = {bucket: 0 for bucket in self.daily_limits}
        for method in methods:
            bucket, cost = self.cost(method)
            totals[bucket] = totals.get(bucket, 0) + cost
        return totals


def load_quota_table(path: Path | None = None) -> QuotaTable:
    """The default table with the user's `quota.toml` overrides applied, if the file exists."""
    if path is None:
        from pipeline.paths import user_config_dir

        path = user_config_dir() / "quota.toml"
    if not path.is_file():
        return QuotaTable()
    data = read_toml_file(path, "quota table")
    problems: list[str] = []
    costs = dict(DEFAULT_COSTS)
    limits = dict(DEFAULT_DAILY_LIMITS)
    for key in data:
        if key not in {"costs", "daily_limits"}:
            problems.append(f"{key}: unknown table (expected [costs] or [daily_limits])")
    for method, units in dict(data.get("costs", {})).items():
        if not isinstance(units, int) or isinstance(units, bool) or units < 0:
            problems.append(f"costs.{method}: must be a whole number of units >= 0")
            continue
        bucket = costs.get(method, (UNITS_BUCKET, 0))[0]
        costs[method] = (bucket, units)
    for bucket, limit in dict(data.get("daily_limits", {})).items():
        if bucket not in DEFAULT_DAILY_LIMITS:
            problems.append(f"daily_limits.{bucket}: unknown bucket (expected uploads or units)")
        elif not isinstance(limit, int) or isinstance(limit, bool) or limit <= 0:
            problems.append(f"daily_limits.{bucket}: must be a whole number > 0")
        else:
            limits[bucket] = limit
    if problems:
        raise ConfigError("the quota table is invalid", problems=problems, file=path)
    return QuotaTable(costs=costs, daily_limits=limits)


def quota_day(now: datetime) -> date:
    """The quota day a moment belongs to: its calendar date in Pacific time."""
    return _aware(now).astimezone(PACIFIC).date()


def next_reset(now: datetime | None = None) -> datetime:
    """The next midnight in America/Los_Angeles after `now` (aware, Pacific time)."""
    local = _aware(now or datetime.now(timezone.utc)).astimezone(PACIFIC)
    tomorrow = local.date() + timedelta(days=1)
    # Built from the date so daylight-saving days (23 or 25 hours) still land on midnight.
    return datetime.combine(tomorrow, time(0, 0), tzinfo=PACIFIC)


def format_reset(now: datetime | None = None) -> str:
    """'2025-03-10 00:00 PDT, in 5 h 12 min' for the next reset after `now`."""
    now = _aware(now or datetime.now(timezone.utc))
    reset = next_reset(now)
    left_s = max(0, int((reset - now).total_seconds()))
    hours, minutes = divmod(left_s // 60, 60)
    return f"{reset:%Y-%m-%d %H:%M %Z}, in {hours} h {minutes:02d} min"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)
