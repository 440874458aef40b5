"""YouTube authorization: where credentials live, loading and saving them, the login flow.

Credentials are an authorized-user JSON (`token`, `refresh_token`, `client_id`,
`client_secret`, `token_uri`) at `--credentials`, else `WAYFINDER_CREDENTIALS`, else
`<config dir>/credentials.json`. They are written with mode 0600 (in a 0700 folder),
atomically, and re-saved after a refresh so the next run does not refresh again. No
function here prints, logs or puts a token or secret in an error message.

Scopes: `youtube.upload` (videos.insert, thumbnails.set) and `youtube.force-ssl`
(captions, playlists, reading processing status and the channel).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import stat
import sys
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pipeline.errors import CredentialsError, UsageError

CREDENTIALS_ENV = "WAYFINDER_CREDENTIALS"
SCOPES = (
    "https://www.googleapis.com/auth/youtube.upload",
    "https://www.googleapis.com/auth/youtube.force-ssl",
)
REQUIRED_KEYS = ("refresh_token", "client_id", "client_secret")
DEFAULT_TOKEN_URI = "https://oauth2.googleapis.com/token"
LOGIN_TIMEOUT_S = 300
TESTING_MODE_WARNING = (
    "Google expires refresh tokens after 7 days for OAuth apps whose publishing status is "
    "\"Testing\"; publish the app (Google Cloud console, OAuth consent screen) or run "
    "`wayfinder auth login` again each week."
)


def credentials_path(flag: str | Path | None = None) -> Path:
    if flag:
        return Path(flag).expanduser()
    env = os.environ.get(CREDENTIALS_ENV)
    if env:
        return Path(env).expanduser()
    from pipeline.paths import user_config_dir

    return user_config_dir() / "credentials.json"


def default_client_secrets_path() -> Path:
    from pipeline.paths import user_config_dir

    return user_config_dir() / "client_secret.json"


def read_authorized_user(path: Path) -> dict[str, Any]:
    """The authorized-user JSON; problems name keys, never values."""
    if not path.is_file():
        raise CredentialsError(
            f"no YouTube credentials at {path}: run `wayfinder auth login` (or point {CREDENTIALS_ENV} "
            "or --credentials at an authorized-user JSON file)"
        )
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CredentialsError(f"cannot read the credentials file {path}: not valid JSON "
                               f"({type(exc).__name__})") from None
    if not isinstance(info, dict):
        raise CredentialsError(f"the credentials file {path} is not a JSON object")
    missing = [key for key in REQUIRED_KEYS if not info.get(key)]
    if missing:
        raise CredentialsError(
            f"the credentials file {path} lacks {', '.join(missing)}: run `wayfinder auth login`"
        )
    return info


def permissions_warning(path: Path) -> str | None:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None
    if mode & 0o077:
        return f"{path} is readable by other users (mode {mode:o}); run: chmod 600 {path}"
    return None


GOOGLE_TOKEN_URIS = frozenset({
    DEFAULT_TOKEN_URI,
    "https://accounts.google.com/o/oauth2/token",
    "https://www.googleapis.com/oauth2/v4/token",
})


def trusted_token_uri(token_uri: str | None, api_root: str | None) -> str:
    """The token endpoint to send the refresh token and client secret to.

    A credentials file could name any server; sending secrets there would leak them. So
    only Google's endpoints are used, or one on the same origin as the API root override
    (that server is already trusted with the access token). Anything else falls back to
    Google's endpoint.
    """
    if not token_uri or token_uri in GOOGLE_TOKEN_URIS:
        return DEFAULT_TOKEN_URI if not token_uri else token_uri
    if api_root and _origin(token_uri) == _origin(api_root):
        return token_uri
    return DEFAULT_TOKEN_URI


def _origin(url: str) -> tuple[str, str]:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def load_credentials(path: Path, api_root: str | None = None) -> Any:
    """google.oauth2 Credentials from the file (not refreshed yet: that happens on first use)."""
    from google.oauth2.credentials import Credentials

    info = read_authorized_user(path)
    expiry = None
    if info.get("expiry"):
        try:  # google-auth keeps naive UTC datetimes
            expiry = datetime.strptime(str(info["expiry"]).rstrip("Z").split(".")[0], "%Y-%m-%dT%H:%M:%S")
        except ValueError:
            expiry = None
    scopes = info.get("scopes")
    if isinstance(scopes, str):
        scopes = scopes.split()
    try:
        return Credentials(
            token=info.get("token") or None,
            refresh_token=info["refresh_token"],
            token_uri=trusted_token_uri(info.get("token_uri"), api_root),
            client_id=info["client_id"],
            client_secret=info["client_secret"],
            scopes=scopes,
            # No saved expiry: treat the access token as stale and refresh before first use.
            expiry=expiry if info.get("token") and expiry else datetime(1970, 1, 1),
            account=info.get("account", ""),
        )
    except (ValueError, TypeError):
        raise CredentialsError(f"the credentials file {path} is not an authorized-user JSON: "
                               "run `wayfinder auth login`") from None


def save_credentials(credentials: Any, path: Path) -> None:
    """Write the authorized-user JSON with mode 0600, atomically."""
    data = json.loads(credentials.to_json())
    write_secret_json(path, data)


def write_secret_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            json.dump(data, stream, indent=2)
            stream.write("\n")
        os.chmod(partial, 0o600)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def save_if_refreshed(credentials: Any, path: Path, token_before: str | None) -> str | None:
    """Re-save after a refresh so the new access token is reused.

    Returns a warning if the file could not be written (the run itself still worked).
    """
    if not credentials.token or credentials.token == token_before:
        return None
    try:
        save_credentials(credentials, path)
    except OSError as exc:
        return f"could not save the refreshed authorization to {path} ({exc.strerror or type(exc).__name__})"
    return None


@dataclass(frozen=True)
class CredentialsSummary:
    path: Path
    client_id_hint: str
    scopes: list[str]
    expiry: str | None
    expired: bool | None
    has_refresh_token: bool
    permissions_warning: str | None


def summarize(path: Path, now: datetime | None = None) -> CredentialsSummary:
    """What `auth status` may show: nothing secret (client id shortened, tokens never)."""
    info = read_authorized_user(path)
    client_id = str(info.get("client_id", ""))
    hint = client_id.split(".")[0][:12] + "…" if client_id else ""
    expiry_text = info.get("expiry")
    expired: bool | None = None
    if expiry_text:
        try:
            expiry = datetime.fromisoformat(str(expiry_text).replace("Z", "+00:00"))
            if expiry.tzinfo is None:
                expiry = expiry.replace(tzinfo=timezone.utc)
            expired = expiry <= (now or datetime.now(timezone.utc))
        except ValueError:
            expiry_text = None
    scopes = info.get("scopes") or []
    if isinstance(scopes, str):
        scopes = scopes.split()
    return CredentialsSummary(
        path=path, client_id_hint=hint, scopes=list(scopes), expiry=expiry_text, expired=expired,
        has_refresh_token=bool(info.get("refresh_token")), permissions_warning=permissions_warning(path),
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_login(
    client_secrets: Path,
    *,
    no_browser: bool,
    prompt: Callable[[str], str],
    show: Callable[[str], None],
) -> Any:
    """The OAuth installed-app flow; returns Credentials (the caller saves them).

    Browser mode runs a local server on a free port and opens the browser. No-browser
    mode prints the URL; the user signs in anywhere and pastes back the address the
    browser was sent to (or just its `code`).
    """
    from google_auth_oauthlib.flow import InstalledAppFlow

    if not client_secrets.is_file():
        raise UsageError(
            f"no OAuth client file at {client_secrets}: download it from the Google Cloud console "
            "(APIs & Services > Credentials > OAuth client ID > Desktop app) and pass --client-secrets FILE"
        )
    try:
        flow = InstalledAppFlow.from_client_secrets_file(str(client_secrets), scopes=list(SCOPES))
    except (ValueError, KeyError, OSError) as exc:
        raise UsageError(f"{client_secrets} is not an OAuth client file for a desktop app "
                         f"({type(exc).__name__})") from None
    if not no_browser:
        # The library prints its prompt to stdout; stdout is for data, so it goes to stderr.
        try:
            with contextlib.redirect_stdout(sys.stderr):
                return flow.run_local_server(
                    host="localhost", port=0, open_browser=True, timeout_seconds=LOGIN_TIMEOUT_S,
                    authorization_prompt_message="Opening your browser to authorize Wayfinder. If it does not open, visit:\n{url}",
                    success_message="Wayfinder is authorized. You can close this tab.",
                )
        except Exception as exc:  # no redirect in time, consent refused, or the code was not accepted
            raise CredentialsError(f"sign-in did not complete ({type(exc).__name__}); run the command again, "
                                   "or use --no-browser") from None
    flow.redirect_uri = f"http://localhost:{_free_port()}/"
    try:
        url, state = flow.authorization_url(access_type="offline", prompt="consent")
    except Exception as exc:  # oauthlib refuses e.g. a non-https auth_uri
        raise UsageError(f"{client_secrets} cannot start a sign-in ({type(exc).__name__})") from None
    show("Open this address in a browser, sign in with the channel's Google account and allow access:")
    show(url)
    show("The browser then goes to a localhost address that does not load. Copy that whole address "
         "from the address bar (or only its code=... value) and paste it here.")
    answer = prompt("Address or code").strip()
    code = answer
    if answer.startswith("http"):
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(answer).query)
        if query.get("state", [state])[0] != state:
            raise CredentialsError("the pasted address belongs to another sign-in attempt; run the command again")
        if "error" in query:
            raise CredentialsError(f"authorization was not granted ({query['error'][0]})")
        if "code" not in query:
            raise CredentialsError("the pasted address has no code=... in it")
        code = query["code"][0]
    if not code:
        raise CredentialsError("no authorization code was given")
    try:
        flow.fetch_token(code=code)
    except Exception as exc:  # oauthlib raises many kinds; their text can echo the request
        raise CredentialsError(f"Google did not accept the authorization code ({type(exc).__name__})") from None
    return flow.credentials
