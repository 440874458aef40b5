"""The sound of an edit list (pure): each take's sound cut to exactly its picture (from
the same frame counts, in samples at the output rate), converted to the output rate and
layout, padded with silence where the source's sound is shorter than its picture (or
missing), and joined by cuts (concat) or crossfades matching the picture's dissolves. A
take with its own recorder uses the recorder's sound, aligned to that take's camera
timeline beforehand (`pipeline.audio.recorder`), in place of the camera's.

The render writes this edited sound once to a WAV file in its working folder; from
there on the sound stage treats it as the job's sound (analysis, clean-up, loudness).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import ffmpeg

from pipeline.audio.chain import apply_filters, build_format_filters
from pipeline.config import AudioSettings
from pipeline.filters import Stream
from pipeline.probe import MediaInfo
from pipeline.timeline import Clip, EditList


def sample_at(edit: EditList, frame: int, sample_rate_hz: int) -> int:
    """The programme sample where a programme frame starts: one rounding, shared by both
    sides of every join, so rounding never accumulates."""
    return round(frame * sample_rate_hz / edit.fps)


def take_samples(edit: EditList, clip: Clip, sample_rate_hz: int) -> int:
    start = clip.programme_start_frame
    return sample_at(edit, start + clip.frames, sample_rate_hz) - sample_at(edit, start, sample_rate_hz)


def build_take_sound(edit: EditList, clip: Clip, settings: AudioSettings, source: MediaInfo | None = None) -> Stream:
    """One take's sound; `source` stands in for the take's own sound when given (its
    recorder's, already aligned to the take's camera timeline)."""
    samples = take_samples(edit, clip, settings.sample_rate_hz)
    source_info = source or clip.info
    audio = source_info.first_audio
    if audio is None:
        layout = "stereo" if settings.channels == 2 else "mono"
        return ffmpeg.input(
            f"anullsrc=channel_layout={layout}:sample_rate={settings.sample_rate_hz}", f="lavfi",
        )["0"].filter("atrim", end_sample=samples)
    stream = ffmpeg.input(f"file:{source_info.path.resolve()}", ss=f"{clip.source_start_s:.6f}")
    # first_pts=0: a sound that starts after the seek point is padded at its head, so it
    # stays where it was against the picture.
    sound = stream[str(audio.index)].filter("aresample", first_pts=0)
    sound = apply_filters(sound, build_format_filters(settings))
    return sound.filter("apad").filter("atrim", end_sample=samples).filter("asetpts", "N/SR/TB")


def build_edited_sound(edit: EditList, settings: AudioSettings, take_sounds: Mapping[int, MediaInfo] = {}) -> Stream:
    """The takes' sound joined; `take_sounds` replaces a take's own sound (by take index)."""
    rate = settings.sample_rate_hz
    joined = build_take_sound(edit, edit.clips[0], settings, take_sounds.get(0))
    for previous, clip in zip(edit.clips, edit.clips[1:]):
        sound = build_take_sound(edit, clip, settings, take_sounds.get(clip.index))
        if previous.dissolve_frames:
            start = clip.programme_start_frame
            overlap = sample_at(edit, start + previous.dissolve_frames, rate) - sample_at(edit, start, rate)
            # Linear curves, like the picture's fade: the two takes sum to a constant.
            joined = ffmpeg.filter([joined, sound], "acrossfade", nb_samples=overlap, c1="tri", c2="tri")
        else:
            joined = ffmpeg.concat(joined, sound, v=0, a=1)
    return joined


def edited_sound_path(work_dir: Path) -> Path:
    return work_dir / "edited-sound.wav"


def build_edited_sound_args(
    edit: EditList, settings: AudioSettings, out_path: Path, take_sounds: Mapping[int, MediaInfo] = {},
) -> list[str]:
    """The command that writes the edited sound (32-bit float WAV, RF64 past 4 GB)."""
    sound = build_edited_sound(edit, settings, take_sounds)
    return list(ffmpeg.output(
        sound, f"file:{out_path.resolve()}", f="wav", acodec="pcm_f32le", rf64="auto",
        map_metadata=-1, ar=settings.sample_rate_hz, ac=settings.channels,
    ).overwrite_output().compile(cmd=[]))
