"""Open captions (`[captions] burn_in = true`): the approved caption file burned into the
picture by the real ffmpeg (libass), checked on the rendered frames, and every way the
file can be unusable refused before any work.

The programme is flat grey with no sound (so `captions approve` holds it to the rules
that need none); a caption shows for a known window. Where the box must be comes from
the style set in `pipeline.video.caption_burn`, restated here from the standards it
follows: a box whose outer edge sits on the title-safe line (5 % of the frame's height
above the bottom), text 16/288 of the height, a black box that lets 0x60/0xFF of the
picture through. The folder's name holds the characters that would break a filter
graph if a path reached it unescaped."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest

from tests.integration.cli import leftovers, wayfinder
from tests.media import ffmpeg

WIDTH_PX, HEIGHT_PX, FPS = 320, 180, 10
DURATION_S = 4.0
CUE_START_S, CUE_END_S = 1.0, 2.5
SAFE_FRACTION = 0.05  # EBU R 95 graphics-safe margin
BOX_SEE_THROUGH = 0x60 / 0xFF  # ASS alpha of the box colour
CAPTIONS = "1\n00:00:01,000 --> 00:00:02,500\nAsk not what your country\n"  # CUE_START_S to CUE_END_S
AWKWARD_FOLDER = "burn a';[x],b:c"


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Approvals in a state database of the test's own (the CLI runs inherit it)."""
    monkeypatch.setenv("WAYFINDER_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("WAYFINDER_CONFIG_DIR", str(tmp_path / "config"))
    return tmp_path / "state"


@pytest.fixture
def folder(tmp_path: Path, state: Path) -> Path:
    """A clean render (grey, silent) with its reviewed caption file beside it, and a job
    that burns that file into a new output."""
    folder = tmp_path / AWKWARD_FOLDER
    folder.mkdir()
    ffmpeg("-f", "lavfi", "-i", f"color=c=gray:size={WIDTH_PX}x{HEIGHT_PX}:rate={FPS}:duration={DURATION_S}",
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(folder / "walk.mp4"))
    (folder / "walk.en.srt").write_text(CAPTIONS, encoding="utf-8")
    write_job(folder)
    return folder


def write_job(folder: Path, captions: str = 'burn_in = true\nfile = "walk.en.srt"\n') -> Path:
    job = folder / "open.toml"
    job.write_text(f'[input]\nmain = "walk.mp4"\n[output]\npath = "walk-open.mp4"\n[captions]\n{captions}',
                   encoding="utf-8")
    return job


def approve(folder: Path) -> None:
    done = wayfinder("captions", "approve", folder / "walk.mp4", "--by", "Dana Reviewer")
    assert done.returncode == 0, done.stderr


def luma_frames(path: Path) -> list[tuple[float, np.ndarray]]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [(float(frame.pts * stream.time_base), frame.to_ndarray(format="gray").astype(int))
                for frame in container.decode(stream)]


def test_the_caption_box_shows_in_its_window_in_the_lower_safe_area(folder: Path) -> None:
    approve(folder)
    done = wayfinder("render", folder / "open.toml")
    assert done.returncode == 0, done.stderr
    output = folder / "walk-open.mp4"
    frames = luma_frames(output)
    assert len(frames) == round(DURATION_S * FPS)
    background = int(np.median(frames[0][1]))
    safe_bottom = HEIGHT_PX * (1 - SAFE_FRACTION)
    font_px = 16 / 288 * HEIGHT_PX
    frame_s = 1 / FPS
    shown = 0
    for time_s, luma in frames:
        changed = np.abs(luma - background) > 12
        if time_s < CUE_START_S - frame_s / 2 or time_s > CUE_END_S - frame_s / 2:
            assert not changed.any(), f"something drawn at {time_s:.1f} s, outside the caption's window"
            continue
        shown += 1
        rows, columns = np.nonzero(changed)
        assert rows.size, f"no caption at {time_s:.1f} s, inside its window"
        # Inside the title-safe area, in the lower part of the frame.
        assert rows.max() <= safe_bottom + 0.5 and abs(rows.max() - safe_bottom) <= 2, rows.max()
        assert rows.min() >= safe_bottom - 2.5 * font_px, rows.min()
        assert columns.min() >= SAFE_FRACTION * WIDTH_PX and columns.max() <= (1 - SAFE_FRACTION) * WIDTH_PX
        assert abs((columns.min() + columns.max()) / 2 - WIDTH_PX / 2) <= 2  # centred
        # A readable box: the grey darkened to what the box lets through, white text on it.
        box = luma[rows.min():rows.max() + 1, columns.min():columns.max() + 1]
        darkened = np.abs(box - background * BOX_SEE_THROUGH) <= 8
        assert darkened.mean() >= 0.5, darkened.mean()
        assert (box >= 200).sum() >= 0.02 * box.size  # thin anti-aliased glyphs at 10 px
    assert shown == round((CUE_END_S - CUE_START_S) * FPS)
    report = json.loads((folder / "walk-open.mp4.wayfinder.json").read_text(encoding="utf-8"))
    burned = report["burned_captions"]
    import hashlib

    assert burned["sha256"] == hashlib.sha256((folder / "walk.en.srt").read_bytes()).hexdigest()
    assert burned["approved_by"] == "Dana Reviewer" and burned["approved_for"] == str((folder / "walk.mp4").resolve())
    # One decode, one encode: the captions are drawn in the picture's one command.
    picture_commands = [line for line in report["command"].splitlines() if "libx264" in line]
    assert len(picture_commands) == 1 and "subtitles=" in picture_commands[0]
    assert "burned in" in done.stderr and "walk.en.srt" in done.stderr
    assert not leftovers(folder)


def refused(folder: Path, *needles: str) -> str:
    """The render refused with exit 3, one line naming the caption file and the field,
    and nothing left behind."""
    done = wayfinder("render", folder / "open.toml")
    assert done.returncode == 3, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    for needle in ("walk.en.srt", "captions.file", *needles):
        assert needle in lines[0], lines[0]
    assert not (folder / "walk-open.mp4").exists() and not leftovers(folder)
    assert not any(p.name.startswith(".walk-open") for p in folder.iterdir())
    return lines[0]


def test_captions_not_approved_are_refused(folder: Path) -> None:
    line = refused(folder, "not approved", "wayfinder captions approve")
    assert "cannot be corrected after upload" in line


def test_captions_changed_after_approval_are_refused(folder: Path) -> None:
    approve(folder)
    with (folder / "walk.en.srt").open("a", encoding="utf-8") as handle:
        handle.write("\n2\n00:00:03,000 --> 00:00:03,900\nask what you can do\n")
    refused(folder, "changed after Dana Reviewer approved it", "sha256")


def test_a_missing_caption_file_is_refused(folder: Path) -> None:
    (folder / "walk.en.srt").unlink()
    refused(folder, "no such caption file")


def test_an_unparsable_caption_file_is_refused(folder: Path) -> None:
    (folder / "walk.en.srt").write_text("1\n00:00:01,000 --> 00:00:0x,500\nAsk not\n", encoding="utf-8")
    refused(folder, "caption 1", "cannot read the timing")


def test_burn_in_without_a_file_names_the_setting(folder: Path) -> None:
    write_job(folder, "burn_in = true\n")
    done = wayfinder("render", folder / "open.toml")
    assert done.returncode == 3, done.stderr
    assert "captions" in done.stderr and "burn_in needs the approved caption file" in done.stderr
    assert not (folder / "walk-open.mp4").exists()
