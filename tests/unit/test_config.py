"""Schemas, presets and precedence (no ffmpeg)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import config
from pipeline.errors import ConfigError


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_builtin_presets_ship_the_documented_values() -> None:
    youtube = config.load_preset_settings("youtube")
    assert youtube.video.profile == "high"
    assert youtube.video.pix_fmt == "yuv420p"
    assert youtube.video.crf == 18
    assert youtube.video.x264_preset == "medium"
    assert youtube.video.gop_s == 0.5
    assert youtube.video.faststart is True
    assert (youtube.audio.codec, youtube.audio.bitrate_kbps, youtube.audio.sample_rate_hz) == ("aac", 384, 48000)
    assert (youtube.audio.target_lufs, youtube.audio.true_peak_dbtp) == (-14.0, -1.0)
    assert youtube.publish.require_captions and youtube.publish.require_release

    draft = config.load_preset_settings("youtube-draft")
    assert draft.video.x264_preset == "veryfast"
    assert draft.video.crf == 18 and draft.audio.target_lufs == -14.0  # inherited via extends

    assert config.load_preset_settings("broadcast-r128").audio.target_lufs == -23.0
    assert config.load_preset_settings("podcast-audio").audio.target_lufs == -16.0
    names = {p.name for p in config.list_presets()}
    assert {"youtube", "youtube-draft", "broadcast-r128", "podcast-audio"} <= names


def test_precedence_defaults_preset_job_flags(tmp_path: Path) -> None:
    job_path = write(tmp_path / "job.toml", """
preset = "broadcast-r128"
[input]
main = "media/in.mp4"
[audio]
true_peak_dbtp = -2.0
[video]
crf = 22
""")
    job = config.load_job(job_path, flag_layer={"video": {"crf": 25}})
    # default (not in any file): bitrate from the youtube preset that broadcast extends
    assert job.settings.audio.bitrate_kbps == 384
    # preset beats default
    assert job.settings.audio.target_lufs == -23.0
    # job beats preset
    assert job.settings.audio.true_peak_dbtp == -2.0
    # flags beat job
    assert job.settings.video.crf == 25
    # --preset on the command line replaces the job's preset
    job2 = config.load_job(job_path, preset_override="podcast-audio")
    assert job2.settings.audio.target_lufs == -16.0
    assert job2.preset_name == "podcast-audio"


def test_relative_paths_resolve_against_the_job_folder(tmp_path: Path) -> None:
    job_path = write(tmp_path / "jobs" / "a.toml", """
[input]
main = "../media/in.mp4"
[output]
path = "out/a b.mp4"
[[pip]]
source = "inset.mp4"
corner = "top-left"
""")
    job = config.load_job(job_path)
    assert job.main_path == tmp_path / "media" / "in.mp4"
    assert job.output_path == tmp_path / "jobs" / "out" / "a b.mp4"
    assert job.pip[0].source == tmp_path / "jobs" / "inset.mp4"


def test_default_output_is_named_after_the_job(tmp_path: Path) -> None:
    job_path = write(tmp_path / "clinic.toml", '[input]\nmain = "x.mp4"\n')
    assert config.load_job(job_path).output_path == tmp_path / "clinic.mp4"
    assert config.load_job(job_path, output_override=tmp_path / "o.mp4").output_path == tmp_path / "o.mp4"


def test_every_problem_is_reported_at_once_with_file_key_value_and_allowed(tmp_path: Path) -> None:
    (tmp_path / "x.mp4").write_bytes(b"")  # present: a missing input would be listed too
    job_path = write(tmp_path / "bad.toml", """
colour = "red"
[input]
main = "x.mp4"
[audio]
target_lufs = 3
codec = "mp3"
[light]
mode = "bright"
[[pip]]
source = "a.mp4"
start_s = 5
end_s = 2
""")
    with pytest.raises(ConfigError) as caught:
        config.load_job(job_path)
    problems = caught.value.problems
    text = "\n".join(problems)
    assert len(problems) == 5, text
    assert all(p.startswith(f"{job_path}: ") for p in problems)
    assert "colour: unknown key; allowed:" in text and "preset" in text
    assert "audio.target_lufs: Input should be less than or equal to -5 (got 3)" in text
    assert "audio.codec: Input should be 'aac' (got 'mp3')" in text
    assert "light.mode: Input should be 'off', 'auto' or 'manual' (got 'bright')" in text
    assert "pip[0]: start_s (5.0) must be before end_s (2.0)" in text
    assert caught.value.exit_code == 3


def test_missing_required_key_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        config.load_job(write(tmp_path / "nomain.toml", "[input]\n"))
    assert "input.main: Field required" in caught.value.problems[0]
    with pytest.raises(ConfigError) as caught:
        config.load_job(write(tmp_path / "broken.toml", "[input\nmain = 1"))
    assert "not valid TOML" in caught.value.one_line()
    assert str(tmp_path / "broken.toml") in caught.value.one_line()
    with pytest.raises(ConfigError, match="not found"):
        config.load_job(tmp_path / "absent.toml")


def test_unknown_preset_names_the_known_ones(tmp_path: Path) -> None:
    (tmp_path / "x.mp4").write_bytes(b"")  # present: a missing input would be listed beside the preset
    job_path = write(tmp_path / "j.toml", 'preset = "tiktok"\n[input]\nmain = "x.mp4"\n')
    with pytest.raises(ConfigError) as caught:
        config.load_job(job_path)
    assert "unknown preset 'tiktok'" in caught.value.message
    assert "youtube" in caught.value.message
    assert caught.value.file == str(job_path)


def test_user_preset_wins_over_builtin_and_is_validated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAYFINDER_CONFIG_DIR", str(tmp_path))
    write(tmp_path / "presets" / "youtube.toml", 'description = "ours"\n[audio]\ntarget_lufs = -16.0\n')
    presets = {p.name: p for p in config.list_presets()}
    assert presets["youtube"].source == "user"
    assert presets["youtube"].description == "ours"
    assert config.load_preset_settings("youtube").audio.target_lufs == -16.0
    # a user preset that does not extend anything starts from the built-in defaults
    assert config.load_preset_settings("youtube").video.crf == config.VideoSettings().crf

    write(tmp_path / "presets" / "bad.toml", '[video]\ncrf = 99\nspeed = "fast"\n')
    with pytest.raises(ConfigError) as caught:
        config.load_preset_settings("bad")
    assert len(caught.value.problems) == 2
    assert "video.crf" in caught.value.problems[0] or "video.crf" in caught.value.problems[1]


def test_extends_loop_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAYFINDER_CONFIG_DIR", str(tmp_path))
    write(tmp_path / "presets" / "a.toml", 'extends = "b"\n')
    write(tmp_path / "presets" / "b.toml", 'extends = "a"\n')
    with pytest.raises(ConfigError, match="loop: a -> b -> a"):
        config.load_preset_settings("a")


def test_pip_position_rules(tmp_path: Path) -> None:
    job_path = write(tmp_path / "p.toml", """
[input]
main = "x.mp4"
[[pip]]
source = "a.mp4"
x = 0.5
[[pip]]
source = "b.mp4"
corner = "top-right"
x = 0.1
y = 0.1
""")
    with pytest.raises(ConfigError) as caught:
        config.load_job(job_path)
    text = "\n".join(caught.value.problems)
    assert "pip[0]: give both x and y" in text
    assert "pip[1]: give either corner or x/y" in text


def test_quick_job_uses_preset_and_flags() -> None:
    job = config.quick_job(Path("/m/in.mp4"), Path("/m/out.mp4"), preset_name="youtube-draft")
    assert job.source is None and job.settings.video.x264_preset == "veryfast"


def test_youtube_table_is_validated_when_the_job_loads(tmp_path: Path) -> None:
    job_path = write(tmp_path / "y.toml", """
[input]
main = "x.mp4"
[youtube]
title = "Parking"
privacy = "secret"
colour = "blue"
""")
    with pytest.raises(ConfigError) as caught:
        config.load_job(job_path)
    text = "\n".join(caught.value.problems)
    assert caught.value.file == str(job_path)
    assert "youtube.privacy" in text and "youtube.colour" in text


def test_presets_carry_qa_thresholds_and_jobs_cannot_loosen_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.qa.limits import qa_settings_for

    assert qa_settings_for("broadcast-r128").tolerance_lu == 0.5
    assert qa_settings_for("podcast-audio").max_lra_lu == 8.0
    assert qa_settings_for("youtube-draft") == qa_settings_for("youtube")
    monkeypatch.setenv("WAYFINDER_CONFIG_DIR", str(tmp_path))
    write(tmp_path / "presets" / "strict.toml", 'extends = "broadcast-r128"\n[qa]\nmax_lra_lu = 6.0\n')
    strict = qa_settings_for("strict")
    assert (strict.max_lra_lu, strict.tolerance_lu) == (6.0, 0.5)  # own value, and inherited
    job_path = write(tmp_path / "j.toml", '[input]\nmain = "x.mp4"\n[qa]\ntolerance_lu = 5.0\n')
    with pytest.raises(ConfigError) as caught:
        config.load_job(job_path)
    assert "qa: unknown key" in caught.value.problems[0]
