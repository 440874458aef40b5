"""`queue add` and `queue list` as a producer reads them at 80 columns: times in the
producer's zone with the zone named (UTC beside it in `--json`), the video's name whole,
and notes one line each instead of a column wrapped over many lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.integration.test_queue_support import random_video

# June 3rd is summer time in Chicago: Central Daylight Time, UTC-5 (US rules since 2007).
PUBLISH_AT = "2030-06-03T09:00:00-05:00"


def run80(*args: str | Path, cwd: Path, tz: str = "America/Chicago") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipeline.cli.app", *map(str, args)], capture_output=True,
                          text=True, timeout=300, cwd=cwd, env={**os.environ, "COLUMNS": "80", "TZ": tz})


def job_for(folder: Path, name: str, title: str) -> Path:
    random_video(folder / f"{name}.mp4", 20_000, len(name))
    random_video(folder / f"{name}-source.mp4", 1000, len(name) + 1)
    job = folder / f"{name}.toml"
    job.write_text(f'preset = "youtube"\n[input]\nmain = "{name}-source.mp4"\n[output]\npath = "{name}.mp4"\n'
                   f'[youtube]\ntitle = "{title}"\nprivacy = "private"\n', encoding="utf-8")
    return job


def test_publish_time_is_shown_in_the_producers_zone_with_utc_in_json(tmp_path: Path) -> None:
    job = job_for(tmp_path, "walkthrough", "Parking ramp to the clinic desk")
    captions = tmp_path / "walkthrough.srt"
    captions.write_text("1\n00:00:00,000 --> 00:00:01,000\nThe parking ramp.\n", encoding="utf-8")
    approved = run80("captions", "approve", tmp_path / "walkthrough.mp4", "--by", "Dana", "--captions", captions,
                     cwd=tmp_path)
    assert approved.returncode == 0, approved.stderr  # scheduled under require_captions: a review is needed
    added = run80("queue", "add", job, "--skip-qa", "--publish-at", PUBLISH_AT, "--no-identifiable-people",
                  "--not-made-for-kids", "--captions", captions, cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    assert "YouTube publishes it at 2030-06-03 09:00 CDT" in added.stdout
    listed = json.loads(run80("queue", "list", "--json", cwd=tmp_path).stdout)["items"][0]
    assert listed["publish_at_utc"] == "2030-06-03T14:00:00Z"
    assert listed["publish_at_local"] == "2030-06-03T09:00:00-05:00"
    assert listed["time_zone"] == "CDT"
    assert "item 1: YouTube publishes it at 2030-06-03 09:00 CDT" in run80("queue", "list", cwd=tmp_path).stdout
    in_utc = run80("queue", "list", cwd=tmp_path, tz="UTC")
    assert "item 1: YouTube publishes it at 2030-06-03 14:00 UTC" in in_utc.stdout


def test_queue_list_keeps_names_whole_and_notes_on_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "library/2026/cardiology/outpatient/wayfinding/out"
    folder.mkdir(parents=True)
    job = job_for(folder, "parking-ramp-west", "Parking ramp west")
    assert run80("queue", "add", job, "--skip-qa", cwd=tmp_path).returncode == 0
    assert run80("queue", "cancel", "1", cwd=tmp_path).returncode == 0
    listing = run80("queue", "list", cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    table = lines[:lines.index(next(line for line in lines if line.startswith("item 1:")))]
    assert max(len(line) for line in table) <= 80, listing.stdout
    assert any("parking-ramp-west.mp4" in line for line in table), listing.stdout
    notes = [line for line in lines if line.startswith("item 1: ")]
    assert len(notes) == 1 and len(notes[0]) > len("item 1: "), listing.stdout
