"""HDR test media: an SDR original (lossless) and the same picture carried in HLG or PQ,
made with zscale the way BT.2408 places SDR in HDR (SDR white at HDR reference white,
203 cd/m2), coded as a phone would (HEVC Main10, BT.2020, 10-bit). Optionally a box of
highlights above reference white. SSIM against the original by ffmpeg's ssim filter."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from pipeline.media import find_ffmpeg
from pipeline.video.hdr import REFERENCE_WHITE_NITS
from tests.media import ffmpeg

TRANSFERS = {"hlg": "arib-std-b67", "pq": "smpte2084"}
SIZE = "640x360"
FPS = 25


@dataclass(frozen=True)
class Box:
    """A highlight: x, y, width, height in pixels, brightness in cd/m2."""

    x: int
    y: int
    width: int
    height: int
    nits: float


def pq_signal(nits: float) -> float:
    """SMPTE ST 2084 inverse EOTF (from the standard's constants)."""
    m1, m2 = 2610 / 16384, 2523 / 4096 * 128
    c1, c2, c3 = 3424 / 4096, 2413 / 4096 * 32, 2392 / 4096 * 32
    y = (nits / 10000.0) ** m1
    return ((c1 + c2 * y) / (1 + c3 * y)) ** m2


def _encoders() -> str:
    return subprocess.run([find_ffmpeg(), "-hide_banner", "-encoders"], capture_output=True, text=True, check=True).stdout


def make_sdr_original(path: Path, *, duration_s: float = 2.0, box: Box | None = None) -> Path:
    """testsrc2, BT.709 tagged, FFV1 (lossless); a white box where the HDR copy has its
    highlight, since SDR can show nothing brighter than white there."""
    chain = f"testsrc2=size={SIZE}:rate={FPS}:duration={duration_s}"
    if box is not None:
        chain += f",drawbox=x={box.x}:y={box.y}:w={box.width}:h={box.height}:color=white:t=fill"
    ffmpeg("-f", "lavfi", "-i", chain, "-pix_fmt", "yuv420p", "-c:v", "ffv1",
           "-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709", "-color_range", "tv", str(path))
    return path


def make_hdr_copy(original: Path, path: Path, kind: str, *, box: Box | None = None, declare_peak_nits: float | None = None) -> Path:
    """`original` carried in HLG or PQ (`kind`), BT.2020, 10-bit: SDR white lands on
    203 cd/m2 (zscale npl). HEVC Main10 when libx265 exists, else x264 High 10."""
    transfer = TRANSFERS[kind]
    convert = (
        f"zscale=tin=bt709:pin=bt709:min=bt709:rin=tv:t={transfer}:p=bt2020:m=bt2020nc:r=tv:"
        f"npl={REFERENCE_WHITE_NITS:g}:filter=spline36,format=yuv420p10le"
    )
    if box is None:
        graph = ["-vf", convert]
    else:
        assert kind == "pq", "highlight boxes are coded in PQ, an absolute scale"
        luma_code = round(64 + 876 * pq_signal(box.nits))
        graph = ["-filter_complex", (
            f"[0:v]{convert}[hdr];"
            f"color=size={box.width}x{box.height}:rate={FPS},format=yuv420p10le,"
            f"geq=lum={luma_code}:cb=512:cr=512[box];"
            f"[hdr][box]overlay=x={box.x}:y={box.y}:shortest=1:format=yuv420p10,format=yuv420p10le"
        )]
    tags = ["-color_primaries", "bt2020", "-color_trc", transfer, "-colorspace", "bt2020nc", "-color_range", "tv"]
    if "libx265" in _encoders():
        params = f"log-level=error:colorprim=bt2020:transfer={transfer}:colormatrix=bt2020nc"
        if declare_peak_nits is not None:
            params += (":master-display=G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)"
                       f"L({int(declare_peak_nits * 10000)},50):max-cll={int(declare_peak_nits)},400")
        codec = ["-c:v", "libx265", "-preset", "ultrafast", "-crf", "6", "-x265-params", params, "-tag:v", "hvc1"]
    else:
        codec = ["-c:v", "libx264", "-profile:v", "high10", "-preset", "ultrafast", "-crf", "6"]
    ffmpeg("-i", str(original), *graph, *codec, *tags, "-an", str(path))
    return path


def ssim(distorted: Path, reference: Path) -> float:
    """ffmpeg's SSIM (All) of `distorted` against `reference`, both read as 8-bit 4:2:0."""
    result = subprocess.run(
        [find_ffmpeg(), "-hide_banner", "-nostats", "-i", str(distorted), "-i", str(reference),
         "-lavfi", "[0:v]format=yuv420p[a];[1:v]format=yuv420p[b];[a][b]ssim", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    )
    match = re.search(r"SSIM .*All:([0-9.]+)", result.stderr)
    assert match, result.stderr[-2000:]
    return float(match.group(1))
