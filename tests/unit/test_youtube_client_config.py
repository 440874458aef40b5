"""The API root override: every call, uploads included, goes to the given server (no network here)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from google.oauth2.credentials import Credentials

from pipeline.errors import UsageError
from pipeline.youtube.client import YouTubeClient, load_discovery_document, resolve_api_root


def test_flag_wins_over_environment_and_a_slash_is_added(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WAYFINDER_YOUTUBE_API_ROOT", raising=False)
    assert resolve_api_root(None) is None
    monkeypatch.setenv("WAYFINDER_YOUTUBE_API_ROOT", "http://127.0.0.1:8765")
    assert resolve_api_root(None) == "http://127.0.0.1:8765/"
    assert resolve_api_root("http://localhost:9/") == "http://localhost:9/"


@pytest.mark.parametrize("bad", ["127.0.0.1:8765", "ftp://x/", "http://", "http://x/?a=1"])
def test_malformed_roots_are_usage_errors(bad: str) -> None:
    with pytest.raises(UsageError):
        resolve_api_root(bad)


def test_bundled_document_with_the_root_replaced() -> None:
    document = load_discovery_document("http://127.0.0.1:8765/")
    assert document["rootUrl"] == document["mtlsRootUrl"] == "http://127.0.0.1:8765/"
    original = load_discovery_document(None)
    assert original["rootUrl"].startswith("https://")
    # The base URL keeps its relation to the root (root + servicePath), only the root moves.
    assert original["baseUrl"] == original["rootUrl"] + original["servicePath"]
    assert document["baseUrl"] == "http://127.0.0.1:8765/" + document["servicePath"]


def test_upload_and_api_urls_both_use_the_root() -> None:
    from googleapiclient.http import MediaIoBaseUpload

    client = YouTubeClient(Credentials(token="t"), api_root="http://127.0.0.1:8765/")
    media = MediaIoBaseUpload(io.BytesIO(b"x" * 10), mimetype="video/mp4", chunksize=256 * 1024, resumable=True)
    insert = client.service.videos().insert(part="snippet,status", body={}, media_body=media)
    assert insert.uri.startswith("http://127.0.0.1:8765/upload/youtube/v3/videos?")
    assert "uploadType=resumable" in insert.uri
    listing = client.service.playlists().list(part="snippet", mine=True)
    assert listing.uri.startswith("http://127.0.0.1:8765/youtube/v3/playlists?")
    # The transport is build_http()'s: 308 is not followed as a redirect.
    assert 308 not in client.http.http.redirect_codes


def test_chunk_size_must_be_a_multiple_of_256_kib(tmp_path: Path) -> None:
    video = tmp_path / "v.mp4"
    video.write_bytes(b"x" * 10)
    client = YouTubeClient(Credentials(token="t"), api_root="http://127.0.0.1:8765/")
    with pytest.raises(UsageError):
        client.video_insert(path=video, body={}, part="snippet", mimetype="video/mp4", chunk_size_bytes=300 * 1024)
    insert = client.video_insert(path=video, body={}, part="snippet", mimetype="video/mp4",
                                 chunk_size_bytes=512 * 1024)
    assert insert.size_bytes == 10
    insert.close()
