"""A job's `[captions]` table (draft, burn_in, file, vocabulary): its schema, how a batch
passes it, what it adds to an output's fingerprint, and the burn-in's place in the one
picture command with its path escaped (pure: no ffmpeg)."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest

from pipeline import config
from pipeline.batch import fingerprint as fp
from pipeline.batch.manifest import load_manifest
from pipeline.errors import ConfigError
from pipeline.plan import build_picture_plan
from pipeline.probe import MediaInfo, VideoStreamInfo
from pipeline.video import caption_burn
from pipeline.video.caption_burn import BurnIn
from pipeline.video.prepare import PicturePrep

JOB_HEAD = '[input]\nmain = "in.mp4"\n[output]\npath = "out.mp4"\n'


def write_job(folder: Path, captions: str) -> Path:
    path = folder / "job.toml"
    path.write_text(JOB_HEAD + "[captions]\n" + captions, encoding="utf-8")
    return path


def test_the_job_table_resolves_the_file_and_keeps_the_vocabulary(tmp_path: Path) -> None:
    job = config.load_job(write_job(tmp_path, 'burn_in = true\nfile = "subs/out.en.vtt"\ndraft = true\n'
                                               'vocabulary = ["Riverside Clinic", "Dr. Okonkwo"]\n'))
    assert job.captions.file == tmp_path / "subs" / "out.en.vtt"
    assert job.captions.burn_in and job.captions.draft
    assert job.captions.vocabulary == ("Riverside Clinic", "Dr. Okonkwo")
    assert config.load_job(write_job(tmp_path, "")).captions == config.RenderCaptions()


@pytest.mark.parametrize(("table", "expected"), [
    ("burn_in = true\n", "captions: burn_in needs the approved caption file"),
    ('file = "a.vtt"\n', "captions: file names the captions to burn in"),
    ('draft = "yes"\n', "captions.draft: Input should be a valid boolean"),
    # The caption rules are a preset's: a job cannot loosen them.
    ("max_line_chars = 60\n", "captions.max_line_chars: unknown key; allowed: burn_in, draft, file, vocabulary"),
])
def test_bad_tables_name_the_key(tmp_path: Path, table: str, expected: str) -> None:
    with pytest.raises(ConfigError) as raised:
        config.load_job(write_job(tmp_path, table))
    assert any(expected in line for line in [raised.value.one_line(), *raised.value.problems]), raised.value.problems


def test_a_batch_passes_the_table_inline_and_for_a_pattern_only_drafts(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.mp4").write_bytes(b"a")
    manifest = tmp_path / "batch.toml"
    manifest.write_text(
        'jobs = [{ name = "inline", input = { main = "in/a.mp4" }, output = { path = "o/i.mp4" },'
        ' captions = { burn_in = true, file = "i.en.srt" } }]\n'
        '[pattern]\ninputs = "in"\noutput_dir = "o"\n[pattern.captions]\ndraft = true\nvocabulary = ["Level 2"]\n',
        encoding="utf-8")
    jobs = {item.name: item.job for item in load_manifest(manifest).jobs}
    assert jobs["inline"] is not None and jobs["inline"].captions.file == tmp_path / "i.en.srt"
    assert jobs["a"] is not None and jobs["a"].captions.draft and jobs["a"].captions.vocabulary == ("Level 2",)
    manifest.write_text('[pattern]\ninputs = "in"\noutput_dir = "o"\n[pattern.captions]\nburn_in = true\n'
                        'file = "x.srt"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_manifest(manifest)
    assert any("pattern.captions.burn_in: each video needs its own approved caption file" in p
               for p in raised.value.problems)


def digest_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_fingerprint_covers_the_burned_file_and_the_drafts_words(tmp_path: Path) -> None:
    (tmp_path / "in.mp4").write_bytes(b"input")
    plain = config.load_job(write_job(tmp_path, ""))
    base = fp.build_fingerprint(plain, digest_of)
    assert "captions" not in fp.build_sources_part(plain, digest_of)  # old records stay valid

    drafting = dataclasses.replace(plain, captions=config.RenderCaptions(draft=True, vocabulary=("Level 2",)))
    assert fp.build_sources_part(drafting, digest_of)["captions"] == {
        "draft": {"language": "en", "vocabulary": ["Level 2"]}}
    assert fp.build_fingerprint(drafting, digest_of).components["sources"] != base.components["sources"]

    subs = tmp_path / "out.en.srt"
    subs.write_text("approved words", encoding="utf-8")
    burning = dataclasses.replace(plain, captions=config.RenderCaptions(burn_in=True, file=subs))
    first = fp.build_fingerprint(burning, digest_of)
    subs.write_text("other words", encoding="utf-8")
    assert fp.build_fingerprint(burning, digest_of).components["sources"] != first.components["sources"]


def test_the_burn_in_is_in_the_one_picture_command_with_its_paths_escaped() -> None:
    info = MediaInfo(path=Path("/media/in.mp4"), container="mov,mp4", duration_s=20.0, size_bytes=1,
                     video=VideoStreamInfo(0, "h264", "High", 1920, 1080, "yuv420p", 30.0, False, 0), audio=())
    job = config.quick_job(Path("/media/in.mp4"), Path("/out/x.mp4"))
    job = dataclasses.replace(job, captions=config.RenderCaptions(burn_in=True, file=Path("/subs/a.srt")))
    nasty = Path("/work/it's [a]; b,c:d")
    burn = BurnIn(nasty / "burn-captions.srt", nasty / "burn-fonts")
    plan = build_picture_plan(job, info, nasty, prep=PicturePrep(burn=burn))
    assert plan.video_mode == "encode" and plan.args is not None
    graph = plan.args[plan.args.index("-filter_complex") + 1]
    assert graph.count("subtitles=") == 1
    # Escaped twice, as ffmpeg reads it: the option value (\ ' : =), then the graph ([ ] , ; ' \).
    # ':' -> '\:' -> '\\:'; "'" -> "\'" -> "\\\'"; '[' ']' ';' ',' are the graph's only.
    # (test_captions_burn renders from a folder named like this with the real ffmpeg.)
    assert r"filename=file\\:/work/it\\\'s \[a\]\; b\,c\\:d/burn-captions.srt:" in graph
    assert r"fontsdir=/work/it\\\'s \[a\]\; b\,c\\:d/burn-fonts:" in graph
    assert caption_burn.build_force_style().replace("=", r"\\=").replace(",", r"\,") in graph
    # Without the prepared file the plan refuses rather than burn nothing.
    with pytest.raises(ValueError, match="prepare_burn_in"):
        build_picture_plan(job, info, nasty, prep=PicturePrep())


def test_the_style_keeps_the_box_inside_the_title_safe_area() -> None:
    # ffmpeg's script grid is 288 high: the box's edge (margin minus padding) at 5 %.
    assert (caption_burn.MARGIN_V - caption_burn.BOX_PADDING) / caption_burn.SCRIPT_HEIGHT == pytest.approx(0.05, abs=0.002)
    assert (caption_burn.MARGIN_H - caption_burn.BOX_PADDING) / caption_burn.SCRIPT_WIDTH == pytest.approx(0.05, abs=0.002)
    style = dict(item.split("=") for item in caption_burn.build_force_style().split(","))
    assert style["FontName"] == "DejaVu Sans" and style["BorderStyle"] == "3"
    assert style["BackColour"] == style["OutlineColour"] == "&H60000000"  # semi-opaque black box
