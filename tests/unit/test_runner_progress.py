"""Parsing ffmpeg's -progress blocks (pure)."""

from __future__ import annotations

from pipeline.media import parse_progress_block


def test_progress_block_gives_fraction_speed_and_eta() -> None:
    event = parse_progress_block({"out_time_us": "5000000", "speed": "2.50x", "progress": "continue"}, 20.0)
    assert event.out_time_s == 5.0
    assert event.fraction == 0.25
    assert event.speed_x == 2.5
    assert event.eta_s == 6.0  # 15 s of media left at 2.5x
    assert not event.done


def test_progress_block_without_numbers() -> None:
    event = parse_progress_block({"out_time_us": "N/A", "speed": "N/A", "progress": "end"}, None)
    assert event.out_time_s == 0.0 and event.speed_x is None and event.fraction is None and event.done
