"""Credentials files: where they are, 0600 writes, which token endpoint is trusted, no secrets in errors."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from pipeline.errors import CredentialsError
from pipeline.youtube.auth import (
    DEFAULT_TOKEN_URI,
    credentials_path,
    load_credentials,
    permissions_warning,
    read_authorized_user,
    save_credentials,
    summarize,
    trusted_token_uri,
)

SECRET = "s3cr3t-client-secret-value"
REFRESH = "1//refresh-token-value"


def write(path: Path, **info: str) -> Path:
    path.write_text(json.dumps(info))
    path.chmod(0o600)
    return path


def test_location_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAYFINDER_CONFIG_DIR", str(tmp_path / "cfg"))
    monkeypatch.delenv("WAYFINDER_CREDENTIALS", raising=False)
    assert credentials_path() == tmp_path / "cfg" / "credentials.json"
    monkeypatch.setenv("WAYFINDER_CREDENTIALS", str(tmp_path / "env.json"))
    assert credentials_path() == tmp_path / "env.json"
    assert credentials_path(tmp_path / "flag.json") == tmp_path / "flag.json"


def test_token_endpoint_is_google_or_the_api_root_origin() -> None:
    assert trusted_token_uri(None, None) == DEFAULT_TOKEN_URI
    assert trusted_token_uri("https://accounts.google.com/o/oauth2/token", None) == "https://accounts.google.com/o/oauth2/token"
    # A file must not be able to send the refresh token and secret to a server of its choosing.
    assert trusted_token_uri("https://evil.example/token", None) == DEFAULT_TOKEN_URI
    assert trusted_token_uri("http://127.0.0.1:9/token", "http://127.0.0.1:8765/") == DEFAULT_TOKEN_URI
    assert trusted_token_uri("http://127.0.0.1:8765/token", "http://127.0.0.1:8765/") == "http://127.0.0.1:8765/token"


def test_missing_keys_are_named_but_values_never_shown(tmp_path: Path) -> None:
    path = write(tmp_path / "c.json", client_secret=SECRET, token="ya29.tok")
    with pytest.raises(CredentialsError) as caught:
        read_authorized_user(path)
    assert "refresh_token" in caught.value.message and "client_id" in caught.value.message
    assert SECRET not in str(caught.value) and "ya29.tok" not in str(caught.value)


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(CredentialsError, match="wayfinder auth login"):
        read_authorized_user(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"refresh_token": "' + REFRESH + '", oops')
    with pytest.raises(CredentialsError) as caught:
        read_authorized_user(bad)
    assert REFRESH not in str(caught.value)


def test_save_is_0600_and_round_trips(tmp_path: Path) -> None:
    source = write(tmp_path / "in.json", token="ya29.a", refresh_token=REFRESH, client_id="cid.apps", client_secret=SECRET,
                   expiry="2030-01-01T00:00:00Z")
    credentials = load_credentials(source)
    assert credentials.valid and credentials.token == "ya29.a" and credentials.token_uri == DEFAULT_TOKEN_URI
    target = tmp_path / "new" / "credentials.json"
    save_credentials(credentials, target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700
    saved = json.loads(target.read_text())
    assert saved["refresh_token"] == REFRESH and saved["token"] == "ya29.a"
    assert list(tmp_path.glob("new/*.partial")) == []


def test_without_saved_expiry_the_token_is_refreshed_first(tmp_path: Path) -> None:
    source = write(tmp_path / "in.json", token="ya29.a", refresh_token=REFRESH, client_id="c", client_secret=SECRET)
    assert not load_credentials(source).valid


def test_summary_shows_nothing_secret(tmp_path: Path) -> None:
    path = write(tmp_path / "c.json", token="ya29.secret-access", refresh_token=REFRESH,
                 client_id="1234567890123-abc.apps.googleusercontent.com", client_secret=SECRET,
                 expiry="2000-01-01T00:00:00Z")
    summary = summarize(path)
    assert summary.expired is True and summary.has_refresh_token
    text = repr(summary)
    for secret in (SECRET, REFRESH, "ya29.secret-access", "abc.apps"):
        assert secret not in text


def test_group_readable_file_is_warned_about(tmp_path: Path) -> None:
    path = write(tmp_path / "c.json", refresh_token=REFRESH, client_id="c", client_secret=SECRET)
    assert permissions_warning(path) is None
    path.chmod(0o644)
    assert "chmod 600" in (permissions_warning(path) or "")
