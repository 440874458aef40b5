"""The one exception tree of Wayfinder, and the exit code each kind of error maps to.

Every error a user can see is a `WayfinderError`. It carries what the user needs to act:
the file, the field or stream, and for ffmpeg failures the last lines of its stderr.
`fatal` errors stop a batch (no ffmpeg, no credentials, no quota); the others are
per-item: recorded, and the batch goes on.
"""

from __future__ import annotations

import errno
from collections.abc import Sequence
from pathlib import Path

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_BAD_INPUT = 3
EXIT_TOOL_OR_CREDENTIALS = 4

SHOWN_VALUE_CHARS = 80  # of a user's value quoted in a message
MAX_MESSAGE_CHARS = 2000  # of any one error line: a 10 MB value must not become 10 MB of stderr


def shorten(text: str, limit_chars: int = SHOWN_VALUE_CHARS) -> str:
    """`text` as it may be quoted in a message: at most `limit_chars` of it, then how long
    it really is. Every error that quotes a user's value goes through here."""
    if len(text) <= limit_chars:
        return text
    return f"{text[:limit_chars]}… ({len(text):,} characters)"


def shown_value(value: object, limit_chars: int = SHOWN_VALUE_CHARS) -> str:
    """`repr(value)` shortened like `shorten`, without building a 10 MB repr first."""
    if isinstance(value, str) and len(value) > limit_chars:
        return f"{value[:limit_chars]!r}… ({len(value):,} characters)"
    if isinstance(value, (list, tuple, dict)) and len(value) > limit_chars:
        return f"({type(value).__name__} of {len(value):,} items)"
    return shorten(repr(value), limit_chars)


class WayfinderError(Exception):
    """Base of every error Wayfinder reports to a user."""

    exit_code: int = EXIT_FAILED
    fatal: bool = False

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        field: str | None = None,
        details: Sequence[str] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = str(file) if file is not None else None
        self.field = field
        self.details = list(details)

    def one_line(self) -> str:
        """The message as one line: `file: field: message`."""
        parts = [p for p in (self.file, self.field) if p]
        prefix = ": ".join(shorten(p, MAX_MESSAGE_CHARS) for p in parts)
        text = shorten(" ".join(self.message.split()), MAX_MESSAGE_CHARS)
        return f"{prefix}: {text}" if prefix else text

    def __str__(self) -> str:
        return self.one_line()


class UsageError(WayfinderError):
    """The command line itself is wrong (exit 2)."""

    exit_code = EXIT_USAGE


class ConfigError(WayfinderError):
    """A job, preset, manifest or metadata file is invalid (exit 3).

    `problems` lists every problem found, each already a full one-line message.
    """

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str, *, problems: Sequence[str] = (), **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.problems = list(problems)


class InputError(WayfinderError):
    """An input media file is missing, not media, corrupt or unusable (exit 3)."""

    exit_code = EXIT_BAD_INPUT


class OutputError(WayfinderError):
    """The output cannot be written: exists without --force, folder not writable (exit 1)."""

    exit_code = EXIT_FAILED


class AudioError(WayfinderError):
    """Audio cannot be processed as asked: silence cannot be normalized, required audio missing."""

    exit_code = EXIT_FAILED


class RenderError(WayfinderError):
    """ffmpeg failed; `details` holds the last lines of its stderr."""

    exit_code = EXIT_FAILED


class VerifyError(WayfinderError):
    """The encoded output does not meet its targets even after correction."""

    exit_code = EXIT_FAILED


class Cancelled(WayfinderError):
    """The user interrupted the work (Ctrl-C or SIGTERM)."""

    exit_code = 130
    fatal = True


class ToolError(WayfinderError):
    """A required tool (ffmpeg) is missing or unusable (exit 4)."""

    exit_code = EXIT_TOOL_OR_CREDENTIALS
    fatal = True


class CredentialsError(WayfinderError):
    """Credentials are missing, expired or revoked (exit 4)."""

    exit_code = EXIT_TOOL_OR_CREDENTIALS
    fatal = True


class QuotaError(WayfinderError):
    """YouTube quota or channel upload limit reached (exit 4)."""

    exit_code = EXIT_TOOL_OR_CREDENTIALS
    fatal = True


class StateError(WayfinderError):
    """The state database (upload ledger, sessions, queue) cannot be used: damaged, on a full
    disk, in a read-only folder, or locked too long (exit 4). Fatal: nothing that needs the
    state may go on until someone fixes the machine, and a queue run must not mistake it for
    a problem of one item (it would defer every item, exit 0, forever)."""

    exit_code = EXIT_TOOL_OR_CREDENTIALS
    fatal = True


OS_ERROR_REASONS = {
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.ENAMETOOLONG: "file name too long",
    errno.EIO: "input/output error (a failing disk or a lost network share)",
}


# The errors of writing to a disk that is full or frozen, whatever file was being written.
WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS})


def os_error_reason(exc: OSError) -> str:
    """What went wrong in a few plain words (`no space left on device`)."""
    reason = OS_ERROR_REASONS.get(exc.errno or 0)
    if reason is None:
        reason = (exc.strerror or exc.__class__.__name__).lower()
    return reason


def from_os_error(exc: OSError, *, what: str = "", file: str | Path | None = None) -> WayfinderError:
    """An OSError from writing or reading our own files, as a one-line error naming the file.

    `what` says what was being done ("writing the card cache"); the file is the one the OS
    named, else `file`. Exit code 1: the job is fine, the machine is not.
    """
    named = exc.filename if exc.filename is not None else file
    if isinstance(named, bytes):
        named = named.decode("utf-8", "replace")
    reason = os_error_reason(exc)
    message = f"{what}: {reason}" if what else reason
    return OutputError(message, file=named)
