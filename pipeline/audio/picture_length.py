"""The sound's length held to the picture's (pure): a programme lasts as long as its
picture. Sound that ends early is padded with silence to the picture's end; sound that
runs on after the last frame is cut there. Phones and screen recorders write both kinds
(a recorder stopped a moment after the camera, a microphone that started late).

`build_sound_to_picture` is one take's rule: an edit list calls it per take with that
take's picture length.
"""

from __future__ import annotations

from pipeline.filters import Filter
from pipeline.probe import MediaInfo

# Differences up to this are the codecs' own framing (an AAC frame is 21 ms): left alone.
TOLERANCE_S = 0.05


def picture_duration_s(info: MediaInfo) -> float | None:
    """When the picture's last frame ends; None for a file without a picture."""
    if info.video is None:
        return None
    return info.video.duration_s or info.duration_s


def sound_needs_fitting(info: MediaInfo) -> float | None:
    """The picture's length when the sound must be padded or cut to it, else None."""
    picture_s = picture_duration_s(info)
    sound = info.first_audio
    if picture_s is None or sound is None or sound.duration_s is None:
        return None
    return picture_s if abs(sound.duration_s - picture_s) > TOLERANCE_S else None


def build_sound_to_picture(duration_s: float) -> list[Filter]:
    """Pad with silence up to `duration_s`, then cut at `duration_s` (the input's
    timeline, where the file starts at 0)."""
    end_s = round(duration_s, 6)
    return [("apad", {"whole_dur": end_s}), ("atrim", {"end": end_s})]


def format_length_note(info: MediaInfo) -> str | None:
    """What the producer should know when the sound and the picture differ in length."""
    picture_s = picture_duration_s(info)
    sound = info.first_audio
    if picture_s is None or sound is None or sound.duration_s is None:
        return None
    difference_s = sound.duration_s - picture_s
    if difference_s < -TOLERANCE_S:
        return (f"audio is {-difference_s:.2f} s shorter than the picture ({sound.duration_s:.2f} s of "
                f"{picture_s:.2f} s): padded with silence to the picture's end")
    if difference_s > TOLERANCE_S:
        return (f"audio runs {difference_s:.2f} s past the picture ({sound.duration_s:.2f} s, picture "
                f"{picture_s:.2f} s): cut at the picture's end")
    return None
