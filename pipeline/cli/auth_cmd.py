"""`wayfinder auth login` and `wayfinder auth status`: authorize a YouTube channel, and check it.

Neither command prints a token or a client secret; `status` shortens the client id.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from pipeline.cli.app import handle_errors
from pipeline.cli.console import err_console, out_console

auth_app = typer.Typer(
    name="auth",
    help="Authorize Wayfinder to upload to a YouTube channel, and check the authorization.",
    no_args_is_help=True,
)


def _say(message: str) -> None:
    err_console.print(message, highlight=False, markup=False, soft_wrap=True)


def _channel_line(credentials_file: Path, api_root: str | None) -> tuple[dict[str, str] | None, str | None]:
    """(channel id and title, or None) and an error line if the check failed. Saves a refreshed token."""
    from pipeline.errors import CredentialsError, WayfinderError
    from pipeline.youtube.auth import load_credentials, save_if_refreshed
    from pipeline.youtube.client import YouTubeClient

    creds = load_credentials(credentials_file, api_root)
    token_before = creds.token
    try:
        channel = YouTubeClient(creds, api_root=api_root).my_channel()
    except CredentialsError:
        raise
    except WayfinderError as error:
        return None, error.one_line()
    finally:
        problem = save_if_refreshed(creds, credentials_file, token_before)
        if problem:
            _say(f"warning: {problem}")
    return {"id": str(channel.get("id")), "title": str(channel.get("snippet", {}).get("title", ""))}, None


@auth_app.command("login")
@handle_errors
def login(
    client_secrets: Path | None = typer.Option(None, "--client-secrets", help="OAuth client JSON of a desktop app (default: client_secret.json in the config folder)."),
    no_browser: bool = typer.Option(False, "--no-browser", help="Print the sign-in URL and read back the code instead of opening a browser."),
    credentials: Path | None = typer.Option(None, "--credentials", help="Where to save the authorization (default: $WAYFINDER_CREDENTIALS, else the config folder)."),
    api_root: str | None = typer.Option(None, "--api-root", help="YouTube API base URL (default: $WAYFINDER_YOUTUBE_API_ROOT)."),
) -> None:
    """Sign in with Google and save the authorization (mode 0600)."""
    from pipeline.youtube.auth import credentials_path, default_client_secrets_path, run_login, save_credentials
    from pipeline.youtube.client import resolve_api_root

    root = resolve_api_root(api_root)
    target = credentials_path(credentials)
    creds = run_login(
        client_secrets or default_client_secrets_path(),
        no_browser=no_browser,
        prompt=lambda text: typer.prompt(text, err=True),
        show=_say,
    )
    save_credentials(creds, target)
    _say(f"authorization saved to {target} (readable only by you)")
    channel, problem = _channel_line(target, root)
    if channel:
        out_console.print(f"authorized for channel {channel['title']!r} ({channel['id']})", highlight=False, markup=False)
    else:
        _say(f"warning: saved, but the channel could not be read: {problem}")


@auth_app.command("status")
@handle_errors
def status(
    credentials: Path | None = typer.Option(None, "--credentials", help="Authorized-user JSON to check."),
    api_root: str | None = typer.Option(None, "--api-root", help="YouTube API base URL (default: $WAYFINDER_YOUTUBE_API_ROOT)."),
    json_out: bool = typer.Option(False, "--json", help="Print the status as JSON."),
) -> None:
    """Show the channel, scopes and token expiry of the saved authorization."""
    from pipeline.errors import EXIT_FAILED
    from pipeline.youtube.auth import SCOPES, TESTING_MODE_WARNING, credentials_path, summarize
    from pipeline.youtube.client import resolve_api_root

    root = resolve_api_root(api_root)
    path = credentials_path(credentials)
    channel, problem = _channel_line(path, root)
    summary = summarize(path)  # after the check: it may have refreshed and re-saved the token
    missing_scopes = [scope for scope in SCOPES if summary.scopes and scope not in summary.scopes]
    data = {
        "credentials_file": str(summary.path),
        "client_id": summary.client_id_hint,
        "channel": channel,
        "scopes": summary.scopes,
        "missing_scopes": missing_scopes,
        "access_token_expiry": summary.expiry,
        "has_refresh_token": summary.has_refresh_token,
        "problem": problem,
    }
    if json_out:
        out_console.out(json.dumps(data, indent=2), highlight=False)
    else:
        lines = [
            f"credentials: {summary.path}",
            f"client id:   {summary.client_id_hint}",
            f"channel:     {channel['title']} ({channel['id']})" if channel else f"channel:     unknown ({problem})",
            f"scopes:      {', '.join(summary.scopes) or 'not recorded in the file'}",
            f"token:       expires {summary.expiry or 'unknown'}; refreshed automatically with the saved refresh token",
        ]
        for line in lines:
            out_console.print(line, highlight=False, markup=False)
    if summary.permissions_warning:
        _say(f"warning: {summary.permissions_warning}")
    if missing_scopes:
        _say(f"warning: the authorization lacks {', '.join(missing_scopes)}: run `wayfinder auth login`")
    _say(f"note: {TESTING_MODE_WARNING}")
    if problem:
        raise typer.Exit(EXIT_FAILED)


def register(app: typer.Typer) -> None:
    app.add_typer(auth_app, name="auth")
