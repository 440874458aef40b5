"""Picture-in-picture (pure): when each inset is on screen, where it sits, and its part
of the one render graph (picture and sound).

The timing rules, in seconds of the main video's timeline:
- the window is `start_s` to `end_s`; without `end_s` the inset plays once from
  `start_s` (and is cut at the end of the main video);
- an inset shorter than its window holds its last frame to the window's end
  (`when_short = "hold"`) or leaves when it ends (`"end"`); a longer one is trimmed.

The geometry, in output pixels: `width` is the inset picture's width as a fraction of the
frame width (aspect kept, sizes even for yuv420p); the border is drawn around the
picture; `margin` (a fraction of the frame width) is the gap between the border and the
frame edges at a corner; `x`/`y` place the border's top-left corner as fractions of the
frame. Positions are even so that 4:2:0 chroma lines up with the inset's edges.

Inset files enter the graph only as `-i` arguments; the only text in the filters is
numbers, fixed words and a `0xRRGGBB` colour.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import ffmpeg

from pipeline.audio.chain import apply_filters, build_format_filters
from pipeline.config import AudioSettings, PipSpec
from pipeline.filters import Filter, Stream
from pipeline.probe import MediaInfo
from pipeline.video.colors import format_ffmpeg_color, parse_color
from pipeline.video.matrix import source_color_matrix


# A window may end this far past the main video's end (rounding in job files) and is
# then clipped; further out it is a job error.
END_TOLERANCE_S = 0.1
DEFAULT_CORNER = "bottom-right"
# The main audio is lowered over this long before an inset's sound starts (and raised
# again over the same time after it ends): a gain step would click.
DUCK_RAMP_S = 0.25
INSET_PIX_FMT = "yuva444p"  # alpha for the fades; full chroma keeps odd borders exact


@dataclass(frozen=True)
class PipWindow:
    """When an inset is shown, on the main timeline."""

    start_s: float
    end_s: float  # the inset leaves the screen here
    content_s: float  # how much of the inset file is played
    held_s: float  # how long its last frame is held (when_short = "hold")
    fade_s: float  # fade in and out, shortened to fit the window

    @property
    def shown_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class InsetBox:
    """Where an inset is drawn, in output pixels. x/y is the border's top-left corner."""

    x_px: int
    y_px: int
    width_px: int
    height_px: int
    border_px: int

    @property
    def outer_width_px(self) -> int:
        return self.width_px + 2 * self.border_px

    @property
    def outer_height_px(self) -> int:
        return self.height_px + 2 * self.border_px


def check_window(spec: PipSpec, inset_duration_s: float, main_duration_s: float) -> list[tuple[str, str]]:
    """Problems with an inset's window as (field, message); empty when it fits."""
    problems: list[tuple[str, str]] = []
    if spec.start_s >= main_duration_s:
        problems.append(("start_s", f"starts at {spec.start_s:g} s, but the main video is only {main_duration_s:.2f} s long"))
    if spec.end_s is not None:
        if spec.start_s >= spec.end_s:
            problems.append(("end_s", f"end_s ({spec.end_s:g}) must be after start_s ({spec.start_s:g})"))
        elif spec.end_s > main_duration_s + END_TOLERANCE_S:
            problems.append(("end_s", f"ends at {spec.end_s:g} s, after the end of the main video ({main_duration_s:.2f} s)"))
    return problems


def build_window(spec: PipSpec, inset_duration_s: float, main_duration_s: float) -> PipWindow:
    """The inset's window; call `check_window` first."""
    start_s = spec.start_s
    if spec.end_s is None:
        end_s = min(main_duration_s, start_s + inset_duration_s)
    else:
        end_s = min(main_duration_s, spec.end_s)
    content_s = min(inset_duration_s, end_s - start_s)
    held_s = 0.0
    if content_s < end_s - start_s:
        if spec.when_short == "hold":
            held_s = end_s - start_s - content_s
        else:
            end_s = start_s + content_s
    fade_s = min(spec.fade_s, (end_s - start_s) / 2)
    return PipWindow(start_s=start_s, end_s=end_s, content_s=content_s, held_s=held_s, fade_s=fade_s)


def _even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)


def _even_down(value: float) -> int:
    return max(0, int(value) // 2 * 2)


def build_box(spec: PipSpec, inset_size_px: tuple[int, int], frame_size_px: tuple[int, int]) -> InsetBox:
    """Size and place an inset (its display size, after rotation) in the output frame."""
    frame_w, frame_h = frame_size_px
    inset_w, inset_h = inset_size_px
    border = spec.border_px
    width = _even(spec.width * frame_w)
    height = _even(width * inset_h / inset_w)
    # Never larger than the frame, border included.
    fit = min(1.0, (frame_w - 2 * border) / width, (frame_h - 2 * border) / height)
    if fit < 1.0:
        width = max(2, int(width * fit) // 2 * 2)
        height = max(2, int(height * fit) // 2 * 2)
    outer_w, outer_h = width + 2 * border, height + 2 * border
    room_x, room_y = max(0, frame_w - outer_w), max(0, frame_h - outer_h)
    if spec.x is not None and spec.y is not None:
        x, y = spec.x * frame_w, spec.y * frame_h
    else:
        margin = round(spec.margin * frame_w)
        corner = spec.corner or DEFAULT_CORNER
        x = margin if corner.endswith("left") else frame_w - outer_w - margin
        y = margin if corner.startswith("top") else frame_h - outer_h - margin
    x_px = _even_down(min(max(0.0, x), room_x))
    y_px = _even_down(min(max(0.0, y), room_y))
    return InsetBox(x_px=x_px, y_px=y_px, width_px=width, height_px=height, border_px=border)


def build_inset_picture(
    source: Stream, spec: PipSpec, box: InsetBox, window: PipWindow, fps_text: str, in_color_matrix: str
) -> Stream:
    """One inset's frames, sized, timed, bordered and faded, placed on the main timeline.
    `in_color_matrix` is the inset's own matrix (`pipeline.video.matrix`)."""
    inset = source.filter("setpts", "PTS-STARTPTS")
    # Same matrix and range as the main picture, so an inset's colours match its source.
    inset = inset.filter(
        "scale", box.width_px, box.height_px, flags="bicubic",
        in_color_matrix=in_color_matrix, out_color_matrix="bt709", out_range="tv",
    ).filter("format", INSET_PIX_FMT).filter("setsar", "1").filter("fps", fps=fps_text)
    if window.held_s > 0:
        inset = inset.filter("tpad", stop_mode="clone", stop=-1)
    inset = inset.filter("trim", duration=round(window.shown_s, 6))
    if box.border_px:
        inset = inset.filter(
            "pad", box.outer_width_px, box.outer_height_px, box.border_px, box.border_px,
            color=format_ffmpeg_color(parse_color(spec.border_color)),
        )
    if window.fade_s > 0:
        inset = inset.filter("fade", type="in", start_time=0, duration=round(window.fade_s, 6), alpha=1)
        inset = inset.filter(
            "fade", type="out", start_time=round(window.shown_s - window.fade_s, 6),
            duration=round(window.fade_s, 6), alpha=1,
        )
    return inset.filter("setpts", f"PTS+{window.start_s:.6f}/TB")


def _sources(insets: Sequence[MediaInfo], kind: str) -> list[Stream]:
    """One input stream per inset. An inset file used by several tables is read once and
    split, since a graph cannot feed one filter output to two filters without a split."""
    split_filter = "split" if kind == "video" else "asplit"
    keys = []
    for inset in insets:
        stream = inset.video if kind == "video" else inset.first_audio
        keys.append((str(inset.path.resolve()), stream.index if stream is not None else -1))
    shared: dict[tuple[str, int], list[Stream]] = {}
    for key in dict.fromkeys(keys):
        source = ffmpeg.input(f"file:{key[0]}")[str(key[1])]
        uses = keys.count(key)
        if uses == 1:
            shared[key] = [source]
        else:
            node = source.filter_multi_output(split_filter, uses)
            shared[key] = [node[i] for i in range(uses)]
    return [shared[key].pop(0) for key in keys]


def build_overlays(
    main: Stream,
    specs: Sequence[PipSpec],
    insets: Sequence[MediaInfo],
    windows: Sequence[PipWindow],
    frame_size_px: tuple[int, int],
    fps_text: str,
    conversions: Sequence[Sequence[Filter]] = (),
) -> Stream:
    """The main picture with every inset drawn over it, in job order (later on top).
    `conversions` (one per inset; empty for SDR) are the HDR to SDR filters an HDR
    inset goes through first (`pipeline.video.hdr`); its frames are BT.709 after them."""
    sources = _sources(insets, "video")
    conversions = list(conversions) or [()] * len(insets)
    for spec, inset, window, source, convert in zip(specs, insets, windows, sources, conversions, strict=True):
        assert inset.video is not None
        box = build_box(spec, (inset.video.display_width_px, inset.video.display_height_px), frame_size_px)
        matrix = source_color_matrix(inset.video)
        for name, options in convert:
            source, matrix = source.filter(name, **options), "bt709"
        picture = build_inset_picture(source, spec, box, window, fps_text, matrix)
        main = ffmpeg.overlay(
            main, picture, x=box.x_px, y=box.y_px, eof_action="pass",
            enable=f"gte(t,{window.start_s:.6f})*lt(t,{window.end_s:.6f})",
        )
    return main


def build_duck_expression(ducks: Sequence[tuple[float, float, float]], ramp_s: float = DUCK_RAMP_S) -> str:
    """A `volume` expression of t: the main audio lowered by duck_db during each
    (start_s, end_s, duck_db), ramped over `ramp_s` outside each window; overlapping
    windows take the deepest duck, never the sum."""
    terms = [
        f"{duck_db:g}*clip(min((t-{start_s - ramp_s:.6f})/{ramp_s:g},({end_s + ramp_s:.6f}-t)/{ramp_s:g}),0,1)"
        for start_s, end_s, duck_db in ducks
    ]
    depth = terms[0]
    for term in terms[1:]:
        depth = f"max({depth},{term})"
    return f"pow(10,-({depth})/20)"


def build_inset_sound(source: Stream, window: PipWindow, settings: AudioSettings) -> Stream:
    """One inset's sound, converted like the main audio, trimmed, faded and delayed to its
    window (adelay inserts real silence, which is what places it for amix)."""
    audible_s = round(min(window.content_s, window.shown_s), 6)
    sound = apply_filters(source.filter("asetpts", "PTS-STARTPTS"), build_format_filters(settings))
    sound = sound.filter("atrim", duration=audible_s)
    fade_s = round(min(window.fade_s, audible_s / 2), 6)
    if fade_s > 0:
        sound = sound.filter("afade", type="in", start_time=0, duration=fade_s)
        sound = sound.filter("afade", type="out", start_time=round(audible_s - fade_s, 6), duration=fade_s)
    delay_samples = round(window.start_s * settings.sample_rate_hz)
    return sound.filter("adelay", delays=f"{delay_samples}S", all=1)


def mix_insets_sound(
    main: Stream,
    specs: Sequence[PipSpec],
    insets: Sequence[MediaInfo],
    windows: Sequence[PipWindow],
    settings: AudioSettings,
) -> Stream:
    """Main audio with the `mix` and `duck` insets' sound added (and ducked under them)."""
    voiced = [
        (spec, inset, window)
        for spec, inset, window in zip(specs, insets, windows, strict=True)
        if spec.audio != "mute" and inset.first_audio is not None
    ]
    if not voiced:
        return main
    ducks = [
        (window.start_s, window.start_s + min(window.content_s, window.shown_s), spec.duck_db)
        for spec, _, window in voiced
        if spec.audio == "duck" and spec.duck_db > 0
    ]
    if ducks:
        ramp_s = max([DUCK_RAMP_S] + [spec.fade_s for spec, _, _ in voiced if spec.audio == "duck"])
        main = main.filter("volume", volume=build_duck_expression(ducks, ramp_s), eval="frame")
    sources = _sources([inset for _, inset, _ in voiced], "audio")
    sounds = [build_inset_sound(source, window, settings) for (_, _, window), source in zip(voiced, sources, strict=True)]
    # normalize=0: amix would otherwise scale every input down by the input count.
    return ffmpeg.filter(
        [main, *sounds], "amix", inputs=1 + len(sounds), duration="first", dropout_transition=0, normalize=0
    )
