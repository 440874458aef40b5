"""Benchmark of HDR to SDR: an SDR original (testsrc2, 640x360, 2 s) carried in HLG and in
PQ with zscale (SDR white at the 203 cd/m2 reference white, HEVC Main10, BT.2020), and a
PQ copy with a 1000 cd/m2 highlight box declared in its metadata, rendered by Wayfinder
with the `youtube-draft` preset; SSIM (ffmpeg's ssim filter, All) of each output against
its SDR original, next to the SSIM of the same source encoded by the same preset without
any conversion (what the pipeline did before).

Run:  .venv/bin/python bench/bench_hdr.py     (writes the "HDR to SDR" section of
      bench/RESULTS.md; --no-write to only print; media in bench/work/hdr/).
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

import common  # noqa: E402  (bench/common.py: machine description, RESULTS.md sections)

from pipeline import config  # noqa: E402
from pipeline.media import run_ffmpeg  # noqa: E402
from pipeline.render import run_render  # noqa: E402
from tests.hdr_media import Box, make_hdr_copy, make_sdr_original, ssim  # noqa: E402

WORK = common.WORK / "hdr"
BOX = Box(x=400, y=60, width=160, height=100, nits=1000.0)
TITLE = "## HDR to SDR"


def unconverted(source: Path, out: Path) -> Path:
    """The source encoded like the preset's encode, with no HDR handling (scale only)."""
    run_ffmpeg(["-i", f"file:{source}", "-vf", "scale=640:360,format=yuv420p", "-c:v", "libx264",
                "-preset", "veryfast", "-crf", "18", "-an", "-y", f"file:{out}"])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-write", action="store_true", help="print the section, do not write RESULTS.md")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    original = make_sdr_original(WORK / "original.mkv")
    original_box = make_sdr_original(WORK / "original_box.mkv", box=BOX)
    cases = [
        ("HLG (arib-std-b67), no metadata", make_hdr_copy(original, WORK / "hlg.mp4", "hlg"), original),
        ("PQ (smpte2084), no metadata", make_hdr_copy(original, WORK / "pq.mp4", "pq"), original),
        ("PQ with a 1000 cd/m2 box, MaxCLL 1000", make_hdr_copy(
            original_box, WORK / "pq_box.mp4", "pq", box=BOX, declare_peak_nits=BOX.nits), original_box),
    ]
    rows = []
    for label, source, reference in cases:
        out = WORK / f"{source.stem}_out.mp4"
        started = time.monotonic()
        result = run_render(config.quick_job(source, out, preset_name="youtube-draft"), force=True)
        wall_s = time.monotonic() - started
        hdr = result.measurements["picture"]["hdr"]  # type: ignore[index]
        before = ssim(unconverted(source, WORK / f"{source.stem}_unconverted.mp4"), reference)
        rows.append(
            f"| {label} | {ssim(out, reference):.4f} | {before:.4f} | {hdr['peak_nits']:.0f} ({hdr['peak_source']}) "
            f"| {'yes' if hdr['tone_mapped'] else 'no'} | {wall_s:.1f} |"
        )
    text = "\n".join([
        TITLE, "",
        f"Run: `.venv/bin/python bench/bench_hdr.py` ({date.today().isoformat()}). {common.machine_line()}",
        "",
        "SDR original: testsrc2 640x360 25 fps 2 s, FFV1. HDR copies made with zscale (npl=203: SDR white on "
        "BT.2408 reference white), BT.2020, HEVC Main10 (libx265 CRF 6). Rendered with `youtube-draft` "
        "(x264 veryfast CRF 18); SSIM by ffmpeg's ssim filter (All) against the SDR original. "
        "'before' is the same source encoded without conversion (scale only), as the pipeline did before. "
        "Bar: SSIM >= 0.93.",
        "",
        "| source | SSIM | SSIM before | peak cd/m2 | tone mapped | render wall s |",
        "|---|---:|---:|---|---|---:|",
        *rows, "",
    ])
    print(text)
    if not args.no_write:
        common.write_section(TITLE, text)


if __name__ == "__main__":
    main()
