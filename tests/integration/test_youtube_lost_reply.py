"""The reply to the last chunk is lost and the session is then forgotten (404 or 410):
the server holds the whole file as a video, and the client never heard. Whether the next
try is in the same process or a new one, Wayfinder must find that video on the channel
and adopt it (exactly one video, the record naming it), or, when it cannot tell, stop
without uploading again and name the likely video."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from youtube_server import FakeYouTube
from youtube_server.cli import REPO, script_command
from youtube_server.fixtures import NAV_VARS, WayfinderEnv, run_wayfinder

TITLE = "How to find Cardiology Clinic – North Tower, floor 3"  # the navigation template with NAV_VARS
SRT = "1\n00:00:01,000 --> 00:00:04,000\nTake the lift to floor 3.\n"


def upload_args(video: Path, *extra: str) -> list[str]:
    return ["upload", str(video), "--template", "navigation", *NAV_VARS, "--skip-qa", "--chunk-kib", "256", *extra]


def record_of(video: Path) -> dict:
    return json.loads((video.parent / "walkthrough.mp4.youtube.json").read_text())


def only_video(server: FakeYouTube) -> str:
    assert len(server.videos) == 1, f"expected exactly one video, got {sorted(server.videos)}"
    [video_id] = server.videos
    return video_id


@pytest.mark.parametrize("gone_status", [404, 410])
def test_same_process_finds_the_video_instead_of_uploading_again(wf: WayfinderEnv, video: Path,
                                                                 gone_status: int) -> None:
    wf.server.add_fault("final_chunk", "drop_forget", status=gone_status)
    captions = video.with_name("walkthrough.srt")
    captions.write_text(SRT, encoding="utf-8")
    result = run_wayfinder(*upload_args(video, "--captions", str(captions)))
    assert result.exit_code == 0, result.output
    video_id = only_video(wf.server)
    assert len(wf.server.requests("upload_start")) == 1, "a second upload session was started"
    gone = [e for e in wf.server.requests("upload_put") if e.detail.get("kind") == "unknown"]
    assert gone and gone[0].status == gone_status  # the status query met the forgotten session
    assert wf.server.requests("uploads_list"), "the channel's uploads were not searched"
    record = record_of(video)
    assert record["video_id"] == video_id and record["transfer"]["adopted"]
    # The rest of publishing ran on the adopted video.
    assert [c["snippet"]["videoId"] for c in wf.server.captions] == [video_id]
    assert f"found on YouTube: https://www.youtube.com/watch?v={video_id}" in result.stdout


@pytest.mark.parametrize("gone_status", [404, 410])
def test_next_process_finds_the_video_after_the_first_ran_out_of_retries(wf: WayfinderEnv, video: Path,
                                                                         gone_status: int) -> None:
    wf.server.add_fault("final_chunk", "drop_forget", status=gone_status)
    env = {**os.environ, **wf.env(), "PYTHONPATH": str(REPO)}
    first = subprocess.run(script_command(*upload_args(video, "--retries", "1")), env=env, cwd=REPO,
                           capture_output=True, text=True, timeout=180)
    assert first.returncode == 1, first.stderr
    video_id = only_video(wf.server)  # the server has it; the first process never heard
    assert not (video.parent / "walkthrough.mp4.youtube.json").exists()

    second = subprocess.run(script_command(*upload_args(video)), env=env, cwd=REPO, capture_output=True, text=True,
                            timeout=180)
    assert second.returncode == 0, second.stderr
    assert only_video(wf.server) == video_id
    assert len(wf.server.requests("upload_start")) == 1, "the second process started a new upload"
    assert wf.server.chunk_starts().count(0) == 1
    assert record_of(video)["video_id"] == video_id
    # A third run knows it from the ledger: nothing more is sent.
    third = run_wayfinder(*upload_args(video))
    assert third.exit_code == 0 and f"already on YouTube as https://www.youtube.com/watch?v={video_id}" in third.stderr
    assert len(wf.server.videos) == 1


def test_two_candidates_stop_with_the_likely_id_and_adopt_settles_it(wf: WayfinderEnv, video: Path) -> None:
    # Someone uploaded the same file with the same title through YouTube Studio meanwhile.
    other = wf.server.add_video(TITLE, video.read_bytes())
    wf.server.add_fault("final_chunk", "drop_forget", status=404)
    stopped = run_wayfinder(*upload_args(video))
    assert stopped.exit_code == 1, stopped.output
    assert len(wf.server.videos) == 2 and len(wf.server.requests("upload_start")) == 1  # nothing sent twice
    [created] = [v for v in wf.server.videos if v != other]
    lines = [line for line in stopped.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, stopped.stderr
    line = lines[0]
    assert "walkthrough.mp4" in line and "reply was lost" in line
    assert created in line and other in line and "--adopt" in line and "--again" in line
    assert not (video.parent / "walkthrough.mp4.youtube.json").exists()

    # Running it again stops the same way: the fact that every byte was sent is kept.
    again = run_wayfinder(*upload_args(video))
    assert again.exit_code == 1 and len(wf.server.requests("upload_start")) == 1

    adopted = run_wayfinder(*upload_args(video, "--adopt", created))
    assert adopted.exit_code == 0, adopted.output
    assert len(wf.server.videos) == 2 and len(wf.server.requests("upload_start")) == 1
    assert record_of(video)["video_id"] == created
    after = run_wayfinder(*upload_args(video))
    assert after.exit_code == 0 and f"already on YouTube as https://www.youtube.com/watch?v={created}" in after.stderr


def test_no_video_found_stops_and_again_uploads_anew(wf: WayfinderEnv, video: Path) -> None:
    wf.server.add_fault("final_chunk", "drop_forget", status=410)
    wf.server.add_fault("playlist_items_list", status=500, times=100)  # the lookup itself keeps failing
    stopped = run_wayfinder(*upload_args(video, "--retries", "2"))
    assert stopped.exit_code == 1
    assert "walkthrough.mp4" in stopped.stderr and "looking for the video failed" in stopped.stderr
    assert len(wf.server.videos) == 1 and len(wf.server.requests("upload_start")) == 1
    anew = run_wayfinder(*upload_args(video, "--again"))
    assert anew.exit_code == 0, anew.output
    assert len(wf.server.requests("upload_start")) == 2 and len(wf.server.videos) == 2


def test_adopt_refuses_a_video_that_is_not_on_the_channel(wf: WayfinderEnv, video: Path) -> None:
    result = run_wayfinder(*upload_args(video, "--adopt", "nosuchvideo"))
    assert result.exit_code == 2 and "--adopt nosuchvideo" in result.stderr
    assert wf.server.videos == {} and wf.server.requests("upload_start") == []


def test_the_queue_adopts_the_video_or_fails_the_item_naming_it(wf: WayfinderEnv, tmp_path: Path) -> None:
    from tests.integration.test_queue_support import FAST_RUN, items, nav_args, random_video, title_for, wayfinder

    found = random_video(tmp_path / "media" / "found.mp4", 3 * 256 * 1024, 1)
    unclear = random_video(tmp_path / "media" / "unclear.mp4", 3 * 256 * 1024, 2)
    assert wayfinder("queue", "add", found, *nav_args("A"), "--skip-qa", "--priority", "1").exit_code == 0
    assert wayfinder("queue", "add", unclear, *nav_args("B"), "--skip-qa").exit_code == 0
    other = wf.server.add_video(title_for("B"), unclear.read_bytes())  # uploaded by hand meanwhile
    wf.server.add_fault("final_chunk", "drop_forget", status=410, times=2)

    run = wayfinder("queue", "run", "--once", *FAST_RUN)
    assert run.exit_code == 1, run.output  # one item failed
    assert len(wf.server.requests("upload_start")) == 2 and len(wf.server.videos) == 3
    by_video = {Path(item["video"]).name: item for item in items()}
    adopted = by_video["found.mp4"]
    assert adopted["state"] in {"processing", "done"} and adopted["video_id"] in wf.server.videos
    assert wf.server.videos[adopted["video_id"]]["snippet"]["title"] == title_for("A")
    stopped = by_video["unclear.mp4"]
    [created] = set(wf.server.videos) - {other, adopted["video_id"]}
    assert stopped["state"] == "failed" and created in stopped["reason"] and "unclear.mp4" in stopped["reason"]

    # Settled by hand as the docs say, then the item finds the video in the ledger.
    settle = run_wayfinder("upload", str(unclear), *nav_args("B"), "--skip-qa", "--adopt", created)
    assert settle.exit_code == 0, settle.output
    assert wayfinder("queue", "retry", str(stopped["id"])).exit_code == 0
    assert wayfinder("queue", "run", "--once", *FAST_RUN).exit_code == 0
    assert {Path(item["video"]).name: item for item in items()}["unclear.mp4"]["video_id"] == created
    assert len(wf.server.requests("upload_start")) == 2 and len(wf.server.videos) == 3
