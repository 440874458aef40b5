"""The input's audio is decoded once per render (issue 12: decode -> enhance -> spool ->
measure -> gain -> limit -> encode). A render of a sound file is run in this process
with the real ffmpeg; every ffmpeg process started (the runner's Popen) and every PyAV
decode of a file's audio (`iter_audio_chunks`) is recorded, and those that read the
input are counted. Noisy speech runs the enhancer; a clean tone does not: both decode
the input once."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from scipy.io import wavfile

import pipeline.audio.analysis
from pipeline.config import load_job
from pipeline.render import run_render
from tests.integration.jobs import write_job
from tests.media import click_template

RATE_HZ = 48_000


def noisy_voice(path: Path) -> Path:
    """Voiced clicks every second under a -45 dBFS noise floor: the enhancer runs."""
    rng = np.random.default_rng(3)
    sound = 10 ** (-45 / 20) * rng.standard_normal(6 * RATE_HZ)
    template = click_template()
    for start in range(RATE_HZ // 2, len(sound) - len(template), RATE_HZ):
        sound[start:start + len(template)] += 0.3 * template
    wavfile.write(path, RATE_HZ, np.stack([sound, 0.9 * sound], axis=1).astype(np.float32))
    return path


def clean_tone(path: Path) -> Path:
    """A steady 440 Hz tone with no noise floor at all: no enhancer."""
    t = np.arange(6 * RATE_HZ) / RATE_HZ
    wavfile.write(path, RATE_HZ, (0.1 * np.sin(2 * np.pi * 440 * t)).astype(np.float32))
    return path


def input_decodes(monkeypatch: pytest.MonkeyPatch, source: Path, tmp_path: Path) -> tuple[list[list[str]], list[str]]:
    ffmpeg_reads: list[list[str]] = []
    pyav_reads: list[str] = []
    real_popen = subprocess.Popen
    real_chunks = pipeline.audio.analysis.iter_audio_chunks

    def popen(args, *rest, **options):  # noqa: ANN001, ANN002, ANN003 - the real Popen's signature
        if isinstance(args, list) and any(str(source.resolve()) in str(a) for a in args):
            ffmpeg_reads.append([str(a) for a in args])
        return real_popen(args, *rest, **options)

    def chunks(path, *rest, **options):  # noqa: ANN001, ANN002, ANN003
        if Path(path).resolve() == source.resolve():
            pyav_reads.append(str(path))
        return real_chunks(path, *rest, **options)

    monkeypatch.setattr(subprocess, "Popen", popen)
    monkeypatch.setattr(pipeline.audio.analysis, "iter_audio_chunks", chunks)
    # Linear gain: the count does not depend on how many passes a limiter needs.
    job = load_job(write_job(tmp_path, source, '[audio]\nlimiter_policy = "lower-target"\n', output="out.m4a"))
    run_render(job, force=True)
    return ffmpeg_reads, pyav_reads


@pytest.mark.parametrize("make", [noisy_voice, clean_tone], ids=["enhanced", "not-enhanced"])
def test_the_input_audio_is_decoded_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, make) -> None:  # noqa: ANN001
    source = make(tmp_path / "source.wav")
    ffmpeg_reads, pyav_reads = input_decodes(monkeypatch, source, tmp_path)
    audio = json.loads((tmp_path / "out.m4a.wayfinder.json").read_text())["measurements"]["audio"]
    enhanced = audio["enhancement"] is not None and audio["enhancement"]["applied"]
    assert enhanced == (make is noisy_voice), audio["enhancement"]
    assert len(ffmpeg_reads) + len(pyav_reads) == 1, (ffmpeg_reads, pyav_reads)


def test_the_limiter_runs_only_in_the_measuring_passes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The track encode reads the sound the landed measuring pass made (gain and the
    192 kHz limiter applied) instead of limiting the whole programme once more."""
    from tests.integration.test_lip_sync import make_flash_click_clip

    source = make_flash_click_clip(tmp_path)  # its clicks' peaks need the limiter at -14 LUFS
    limiter_runs: list[list[str]] = []
    real_popen = subprocess.Popen

    def popen(args, *rest, **options):  # noqa: ANN001, ANN002, ANN003 - the real Popen's signature
        if isinstance(args, list) and any("alimiter" in str(a) for a in args):
            limiter_runs.append([str(a) for a in args])
        return real_popen(args, *rest, **options)

    monkeypatch.setattr(subprocess, "Popen", popen)
    run_render(load_job(write_job(tmp_path, source, output="out.m4a")), force=True)
    audio = json.loads((tmp_path / "out.m4a.wayfinder.json").read_text())["measurements"]["audio"]
    assert audio["gain"]["limiter"], audio["gain"]
    passes = int(re.search(r"in (\d+) measuring pass", audio["gain"]["reason"]).group(1))
    assert len(limiter_runs) == passes, [" ".join(run)[-160:] for run in limiter_runs]
    # and the track lands on the target (this short clip reads 0.5 LU louder after AAC,
    # the same with the limiter run again in the encode: the check corrects it once)
    assert abs(audio["verified"]["output"]["integrated_lufs"] - (-14.0)) <= 0.2
