"""Resumable upload over real HTTP with the real google-api-python-client, against the fake
YouTube server with faults injected. Every run must end with exactly one video whose
content is byte-identical (sha256) to the file, without ever starting over from byte 0.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from youtube_server import FakeYouTube
from youtube_server.cli import REPO, script_command
from youtube_server.fixtures import NAV_VARS, WayfinderEnv, run_wayfinder

from tests.waiting import EVENT_TIMEOUT_S, wait_until

CHUNK_BYTES = 256 * 1024


def upload_args(video: Path, *extra: str) -> list[str]:
    return ["upload", str(video), "--template", "navigation", *NAV_VARS, "--skip-qa", "--chunk-kib", "256", *extra]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_one_identical_video(server: FakeYouTube, video: Path) -> str:
    assert len(server.videos) == 1, f"expected exactly one video, got {len(server.videos)}"
    [video_id] = server.videos
    assert server.sha256_of_video(video_id) == sha256(video)
    return video_id


def assert_never_restarted(server: FakeYouTube) -> None:
    starts = server.chunk_starts()
    assert starts.count(0) == 1, f"the upload restarted from byte 0: {starts}"
    assert len(server.requests("upload_start")) == 1, "a second session was created"


def test_clean_upload_sends_256_kib_multiples_and_writes_a_record(wf: WayfinderEnv, video: Path) -> None:
    result = run_wayfinder(*upload_args(video))
    assert result.exit_code == 0, result.output
    video_id = assert_one_identical_video(wf.server, video)
    assert_never_restarted(wf.server)
    puts = [e.detail for e in wf.server.requests("upload_put") if e.detail.get("kind") == "chunk"]
    size = video.stat().st_size
    assert len(puts) == -(-size // CHUNK_BYTES)
    assert all((p["end"] - p["start"] + 1) == CHUNK_BYTES for p in puts[:-1])
    record = json.loads((video.parent / "walkthrough.mp4.youtube.json").read_text())
    assert record["video_id"] == video_id and record["url"] == f"https://www.youtube.com/watch?v={video_id}"
    assert record["file"]["sha256"] == sha256(video) and record["file"]["size_bytes"] == size
    assert record["request"]["body"]["snippet"]["title"] == "How to find Cardiology Clinic – North Tower, floor 3"
    assert record["request"]["body"]["status"]["privacyStatus"] == "private"
    assert wf.server.videos[video_id]["snippet"]["title"] == record["request"]["body"]["snippet"]["title"]
    assert "qa" in record
    assert video_id in result.stdout


def test_503_on_a_chunk_is_retried_from_the_servers_range(wf: WayfinderEnv, video: Path) -> None:
    wf.server.add_fault("chunk", status=503, at_or_after_bytes=4 * CHUNK_BYTES)
    result = run_wayfinder(*upload_args(video))
    assert result.exit_code == 0, result.output
    assert_one_identical_video(wf.server, video)
    assert_never_restarted(wf.server)
    log = wf.server.requests("upload_put")
    failed = next(i for i, e in enumerate(log) if e.detail.get("fault") == "backendError")
    assert log[failed].status == 503 and log[failed].detail["start"] == 4 * CHUNK_BYTES
    # The next request asks what the server holds, then sending continues from exactly there.
    assert log[failed + 1].detail["kind"] == "query"
    assert log[failed + 2].detail["start"] == 4 * CHUNK_BYTES
    assert "503" in result.stderr


def test_connection_reset_mid_chunk_resumes_from_what_was_kept(wf: WayfinderEnv, video: Path) -> None:
    # 1 MiB chunks, reset after half of the chunk at 1 MiB: the server keeps 512 KiB of it.
    wf.server.add_fault("chunk", "reset", at_or_after_bytes=1024 * 1024)
    result = run_wayfinder(*upload_args(video)[:-2], "--chunk-kib", "1024")
    assert result.exit_code == 0, result.output
    assert_one_identical_video(wf.server, video)
    assert_never_restarted(wf.server)
    log = wf.server.requests("upload_put")
    reset = next(i for i, e in enumerate(log) if e.detail.get("fault") == "reset")
    assert log[reset + 1].detail["kind"] == "query" and log[reset + 1].detail["received"] == 1024 * 1024 + 512 * 1024
    assert log[reset + 2].detail["start"] == 1024 * 1024 + 512 * 1024


def test_dropped_connection_after_the_last_chunk_finds_the_video(wf: WayfinderEnv, video: Path) -> None:
    wf.server.add_fault("final_chunk", "drop")
    result = run_wayfinder(*upload_args(video))
    assert result.exit_code == 0, result.output
    video_id = assert_one_identical_video(wf.server, video)
    assert_never_restarted(wf.server)
    log = wf.server.requests("upload_put")
    assert log[-1].detail == {"kind": "query", "complete": True}
    assert json.loads((video.parent / "walkthrough.mp4.youtube.json").read_text())["video_id"] == video_id


def test_rate_limit_on_a_chunk_backs_off_and_finishes(wf: WayfinderEnv, video: Path) -> None:
    wf.server.add_fault("chunk", status=403, reason="rateLimitExceeded", at_or_after_bytes=CHUNK_BYTES, times=2)
    result = run_wayfinder(*upload_args(video))
    assert result.exit_code == 0, result.output
    assert_one_identical_video(wf.server, video)
    assert "rateLimitExceeded" in result.stderr


def test_giving_up_keeps_the_session_and_the_next_run_resumes(wf: WayfinderEnv, video: Path) -> None:
    wf.server.add_fault("chunk", status=503, at_or_after_bytes=2 * CHUNK_BYTES, times=3)
    first = run_wayfinder(*upload_args(video, "--retries", "3"))
    assert first.exit_code == 1 and "503" in first.stderr
    assert wf.server.videos == {} and wf.server.received_bytes() == 2 * CHUNK_BYTES
    second = run_wayfinder(*upload_args(video))
    assert second.exit_code == 0, second.output
    assert_one_identical_video(wf.server, video)
    assert_never_restarted(wf.server)
    assert "resuming the unfinished upload at 0.5 MiB" in second.stderr


def test_expired_session_starts_a_new_one_once(wf: WayfinderEnv, video: Path) -> None:
    wf.server.add_fault("chunk", status=503, at_or_after_bytes=2 * CHUNK_BYTES, times=1)
    first = run_wayfinder(*upload_args(video, "--retries", "1"))
    assert first.exit_code == 1
    wf.server.sessions.clear()  # the session expired on the server's side
    second = run_wayfinder(*upload_args(video))
    assert second.exit_code == 0, second.output
    assert_one_identical_video(wf.server, video)
    assert len(wf.server.requests("upload_start")) == 2
    assert "expired" in second.stderr


def test_process_killed_mid_upload_is_resumed_by_a_new_process(wf: WayfinderEnv, video: Path) -> None:
    wf.server.chunk_delay_s = 0.15  # slow enough to kill it part way
    env = {**os.environ, **wf.env(), "PYTHONPATH": str(REPO)}
    first = subprocess.Popen(script_command(*upload_args(video)), env=env, cwd=REPO,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        def got_going() -> bool:
            assert first.poll() is None, first.communicate()
            return wf.server.received_bytes() >= 4 * CHUNK_BYTES

        wait_until(got_going, "the upload to get going")
        first.send_signal(signal.SIGKILL)
    finally:
        first.wait(timeout=EVENT_TIMEOUT_S)
    assert first.returncode == -signal.SIGKILL
    wf.server.wait_idle()  # let the server finish with a chunk that was in flight
    held = wf.server.received_bytes()
    chunks_before = len(wf.server.chunk_starts())
    assert 4 * CHUNK_BYTES <= held < video.stat().st_size and wf.server.videos == {}

    wf.server.chunk_delay_s = 0.0
    second = subprocess.run(script_command(*upload_args(video)), env=env, cwd=REPO, capture_output=True,
                            text=True, timeout=600)
    assert second.returncode == 0, second.stderr
    assert_one_identical_video(wf.server, video)
    assert_never_restarted(wf.server)
    queries = [e for e in wf.server.requests("upload_put") if e.detail.get("kind") == "query"]
    assert queries and queries[0].detail["received"] == held
    assert wf.server.chunk_starts()[chunks_before] == held  # the new process went on from there
    assert "resuming the unfinished upload" in second.stderr


@pytest.mark.parametrize("again", [False, True])
def test_same_file_again_is_not_a_duplicate_unless_asked(wf: WayfinderEnv, video: Path, again: bool) -> None:
    assert run_wayfinder(*upload_args(video)).exit_code == 0
    [first_id] = wf.server.videos
    second = run_wayfinder(*upload_args(video, *(["--again"] if again else [])))
    assert second.exit_code == 0, second.output
    if again:
        assert len(wf.server.videos) == 2
        record = json.loads((video.parent / "walkthrough.mp4.youtube.json").read_text())
        assert record["video_id"] != first_id and record["previous"][0]["video_id"] == first_id
    else:
        assert list(wf.server.videos) == [first_id] and len(wf.server.requests("upload_start")) == 1
        assert f"already on YouTube as https://www.youtube.com/watch?v={first_id}" in second.stderr
        assert "--again" in second.stderr


def test_a_second_process_uploading_the_same_file_is_refused(wf: WayfinderEnv, video: Path) -> None:
    from pipeline.state import StateStore

    # Hold the lock the way a running upload of this file to this channel does.
    with StateStore.open(wf.state_dir) as store:
        content = store.file_sha256(video)
        name = "upload-" + hashlib.sha256(f"{content}:{wf.server.channel['id']}".encode()).hexdigest()[:32]
        with store.exclusive(name):
            busy = run_wayfinder(*upload_args(video))
    assert busy.exit_code == 1 and "another Wayfinder process is uploading walkthrough.mp4" in busy.stderr
    assert wf.server.requests("upload_start") == []
    assert run_wayfinder(*upload_args(video)).exit_code == 0  # released: the next run goes ahead
    assert_one_identical_video(wf.server, video)
