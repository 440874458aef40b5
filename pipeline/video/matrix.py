"""Which YCbCr matrix a source's pixels are in (pure), for the scale filter's
`in_color_matrix`.

ffmpeg's scale filter reads an untagged frame as BT.601. For SD that is right, but an
untagged HD source is by convention BT.709 (ITU practice and what players assume: HD is
BT.709, SD is BT.601), so leaving the input matrix on "auto" would convert such a picture
from BT.601 to BT.709 on the way to the BT.709 output: a colour shift, and a full matrix
conversion of every frame even when nothing else changes. Told the matrix, a scale whose
input and output matrix, size and pixel format agree passes the frames through.
"""

from __future__ import annotations

from pipeline.probe import VideoStreamInfo

HD_LONG_SIDE_PX = 1280
HD_SHORT_SIDE_PX = 720


def source_color_matrix(video: VideoStreamInfo) -> str:
    """The source's matrix as a scale `in_color_matrix` name: the stream's tag when it
    has one, else the convention for untagged video: "bt709" for HD, "bt601" for SD.

    HD is 720 lines or 1280 columns and up (display height >= 720 or width >= 1280),
    taken on the short and long side so orientation does not matter: a portrait phone
    clip (1080x1920) is HD, and a rotated 720x576 DV clip stays SD.
    """
    if video.color_matrix:
        return video.color_matrix
    short_px = min(video.display_width_px, video.display_height_px)
    long_px = max(video.display_width_px, video.display_height_px)
    return "bt709" if short_px >= HD_SHORT_SIDE_PX or long_px >= HD_LONG_SIDE_PX else "bt601"


def untagged_frame_colorspace(video: VideoStreamInfo) -> str | None:
    """For an untagged source, the `setparams` colorspace that tags its frames with the
    matrix `source_color_matrix` reads them in (None when the source is tagged). Needed
    before filters that work in RGB (colortemperature): the converter ffmpeg inserts in
    front of them reads an untagged frame as BT.601, whatever its size."""
    if video.color_matrix:
        return None
    return "bt709" if source_color_matrix(video) == "bt709" else "smpte170m"
