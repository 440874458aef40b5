"""The plan layer: exact ffmpeg argument lists for the decisions a render makes (no ffmpeg)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import config
from pipeline.audio.gain import build_gain_filters, plan_gain
from pipeline.audio.prepare import AudioPrep
from pipeline.errors import ConfigError
from pipeline.plan import RenderPlan, build_render_plan, partial_path_for
from pipeline.video.compose import snap_fps
from pipeline.probe import AudioStreamInfo, MediaInfo, VideoStreamInfo


def media(
    path: str = "/media/in.mp4",
    *,
    width: int = 1920,
    height: int = 1080,
    fps: float = 30.0,
    codec: str = "h264",
    pix_fmt: str = "yuv420p",
    vfr: bool = False,
    rotation: int = 0,
    audio: tuple[AudioStreamInfo, ...] = (AudioStreamInfo(1, "aac", 48000, 2, "stereo"),),
    video: bool = True,
) -> MediaInfo:
    return MediaInfo(
        path=Path(path),
        container="mov,mp4",
        duration_s=20.0,
        size_bytes=1,
        video=VideoStreamInfo(0, codec, "High", width, height, pix_fmt, fps, vfr, rotation) if video else None,
        audio=audio,
    )


def job(output: str = "/out/clip.mp4", preset: str = "youtube", **flags: dict) -> config.Job:
    return config.quick_job(Path("/media/in.mp4"), Path(output), preset_name=preset, flag_layer=flags or None)


def audio_prep(job: config.Job, measured_lufs: float, measured_tp_dbtp: float, cleanup=()) -> AudioPrep:
    gain = plan_gain(job.settings.audio, measured_lufs, measured_tp_dbtp)
    return AudioPrep(None, (), tuple(cleanup), gain, tuple(build_gain_filters(gain, 48000)))  # type: ignore[arg-type]
FORMAT = "[0:1]aresample=out_sample_rate=48000[s0];[s0]aformat=channel_layouts=stereo:sample_rates=48000[s1]"
AUDIO_OUT = ["-ac", "2", "-ar", "48000", "-b:a", "384k", "-c:a", "aac"]
WORK = Path("/work")


def render_plan(the_job: config.Job, info: MediaInfo, prep: AudioPrep | None) -> RenderPlan:
    return build_render_plan(the_job, info, prep, work_dir=WORK)


def test_no_video_edits_copies_video_and_normalizes_audio() -> None:
    the_job = job()
    # -27.5 LUFS with peaks at -18 dBTP: +13.5 dB puts them at -4.5, under -1.5: plain gain
    plan = render_plan(the_job, media(), audio_prep(the_job, -27.5, -18.0, [("highpass", {"f": 80})]))
    assert plan.picture.args is None  # nothing to encode: the video is copied at the mux
    # the sound track: cleaned up, gain applied, encoded once to AAC in an M4A file
    assert plan.sound_args == [
        "-i", "file:/media/in.mp4",
        "-filter_complex", f"{FORMAT};[s1]highpass=f=80[s2];[s2]volume=precision=double:volume=13.500dB[s3]",
        "-map", "[s3]",
        "-f", "ipod", "-aac_coder", "fast", *AUDIO_OUT,
        "-map_chapters", "-1", "-map_metadata", "-1", "-movflags", "+faststart",
        "file:/work/sound.m4a", "-y",
    ]
    # the mux copies the source's video stream and the track, decoding nothing
    assert plan.mux_args == [
        "-i", "file:/media/in.mp4", "-i", "file:/work/sound.m4a",
        "-map", "0:0", "-map", "1:a:0", "-c", "copy", "-map_metadata", "-1", "-map_chapters", "-1",
        "-movflags", "+faststart", "-f", "mp4", "-y", "file:/out/.clip.mp4.partial",
    ]
    assert plan.video_mode == "copy" and plan.audio_mode == "normalize"
    assert plan.partial_path == Path("/out/.clip.mp4.partial")
    assert plan.command_line().count("\n") == 1  # two commands: the sound and the mux


def test_peaky_audio_gets_the_oversampled_limiter() -> None:
    the_job = job()
    # -20 LUFS with peaks at -3 dBTP: +6 dB would reach +3 dBTP, over -1 minus 0.5 margin
    plan = render_plan(the_job, media(), audio_prep(the_job, -20.0, -3.0))
    assert plan.sound_args is not None
    graph = plan.sound_args[plan.sound_args.index("-filter_complex") + 1]
    assert graph.endswith(
        "[s1]volume=precision=double:volume=6.000dB[s2];[s2]aresample=out_sample_rate=192000[s3];"
        "[s3]alimiter=attack=5.0:latency=true:level=false:limit=0.841395:release=80.0[s4];"
        "[s4]aresample=out_sample_rate=48000[s5]"
    )  # 0.841395 = 10^(-1.5/20)


def test_encode_follows_the_youtube_recommendations() -> None:
    # a 4K HEVC source cannot be copied: scaled into 1080p and encoded per the preset
    plan = render_plan(job(), media(width=3840, height=2160, codec="hevc"), None)
    assert plan.video_mode == "encode"
    assert plan.output_size_px == (1920, 1080)
    args = plan.picture.args
    assert args is not None and "-an" in args  # the picture's command carries no sound
    assert args[-2:] == ["file:/work/picture.mp4", "-y"]
    assert plan.mux_args[:4] == ["-i", "file:/work/picture.mp4", "-i", "file:/work/sound.m4a"]
    graph = args[args.index("-filter_complex") + 1]
    assert graph == (
        # untagged 4K: read as BT.709 (the HD convention), so the scale does no matrix conversion
        "[0:0]scale=1920:1080:flags=bicubic:in_color_matrix=bt709:out_color_matrix=bt709:out_range=tv[s0];"
        "[s0]setsar=1[s1];[s1]format=yuv420p[s2];"
        "[s2]setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv[s3]"
    )  # the whole picture graph: the sound is made by its own command
    def value(flag: str) -> str:
        return args[args.index(flag) + 1]
    assert value("-c:v") == "libx264"
    assert value("-profile:v") == "high"
    assert value("-pix_fmt") == "yuv420p"
    assert value("-crf") == "18"
    assert value("-preset") == "medium"
    assert value("-g") == "15" and value("-keyint_min") == "15"  # closed GOP: half of 30 fps
    assert value("-flags") == "+cgop" and value("-sc_threshold") == "0"
    assert value("-r") == "30" and value("-fps_mode") == "cfr"
    for flag in ("-colorspace", "-color_primaries", "-color_trc"):
        assert value(flag) == "bt709"
    assert plan.mux_args[plan.mux_args.index("-movflags") + 1] == "+faststart"  # the mux writes the output
    assert any("scaled 3840x2160 down to 1920x1080" in n for n in plan.notes)


def test_gop_is_half_the_ntsc_rate_and_rate_is_exact() -> None:
    plan = render_plan(job(), media(codec="mpeg4", fps=29.97), None)
    args = plan.picture.args
    assert args[args.index("-r") + 1] == "30000/1001"
    assert args[args.index("-g") + 1] == "15"
    plan = render_plan(job(), media(codec="mpeg4", fps=59.94), None)
    assert plan.picture.args[plan.picture.args.index("-g") + 1] == "30"


def test_odd_size_is_made_even_and_said() -> None:
    plan = render_plan(job(), media(width=641, height=361), None)
    assert plan.output_size_px == (640, 360)
    assert plan.video_mode == "encode"
    assert any("odd frame size 641x361" in n for n in plan.notes)


def test_rotation_uses_display_size() -> None:
    # a portrait phone clip stored 1920x1080 with a 90 degree display rotation: shown
    # 1080x1920, which fits the youtube box on its side (issue 14: not shrunk to 606x1080)
    plan = render_plan(job(), media(rotation=90, codec="hevc"), None)
    assert plan.output_size_px == (1080, 1920)


def test_variable_frame_rate_is_rendered_constant() -> None:
    plan = render_plan(job(), media(fps=29.93, vfr=True), None)
    assert plan.video_mode == "encode"
    assert plan.picture.args[plan.picture.args.index("-fps_mode") + 1] == "cfr"
    assert plan.picture.args[plan.picture.args.index("-r") + 1] == "30000/1001"
    assert any("variable frame rate" in n for n in plan.notes)


def test_manual_light_puts_eq_and_temperature_before_scaling() -> None:
    the_job = job(light={"mode": "manual", "brightness": 0.1, "gamma": 1.2, "temperature_shift_k": -800})
    plan = render_plan(the_job, media(), None)
    graph = plan.picture.args[plan.picture.args.index("-filter_complex") + 1]
    # The untagged 1080p source's frames are tagged BT.709 first: colortemperature works
    # in RGB, and ffmpeg's conversion into RGB would otherwise read them as BT.601.
    assert graph.startswith(
        "[0:0]setparams=colorspace=bt709[s0];"
        "[s0]eq=brightness=0.1:contrast=1.0:gamma=1.2:saturation=1.0[s1];"
        "[s1]colortemperature=pl=1:temperature=5700.0[s2];[s2]scale="
    )


def test_audio_only_output_and_video_without_audio() -> None:
    plan = render_plan(job("/out/talk.m4a", preset="podcast-audio"), media(), None)
    assert plan.video_mode == "none" and plan.picture.args is None
    assert plan.mux_args[:2] == ["-i", "file:/work/sound.m4a"] and "0:a:0" in plan.mux_args
    assert plan.mux_args[plan.mux_args.index("-f") + 1] == "ipod"
    plan = render_plan(job(), media(audio=()), None)
    assert plan.audio_mode == "none" and plan.sound_args is None and plan.video_mode == "copy"
    assert plan.mux_args[:6] == ["-i", "file:/media/in.mp4", "-map", "0:0", "-c", "copy"]


def test_awkward_paths_stay_single_arguments() -> None:
    nasty = "/media/it's [a]; b,c:d\\e ünï.mp4"
    plan = render_plan(job("/out/x y';[z].mp4"), media(nasty), None)
    assert plan.sound_args is not None
    assert plan.sound_args[:2] == ["-i", f"file:{nasty}"]
    assert plan.mux_args[:2] == ["-i", f"file:{nasty}"]
    assert plan.mux_args[-1] == "file:/out/.x y';[z].mp4.partial"
    # paths never enter the filter graph
    graph = plan.sound_args[plan.sound_args.index("-filter_complex") + 1]
    assert "it's" not in graph and "x y" not in graph and "/media/" not in graph


def test_unknown_output_extension_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unsupported output extension '.avi'"):
        render_plan(job("/out/x.avi"), media(), None)


def test_partial_path_is_hidden_beside_the_target() -> None:
    assert partial_path_for(Path("/a/b.mp4")) == Path("/a/.b.mp4.partial")


def test_snap_fps_picks_the_nearest_standard_rate() -> None:
    assert snap_fps(30.0) == 30.0
    assert snap_fps(29.93) == 29.97
    assert snap_fps(23.98) == 23.976
    assert snap_fps(12.5) == 12.5
