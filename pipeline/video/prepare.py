"""Effectful preparation of the picture before planning: probing and checking the inset
sources and their windows, auto-light analysis of sampled frames (also on a worker thread,
`start_light_analysis`, so it overlaps the audio passes), rendering (or finding in the
cache) the title cards. Its result, a `PicturePrep`, is all the pure plan needs to
know about them, and its `report` goes into the render report under
measurements["picture"].
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from pathlib import Path

from pipeline.audio.picture_length import picture_duration_s
from pipeline.background import Background
from pipeline.config import Job, PipSpec
from pipeline.containers import container_for
from pipeline.errors import ConfigError, InputError
from pipeline.probe import MediaInfo, probe
from pipeline.video.caption_burn import BurnIn
from pipeline.video.cards import RenderedCard, render_card
from pipeline.video.colors import parse_color
from pipeline.video.hdr import HdrPrep, build_hdr_report, prepare_hdr
from pipeline.video.light import LightPlan, plan_light
from pipeline.video.overlays import PlacedOverlay, has_overlays, is_still_image, overlays_report, prepare_overlays
from pipeline.video.pip import PipWindow, build_window, check_window
from pipeline.timeline import EditList
from pipeline.video.stabilize import StabilizePlan
from pipeline.video.sampling import FrameSamples, sample_converted_frames, sample_edit, sample_frames


@dataclass(frozen=True)
class PicturePrep:
    insets: tuple[MediaInfo, ...] = ()  # one per [[pip]] table, in job order
    windows: tuple[PipWindow, ...] = ()  # likewise
    light: LightPlan | None = None  # light.mode = "auto"
    cards: dict[str, RenderedCard] = field(default_factory=dict)  # "intro" / "outro"
    hdr: HdrPrep | None = None  # an HDR or wide-gamut source: its peak for the tone curve
    inset_hdr: tuple[HdrPrep | None, ...] = ()  # likewise for each inset, in job order

    def inset_conversions(self) -> list[list[tuple[str, dict[str, object]]]]:
        """The HDR to SDR filters of each inset (empty for SDR ones)."""
        if not self.inset_hdr:
            return [[] for _ in self.insets]
        return [
            hdr.filters(inset.video) if hdr is not None and inset.video is not None else []
            for hdr, inset in zip(self.inset_hdr, self.insets, strict=True)
        ]
    report: dict[str, object] = field(default_factory=dict)
    edit: EditList | None = None  # the job's takes on the timeline; None for one input
    take_hdr: tuple[HdrPrep | None, ...] = ()  # each take's HDR prep, like `hdr` for one input
    overlays: tuple[PlacedOverlay, ...] = ()  # the logo and lower thirds, in drawing order
    stabilize: StabilizePlan | None = None  # stabilize.mode "auto"/"on": each take's decision
    burn: BurnIn | None = None  # [captions] burn_in: the approved captions drawn over the picture


def _problem(job: Job, index: int, field_name: str, message: str) -> tuple[str, str]:
    key = f"pip[{index}].{field_name}"
    return key, f"{job.source or job.main_path}: {key}: {message}"


def check_insets(job: Job, info: MediaInfo) -> tuple[tuple[MediaInfo, ...], tuple[PipWindow, ...]]:
    """Probe every inset and check its window; ConfigError naming each table and field."""
    problems: list[tuple[str, str]] = []
    insets: list[MediaInfo] = []
    windows: list[PipWindow] = []
    for index, spec in enumerate(job.pip):
        inset = _probe_inset(job, index, spec, problems)
        if inset is None or inset.video is None:
            continue
        window_problems = check_window(spec, inset.duration_s, info.duration_s)
        problems.extend(_problem(job, index, name, message) for name, message in window_problems)
        if not window_problems:
            insets.append(inset)
            windows.append(build_window(spec, inset.duration_s, info.duration_s))
    if problems:
        first_key, first_line = problems[0]
        message = first_line.split(f"{first_key}: ", 1)[1]
        raise ConfigError(
            message if len(problems) == 1 else f"{message} (and {len(problems) - 1} more picture-in-picture problems)",
            file=job.source or job.main_path,
            field=first_key,
            problems=[line for _, line in problems] if len(problems) > 1 else (),
        )
    return tuple(insets), tuple(windows)


def _probe_inset(job: Job, index: int, spec: PipSpec, problems: list[tuple[str, str]]) -> MediaInfo | None:
    try:
        parse_color(spec.border_color)
    except ValueError as exc:
        problems.append(_problem(job, index, "border_color", str(exc)))
    try:
        inset = probe(spec.source)
    except InputError as exc:
        message = f"{exc.message}: {spec.source}"
        if is_still_image(spec.source):
            # An inset plays a clip; a still (a logo, a map) is what [logo] draws, looped.
            message = f"a still image, not a clip: draw it with a [logo] table instead: {spec.source}"
        problems.append(_problem(job, index, "source", message))
        return None
    if inset.video is None:
        problems.append(_problem(job, index, "source", f"no video stream: {spec.source}"))
        return None
    if spec.audio != "mute" and inset.first_audio is None:
        problems.append(_problem(
            job, index, "audio", f'"{spec.audio}" needs the inset\'s sound, but it has no audio stream: {spec.source}'
        ))
    return inset


def _pip_report(job: Job, insets: tuple[MediaInfo, ...], windows: tuple[PipWindow, ...], main: MediaInfo) -> list[dict[str, object]]:
    rows = []
    for spec, inset, window in zip(job.pip, insets, windows, strict=True):
        assert inset.video is not None
        row: dict[str, object] = {
            "source": str(inset.path),
            "start_s": round(window.start_s, 3),
            "end_s": round(window.end_s, 3),
            "inset_duration_s": round(inset.duration_s, 3),
            "held_last_frame_s": round(window.held_s, 3),
            "trimmed": inset.duration_s > window.content_s + 0.01,
            "audio": spec.audio,
        }
        if spec.audio != "mute" and main.first_audio is None:
            row["note"] = "the main video has no audio track, so the inset's sound is not used"
        rows.append(row)
    return rows


def _shows_picture(job: Job, info: MediaInfo) -> bool:
    return info.video is not None and container_for(job.output_path)[1]


def sample_picture(
    info: MediaInfo, hdr: HdrPrep | None, *, stop: threading.Event | None = None, work_dir: Path | None = None,
    edit: EditList | None = None, take_hdr: tuple[HdrPrep | None, ...] = (),
) -> FrameSamples:
    """Frame samples of the picture as the render shows it: an HDR source after the same
    HDR to SDR filters the render applies first; an edit list's takes where they play."""
    if edit is not None:
        def sample_take(take: MediaInfo, index: int) -> FrameSamples:
            return sample_picture(take, take_hdr[index] if take_hdr else None, stop=stop, work_dir=work_dir)

        return sample_edit(edit, sample_take)
    if hdr is not None and info.video is not None:
        return sample_converted_frames(info, hdr.filters(info.video), stop=stop, work_dir=work_dir)
    return sample_frames(info, stop=stop)


def start_light_analysis(
    job: Job, info: MediaInfo, hdr: HdrPrep | None = None, work_dir: Path | None = None, *,
    edit: EditList | None = None, take_hdr: tuple[HdrPrep | None, ...] = (),
) -> Background[LightPlan] | None:
    """The auto-light analysis (it decodes the main picture, or every take, converted to
    SDR like the render converts it) started on a worker thread; None when the job has no
    auto light or nothing to show."""
    if job.settings.light.mode != "auto" or not _shows_picture(job, info):
        return None
    settings = job.settings.light
    return Background(
        lambda stop: plan_light(sample_picture(info, hdr, stop=stop, work_dir=work_dir, edit=edit, take_hdr=take_hdr),
                                settings),
        name="light analysis",
    )


def with_light(prep: PicturePrep, light: LightPlan) -> PicturePrep:
    """`prep` with an auto-light plan made separately (see `start_light_analysis`)."""
    return replace(prep, light=light, report={**prep.report, "light": light.to_report()})


def with_stabilization(prep: PicturePrep, stabilize: StabilizePlan) -> PicturePrep:
    """`prep` with the stabilization decided from the detect pass (see
    `pipeline.video.stabilize_pass`)."""
    return replace(prep, stabilize=stabilize, report={**prep.report, "stabilize": stabilize.to_report()})


def prepare_picture(
    job: Job,
    info: MediaInfo,
    size_px: tuple[int, int] | None,
    fps: float | None,
    *,
    analyse_light: bool = True,
    hdr: HdrPrep | None = None,
    work_dir: Path | None = None,
    edit: EditList | None = None,
    take_hdr: tuple[HdrPrep | None, ...] = (),
) -> PicturePrep:
    """Everything the picture plan needs that must be read or made first. With
    `analyse_light` false the auto-light plan is left out, to be added with `with_light`."""
    from pipeline.video.compose import format_fps

    report: dict[str, object] = {}
    if hdr is not None and info.video is not None:
        report["hdr"] = build_hdr_report(info.video, hdr.peak_nits, hdr.peak_source)
    insets, windows = check_insets(job, info)
    if insets:
        report["pip"] = _pip_report(job, insets, windows, info)
    if not _shows_picture(job, info) or size_px is None or fps is None:
        # Nothing to look at or to show: the insets' sound still counts.
        return PicturePrep(insets=insets, windows=windows, hdr=hdr, report=report, edit=edit, take_hdr=take_hdr)

    # Checked before anything slow (HDR peaks, light, cards): a missing logo fails at once.
    overlays: tuple[PlacedOverlay, ...] = ()
    if has_overlays(job):
        overlays = prepare_overlays(job, picture_duration_s(info) or info.duration_s, size_px)
    inset_hdr = tuple(prepare_hdr(inset) for inset in insets)
    if any(inset_hdr):
        report["pip_hdr"] = [
            build_hdr_report(inset.video, hdr.peak_nits, hdr.peak_source) if hdr and inset.video else None
            for inset, hdr in zip(insets, inset_hdr)
        ]
    light = None
    if job.settings.light.mode == "auto" and analyse_light:
        light = plan_light(sample_picture(info, hdr, work_dir=work_dir, edit=edit, take_hdr=take_hdr), job.settings.light)
        report["light"] = light.to_report()
    elif job.settings.light.mode == "manual":
        report["light"] = {"mode": "manual", **job.settings.light.model_dump(exclude={"mode", "strength"})}

    cards: dict[str, RenderedCard] = {}
    for name, spec in (("intro", job.intro), ("outro", job.outro)):
        if spec is not None:
            cards[name] = render_card(name, spec, size_px, fps, format_fps(fps), job_file=job.source)
    if cards:
        report["cards"] = {name: card.to_report() for name, card in cards.items()}
    if overlays:
        report["overlays"] = overlays_report(overlays, cards["intro"].duration_s if "intro" in cards else 0.0)
    if edit is not None:
        report["takes"] = edit.to_report()
    return PicturePrep(
        insets=insets, windows=windows, light=light, cards=cards, hdr=hdr, inset_hdr=inset_hdr, report=report,
        edit=edit, take_hdr=take_hdr, overlays=overlays,
    )
