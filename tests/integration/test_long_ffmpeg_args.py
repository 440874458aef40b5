"""A filter graph longer than one program argument may be (128 KiB on Linux) still runs:
the runner hands such an option value to ffmpeg in a file (a long edit's light commands
or many takes can make one)."""

from __future__ import annotations

from pathlib import Path

from pipeline.media import ARG_IN_FILE_BYTES, build_args_with_files, run_ffmpeg


def test_a_filter_graph_over_the_argument_limit_runs() -> None:
    # One sendcmd with 6000 timed commands (to a filter that is not there: ignored), about
    # 170 KB, over Linux's 131072-byte limit for one argument.
    commands = ";".join(f"{i / 1000:.3f} [enter] nothing@here x {i}" for i in range(6000))
    graph = f"[0:v]sendcmd=commands='{commands}'[out]"
    assert len(graph) > 128 * 1024
    result = run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=d=0.2:s=64x64:r=10", "-filter_complex", graph,
                         "-map", "[out]", "-f", "null", "-"], what="long graph")
    assert result.returncode == 0


def test_only_long_option_values_go_to_files(tmp_path: Path) -> None:
    long_value = "x" * (ARG_IN_FILE_BYTES + 1)
    args = build_args_with_files(["-i", "in.mp4", "-filter_complex", long_value, "-map", "[v]", "out.mp4"], tmp_path)
    assert args[:2] == ["-i", "in.mp4"] and args[2] == "-/filter_complex" and args[4:] == ["-map", "[v]", "out.mp4"]
    assert Path(args[3]).read_text() == long_value
