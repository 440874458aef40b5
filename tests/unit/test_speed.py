"""The speed record's arithmetic (pipeline.speed): the encode's overlapping passes counted
once, the time outside it, the share of the machine; and a real ffmpeg's CPU time read
as it exits, also when a stop event watches it."""

from __future__ import annotations

import threading

import pytest

from pipeline.media import run_ffmpeg
from pipeline.speed import SpeedRecord, recording


def test_the_encode_is_the_union_of_its_passes_and_the_rest_is_outside() -> None:
    record = SpeedRecord(started_monotonic_s=100.0)
    record.add("probe, insets, cards, start analyses", "step", 100.0, 101.0)
    record.add("picture encode", "ffmpeg", 102.0, 110.0, cpu_s=14.0)
    record.add("sound encode", "ffmpeg", 108.0, 111.0, cpu_s=1.0)  # beside the picture: 108-110 counts once
    record.add("mux", "ffmpeg", 111.0, 111.5, cpu_s=0.5)
    record.add_python_cpu(2.5)
    speed = record.report(12.0, cores=2)
    assert speed["encode_s"] == pytest.approx(9.0)  # 102..111
    assert speed["outside_encode_s"] == pytest.approx(3.0)
    assert speed["encode_passes"] == ["picture encode", "sound encode"]
    assert speed["ffmpeg_cpu_s"] == pytest.approx(15.5) and speed["cpu_s"] == pytest.approx(18.0)
    assert speed["machine_share"] == pytest.approx(18.0 / (12.0 * 2))
    assert [p["name"] for p in speed["passes"]][0] == "probe, insets, cards, start analyses"
    assert speed["passes"][1]["started_s"] == pytest.approx(2.0)


def test_a_pass_without_cpu_time_leaves_the_share_unknown() -> None:
    record = SpeedRecord(started_monotonic_s=0.0)
    record.add("picture encode", "ffmpeg", 0.0, 1.0, cpu_s=None)
    speed = record.report(1.0, cores=2)
    assert speed["cpu_s"] is None and speed["machine_share"] is None


@pytest.mark.parametrize("with_stop", [False, True])
def test_an_ffmpeg_pass_is_recorded_with_its_cpu_time(with_stop: bool) -> None:
    record = SpeedRecord()
    stop = threading.Event() if with_stop else None
    with recording(record):
        # 1 s of 320x240 test pattern through x264: some CPU, whatever the load.
        run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=1", "-c:v", "libx264",
                    "-preset", "ultrafast", "-f", "null", "-"], what="picture encode", stop=stop)
    (item,) = record.passes
    assert item.name == "picture encode" and item.kind == "ffmpeg"
    assert item.cpu_s is not None and item.cpu_s >= 0 and item.duration_s > 0


def test_a_stop_watcher_polling_fast_does_not_lose_the_cpu_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # The watcher of a stop event once polled the child, and so could reap it before its
    # CPU time was read (the record then had none). Polling very often makes that likely.
    monkeypatch.setattr("pipeline.media.STOP_POLL_S", 0.0001)
    record = SpeedRecord()
    with recording(record):
        for _ in range(10):
            run_ffmpeg(["-f", "lavfi", "-i", "anullsrc=duration=0.2", "-f", "null", "-"], what="audio measurement",
                       stop=threading.Event())
    assert all(item.cpu_s is not None for item in record.passes)


def test_a_lone_render_counts_its_whole_process_and_overlapping_ones_their_threads() -> None:
    alone = SpeedRecord()
    with recording(alone):
        # A native library's thread (not a Python thread of the render): only the
        # process' CPU time sees it.
        worker = threading.Thread(target=lambda: sum(range(3_000_000)))
        worker.start()
        worker.join()
        speed = alone.report(1.0, cores=1)
    assert speed["python_cpu_basis"] == "process" and speed["python_cpu_s"] > 0

    first, second = SpeedRecord(), SpeedRecord()
    with recording(first):
        inside = threading.Event()
        reports: list[dict] = []

        def other_render() -> None:
            with recording(second):
                inside.set()
                reports.append(second.report(1.0, cores=1))

        thread = threading.Thread(target=other_render)
        thread.start()
        thread.join()
        assert inside.is_set()
        assert first.report(1.0, cores=1)["python_cpu_basis"] == "threads"
    assert reports[0]["python_cpu_basis"] == "threads"


def test_work_wrapped_once_runs_on_several_threads_at_once() -> None:
    # A thread pool maps one wrapped function over its items (the speech enhancer's
    # segments): each call must run in its own copy of the render's context.
    from concurrent.futures import ThreadPoolExecutor

    from pipeline.speed import current, in_this_context

    record = SpeedRecord()
    both_inside = threading.Barrier(2, timeout=60)

    def work(_item: int) -> SpeedRecord | None:
        both_inside.wait()  # the two calls overlap for certain
        return current()

    with recording(record), ThreadPoolExecutor(max_workers=2) as pool:
        seen = list(pool.map(in_this_context(work), [0, 1]))
    assert seen == [record, record]
