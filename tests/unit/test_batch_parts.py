"""The smaller parts of a batch, without ffmpeg: option checks, the worker file check,
thread planning, the Dask and QA imports, and reading QA verdicts."""

from __future__ import annotations

import dataclasses
import sys
import types
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from pipeline.batch import cluster, qa
from pipeline.batch.run import default_jobs
from pipeline.batch.task import check_files_visible, with_ffmpeg_threads
from pipeline.config import CardSpec, quick_job
from pipeline.errors import InputError, ToolError, UsageError
from pipeline.qa.model import FileResult, QaReport


def batch_app() -> typer.Typer:
    from pipeline.cli import batch_cmd

    app = typer.Typer()
    batch_cmd.register(app)
    app.command("noop")(lambda: None)  # with two commands Typer keeps the `batch` name
    return app


@pytest.mark.parametrize(("args", "message"), [
    (["--jobs", "2", "--cluster", "tcp://127.0.0.1:8786"], "--jobs is for local renders"),
])
def test_refused_option_combinations_exit_2_before_reading_anything(args: list[str], message: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(batch_app(), ["batch", str(tmp_path / "no-such-manifest.toml"), *args])
    assert result.exit_code == 2
    assert message in result.output


def test_default_jobs_follow_the_core_count() -> None:
    assert [default_jobs(cores) for cores in (1, 2, 4, 8, 16)] == [1, 2, 2, 4, 8]


def test_a_worker_that_cannot_see_an_input_fails_the_job_clearly(tmp_path: Path) -> None:
    main = tmp_path / "a.mp4"
    main.write_bytes(b"x")
    job = quick_job(main, tmp_path / "out" / "a.mp4", preset_name="youtube-draft")
    check_files_visible(job, "tcp://10.0.0.5:40000")  # visible: no error
    with_card = dataclasses.replace(job, intro=CardSpec(lines=["Hi"], background_image=tmp_path / "logo.png"))
    with pytest.raises(InputError) as caught:
        check_files_visible(with_card, "tcp://10.0.0.5:40000")
    text = caught.value.one_line()
    assert "logo.png" in text and "not visible on worker tcp://10.0.0.5:40000" in text and "shared storage" in text


def test_job_threads_are_set_unless_the_job_sets_them(tmp_path: Path) -> None:
    job = quick_job(tmp_path / "a.mp4", tmp_path / "b.mp4", preset_name="youtube-draft")
    assert with_ffmpeg_threads(job, 2).settings.video.threads == 2
    assert with_ffmpeg_threads(job, None).settings.video.threads is None
    own = quick_job(tmp_path / "a.mp4", tmp_path / "b.mp4", preset_name="youtube-draft", flag_layer={"video": {"threads": 6}})
    assert with_ffmpeg_threads(own, 2).settings.video.threads == 6


def test_ffmpeg_threads_share_each_machines_cores_among_its_task_threads() -> None:
    workers = {
        "tcp://10.0.0.1:4001": {"nthreads": 1}, "tcp://10.0.0.1:4002": {"nthreads": 1},  # two on one 8-core host
        "tcp://10.0.0.2:4001": {"nthreads": 2},  # one with two threads on a 16-core host
    }
    descriptions = {"tcp://10.0.0.1:4001": {"cores": 8}, "tcp://10.0.0.1:4002": {"cores": 8},
                    "tcp://10.0.0.2:4001": {"cores": 16}}
    assert cluster.plan_worker_threads(workers, descriptions) == {"10.0.0.1": 4, "10.0.0.2": 8}


def test_workers_without_wayfinder_or_with_another_version_stop_the_batch() -> None:
    cluster.check_workers({"tcp://a:1": cluster.describe_worker()})
    with pytest.raises(ToolError, match="tcp://b:1: Wayfinder 0.0.1") as caught:
        cluster.check_workers({"tcp://a:1": cluster.describe_worker(), "tcp://b:1": {"wayfinder": "0.0.1", "cores": 2}})
    assert caught.value.exit_code == 4
    with pytest.raises(ToolError, match="cannot run Wayfinder"):
        cluster.check_workers({"tcp://c:1": ModuleNotFoundError("No module named 'pipeline'")})


def test_cluster_without_dask_is_a_clear_exit_4(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ToolError, match=r"pip install 'wayfinder\[cluster\]'") as caught:
        cluster.import_distributed()
    assert caught.value.exit_code == 4


def test_qa_missing_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pipeline.qa.run", None)
    with pytest.raises(UsageError, match="QA is not available in this version"):
        qa.require_qa()


def qa_report(preset: str, verdicts: dict[Path, str]) -> QaReport:
    files = tuple(FileResult(path=str(path), status=status, duration_s=2.0, checks=())  # type: ignore[arg-type]
                  for path, status in verdicts.items())
    return QaReport(preset=preset, target_lufs=-14.0, true_peak_dbtp=-1.0, tolerance_lu=0.5, files=files)


def test_batch_qa_checks_outputs_per_preset_and_maps_verdicts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls: list[tuple[list[Path], str, int | None]] = []
    written: list[Path] = []

    def run_qa(paths: list[Path], preset: str, jobs: int | None) -> QaReport:
        calls.append((paths, preset, jobs))
        return qa_report(preset, {p: "fail" if "bad" in p.name else "warn" if "quiet" in p.name else "pass"
                                  for p in paths})

    def write_html(report: QaReport, path: Path) -> Path:
        written.append(path)
        return path

    # The real engine decodes media; its contract (paths, preset, jobs -> QaReport) is what matters here.
    monkeypatch.setitem(sys.modules, "pipeline.qa.run", types.SimpleNamespace(run_qa=run_qa))
    monkeypatch.setitem(sys.modules, "pipeline.qa.html", types.SimpleNamespace(write_html=write_html))
    outputs = [("a", tmp_path / "a.mp4", "youtube"), ("bad", tmp_path / "bad.mp4", "youtube"),
               ("quiet", tmp_path / "quiet.mp4", "youtube"), ("pod", tmp_path / "pod.m4a", "podcast-audio")]
    summary = qa.run_batch_qa(outputs, jobs=2, report_dir=tmp_path)
    assert calls == [([tmp_path / "pod.m4a"], "podcast-audio", 2),
                     ([tmp_path / "a.mp4", tmp_path / "bad.mp4", tmp_path / "quiet.mp4"], "youtube", 2)]
    assert written == [tmp_path / "qa-report-podcast-audio.html", tmp_path / "qa-report-youtube.html"]
    assert summary.verdicts == {"a": "pass", "bad": "fail", "quiet": "warn", "pod": "pass"}
    assert summary.failed

    summary = qa.run_batch_qa(outputs[:1], jobs=None, report_dir=tmp_path)
    assert written[-1] == tmp_path / "qa-report.html" and not summary.failed
