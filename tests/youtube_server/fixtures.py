"""pytest fixtures for the YouTube tests: the fake server, an isolated Wayfinder
environment pointing at it, a sample video made with ffmpeg, and a CLI runner.

Import the fixtures you use into a test module: `from youtube_server.fixtures import ...`.
"""

from __future__ import annotations

import ipaddress
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from youtube_server.cli import build_app
from youtube_server.server import FakeYouTube

VIDEO_DURATION_S = 12.0
VIDEO_SIZE_PX = (640, 360)


# Template variables for the shipped `navigation` template, as `--var` flags.
NAV_VARS = ["--var", "location=Riverside Hospital", "--var", "building=North Tower", "--var", "floor=3",
            "--var", "department=Cardiology Clinic", "--var", "phone=555-0100"]


def make_video(path: Path, *, duration_s: float = VIDEO_DURATION_S, extra_filter: str | None = None,
               bitrate_kbps: int = 2500) -> Path:
    """A test video: testsrc2 pattern with noise (so it does not compress to nothing) and a tone."""
    from pipeline.media import find_ffmpeg

    width, height = VIDEO_SIZE_PX
    video_filter = "noise=alls=30:allf=t" + (f",{extra_filter}" if extra_filter else "")
    subprocess.run(
        [find_ffmpeg(), "-nostdin", "-y", "-v", "error",
         "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate=25:duration={duration_s}",
         "-f", "lavfi", "-i", f"sine=frequency=440:duration={duration_s}:sample_rate=48000",
         "-vf", video_filter, "-c:v", "libx264", "-preset", "ultrafast",
         "-b:v", f"{bitrate_kbps}k", "-maxrate", f"{bitrate_kbps}k", "-bufsize", f"{bitrate_kbps // 2}k",
         "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", "-movflags", "+faststart", str(path)],
        check=True, timeout=120,
    )
    return path


@pytest.fixture(scope="session")
def sample_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ~3.8 MB, 12 s MP4 (several 256 KiB chunks); copy it before writing beside it."""
    return make_video(tmp_path_factory.mktemp("media") / "walkthrough.mp4")


@pytest.fixture
def video(sample_video: Path, tmp_path: Path) -> Path:
    """The sample video in this test's own folder (records and thumbnails are written beside it)."""
    target = tmp_path / "media" / "walkthrough.mp4"
    target.parent.mkdir()
    target.write_bytes(sample_video.read_bytes())
    return target


@pytest.fixture
def youtube() -> Any:
    with FakeYouTube() as server:
        yield server


@dataclass
class WayfinderEnv:
    server: FakeYouTube
    root: Path
    config_dir: Path
    state_dir: Path
    credentials: Path
    credentials_info: dict[str, Any]

    def env(self) -> dict[str, str]:
        return {
            "WAYFINDER_CONFIG_DIR": str(self.config_dir),
            "WAYFINDER_STATE_DIR": str(self.state_dir),
            "WAYFINDER_CREDENTIALS": str(self.credentials),
            "WAYFINDER_YOUTUBE_API_ROOT": self.server.url,
            "WAYFINDER_RETRY_BASE_S": "0.01",
        }


@pytest.fixture
def wf(youtube: FakeYouTube, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> WayfinderEnv:
    """Config, state and credentials in tmp_path; the API root is the fake server."""
    env = WayfinderEnv(server=youtube, root=tmp_path, config_dir=tmp_path / "config",
                       state_dir=tmp_path / "state", credentials=tmp_path / "config" / "credentials.json",
                       credentials_info={})
    env.credentials_info = youtube.write_credentials(env.credentials)
    for key, value in env.env().items():
        monkeypatch.setenv(key, value)
    _refuse_the_internet(monkeypatch)
    return env


def _refuse_the_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection beyond loopback fails the test instead of reaching Google."""
    real_connect = socket.socket.connect

    def loopback_only(self: socket.socket, address: Any) -> Any:
        if isinstance(address, tuple) and not ipaddress.ip_address(address[0]).is_loopback:
            raise AssertionError(f"a test tried to connect to {address[0]}: only 127.0.0.1 is allowed")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", loopback_only)


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_wayfinder(*args: str, input_text: str | None = None) -> CliResult:
    """Run `wayfinder ARGS` in-process; stdout and stderr captured apart."""
    result = CliRunner().invoke(build_app(), list(args), input=input_text, catch_exceptions=False)
    return CliResult(result.exit_code, result.stdout, result.stderr)
