"""Test support for Wayfinder's YouTube publishing: a YouTube-compatible server with fault
injection (`FakeYouTube`), pytest fixtures (`fixtures`), and a command runner (`cli`).

Test modules put `tests/` on sys.path and import from here; nothing here reaches the internet.
"""

from youtube_server.server import Fault, FakeYouTube, google_error

__all__ = ["FakeYouTube", "Fault", "google_error"]
