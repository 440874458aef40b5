"""Processes that die with Wayfinder: nothing it starts outlives it, even when it is
killed outright (SIGKILL, the OOM killer) and none of its own clean-up can run.

- ffmpeg children ask the kernel, between fork and exec, to be killed when Wayfinder
  dies (`PR_SET_PDEATHSIG`, Linux).
- Worker processes (QA's pool) are forked by a multiprocessing fork server, not by
  Wayfinder, and each holds the server's "alive" pipe open: neither would ever notice.
  A worker therefore watches Wayfinder's pid itself (a pidfd where the kernel has them,
  else a slow poll) and exits when it is gone; the fork server then sees its pipe close
  and exits too.
"""

from __future__ import annotations

import ctypes
import functools
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable

PR_SET_PDEATHSIG = 1
POLL_WITHOUT_PIDFD_S = 0.5


@functools.cache
def _prctl() -> Callable[..., int] | None:
    """libc's prctl, looked up once; None where there is none (not Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    return prctl


def _request_death_with(parent_pid: int) -> None:
    prctl = _prctl()
    if prctl is None:
        return
    prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before the request was made
        os._exit(1)


def child_dies_with_us() -> Callable[[], None] | None:
    """For Popen's `preexec_fn` (None where the kernel cannot do it). The function runs in
    the child between fork and exec, where it must not import or allocate much (other
    threads of ours may hold locks the child can never release): prctl is looked up now."""
    if _prctl() is None:
        return None
    parent_pid = os.getpid()
    return lambda: _request_death_with(parent_pid)


def _wait_until_gone(pid: int) -> None:
    try:
        handle = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    except (AttributeError, OSError):  # no pidfd (old kernel, not Linux): poll
        while True:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            except PermissionError:
                pass
            time.sleep(POLL_WITHOUT_PIDFD_S)
    try:
        select.select([handle], [], [])  # readable once the process has exited
    finally:
        os.close(handle)


def exit_when_gone(pid: int) -> None:
    """In a worker process: exit at once (no clean-up: there is no one left to report
    to) when the process `pid` has ended, however it ended."""

    def watch() -> None:
        _wait_until_gone(pid)
        os._exit(1)

    threading.Thread(target=watch, name="wayfinder-lifeline", daemon=True).start()
