"""`wayfinder captions`: caption quality checks, local draft transcripts, and recorded
reviews (`approve`, `status`).

Owns the command line only: options, the per-problem lines (caption number, time, rule,
what is wrong), the verdict line, JSON on stdout with `--json`, and the exit code
(0 every caption passes, 1 a rule failed, 3 an unreadable caption file, a missing video
or a bad preset; for a draft, 4 when the recognizer or its model is missing). The work is
`pipeline.captions.check.run_caption_check`, `pipeline.captions.draft.make_draft` and
`pipeline.captions.approval`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from pipeline.cli.app import handle_errors
from pipeline.cli.console import err_console, out_console, print_plain, styled
from pipeline.errors import EXIT_FAILED

captions_app = typer.Typer(help="Check captions against the caption rules (DCMP / WCAG 1.2.2), draft them, record their review.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(captions_app, name="captions")


@captions_app.command("check")
@handle_errors
def check_command(
    captions: Path = typer.Argument(..., help="Caption file, SRT or WebVTT."),
    video: Path = typer.Option(..., "--video", help="The output the captions are for (its length and its speech are checked)."),
    preset: str = typer.Option("youtube", "--preset", "-p", help="Preset whose [captions] rules apply."),
    profile: Optional[str] = typer.Option(None, "--profile", help="standard (42 characters a line) or dcmp-strict (32); overrides the preset's."),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON on stdout (the lines go to stderr)."),
) -> None:
    """Check every caption of CAPTIONS: lines and their length, time on screen, reading rate,
    overlaps, programme bounds, sync with the speech in VIDEO, speech left uncaptioned.

    Exit 0 when every caption passes, 1 when a rule failed, 3 for an unreadable file.
    """
    from pipeline.captions.check import run_caption_check
    from pipeline.config import load_preset_settings
    from pipeline.errors import UsageError

    settings = load_preset_settings(preset).captions
    if profile is not None:
        if profile not in ("standard", "dcmp-strict"):
            raise UsageError(f"--profile: {profile!r} is not standard or dcmp-strict")
        settings = settings.model_copy(update={"profile": profile})
    result = run_caption_check(captions, video, settings)
    human = err_console if json_out else out_console
    for problem in result.problems:
        human.print(styled(("FAIL", "bold red"), f" {captions.name}: {problem.one_line()}"))
    verdict = "PASS" if result.passed else "FAIL"
    human.print(styled((verdict, "bold green" if result.passed else "bold red"),
                       f" {captions.name}: {result.caption_count} caption(s), {len(result.problems)} problem(s) "
                       f"({settings.profile}: {settings.max_lines} lines of {settings.line_chars} characters, "
                       f"{settings.min_duration_s:g}-{settings.max_duration_s:g} s, {settings.max_chars_per_s:g} "
                       f"characters a second; {len(result.speech)} speech passages in {video.name})"))
    if json_out:
        print_plain(json.dumps(result.to_dict(), indent=2, ensure_ascii=False), console=out_console)
    if not result.passed:
        raise typer.Exit(EXIT_FAILED)


@captions_app.command("draft")
@handle_errors
def draft_command(
    video: Path = typer.Argument(..., help="The output to caption (its own sound is transcribed)."),
    model: Optional[Path] = typer.Option(None, "--model", help="Folder of a CTranslate2 Whisper model (default: $WAYFINDER_WHISPER_MODEL, else <config>/models/faster-whisper-base)."),
    vocabulary: list[str] = typer.Option([], "--vocabulary", "-w", help="A name the recognizer should expect (repeat); added to the preset's [captions] vocabulary."),
    preset: str = typer.Option("youtube", "--preset", "-p", help="Preset whose [captions] rules, vocabulary and language apply."),
    force: bool = typer.Option(False, "--force", help="Replace an existing draft."),
) -> None:
    """Transcribe VIDEO's speech on this machine and write OUT.en.vtt and OUT.en.srt beside it,
    segmented by the caption rules. A draft: review it, then `captions check` it.

    Exit 0 written, 1 a draft already there (use --force), 3 a bad video, 4 no recognizer or model.
    """
    from pipeline.captions.draft import make_draft
    from pipeline.captions.recognize import Recognizer, default_model_dir
    from pipeline.config import load_preset_settings

    settings = load_preset_settings(preset).captions
    recognizer = Recognizer(model if model is not None else default_model_dir())
    draft = make_draft(video, settings, recognizer, vocabulary=vocabulary, force=force)
    out_console.print(f"wrote {draft.vtt} and {draft.srt}: {len(draft.captions)} caption(s) from {draft.words} "
                      "word(s); a draft: review it, then run wayfinder captions check")


@captions_app.command("approve")
@handle_errors
def approve_command(
    video: Path = typer.Argument(..., help="The output whose captions were reviewed."),
    by: str = typer.Option(..., "--by", help="Who reviewed and approves the captions (recorded with the time)."),
    captions: Optional[Path] = typer.Option(None, "--captions", help="The caption file approved (default: the one beside VIDEO, e.g. OUT.en.vtt)."),
    preset: str = typer.Option("youtube", "--preset", "-p", help="Preset whose [captions] rules the file must pass."),
) -> None:
    """Record that a person reviewed CAPTIONS for VIDEO: the caption file's sha256, the
    output's path and sha256, the name and the time, in the state database. The file must
    pass the caption rules first. A public or scheduled upload under require_captions needs
    an approval whose hashes still match: edit the file, and approve it again.

    Exit 0 recorded, 1 a caption rule failed (each problem listed), 2 no name, 3 a missing
    or unreadable file, 4 the state database cannot be used.
    """
    from pipeline.captions.approval import CaptionsNotPassing, approve
    from pipeline.config import load_preset_settings

    settings = load_preset_settings(preset).captions
    try:
        approval = approve(video, captions, by, settings)
    except CaptionsNotPassing as error:
        for problem in error.problems:
            err_console.print(styled(("FAIL", "bold red"), f" {problem}"))
        raise
    out_console.print(f"approved {Path(approval.captions_path).name} (sha256 {approval.captions_sha256[:12]}…) "
                      f"for {video} by {approval.approved_by} at {_local_time(approval.approved_at)}")


def _local_time(utc_text: str) -> str:
    from pipeline.captions.approval import local_time

    return local_time(utc_text)


@captions_app.command("status")
@handle_errors
def status_command(
    video: Optional[Path] = typer.Argument(None, help="Only this output's approvals (default: every output's)."),
    json_out: bool = typer.Option(False, "--json", help="Print the approvals as JSON."),
) -> None:
    """List recorded caption approvals, newest first, with whether each still holds:
    current, captions changed, output changed, or a file missing. Exit 0."""
    from datetime import datetime

    from pipeline.captions.approval import judge
    from pipeline.captions.approval_store import read_approvals
    from pipeline.cli.tables import compact_table, fit_paths

    states = [judge(a) for a in read_approvals(video.resolve() if video is not None else None)]
    if json_out:
        rows = []
        for state in states:
            local = datetime.fromisoformat(state.approval.approved_at).astimezone()
            rows.append({**state.approval.to_dict(), "approved_at": local.isoformat(timespec="seconds"),
                         "time_zone": local.strftime("%Z"), "status": state.status})
        print_plain(json.dumps({"approvals": rows}, indent=2, ensure_ascii=False), console=out_console)
        return
    if not states:
        out_console.print(f"no caption approvals recorded{f' for {video}' if video is not None else ''}")
        return

    def build(shorten):  # type: ignore[no-untyped-def]
        table = compact_table()
        # The output with its caption file's name below it, who approved above when: two
        # short lines each, so the status stays whole beside them at 80 columns.
        table.add_column("Output, captions", overflow="fold")
        table.add_column("Approved by, at", overflow="fold")
        table.add_column("Status", no_wrap=True)
        for state in states:
            approval = state.approval
            table.add_row(f"{shorten(approval.output_path)}\n{Path(approval.captions_path).name}",
                          f"{approval.approved_by}\n{_local_time(approval.approved_at)}", state.status)
        return table

    out_console.print(fit_paths(build, "Output, captions", out_console), soft_wrap=False)  # the console soft-wraps: cells would not
