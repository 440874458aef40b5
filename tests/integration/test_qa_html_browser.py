"""The HTML QA report in a real headless Chromium: it renders the summary table and the
plots, logs nothing to the console, and the screenshot is a real page, not a blank one.

Chromium is Debian's package (`.ci/run` installs it). Without it the test fails on CI
(`CI=true`) and is skipped elsewhere.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from pipeline.qa.html import write_html
from pipeline.qa.run import run_qa
from tests.media import make_clip, tone

WINDOW = (1280, 2000)
FAIL_RGB = (0xCF, 0x22, 0x2E)  # the report's FAIL colour
PASS_RGB = (0x1A, 0x7F, 0x37)


def find_chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI") == "true":
        pytest.fail("chromium is not installed; .ci/run installs it with apt-get (apt-get install chromium)")
    pytest.skip("chromium is not installed (apt-get install chromium); required on CI")


def run_chromium(chromium: str, profile: Path, *args: str, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
         f"--window-size={WINDOW[0]},{WINDOW[1]}", *args, url],
        capture_output=True, text=True, timeout=300, check=False,
    )


def console_messages(stderr: str) -> list[str]:
    """What the page logged to its console (errors, uncaught exceptions, failed loads)."""
    return [line for line in stderr.splitlines() if re.search(r":CONSOLE[:(]|Uncaught|net::ERR_", line)]


@pytest.fixture(scope="module")
def report_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("qa-browser")
    make_clip(folder / "clean.mp4", duration_s=4, audio=tone(-14.0))
    clipped = "clip(0.199526231*sin(2*PI*1000*t)*if(between(t\\,2\\,2.01)\\,20\\,1)\\,-1\\,1)"
    make_clip(folder / "clipped <loud> & bright.wav", duration_s=4, size=None,
              audio=f"aevalsrc=exprs={clipped}|{clipped}:sample_rate=48000")
    make_clip(folder / "no_audio.mp4", duration_s=1, audio="none")
    report = run_qa([folder], jobs=1)
    assert [r.status for r in report.files] == ["pass", "fail", "fail"]
    return write_html(report, folder / "qa report.html")


def test_report_renders_table_and_plots_without_console_errors(report_page: Path, tmp_path: Path) -> None:
    chromium = find_chromium()
    done = run_chromium(chromium, tmp_path / "profile", "--dump-dom", url=report_page.as_uri())
    assert done.returncode == 0, done.stderr[-3000:]
    assert console_messages(done.stderr) == []
    dom = done.stdout
    assert '<table class="summary">' in dom
    assert dom.count('<tr class="') >= 3
    assert dom.count("<svg") == 2  # the two files with audio
    assert dom.count('<polyline class="short-term"') == 2
    assert 'class="moment fail"' in dom  # the clipped burst is marked
    assert "clipped &lt;loud&gt; &amp; bright.wav" in dom
    assert "no audio stream" in dom


def test_screenshot_is_a_rendered_page(report_page: Path, tmp_path: Path) -> None:
    from PIL import Image

    chromium = find_chromium()
    png = tmp_path / "report.png"
    done = run_chromium(chromium, tmp_path / "profile", f"--screenshot={png}", url=report_page.as_uri())
    assert done.returncode == 0, done.stderr[-3000:]
    assert console_messages(done.stderr) == []
    assert png.is_file() and png.stat().st_size > 10_000
    pixels = np.asarray(Image.open(png).convert("RGB"), dtype=np.int16)
    assert pixels.shape[:2] == (WINDOW[1], WINDOW[0])
    assert pixels.std() > 20, "the screenshot is blank"

    def share_near(rgb: tuple[int, int, int]) -> float:
        return float((np.abs(pixels - np.array(rgb)).max(axis=2) < 30).mean())

    # Colour-coded verdicts and plot lines were painted, not just text.
    assert share_near(FAIL_RGB) > 0.0005
    assert share_near(PASS_RGB) > 0.0002
