"""Captions follow the edit: the caption files of a job are placed on the rendered video's
timeline (moved by the intro card; a take's captions cut by its trims and moved to where
the take plays), written beside the output, and that placed file is what `wayfinder
upload` sends. Today's bug: a 1 s intro left the job's captions 1 s early, silently."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.youtube.captions import load_caption_file
from tests.integration.cli import wayfinder
from tests.media import make_clip, tone
from youtube_server.fixtures import WayfinderEnv, run_wayfinder

YOUTUBE = """
[youtube]
template = "navigation"
privacy = "private"
made_for_kids = false
captions = "job.srt"

[youtube.vars]
location = "Riverside Hospital"
building = "North Tower"
floor = 3
department = "Cardiology Clinic"
phone = "555-0100"

[youtube.release]
no_identifiable_people = true
"""
INTRO = '[intro]\nlines = ["Riverside"]\nduration_s = 1.0\n'


def srt(*cues: tuple[float, float, str]) -> str:
    def stamp(seconds: float) -> str:
        ms = round(seconds * 1000)
        return f"00:00:{ms // 1000:02d},{ms % 1000:03d}"
    return "\n".join(f"{n}\n{stamp(a)} --> {stamp(b)}\n{text}\n" for n, (a, b, text) in enumerate(cues, start=1))


def cues_of(path: Path) -> list[tuple[float, float, str]]:
    return [(round(c.start_s, 3), round(c.end_s, 3), c.text) for c in load_caption_file(path).cues]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for name, frequency_hz in (("a", 440.0), ("b", 660.0)):
        make_clip(tmp_path / f"{name}.mp4", duration_s=4.0, audio=tone(-20.0, frequency_hz=frequency_hz))
    return tmp_path


def render(folder: Path, body: str) -> Path:
    job = folder / "job.toml"
    job.write_text('preset = "youtube-draft"\n[output]\npath = "out.mp4"\n[video]\nx264_preset = "ultrafast"\n'
                   + body + YOUTUBE)
    result = wayfinder("render", job, "--force")
    assert result.returncode == 0, result.stderr
    return job


def test_one_input_with_an_intro_moves_the_captions_and_upload_sends_them(wf: WayfinderEnv, folder: Path) -> None:
    (folder / "job.srt").write_text(srt((0.5, 1.5, "Start at the parking ramp."), (2.0, 3.5, "Take the lift.")))
    job = render(folder, '[input]\nmain = "a.mp4"\n' + INTRO)
    placed = folder / "out.mp4.captions.srt"
    assert cues_of(placed) == [(1.5, 2.5, "Start at the parking ramp."), (3.0, 4.5, "Take the lift.")]
    report = json.loads((folder / "out.mp4.wayfinder.json").read_text())
    assert report["captions"]["file"] == str(placed) and report["captions"]["moved_by_intro_s"] == 1.0

    result = run_wayfinder("upload", str(folder / "out.mp4"), "--job", str(job), "--skip-qa", "--json")
    assert result.exit_code == 0, result.output
    [caption] = wf.server.captions
    assert caption["content"] == placed.read_bytes()


def test_take_captions_are_cut_by_the_trims_and_moved_to_where_the_take_plays(wf: WayfinderEnv, folder: Path) -> None:
    (folder / "job.srt").write_text(srt((0.2, 0.8, "Welcome.")))  # on the edited programme
    (folder / "a.srt").write_text(srt((0.2, 0.6, "False start."), (0.5, 1.5, "Here is the ramp."),
                                      (2.0, 2.8, "Turn left."), (3.5, 3.9, "Cut tail.")))
    (folder / "b.vtt").write_text("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nThe lift.\n")
    render(folder, INTRO + """
[[take]]
source = "a.mp4"
start_s = 1.0
end_s = 3.0
captions = "a.srt"

[[take]]
source = "b.mp4"
start_s = 0.5
captions = "b.vtt"
""")
    # a plays source 1.0-3.0 at programme 0-2; b plays source 0.5-4.0 at programme 2-5.5; intro 1 s first.
    assert cues_of(folder / "out.mp4.captions.srt") == sorted([
        (1.2, 1.8, "Welcome."),
        (1.0, 1.5, "Here is the ramp."),   # 0.5-1.5 cut at the trim (1.0): 1.0-1.5 -> 0.0-0.5, +1
        (2.0, 2.8, "Turn left."),          # 2.0-2.8 -> 1.0-1.8, +1
        (3.5, 4.5, "The lift."),           # b 1.0-2.0 -> 2.5-3.5, +1
    ])
