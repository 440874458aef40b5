"""Job files for the integration tests: the fast settings they render with (the
`youtube-draft` preset, x264 ultrafast unless a test needs otherwise) written once."""

from __future__ import annotations

from pathlib import Path

FAST_VIDEO = 'x264_preset = "ultrafast"'


def write_job(folder: Path, main: Path, tables: str = "", *, output: str = "out.mp4", video: str = FAST_VIDEO) -> Path:
    """`folder/job.toml` rendering `main` to `output` (relative to the job); `video` is
    the body of the [video] table, `tables` any further tables ([audio], [[pip]], ...)."""
    job = folder / "job.toml"
    job.write_text(f"""
preset = "youtube-draft"
[input]
main = "{main}"
[output]
path = "{output}"
[video]
{video}
{tables}
""")
    return job
