"""The fake YouTube server's fixtures (tests/youtube_server) for every integration test:
`youtube` (a server on 127.0.0.1), `wf` (a Wayfinder environment pointed at it),
`sample_video` and `video`. A module overrides `youtube` to start its server otherwise."""

from __future__ import annotations

import sys
from pathlib import Path

# youtube_server is a top-level package: its command-line helper runs it as a script too.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from youtube_server.fixtures import sample_video, video, wf, youtube  # noqa: E402,F401
