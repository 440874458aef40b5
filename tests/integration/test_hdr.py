"""HDR to SDR with the real ffmpeg: SDR originals carried in HLG and PQ (made with zscale,
SDR white at the 203 cd/m2 reference white of ITU-R BT.2408) must come back close to the
original (SSIM >= 0.93, the issue's bar) and tagged BT.709 SDR; highlights above
reference white are rolled off, not clipped away with the rest of the picture."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest

from pipeline import config
from pipeline.probe import probe
from pipeline.render import run_render
from pipeline.video.hdr import REFERENCE_WHITE_NITS, prepare_hdr
from pipeline.video.prepare import sample_picture
from pipeline.video.sampling import sample_frames
from tests.hdr_media import Box, make_hdr_copy, make_sdr_original, ssim
from tests.integration.jobs import write_job
from tests.media import make_clip

MIN_SSIM = 0.93
BOX = Box(x=400, y=60, width=160, height=100, nits=1000.0)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hdr")
    original = make_sdr_original(folder / "original.mkv")
    original_box = make_sdr_original(folder / "original_box.mkv", box=BOX)
    return {
        "original": original,
        "original_box": original_box,
        "hlg": make_hdr_copy(original, folder / "hlg.mp4", "hlg"),
        "pq": make_hdr_copy(original, folder / "pq.mp4", "pq"),
        "pq_box": make_hdr_copy(original_box, folder / "pq_box.mp4", "pq", box=BOX, declare_peak_nits=BOX.nits),
        "pq_box_undeclared": make_hdr_copy(original_box, folder / "pq_box_undeclared.mp4", "pq", box=BOX),
    }


def render(source: Path, out: Path) -> dict[str, object]:
    run_render(config.quick_job(source, out, preset_name="youtube-draft"))
    return json.loads(out.with_name(out.name + ".wayfinder.json").read_text())


def assert_sdr_bt709(path: Path) -> None:
    video = probe(path).video
    assert video is not None
    assert (video.color_transfer, video.color_primaries, video.colorspace) == ("bt709", "bt709", "bt709")
    assert video.pix_fmt == "yuv420p"  # 8-bit
    assert video.declared_peak_nits is None  # no HDR mastering metadata left in an SDR file


def test_probe_reads_the_hdr_tags_and_the_declared_peak(media: dict[str, Path]) -> None:
    hlg = probe(media["hlg"]).video
    pq = probe(media["pq_box"]).video
    assert hlg is not None and pq is not None
    assert (hlg.color_transfer, hlg.color_primaries, hlg.colorspace) == ("arib-std-b67", "bt2020", "bt2020nc")
    assert (pq.color_transfer, pq.color_primaries, pq.colorspace) == ("smpte2084", "bt2020", "bt2020nc")
    assert hlg.declared_peak_nits is None
    assert pq.declared_peak_nits == BOX.nits  # max-cll given to the encoder
    assert probe(media["hlg"]).to_dict()["video"]["color_transfer"] == "arib-std-b67"


@pytest.mark.parametrize("kind", ["hlg", "pq"])
def test_sdr_carried_in_hdr_comes_back_close_to_the_original(kind: str, media: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / f"{kind}.mp4"
    report = render(media[kind], out)
    assert ssim(out, media["original"]) >= MIN_SSIM
    assert_sdr_bt709(out)
    assert report["video_mode"] == "encode"
    hdr = report["measurements"]["picture"]["hdr"]
    # Nothing above reference white in an SDR original: converted, not tone mapped.
    assert hdr["peak_source"] == "measured from frames"
    assert hdr["tone_mapped"] is False
    assert abs(hdr["peak_nits"] - REFERENCE_WHITE_NITS) < 0.1 * REFERENCE_WHITE_NITS
    assert any("converted to SDR BT.709" in note for note in report["notes"])


def test_highlights_above_reference_white_are_rolled_off(media: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "box.mp4"
    report = render(media["pq_box"], out)
    assert ssim(out, media["original_box"]) >= MIN_SSIM
    assert_sdr_bt709(out)
    hdr = report["measurements"]["picture"]["hdr"]
    assert hdr["tone_mapped"] is True and hdr["peak_nits"] == BOX.nits
    assert hdr["peak_source"] == "declared by the stream"
    with av.open(str(out)) as container:
        frame = next(container.decode(video=0)).to_ndarray(format="gray")
    inside = frame[BOX.y + 8:BOX.y + BOX.height - 8, BOX.x + 8:BOX.x + BOX.width - 8]
    # The source's peak lands on SDR white (235 in limited range), within coding error.
    assert inside.mean() >= 230


def test_an_undeclared_peak_is_measured_from_the_frames(media: dict[str, Path]) -> None:
    hdr = prepare_hdr(probe(media["pq_box_undeclared"]))
    assert hdr is not None and hdr.peak_source == "measured from frames"
    assert abs(hdr.peak_nits - BOX.nits) < 0.15 * BOX.nits


def test_light_analysis_sees_the_converted_picture(media: dict[str, Path]) -> None:
    info = probe(media["hlg"])
    converted = sample_picture(info, prepare_hdr(info))
    original = sample_frames(probe(media["original"]))
    raw = sample_frames(info)  # what the analysis read before: HLG code values

    def white_level(samples: object) -> float:
        # The bright end of the picture: HLG codes reference white at 75 %, so its raw
        # code values read about a quarter darker than the SDR they carry.
        return float(np.median([np.percentile(sample.luma, 90) for sample in samples.samples]))  # type: ignore[attr-defined]

    assert abs(white_level(converted) - white_level(original)) < 0.03
    assert white_level(raw) < white_level(original) - 0.1  # what the analysis saw before


def test_an_hdr_inset_is_converted_like_a_main_picture(media: dict[str, Path], tmp_path: Path) -> None:
    main = make_clip(tmp_path / "main.mp4", size="640x360", duration_s=2.0)
    frames = {}
    for name in ("original", "hlg"):
        folder = tmp_path / name
        folder.mkdir()
        job = write_job(folder, main, f'[[pip]]\nsource = "{media[name]}"\ncorner = "top-right"\nwidth = 0.5\naudio = "mute"\n')
        run_render(config.load_job(job))
        with av.open(str(folder / "out.mp4")) as container:
            frames[name] = next(container.decode(video=0)).to_ndarray(format="rgb24").astype(np.float64)
    # The inset of the HLG copy looks like the inset of the SDR original it carries.
    height, width = frames["original"].shape[:2]
    inset = (slice(height // 16, height // 3), slice(width // 2 + width // 16, width - width // 16))
    difference = np.abs(frames["hlg"][inset] - frames["original"][inset]).mean()
    assert difference < 10.0, difference  # unconverted: about 70
