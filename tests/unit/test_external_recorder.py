"""The external recorder's job settings, its place among the job's sources and in the
batch fingerprint, the graph that puts it on the camera's clock, and the alignment math
on synthesized sound (no ffmpeg)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from pipeline import config
from pipeline.audio.align import Alignment, AlignmentRefused, estimate_alignment
from pipeline.audio.recorder_graph import build_recorder_filters, camera_to_stream_samples, plan_rate_stages
from pipeline.batch import fingerprint as fp
from pipeline.errors import ConfigError
from pipeline.sources import check_output_not_source, job_sources
from tests.recorder_media import read_scene_at, speech_like


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def job_with_recorder(
    folder: Path, recorder: str = "../sound/lav.wav", extra: str = "", output: str = "out.mp4",
) -> config.Job:
    return config.load_job(write(folder / "jobs" / "a.toml", f"""
[input]
main = "in.mp4"
[output]
path = "{output}"
[audio]
external = "{recorder}"
{extra}
"""))


def test_recorder_path_resolves_against_the_job_file_and_mix_defaults_to_replace(tmp_path: Path) -> None:
    job = job_with_recorder(tmp_path)
    assert job.settings.audio.external == tmp_path / "sound" / "lav.wav"
    assert job.settings.audio.external_mix == "replace"
    assert job.settings.audio.external_under_db == -12.0
    under = job_with_recorder(tmp_path, extra='external_mix = "under"\nexternal_under_db = -18')
    assert (under.settings.audio.external_mix, under.settings.audio.external_under_db) == ("under", -18.0)


def test_bad_mix_and_preset_recorders_are_config_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError) as caught:
        job_with_recorder(tmp_path, extra='external_mix = "over"')
    assert any("audio.external_mix" in problem for problem in caught.value.problems)
    monkeypatch.setenv("WAYFINDER_CONFIG_DIR", str(tmp_path / "config"))
    write(tmp_path / "config" / "presets" / "lav.toml", '[audio]\nexternal = "lav.wav"\n')
    with pytest.raises(ConfigError) as caught:
        config.load_preset_settings("lav")
    assert any("set it in a job file, not a preset" in problem for problem in caught.value.problems)


def test_recorder_is_a_source_and_never_an_output(tmp_path: Path) -> None:
    job = job_with_recorder(tmp_path)
    assert [(s.role, s.path) for s in job_sources(job)][1] == ("external recorder", tmp_path / "sound" / "lav.wav")
    clashing = job_with_recorder(tmp_path, output="../sound/lav.wav")
    with pytest.raises(ConfigError, match="is its external recorder"):
        check_output_not_source(clashing)


def test_changing_the_recorder_file_changes_the_fingerprint_but_moving_it_does_not(tmp_path: Path) -> None:
    write(tmp_path / "jobs" / "in.mp4", "camera")
    lav = write(tmp_path / "sound" / "lav.wav", "take one")
    digest = lambda path: hashlib.sha256(path.read_bytes()).hexdigest()  # noqa: E731
    job = job_with_recorder(tmp_path)
    before = fp.build_fingerprint(job, digest)
    lav.write_text("take two")
    after = fp.build_fingerprint(job, digest)
    assert [k for k in before.components if before.components[k] != after.components[k]] == ["sources"]
    write(tmp_path / "elsewhere" / "lav.wav", "take two")
    moved = job_with_recorder(tmp_path, recorder="../elsewhere/lav.wav")
    assert fp.build_fingerprint(moved, digest) == after
    under = job_with_recorder(tmp_path, extra='external_mix = "under"')
    assert fp.build_fingerprint(under, digest).components["settings"] != after.components["settings"]


def alignment(offset_s: float, drift_ppm: float) -> Alignment:
    return Alignment(offset_s, drift_ppm, 1.0, 10, 10, 0.1, 20.0, 300.0, 310.0)


@pytest.mark.parametrize("recorder_hz", [44_100, 48_000, 96_000])
@pytest.mark.parametrize("drift_ppm", [200.0, -37.3, 999.0, 0.731, -2.0, 12.5])
def test_intermediate_rates_make_the_declared_stretch_exact(recorder_hz: int, drift_ppm: float) -> None:
    factor = 1 + drift_ppm * 1e-6
    stages = plan_rate_stages(recorder_hz, 48_000, factor)
    assert 1 <= len(stages) <= 2
    assert all(intermediate >= max(recorder_hz, 48_000) for intermediate, _ in stages)  # no band lost
    stretch = float(np.prod([declared / intermediate for intermediate, declared in stages]))
    # Under 4 microseconds over an hour.
    assert abs(stretch - factor) * 3600 < 4e-6


def test_filters_trim_a_recorder_that_started_first_and_delay_one_that_started_late() -> None:
    early = build_recorder_filters(alignment(1.3, 200.0), 44_100, start_s=0.0, end_s=10.0, out_rate_hz=48_000)
    names = [name for name, _ in early]
    assert names[:3] == ["aresample", "asetrate", "asetpts"]
    first = round(1.3 / 1.0002 * 48_000)
    assert ("atrim", {"start_sample": first, "end_sample": first + 480_000}) in early
    assert early[-2:] == [("atrim", {"end_sample": 480_000}), ("asetpts", {"expr": "N/SR/TB"})]

    late = build_recorder_filters(alignment(-2.0, 0.0), 48_000, start_s=5.0, end_s=6.0, out_rate_hz=48_000)
    assert "asetrate" not in [name for name, _ in late]  # no drift: no stretch
    # Camera 5 s is recorder 3 s: a trim, no delay.
    assert ("atrim", {"start_sample": 3 * 48_000, "end_sample": 4 * 48_000}) in late
    whole = build_recorder_filters(alignment(-2.0, 0.0), 48_000, start_s=0.0, end_s=6.0, out_rate_hz=48_000)
    assert ("adelay", {"delays": f"{2 * 48_000}S", "all": 1}) in whole
    assert camera_to_stream_samples(alignment(-2.0, 0.0), 0.0, 48_000) == -96_000


def test_estimate_finds_offset_and_drift_and_refuses_another_scene() -> None:
    rate_hz = 8000
    scene = speech_like(120.0, rate_hz, seed=3)
    recorder_s = np.arange(round(125.0 * rate_hz)) / rate_hz
    camera_s = (recorder_s - 0.75) / (1 + 300e-6)
    recorder = np.interp(camera_s, np.arange(len(scene)) / rate_hz, scene, left=0.0, right=0.0)
    found = estimate_alignment(scene, recorder, rate_hz)
    assert found.offset_s == pytest.approx(0.75, abs=0.001)
    assert found.drift_ppm == pytest.approx(300.0, abs=10.0)
    assert found.recorder_time_s(120.0) == pytest.approx(0.75 + 1.0003 * 120.0, abs=0.001)
    with pytest.raises(AlignmentRefused, match="same scene"):
        estimate_alignment(scene, speech_like(120.0, rate_hz, seed=4), rate_hz)
    with pytest.raises(AlignmentRefused, match="silent"):
        estimate_alignment(scene, np.zeros(len(scene)), rate_hz)


def test_helper_reads_the_scene_at_any_time() -> None:
    scene = np.arange(10.0)
    assert read_scene_at(scene, np.array([0.5 / 48_000])) == pytest.approx([0.5])


def test_a_short_recorder_in_the_middle_of_a_long_take_is_found() -> None:
    """The recorder ran 25 s, from 100 s into a 200 s take: shorter than one coarse
    stretch of the camera."""
    rate_hz = 8000
    scene = speech_like(200.0, rate_hz, seed=5)
    recorder = scene[100 * rate_hz:125 * rate_hz]
    found = estimate_alignment(scene, recorder, rate_hz)
    assert found.offset_s == pytest.approx(-100.0, abs=0.001)
    assert found.coverage_s() == pytest.approx((100.0, 125.0), abs=0.01)
