"""One render, start to finish: probe, measure, plan, run, verify, put in place, report.

The output is written to a hidden partial file beside the target and renamed into place
only after ffmpeg succeeded and the result was checked; on any failure or interruption
the partial file is removed. A JSON report (`<output>.wayfinder.json`) records what was
measured and decided. A job's `[captions]` table adds to this: approved captions burned
into the picture graph (`pipeline.captions.burn`), and a caption draft transcribed from
the verified partial file and put in place with the output (`pipeline.captions.render_draft`).
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline import __version__
from pipeline.audio.picture_length import picture_duration_s
from pipeline.config import Job
from pipeline.captions.burn import prepare_burn_in
from pipeline.captions.draft import partial_draft_path
from pipeline.captions.render_draft import RenderDraft, check_draft_ready, draft_files_for, stage_render_draft
from pipeline.errors import WRITE_ERRNOS, ConfigError, OutputError, RenderError, os_error_reason
from pipeline.leftovers import sweep_old_spools, sweep_partials, write_owner
from pipeline.media import ProgressCallback, find_ffmpeg, run_ffmpeg
from pipeline.output_lock import output_lock
from pipeline.plan import (
    RenderPlan,
    build_picture_plan,
    build_render_plan,
    build_video_mode,
    container_for,
    partial_path_for,
)
from pipeline.probe import MediaInfo, probe
from pipeline.programme import load_programme
from pipeline.sound_stage import NoteCallback, SoundResult, make_sound, plan_sound
from pipeline.speed import SpeedRecord, in_this_context, recording, step
from pipeline.speed import current as current_record
from pipeline.sources import check_output_not_source
from pipeline.state import sha256_of_file
from pipeline.video import compose
from pipeline.video.compose import build_output_fps, build_output_size
from pipeline.video.compose import edits_picture as edits_picture_of
from pipeline.video.hdr import prepare_hdr
from pipeline.video.prepare import PicturePrep, prepare_picture, start_light_analysis, with_light, with_stabilization
from pipeline.video.stabilize_pass import start_stabilize_analysis
from pipeline.video.sizing import build_shorts_verdict
from pipeline.youtube.caption_timing import load_job_captions, write_placed_captions

if TYPE_CHECKING:
    from pipeline.audio.prepare import AudioPrep
    from pipeline.background import Background
    from pipeline.video.light import LightPlan
    from pipeline.video.stabilize import StabilizePlan

DURATION_TOLERANCE_S = 0.25


@dataclass
class RenderResult:
    job: Job
    plan: RenderPlan
    input_info: MediaInfo
    output_info: MediaInfo | None = None
    report_path: Path | None = None
    measurements: dict[str, object] = field(default_factory=dict)
    wall_time_s: float = 0.0
    captions: dict[str, object] | None = None  # the placed caption file, see youtube.caption_timing
    speed: dict[str, object] | None = None  # see pipeline.speed: wall, encode, outside it, passes
    output_sha256: str | None = None
    caption_draft: dict[str, object] | None = None  # [captions] draft: see captions.render_draft
    burned_captions: dict[str, object] | None = None  # [captions] burn_in: see captions.burn


def report_path_for(output_path: Path) -> Path:
    return output_path.with_name(output_path.name + ".wayfinder.json")


def check_output_target(output_path: Path, *, force: bool) -> None:
    """Refuse to overwrite without --force; create the folder; make sure it is writable."""
    container_for(output_path)
    if output_path.exists() and not force:
        raise OutputError("output exists; use --force to overwrite it", file=output_path)
    folder = output_path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the output folder: {exc.strerror}", file=folder) from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError("output folder is not writable", file=folder)


@dataclass
class PictureStart:
    """What the picture needs before its plan: the probe, the insets and cards (made
    first, since the sound mixes them too), and the auto-light analysis under way."""

    info: MediaInfo
    prep: PicturePrep
    light_task: Background[LightPlan] | None
    edits_picture: bool
    stabilize_task: Background[StabilizePlan] | None = None
    burn_report: dict[str, object] | None = None  # the approved captions burned in, for the report

    def with_light(self) -> PicturePrep:
        """The prep with the light plan and the stabilization, waiting for their analyses
        if they still run."""
        prep = self.prep
        if self.light_task is not None:
            prep = with_light(prep, self.light_task.result())
        if self.stabilize_task is not None:
            prep = with_stabilization(prep, self.stabilize_task.result())
        return prep

    def cancel(self) -> None:
        # On errors and interrupts: stop decoding, nobody needs it.
        for task in (self.light_task, self.stabilize_task):
            if task is not None:
                task.cancel()


def start_job(job: Job, work_dir: Path) -> PictureStart:
    """Probe (the input, or every take), find an HDR source's peak, start the light
    analysis (on a worker thread), check the insets and make the cards. `work_dir` holds
    the analysis' working files (and an edit list's sound, later)."""
    # First: a caption file that is missing, broken or not approved fails before any work.
    burn = prepare_burn_in(job, work_dir)
    info, edit = load_programme(job, work_dir)
    edits_picture = info.video is not None and edits_picture_of(job, info.video)
    shows_picture = edits_picture and container_for(job.output_path)[1]
    if burn is not None and not shows_picture:
        raise ConfigError("burn_in: the output carries no picture to burn captions into",
                          file=job.source or job.main_path, field="captions.burn_in")
    # An HDR source's peak is found first: the light analysis looks at the SDR picture.
    hdr = prepare_hdr(info) if shows_picture and edit is None else None
    take_hdr = tuple(prepare_hdr(clip.info) for clip in edit.clips) if shows_picture and edit is not None else ()
    light_task = start_light_analysis(job, info, hdr, work_dir, edit=edit, take_hdr=take_hdr) if edits_picture else None
    stabilize_task = None
    try:
        # The one extra read of the picture: beside the light analysis and the sound.
        if edits_picture:
            stabilize_task = start_stabilize_analysis(job, info, work_dir, hdr=hdr, edit=edit, take_hdr=take_hdr)
        prep = PicturePrep(edit=edit)
        if edits_picture:
            assert info.video is not None
            size_px, _ = build_output_size(info.video, job.settings.video)
            fps, _ = build_output_fps(info.video, job.settings.video)
            prep = prepare_picture(job, info, size_px, fps, analyse_light=light_task is None, hdr=hdr, work_dir=work_dir,
                                   edit=edit, take_hdr=take_hdr)
    except BaseException:
        for task in (light_task, stabilize_task):
            if task is not None:
                task.cancel()
        raise
    if burn is not None:
        prep = replace(prep, burn=burn[0])
    burn_report = burn[1] if burn is not None else None
    return PictureStart(info, prep, light_task, edits_picture, stabilize_task, burn_report)


def collect_measurements(start: PictureStart, prep: PicturePrep, audio_prep: AudioPrep | None) -> dict[str, object]:
    measurements: dict[str, object] = {}
    if audio_prep is not None:
        measurements["audio"] = audio_prep.report()
    if start.edits_picture:
        measurements["picture"] = prep.report
    return measurements


def plan_job(
    job: Job, *, on_note: NoteCallback | None = None, work_dir: Path | None = None
) -> tuple[MediaInfo, RenderPlan, dict[str, object], AudioPrep | None]:
    """Probe and measure the input, then build the plan, one step after the other (the
    render itself runs the sound beside the picture). Writes nothing but the enhanced
    sound, into `work_dir` (title cards go to their cache). Without `work_dir` the sound
    goes to a temporary folder removed on return: such a plan is for reading, not for
    running."""
    if work_dir is None:
        with tempfile.TemporaryDirectory(prefix="wayfinder-plan-") as temporary:
            return plan_job(job, on_note=on_note, work_dir=Path(temporary))
    note = on_note or (lambda _text: None)
    start = start_job(job, work_dir)
    try:
        audio_prep, notes = plan_sound(job, start.info, start.prep, work_dir)
        prep = start.with_light()
    finally:
        start.cancel()
    plan = build_render_plan(job, start.info, audio_prep, work_dir=work_dir, prep=prep, notes=notes)
    for text in plan.notes:
        note(text)
    return start.info, plan, collect_measurements(start, prep, audio_prep), audio_prep


def verify_output(plan: RenderPlan, job: Job, path: Path) -> MediaInfo:
    """Check the written file before it is put in place."""
    info = probe(path)
    problems = []
    if plan.video_mode != "none" and info.video is None:
        problems.append("no video stream in the output")
    if plan.audio_mode != "none":
        audio = info.first_audio
        if audio is None:
            problems.append("no audio stream in the output")
        elif audio.sample_rate_hz != job.settings.audio.sample_rate_hz:
            problems.append(f"audio at {audio.sample_rate_hz} Hz, expected {job.settings.audio.sample_rate_hz}")
    if abs(info.duration_s - plan.duration_s) > max(DURATION_TOLERANCE_S, 0.02 * plan.duration_s):
        problems.append(
            f"output is {info.duration_s:.2f} s long but the input is {plan.duration_s:.2f} s "
            "(input corrupt or truncated?)"
        )
    if problems:
        raise RenderError("; ".join(problems), file=job.main_path)
    return info


def write_report(result: RenderResult) -> Path:
    plan = result.plan
    report = {
        "wayfinder_version": __version__,
        "job": str(result.job.source) if result.job.source else None,
        "preset": result.job.preset_name,
        "settings_layers": list(result.job.layers),
        "input": result.input_info.to_dict(),
        "output": (
            # The hash lets the upload queue trust this report's numbers for this exact file.
            {**result.output_info.to_dict(), "sha256": result.output_sha256 or sha256_of_file(plan.output_path)}
            if result.output_info else None
        ),
        "video_mode": plan.video_mode,
        "audio_mode": plan.audio_mode,
        # YouTube's Shorts rule, on the output as written (its frame and length).
        "youtube_short": build_shorts_verdict(
            plan.output_size_px,
            result.output_info.duration_s if result.output_info else plan.duration_s,
        ),
        "notes": list(plan.notes),
        "measurements": result.measurements,
        **({"captions": result.captions} if result.captions is not None else {}),
        **({"caption_draft": result.caption_draft} if result.caption_draft is not None else {}),
        **({"burned_captions": result.burned_captions} if result.burned_captions is not None else {}),
        "settings": result.job.settings.model_dump(mode="json"),
        "command": plan.command_line(),
        "wall_time_s": round(result.wall_time_s, 3),
        **({"speed": result.speed} if result.speed is not None else {}),
    }
    path = report_path_for(plan.output_path)
    temporary = path.with_name(f".{path.name}.partial")
    temporary.write_text(json.dumps(report, indent=2), encoding="utf-8")
    os.replace(temporary, path)
    return path


def timed_sound(*args: object, **kwargs: object) -> SoundResult:
    """`make_sound`, its whole span recorded as one step of the render (it runs beside the
    picture; its own ffmpeg passes are recorded inside it)."""
    with step("sound (beside the picture)"):
        return make_sound(*args, **kwargs)  # type: ignore[arg-type]


def remove_quietly(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def run_render(
    job: Job,
    *,
    force: bool = False,
    on_progress: ProgressCallback | None = None,
    on_note: NoteCallback | None = None,
) -> RenderResult:
    """Render `job` to its output path. Leaves nothing behind on failure."""
    started = time.monotonic()
    record = SpeedRecord(started_monotonic_s=started)
    with recording(record):
        return _run_render_recorded(job, started, force=force, on_progress=on_progress, on_note=on_note)


def _run_render_recorded(
    job: Job,
    started: float,
    *,
    force: bool,
    on_progress: ProgressCallback | None,
    on_note: NoteCallback | None,
) -> RenderResult:
    check_output_not_source(job)
    check_output_target(job.output_path, force=force)
    find_ffmpeg()
    draft_model = check_draft_ready(job, force=force)
    try:
        with output_lock(job.output_path):
            return _render_locked(job, started, force=force, on_progress=on_progress, on_note=on_note,
                                  draft_model=draft_model)
    except OSError as exc:
        # Our own writes beside the output (lock, working files, spools, report) on a full or
        # read-only disk; Python often cannot say which file, so name the output's folder.
        if exc.filename is None and exc.errno in WRITE_ERRNOS:
            raise OutputError(f"render failed: {os_error_reason(exc)} in {job.output_path.parent}",
                              file=job.main_path) from exc
        raise


def _render_locked(
    job: Job,
    started: float,
    *,
    force: bool,
    on_progress: ProgressCallback | None,
    on_note: NoteCallback | None,
    draft_model: Path | None = None,
) -> RenderResult:
    if job.output_path.exists() and not force:  # another render may have finished it since the check
        raise OutputError("output exists; use --force to overwrite it", file=job.output_path)
    # Holding the lock, anything partial for this output is a killed render's leftover.
    swept = sweep_partials(partial_path_for(job.output_path)) + sweep_old_spools()
    if job.captions.draft:  # a render killed while it staged its drafts
        swept += [path for draft in draft_files_for(job) for path in sweep_partials(partial_draft_path(draft))]
    if swept and on_note is not None:
        on_note(f"removed {len(swept)} leftover{'s' if len(swept) != 1 else ''} of an interrupted render: "
                + ", ".join(path.name for path in swept))
    # The working files (decoded and enhanced sound, the encoded picture and track) live in
    # a private (0700) hidden folder beside the output: on the output's own disk, which
    # has room for the output, and named like a partial file so nothing mistakes it for one.
    with tempfile.TemporaryDirectory(
        prefix=f"{partial_path_for(job.output_path).name}-", dir=job.output_path.parent
    ) as work_dir:
        write_owner(Path(work_dir))
        return _plan_and_run(job, started, Path(work_dir), on_progress=on_progress, on_note=on_note,
                             draft_model=draft_model)


def _plan_and_run(
    job: Job,
    started: float,
    work_dir: Path,
    *,
    on_progress: ProgressCallback | None,
    on_note: NoteCallback | None,
    draft_model: Path | None = None,
) -> RenderResult:
    """The picture encodes while the sound is made beside it on a worker thread; then the
    two are muxed (both copied) into the partial file, which is checked and renamed."""
    note = on_note or (lambda _text: None)
    captions = load_job_captions(job)  # a bad caption file fails the job before any work
    with step("probe, insets, cards, start analyses"):
        start = start_job(job, work_dir)
    info = start.info
    if draft_model is not None and info.first_audio is None:
        start.cancel()
        raise ConfigError("draft: the programme has no sound to transcribe", file=job.source or job.main_path,
                          field="captions.draft")
    video_mode = build_video_mode(job, info)
    programme_s = picture_duration_s(info) if video_mode != "none" else None
    picture_s = (programme_s or info.duration_s) + (compose.cards_duration_s(start.prep) if video_mode == "encode" else 0.0)
    stop = threading.Event()  # either half failing stops the other
    partial = partial_path_for(job.output_path)
    remove_quietly(partial)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sound") as pool:
        sound_future = pool.submit(
            in_this_context(timed_sound), job, info, start.prep, work_dir,
            with_cards=video_mode == "encode", duration_s=picture_s, stop=stop, on_note=note,
            # With no picture to encode, the sound's encode is the render's progress.
            on_progress=on_progress if video_mode != "encode" else None,
        )
        try:
            try:
                with step("wait for the picture analyses"):
                    prep = start.with_light()
            finally:
                start.cancel()
            with step("plan the picture"):
                picture = build_picture_plan(job, info, work_dir, prep=prep)
            for text in picture.notes:
                note(text)
            if picture.args is not None:
                run_ffmpeg(picture.args, total_s=picture.duration_s, on_progress=on_progress,
                           what="picture encode", file=job.main_path, stop=stop)
            with step("wait for the sound"):
                sound = sound_future.result()
        except BaseException:
            stop.set()
            wait([sound_future])
            raise
    plan = build_render_plan(job, info, sound.audio_prep, work_dir=work_dir, prep=prep, notes=sound.notes, picture=picture)
    measurements = collect_measurements(start, prep, sound.audio_prep)
    if sound.verified is not None:
        measurements["audio"]["verified"] = sound.verified  # type: ignore[index]
    result = RenderResult(job=job, plan=plan, input_info=info, measurements=measurements,
                          burned_captions=start.burn_report)
    draft: RenderDraft | None = None
    try:
        run_ffmpeg(plan.mux_args, total_s=plan.duration_s, what="mux", file=job.main_path)
        with step("verify the output"):
            result.output_info = verify_output(plan, job, plan.partial_path)
        if draft_model is not None:
            with step("draft captions"):
                draft = stage_render_draft(job, plan.partial_path, result.output_info.duration_s, draft_model)
        os.replace(plan.partial_path, plan.output_path)
    except BaseException:  # errors, Ctrl-C, SIGTERM: never leave a partial file behind
        remove_quietly(plan.partial_path)
        if draft is not None:
            draft.discard()
        raise
    if draft is not None:
        # Right after the output: the drafts are timed to it, and replace any older ones.
        draft.commit()
        result.caption_draft = draft.report()
        note(draft.note())
    if start.burn_report is not None:
        note(f"captions burned in: {Path(str(start.burn_report['file'])).name}, approved by "
             f"{start.burn_report['approved_by']}")
    result.output_info = replace(result.output_info, path=plan.output_path)
    if captions is not None:
        intro = prep.cards.get("intro")
        result.captions = write_placed_captions(captions, prep.edit, intro.duration_s if intro else 0.0, plan.output_path)
        note(f"captions placed on the video's timeline: {Path(str(result.captions['file'])).name}")
    with step("hash the output"):
        result.output_sha256 = sha256_of_file(plan.output_path)
    result.wall_time_s = time.monotonic() - started
    record = current_record()
    if record is not None:
        result.speed = record.report(result.wall_time_s)
    result.report_path = write_report(result)
    return result
