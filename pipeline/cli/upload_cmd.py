"""`wayfinder upload`: publish one video to YouTube (a thin shell over pipeline.youtube).

Everything is rendered and validated (the file probed as a render probes its inputs) and
the loudness gate the queue applies is passed (unless `--skip-qa`) before credentials are
read or a request is made; `--dry-run` stops before the gate and prints the exact
requests and their quota cost as JSON.
Progress goes to stderr, the result (or `--json` record) to stdout.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from pipeline.cli.app import handle_errors
from pipeline.cli.console import err_console, out_console, styled
from pipeline.errors import UsageError
from pipeline.local_time import local_time_text

if TYPE_CHECKING:
    from pipeline.youtube.plan import UploadPlan
    from pipeline.youtube.quota import QuotaTable


class PrivacyChoice(str, Enum):
    public = "public"
    unlisted = "unlisted"
    private = "private"


class ConsoleReporter:
    """Progress bar (bytes, speed, ETA) and messages on stderr."""

    def __init__(self) -> None:
        self._progress: Progress | None = None
        self._task: int | None = None

    def _print(self, text: str, style: str = "") -> None:
        console = self._progress.console if self._progress is not None else err_console
        console.print(styled((text, style)))

    def info(self, message: str) -> None:
        self._print(message)

    def warn(self, message: str) -> None:
        self._print(f"warning: {message}", "yellow")

    def transfer_started(self, total_bytes: int) -> None:
        self._progress = Progress(
            TextColumn("uploading"), BarColumn(), DownloadColumn(binary_units=True), TransferSpeedColumn(),
            TimeRemainingColumn(), console=err_console, transient=False,
        )
        self._progress.start()
        self._task = self._progress.add_task("upload", total=total_bytes)

    def transfer_progress(self, done_bytes: int) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=done_bytes)  # type: ignore[arg-type]

    def transfer_finished(self) -> None:
        if self._progress is not None:
            self._progress.stop()
        self._progress = None
        self._task = None

    def processing(self, message: str) -> None:
        self._print(message)


def _print_json(data: object) -> None:
    out_console.out(json.dumps(data, indent=2, ensure_ascii=False, default=str), highlight=False)


@handle_errors
def upload(
    video: Path = typer.Argument(..., help="The video file to upload."),
    job: Path | None = typer.Option(None, "--job", help="Job file whose [youtube] table (and preset) describe the upload."),
    template: str | None = typer.Option(None, "--template", help="Metadata template name (presets/templates/NAME.toml or your config folder)."),
    var: list[str] = typer.Option([], "--var", help="Template variable, key=value (repeatable; wins over [youtube.vars])."),
    preset: str | None = typer.Option(None, "--preset", help="Preset whose [publish] rules apply (default: the job's preset)."),
    privacy: PrivacyChoice | None = typer.Option(None, "--privacy", help="public, unlisted or private (default private)."),
    publish_at: str | None = typer.Option(None, "--publish-at", help="Schedule: RFC 3339 time, e.g. 2025-06-01T09:00:00-05:00 (needs private)."),
    playlist: str | None = typer.Option(None, "--playlist", help="Add to this playlist (by name; created if missing)."),
    thumbnail: str | None = typer.Option(None, "--thumbnail", help="'auto' (pick a frame), a JPEG/PNG path, or 'none'."),
    thumbnail_title: bool | None = typer.Option(None, "--thumbnail-title/--no-thumbnail-title", help="Draw the title on an auto thumbnail."),
    captions: Path | None = typer.Option(None, "--captions", help="Caption file (SRT or WebVTT) to upload."),
    captions_language: str | None = typer.Option(None, "--captions-language", help="Language of the captions (default: the audio language, else en)."),
    made_for_kids: bool | None = typer.Option(None, "--made-for-kids/--not-made-for-kids", help="Declare the audience explicitly."),
    consent_form: list[str] = typer.Option([], "--consent-form", help="Release record for people shown (repeatable)."),
    no_identifiable_people: bool = typer.Option(False, "--no-identifiable-people", help="State that nobody identifiable is shown."),
    wait: bool = typer.Option(False, "--wait", help="Poll until YouTube has processed the video."),
    wait_timeout_s: float = typer.Option(3600.0, "--wait-timeout-s", help="Give up waiting after this many seconds."),
    poll_interval_s: float = typer.Option(15.0, "--poll-interval-s", help="Seconds between processing polls."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the exact requests and their quota cost; send nothing."),
    again: bool = typer.Option(False, "--again", help="Upload even if this file is already on the channel."),
    adopt: str | None = typer.Option(None, "--adopt", metavar="VIDEO_ID", help="Record this channel's video VIDEO_ID as the upload of this file (after a lost reply), then finish thumbnail, captions and playlist; nothing is uploaded."),
    skip_qa: bool = typer.Option(False, "--skip-qa", help="Upload without the loudness QA gate (a passing render report, or a passing measurement now)."),
    json_out: bool = typer.Option(False, "--json", help="Print the upload record as JSON on stdout."),
    credentials: Path | None = typer.Option(None, "--credentials", help="Authorized-user JSON (default: $WAYFINDER_CREDENTIALS, else the config folder)."),
    api_root: str | None = typer.Option(None, "--api-root", help="Base URL replacing https://youtube.googleapis.com/ (default: $WAYFINDER_YOUTUBE_API_ROOT)."),
    chunk_kib: int = typer.Option(8192, "--chunk-kib", help="Upload chunk size in KiB, a multiple of 256."),
    retries: int = typer.Option(8, "--retries", help="Tries in a row without progress before giving up."),
) -> None:
    """Upload VIDEO to YouTube: validated metadata, resumable transfer, thumbnail, captions, playlist."""
    from pipeline.youtube.client import resolve_api_root
    from pipeline.youtube.plan import UploadOverrides, build_upload_plan
    from pipeline.youtube.quota import load_quota_table
    from pipeline.youtube.templates import parse_var_assignments

    if chunk_kib <= 0 or chunk_kib % 256:
        raise UsageError(f"--chunk-kib must be a positive multiple of 256, got {chunk_kib}")
    if retries < 1:
        raise UsageError("--retries must be at least 1")
    resolved_root = resolve_api_root(api_root)
    overrides = UploadOverrides(
        template=template, preset=preset, variables=parse_var_assignments(var),
        privacy=privacy.value if privacy else None, publish_at=publish_at, playlist=playlist,
        thumbnail=thumbnail, thumbnail_title=thumbnail_title,
        captions=str(captions) if captions else None, captions_language=captions_language,
        made_for_kids=made_for_kids, consent_forms=tuple(consent_form),
        no_identifiable_people=True if no_identifiable_people else None,
    )
    plan = build_upload_plan(video, job_file=job, overrides=overrides, now=datetime.now(timezone.utc))
    table = load_quota_table()
    chunk_size_bytes = chunk_kib * 1024
    if adopt is not None and (again or not adopt.strip()):
        raise UsageError("--adopt VIDEO_ID names the video this file already is; it cannot go with --again")
    if dry_run:
        _dry_run(plan, chunk_size_bytes, wait, table)
        return
    if not skip_qa and adopt is None:
        from pipeline.queue.add import DEFAULT_QA_PRESET
        from pipeline.queue.gate import require_loudness

        qa_preset = plan.policy.preset or DEFAULT_QA_PRESET
        err_console.print(f"checking the loudness of {plan.video.path.name} against preset {qa_preset}",
                          highlight=False, markup=False)
        require_loudness(plan.video.path, qa_preset)
    _publish(plan, table, chunk_size_bytes=chunk_size_bytes, again=again, adopt=adopt, wait=wait,
             wait_timeout_s=wait_timeout_s, poll_interval_s=poll_interval_s, retries=retries, credentials=credentials,
             api_root=resolved_root, json_out=json_out)


def _dry_run(plan: UploadPlan, chunk_size_bytes: int, wait: bool, table: QuotaTable) -> None:
    from pipeline.paths import state_dir
    from pipeline.state import STATE_FILE_NAME, StateStore
    from pipeline.youtube.calls import build_dry_run

    cached = None
    name = plan.metadata.playlist
    if name and (state_dir() / STATE_FILE_NAME).is_file():  # a dry run creates nothing, not even the store
        with StateStore.open() as store:
            cached = store.any_cached_playlist(name)
    _print_json(build_dry_run(plan, chunk_size_bytes=chunk_size_bytes, cached_playlist_id=cached,
                              wait=wait, table=table))


def _publish(plan: UploadPlan, table: QuotaTable, *, chunk_size_bytes: int, again: bool, adopt: str | None, wait: bool,
             wait_timeout_s: float,
             poll_interval_s: float, retries: int, credentials: Path | None, api_root: str | None,
             json_out: bool) -> None:
    from pipeline.state import StateStore
    from pipeline.youtube.auth import credentials_path, load_credentials, permissions_warning, save_if_refreshed
    from pipeline.youtube.client import YouTubeClient
    from pipeline.youtube.publish import PublishOptions, publish, quota_recorder
    from pipeline.youtube.retry import RetryPolicy

    reporter = ConsoleReporter()
    path = credentials_path(credentials)
    creds = load_credentials(path, api_root)
    warning = permissions_warning(path)
    if warning:
        reporter.warn(warning)
    token_before = creds.token
    options = PublishOptions(chunk_size_bytes=chunk_size_bytes, again=again, adopt_video_id=adopt and adopt.strip(),
                             wait=wait, wait_timeout_s=wait_timeout_s,
                             poll_interval_s=poll_interval_s, retry=RetryPolicy.from_env(max_attempts=retries))
    with StateStore.open() as store:
        client = YouTubeClient(creds, api_root=api_root, on_call=quota_recorder(store, table))
        try:
            outcome = publish(plan, client, store, options, reporter, table=table)
        finally:
            problem = save_if_refreshed(creds, path, token_before)
            if problem:
                reporter.warn(problem)
    if json_out:
        _print_json(outcome.record)
        return
    adopted = (outcome.record.get("transfer") or {}).get("adopted")
    what = "already on YouTube" if outcome.duplicate else "found on YouTube" if adopted else "uploaded"
    privacy = plan.body["status"]["privacyStatus"]
    publish_at = plan.body["status"].get("publishAt")
    if publish_at:  # in the producer's zone, named: the RFC 3339 text may carry another offset
        moment = datetime.fromisoformat(str(publish_at).replace("Z", "+00:00"))
        privacy += f", YouTube publishes it at {local_time_text(moment)}"
    out_console.print(f"{plan.video.path.name}: {what}: {outcome.url} ({privacy}); record: {outcome.record_path}",
                      highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    app.command("upload")(upload)
