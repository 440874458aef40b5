"""`add_item`: validation now (nothing stored on a problem), the snapshot round trip, the
publish-time and quota checks, and refusing the same content twice."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from PIL import Image

from pipeline.errors import ConfigError
from pipeline.queue import add_item
from pipeline.queue.model import QueueError
from pipeline.queue.snapshot import restore_plan
from pipeline.queue.store import QueueStore
from pipeline.youtube.calls import describe_requests
from pipeline.youtube.plan import UploadOverrides, build_upload_plan
from pipeline.youtube.quota import QuotaTable

NOW = datetime(2025, 6, 2, 15, 0, tzinfo=timezone.utc)
NAV = {"location": "Riverside Hospital", "building": "North Tower", "floor": "3", "department": "Cardiology",
       "phone": "555-0100"}


def write_tiny_video(path: Path, seed: int) -> Path:
    """1 s of 64x64 noise at 25 fps (MPEG-4 Part 2, written by PyAV): media `queue add` will
    probe, different content for each seed."""
    import av
    import numpy as np

    rng = np.random.default_rng(seed)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for _ in range(25):
            frame = av.VideoFrame.from_ndarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


@pytest.fixture
def video(tmp_path: Path) -> Path:
    path = tmp_path / "media" / "walkthrough.mp4"
    path.parent.mkdir()
    return write_tiny_video(path, int.from_bytes(os.urandom(4), "big"))


def add(video: Path, state_dir: Path, **kwargs: object) -> int:
    arguments: dict[str, object] = {"job": None, "template": "navigation", "variables": NAV, "not_before": None,
                                    "publish_at": None, "priority": 0, "skip_qa": True, "clock": lambda: NOW,
                                    "state_dir": state_dir}
    arguments.update(kwargs)
    return add_item(video, **arguments)  # type: ignore[arg-type]


def test_every_metadata_problem_is_reported_and_nothing_is_queued(video: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        add(video, tmp_path / "state", variables={"location": "A<b>"},
            overrides=UploadOverrides(privacy="public"), publish_at=NOW - timedelta(hours=1))
    problems = "\n".join(caught.value.problems)
    assert "variable 'building' is not defined" in problems and "publish_at" in problems
    with QueueStore.open(tmp_path / "state") as store:
        assert store.items() == []


def test_the_snapshot_restores_the_plan_that_was_checked(video: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(video.parent)
    Image.new("RGB", (1280, 720), "navy").save(video.parent / "thumb.png")
    overrides = UploadOverrides(privacy="private", thumbnail="thumb.png", consent_forms=("release-014.pdf",),
                                made_for_kids=False, playlist="Wayfinding")
    publish_at = datetime(2025, 6, 9, 9, 0, tzinfo=timezone(timedelta(hours=-5)))
    item_id = add(Path("walkthrough.mp4"), tmp_path / "state", overrides=overrides, publish_at=publish_at,
                  priority=3)
    expected = build_upload_plan(Path("walkthrough.mp4"), overrides=UploadOverrides(
        template="navigation", variables=NAV, privacy="private", thumbnail="thumb.png",
        consent_forms=("release-014.pdf",), made_for_kids=False, playlist="Wayfinding",
        publish_at=publish_at.isoformat()), now=NOW)
    monkeypatch.chdir(tmp_path)  # the runner's working folder is not the producer's
    with QueueStore.open(tmp_path / "state") as store:
        item = store.require(item_id)
    restored = restore_plan(item.snapshot)
    assert restored.body == expected.body and restored.metadata_sha256 == expected.metadata_sha256
    assert restored.body["status"]["publishAt"] == item.publish_at == "2025-06-09T14:00:00Z"
    assert restored.video.path == video.resolve() and restored.metadata.thumbnail == (video.parent / "thumb.png").resolve()
    assert restored.metadata.release == expected.metadata.release and restored.metadata.playlist == "Wayfinding"
    def requests(plan: object) -> list[tuple[str, object, object]]:
        described = describe_requests(plan, chunk_size_bytes=262144, cached_playlist_id=None, wait=True,  # type: ignore[arg-type]
                                      table=QuotaTable())
        return [(r["method"], r.get("params"), r.get("body")) for r in described]

    assert requests(restored) == requests(expected)
    assert item.priority == 3 and item.title == "How to find Cardiology – North Tower, floor 3"
    assert set(item.snapshot["files"]) == {"video", "thumbnail"}
    assert item.planned_calls == ("channels.list", "videos.insert", "thumbnails.set", "playlists.list",
                                  "playlists.insert", "playlistItems.insert", "videos.list")


def test_not_before_must_come_before_publish_at(video: Path, tmp_path: Path) -> None:
    publish_at = NOW + timedelta(days=2)
    with pytest.raises(ConfigError) as caught:
        add(video, tmp_path / "state", publish_at=publish_at, not_before=publish_at + timedelta(minutes=1))
    assert "not_before" in caught.value.problems[0]
    item_id = add(video, tmp_path / "state", publish_at=publish_at, not_before=NOW + timedelta(days=1))
    with QueueStore.open(tmp_path / "state") as store:
        item = store.require(item_id)
    assert item.due_at == NOW + timedelta(days=1) and item.not_before == NOW + timedelta(days=1)


def test_an_upload_no_day_can_pay_for_is_refused(video: Path, tmp_path: Path) -> None:
    tight = QuotaTable(daily_limits={"uploads": 100, "units": 100})  # the template's playlist alone needs 102
    with pytest.raises(ConfigError, match="more than the 100 a whole day allows"):
        add(video, tmp_path / "state", table=tight)


def test_the_same_content_is_not_queued_twice(video: Path, tmp_path: Path) -> None:
    first = add(video, tmp_path / "state")
    copy = video.with_name("copy.mp4")
    copy.write_bytes(video.read_bytes())
    with pytest.raises(QueueError, match=f"already queued as item {first} \\(pending\\)"):
        add(copy, tmp_path / "state")
    with QueueStore.open(tmp_path / "state") as store:
        store.cancel(first, NOW)
    assert add(copy, tmp_path / "state") == first + 1
