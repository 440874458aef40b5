"""numpy's OpenBLAS runs single-threaded in any process that imports `pipeline`: a
threaded BLAS call on one render thread while another thread forks ffmpeg waited forever
(OpenBLAS shuts its workers down at every fork; issue 16's renders stuck in exec_blas)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

PROBE = """
import ctypes
import pipeline
import numpy as np
np.ones((300, 3)) @ np.ones(3)  # OpenBLAS is loaded and has set up its threads
counts = []
for path in {line.split()[-1] for line in open("/proc/self/maps") if "openblas" in line}:
    library = ctypes.CDLL(path)
    for name in ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_", "openblas_get_num_threads"):
        if hasattr(library, name):
            counts.append(getattr(library, name)())
print(counts)
"""


def test_numpy_blas_uses_one_thread_once_pipeline_is_imported() -> None:
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: OpenBLAS is single-threaded anyway")
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    result = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    counts = json.loads(result.stdout)  # the list PROBE prints
    if not counts:
        pytest.skip("this numpy is not linked against OpenBLAS")
    assert counts == [1] * len(counts), counts
