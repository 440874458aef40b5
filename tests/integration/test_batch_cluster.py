"""The same batch through a real Dask LocalCluster (two workers) gives the same outputs as
a local run, and its progress and results come back to the client.

The cluster runs in the test process with processes=False (start-up in a fraction of a
second) over TCP, so the `wayfinder batch --cluster` subprocess reaches it as it would a
remote scheduler.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.batch import BatchOptions, run_batch
from pipeline.batch.model import JobEvent
from pipeline.probe import probe
from tests.integration.cli import leftovers, wayfinder
from tests.integration.test_batch_interrupt import processes_mentioning
from tests.media import ebur128, make_clip, tone
from tests.waiting import EVENT_TIMEOUT_S, wait_until

distributed = pytest.importorskip("distributed", reason="the cluster extra (dask[distributed]) is not installed")

CLIP_S = 2.0
NAMES = ("east", "north")


@pytest.fixture(scope="module")
def cluster() -> Iterator[object]:
    local = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, protocol="tcp", host="127.0.0.1",
        dashboard_address=None,
    )
    try:
        yield local
    finally:
        local.close()


def write_manifest(folder: Path) -> Path:
    folder.mkdir()
    manifest = folder / "manifest.toml"
    # A light edit makes every job encode, so the workers' ffmpeg thread setting is used.
    manifest.write_text(
        '[pattern]\ninputs = "../media"\npreset = "youtube-draft"\noutput_dir = "out"\n'
        'output_name = "{stem}-{floor}.mp4"\nvariables = "../media.csv"\n'
        '[pattern.light]\nmode = "manual"\nbrightness = 0.02\n'
    )
    return manifest


@pytest.fixture
def manifests(tmp_path: Path) -> tuple[Path, Path]:
    media = tmp_path / "media"
    media.mkdir()
    for index, name in enumerate(NAMES):
        make_clip(media / f"{name}.mp4", duration_s=CLIP_S, audio=tone(-24.0 + 2 * index, frequency_hz=500.0 + 100 * index))
    (tmp_path / "media.csv").write_text("file,floor,title\n" + "".join(
        f"{name}.mp4,{index + 1},{name.title()} entrance\n" for index, name in enumerate(NAMES)))
    return write_manifest(tmp_path / "local"), write_manifest(tmp_path / "cluster")


def outputs_by_name(report_path: Path) -> dict[str, dict[str, object]]:
    return {job["name"]: job for job in json.loads(report_path.read_text())["jobs"]}


def describe(path: Path) -> dict[str, object]:
    info = probe(path)
    assert info.video is not None and info.first_audio is not None
    return {
        "size": (info.video.width_px, info.video.height_px),
        "fps": round(info.video.fps, 3),
        "duration_s": round(info.duration_s, 1),
        "audio": (info.first_audio.codec, info.first_audio.sample_rate_hz, info.first_audio.channels),
        "loudness_lufs": round(ebur128(path)["integrated_lufs"], 0),
    }


def test_a_dask_cluster_renders_the_same_outputs_as_local(cluster: object, manifests: tuple[Path, Path]) -> None:
    local_manifest, cluster_manifest = manifests
    address = cluster.scheduler_address  # type: ignore[attr-defined]

    local = wayfinder("batch", local_manifest)
    assert local.returncode == 0, local.stderr
    remote = wayfinder("batch", cluster_manifest, "--cluster", address)
    assert remote.returncode == 0, remote.stderr

    local_jobs = outputs_by_name(local_manifest.parent / "batch-report.json")
    remote_jobs = outputs_by_name(cluster_manifest.parent / "batch-report.json")
    assert set(local_jobs) == set(remote_jobs) == set(NAMES)
    workers = set(cluster.workers[name].address for name in cluster.workers)  # type: ignore[attr-defined]
    used = {job["worker"] for job in remote_jobs.values()}
    assert used <= workers and len(used) == 2, used
    for index, name in enumerate(NAMES):
        here, there = local_jobs[name], remote_jobs[name]
        assert here["status"] == there["status"] == "rendered"
        assert here["fingerprint"] == there["fingerprint"]
        assert here["variables"] == there["variables"] == {"floor": str(index + 1), "title": f"{name.title()} entrance"}
        local_output, remote_output = Path(str(here["output_path"])), Path(str(there["output_path"]))
        assert remote_output.name == f"{name}-{index + 1}.mp4"
        assert describe(local_output) == describe(remote_output)
        assert describe(remote_output)["size"] == (320, 180)
        record = json.loads(remote_output.with_name(remote_output.name + ".wayfinder.hash").read_text())
        assert record["fingerprint"] == there["fingerprint"]
    assert leftovers(local_manifest.parent.parent) == []

    again = wayfinder("batch", cluster_manifest, "--cluster", address)
    assert again.returncode == 0, again.stderr
    assert {job["status"] for job in outputs_by_name(cluster_manifest.parent / "batch-report.json").values()} == {"up-to-date"}


def test_progress_and_results_come_back_from_the_workers(cluster: object, manifests: tuple[Path, Path]) -> None:
    _, cluster_manifest = manifests
    events: list[JobEvent] = []
    run = run_batch(
        cluster_manifest,
        BatchOptions(cluster=cluster.scheduler_address, only=("north",)),  # type: ignore[attr-defined]
        on_event=events.append,
    )
    assert run.summary is not None
    [outcome] = run.summary.outcomes
    assert outcome.status == "rendered" and outcome.worker is not None
    kinds = [event.kind for event in events if event.name == "north"]
    assert kinds[0] == "started" and kinds[-1] == "finished" and "progress" in kinds
    last_progress = [e for e in events if e.kind == "progress"][-1]
    assert last_progress.out_time_s == pytest.approx(CLIP_S, abs=0.2)


def test_ctrl_c_stops_the_renders_on_the_workers(cluster: object, tmp_path: Path) -> None:
    address = cluster.scheduler_address  # type: ignore[attr-defined]
    media = tmp_path / "media"
    media.mkdir()
    # x264 veryslow below: still encoding when the signal comes
    make_clip(media / "slow.mp4", duration_s=3.0, audio=tone(-20.0, frequency_hz=450.0))
    manifest = tmp_path / "manifest.toml"
    manifest.write_text('[pattern]\ninputs = "media"\npreset = "youtube-draft"\noutput_dir = "out"\n'
                        '[pattern.video]\nx264_preset = "veryslow"\n[pattern.light]\nmode = "manual"\nbrightness = 0.01\n')
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "pipeline.cli.app", "batch", str(manifest), "--cluster", address],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    def encoding() -> bool:
        assert process.poll() is None, process.communicate()
        return any(processes_mentioning(str(p)) for p in (out.glob(".*.partial*") if out.exists() else []))

    wait_until(encoding, "a worker's ffmpeg writing the job's files")
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=EVENT_TIMEOUT_S)
    assert process.returncode == 130, stderr
    # The workers hear of the stop after the client has gone: wait for them to stop their
    # ffmpeg and clean up.
    wait_until(lambda: not processes_mentioning(str(out)), "the workers' ffmpeg to stop")
    wait_until(lambda: leftovers(tmp_path) == [], "the workers to remove the partial files")
    # The workers render again afterwards: stopping a batch does not leave them refusing ffmpeg.
    again = wayfinder("batch", manifest, "--cluster", address)
    assert again.returncode == 0, again.stderr
    assert [p.name for p in out.glob("*.mp4")] == ["slow.mp4"]
