"""The upload record beside a file (`VIDEO.youtube.json`) is consulted before uploading it:
a file already on the channel is not uploaded again when the state database was lost or
recreated, by `wayfinder upload` or by the queue; `--again` still uploads it on purpose."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.integration.test_queue_support import FAST_RUN, items, nav_args, random_video, wayfinder
from youtube_server.fixtures import NAV_VARS, WayfinderEnv, run_wayfinder

SRT = "1\n00:00:01,000 --> 00:00:04,000\nTake the lift to floor 3.\n"


def upload_args(video: Path, *extra: str) -> list[str]:
    return ["upload", str(video), "--template", "navigation", *NAV_VARS, "--skip-qa", "--chunk-kib", "256", *extra]


def record_of(video: Path) -> dict:
    return json.loads(video.with_name(video.name + ".youtube.json").read_text())


def test_upload_after_the_state_database_was_lost_finds_the_record(wf: WayfinderEnv, video: Path) -> None:
    captions = video.with_name("walkthrough.srt")
    captions.write_text(SRT, encoding="utf-8")
    first = run_wayfinder(*upload_args(video, "--captions", str(captions)))
    assert first.exit_code == 0, first.output
    [video_id] = wf.server.videos
    shutil.rmtree(wf.state_dir)  # the state database is gone; the record beside the file is not

    second = run_wayfinder(*upload_args(video, "--captions", str(captions)))
    assert second.exit_code == 0, second.output
    assert list(wf.server.videos) == [video_id] and len(wf.server.requests("upload_start")) == 1
    assert len(wf.server.captions) == 1, "the captions the record says were added were added again"
    assert f"already on YouTube as https://www.youtube.com/watch?v={video_id}" in second.stderr
    assert "walkthrough.mp4.youtube.json" in second.stderr and "--again" in second.stderr
    assert record_of(video)["video_id"] == video_id

    deliberate = run_wayfinder(*upload_args(video, "--again"))
    assert deliberate.exit_code == 0, deliberate.output
    assert len(wf.server.videos) == 2
    record = record_of(video)
    assert record["video_id"] != video_id and record["previous"][0]["video_id"] == video_id


def test_a_record_of_other_content_is_not_trusted(wf: WayfinderEnv, video: Path) -> None:
    assert run_wayfinder(*upload_args(video)).exit_code == 0
    shutil.rmtree(wf.state_dir)
    with video.open("ab") as stream:  # a new render in the same place: different content
        stream.write(b"\0" * 1024)
    result = run_wayfinder(*upload_args(video))
    assert result.exit_code == 0, result.output
    assert len(wf.server.videos) == 2


def test_the_queue_does_not_upload_again_after_the_state_database_was_lost(wf: WayfinderEnv, tmp_path: Path) -> None:
    video = random_video(tmp_path / "media" / "walk.mp4", 600_000, 7)
    assert wayfinder("queue", "add", video, *nav_args("A"), "--skip-qa").exit_code == 0
    assert wayfinder("queue", "run", "--once", *FAST_RUN).exit_code == 0
    [video_id] = wf.server.videos
    assert record_of(video)["video_id"] == video_id
    shutil.rmtree(wf.state_dir)  # the queue, the ledger and the sessions are gone

    added = wayfinder("queue", "add", video, *nav_args("A"), "--skip-qa")
    assert added.exit_code == 0, added.output
    run = wayfinder("queue", "run", "--once", *FAST_RUN)
    assert run.exit_code == 0, run.output
    assert list(wf.server.videos) == [video_id] and len(wf.server.requests("upload_start")) == 1
    [item] = items()
    assert item["video_id"] == video_id and "already on YouTube" in run.stderr + run.stdout
