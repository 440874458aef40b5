"""Error text from foreign failures: shortened values, OS errors, ffmpeg's failure causes,
and the one TOML reader (issue 13, items 4 and 6)."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from pipeline import config
from pipeline.errors import ConfigError, OutputError, WayfinderError, from_os_error, shorten, shown_value
from pipeline.ffmpeg_failure import describe_failure, find_output_path, output_folder
from pipeline.tomlfile import read_toml_file
from pipeline.youtube.quota import load_quota_table


def test_shorten_keeps_short_text_and_says_how_long_long_text_was() -> None:
    assert shorten("short") == "short"
    long_text = "A" * 10_000_000
    shown = shorten(long_text)
    assert shown == "A" * 80 + "… (10,000,000 characters)"
    assert shown_value(long_text) == repr("A" * 80) + "… (10,000,000 characters)"
    assert shown_value([0] * 1000) == "(list of 1,000 items)"
    assert shown_value("ok") == "'ok'"


def test_an_error_line_is_bounded_whatever_its_message() -> None:
    line = WayfinderError("bad value " + "B" * 5_000_000, file="job.toml", field="video").one_line()
    assert len(line) < 2100 and line.startswith("job.toml: video: bad value BBB") and "5,000,010 characters" in line


@pytest.mark.parametrize(("code", "reason"), [
    (errno.ENOSPC, "no space left on device"), (errno.EROFS, "read-only file system"),
    (errno.EACCES, "permission denied"), (errno.ENAMETOOLONG, "file name too long"),
])
def test_os_errors_become_one_line_naming_the_file(code: int, reason: str) -> None:
    error = from_os_error(OSError(code, "ignored", "/videos/out.mp4"), what="writing the report")
    assert isinstance(error, OutputError) and error.exit_code == 1
    assert error.one_line() == f"/videos/out.mp4: writing the report: {reason}"


def test_ffmpeg_write_failures_name_the_folder_not_conversion_failed() -> None:
    tail = ["[out#0/mp4 @ 0x1] Error writing trailer: No space left on device", "Conversion failed!"]
    args = ["-i", "in.mp4", "file:/videos/out/.walk.mp4.partial-x1/picture.mp4"]
    assert describe_failure("picture encode", tail, 1, args) == "picture encode failed: no space left on device in /videos/out"
    assert describe_failure("mux", ["x: Read-only file system"], 1, ["/v/a.mp4"]) == "mux failed: read-only file system in /v"
    # Without a known cause, the last line that says something, not the generic summary.
    assert describe_failure("mux", ["Invalid data found", "Conversion failed!"], 1, ["pipe:1"]) == "mux failed: Invalid data found"
    assert describe_failure("mux", [], 3, []) == "mux failed: exit code 3"


def test_the_output_of_an_ffmpeg_command_and_its_folder() -> None:
    assert find_output_path(["-f", "null", "-"]) is None and find_output_path(["pipe:1"]) is None
    assert find_output_path(["-i", "a", "file:/x/y.mp4"]) == Path("/x/y.mp4")
    assert output_folder(Path("/x/cards/.render-abc/card.mp4")) == Path("/x/cards")
    assert output_folder(Path("/x/.hidden/clip.mp4")) == Path("/x/.hidden")


def test_deeply_nested_toml_is_a_config_error_naming_the_file(tmp_path: Path) -> None:
    job = tmp_path / "deep.toml"
    job.write_text("[input]\nmain = 'a.mp4'\n[youtube.vars]\nx = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ConfigError) as caught:
        config.load_job(job)
    assert caught.value.one_line() == f"{job}: not valid TOML: arrays or tables nested too deeply"
    quota = tmp_path / "quota.toml"
    quota.write_text("costs = " + "{ a = " * 3000 + "1" + " }" * 3000 + "\n")
    with pytest.raises(ConfigError) as caught:
        load_quota_table(quota)
    assert caught.value.file == str(quota) and caught.value.exit_code == 3


def test_the_toml_reader_names_the_file_for_every_failure(tmp_path: Path) -> None:
    (tmp_path / "bin.toml").write_bytes(b"\xff\xfe not text")
    (tmp_path / "folder.toml").mkdir()
    for name, message in (("missing.toml", "job file not found"), ("bin.toml", "not UTF-8"),
                          ("folder.toml", "is a folder")):
        with pytest.raises(ConfigError, match=message) as caught:
            read_toml_file(tmp_path / name, "job file")
        assert caught.value.file == str(tmp_path / name)
    with pytest.raises(ConfigError, match="file name too long"):
        read_toml_file(tmp_path / ("n" * 300 + ".toml"), "job file")


def test_card_lines_are_bounded(tmp_path: Path) -> None:
    job = tmp_path / "job.toml"
    job.write_text(f"[input]\nmain = 'a.mp4'\n[intro]\nlines = ['ok', '{'C' * 201}']\n")
    with pytest.raises(ConfigError) as caught:
        config.load_job(job)
    assert any("intro.lines[1]: String should have at most 200 characters" in p for p in caught.value.problems)
    job.write_text("[input]\nmain = 'a.mp4'\n[outro]\nlines = [" + ", ".join(["'l'"] * 9) + "]\n")
    with pytest.raises(ConfigError) as caught:
        config.load_job(job)
    assert any("outro.lines: List should have at most 8 items" in p for p in caught.value.problems)


def test_a_path_no_file_can_have_is_a_bad_job_not_an_os_error(tmp_path: Path) -> None:
    job = tmp_path / "job.toml"
    job.write_text(f"[input]\nmain = '{'p' * 10_000}.mp4'\n")
    with pytest.raises(ConfigError) as caught:
        config.load_job(job)
    assert caught.value.exit_code == 3
    (problem,) = caught.value.problems
    assert "input.main: a path of 10,004 characters; at most 4096 can name a file" in problem and len(problem) < 400



def test_a_hundred_thousand_insets_are_one_problem(tmp_path: Path) -> None:
    job = tmp_path / "job.toml"
    (tmp_path / "a.mp4").write_bytes(b"")  # present: a missing input would be listed too
    job.write_text("[input]\nmain = 'a.mp4'\n" + "[[pip]]\nwidth = 5\n" * 100_000)
    with pytest.raises(ConfigError) as caught:
        config.load_job(job)
    (problem,) = caught.value.problems
    assert "pip: List should have at most 16 items" in problem and "(got (list of 100,000 items))" in problem


def test_the_problem_list_printed_is_bounded(capsys: pytest.CaptureFixture[str]) -> None:
    from pipeline.cli.app import MAX_PROBLEMS_SHOWN, report_error

    report_error(ConfigError("invalid manifest", problems=[f"jobs[{i}]: bad" for i in range(100_000)], file="m.toml"))
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 + MAX_PROBLEMS_SHOWN + 1
    assert lines[-1] == f"  … and {100_000 - MAX_PROBLEMS_SHOWN:,} more problems"
