"""HDR to SDR for one source: whether it needs converting (pure), how bright its
highlights are (declared by the stream, or measured here from a few decoded frames), and
the zscale + tonemap filters that turn it into BT.709 SDR inside the render graph.

The conversion works in linear light where 1.0 is HDR reference white (203 cd/m2, ITU-R
BT.2408), which is where an SDR picture carried in HLG or PQ puts its white. Below a knee
just under reference white the picture passes unchanged (only the transfer and gamut are
converted); above it a Mobius curve, continuous in value and slope at the knee, rolls the
highlights off so that the source's peak lands on SDR white. A source whose peak does not
exceed reference white is not tone mapped at all.

Per-source and small on purpose: an edit list calls `build_hdr_to_sdr_filters` once per
take, with that take's probe and peak.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import av
import numpy as np

from pipeline.filters import Filter
from pipeline.probe import MediaInfo, VideoStreamInfo

REFERENCE_WHITE_NITS = 203.0  # ITU-R BT.2408: HDR reference (diffuse) white
HLG_DISPLAY_PEAK_NITS = 1000.0  # BT.2100's reference HLG display
# Below this fraction of reference white the tone curve is the identity. It cannot be 1:
# a curve that keeps reference white at SDR white has no room left for the highlights.
KNEE_RATIO = 0.9
# A peak this close to reference white is noise and coding error, not highlights: clipped
# rather than tone mapped, so an SDR picture carried in HLG or PQ comes back unchanged.
PEAK_TOLERANCE = 1.05
HDR_TRANSFERS = frozenset({"smpte2084", "arib-std-b67"})
WIDE_PRIMARIES = frozenset({"bt2020"})
# Frame side data that describes the HDR picture; left on the converted frames, the
# encoder would write it into the SDR output (an SDR file claiming a 1000 cd/m2 master).
HDR_SIDE_DATA = (
    "MASTERING_DISPLAY_METADATA", "CONTENT_LIGHT_LEVEL", "DYNAMIC_HDR_PLUS", "DYNAMIC_HDR_VIVID",
    "DOVI_RPU_BUFFER", "DOVI_METADATA", "AMBIENT_VIEWING_ENVIRONMENT",
)
PEAK_SAMPLE_FRAMES = 12
PEAK_PERCENTILE = 99.9  # ignore a few hot pixels (noise, sensor defects)
# Brightness is averaged over blocks of this many chroma samples a side (8x8 pixels)
# before the peak is taken: 4:2:0 chroma overshoots at sharp colour edges by hundreds of
# cd/m2 (measured: 0.1 % of an SDR test pattern's pixels read 300 cd/m2 at 203 white), a
# ringing that is not a highlight; a lamp or a window survives the averaging.
PEAK_BLOCK = 4
# zscale's resampler for the chroma planes; spline36 keeps fine colour detail that the
# default bilinear softens (measured: SSIM 0.967 against 0.958 on testsrc2).
ZSCALE_FILTER = "spline36"

# PQ (SMPTE ST 2084) constants.
PQ_M1, PQ_M2 = 2610 / 16384, 2523 / 4096 * 128
PQ_C1, PQ_C2, PQ_C3 = 3424 / 4096, 2413 / 4096 * 32, 2392 / 4096 * 32
# HLG (ARIB STD-B67 / BT.2100) constants.
HLG_A = 0.17883277
HLG_B = 1 - 4 * HLG_A
HLG_C = 0.5 - HLG_A * math.log(4 * HLG_A)
HLG_SYSTEM_GAMMA = 1.2  # for the 1000 cd/m2 reference display


def needs_sdr_conversion(video: VideoStreamInfo) -> bool:
    """True for HLG or PQ sources and for any in BT.2020 primaries."""
    return video.color_transfer in HDR_TRANSFERS or video.color_primaries in WIDE_PRIMARIES


def is_hdr(video: VideoStreamInfo) -> bool:
    """True for a high-dynamic-range transfer (HLG or PQ): never to be copied into SDR."""
    return video.color_transfer in HDR_TRANSFERS


def pq_to_nits(signal: np.ndarray) -> np.ndarray:
    """SMPTE ST 2084 EOTF: non-linear signal 0..1 to cd/m2."""
    power = np.power(np.clip(signal, 0.0, 1.0), 1 / PQ_M2)
    return 10000.0 * np.power(np.maximum(power - PQ_C1, 0.0) / (PQ_C2 - PQ_C3 * power), 1 / PQ_M1)


def hlg_to_nits(signal: np.ndarray) -> np.ndarray:
    """HLG inverse OETF and the reference display's OOTF (1000 cd/m2, system gamma 1.2),
    per component: 0.75 (BT.2408 reference white) comes out at 203 cd/m2."""
    signal = np.clip(signal, 0.0, 1.0)
    scene = np.where(signal <= 0.5, signal * signal / 3.0, (np.exp((signal - HLG_C) / HLG_A) + HLG_B) / 12.0)
    return HLG_DISPLAY_PEAK_NITS * np.power(scene, HLG_SYSTEM_GAMMA)


def signal_to_nits(signal: np.ndarray, transfer: str | None) -> np.ndarray:
    if transfer == "smpte2084":
        return pq_to_nits(signal)
    if transfer == "arib-std-b67":
        return hlg_to_nits(signal)
    # SDR transfers: white (1.0) is reference white.
    return REFERENCE_WHITE_NITS * np.power(np.clip(signal, 0.0, 1.0), 2.4)


def _max_rgb_signal(frame: av.VideoFrame) -> np.ndarray:
    """The largest of R', G', B' for every 2x2 block, from 10-bit limited-range BT.2020
    YCbCr (non-constant luminance). The block's mean luma goes with its chroma sample:
    one corner's luma against the block's chroma overshoots at every sharp colour edge."""
    frame = frame.reformat(format="yuv420p10le")
    planes = []
    for index in range(3):
        plane = frame.planes[index]
        data = np.frombuffer(plane, np.uint16).reshape(plane.height, plane.line_size // 2)
        planes.append(data[: plane.height, : plane.width].astype(np.float32))
    rows, cols = planes[1].shape
    full = planes[0][: 2 * rows, : 2 * cols]
    if full.shape != (2 * rows, 2 * cols):  # odd sizes: the last chroma sample has half a block
        rows, cols = full.shape[0] // 2, full.shape[1] // 2
        full = full[: 2 * rows, : 2 * cols]
    luma = (full.reshape(rows, 2, cols, 2).mean(axis=(1, 3)) - 64.0) / 876.0
    planes[1], planes[2] = planes[1][:rows, :cols], planes[2][:rows, :cols]
    cb = (planes[1] - 512.0) / 896.0
    cr = (planes[2] - 512.0) / 896.0
    red = luma + 1.4746 * cr
    green = luma - 0.16455 * cb - 0.57135 * cr
    blue = luma + 1.8814 * cb
    return np.maximum(np.maximum(red, green), blue)


def _block_means(values: np.ndarray, block: int) -> np.ndarray:
    rows, cols = max(1, values.shape[0] // block), max(1, values.shape[1] // block)
    if values.shape[0] < block or values.shape[1] < block:
        return values
    return values[: rows * block, : cols * block].reshape(rows, block, cols, block).mean(axis=(1, 3))


def measure_peak_nits(info: MediaInfo, *, frames: int = PEAK_SAMPLE_FRAMES) -> float | None:
    """The brightest light in `frames` frames spread over the source (99.9th percentile of
    each frame's brightest component), in cd/m2; None if no frame decodes."""
    video = info.video
    assert video is not None
    peak: float | None = None
    duration_s = info.duration_s
    with av.open(str(info.path)) as container:
        stream = container.streams[video.index]
        stream.thread_type = "AUTO"
        for number in range(frames):
            target_s = duration_s * number / frames
            try:
                container.seek(int(target_s / stream.time_base) if stream.time_base else 0, stream=stream, backward=True)
                frame = next(container.decode(stream), None)
            except (av.error.FFmpegError, StopIteration):
                frame = None
            if frame is None:
                continue
            signal = float(np.percentile(_block_means(_max_rgb_signal(frame), PEAK_BLOCK), PEAK_PERCENTILE))
            nits = float(signal_to_nits(np.asarray(signal), video.color_transfer))
            peak = nits if peak is None else max(peak, nits)
    return peak


def source_peak_nits(info: MediaInfo) -> tuple[float, str]:
    """The highlight peak the tone curve maps to SDR white, and where it came from:
    what the stream declares (content light level, mastering display), else measured."""
    assert info.video is not None
    if info.video.declared_peak_nits:
        return info.video.declared_peak_nits, "declared by the stream"
    measured = measure_peak_nits(info)
    if measured is not None:
        return measured, "measured from frames"
    fallback = HLG_DISPLAY_PEAK_NITS if info.video.color_transfer == "arib-std-b67" else 10000.0
    return fallback, "assumed (no frame decoded)"


def tone_maps(peak_nits: float) -> bool:
    """Whether a source this bright gets the highlight roll-off."""
    return peak_nits > PEAK_TOLERANCE * REFERENCE_WHITE_NITS


@dataclass(frozen=True)
class HdrPrep:
    """What converting one source needs to know before the graph is built."""

    peak_nits: float
    peak_source: str

    def filters(self, video: VideoStreamInfo) -> list[Filter]:
        return build_hdr_to_sdr_filters(video, self.peak_nits)


def prepare_hdr(info: MediaInfo) -> HdrPrep | None:
    """The peak for a source that needs converting (measured if it declares none);
    None for an SDR BT.709/601 source."""
    if info.video is None or not needs_sdr_conversion(info.video):
        return None
    peak_nits, peak_source = source_peak_nits(info)
    return HdrPrep(peak_nits, peak_source)


def _zscale_transfer(video: VideoStreamInfo) -> str:
    transfer = video.color_transfer
    if transfer in HDR_TRANSFERS or transfer in ("bt709", "bt2020-10", "bt2020-12", "smpte170m", "linear"):
        return transfer  # type: ignore[return-value]
    return "bt709"  # untagged or unusual: the common SDR curve


def _zscale_matrix(video: VideoStreamInfo) -> str:
    if video.colorspace in ("bt709", "bt2020nc", "bt2020c", "smpte170m", "bt470bg"):
        return video.colorspace  # type: ignore[return-value]
    return "bt2020nc"  # HDR from phones is BT.2020 non-constant luminance


def build_hdr_to_sdr_filters(video: VideoStreamInfo, peak_nits: float) -> list[Filter]:
    """Source frames (HLG, PQ or BT.2020) in, BT.709 SDR 8-bit 4:2:0 limited range out,
    tagged so. Linear light is scaled so that 1.0 is reference white (npl); the tone
    curve runs only when the source's peak is above it."""
    full_range = (video.pix_fmt or "").startswith("yuvj")
    filters: list[Filter] = [
        ("zscale", {
            "tin": _zscale_transfer(video),
            "pin": video.color_primaries or "bt2020",
            "min": _zscale_matrix(video),
            "rin": "pc" if full_range else "tv",
            "t": "linear",
            "npl": REFERENCE_WHITE_NITS,
            "filter": ZSCALE_FILTER,
        }),
        ("format", {"pix_fmts": "gbrpf32le"}),
        ("zscale", {"p": "bt709"}),
    ]
    peak = peak_nits / REFERENCE_WHITE_NITS
    if tone_maps(peak_nits):
        # desat 0: no desaturation of bright colours, so nothing under the knee changes.
        filters.append(("tonemap", {"tonemap": "mobius", "param": KNEE_RATIO, "desat": 0, "peak": round(peak, 4)}))
    filters += [
        ("zscale", {"t": "bt709", "m": "bt709", "r": "tv", "filter": ZSCALE_FILTER}),
        ("format", {"pix_fmts": "yuv420p"}),
    ]
    filters += [("sidedata", {"mode": "delete", "type": name}) for name in HDR_SIDE_DATA]
    return filters


def build_hdr_report(video: VideoStreamInfo, peak_nits: float, peak_source: str) -> dict[str, object]:
    return {
        "transfer": video.color_transfer,
        "primaries": video.color_primaries,
        "matrix": video.colorspace,
        "dolby_vision": video.dolby_vision,
        "peak_nits": round(peak_nits, 1),
        "peak_source": peak_source,
        "reference_white_nits": REFERENCE_WHITE_NITS,
        "tone_mapped": tone_maps(peak_nits),
        "knee_nits": round(KNEE_RATIO * REFERENCE_WHITE_NITS, 1) if tone_maps(peak_nits) else None,
    }


def format_hdr_note(video: VideoStreamInfo, peak_nits: float, peak_source: str) -> str:
    kind = {"arib-std-b67": "HLG", "smpte2084": "PQ"}.get(video.color_transfer or "", "BT.2020")
    if video.dolby_vision:
        kind = f"Dolby Vision ({kind} base layer)"
    curve = (
        f"highlights above {KNEE_RATIO * REFERENCE_WHITE_NITS:.0f} cd/m2 rolled off to SDR white"
        if tone_maps(peak_nits) else "no highlights above reference white: not tone mapped"
    )
    return f"{kind} source converted to SDR BT.709 (peak {peak_nits:.0f} cd/m2, {peak_source}; {curve})"
