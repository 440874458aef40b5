"""Token refresh over real HTTP, `auth login --no-browser`, `auth status`, and secrets never shown."""

from __future__ import annotations

import hashlib
import json
import stat
import urllib.parse
from pathlib import Path

import pytest

from youtube_server.fixtures import NAV_VARS, WayfinderEnv, run_wayfinder


def secrets_of(wf: WayfinderEnv) -> list[str]:
    saved = json.loads(wf.credentials.read_text())
    return [wf.credentials_info["refresh_token"], wf.credentials_info["client_secret"], wf.credentials_info["token"],
            saved["token"]]


def test_rejected_access_token_is_refreshed_and_saved_0600(wf: WayfinderEnv, video: Path) -> None:
    wf.server.expire_access_tokens()  # the saved token looks fine locally; the server says 401
    result = run_wayfinder("upload", str(video), "--template", "navigation", *NAV_VARS, "--chunk-kib", "256", "--skip-qa")
    assert result.exit_code == 0, result.output
    assert wf.server.token_grants == ["refresh_token"]  # one refresh, then everything worked
    assert len(wf.server.videos) == 1
    saved = json.loads(wf.credentials.read_text())
    assert saved["token"] != wf.credentials_info["token"] and saved["token"] in wf.server.access_tokens
    assert saved["refresh_token"] == wf.credentials_info["refresh_token"]
    assert stat.S_IMODE(wf.credentials.stat().st_mode) == 0o600
    record_text = (video.parent / "walkthrough.mp4.youtube.json").read_text()
    for secret in secrets_of(wf):
        assert secret not in result.output and secret not in record_text


def test_token_expiring_mid_upload_is_refreshed_and_the_chunk_resent_with_its_bytes(wf: WayfinderEnv,
                                                                                     video: Path) -> None:
    # The access token runs out after 1 MiB: that chunk gets 401, is refreshed, and re-sent with its bytes.
    wf.server.add_fault("chunk", "expire_token", at_or_after_bytes=1024 * 1024)
    result = run_wayfinder("upload", str(video), "--template", "navigation", *NAV_VARS, "--chunk-kib", "256", "--skip-qa")
    assert result.exit_code == 0, result.output
    assert wf.server.token_grants == ["refresh_token"]
    assert [e.method for e in wf.server.log if e.status == 401] == ["PUT"]  # a chunk was refused, not resent empty
    [video_id] = wf.server.videos
    assert wf.server.sha256_of_video(video_id) == hashlib.sha256(video.read_bytes()).hexdigest()
    assert wf.server.chunk_starts().count(0) == 1


def test_expired_token_is_refreshed_before_the_first_call(wf: WayfinderEnv) -> None:
    info = json.loads(wf.credentials.read_text())
    info["expiry"] = "2000-01-01T00:00:00Z"
    wf.credentials.write_text(json.dumps(info))
    result = run_wayfinder("auth", "status")
    assert result.exit_code == 0, result.output
    assert wf.server.token_grants == ["refresh_token"]
    assert [e.status for e in wf.server.requests("channels")] == [200]  # no 401 first


def test_auth_status_shows_channel_scopes_expiry_and_the_testing_mode_warning(wf: WayfinderEnv) -> None:
    result = run_wayfinder("auth", "status")
    assert result.exit_code == 0, result.output
    assert wf.server.channel["title"] in result.stdout and wf.server.channel["id"] in result.stdout
    assert "youtube.upload" in result.stdout and "youtube.force-ssl" in result.stdout
    assert "expires" in result.stdout
    assert "7 days" in result.stderr and "Testing" in result.stderr
    for secret in secrets_of(wf):
        assert secret not in result.output
    as_json = json.loads(run_wayfinder("auth", "status", "--json").stdout)
    assert as_json["channel"]["id"] == wf.server.channel["id"] and as_json["has_refresh_token"] is True


def test_auth_status_without_credentials_exits_4(wf: WayfinderEnv) -> None:
    wf.credentials.unlink()
    result = run_wayfinder("auth", "status")
    assert result.exit_code == 4 and "wayfinder auth login" in result.stderr


def test_auth_login_no_browser_saves_0600_credentials_and_prints_no_secret(
        wf: WayfinderEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the test token endpoint is plain http
    secrets_file = tmp_path / "client_secret.json"
    secrets_file.write_text(json.dumps(wf.server.client_secrets_info()))
    target = tmp_path / "login" / "credentials.json"
    wf.server.auth_codes.add("4/test-auth-code")

    import google_auth_oauthlib.flow as oauth_flow

    urls: list[str] = []
    original = oauth_flow.Flow.authorization_url

    def fixed_state(self: object, **kwargs: object) -> tuple[str, str]:
        # A known state, so the test can paste back the address a browser would be sent to.
        url, state = original(self, state="state-from-this-attempt", **kwargs)  # type: ignore[arg-type]
        urls.append(url)
        return url, state

    monkeypatch.setattr(oauth_flow.Flow, "authorization_url", fixed_state)
    pasted = "http://localhost:1/?state=state-from-this-attempt&code=4/test-auth-code&scope=x\n"
    result = run_wayfinder("auth", "login", "--no-browser", "--client-secrets", str(secrets_file),
                           "--credentials", str(target), input_text=pasted)
    assert result.exit_code == 0, result.output
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(urls[0]).query)
    assert set(query["scope"][0].split()) == {"https://www.googleapis.com/auth/youtube.upload",
                                              "https://www.googleapis.com/auth/youtube.force-ssl"}
    assert query["access_type"] == ["offline"]
    assert urls[0] in result.stderr
    saved = json.loads(target.read_text())
    assert saved["refresh_token"] == wf.server.refresh_token and saved["token"] in wf.server.access_tokens
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert wf.server.token_grants == ["authorization_code"]
    assert wf.server.channel["title"] in result.stdout
    for secret in (saved["token"], saved["refresh_token"], wf.server.client_secret):
        assert secret not in result.stdout and secret not in result.stderr


def test_auth_login_rejects_an_address_from_another_attempt(wf: WayfinderEnv, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    secrets_file = tmp_path / "client_secret.json"
    secrets_file.write_text(json.dumps(wf.server.client_secrets_info()))
    result = run_wayfinder("auth", "login", "--no-browser", "--client-secrets", str(secrets_file),
                           "--credentials", str(tmp_path / "c.json"),
                           input_text="http://localhost:1/?state=forged&code=abc\n")
    assert result.exit_code == 4 and "another sign-in attempt" in result.stderr
    assert not (tmp_path / "c.json").exists() and wf.server.token_grants == []


def test_auth_login_with_a_browser_receives_the_code_on_a_local_server(
        wf: WayfinderEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading
    import urllib.request
    import webbrowser

    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    secrets_file = tmp_path / "client_secret.json"
    secrets_file.write_text(json.dumps(wf.server.client_secrets_info()))
    wf.server.auth_codes.add("4/browser-code")
    opened: list[str] = []

    class Browser:
        """Plays the user's browser: after consent, Google redirects it to the local server."""

        def open(self, url: str, new: int = 0, autoraise: bool = True) -> bool:
            opened.append(url)
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
            back = f"{query['redirect_uri'][0]}?state={query['state'][0]}&code=4/browser-code"
            threading.Thread(target=lambda: urllib.request.urlopen(back, timeout=120).read(), daemon=True).start()
            return True

    monkeypatch.setattr(webbrowser, "get", lambda *args, **kwargs: Browser())
    target = tmp_path / "browser" / "credentials.json"
    result = run_wayfinder("auth", "login", "--client-secrets", str(secrets_file), "--credentials", str(target))
    assert result.exit_code == 0, result.output
    redirect = urllib.parse.parse_qs(urllib.parse.urlsplit(opened[0]).query)["redirect_uri"][0]
    assert redirect.startswith("http://localhost:") and not redirect.startswith("http://localhost:0")
    saved = json.loads(target.read_text())
    assert saved["refresh_token"] == wf.server.refresh_token
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert saved["token"] not in result.output and saved["refresh_token"] not in result.output
    assert opened[0] in result.stderr and opened[0] not in result.stdout  # the prompt is not data
