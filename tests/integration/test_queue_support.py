"""Helpers shared by the queue's integration tests (no tests here).

The `queue` command is registered on a fresh Typer app through its public `register`
hook (as `pipeline.cli.app` does) and run in-process; the process tests run the real
`python -m pipeline.cli.app` instead. Test videos for the transfer tests are a tiny real
clip padded with random bytes (distinct content, so the duplicate ledger keeps them apart,
and any corruption on the way shows in the sha256; real media, because `queue add` probes
it); the QA tests make real media with ffmpeg.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import random
import struct
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import typer
from typer.testing import CliRunner

from youtube_server.fixtures import CliResult

CHUNK_BYTES = 256 * 1024
FAST_RUN = ["--chunk-kib", "256", "--retry-delay-s", "1"]


def build_app() -> typer.Typer:
    from pipeline.cli import queue_cmd

    app = typer.Typer(name="wayfinder", no_args_is_help=True, pretty_exceptions_enable=False)

    @app.callback()
    def _root() -> None:
        """Wayfinder (queue commands only)."""

    queue_cmd.register(app)
    return app


def wayfinder(*args: str | Path) -> CliResult:
    """`wayfinder ARGS` in this process; stdout and stderr apart."""
    result = CliRunner().invoke(build_app(), [str(a) for a in args], catch_exceptions=False,
                                env={"COLUMNS": "200"})
    return CliResult(result.exit_code, result.stdout, result.stderr)


def nav_args(building: str) -> list[str]:
    """Template flags whose title names `building`, so each item's video can be told apart."""
    return ["--template", "navigation", "--var", "location=Riverside Hospital", "--var", f"building={building}",
            "--var", "floor=2", "--var", "department=Radiology", "--var", "phone=555-0100"]


def title_for(building: str) -> str:
    return f"How to find Radiology – {building}, floor 2"


@functools.cache
def _tiny_clip() -> bytes:
    """A real 30 s MP4 (32x32 grey, 2 fps, MPEG-4 Part 2, written by PyAV): small, and long
    enough for caption files that end within the first 30 s."""
    import av
    import numpy as np

    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=2)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        for index in range(60):
            frame = av.VideoFrame.from_ndarray(np.full((32, 32, 3), 64 + index, dtype=np.uint8), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return buffer.getvalue()


def random_video(path: Path, size_bytes: int, seed: int) -> Path:
    """A real video that `queue add` probes, of exactly `size_bytes` (at least the clip's few
    KiB), with distinct content per seed: the clip followed by an MP4 `free` box of random
    bytes, which players and demuxers skip."""
    clip = _tiny_clip()
    box_bytes = max(16, size_bytes - len(clip))
    payload = random.Random(seed).randbytes(box_bytes - 8)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(clip + struct.pack(">I", box_bytes) + b"free" + payload)
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def items() -> list[dict[str, Any]]:
    result = wayfinder("queue", "list", "--json")
    assert result.exit_code == 0, result.output
    return list(json.loads(result.stdout)["items"])


def quota() -> dict[str, Any]:
    result = wayfinder("queue", "list", "--json")
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout)["quota"])


def add(video: Path, building: str, *extra: str) -> int:
    result = wayfinder("queue", "add", video, *nav_args(building), "--skip-qa", "--json", *extra)
    assert result.exit_code == 0, result.output
    return int(json.loads(result.stdout)["id"])


def subprocess_env(wf_env: dict[str, str], **extra: str) -> dict[str, str]:
    repo = Path(__file__).resolve().parents[2]
    return {**os.environ, **wf_env, "PYTHONPATH": str(repo), "COLUMNS": "200", **extra}


def assert_stamped_during(stamp: str, start: datetime, elapsed_s: float) -> None:
    """A time the queue wrote (whole seconds, UTC) from its clock, which began at `start`
    (WAYFINDER_FAKE_NOW, a whole second) and then ran for `elapsed_s` of real time: on a
    loaded machine one command can take seconds, so the stamp is any second of that run,
    not `start` itself."""
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    assert start <= moment <= start + timedelta(seconds=elapsed_s), (stamp, start.isoformat(), elapsed_s)
