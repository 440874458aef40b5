"""The picture half of the plan with cards and auto light (pure; no ffmpeg): the graph
shapes and the plan's length."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline import config
from pipeline.plan import RenderPlan, build_render_plan
from pipeline.probe import AudioStreamInfo, MediaInfo, VideoStreamInfo
from pipeline.video.cards import RenderedCard
from pipeline.video.light import Correction, LightPlan, ShotLight
from pipeline.video.prepare import PicturePrep

MAIN = MediaInfo(
    path=Path("/media/in.mp4"), container="mov,mp4", duration_s=20.0, size_bytes=1,
    video=VideoStreamInfo(0, "h264", "High", 1920, 1080, "yuv420p", 30.0, False, 0),
    audio=(AudioStreamInfo(1, "aac", 48000, 2, "stereo"),),
)


def job(tmp_path: Path, tables: str = "", output: str = "/out/x.mp4") -> config.Job:
    path = tmp_path / "job.toml"
    path.write_text(f'[input]\nmain = "/media/in.mp4"\n[output]\npath = "{output}"\n{tables}')
    return config.load_job(path)


def card(name: str, duration_s: float, audio: MediaInfo | None = None) -> RenderedCard:
    return RenderedCard(name, Path(f"/cache/cards/{name}.mp4"), duration_s, (1920, 1080), "30", audio, cache_hit=True)


def plan_of(the_job: config.Job, prep: PicturePrep, info: MediaInfo = MAIN) -> RenderPlan:
    return build_render_plan(the_job, info, None, prep=prep, work_dir=Path("/work"))


def graph(args: list[str] | None) -> str:
    assert args is not None
    return args[args.index("-filter_complex") + 1]


def test_cards_are_concatenated_around_the_programme_with_silence(tmp_path: Path) -> None:
    the_job = job(tmp_path, '[intro]\nlines = ["a"]\n[outro]\nlines = ["b"]\n')
    prep = PicturePrep(cards={"intro": card("intro", 3.0), "outro": card("outro", 2.5)})
    plan = plan_of(the_job, prep)
    assert plan.duration_s == pytest.approx(25.5)
    # The picture: the intro clip, the main, the outro clip, joined by one concat.
    args = plan.picture.args
    assert args is not None
    assert args[:2] == ["-i", "file:/cache/cards/intro.mp4"]
    assert "file:/cache/cards/outro.mp4" in args
    text = graph(args)
    assert "concat=a=0:n=3:v=1" in text
    # A card's frames get the programme's size, rate, pixel format and tags.
    assert "[0:0]setpts=PTS-STARTPTS[s0];[s0]fps=fps=30[s1];[s1]scale=1920:1080:" in text
    assert text.count("setparams=color_primaries=bt709") == 3
    # The sound: the intro's silence (lavfi, 3 s), the main's sound, the outro's silence.
    sound = plan.sound_args
    assert sound is not None
    assert ["-f", "lavfi", "-t", "3.000000", "-i", "anullsrc=channel_layout=stereo:sample_rate=48000"] == sound[:6]
    assert "2.500000" in sound and "concat=a=1:n=3:v=0" in graph(sound)


def test_identical_silences_share_one_input(tmp_path: Path) -> None:
    the_job = job(tmp_path, '[intro]\nlines = ["a"]\n[outro]\nlines = ["b"]\n')
    prep = PicturePrep(cards={"intro": card("intro", 3.0), "outro": card("outro", 3.0)})
    args = plan_of(the_job, prep).sound_args
    assert args is not None
    assert args.count("anullsrc=channel_layout=stereo:sample_rate=48000") == 1
    assert re.search(r"\[0:0\]asplit=2\[s\d+\]\[s\d+\]", graph(args))


def test_identical_intro_and_outro_are_read_once_and_split(tmp_path: Path) -> None:
    the_job = job(tmp_path, '[intro]\nlines = ["a"]\n[outro]\nlines = ["a"]\n')
    same = card("intro", 3.0)
    args = plan_of(the_job, PicturePrep(cards={"intro": same, "outro": same})).picture.args
    assert args is not None
    assert args.count("file:/cache/cards/intro.mp4") == 1
    text = graph(args)
    assert re.search(r"setparams=[^;]*\[s\d+\];\[s\d+\]split=2\[s\d+\]\[s\d+\]", text)
    assert "concat=a=0:n=3:v=1" in text


def test_a_card_with_its_own_sound_is_padded_cut_and_faded(tmp_path: Path) -> None:
    chime = MediaInfo(Path("/media/chime.wav"), "wav", 0.6, 1, None, (AudioStreamInfo(0, "pcm_s16le", 44100, 1, "mono"),))
    the_job = job(tmp_path, '[outro]\nlines = ["b"]\n')
    prep = PicturePrep(cards={"outro": card("outro", 2.0, chime)})
    text = graph(plan_of(the_job, prep).sound_args)
    assert "aresample=out_sample_rate=48000" in text and "apad" in text
    assert "atrim=duration=2.0" in text and "afade=duration=0.5:start_time=1.5:type=out" in text
    assert "concat=a=1:n=2:v=0" in text


def test_cards_without_audio_and_audio_only_outputs(tmp_path: Path) -> None:
    silent_main = MediaInfo(MAIN.path, MAIN.container, 20.0, 1, MAIN.video, ())
    prep = PicturePrep(cards={"intro": card("intro", 3.0)})
    plan = plan_of(job(tmp_path, '[intro]\nlines = ["a"]\n'), prep, silent_main)
    assert "concat=a=0:n=2:v=1" in graph(plan.picture.args) and plan.sound_args is None
    # An .m4a output has no picture: no cards, and the length is the main's.
    plan = plan_of(job(tmp_path, '[intro]\nlines = ["a"]\n', "/out/x.m4a"), prep)
    assert plan.duration_s == 20.0 and plan.picture.args is None
    assert plan.sound_args is not None and "concat" not in " ".join(plan.sound_args)


def test_auto_light_filters_come_before_scaling(tmp_path: Path) -> None:
    the_job = job(tmp_path, '[light]\nmode = "auto"\n')
    light = LightPlan(shots=(ShotLight(0.0, 20.0, Correction(gain=2.0, balance_rgb=(1.1, 1.0, 0.9)), {}),),
                      transitions=())
    text = graph(plan_of(the_job, PicturePrep(light=light)).picture.args)
    # On the source's own Y'CbCr planes: no RGB conversion, so no tagging is needed first.
    assert text.startswith("[0:0]colorcorrect@light=")
    assert "[s0];[s0]lutyuv@light=" in text and "[s1];[s1]scale=1920:1080" in text
    assert "gbrp" not in text and "setparams=colorspace" not in text
    # Auto light without its analysis adds nothing (never a guess).
    plain = graph(plan_of(the_job, PicturePrep()).picture.args)
    assert plain.startswith("[0:0]scale=1920:1080")
