"""HDR to SDR decisions (pure): which sources convert, which never copy, the filters and
the transfer functions against the standards' own numbers."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from pipeline import config
from pipeline.probe import VideoStreamInfo, parse_content_light_nits, parse_mastering_peak_nits
from pipeline.video.compose import copy_blockers, edits_picture
from pipeline.video.hdr import (
    KNEE_RATIO,
    REFERENCE_WHITE_NITS,
    build_hdr_to_sdr_filters,
    hlg_to_nits,
    needs_sdr_conversion,
    pq_to_nits,
)
from tests.hdr_media import pq_signal


def video(transfer: str | None, primaries: str | None = "bt2020", *, codec: str = "h264", pix_fmt: str = "yuv420p") -> VideoStreamInfo:
    return VideoStreamInfo(
        0, codec, "High", 1920, 1080, pix_fmt, 30.0, False, 0, "bt2020",
        color_transfer=transfer, color_primaries=primaries, colorspace="bt2020nc",
    )


def test_hlg_pq_and_bt2020_convert_and_bt709_does_not() -> None:
    assert needs_sdr_conversion(video("arib-std-b67"))
    assert needs_sdr_conversion(video("smpte2084"))
    assert needs_sdr_conversion(video("bt2020-10", "bt2020"))
    assert not needs_sdr_conversion(video("bt709", "bt709"))
    assert not needs_sdr_conversion(video(None, None))


def test_an_hdr_stream_is_never_copied_into_the_sdr_output(tmp_path) -> None:
    # 8-bit H.264 at the output size: everything else would allow a copy.
    job = config.quick_job(tmp_path / "in.mp4", tmp_path / "out.mp4", preset_name="youtube")
    hlg = video("arib-std-b67")
    assert any("HDR" in reason for reason in copy_blockers(hlg, job, (1920, 1080)))
    assert edits_picture(job, hlg)
    assert copy_blockers(video("bt709", "bt709"), job, (1920, 1080)) == []


def test_transfer_functions_meet_the_standards_reference_points() -> None:
    # BT.2408: HDR reference white, 203 cd/m2, is 58 % PQ and 75 % HLG.
    assert float(pq_to_nits(np.asarray(0.58))) == pytest.approx(203, rel=0.02)
    assert float(hlg_to_nits(np.asarray(0.75))) == pytest.approx(203, rel=0.02)
    assert float(hlg_to_nits(np.asarray(1.0))) == pytest.approx(1000, rel=1e-3)
    assert float(pq_to_nits(np.asarray(1.0))) == pytest.approx(10000, rel=1e-6)
    assert float(pq_to_nits(np.asarray(pq_signal(1000.0)))) == pytest.approx(1000, rel=1e-4)


def test_tone_curve_only_when_the_peak_is_above_reference_white() -> None:
    names = [name for name, _ in build_hdr_to_sdr_filters(video("smpte2084"), REFERENCE_WHITE_NITS)]
    assert "tonemap" not in names
    filters = dict(build_hdr_to_sdr_filters(video("smpte2084"), 1000.0))
    assert filters["tonemap"] == {"tonemap": "mobius", "param": KNEE_RATIO, "desat": 0, "peak": round(1000 / 203, 4)}


def test_the_filters_read_the_source_tags_and_end_in_bt709_8_bit() -> None:
    filters = build_hdr_to_sdr_filters(video("arib-std-b67"), 1000.0)
    first_name, first = filters[0]
    assert first_name == "zscale"
    assert (first["tin"], first["pin"], first["min"], first["npl"]) == ("arib-std-b67", "bt2020", "bt2020nc", 203.0)
    out = [options for name, options in filters if name == "zscale"][-1]
    assert (out["t"], out["m"], out["r"]) == ("bt709", "bt709", "tv")
    assert ("format", {"pix_fmts": "yuv420p"}) in filters
    deleted = {options["type"] for name, options in filters if name == "sidedata"}
    assert {"MASTERING_DISPLAY_METADATA", "CONTENT_LIGHT_LEVEL", "DOVI_METADATA"} <= deleted


def test_side_data_parsers_read_ffmpeg_structs() -> None:
    assert parse_content_light_nits(struct.pack("<II", 1000, 400)) == 1000.0
    assert parse_content_light_nits(struct.pack("<II", 0, 0)) is None
    primaries = struct.pack("<16i", *([1, 50000] * 8))
    luminance = struct.pack("<iiii", 50, 10000, 10000000, 10000) + struct.pack("<ii", 1, 1)
    assert parse_mastering_peak_nits(primaries + luminance) == 1000.0
    assert parse_mastering_peak_nits(primaries + luminance[:-4] + struct.pack("<i", 0)) is None
