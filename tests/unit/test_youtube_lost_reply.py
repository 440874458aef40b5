"""Which uploads-playlist items can be the video of an upload whose reply was lost: the
title as sent, added no earlier than the session began (less the clock allowance), and
not of another file size when YouTube reports one."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from pipeline.youtube.lost_reply import CLOCK_SKEW_S, LostUpload, pick_candidates, same_size

STARTED = datetime(2025, 6, 2, 15, 0, tzinfo=timezone.utc)
LOST = LostUpload(file_name="walk.mp4", title="How to find Radiology", size_bytes=1234, session_started_at=STARTED)


def item(video_id: str, title: str, added: datetime) -> dict:
    stamp = added.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {"snippet": {"title": title, "publishedAt": stamp, "resourceId": {"videoId": video_id}},
            "contentDetails": {"videoId": video_id}}


def test_only_items_with_the_title_added_since_the_session_began_count() -> None:
    allowance = timedelta(seconds=CLOCK_SKEW_S)
    items = [
        item("after", LOST.title, STARTED + timedelta(minutes=3)),
        item("within_allowance", LOST.title, STARTED - allowance + timedelta(seconds=1)),
        item("too_old", LOST.title, STARTED - allowance - timedelta(seconds=1)),
        item("other_title", "How to find Radiology ", STARTED + timedelta(minutes=1)),
        {"snippet": {"title": LOST.title}, "contentDetails": {"videoId": "no_time"}},
    ]
    assert pick_candidates(items, LOST) == ["after", "within_allowance"]


def test_a_reported_size_must_match_but_a_missing_one_does_not_exclude() -> None:
    assert same_size({"fileDetails": {"fileSize": "1234"}}, 1234)
    assert not same_size({"fileDetails": {"fileSize": "999"}}, 1234)
    assert same_size({"snippet": {}}, 1234)  # fileDetails can lag behind the upload
