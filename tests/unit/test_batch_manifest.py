"""Manifest schema and loading: job lists, inline jobs, patterns with a CSV of variables,
and every manifest problem reported at once. No media is decoded here."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.batch.manifest import find_pattern_inputs, load_manifest, select_jobs
from pipeline.errors import ConfigError, UsageError


def touch(path: Path, content: bytes = b"media") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def test_job_files_and_inline_jobs_load_with_names_paths_and_precedence(tmp_path: Path) -> None:
    touch(tmp_path / "media" / "lobby.mp4")
    touch(tmp_path / "media" / "ramp.mp4")
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "lobby.toml").write_text(
        'preset = "youtube-draft"\n[input]\nmain = "../media/lobby.mp4"\n[video]\ncrf = 30\n')
    (tmp_path / "jobs" / "lobby2.toml").write_text('[input]\nmain = "../media/lobby.mp4"\n')
    manifest = tmp_path / "manifest.toml"
    manifest.write_text(
        'jobs = ["jobs/lobby.toml", { file = "jobs/lobby2.toml", name = "lobby-again" },\n'
        ' { name = "ramp", preset = "broadcast-r128", input = { main = "media/ramp.mp4" }, audio = { target_lufs = -20.0 } },\n'
        ' { input = { main = "media/ramp.mp4" }, output = { path = "out/ramp-default.mp4" } }]\n'
    )
    loaded = load_manifest(manifest)
    names = [item.name for item in loaded.jobs]
    assert names == ["lobby", "lobby-again", "ramp", "ramp-default"]
    by_name = {item.name: item for item in loaded.jobs}
    lobby = by_name["lobby"].job
    assert lobby is not None and lobby.settings.video.crf == 30 and lobby.settings.video.x264_preset == "veryfast"
    assert lobby.output_path == tmp_path / "jobs" / "lobby.mp4"  # a job file's own default
    assert by_name["lobby-again"].origin == str(tmp_path / "jobs" / "lobby2.toml")
    ramp = by_name["ramp"].job
    assert ramp is not None
    assert ramp.main_path == tmp_path / "media" / "ramp.mp4"
    assert ramp.output_path == tmp_path / "ramp.mp4"  # default: NAME.mp4 beside the manifest
    assert ramp.settings.audio.target_lufs == -20.0  # the inline table wins over the preset (-23)
    assert ramp.preset_name == "broadcast-r128" and ramp.source == manifest
    assert by_name["ramp-default"].job.output_path == tmp_path / "out" / "ramp-default.mp4"  # type: ignore[union-attr]
    assert loaded.report_dir == tmp_path


def test_two_jobs_writing_one_output_is_a_manifest_error(tmp_path: Path) -> None:
    touch(tmp_path / "a.mp4")
    manifest = tmp_path / "manifest.toml"
    manifest.write_text(
        'jobs = [{ name = "x", input = { main = "a.mp4" }, output = { path = "same.mp4" } },\n'
        '        { name = "y", input = { main = "a.mp4" }, output = { path = "same.mp4" } },\n'
        '        { name = "y", input = { main = "a.mp4" }, output = { path = "other.mp4" } }]\n')
    with pytest.raises(ConfigError) as caught:
        load_manifest(manifest)
    problems = "\n".join(caught.value.problems)
    assert "both write" in problems and "same.mp4" in problems
    assert "two jobs are named 'y'" in problems


def test_a_bad_job_file_fails_only_its_job(tmp_path: Path) -> None:
    touch(tmp_path / "a.mp4")
    (tmp_path / "bad.toml").write_text('[input]\nmain = "a.mp4"\n[video]\ncrf = 99\n')
    manifest = tmp_path / "manifest.toml"
    manifest.write_text('jobs = ["bad.toml", "missing.toml", { name = "ok", input = { main = "a.mp4" } },'
                        ' { name = "nopreset", preset = "no-such-preset", input = { main = "a.mp4" } }]\n')
    loaded = load_manifest(manifest)
    by_name = {item.name: item for item in loaded.jobs}
    assert by_name["ok"].job is not None and by_name["ok"].load_error is None
    assert by_name["bad"].job is None and "video.crf" in (by_name["bad"].load_error or "")
    assert by_name["missing"].job is None and "not found" in (by_name["missing"].load_error or "")
    assert by_name["nopreset"].job is None and "unknown preset" in (by_name["nopreset"].load_error or "")


def test_every_manifest_problem_is_reported_at_once(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.toml"
    manifest.write_text(
        'colour = "blue"\n'
        'jobs = [{ name = "x", input = { main = "a.mp4" }, video = { crf = 99 } },\n'
        '        { file = "a.toml", extra = 1 }]\n')
    with pytest.raises(ConfigError) as caught:
        load_manifest(manifest)
    assert caught.value.exit_code == 3
    assert any("colour: unknown key" in p for p in caught.value.problems)
    manifest.write_text(
        'jobs = [{ name = "x", input = { main = "a.mp4" }, video = { crf = 99 } },\n'
        '        { file = "a.toml", extra = 1 }]\n')
    with pytest.raises(ConfigError) as caught:
        load_manifest(manifest)
    problems = caught.value.problems
    assert len(problems) == 2
    assert "jobs[0]: video.crf" in problems[0] and "(got 99)" in problems[0]
    assert "jobs[1]: extra: unknown key" in problems[1]


def test_an_empty_manifest_is_an_error(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.toml"
    manifest.write_text("")
    with pytest.raises(ConfigError, match="invalid manifest") as caught:
        load_manifest(manifest)
    assert "needs `jobs` or a `[pattern]`" in caught.value.problems[0]


def write_pattern(tmp_path: Path, extra: str = "", csv: str | None = None) -> Path:
    for name in ("lobby.mp4", "ramp.mov", "notes.txt", ".hidden.mp4"):
        touch(tmp_path / "media" / name)
    if csv is not None:
        (tmp_path / "videos.csv").write_text(csv, encoding="utf-8")
    manifest = tmp_path / "manifest.toml"
    manifest.write_text(
        '[pattern]\ninputs = "media"\npreset = "youtube-draft"\noutput_dir = "out"\n'
        + ('variables = "videos.csv"\n' if csv is not None else "") + extra)
    return manifest


def test_a_pattern_joins_csv_variables_by_file_name(tmp_path: Path) -> None:
    manifest = write_pattern(
        tmp_path,
        extra='output_name = "{stem}-floor{floor}.mp4"\n[pattern.audio]\ntarget_lufs = -16.0\n'
              '[pattern.youtube]\ntemplate = "navigation"\nvars = { clinic = "Riverside", floor = "?" }\n',
        csv="\ufefffile,floor,title\nlobby.mp4,1,The lobby\nramp.mov,2,The ramp\ngone.mp4,3,Gone\n",
    )
    loaded = load_manifest(manifest)
    assert [item.name for item in loaded.jobs] == ["lobby", "ramp"]  # the .txt and the hidden file are not inputs
    lobby = loaded.jobs[0]
    assert lobby.variables == {"floor": "1", "title": "The lobby"}
    assert lobby.job is not None
    assert lobby.job.output_path == tmp_path / "out" / "lobby-floor1.mp4"
    assert lobby.job.settings.audio.target_lufs == -16.0 and lobby.job.settings.video.x264_preset == "veryfast"
    # the row's variables go with the job for publishing, over the shared ones
    assert lobby.job.youtube == {"template": "navigation",
                                 "vars": {"clinic": "Riverside", "floor": "1", "title": "The lobby"}}
    assert loaded.jobs[1].job.output_path.name == "ramp-floor2.mp4"  # type: ignore[union-attr]
    assert any("gone.mp4" in note for note in loaded.notes)


def test_pattern_problems(tmp_path: Path) -> None:
    manifest = write_pattern(tmp_path, extra='output_name = "{stem}-{room}.mp4"\n',
                             csv="file,floor\nlobby.mp4,1\nlobby.mp4,2\n")
    with pytest.raises(ConfigError) as caught:
        load_manifest(manifest)
    problems = "\n".join(caught.value.problems)
    assert "'lobby.mp4' has more than one row" in problems
    assert "unknown field {room}; allowed: stem, name, floor" in problems

    (tmp_path / "videos.csv").write_text("name,floor\nlobby.mp4,1\n")
    manifest.write_text(manifest.read_text().replace("{room}", "{stem}"))
    with pytest.raises(ConfigError) as caught:
        load_manifest(manifest)
    assert "needs a `file` column" in caught.value.problems[0]

    manifest.write_text('[pattern]\ninputs = "media/*.webm"\noutput_dir = "out"\n')
    with pytest.raises(ConfigError) as caught:
        load_manifest(manifest)
    assert "matches no files" in caught.value.problems[0]


def test_an_empty_csv_value_in_the_output_name_fails_only_that_job(tmp_path: Path) -> None:
    manifest = write_pattern(tmp_path, extra='output_name = "{floor}/{stem}.mp4"\n',
                             csv="file,floor\nlobby.mp4,1\nramp.mov,\n")
    loaded = load_manifest(manifest)
    lobby, ramp = loaded.jobs
    assert lobby.job is None and "plain file name" in (lobby.load_error or "")  # no folders from a CSV
    assert ramp.job is None and "{floor}" in (ramp.load_error or "")


def test_pattern_inputs_skip_wayfinder_outputs(tmp_path: Path) -> None:
    touch(tmp_path / "a.mp4")
    touch(tmp_path / "a-youtube.mp4")
    touch(tmp_path / "a-youtube.mp4.wayfinder.json", b"{}")
    touch(tmp_path / ".a-youtube.mp4.partial")
    assert find_pattern_inputs(tmp_path, ".") == [tmp_path / "a.mp4"]
    assert find_pattern_inputs(tmp_path, "*.mp4") == [tmp_path / "a.mp4"]


def test_only_selects_by_name_in_manifest_order(tmp_path: Path) -> None:
    touch(tmp_path / "a.mp4")
    manifest = tmp_path / "manifest.toml"
    manifest.write_text("".join(f'[[jobs]]\nname = "{n}"\ninput = {{ main = "a.mp4" }}\n' for n in "xyz"))
    jobs = load_manifest(manifest).jobs
    assert [j.name for j in select_jobs(jobs, ["z,x"])] == ["x", "z"]
    assert [j.name for j in select_jobs(jobs, ["y", "x"])] == ["x", "y"]
    assert select_jobs(jobs, []) == jobs
    with pytest.raises(UsageError, match="no job named 'w'"):
        select_jobs(jobs, ["w"])


def test_youtube_tables_are_validated_like_a_job_files(tmp_path: Path) -> None:
    touch(tmp_path / "media" / "a.mp4")
    manifest = tmp_path / "manifest.toml"
    manifest.write_text('[[jobs]]\nname = "typo"\ninput = { main = "media/a.mp4" }\nyoutube = { titel = "Lobby" }\n')
    [typo] = load_manifest(manifest).jobs
    assert typo.job is None and "titel" in (typo.load_error or "")

    manifest.write_text('[pattern]\ninputs = "media"\noutput_dir = "out"\n[pattern.youtube]\nprivacy = "secret"\n')
    with pytest.raises(ConfigError) as caught:
        load_manifest(manifest)
    assert "pattern.youtube" in caught.value.problems[0] and "privacy" in caught.value.problems[0]
