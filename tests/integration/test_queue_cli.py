"""`wayfinder queue` end to end in-process, against the fake YouTube server over real HTTP:
order, publish times, validation at add time, the file-changed check, the QA gate on real
media, list/show/cancel/retry, and credentials problems leaving items resumable."""

from __future__ import annotations

import json
import subprocess
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_queue_support import (
    FAST_RUN,
    add,
    assert_stamped_during,
    items,
    nav_args,
    quota,
    random_video,
    sha256,
    title_for,
    wayfinder,
)
from youtube_server import FakeYouTube
from youtube_server.fixtures import WayfinderEnv, wf  # noqa: F401

T0 = datetime(2025, 6, 2, 14, 0, tzinfo=timezone.utc)


@pytest.fixture
def youtube() -> Any:
    with FakeYouTube(processing_polls=0) as server:  # processed at the first check
        yield server


def at(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    monkeypatch.setenv("WAYFINDER_FAKE_NOW", moment.isoformat())


def uploaded_titles(server: FakeYouTube) -> list[str]:
    return [video["snippet"]["title"] for video in server.videos.values()]


def test_due_items_go_out_in_priority_and_time_order(wf: WayfinderEnv, tmp_path: Path,  # noqa: F811
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    plan = [  # building, priority, not before (minutes after T0)
        ("A", 0, None), ("B", 0, 30), ("C", 5, 10), ("D", 0, None), ("E", 9, 180), ("F", 1, None),
    ]
    ids = {}
    for n, (building, priority, minutes) in enumerate(plan):
        at(monkeypatch, T0 + timedelta(seconds=n))  # added one after the other
        extra = ["--priority", str(priority)]
        if minutes is not None:
            extra += ["--not-before", (T0 + timedelta(minutes=minutes)).isoformat()]
        ids[building] = add(random_video(tmp_path / f"{building}.mp4", 300_000, n), building, *extra)

    at(monkeypatch, T0 + timedelta(minutes=1))
    first = wayfinder("queue", "run", "--once", *FAST_RUN)
    assert first.exit_code == 0, first.output
    assert uploaded_titles(wf.server) == [title_for(b) for b in ("F", "A", "D")]
    states = {item["id"]: item["state"] for item in items()}
    assert [states[ids[b]] for b in "ABCDEF"] == ["done", "pending", "pending", "done", "pending", "done"]

    at(monkeypatch, T0 + timedelta(hours=1))
    assert wayfinder("queue", "run", "--once", *FAST_RUN).exit_code == 0
    assert uploaded_titles(wf.server)[3:] == [title_for("C"), title_for("B")]  # priority first, then due time
    at(monkeypatch, T0 + timedelta(hours=4))
    assert wayfinder("queue", "run", "--once", *FAST_RUN).exit_code == 0
    assert uploaded_titles(wf.server)[5:] == [title_for("E")]
    for item in items():
        assert item["state"] == "done"
        assert wf.server.sha256_of_video(item["video_id"]) == sha256(Path(item["video"]))


def test_publish_at_is_sent_and_the_item_uploads_before_it(wf: WayfinderEnv, tmp_path: Path,  # noqa: F811
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    at(monkeypatch, T0)
    publish_at = "2025-06-09T09:00:00-05:00"
    began_s = time.monotonic()
    item_id = add(random_video(tmp_path / "v.mp4", 200_000, 1), "North", "--publish-at", publish_at)
    added_in_s = time.monotonic() - began_s
    assert items()[0]["publish_at"] == "2025-06-09T14:00:00Z"
    assert_stamped_during(items()[0]["due_at"], T0, added_in_s)  # due at once: when it was added
    result = wayfinder("queue", "run", "--once", *FAST_RUN)
    assert result.exit_code == 0, result.output
    [video] = wf.server.videos.values()
    assert (video["status"]["privacyStatus"], video["status"]["publishAt"]) == ("private", "2025-06-09T14:00:00Z")
    show = json.loads(wayfinder("queue", "show", str(item_id), "--json").stdout)
    assert show["state"] == "done" and show["request_body"]["status"]["publishAt"] == "2025-06-09T14:00:00Z"


def test_a_publish_time_that_passed_while_waiting_fails_the_item(wf: WayfinderEnv, tmp_path: Path,  # noqa: F811
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    at(monkeypatch, T0)
    add(random_video(tmp_path / "v.mp4", 200_000, 1), "North", "--publish-at", (T0 + timedelta(hours=2)).isoformat(),
        "--not-before", (T0 + timedelta(hours=1)).isoformat())
    at(monkeypatch, T0 + timedelta(hours=3))  # the runner did not run in time
    result = wayfinder("queue", "run", "--once", *FAST_RUN)
    assert result.exit_code == 1
    [item] = items()
    assert item["state"] == "failed" and "has passed before the upload could happen" in item["reason"]
    assert wf.server.requests() == []


def test_bad_metadata_is_refused_when_adding_not_at_upload_time(wf: WayfinderEnv, tmp_path: Path) -> None:  # noqa: F811
    video = random_video(tmp_path / "v.mp4", 200_000, 1)
    result = wayfinder("queue", "add", video, "--template", "navigation", "--var", "building=X<script>",
                       "--privacy", "public", "--preset", "youtube", "--skip-qa")
    assert result.exit_code == 3
    assert "nothing was sent" in result.stderr and "variable 'location' is not defined" in result.stderr
    assert "require_captions" in result.stderr  # the youtube preset's gates apply to a public upload
    assert items() == [] and wf.server.requests() == []


def test_a_file_changed_after_queueing_is_not_uploaded(wf: WayfinderEnv, tmp_path: Path) -> None:  # noqa: F811
    video = random_video(tmp_path / "v.mp4", 300_000, 1)
    item_id = add(video, "North")
    random_video(video, 300_000, 2)  # re-rendered: same name and size, other content
    result = wayfinder("queue", "run", "--once", *FAST_RUN)
    assert result.exit_code == 1
    [item] = items()
    assert item["state"] == "failed" and "v.mp4 changed on disk since it was queued" in item["reason"]
    assert wf.server.requests() == []  # not even the channel was asked
    retry = wayfinder("queue", "retry", str(item_id))
    assert retry.exit_code == 1 and "queue it again" in retry.stderr
    assert wayfinder("queue", "cancel", str(item_id)).exit_code == 0
    new_id = add(video, "North")
    assert wayfinder("queue", "run", "--once", *FAST_RUN).exit_code == 0
    [video_id] = wf.server.videos
    assert wf.server.sha256_of_video(video_id) == sha256(video)
    assert {i["id"]: i["state"] for i in items()} == {item_id: "cancelled", new_id: "done"}


def test_list_show_and_todays_quota(wf: WayfinderEnv, tmp_path: Path,  # noqa: F811
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # paths inside the working folder are shown relative to it
    media = tmp_path / "media"
    random_video(media / "walk.mp4", 300_000, 1)
    random_video(media / "source.mp4", 1000, 2)
    job = media / "walk.toml"
    job.write_text('preset = "youtube"\n[input]\nmain = "source.mp4"\n[output]\npath = "walk.mp4"\n'
                   '[youtube]\ntitle = "Walk to the clinic"\nprivacy = "private"\n', encoding="utf-8")
    added = wayfinder("queue", "add", job, "--skip-qa")  # a job file: its rendered output is the video
    assert added.exit_code == 0, added.output
    assert added.stdout.startswith("queued item 1: media/walk.mp4 – 'Walk to the clinic', due now")
    before = quota()
    assert before["buckets"]["units"]["used"] == 0
    assert before["waiting_items_need"] == {"uploads": 1, "units": 2}  # channels.list + one videos.list check

    assert wayfinder("queue", "run", "--once", *FAST_RUN).exit_code == 0
    after = quota()
    # What was spent is what was called: channels.list and videos.list (1 unit each), one videos.insert.
    assert after["buckets"] == {"uploads": {"used": 1, "limit": 100, "left": 99},
                                "units": {"used": 2, "limit": 10000, "left": 9998}}
    listing = wayfinder("queue", "list")
    assert "media/walk.mp4" in listing.stdout and "done" in listing.stdout
    assert "uploads 1 of 100 used, 99 left; units 2 of 10,000 used, 9,998 left; resets" in listing.stdout
    show = json.loads(wayfinder("queue", "show", "1", "--json").stdout)
    assert show["video"] == str((media / "walk.mp4").resolve()) and show["upload"]["template"] is None
    assert [(e["from"], e["to"]) for e in show["events"]] == [
        (None, "pending"), ("pending", "uploading"), ("uploading", "processing"), ("processing", "done")]
    assert show["url"] == f"https://www.youtube.com/watch?v={show['video_id']}"
    text = wayfinder("queue", "show", "1")
    assert "title:       Walk to the clinic" in text.stdout and "processing -> done" in text.stdout


def test_cancelled_items_are_skipped_and_retry_brings_them_back(wf: WayfinderEnv, tmp_path: Path) -> None:  # noqa: F811
    item_id = add(random_video(tmp_path / "v.mp4", 200_000, 1), "North")
    assert wayfinder("queue", "cancel", str(item_id)).exit_code == 0
    assert wayfinder("queue", "run", "--once", *FAST_RUN).exit_code == 0
    assert wf.server.requests() == [] and items()[0]["state"] == "cancelled"
    assert wayfinder("queue", "retry", str(item_id)).exit_code == 0
    assert wayfinder("queue", "run", "--once", *FAST_RUN).exit_code == 0
    assert items()[0]["state"] == "done" and len(wf.server.videos) == 1
    again = wayfinder("queue", "cancel", str(item_id))
    assert again.exit_code == 1 and "already on YouTube as https://www.youtube.com/watch?v=" in again.stderr
    assert wayfinder("queue", "show", "42").exit_code == 1


def test_missing_credentials_stop_the_run_and_leave_the_item_pending(wf: WayfinderEnv, tmp_path: Path,  # noqa: F811
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    add(random_video(tmp_path / "v.mp4", 200_000, 1), "North")
    add(random_video(tmp_path / "w.mp4", 200_000, 2), "South")
    monkeypatch.setenv("WAYFINDER_CREDENTIALS", str(tmp_path / "nowhere.json"))
    result = wayfinder("queue", "run", "--once", *FAST_RUN)
    assert result.exit_code == 4 and "wayfinder auth login" in result.stderr
    assert [i["state"] for i in items()] == ["pending", "pending"]
    monkeypatch.setenv("WAYFINDER_CREDENTIALS", str(wf.credentials))
    assert wayfinder("queue", "run", "--once", *FAST_RUN).exit_code == 0
    assert [i["state"] for i in items()] == ["done", "done"]


def test_an_empty_queue_needs_no_credentials(wf: WayfinderEnv, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
                                             tmp_path: Path) -> None:
    monkeypatch.setenv("WAYFINDER_CREDENTIALS", str(tmp_path / "nowhere.json"))
    result = wayfinder("queue", "run", "--once")
    assert result.exit_code == 0 and "0 uploaded" in result.stdout


# --- the QA gate on real media ----------------------------------------------------------


def make_tone_video(path: Path, amplitude: float) -> Path:
    """4 s of picture and a stereo 440 Hz sine of peak `amplitude`: integrated loudness
    -0.691 + 20*log10(amplitude) LUFS (K-weighting is about 0 dB at 440 Hz)."""
    from pipeline.media import find_ffmpeg

    tone = f"{amplitude}*sin(2*PI*440*t)"
    subprocess.run([find_ffmpeg(), "-nostdin", "-y", "-v", "error",
                    "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=4",
                    "-f", "lavfi", "-i", f"aevalsrc={tone}|{tone}:s=48000:d=4",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", "-b:a", "192k", "-shortest", str(path)], check=True, timeout=120)
    return path


def test_the_qa_gate_measures_loudness_and_fails_what_misses_the_target(wf: WayfinderEnv,  # noqa: F811
                                                                        tmp_path: Path) -> None:
    import math

    loud = make_tone_video(tmp_path / "loud.mp4", 0.2)  # -14.67 LUFS: within 1 LU of -14
    quiet = make_tone_video(tmp_path / "quiet.mp4", 0.02)  # -34.67 LUFS: 20 LU short
    loud_id = int(json.loads(wayfinder("queue", "add", loud, *nav_args("Loud"), "--json").stdout)["id"])
    quiet_id = int(json.loads(wayfinder("queue", "add", quiet, *nav_args("Quiet"), "--json").stdout)["id"])
    result = wayfinder("queue", "run", "--once", *FAST_RUN)
    assert result.exit_code == 1
    states = {item["id"]: item for item in items()}
    assert states[loud_id]["state"] == "done"
    failed = states[quiet_id]
    assert failed["state"] == "failed"
    assert failed["reason"].startswith("QA (measured, preset youtube): -34.")
    assert "LU below the -14.00 LUFS target (±1.00 LU allowed)" in failed["reason"]
    expected_quiet = -0.691 + 20 * math.log10(0.02)
    assert abs(failed["qa"]["integrated_lufs"] - expected_quiet) < 0.5
    assert abs(states[loud_id]["qa"]["integrated_lufs"] - (-0.691 + 20 * math.log10(0.2))) < 0.5
    assert uploaded_titles(wf.server) == [title_for("Loud")]

    # The producer decides it ships anyway: queued again with --skip-qa, it goes out.
    skipped = wayfinder("queue", "add", quiet, *nav_args("Quiet"), "--skip-qa")
    assert skipped.exit_code == 0, skipped.output
    assert wayfinder("queue", "run", "--once", *FAST_RUN).exit_code == 0
    assert uploaded_titles(wf.server) == [title_for("Loud"), title_for("Quiet")]


# --- the README stays true ------------------------------------------------------------


def test_the_readme_synopsis_lists_every_queue_option_and_nothing_else() -> None:
    import re

    import typer.main

    from tests.integration.test_queue_support import build_app

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Scheduled uploads", 1)[1].split("\n## ", 1)[0]
    synopsis = section.split("```", 2)[1]
    documented: dict[str, set[str]] = {}
    for entry in re.split(r"\n(?=wayfinder queue )", synopsis.strip()):
        name = entry.split()[2]
        documented[name] = set(re.findall(r"--[a-z][a-z-]*", entry))
    group = typer.main.get_command(build_app()).commands["queue"]  # type: ignore[attr-defined]
    actual = {name: {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)
                     if opt.startswith("--") and opt != "--help"}
              for name, command in group.commands.items()}
    assert documented == actual
    for name in actual:
        assert f"`queue {name}`" in section or f"queue {name} " in section
