"""What the user sees when YouTube refuses: documented messages and exit codes, over real HTTP."""

from __future__ import annotations

import json
from pathlib import Path

from youtube_server.fixtures import NAV_VARS, WayfinderEnv, run_wayfinder


def upload(video: Path, *extra: str) -> list[str]:
    return ["upload", str(video), "--template", "navigation", *NAV_VARS, "--skip-qa", "--chunk-kib", "256", *extra]


def error_line(stderr: str) -> str:
    return next(line for line in stderr.splitlines() if line.startswith("error:"))


def test_quota_exceeded_stops_says_when_it_resets_and_exits_4(wf: WayfinderEnv, video: Path) -> None:
    wf.server.add_fault("initiate", status=403, reason="quotaExceeded")
    result = run_wayfinder(*upload(video))
    assert result.exit_code == 4
    line = error_line(result.stderr)
    assert "YouTube quota exceeded" in line and "midnight Pacific time" in line
    assert "<a href" not in result.stderr  # YouTube's HTML is not shown raw
    assert wf.server.videos == {} and wf.server.chunk_starts() == []
    assert len(wf.server.requests("upload_start")) == 1  # not retried


def test_upload_limit_says_wait_about_a_day_and_exits_4(wf: WayfinderEnv, video: Path) -> None:
    wf.server.add_fault("initiate", status=400, reason="uploadLimitExceeded")
    result = run_wayfinder(*upload(video))
    assert result.exit_code == 4
    assert "upload limit" in error_line(result.stderr) and "about a day" in error_line(result.stderr)
    assert len(wf.server.requests("upload_start")) == 1


def test_invalid_title_from_youtube_names_the_field_and_exits_3(wf: WayfinderEnv, video: Path) -> None:
    # Our checks pass this title; YouTube can still refuse (its rules change): the field is named.
    wf.server.add_fault("initiate", status=400, reason="invalidTitle")
    result = run_wayfinder(*upload(video))
    assert result.exit_code == 3
    assert "title" in error_line(result.stderr) and "invalidTitle" in result.stderr
    assert wf.server.chunk_starts() == []


def test_revoked_authorization_says_run_auth_login_and_exits_4(wf: WayfinderEnv, video: Path) -> None:
    wf.server.expire_access_tokens()
    wf.server.add_fault("token", status=400, reason="invalid_grant", times=5)
    result = run_wayfinder(*upload(video))
    assert result.exit_code == 4
    assert "wayfinder auth login" in error_line(result.stderr)
    for secret in (wf.credentials_info["refresh_token"], wf.credentials_info["client_secret"],
                   wf.credentials_info["token"]):
        assert secret not in result.output


def test_missing_credentials_exit_4_before_any_request(wf: WayfinderEnv, video: Path) -> None:
    wf.credentials.unlink()
    result = run_wayfinder(*upload(video))
    assert result.exit_code == 4 and "wayfinder auth login" in result.stderr
    assert wf.server.log == []


def test_a_failed_step_after_the_upload_is_finished_by_the_next_run(wf: WayfinderEnv, video: Path) -> None:
    wf.server.add_fault("thumbnail", status=400, reason="badRequest")
    first = run_wayfinder(*upload(video, "--thumbnail", "auto", "--playlist", "Wayfinding"))
    assert first.exit_code == 1
    assert "thumbnail" in error_line(first.stderr) and "run the same command again" in error_line(first.stderr)
    [video_id] = wf.server.videos
    assert video_id not in wf.server.thumbnails
    assert len(wf.server.playlist_items) == 1  # the other steps still ran
    record = json.loads((video.parent / "walkthrough.mp4.youtube.json").read_text())
    assert "thumbnail" in record["failed_steps"]

    second = run_wayfinder(*upload(video, "--thumbnail", "auto", "--playlist", "Wayfinding"))
    assert second.exit_code == 0, second.output
    assert list(wf.server.videos) == [video_id] and video_id in wf.server.thumbnails
    assert len(wf.server.playlist_items) == 1  # not added twice
    record = json.loads((video.parent / "walkthrough.mp4.youtube.json").read_text())
    assert record["failed_steps"] == {} and record["thumbnail"]["set"] is True
    assert record["playlist"]["done_earlier"] is True


def test_quota_exceeded_on_captions_stops_the_later_steps_and_exits_4(wf: WayfinderEnv, video: Path,
                                                                       tmp_path: Path) -> None:
    captions = tmp_path / "walk.srt"
    captions.write_text("1\n00:00:01,000 --> 00:00:05,000\nHello\n", encoding="utf-8")
    wf.server.add_fault("caption", status=403, reason="quotaExceeded")
    result = run_wayfinder(*upload(video, "--captions", str(captions), "--playlist", "Wayfinding"))
    assert result.exit_code == 4 and "midnight Pacific time" in result.stderr
    assert len(wf.server.videos) == 1 and wf.server.playlist_items == []
    record = json.loads((video.parent / "walkthrough.mp4.youtube.json").read_text())
    assert set(record["failed_steps"]) == {"captions", "playlist"}
