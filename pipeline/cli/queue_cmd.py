"""`wayfinder queue add|list|show|cancel|retry|run`: scheduled uploads (a thin shell over pipeline.queue).

Data (tables, `--json`) goes to stdout; the runner's progress and messages to stderr.
`queue run` maps outcomes to exit codes: 0 when everything due was uploaded or deferred
(waiting for quota is not a failure), 1 when an item failed in this run, 4 when
credentials stop the run, 130 when interrupted (the item in flight stays resumable).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from pipeline.cli.app import handle_errors
from pipeline.cli.console import err_console, out_console, styled
from pipeline.cli.signals import StopOnSignal
from pipeline.cli.tables import Shorten, compact_table, fit_paths, shown_path
from pipeline.errors import UsageError
from pipeline.local_time import local_time_text

if TYPE_CHECKING:
    from pipeline.queue.model import QueueItem

queue_app = typer.Typer(
    name="queue",
    help="Scheduled uploads: queue videos now, upload them later within YouTube's daily quota.",
    no_args_is_help=True,
)

STATE_STYLES = {"pending": "cyan", "uploading": "bold blue", "processing": "blue", "done": "green",
                "deferred": "yellow", "failed": "bold red", "cancelled": "dim"}


def _print_json(data: object) -> None:
    out_console.out(json.dumps(data, indent=2, ensure_ascii=False, default=str), highlight=False)


def _say(message: str) -> None:
    err_console.print(message, highlight=False, markup=False, soft_wrap=True)


def _when(moment: datetime | None) -> str:
    """A time in the producer's zone (the machine's), with the zone named: `2030-06-03 09:00 CDT`."""
    return local_time_text(moment) if moment else ""


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def _publish_time(text: str | None) -> str:
    return _when(_moment(text))


def _with_local_times(data: dict[str, Any]) -> dict[str, Any]:
    """`--json` keeps YouTube's UTC `publish_at` and adds it in the producer's zone beside it."""
    moment = _moment(data.get("publish_at"))
    if moment is not None:
        data["publish_at_utc"] = moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
        local = moment.astimezone()
        data["publish_at_local"] = local.isoformat(timespec="seconds")
        data["time_zone"] = local.strftime("%Z")
    return data


def _time_option(value: str | None, what: str) -> datetime | None:
    from pipeline.queue.clock import parse_moment

    return parse_moment(value, what=what) if value else None


@queue_app.command("add")
@handle_errors
def add(
    target: Path = typer.Argument(..., help="The video to upload, or a job file (then its rendered output is uploaded with its [youtube] table)."),
    job: Path | None = typer.Option(None, "--job", help="Job file whose [youtube] table (and preset) describe the upload."),
    template: str | None = typer.Option(None, "--template", help="Metadata template name."),
    var: list[str] = typer.Option([], "--var", help="Template variable, key=value (repeatable)."),
    preset: str | None = typer.Option(None, "--preset", help="Preset for the [publish] rules and the QA gate (default: the job's, else youtube)."),
    not_before: str | None = typer.Option(None, "--not-before", help="Upload no earlier than this RFC 3339 time, e.g. 2025-06-02T03:00:00-05:00."),
    publish_at: str | None = typer.Option(None, "--publish-at", help="YouTube makes the (private) video public at this RFC 3339 time."),
    priority: int = typer.Option(0, "--priority", help="Higher goes first among items due at the same time (default 0)."),
    skip_qa: bool = typer.Option(False, "--skip-qa", help="Upload without the loudness QA gate."),
    privacy: str | None = typer.Option(None, "--privacy", help="public, unlisted or private (default private)."),
    playlist: str | None = typer.Option(None, "--playlist", help="Add to this playlist (by name; created if missing)."),
    thumbnail: str | None = typer.Option(None, "--thumbnail", help="'auto', a JPEG/PNG path, or 'none'."),
    thumbnail_title: bool | None = typer.Option(None, "--thumbnail-title/--no-thumbnail-title", help="Draw the title on an auto thumbnail."),
    captions: Path | None = typer.Option(None, "--captions", help="Caption file (SRT or WebVTT) to upload."),
    captions_language: str | None = typer.Option(None, "--captions-language", help="Language of the captions."),
    made_for_kids: bool | None = typer.Option(None, "--made-for-kids/--not-made-for-kids", help="Declare the audience explicitly."),
    consent_form: list[str] = typer.Option([], "--consent-form", help="Release record for people shown (repeatable)."),
    no_identifiable_people: bool = typer.Option(False, "--no-identifiable-people", help="State that nobody identifiable is shown."),
    json_out: bool = typer.Option(False, "--json", help="Print the queued item as JSON."),
) -> None:
    """Check the upload's metadata now and queue it (nothing is sent)."""
    from pipeline.queue.add import add_item, video_for_job
    from pipeline.queue.store import QueueStore
    from pipeline.youtube.plan import UploadOverrides
    from pipeline.youtube.templates import parse_var_assignments

    if privacy is not None and privacy not in {"public", "unlisted", "private"}:
        raise UsageError(f"--privacy must be public, unlisted or private, got {privacy!r}")
    video = target
    if target.suffix.lower() == ".toml":
        if job is not None:
            raise UsageError("give a job file either as the target or with --job, not both")
        job, video = target, video_for_job(target)
    overrides = UploadOverrides(
        preset=preset, privacy=privacy, playlist=playlist, thumbnail=thumbnail, thumbnail_title=thumbnail_title,
        captions=str(captions) if captions else None, captions_language=captions_language,
        made_for_kids=made_for_kids, consent_forms=tuple(consent_form),
        no_identifiable_people=True if no_identifiable_people else None,
    )
    item_id = add_item(video, job=job, template=template, variables=parse_var_assignments(var),
                       not_before=_time_option(not_before, "--not-before"),
                       publish_at=_time_option(publish_at, "--publish-at"), priority=priority, skip_qa=skip_qa,
                       overrides=overrides)
    with QueueStore.open() as store:
        item = store.require(item_id)
    if json_out:
        _print_json(_with_local_times(item.to_dict()))
        return
    due = "now" if item.due_at <= item.added_at else _when(item.due_at)
    scheduled = f"; YouTube publishes it at {_publish_time(item.publish_at)}" if item.publish_at else ""
    out_console.print(f"queued item {item.id}: {shown_path(item.video_path)} – {item.title!r}, due {due}, priority "
                      f"{item.priority}{scheduled}", highlight=False, markup=False, soft_wrap=True)


def _quota_and_items(states: set[str] | None) -> tuple[dict[str, Any], list[dict[str, Any]], list[QueueItem]]:
    from pipeline.queue.budget import add_costs, price, quota_status
    from pipeline.queue.clock import clock_from_env
    from pipeline.queue.model import WAITING_STATES
    from pipeline.queue.store import QueueStore
    from pipeline.state import StateStore
    from pipeline.youtube.quota import load_quota_table, quota_day

    now = clock_from_env()()
    table = load_quota_table()
    with StateStore.open() as state, QueueStore.open() as store:
        spent = state.quota_spent_on(quota_day(now))
        everything = store.items()
        holds = [{"name": h.name, "until": h.until.isoformat(), "reason": h.reason} for h in store.holds(now)]
    waiting = [item for item in everything if item.state in WAITING_STATES]
    need = add_costs(*(price(item.planned_calls, table) for item in waiting))
    status = quota_status(spent, table, now, need)
    status["holds"] = holds
    shown = [item for item in everything if states is None or item.state in states]
    return status, [_with_local_times(item.to_dict()) for item in shown], shown


@queue_app.command("list")
@handle_errors
def list_items(
    state: list[str] = typer.Option([], "--state", help="Only items in this state (repeatable)."),
    json_out: bool = typer.Option(False, "--json", help="Print today's quota and the items as JSON."),
) -> None:
    """The queue: state, times, video id and last error of each item, and today's quota."""
    from pipeline.queue.budget import format_quota_line
    from pipeline.queue.model import STATES

    unknown = [s for s in state if s not in STATES]
    if unknown:
        raise UsageError(f"--state {unknown[0]!r}: states are {', '.join(STATES)}")
    status, rows, items = _quota_and_items(set(state) or None)
    if json_out:
        _print_json({"quota": status, "items": rows})
        return

    def build(shorten: Shorten) -> Table:
        table = compact_table()
        for column in ("id", "state", "video", "due / until", "prio", "video id"):
            table.add_column(column, overflow="fold" if column == "video" else "ellipsis", no_wrap=column != "video")
        for item in items:
            table.add_row(str(item.id), styled((item.state, STATE_STYLES.get(item.state, ""))),
                          shorten(item.video_path),
                          _when(item.due_at) if item.state in {"pending", "deferred", "processing"} else "",
                          str(item.priority), item.video_id or "",
                          style="dim" if item.state == "cancelled" else None)
        return table

    if items:
        out_console.print(fit_paths(build, "video", out_console))
        # Notes are sentences (a reason, YouTube's error): one line each under the table,
        # where a column would have wrapped them over many lines.
        for item in items:
            note = item.reason or item.last_error
            if item.publish_at and item.state not in {"done", "cancelled", "failed"}:
                note = "; ".join(filter(None, [f"YouTube publishes it at {_publish_time(item.publish_at)}", note]))
            if note:
                out_console.print(styled((f"item {item.id}", STATE_STYLES.get(item.state, "")), f": {note}"),
                                  soft_wrap=True)
    else:
        out_console.print("the queue is empty" if not state else "no items in that state", highlight=False)
    out_console.print(format_quota_line(status), highlight=False, markup=False, soft_wrap=True)
    need = status.get("waiting_items_need") or {}
    if any(need.values()):
        parts = ", ".join(f"{amount:,} {bucket}" for bucket, amount in need.items())
        out_console.print(f"waiting items need at most: {parts}", highlight=False, markup=False)
    for hold in status["holds"]:
        out_console.print(f"on hold until {hold['until']}: {hold['reason']}", highlight=False, markup=False,
                          soft_wrap=True)


@queue_app.command("show")
@handle_errors
def show(
    item_id: int = typer.Argument(..., help="Item id (see `queue list`)."),
    json_out: bool = typer.Option(False, "--json", help="Print the item, its metadata and history as JSON."),
) -> None:
    """One item in full: metadata that will be sent, files, QA, planned quota, history."""
    from pipeline.queue.budget import price
    from pipeline.queue.store import QueueStore
    from pipeline.youtube.quota import load_quota_table

    with QueueStore.open() as store:
        item = store.require(item_id)
        events = store.events(item_id)
    data = item.to_dict()
    data["request_body"] = item.snapshot.get("body")
    meta = item.snapshot.get("metadata", {})
    data["upload"] = {key: meta.get(key) for key in ("template", "playlist", "captions", "thumbnail", "release")}
    data["files"] = item.snapshot.get("files", {})
    data["planned_cost"] = price(item.planned_calls, load_quota_table())
    data["events"] = [event.to_dict() for event in events]
    if json_out:
        _print_json(_with_local_times(data))
        return
    lines = [f"item {item.id}: {item.state}" + (f" ({item.reason})" if item.reason else ""),
             f"  video:       {item.video_path}", f"  title:       {item.title}",
             f"  privacy:     {(data['request_body'] or {}).get('status', {}).get('privacyStatus')}",
             f"  publish at:  {_publish_time(item.publish_at) or '-'}", f"  priority:    {item.priority}",
             f"  added:       {_when(item.added_at)}", f"  not before:  {_when(item.not_before) or '-'}",
             f"  due:         {_when(item.due_at)}", f"  attempts:    {item.attempts}",
             f"  video id:    {item.video_id or '-'}" + (f"  {data['url']}" if item.video_id else ""),
             f"  QA:          {_qa_line(item)}",
             "  planned cost: " + ", ".join(f"{v} {k}" for k, v in data["planned_cost"].items())]
    if item.last_error:
        lines.append(f"  last error:  {item.last_error}")
    lines.append("  history:")
    lines += [f"    {_when(e.at)}  {e.from_state or '-'} -> {e.to_state}" + (f"  {e.detail}" if e.detail else "")
              for e in events]
    out_console.print("\n".join(lines), highlight=False, markup=False, soft_wrap=True)


def _qa_line(item: QueueItem) -> str:
    if item.skip_qa:
        return "skipped (--skip-qa)"
    qa = item.qa_result
    if not qa:
        return f"not checked yet (preset {item.qa_preset})"
    numbers = f"{qa.get('integrated_lufs')} LUFS, true peak {qa.get('true_peak_dbtp')} dBTP, {qa.get('source')}"
    return f"passed ({numbers})" if qa.get("passed") else f"failed ({numbers}): {qa.get('reason')}"


@queue_app.command("cancel")
@handle_errors
def cancel(item_id: int = typer.Argument(..., help="Item id.")) -> None:
    """Cancel an item that is not on YouTube yet."""
    from pipeline.queue.manage import cancel_item
    from pipeline.queue.store import QueueStore

    with QueueStore.open() as store:
        item = cancel_item(store, item_id)
    out_console.print(f"item {item.id} {item.video_name}: cancelled", highlight=False, markup=False)


@queue_app.command("retry")
@handle_errors
def retry(item_id: int = typer.Argument(..., help="Item id.")) -> None:
    """Send a failed, cancelled or deferred item back to the queue, due now."""
    from pipeline.queue.manage import retry_item
    from pipeline.queue.store import QueueStore

    with QueueStore.open() as store:
        item = retry_item(store, item_id)
    out_console.print(f"item {item.id} {item.video_name}: pending again, due now", highlight=False, markup=False)


@queue_app.command("run")
@handle_errors
def run(
    once: bool = typer.Option(False, "--once", help="Process what is due, then exit (the default; for cron and timers)."),
    watch: bool = typer.Option(False, "--watch", help="Keep running, sleeping until the next item is due."),
    max_uploads: int | None = typer.Option(None, "--max", help="Stop after taking this many items for upload."),
    lease_s: float = typer.Option(600.0, "--lease-s", help="Seconds an unrenewed lease lasts before another runner may take the item."),
    poll_interval_s: float = typer.Option(120.0, "--poll-interval-s", help="Seconds between checks of YouTube's processing."),
    idle_max_s: float = typer.Option(30.0, "--idle-max-s", help="--watch: longest sleep, so newly queued items are seen."),
    retry_delay_s: float = typer.Option(300.0, "--retry-delay-s", help="First wait after a retryable failure (doubles, up to 1 h)."),
    upload_limit_wait_h: float = typer.Option(24.0, "--upload-limit-wait-h", help="Hours uploads wait after uploadLimitExceeded."),
    credentials: Path | None = typer.Option(None, "--credentials", help="Authorized-user JSON (default: $WAYFINDER_CREDENTIALS, else the config folder)."),
    api_root: str | None = typer.Option(None, "--api-root", help="Base URL replacing https://youtube.googleapis.com/ (default: $WAYFINDER_YOUTUBE_API_ROOT)."),
    chunk_kib: int = typer.Option(8192, "--chunk-kib", help="Upload chunk size in KiB, a multiple of 256."),
    retries: int = typer.Option(8, "--retries", help="Tries in a row without progress before an upload is deferred."),
    json_out: bool = typer.Option(False, "--json", help="Print the run's summary as JSON."),
) -> None:
    """Upload the items that are due, in priority and time order."""
    from pipeline.cli.upload_cmd import ConsoleReporter
    from pipeline.queue.clock import clock_from_env
    from pipeline.queue.decide import RetrySettings
    from pipeline.queue.runner import QueueRunner, RunOptions
    from pipeline.queue.store import QueueStore
    from pipeline.state import StateStore
    from pipeline.youtube.auth import credentials_path, load_credentials, permissions_warning, save_if_refreshed
    from pipeline.youtube.client import OnCall, YouTubeClient, resolve_api_root
    from pipeline.youtube.publish import PublishOptions
    from pipeline.youtube.quota import load_quota_table
    from pipeline.youtube.retry import RetryPolicy

    if once and watch:
        raise UsageError("give --once or --watch, not both")
    if chunk_kib <= 0 or chunk_kib % 256:
        raise UsageError(f"--chunk-kib must be a positive multiple of 256, got {chunk_kib}")
    if max_uploads is not None and max_uploads < 1:
        raise UsageError("--max must be at least 1")
    for name, value in (("--lease-s", lease_s), ("--idle-max-s", idle_max_s), ("--retries", retries)):
        if value <= 0:
            raise UsageError(f"{name} must be positive")
    if poll_interval_s < 0 or retry_delay_s < 0 or upload_limit_wait_h < 0:
        raise UsageError("--poll-interval-s, --retry-delay-s and --upload-limit-wait-h cannot be negative")
    root = resolve_api_root(api_root)
    table = load_quota_table()
    path = credentials_path(credentials)
    loaded: list[Any] = []  # the credentials, once an item needs them (an empty queue needs none)

    def connect(on_call: OnCall) -> YouTubeClient:
        creds = load_credentials(path, root)
        warning = permissions_warning(path)
        if warning:
            _say(f"warning: {warning}")
        loaded.append((creds, creds.token))
        return YouTubeClient(creds, api_root=root, on_call=on_call)

    options = RunOptions(
        watch=watch, max_uploads=max_uploads, lease_s=lease_s, poll_interval_s=poll_interval_s,
        idle_max_s=idle_max_s,
        retry=RetrySettings(retry_delay_s=retry_delay_s, upload_limit_wait_s=upload_limit_wait_h * 3600),
        publish=PublishOptions(chunk_size_bytes=chunk_kib * 1024, retry=RetryPolicy.from_env(max_attempts=retries)),
    )
    with StopOnSignal() as stop, StateStore.open(recheck=True) as state, QueueStore.open() as store:
        runner = QueueRunner(queue=store, state=state, table=table, options=options, connect=connect,
                             reporter=ConsoleReporter(), log=_say, clock=clock_from_env(),
                             stop_requested=lambda: stop.requested)
        try:
            summary = runner.run()
        finally:
            for creds, token_before in loaded:
                problem = save_if_refreshed(creds, path, token_before)
                if problem:
                    _say(f"warning: {problem}")
    if json_out:
        _print_json(summary.to_dict())
    else:
        out_console.print(
            f"queue run: {len(summary.uploaded)} uploaded, {len(summary.done)} done, {len(summary.deferred)} "
            f"deferred, {len(summary.failed)} failed", highlight=False, markup=False)
    if summary.failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(queue_app, name="queue")
