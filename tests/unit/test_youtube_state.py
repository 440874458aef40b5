"""The SQLite state store: sessions, ledger, steps, playlist ids, quota, hashes; private and durable."""

from __future__ import annotations

import hashlib
import sqlite3
import stat
from datetime import date, datetime, timezone
from pathlib import Path

from pipeline.state import LedgerEntry, StateStore, UploadSession


def session(uri: str = "http://x/upload?upload_id=1", sha: str = "a" * 64) -> UploadSession:
    return UploadSession(file_sha256=sha, channel_id="UC1", file_size_bytes=10, metadata_sha256="m",
                         session_uri=uri, file_path="/v.mp4", bytes_confirmed=0)


def test_file_is_private_and_in_wal_mode(tmp_path: Path) -> None:
    with StateStore.open(tmp_path / "state") as store:
        assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
        assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700
    with sqlite3.connect(tmp_path / "state" / "state.sqlite3") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_session_survives_reopening(tmp_path: Path) -> None:
    with StateStore.open(tmp_path) as store:
        store.save_session(session())
        store.update_session_progress("a" * 64, "UC1", 4)
    with StateStore.open(tmp_path) as store:
        saved = store.get_session("a" * 64, "UC1")
        assert saved is not None and saved.session_uri.endswith("upload_id=1") and saved.bytes_confirmed == 4
        assert store.get_session("a" * 64, "UC2") is None


def test_finishing_an_upload_records_it_and_forgets_the_session(tmp_path: Path) -> None:
    with StateStore.open(tmp_path) as store:
        store.save_session(session())
        store.finish_upload(LedgerEntry("vid1", "a" * 64, "UC1", "/v.mp4", "Title", "2025-01-01T00:00:00+00:00"))
        assert store.get_session("a" * 64, "UC1") is None
        assert store.find_upload("a" * 64, "UC1").video_id == "vid1"  # type: ignore[union-attr]
        assert store.find_upload("a" * 64, "UC2") is None  # keyed by channel too
        store.finish_upload(LedgerEntry("vid2", "a" * 64, "UC1", "/v.mp4", "Title", "2025-01-02T00:00:00+00:00"))
        assert store.find_upload("a" * 64, "UC1").video_id == "vid2"  # type: ignore[union-attr]


def test_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    with StateStore.open(tmp_path) as store:
        try:
            with store.transaction() as db:
                db.execute("INSERT INTO playlists VALUES ('UC1', 'n', 'PL1', 'now')")
                raise RuntimeError("crash mid-transaction")
        except RuntimeError:
            pass
        assert store.cached_playlist("UC1", "n") is None


def test_steps_playlists_and_quota(tmp_path: Path) -> None:
    with StateStore.open(tmp_path) as store:
        store.mark_step_done("vid1", "thumbnail", '{"set": true}')
        assert store.steps_done("vid1") == {"thumbnail": '{"set": true}'}
        store.cache_playlist("UC1", "Riverside", "PL1")
        assert store.cached_playlist("UC1", "Riverside") == "PL1" and store.any_cached_playlist("Riverside") == "PL1"
        store.forget_playlist("UC1", "Riverside")
        assert store.cached_playlist("UC1", "Riverside") is None
        at = datetime(2025, 1, 15, 7, 0, tzinfo=timezone.utc)
        store.record_quota("captions.insert", "units", 400, at, date(2025, 1, 14))
        store.record_quota("videos.insert", "uploads", 1, at, date(2025, 1, 14))
        store.record_quota("thumbnails.set", "units", 50, at, date(2025, 1, 14))
        assert store.quota_spent_on(date(2025, 1, 14)) == {"units": 450, "uploads": 1}
        assert store.quota_spent_on(date(2025, 1, 15)) == {}


def test_file_hash_is_cached_until_the_file_changes(tmp_path: Path) -> None:
    video = tmp_path / "v.mp4"
    video.write_bytes(b"x" * 3_000_000)
    read: list[int] = []
    with StateStore.open(tmp_path / "s") as store:
        assert store.file_sha256(video, read.append) == hashlib.sha256(b"x" * 3_000_000).hexdigest()
        first_reads = len(read)
        assert first_reads == 3  # 1 MiB blocks: memory stays bounded
        store.file_sha256(video, read.append)
        assert len(read) == first_reads
        video.write_bytes(b"y" * 10)
        assert store.file_sha256(video, read.append) == hashlib.sha256(b"y" * 10).hexdigest()
