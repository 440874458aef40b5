"""Run QA over files and folders: find the media, measure each file, collect a report.

Owns: expanding the paths a producer gives (folders are searched recursively for media
files by extension; files named explicitly are always checked), running one file's QA
so that any per-file problem becomes a failing result instead of stopping the batch,
and spreading files over a process pool (the work is CPU-bound numpy and decoding).
Results keep the order in which the files were found, whatever order they finish in.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from pathlib import Path

from pipeline.errors import InputError, WayfinderError
from pipeline.lifeline import exit_when_gone
from pipeline.qa.analyse import analyse_file, is_no_audio_stream
from pipeline.qa.captions import with_caption_check
from pipeline.qa.checks import check_file, unmeasured_file
from pipeline.qa.model import FileResult, QaReport
from pipeline.qa.limits import load_qa_limits
from pipeline.qa.settings import QaLimits

MEDIA_EXTENSIONS = frozenset({
    ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mxf", ".mts", ".m2ts", ".ts", ".mpg", ".mpeg",
    ".wmv", ".flv", ".3gp", ".wav", ".w64", ".flac", ".aif", ".aiff", ".caf", ".mp3", ".m4a", ".aac",
    ".ogg", ".oga", ".opus", ".wma",
})

FileDone = Callable[[FileResult], None]


def default_jobs() -> int:
    """The cores this process may use (a container's CPU set, not the host's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _is_hidden(path: Path, root: Path) -> bool:
    # Hidden names include Wayfinder's own `.NAME.partial` files of renders in progress.
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def find_media_files(paths: Sequence[Path]) -> list[Path]:
    """Files to check, in order: each path given, folders expanded to their media files.

    A folder contributes its media files (by extension, case-insensitive, hidden files
    and folders skipped), sorted; a file given by name is checked whatever its
    extension, even if missing (it then fails as unreadable). Duplicates are dropped.
    """
    found: list[Path] = []
    seen: set[str] = set()
    for path in paths:
        if path.is_dir():
            candidates = sorted(
                p for p in path.rglob("*")
                if p.suffix.lower() in MEDIA_EXTENSIONS and p.is_file() and not _is_hidden(p, path)
            )
        else:
            candidates = [path]
        for candidate in candidates:
            key = os.path.realpath(candidate)
            if key not in seen:
                seen.add(key)
                found.append(candidate)
    return found


def _container_duration_s(path: str) -> float:
    from pipeline.probe import probe

    try:
        return probe(Path(path)).duration_s
    except WayfinderError:
        return 0.0


def qa_file(path: str, limits: QaLimits) -> FileResult:
    """QA of one file. Never raises for a bad file: that is a failing result."""
    started = time.perf_counter()
    result = _qa_file(path, limits)
    return dataclasses.replace(result, analysis_s=time.perf_counter() - started)


def _qa_file(path: str, limits: QaLimits) -> FileResult:
    try:
        analysis = analyse_file(path, limits.qa)
    except InputError as error:
        if is_no_audio_stream(error):
            return unmeasured_file(path, error.message, no_audio=True, duration_s=_container_duration_s(path))
        return unmeasured_file(path, error.message, no_audio=False)
    except WayfinderError as error:
        if error.fatal:
            raise
        return unmeasured_file(path, error.message, no_audio=False)
    except Exception as exc:  # noqa: BLE001 - one odd file must not end a batch of fifty
        return unmeasured_file(path, f"unexpected {type(exc).__name__}: {exc}", no_audio=False)
    return with_caption_check(check_file(analysis, limits), limits)


def _can_spawn_workers() -> bool:
    """False when worker processes could not re-import the main program (code piped to
    `python -`, for example), which fresh workers need; QA then runs in-process."""
    main = sys.modules.get("__main__")
    if main is None or getattr(main, "__spec__", None) is not None:
        return True
    path = getattr(main, "__file__", None)
    return path is None or os.path.exists(path)


def _worker_context() -> multiprocessing.context.BaseContext:
    """How workers start: never plain fork, since the CLI has threads running (progress
    display) and forking a threaded process can deadlock.

    A fork server (where available) imports the QA code, numpy and scipy once and forks
    each worker from that clean process: importing them costs about 1.5 s of CPU, which
    spawned workers would each pay again.
    """
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["__main__", __name__])
        return context
    return multiprocessing.get_context("spawn")


def _init_worker(wayfinder_pid: int) -> None:
    # Workers leave Ctrl-C to Wayfinder, which stops them all in one place; and if it is
    # killed outright, they end with it rather than wait for work forever.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    exit_when_gone(wayfinder_pid)


def _run_pool(files: list[Path], limits: QaLimits, workers: int, on_file_done: FileDone | None) -> list[FileResult]:
    results: list[FileResult | None] = [None] * len(files)
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=_worker_context(),
                               initializer=_init_worker, initargs=(os.getpid(),))
    try:
        futures: dict[Future[FileResult], int] = {
            pool.submit(qa_file, str(path), limits): index for index, path in enumerate(files)
        }
        for future in as_completed(futures):
            index = futures[future]
            try:
                result = future.result()
            except WayfinderError:
                raise
            except Exception as exc:  # noqa: BLE001 - a worker killed (out of memory) fails its file only
                result = unmeasured_file(str(files[index]), f"the QA worker failed ({type(exc).__name__}: {exc})",
                                         no_audio=False)
            results[index] = result
            if on_file_done is not None:
                on_file_done(result)
    except BaseException:
        # Ctrl-C (or a fatal error): stop now rather than finish the files in progress.
        # The executor has no public way to stop its workers; `_processes` is private.
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()
        raise
    pool.shutdown(wait=True)
    return [r for r in results if r is not None]


def run_qa(
    paths: Sequence[Path | str],
    preset: str = "youtube",
    jobs: int | None = None,
    on_file_done: FileDone | None = None,
) -> QaReport:
    """QA every media file under `paths` against preset `preset`.

    `jobs` worker processes (default: the usable cores; 1 runs in this process). The
    workers start from a fresh interpreter (fork server or spawn), so a script calling
    this needs the usual `if __name__ == "__main__":` guard.
    `on_file_done` is called in this process as each file finishes. Raises ConfigError
    for a bad preset and InputError when the paths hold no media file at all; a bad
    file is a failing result, never an exception.
    """
    limits = load_qa_limits(preset)
    files = find_media_files([Path(p) for p in paths])
    if not files:
        raise InputError("no media files found", file=", ".join(str(p) for p in paths) or None)
    workers = min(jobs if jobs is not None else default_jobs(), len(files))
    if workers > 1 and not _can_spawn_workers():
        workers = 1
    if workers <= 1:
        results = []
        for path in files:
            result = qa_file(str(path), limits)
            results.append(result)
            if on_file_done is not None:
                on_file_done(result)
    else:
        results = _run_pool(files, limits, workers, on_file_done)
    return QaReport(
        preset=preset,
        target_lufs=limits.target_lufs,
        true_peak_dbtp=limits.true_peak_dbtp,
        tolerance_lu=limits.qa.tolerance_lu,
        files=tuple(results),
    )
