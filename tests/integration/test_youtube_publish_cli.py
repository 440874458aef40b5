"""`wayfinder upload` end to end: validation before any request, dry runs, policy gates, job
files, thumbnails, captions, playlists and --wait, against the fake server over real HTTP."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from PIL import Image

from youtube_server.fixtures import VIDEO_DURATION_S, WayfinderEnv, run_wayfinder

SRT = """1
00:00:00,500 --> 00:00:04,000
Start at the parking ramp.

2
00:00:04,500 --> 00:00:11,500
Take the lift to floor 3.
"""

JOB = """
preset = "youtube"

[youtube]
template = "navigation"
privacy = "public"
made_for_kids = false
captions = "walk.srt"
thumbnail = "auto"

[youtube.vars]
location = "Riverside Hospital"
building = "North Tower"
floor = 3
department = "Cardiology Clinic"
phone = "555-0100"

[youtube.release]
consent_forms = ["release/2025-014-volunteer.pdf"]
"""


@pytest.fixture
def job(video: Path) -> Path:
    (video.parent / "walk.srt").write_text(SRT, encoding="utf-8")
    path = video.parent / "walkthrough.toml"
    path.write_text(JOB, encoding="utf-8")
    return path


def approve_captions(video: Path, captions: Path) -> None:
    """Record a review of `captions` for `video` (the job is public under require_captions)."""
    from pipeline.captions.approval import approve
    from pipeline.config import load_preset_settings

    approve(video, captions, "Dana Reviewer", load_preset_settings("youtube").captions)


def state_files(state_dir: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(state_dir.rglob("*")) if path.is_file()}


def test_every_bad_field_is_reported_at_once_without_any_request(wf: WayfinderEnv, video: Path) -> None:
    late = video.parent / "late.srt"
    late.write_text("1\n00:00:01,000 --> 00:00:30,000\nToo long for a 12 s video\n", encoding="utf-8")
    tiny = video.parent / "tiny.png"
    Image.new("RGB", (320, 180)).save(tiny)
    bad = video.parent / "bad.toml"
    bad.write_text(f"""
[youtube]
title = "{'Very long title ' * 7}<b>"
description = "{'é' * 2501}"
tags = [{', '.join(['"' + 'tag with space' + str(i) + '"' for i in range(40)])}]
category = 99
privacy = "public"
publish_at = "2020-01-01T00:00:00Z"
captions = "{late.name}"
thumbnail = "{tiny.name}"
default_language = "english"
chapters = [{{ at_s = 5, title = "A" }}, {{ at_s = 8, title = "B" }}]
""", encoding="utf-8")
    wf.credentials.unlink()  # validation comes before credentials are even read
    result = run_wayfinder("upload", str(video), "--job", str(bad))
    assert result.exit_code == 3, result.output
    fields = {line.strip()[2:].split(":")[0] for line in result.stderr.splitlines() if line.startswith("  - ")}
    assert {"title", "description", "tags", "category", "publish_at", "captions", "thumbnail",
            "default_language", "chapters", "chapters[0].at_s"} <= fields
    assert sum("title:" in line for line in result.stderr.splitlines()) == 2  # too long, and < >
    assert "nothing was sent" in result.stderr
    assert wf.server.log == []


def test_unknown_keys_in_the_youtube_table_are_errors(wf: WayfinderEnv, video: Path) -> None:
    bad = video.parent / "typo.toml"
    bad.write_text('[youtube]\ntemplate = "navigation"\ntitel = "x"\n[youtube.release]\nconsent = ["a"]\n')
    result = run_wayfinder("upload", str(video), "--job", str(bad))
    assert result.exit_code == 3
    assert "youtube.titel: unknown key" in result.stderr and "youtube.release.consent: unknown key" in result.stderr
    assert wf.server.log == []


def test_missing_template_variable_is_named(wf: WayfinderEnv, video: Path) -> None:
    result = run_wayfinder("upload", str(video), "--template", "navigation", "--var", "location=X")
    assert result.exit_code == 3
    assert "variable 'department' is not defined" in result.stderr
    assert "title: must not be empty" not in result.stderr  # the cause is named once, not its symptom
    assert wf.server.log == []


def test_neither_job_nor_template_is_a_usage_error(wf: WayfinderEnv, video: Path) -> None:
    assert run_wayfinder("upload", str(video)).exit_code == 2
    assert run_wayfinder("upload", str(video), "--template", "navigation", "--chunk-kib", "100").exit_code == 2


def test_policy_gates_a_public_upload_and_names_each_rule(wf: WayfinderEnv, video: Path) -> None:
    vars_ = ["--var", "location=R", "--var", "building=B", "--var", "floor=1", "--var", "department=D",
             "--var", "phone=1"]
    result = run_wayfinder("upload", str(video), "--template", "navigation", *vars_, "--preset", "youtube",
                           "--privacy", "public", "--dry-run")
    assert result.exit_code == 3
    for rule in ("require_captions", "require_made_for_kids", "require_release"):
        assert rule in result.stderr
    review = run_wayfinder("upload", str(video), "--template", "navigation", *vars_, "--preset", "youtube",
                           "--privacy", "private", "--dry-run")
    assert review.exit_code == 0, review.output  # private review uploads need none of them
    scheduled = run_wayfinder("upload", str(video), "--template", "navigation", *vars_, "--preset", "youtube",
                              "--publish-at", "2099-01-01T09:00:00-08:00", "--dry-run")
    assert scheduled.exit_code == 3 and "scheduled" in scheduled.stderr
    assert wf.server.log == []


def test_dry_run_prints_the_exact_bodies_and_quota_and_sends_nothing(wf: WayfinderEnv, video: Path,
                                                                      job: Path) -> None:
    approve_captions(video, video.parent / "walk.srt")
    state_before = state_files(wf.state_dir)
    result = run_wayfinder("upload", str(video), "--job", str(job), "--dry-run", "--chunk-kib", "512")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    methods = [r["method"] for r in plan["requests"]]
    assert methods == ["channels.list", "videos.insert", "thumbnails.set", "captions.insert", "playlists.list",
                       "playlists.insert", "playlistItems.insert"]
    insert = plan["requests"][1]
    assert insert["body"]["snippet"]["title"] == "How to find Cardiology Clinic – North Tower, floor 3"
    assert insert["body"]["snippet"]["categoryId"] == "27"
    assert insert["body"]["status"] == {"privacyStatus": "public", "selfDeclaredMadeForKids": False,
                                        "license": "youtube", "containsSyntheticMedia": False}
    assert insert["media"]["size_bytes"] == video.stat().st_size and insert["media"]["chunk_size_bytes"] == 512 * 1024
    # channels.list 1 + thumbnails.set 50 + captions.insert 400 + playlistItems.insert 50; videos.insert in its own bucket.
    assert plan["quota"]["cost"] == {"uploads": 1, "units": 501}
    assert plan["quota"]["cost_at_most"] == {"uploads": 1, "units": 552}  # + playlists.list 1, playlists.insert 50
    assert "America/Los_Angeles" in plan["quota"]["resets"]
    assert wf.server.log == []
    assert not (video.parent / "walkthrough.mp4.youtube.json").exists()
    assert state_files(wf.state_dir) == state_before  # the approval was read; nothing was written

def test_job_upload_sets_thumbnail_captions_playlist_and_waits(wf: WayfinderEnv, video: Path, job: Path) -> None:
    wf.server.processing_polls = 2
    approve_captions(video, video.parent / "walk.srt")
    result = run_wayfinder("upload", str(video), "--job", str(job), "--chunk-kib", "256", "--skip-qa", "--wait",
                           "--poll-interval-s", "0.01", "--json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    video_id = record["video_id"]
    server = wf.server
    # Thumbnail: a 1280x720 JPEG picked from the middle of the video.
    data, kind = server.thumbnails[video_id]
    assert kind == "image/jpeg" and Image.open(io.BytesIO(data)).size == (1280, 720)
    assert 0.3 * VIDEO_DURATION_S - 0.1 <= record["thumbnail"]["frame_time_s"] <= 0.7 * VIDEO_DURATION_S + 0.1
    assert (video.parent / "walkthrough.mp4.thumbnail.jpg").read_bytes() == data
    # Captions: the file's bytes, in English, on this video.
    [caption] = server.captions
    assert caption["content"] == SRT.encode() and caption["snippet"]["videoId"] == video_id
    assert caption["snippet"]["language"] == "en"
    # Playlist: created (it did not exist) with the rendered name, and the video added once.
    [playlist] = server.playlists.values()
    assert playlist["snippet"]["title"] == "Riverside Hospital – finding your way"
    assert [i["snippet"]["resourceId"]["videoId"] for i in server.playlist_items] == [video_id]
    assert record["playlist"]["created"] is True
    # --wait polled until processed.
    assert record["processing"] == {"upload_status": "processed", "processing_status": "succeeded", "polls": 3}
    assert "processing: processing" in result.stderr
    # The record on disk matches, and holds the release and policy.
    on_disk = json.loads((video.parent / "walkthrough.mp4.youtube.json").read_text())
    assert on_disk["video_id"] == video_id and on_disk["release"]["consent_forms"] == ["release/2025-014-volunteer.pdf"]
    assert on_disk["policy"]["preset"] == "youtube"


def test_playlist_id_is_cached_and_found_by_name_across_pages(wf: WayfinderEnv, video: Path) -> None:
    server = wf.server
    server.playlist_page_size = 2
    for index in range(5):
        server.playlists[f"PLother{index}"] = {"id": f"PLother{index}", "snippet": {"title": f"Other {index}"}}
    server.playlists["PLwanted"] = {"id": "PLwanted", "snippet": {"title": "Wayfinding"}}
    args = ["upload", str(video), "--template", "navigation", "--var", "location=R", "--var", "building=B",
            "--var", "floor=1", "--var", "department=D", "--var", "phone=1", "--playlist", "Wayfinding",
            "--chunk-kib", "256", "--skip-qa"]
    assert run_wayfinder(*args).exit_code == 0
    assert len(server.requests("playlists_list")) == 3  # 6 playlists, 2 per page
    assert server.requests("playlist_insert") == []     # found, not created
    assert run_wayfinder(*args, "--again").exit_code == 0
    assert len(server.requests("playlists_list")) == 3  # the cached id was used
    assert [i["snippet"]["playlistId"] for i in server.playlist_items] == ["PLwanted", "PLwanted"]


def test_deleted_cached_playlist_is_looked_up_again(wf: WayfinderEnv, video: Path) -> None:
    args = ["upload", str(video), "--template", "navigation", "--var", "location=R", "--var", "building=B",
            "--var", "floor=1", "--var", "department=D", "--var", "phone=1", "--playlist", "Wayfinding",
            "--chunk-kib", "256", "--skip-qa"]
    assert run_wayfinder(*args).exit_code == 0
    wf.server.playlists.clear()  # deleted on YouTube
    result = run_wayfinder(*args, "--again")
    assert result.exit_code == 0, result.output
    assert len(wf.server.requests("playlist_insert")) == 2
    [playlist_id] = wf.server.playlists
    assert wf.server.playlist_items[-1]["snippet"]["playlistId"] == playlist_id


def test_processing_failure_is_reported(wf: WayfinderEnv, video: Path) -> None:
    wf.server.processing_outcome = "failed"
    result = run_wayfinder("upload", str(video), "--template", "navigation", "--var", "location=R", "--var",
                           "building=B", "--var", "floor=1", "--var", "department=D", "--var", "phone=1",
                           "--chunk-kib", "256", "--skip-qa", "--wait", "--poll-interval-s", "0.01")
    assert result.exit_code == 1 and "could not process" in result.stderr
    record = json.loads((video.parent / "walkthrough.mp4.youtube.json").read_text())
    assert "processing" in record["failed_steps"]


def test_warns_before_spending_quota_the_day_does_not_have(wf: WayfinderEnv, video: Path) -> None:
    wf.config_dir.mkdir(exist_ok=True)
    (wf.config_dir / "quota.toml").write_text("[daily_limits]\nuploads = 1\n")
    args = ["upload", str(video), "--template", "navigation", "--var", "location=R", "--var", "building=B",
            "--var", "floor=1", "--var", "department=D", "--var", "phone=1", "--chunk-kib", "256", "--skip-qa"]
    first = run_wayfinder(*args)
    assert first.exit_code == 0 and "quota:" not in first.stderr
    second = run_wayfinder(*args, "--again")
    assert second.exit_code == 0  # a warning, not a refusal: the project may have more quota
    assert "quota: Wayfinder has spent 1 of 1 uploads today" in second.stderr
    assert "PST" in second.stderr or "PDT" in second.stderr


def test_reachable_from_the_wayfinder_command() -> None:
    import subprocess

    repo = Path(__file__).resolve().parents[2]
    upload = subprocess.run([sys.executable, "-m", "pipeline.cli.app", "upload", "--help"], cwd=repo,
                            capture_output=True, text=True, timeout=300)
    assert upload.returncode == 0 and "--dry-run" in upload.stdout, upload.stderr
    auth = subprocess.run([sys.executable, "-m", "pipeline.cli.app", "auth", "--help"], cwd=repo,
                          capture_output=True, text=True, timeout=300)
    assert auth.returncode == 0 and "login" in auth.stdout and "status" in auth.stdout, auth.stderr


NAV_ARGS = ["--template", "navigation", "--var", "location=R", "--var", "building=B", "--var", "floor=1",
            "--var", "department=D", "--var", "phone=1", "--chunk-kib", "256", "--skip-qa"]


def render_report(video_sha256: str, loudness: dict[str, float]) -> str:
    """A render report as pipeline.render writes it: the output's hash, and the loudness
    verified on the encoded file."""
    return json.dumps({
        "input": {},
        "output": {"path": "walkthrough.mp4", "sha256": video_sha256},
        "measurements": {"audio": {"verified": {"output": loudness}}},
    })


def test_record_copies_the_render_reports_loudness(wf: WayfinderEnv, video: Path) -> None:
    import hashlib

    loudness = {"integrated_lufs": -14.1, "true_peak_dbtp": -1.2, "loudness_range_lu": 4.5}
    sha256 = hashlib.sha256(video.read_bytes()).hexdigest()
    (video.parent / "walkthrough.mp4.wayfinder.json").write_text(render_report(sha256, loudness))
    assert run_wayfinder("upload", str(video), *NAV_ARGS).exit_code == 0
    record = json.loads((video.parent / "walkthrough.mp4.youtube.json").read_text())
    assert record["qa"] == {"source": "walkthrough.mp4.wayfinder.json", "loudness": loudness}


def test_a_report_about_other_content_is_not_trusted(wf: WayfinderEnv, video: Path) -> None:
    stale = {"integrated_lufs": -14.0, "true_peak_dbtp": -1.0}
    (video.parent / "walkthrough.mp4.wayfinder.json").write_text(render_report("0" * 64, stale))
    assert run_wayfinder("upload", str(video), *NAV_ARGS).exit_code == 0
    qa = json.loads((video.parent / "walkthrough.mp4.youtube.json").read_text())["qa"]
    assert qa["source"] == "measured at upload" and qa["loudness"]["integrated_lufs"] != -14.0


def test_record_measures_loudness_when_there_is_no_render_report(wf: WayfinderEnv, video: Path) -> None:
    assert run_wayfinder("upload", str(video), *NAV_ARGS).exit_code == 0
    qa = json.loads((video.parent / "walkthrough.mp4.youtube.json").read_text())["qa"]
    assert qa["source"] == "measured at upload"
    # The test video's audio is a 440 Hz sine at ffmpeg's default amplitude 1/8: RMS 1/(8*sqrt(2)),
    # -21.07 dBFS; BS.1770 adds -0.691 dB, and K-weighting changes a 440 Hz tone by well under 0.5 dB.
    assert qa["loudness"]["integrated_lufs"] == pytest.approx(-21.07 - 0.691, abs=0.5)
