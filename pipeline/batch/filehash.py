"""Content digests of media files, streamed, and cached by (path, size, mtime_ns).

A library of hundreds of videos is hashed once; later batches only `stat` the files.
The cache is a JSON file in the cache folder (`WAYFINDER_CACHE_DIR`), written
atomically; it is only a cache, so a lost or corrupt one is rebuilt silently.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

from pipeline import paths
from pipeline.errors import InputError

CACHE_FILE_NAME = "batch-file-hashes.json"
CACHE_FORMAT = 1


def default_cache_path() -> Path:
    return paths.cache_dir() / CACHE_FILE_NAME


class FileHasher:
    """sha256 of file contents, remembered while the file's size and mtime stay the same.

    Thread-safe: a batch hashes its inputs from several threads at once (hashlib releases
    the GIL on large blocks, so this runs in parallel).
    """

    def __init__(self, cache_path: Path | None = None) -> None:
        self._cache_path = cache_path
        self._lock = threading.Lock()
        self._entries: dict[str, dict[str, int | str]] = self._load() if cache_path else {}
        self._dirty = False
        self.files_hashed = 0  # how many files were read (not served from the cache)

    def _load(self) -> dict[str, dict[str, int | str]]:
        assert self._cache_path is not None
        try:
            data = json.loads(self._cache_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT or not isinstance(data.get("files"), dict):
            return {}
        return data["files"]

    def digest(self, path: Path) -> str:
        """The sha256 (hex) of the file's contents. Raises InputError if it cannot be read."""
        key = os.path.abspath(path)
        try:
            stat = os.stat(key)
        except FileNotFoundError:
            raise InputError("file not found", file=path) from None
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror}", file=path) from None
        if not os.path.isfile(key):
            raise InputError("is a folder, not a media file", file=path)
        with self._lock:
            cached = self._entries.get(key)
        if cached and cached.get("size") == stat.st_size and cached.get("mtime_ns") == stat.st_mtime_ns:
            return str(cached["sha256"])
        try:
            with open(key, "rb") as handle:
                digest = hashlib.file_digest(handle, "sha256").hexdigest()
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror}", file=path) from None
        with self._lock:
            self._entries[key] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": digest}
            self._dirty = True
            self.files_hashed += 1
        return digest

    def save(self) -> None:
        """Write the cache if anything was added. Failing to write it is not an error."""
        if self._cache_path is None:
            return
        with self._lock:
            if not self._dirty:
                return
            payload = json.dumps({"format": CACHE_FORMAT, "files": self._entries})
            self._dirty = False
        try:
            self._cache_path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self._cache_path.with_name(f".{self._cache_path.name}.{os.getpid()}.tmp")
            temporary.write_text(payload, encoding="utf-8")
            os.replace(temporary, self._cache_path)
        except OSError:
            pass
