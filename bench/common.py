"""What every benchmark shares: the machine it ran on, and writing its own section of
bench/RESULTS.md without touching the others'."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / "work"
RESULTS = HERE / "RESULTS.md"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def ffmpeg_binary() -> str:
    from pipeline.media import find_ffmpeg

    return find_ffmpeg()


def machine() -> dict[str, str]:
    """nproc, CPU model, memory, Python and ffmpeg versions."""
    cpu, memory = "unknown", "unknown"
    try:
        cpu = next(
            line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
        mem_kb = next(
            int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        memory = f"{mem_kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    ffmpeg_version = subprocess.run([ffmpeg_binary(), "-version"], capture_output=True, text=True).stdout.split("\n")[0]
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "memory": memory,
        "python": platform.python_version(),
        "ffmpeg": ffmpeg_version,
    }


def machine_line() -> str:
    m = machine()
    return f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory']} RAM; Python {m['python']}; {m['ffmpeg']}."


def write_section(title: str, text: str) -> None:
    """Replace (or add) only the section headed `title` ("## ...") in bench/RESULTS.md."""
    if RESULTS.exists():
        current = RESULTS.read_text()
    else:
        current = "# Benchmark results\n\nEach section is written by the benchmark named in it.\n"
    start = current.find(title)
    if start == -1:
        updated = current.rstrip("\n") + "\n\n" + text
    else:
        following = current.find("\n## ", start + len(title))
        tail = current[following + 1:] if following != -1 else ""
        updated = current[:start] + text + ("\n" + tail if tail else "")
    RESULTS.write_text(updated)


def tree_rss_bytes(process: Any) -> int:
    """Resident memory of the psutil `process` and all its descendants now (0 once it is
    gone); psutil is imported here, so benches that do not measure memory need not have it."""
    import psutil

    total = 0
    try:
        members = [process, *process.children(recursive=True)]
    except psutil.Error:
        return 0
    for member in members:
        try:
            total += member.memory_info().rss
        except psutil.Error:
            pass  # ended between the listing and the reading
    return total


def run_with_peak_rss(argv: list[str], *, env: dict[str, str], cwd: Path) -> tuple[int, str, str, int]:
    """Run `argv` to its end, its output drained by a thread while the main thread samples
    the process tree's resident memory every 50 ms: (exit code, stdout, stderr, peak bytes)."""
    import subprocess
    import threading

    import psutil

    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)
    watched = psutil.Process(process.pid)
    captured: dict[str, str] = {}

    def drain() -> None:
        captured["out"], captured["err"] = process.communicate()

    reader = threading.Thread(target=drain)
    reader.start()
    peak = 0
    while reader.is_alive():
        peak = max(peak, tree_rss_bytes(watched))
        reader.join(0.05)
    return process.returncode, captured.get("out", ""), captured.get("err", ""), peak
