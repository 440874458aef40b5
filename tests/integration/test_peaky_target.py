"""Peaky sound that cannot reach the loudness target under the true-peak ceiling
(issue 12): sparse voiced clicks over near-silence, asked for -10 LUFS. The speech
enhancer is off: the case is the limiter's, and what the enhancer keeps of clicks is not.
The render must say so before it encodes anything, in one line, with what is reachable; with `limiter_policy = "lower-target"` (or the lower target it suggests) it
renders, and the report says where it landed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from scipy.io import wavfile

from tests.integration.cli import leftovers, wayfinder
from tests.media import click_template

RATE_HZ = 48_000
DURATION_S = 12.0
CLICKS_S = (2.0, 6.5, 10.0)
CLICK_PEAK_DBFS = -1.0
FLOOR_DBFS = -60.0
TARGET_LUFS = -10.0
CEILING_DBTP = -1.0
TOLERANCE_LU = 0.2


@pytest.fixture(scope="module")
def peaky(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three 300 ms clicks in 12 s: about 8 % of the time has sound in it, the rest is a
    -60 dBFS noise floor, so the integrated loudness sits far under the clicks' peaks."""
    rng = np.random.default_rng(7)
    sound = 10 ** (FLOOR_DBFS / 20) * rng.standard_normal(int(DURATION_S * RATE_HZ))
    template = click_template()
    for at_s in CLICKS_S:
        start = round(at_s * RATE_HZ)
        sound[start:start + len(template)] += 10 ** (CLICK_PEAK_DBFS / 20) * template
    path = tmp_path_factory.mktemp("peaky") / "peaky.wav"
    wavfile.write(path, RATE_HZ, np.stack([sound, sound], axis=1).astype(np.float32))
    return path



def render(folder: Path, main: Path, target_lufs: float, audio: str = "") -> tuple[object, Path]:
    job = folder / "job.toml"
    job.write_text(f'preset = "youtube-draft"\n[input]\nmain = "{main}"\n[output]\npath = "out.m4a"\n'
                   f"[audio]\ntarget_lufs = {target_lufs}\ntrue_peak_dbtp = {CEILING_DBTP}\n"
                   f"noise_reduction = false\n{audio}\n")
    return wayfinder("render", job), folder / "out.m4a"


def test_out_of_reach_target_fails_up_front_in_one_line(peaky: Path, tmp_path: Path) -> None:
    result, out = render(tmp_path, peaky, TARGET_LUFS)
    assert result.returncode == 1, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    line = errors[0]
    assert str(peaky) in line and "target_lufs" in line
    assert f"loudness target {TARGET_LUFS:g} LUFS is out of reach under the {CEILING_DBTP:g} dBTP ceiling" in line
    assert 'limiter_policy = "lower-target"' in line
    # Decided before the encode: no encode, no check of an encoded track, no correction.
    assert "encoded output off target" not in result.stderr
    assert "even after one correction" not in result.stderr
    best = float(re.search(r"best (-?[\d.]+) LUFS", line).group(1))
    limiting = float(re.search(r"needs ([\d.]+) dB of limiting", line).group(1))
    assert best < TARGET_LUFS - TOLERANCE_LU
    assert limiting > 6.0  # far more than speech takes well
    assert not out.exists() and leftovers(tmp_path) == []


def test_the_suggested_lower_target_renders(peaky: Path, tmp_path: Path) -> None:
    result, _ = render(tmp_path, peaky, TARGET_LUFS)
    suggested = float(re.search(r"target_lufs = (-?[\d.]+) or lower", result.stderr).group(1))
    assert suggested < TARGET_LUFS
    result, out = render(tmp_path, peaky, suggested)
    assert result.returncode == 0, result.stderr
    verified = json.loads(out.with_name("out.m4a.wayfinder.json").read_text())["measurements"]["audio"]["verified"]
    assert abs(verified["output"]["integrated_lufs"] - suggested) <= TOLERANCE_LU
    assert verified["output"]["true_peak_dbtp"] <= CEILING_DBTP


def test_lower_target_policy_renders_at_the_reachable_level_and_says_so(peaky: Path, tmp_path: Path) -> None:
    result, out = render(tmp_path, peaky, TARGET_LUFS, 'limiter_policy = "lower-target"')
    assert result.returncode == 0, result.stderr
    audio = json.loads(out.with_name("out.m4a.wayfinder.json").read_text())["measurements"]["audio"]
    gain = audio["gain"]
    assert gain["policy"] == "lower-target" and not gain["limiter"]
    # Linear gain up to the ceiling less the encoder margin: where it lands follows from
    # what was measured before the gain.
    assert gain["landing_lufs"] == pytest.approx(
        gain["measured_lufs"] + (CEILING_DBTP - 0.5) - gain["measured_true_peak_dbtp"], abs=0.02)
    assert gain["landing_lufs"] < TARGET_LUFS - 3
    said = re.search(rf"lands at (-[\d.]+) LUFS instead of {TARGET_LUFS:g}", gain["reason"])
    assert said and float(said.group(1)) == pytest.approx(gain["landing_lufs"], abs=0.051)
    assert said.group(0) in result.stderr  # and the render's notes say it too
    output = audio["verified"]["output"]
    assert abs(output["integrated_lufs"] - gain["landing_lufs"]) <= TOLERANCE_LU
    assert output["true_peak_dbtp"] <= CEILING_DBTP
