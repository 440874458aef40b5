"""De-reverberation through `wayfinder render`: reverberant speech (synthesized, through a
room of RT60 0.6 s) is de-reverberated and the report says so and why, with the sound still
sample-aligned with the input; `[audio] dereverb = false` turns it off; dry speech leaves it
off."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
from scipy import signal
from scipy.io import wavfile

from tests.integration.cli import wayfinder
from tests.unit.test_audio_dereverb import RATE, reverberant

OUT_RATE = 48_000


def render(tmp_path: Path, sound: np.ndarray, extra: str = "") -> tuple[dict, np.ndarray]:
    wavfile.write(tmp_path / "in.wav", OUT_RATE, sound.astype(np.float32))
    (tmp_path / "job.toml").write_text(
        f'[input]\nmain = "in.wav"\n[output]\npath = "out.m4a"\n[audio]\n{extra}', encoding="utf-8")
    result = wayfinder("render", tmp_path / "job.toml")
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "out.m4a.wayfinder.json").read_text())["measurements"]["audio"]
    with av.open(str(tmp_path / "out.m4a")) as container:
        decoded = np.concatenate([frame.to_ndarray() for frame in container.decode(audio=0)], axis=1)
    return report, decoded[0].astype(np.float64)


def stage(report: dict, name: str) -> dict:
    return next(s for s in report["cleanup"] if s["stage"] == name)


def test_reverberant_speech_is_dereverberated_in_step_and_reported(tmp_path: Path) -> None:
    dry, wet = reverberant(6.0)
    sound = signal.resample_poly(wet, OUT_RATE, RATE)
    report, out = render(tmp_path, sound)
    dereverb = stage(report, "de-reverberation")
    assert dereverb["enabled"] and "reverberant" in dereverb["reason"], dereverb
    assert report["input"]["reverb"]["reverberant"] is True
    assert report["dereverb"]["removed_db"] > 0 and report["dereverb"]["duration_s"] == len(sound) / OUT_RATE
    # no delay: the output's cross-correlation with the input peaks within 5 ms of lag 0
    # (AAC's priming is trimmed on decode)
    n = min(len(out), len(sound))
    corr = signal.correlate(out[:n], sound[:n], mode="full", method="fft")
    lags = signal.correlation_lags(n, n, mode="full")
    near = np.abs(lags) <= OUT_RATE // 10
    lag = lags[near][np.argmax(corr[near])]
    assert abs(lag) <= 0.005 * OUT_RATE, lag

    # turned off: off, with the reason, and the sound is not touched by it
    off_dir = tmp_path / "off"
    off_dir.mkdir()
    report_off, _ = render(off_dir, sound, "dereverb = false\n")
    assert stage(report_off, "de-reverberation") == {
        "stage": "de-reverberation", "enabled": False, "reason": "turned off", "filters": []}
    assert "dereverb" not in report_off and "reverb" not in report_off["input"]


def test_dry_speech_leaves_it_off(tmp_path: Path) -> None:
    dry, _ = reverberant(6.0)
    report, _ = render(tmp_path, signal.resample_poly(dry, OUT_RATE, RATE))
    dereverb = stage(report, "de-reverberation")
    assert not dereverb["enabled"] and dereverb["reason"].startswith("dry"), dereverb
    assert report["input"]["reverb"]["reverberant"] is False
    assert "dereverb" not in report
