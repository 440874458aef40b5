"""Picture-in-picture timing, geometry and graph (pure; no ffmpeg)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from pipeline import config
from pipeline.config import PipSpec
from pipeline.plan import build_render_plan
from pipeline.probe import AudioStreamInfo, MediaInfo, VideoStreamInfo
from pipeline.video.pip import DUCK_RAMP_S, build_box, build_duck_expression, build_window, check_window
from pipeline.video.prepare import PicturePrep


def spec(**fields: object) -> PipSpec:
    return PipSpec(source=Path("/media/inset.mp4"), **fields)  # type: ignore[arg-type]


# ---------------------------------------------------------------- windows


def test_window_trims_a_long_inset_and_holds_or_ends_a_short_one() -> None:
    long = build_window(spec(start_s=2.0, end_s=5.0), inset_duration_s=10.0, main_duration_s=20.0)
    assert (long.start_s, long.end_s, long.content_s, long.held_s) == (2.0, 5.0, 3.0, 0.0)
    held = build_window(spec(start_s=2.0, end_s=8.0, when_short="hold"), inset_duration_s=4.0, main_duration_s=20.0)
    assert (held.end_s, held.content_s, held.held_s) == (8.0, 4.0, 2.0)
    ended = build_window(spec(start_s=2.0, end_s=8.0, when_short="end"), inset_duration_s=4.0, main_duration_s=20.0)
    assert (ended.end_s, ended.content_s, ended.held_s) == (6.0, 4.0, 0.0)


def test_window_without_end_plays_the_inset_once_and_stops_with_the_main_video() -> None:
    once = build_window(spec(start_s=3.0), inset_duration_s=4.0, main_duration_s=20.0)
    assert (once.end_s, once.held_s) == (7.0, 0.0)
    cut = build_window(spec(start_s=18.0), inset_duration_s=4.0, main_duration_s=20.0)
    assert (cut.end_s, cut.content_s) == (20.0, 2.0)
    # Rounding in a job file (end_s = 20 for a 19.97 s video) is clipped, not refused.
    assert check_window(spec(start_s=1.0, end_s=20.0), 30.0, 19.97) == []
    assert build_window(spec(start_s=1.0, end_s=20.0), 30.0, 19.97).end_s == 19.97


def test_fades_are_shortened_to_fit_the_window() -> None:
    assert build_window(spec(start_s=0.0, end_s=1.0, fade_s=2.0), 5.0, 10.0).fade_s == 0.5
    assert build_window(spec(start_s=0.0, end_s=4.0, fade_s=0.5), 5.0, 10.0).fade_s == 0.5


def test_windows_outside_the_main_video_are_named_by_field() -> None:
    assert [f for f, _ in check_window(spec(start_s=25.0), 5.0, 20.0)] == ["start_s"]
    assert [f for f, _ in check_window(spec(start_s=1.0, end_s=21.0), 5.0, 20.0)] == ["end_s"]
    both = check_window(spec(start_s=25.0, end_s=30.0), 5.0, 20.0)
    assert [f for f, _ in both] == ["start_s", "end_s"]
    assert "20.00 s" in both[0][1]


# ---------------------------------------------------------------- geometry


def test_corner_boxes_keep_aspect_even_sizes_and_margins() -> None:
    frame = (1920, 1080)
    # 0.3 * 1920 = 576 wide; a 640x480 inset is 4:3, so 432 high; margin 0.03 * 1920 = 57.6 -> 58.
    box = build_box(spec(corner="top-left", width=0.3, margin=0.03), (640, 480), frame)
    assert (box.width_px, box.height_px, box.x_px, box.y_px) == (576, 432, 58, 58)
    box = build_box(spec(corner="bottom-right", width=0.3, margin=0.03, border_px=6), (640, 480), frame)
    # Outer box 588 x 444: x = 1920 - 588 - 58 = 1274, y = 1080 - 444 - 58 = 578.
    assert (box.outer_width_px, box.outer_height_px, box.x_px, box.y_px) == (588, 444, 1274, 578)
    # The default corner is bottom-right.
    assert build_box(spec(width=0.3, margin=0.03, border_px=6), (640, 480), frame) == box


def test_odd_sizes_and_positions_are_made_even() -> None:
    # 0.25 * 1278 = 319.5 -> 320 wide; 16:9 of 320 = 180; x = 0.333 * 1278 = 425.6 -> 424.
    box = build_box(spec(x=0.333, y=0.5, width=0.25), (1920, 1080), (1278, 720))
    assert box.width_px % 2 == 0 and box.height_px % 2 == 0
    assert box.x_px % 2 == 0 and box.y_px % 2 == 0
    assert (box.width_px, box.height_px, box.x_px, box.y_px) == (320, 180, 424, 360)


def test_portrait_insets_and_boxes_that_would_leave_the_frame() -> None:
    # A rotated phone clip (display 1080x1920) at 0.3 of a 1280x720 frame: 384 x 682.7 is
    # taller than the frame, so it shrinks to fit 720 high.
    box = build_box(spec(width=0.3, corner="top-right", margin=0.0), (1080, 1920), (1280, 720))
    assert box.height_px <= 720 and box.width_px < box.height_px
    assert math.isclose(box.width_px / box.height_px, 1080 / 1920, rel_tol=0.02)
    # x/y near the far edge: clamped so the inset stays whole.
    box = build_box(spec(x=0.95, y=0.95, width=0.25, border_px=4), (640, 480), (1280, 720))
    assert box.x_px + box.outer_width_px <= 1280 and box.y_px + box.outer_height_px <= 720


# ---------------------------------------------------------------- ducking


def evaluate_duck(expression: str, t: float) -> float:
    """Evaluate the volume expression with Python's math (same functions as ffmpeg's)."""
    python = expression.replace("pow(", "math.pow(").replace("clip(", "_clip(")
    return eval(python, {"math": math, "_clip": lambda x, lo, hi: max(lo, min(hi, x)), "min": min, "max": max, "t": t})


def test_duck_expression_lowers_by_the_depth_inside_and_ramps_outside() -> None:
    expression = build_duck_expression([(4.0, 10.0, 12.0)])
    def gain_db(t: float) -> float:
        return 20 * math.log10(evaluate_duck(expression, t))
    assert gain_db(2.0) == pytest.approx(0.0)
    assert gain_db(4.0 - DUCK_RAMP_S / 2) == pytest.approx(-6.0)  # half-way down the ramp
    assert gain_db(4.0) == pytest.approx(-12.0)
    assert gain_db(7.0) == pytest.approx(-12.0)
    assert gain_db(10.0 + DUCK_RAMP_S / 2) == pytest.approx(-6.0)
    assert gain_db(12.0) == pytest.approx(0.0)


def test_overlapping_ducks_take_the_deepest_not_the_sum() -> None:
    expression = build_duck_expression([(2.0, 6.0, 10.0), (4.0, 8.0, 6.0)])
    assert 20 * math.log10(evaluate_duck(expression, 5.0)) == pytest.approx(-10.0)
    assert 20 * math.log10(evaluate_duck(expression, 7.0)) == pytest.approx(-6.0)


# ---------------------------------------------------------------- the graph


def media(path: str, width: int, height: int, fps: float, *, audio: bool = True, duration_s: float = 20.0) -> MediaInfo:
    return MediaInfo(
        path=Path(path), container="mov,mp4", duration_s=duration_s, size_bytes=1,
        video=VideoStreamInfo(0, "h264", "High", width, height, "yuv420p", fps, False, 0),
        audio=(AudioStreamInfo(1, "aac", 44100, 1, "mono"),) if audio else (),
    )


def pip_job(tmp_path: Path, tables: str) -> config.Job:
    path = tmp_path / "job.toml"
    path.write_text(f'preset = "youtube"\n[input]\nmain = "/media/in.mp4"\n[output]\npath = "/out/x.mp4"\n{tables}')
    return config.load_job(path)


def graph_of(
    job: config.Job, prep: PicturePrep, main: MediaInfo, half: str = "picture"
) -> tuple[list[str], str]:
    """The arguments and the filter graph of the render's picture command or its sound
    track's command."""
    plan = build_render_plan(job, main, None, prep=prep, work_dir=Path("/work"))
    args = plan.picture.args if half == "picture" else plan.sound_args
    assert args is not None
    return args, args[args.index("-filter_complex") + 1]


def test_an_inset_is_an_input_and_an_overlay_chain(tmp_path: Path) -> None:
    nasty = "/media/guide it's [a]; b,c:d.mp4"
    job = pip_job(tmp_path, f"""
[[pip]]
source = "{nasty}"
corner = "bottom-right"
width = 0.3
margin = 0.03
start_s = 4.0
end_s = 16.0
fade_s = 0.5
border_px = 6
border_color = "white"
""")
    inset = media(nasty, 640, 480, 25.0, duration_s=10.0)
    window = build_window(job.pip[0], 10.0, 20.0)
    args, graph = graph_of(job, PicturePrep(insets=(inset,), windows=(window,)), media("/media/in.mp4", 1920, 1080, 30.0))
    assert args[:4] == ["-i", "file:/media/in.mp4", "-i", f"file:{nasty}"]
    assert "guide" not in graph  # paths never enter the graph
    # 576x432 (see the geometry test), border 6, held 2 s (10 s inset, 12 s window),
    # fades of 0.5 s at both ends of the 12 s window, placed at 4 s.
    assert (
        "[1:0]setpts=PTS-STARTPTS[s3];"
        # an untagged 640x480 inset is SD: read as BT.601 and converted to the output's BT.709
        "[s3]scale=576:432:flags=bicubic:in_color_matrix=bt601:out_color_matrix=bt709:out_range=tv[s4];"
        "[s4]format=yuva444p[s5];[s5]setsar=1[s6];[s6]fps=fps=30[s7];"
        "[s7]tpad=stop=-1:stop_mode=clone[s8];[s8]trim=duration=12.0[s9];"
        "[s9]pad=588:444:6:6:color=0xFFFFFF[s10];"
        "[s10]fade=alpha=1:duration=0.5:start_time=0:type=in[s11];"
        "[s11]fade=alpha=1:duration=0.5:start_time=11.5:type=out[s12];"
        "[s12]setpts=PTS+4.000000/TB[s13];"
        "[s2][s13]overlay=enable=gte(t\\,4.000000)*lt(t\\,16.000000):eof_action=pass:x=1274:y=578[s14];"
        "[s14]setparams="
    ) in graph
    # Muted by default: the inset's audio is not used.
    assert "[1:1]" not in graph and "amix" not in graph


def test_the_same_inset_twice_is_read_once_and_split(tmp_path: Path) -> None:
    job = pip_job(tmp_path, """
[[pip]]
source = "/media/guide.mp4"
start_s = 1.0
end_s = 3.0
audio = "mix"
[[pip]]
source = "/media/guide.mp4"
corner = "top-left"
start_s = 5.0
end_s = 7.0
audio = "duck"
duck_db = 9.0
""")
    inset = media("/media/guide.mp4", 640, 480, 25.0, duration_s=10.0)
    windows = tuple(build_window(s, 10.0, 20.0) for s in job.pip)
    prep = PicturePrep(insets=(inset, inset), windows=windows)
    main = media("/media/in.mp4", 1920, 1080, 30.0)
    args, picture = graph_of(job, prep, main)
    assert args.count("file:/media/guide.mp4") == 1
    assert re.search(r"\[1:0\]split=2\[s\d+\]\[s\d+\]", picture)
    args, graph = graph_of(job, prep, main, "sound")
    assert args.count("file:/media/guide.mp4") == 1
    assert re.search(r"\[1:1\]asplit=2\[s\d+\]\[s\d+\]", graph)
    assert "amix=dropout_transition=0:duration=first:inputs=3:normalize=0" in graph
    # Only the ducking inset lowers the main audio: 9 dB from 5 s to 7 s.
    assert "volume=eval=frame:volume=pow(10\\,-(9*clip(min((t-4.750000)/0.25\\,(7.250000-t)/0.25)\\,0\\,1))/20)" in graph
    # The inset's sound is converted like the main's and delayed by whole samples.
    assert "adelay=all=1:delays=48000S" in graph and "adelay=all=1:delays=240000S" in graph


def test_a_pip_job_needs_its_insets_prepared(tmp_path: Path) -> None:
    job = pip_job(tmp_path, '[[pip]]\nsource = "/media/guide.mp4"\n')
    with pytest.raises(ValueError, match="prepare_picture"):
        build_render_plan(job, media("/media/in.mp4", 1920, 1080, 30.0), None, work_dir=Path("/work"))


def test_the_loudness_measurement_hears_the_inset_sound_as_the_render_mixes_it(tmp_path: Path) -> None:
    from pipeline.plan import build_sound_measure_args

    job = pip_job(tmp_path, """
[[pip]]
source = "/media/guide.mp4"
start_s = 5.0
end_s = 7.0
audio = "duck"
duck_db = 9.0
""")
    inset = media("/media/guide.mp4", 640, 480, 25.0, duration_s=10.0)
    prep = PicturePrep(insets=(inset,), windows=(build_window(job.pip[0], 10.0, 20.0),))
    main = media("/media/in.mp4", 1920, 1080, 30.0)
    cleanup = [("highpass", {"f": 80.0})]
    gain = [("volume", {"volume": "6.000dB"})]
    args = build_sound_measure_args(job, main, prep, None, cleanup, gain)
    measure_graph = args[args.index("-filter_complex") + 1]
    _, render_graph = graph_of(job, prep, main, "sound")
    # The same inset input, duck and mix as the render graph; no picture is decoded.
    assert args.count("file:/media/guide.mp4") == 1
    for part in ("highpass=f=80.0", "amix=dropout_transition=0:duration=first:inputs=2:normalize=0",
                 "volume=eval=frame:volume=pow(10\\,-(9*clip(", "adelay=all=1:delays=240000S"):
        assert part in measure_graph and (part in render_graph or part == "highpass=f=80.0")
    assert "overlay" not in measure_graph and "[0:0]" not in measure_graph
    # The gain comes last, after the mix; raw float samples go to stdout.
    assert "volume=volume=6.000dB" in measure_graph.split(";")[-1]
    assert args[-1] == "pipe:1" and args[args.index("-f") + 1] == "f32le"
