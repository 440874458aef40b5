"""The quota table (YouTube's published costs) and the midnight-Pacific reset."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pipeline.errors import ConfigError
from pipeline.youtube.quota import QuotaTable, format_reset, load_quota_table, next_reset, quota_day

PACIFIC = ZoneInfo("America/Los_Angeles")


def test_published_costs_and_buckets() -> None:
    table = QuotaTable()
    assert table.cost("videos.insert") == ("uploads", 1)
    assert table.cost("thumbnails.set") == ("units", 50)
    assert table.cost("captions.insert") == ("units", 400)
    assert table.cost("playlistItems.insert") == ("units", 50)
    assert table.cost("playlists.insert") == ("units", 50)
    assert table.cost("playlists.list") == ("units", 1)
    assert table.daily_limits == {"uploads": 100, "units": 10_000}


def test_total_of_a_full_upload() -> None:
    total = QuotaTable().total(["videos.insert", "thumbnails.set", "captions.insert", "playlistItems.insert"])
    assert total == {"uploads": 1, "units": 500}


def test_reset_is_next_midnight_pacific_in_winter_and_summer() -> None:
    winter = datetime(2025, 1, 15, 7, 59, tzinfo=timezone.utc)  # 23:59 PST on the 14th
    assert next_reset(winter) == datetime(2025, 1, 15, 0, 0, tzinfo=PACIFIC)
    assert next_reset(winter).astimezone(timezone.utc) == datetime(2025, 1, 15, 8, 0, tzinfo=timezone.utc)
    summer = datetime(2025, 7, 1, 7, 0, tzinfo=timezone.utc)  # 00:00 PDT on July 1: just reset
    assert next_reset(summer).astimezone(timezone.utc) == datetime(2025, 7, 2, 7, 0, tzinfo=timezone.utc)


def test_reset_on_the_day_clocks_change() -> None:
    # 2025-03-09 is 23 hours long in Los Angeles; the next reset is still local midnight.
    during = datetime(2025, 3, 9, 12, 0, tzinfo=timezone.utc)
    assert next_reset(during).astimezone(timezone.utc) == datetime(2025, 3, 10, 7, 0, tzinfo=timezone.utc)


def test_quota_day_is_the_pacific_date() -> None:
    assert str(quota_day(datetime(2025, 1, 15, 7, 59, tzinfo=timezone.utc))) == "2025-01-14"
    assert str(quota_day(datetime(2025, 1, 15, 8, 0, tzinfo=timezone.utc))) == "2025-01-15"


def test_format_reset_says_when_and_how_long() -> None:
    text = format_reset(datetime(2025, 1, 15, 3, 30, tzinfo=timezone.utc))  # 19:30 PST
    assert text == "2025-01-15 00:00 PST, in 4 h 30 min"


def test_user_overrides(tmp_path: Path) -> None:
    path = tmp_path / "quota.toml"
    path.write_text('[costs]\n"captions.insert" = 200\n[daily_limits]\nunits = 50000\n')
    table = load_quota_table(path)
    assert table.cost("captions.insert") == ("units", 200)
    assert table.cost("videos.insert") == ("uploads", 1)
    assert table.daily_limits == {"uploads": 100, "units": 50000}


def test_bad_overrides_list_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "quota.toml"
    path.write_text('[costs]\n"captions.insert" = "lots"\n[daily_limits]\nwidgets = 3\nunits = 0\n[extra]\n')
    with pytest.raises(ConfigError) as caught:
        load_quota_table(path)
    assert len(caught.value.problems) == 4


def test_no_file_means_defaults(tmp_path: Path) -> None:
    assert load_quota_table(tmp_path / "none.toml") == QuotaTable()
