"""The edit list on the output's frame grid (pure): lengths in whole frames, dissolves
overlapping, programme positions, and every bad trim named."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import config
from pipeline.audio.takes import sample_at, take_samples
from pipeline.config import TakeSpec
from pipeline.errors import ConfigError
from pipeline.probe import MediaInfo
from pipeline.timeline import build_edit_list


def info(name: str, duration_s: float) -> MediaInfo:
    return MediaInfo(path=Path(name), container="mp4", duration_s=duration_s, size_bytes=1, video=None, audio=())


def test_takes_are_whole_frames_and_dissolves_overlap() -> None:
    takes = [TakeSpec(source=Path("a"), start_s=0.3, end_s=3.0, join="dissolve", dissolve_s=0.5),
             TakeSpec(source=Path("b"), start_s=1.0),
             TakeSpec(source=Path("c"), end_s=1.0)]
    edit = build_edit_list(takes, [info("a", 4.0), info("b", 4.0), info("c", 9.0)], 30.0, file=None)
    assert [(c.frames, c.programme_start_frame, c.dissolve_frames) for c in edit.clips] == [(81, 0, 15), (90, 66, 0), (30, 156, 0)]
    assert edit.frames == 186 and edit.duration_s == pytest.approx(6.2)
    assert edit.programme_time_s(1, 2.0) == pytest.approx(66 / 30 + 1.0)


def test_ntsc_rates_round_once_per_boundary() -> None:
    takes = [TakeSpec(source=Path(str(i)), end_s=1.001) for i in range(100)]
    edit = build_edit_list(takes, [info(str(i), 2.0) for i in range(100)], 30000 / 1001, file=None)
    # 100 one-second takes: the sound's samples add up to the picture's length exactly.
    assert sum(take_samples(edit, clip, 48000) for clip in edit.clips) == sample_at(edit, edit.frames, 48000)
    assert sample_at(edit, edit.frames, 48000) == round(edit.frames * 1001 / 30000 * 48000)


def test_every_bad_trim_is_named() -> None:
    takes = [TakeSpec(source=Path("a"), start_s=5.0),
             TakeSpec(source=Path("b"), end_s=9.0, join="dissolve", dissolve_s=2.0),
             TakeSpec(source=Path("c"), end_s=1.0)]
    with pytest.raises(ConfigError) as caught:
        build_edit_list(takes, [info("a", 4.0), info("b", 4.0), info("c", 4.0)], 30.0, file=Path("job.toml"))
    text = "\n".join(caught.value.problems)
    assert "take[0].start_s: 5 s is past the end of a (4.00 s)" in text
    assert "take[1].end_s: 9 s is past the end of b (4.00 s)" in text
    assert "take[1].dissolve_s: 2 s is as long as a take it joins (1.00 s)" in text


def test_job_file_takes_and_their_schema_errors(tmp_path: Path) -> None:
    job = tmp_path / "job.toml"
    job.write_text('[[take]]\nsource = "a.mp4"\nend_s = 2\njoin = "dissolve"\n[[take]]\nsource = "sub/b.mp4"\n')
    loaded = config.load_job(job)
    assert [t.source for t in loaded.takes] == [tmp_path / "a.mp4", tmp_path / "sub" / "b.mp4"]
    assert loaded.main_path == tmp_path / "a.mp4"
    for body, message in (
        ('[input]\nmain = "a.mp4"\n[[take]]\nsource = "b.mp4"\n', "not both"),
        ("", "no input: give [input] main, or an edit list of [[take]] tables"),
        ('[[take]]\nsource = "a.mp4"\njoin = "dissolve"\n', "the last take has nothing to dissolve into"),
        ('[[take]]\nsource = "a.mp4"\nstart_s = 3\nend_s = 2\n', "start_s (3.0) must be before end_s (2.0)"),
    ):
        job.write_text('preset = "youtube"\n' + body)
        with pytest.raises(ConfigError) as caught:
            config.load_job(job)
        assert message in "\n".join(caught.value.problems), caught.value.problems


def test_a_job_wide_recorder_with_an_edit_list_is_refused_for_one_per_take(tmp_path: Path) -> None:
    job = tmp_path / "job.toml"
    job.write_text('[[take]]\nsource = "a.mp4"\n[audio]\nexternal = "lav.wav"\n')
    with pytest.raises(ConfigError, match="with an edit list, name the recorder in each"):
        config.load_job(job)
