"""The picture half of the render graph (pure): output size and rate, light correction,
picture-in-picture, the logo and lower thirds, and title cards, in ffmpeg-python streams.

`pipeline.plan` calls, in order: `build_picture` (main video -> light-corrected, scaled
frames with the insets drawn over them, tagged BT.709), `mix_pip_audio` (inset audio
into the main audio, before the loudness gain) and `join_cards` (intro/outro
concatenated around the programme, with silence or the card's own sound). Effectful
preparation (probing insets, frame analysis, rendering cards) happens before, in
`pipeline.video.prepare`, and reaches these functions as a `PicturePrep`.
"""

from __future__ import annotations

from collections.abc import Sequence

import ffmpeg

from pipeline.audio.chain import apply_filters, build_format_filters
from pipeline.config import AudioSettings, Job, LightSettings, VideoSettings
from pipeline.filters import Filter, Stream
from pipeline.probe import MediaInfo, VideoStreamInfo
from pipeline.video import overlay_graph, pip
from pipeline.video.hdr import format_hdr_note, is_hdr, needs_sdr_conversion
from pipeline.video.cards import RenderedCard
from pipeline.video.light_graph import build_auto_light_filters
from pipeline.video.matrix import source_color_matrix, untagged_frame_colorspace
from pipeline.video.prepare import PicturePrep
from pipeline.video.sizing import build_fit


# Light filters that work in RGB: ffmpeg converts the frames for them on its own.
RGB_LIGHT_FILTERS = frozenset({"colortemperature"})
STANDARD_FPS = (23.976, 24.0, 25.0, 29.97, 30.0, 48.0, 50.0, 59.94, 60.0)


def snap_fps(fps: float) -> float:
    """Nearest standard rate within 1% (phone VFR averages like 29.93 become 29.97)."""
    nearest = min(STANDARD_FPS, key=lambda standard: abs(fps - standard))
    if abs(fps - nearest) / nearest < 0.01:
        return nearest
    return round(fps, 3)


def format_fps(fps: float) -> str:
    """Exact rationals for NTSC rates so the encoder gets 30000/1001, not 29.97."""
    ntsc = {23.976: "24000/1001", 29.97: "30000/1001", 59.94: "60000/1001"}
    return ntsc.get(fps, f"{fps:g}")


def build_output_size(video: VideoStreamInfo, settings: VideoSettings) -> tuple[tuple[int, int], list[str]]:
    """The output frame: the display size fitted into the preset's box, long side to
    its long side (never upscaled, even), in the frame `orientation` asks for (see
    `pipeline.video.sizing`)."""
    fit = build_fit(video, settings)
    return fit.frame_px, fit.notes


def build_output_fps(video: VideoStreamInfo, settings: VideoSettings) -> tuple[float, list[str]]:
    notes: list[str] = []
    if settings.fps is not None:
        return settings.fps, notes
    fps = snap_fps(video.fps) if video.fps > 0 else 30.0
    if video.variable_frame_rate:
        notes.append(f"variable frame rate: rendered at a constant {fps:g} fps")
    return fps, notes


def has_video_edits(job: Job) -> bool:
    return bool(
        job.takes or job.pip or job.intro or job.outro or job.settings.light.mode != "off"
        or job.settings.stabilize.mode != "off" or job.logo is not None or job.lower_thirds
        or job.captions.burn_in
    )


def edits_picture(job: Job, video: VideoStreamInfo) -> bool:
    """The picture must be decoded and re-encoded: the job edits it, or the source is
    HDR or wide gamut and must be converted to BT.709 SDR."""
    return has_video_edits(job) or needs_sdr_conversion(video)


def copy_blockers(video: VideoStreamInfo, job: Job, size_px: tuple[int, int]) -> list[str]:
    """Why the source video cannot be copied as is (empty list: it can)."""
    settings = job.settings.video
    reasons = []
    if not settings.copy_when_possible:
        reasons.append("copy_when_possible is off")
    if has_video_edits(job):
        reasons.append("the job edits the picture")
    if is_hdr(video):
        reasons.append(f"the source is HDR ({video.color_transfer}): it is converted to SDR BT.709")
    elif needs_sdr_conversion(video):
        reasons.append(f"the source is in {video.color_primaries} primaries: it is converted to BT.709")
    if video.codec != "h264":
        reasons.append(f"source codec is {video.codec}, not h264")
    if video.pix_fmt != settings.pix_fmt:
        reasons.append(f"source pixel format is {video.pix_fmt}, not {settings.pix_fmt}")
    if (video.display_width_px, video.display_height_px) != size_px:
        reasons.append("the frame size changes")
    if video.variable_frame_rate:
        reasons.append("the source has a variable frame rate")
    if settings.fps is not None and abs(settings.fps - video.fps) > 0.01:
        reasons.append("the frame rate changes")
    return reasons


def build_light_filters(light: LightSettings, prep: PicturePrep) -> list[Filter]:
    """Light correction: auto (per-shot corrections analysed in `prep.light`, see
    `light_graph`) or manual (eq for exposure and colour, colortemperature for the cast)."""
    if light.mode == "auto":
        return build_auto_light_filters(prep.light) if prep.light is not None else []
    if light.mode != "manual":
        return []
    filters: list[Filter] = []
    if (light.brightness, light.contrast, light.gamma, light.saturation) != (0.0, 1.0, 1.0, 1.0):
        filters.append(("eq", {
            "brightness": light.brightness,
            "contrast": light.contrast,
            "gamma": light.gamma,
            "saturation": light.saturation,
        }))
    if light.temperature_shift_k:
        # colortemperature renders the picture as if lit by `temperature`; 6500 K is neutral,
        # so a positive shift warms and a negative one cools.
        filters.append(("colortemperature", {"temperature": 6500 + light.temperature_shift_k, "pl": 1}))
    return filters


def build_fitted(
    chain: Stream, size_px: tuple[int, int], settings: VideoSettings, in_color_matrix: str,
    frame_px: tuple[int, int] | None = None, after_scale: Sequence[Filter] = (),
) -> Stream:
    """Frames scaled to `size_px`, square pixels, the output pixel format; centred on
    black in a `frame_px` frame when that is larger (a vertical or square frame).

    `in_color_matrix` is the source's matrix (see `pipeline.video.matrix`): left on
    "auto", scale reads an untagged frame as BT.601 and would convert untagged HD. When
    it equals the output matrix and size and pixel format already fit, scale copies.
    `after_scale` (stabilization) works on the picture at its size, before any bars."""
    chain = chain.filter(
        "scale", size_px[0], size_px[1],
        in_color_matrix=in_color_matrix, out_color_matrix=settings.color, out_range="tv", flags="bicubic",
    )
    for name, options in after_scale:
        chain = chain.filter(name, **options)
    if frame_px is not None and frame_px != size_px:
        chain = chain.filter("pad", frame_px[0], frame_px[1], "(ow-iw)/2", "(oh-ih)/2", color="black")
    return chain.filter("setsar", "1").filter("format", settings.pix_fmt)


def build_tagged(chain: Stream, settings: VideoSettings) -> Stream:
    # Frame tags win over encoder options in FFmpeg 7+, so tag the frames.
    return chain.filter(
        "setparams",
        color_primaries=settings.color,
        color_trc=settings.color,
        colorspace=settings.color,
        range="tv",
    )


def build_picture(
    video_in: Stream,
    job: Job,
    info: MediaInfo,
    size_px: tuple[int, int],
    fps: float,
    prep: PicturePrep,
) -> Stream:
    """Main video in, finished programme picture out: light, scale, insets, logo and
    lower thirds, BT.709 tags.

    Light corrects the main picture only (insets keep their own look), before scaling so
    it sees the source's values; insets are drawn after scaling, in output pixels."""
    settings = job.settings.video
    assert info.video is not None
    chain = video_in
    in_color_matrix = source_color_matrix(info.video)
    frame_colorspace = untagged_frame_colorspace(info.video)
    if needs_sdr_conversion(info.video):
        if prep.hdr is None:
            raise ValueError("an HDR source needs prepare_hdr() to find its peak first")
        # First, so light, insets and scaling all work on the SDR picture the analysis saw.
        for name, options in prep.hdr.filters(info.video):
            chain = chain.filter(name, **options)
        in_color_matrix, frame_colorspace = "bt709", None
    light_filters = build_light_filters(job.settings.light, prep)
    if frame_colorspace and any(name in RGB_LIGHT_FILTERS for name, _ in light_filters):
        # An untagged source's frames are tagged with its matrix first, or the RGB
        # conversion ffmpeg inserts for colortemperature would read untagged HD as BT.601.
        chain = chain.filter("setparams", colorspace=frame_colorspace)
    for name, options in light_filters:
        chain = chain.filter(name, **options)
    fit = build_fit(info.video, settings)
    # size_px is the frame (as planned); the picture inside it is the fit's.
    picture_px = fit.picture_px if fit.frame_px == size_px else size_px
    # One input's stabilization (an edit list's takes are stabilized each on its own).
    stabilize = prep.stabilize.filters_for(0) if prep.stabilize is not None and prep.edit is None else []
    chain = build_fitted(chain, picture_px, settings, in_color_matrix, size_px, stabilize)
    if job.pip:
        if len(prep.insets) != len(job.pip):
            raise ValueError("picture-in-picture needs prepare_picture() to probe the insets first")
        chain = pip.build_overlays(
            chain, job.pip, prep.insets, prep.windows, size_px, format_fps(fps), prep.inset_conversions()
        )
    if job.logo is not None or job.lower_thirds:
        if not prep.overlays:
            raise ValueError("a logo or lower third needs prepare_picture() to render it first")
        # Over the finished programme (insets included), before the cards are joined.
        chain = overlay_graph.build_overlays(chain, prep.overlays, format_fps(fps))
    return build_tagged(chain, settings)


def build_conversion_notes(info: MediaInfo, prep: PicturePrep) -> list[str]:
    """What the producer should know about how the source's picture was converted."""
    if info.video is None or prep.hdr is None or not needs_sdr_conversion(info.video):
        return []
    return [format_hdr_note(info.video, prep.hdr.peak_nits, prep.hdr.peak_source)]


def mix_pip_audio(audio: Stream, job: Job, prep: PicturePrep) -> Stream:
    """Inset audio (`mix` or `duck`) into the main audio; before the loudness gain, so
    the programme is normalized as a whole."""
    if not job.pip or len(prep.insets) != len(job.pip):
        return audio  # no insets probed: the main has no picture, so nothing is inset
    return pip.mix_insets_sound(audio, job.pip, prep.insets, prep.windows, job.settings.audio)


def cards_duration_s(prep: PicturePrep) -> float:
    """How much the cards add to the programme."""
    return sum(card.duration_s for card in prep.cards.values())


def build_card_picture(card: RenderedCard, settings: VideoSettings) -> Stream:
    clip = ffmpeg.input(f"file:{card.video_path.resolve()}")["0"]
    clip = clip.filter("setpts", "PTS-STARTPTS").filter("fps", fps=card.fps_text)
    # Cards are encoded by `pipeline.video.cards` as BT.709 (and tagged so).
    return build_tagged(build_fitted(clip, card.size_px, settings, "bt709"), settings)


def build_card_sound(card: RenderedCard, settings: AudioSettings) -> Stream:
    """The card's own sound cut or padded to the card, or silence."""
    if card.audio is None or card.audio.first_audio is None:
        layout = "stereo" if settings.channels == 2 else "mono"
        # Already in the output layout and rate; used as is, since two cards of the same
        # length share this input (ffmpeg feeds one input to several filter pads).
        return ffmpeg.input(
            f"anullsrc=channel_layout={layout}:sample_rate={settings.sample_rate_hz}",
            f="lavfi", t=f"{card.duration_s:.6f}",
        )["0"]
    sound = ffmpeg.input(f"file:{card.audio.path.resolve()}")[str(card.audio.first_audio.index)]
    sound = apply_filters(sound.filter("asetpts", "PTS-STARTPTS"), build_format_filters(settings))
    duration_s = round(card.duration_s, 6)
    fade_s = round(min(0.5, card.duration_s / 4), 6)
    # Padded then cut to the card exactly; faded out so a cut-off sound does not click.
    return sound.filter("apad").filter("atrim", duration=duration_s).filter(
        "afade", type="out", start_time=round(duration_s - fade_s, 6), duration=fade_s
    )


def _shared(streams: dict[str, Stream], names: list[str], keys: list[object], split_filter: str) -> dict[str, Stream]:
    """The stream for each card; a chain two identical cards share is built once and split
    (a graph cannot feed one filter's output to two filters without a split)."""
    out: dict[str, Stream] = {}
    for key in dict.fromkeys(keys):
        users = [name for name, k in zip(names, keys) if k == key]
        if len(users) == 1:
            out[users[0]] = streams[users[0]]
        else:
            node = streams[users[0]].filter_multi_output(split_filter, len(users))
            out.update({name: node[i] for i, name in enumerate(users)})
    return out


def join_cards(video: Stream | None, audio: Stream | None, job: Job, prep: PicturePrep) -> tuple[Stream | None, Stream | None]:
    """Intro and outro cards concatenated around the programme (concat, same graph).
    With `video` None only the sound is joined: the loudness measurement's graph."""
    if not prep.cards or (video is None and audio is None):
        return video, audio
    settings = job.settings
    names = [name for name in ("intro", "outro") if name in prep.cards]
    cards = [prep.cards[name] for name in names]
    pictures = _shared(
        {name: build_card_picture(card, settings.video) for name, card in zip(names, cards)},
        names, [card.video_path for card in cards], "split",
    ) if video is not None else {}
    sounds = _shared(
        {name: build_card_sound(card, settings.audio) for name, card in zip(names, cards)},
        names, [(card.audio.path if card.audio else None, card.duration_s) for card in cards], "asplit",
    ) if audio is not None else {}
    order = (["intro"] if "intro" in prep.cards else []) + ["programme"] + (["outro"] if "outro" in prep.cards else [])
    streams = []
    for name in order:
        if video is not None:
            streams.append(video if name == "programme" else pictures[name])
        if audio is not None:
            streams.append(audio if name == "programme" else sounds[name])
    joined = ffmpeg.concat(*streams, v=int(video is not None), a=int(audio is not None)).node
    if video is None:
        return None, joined[0]
    return joined[0], (joined[1] if audio is not None else None)
