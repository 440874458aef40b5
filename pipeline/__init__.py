"""Wayfinder: a video asset pipeline for patient-navigation videos.

The package is a library first; `pipeline.cli` is a thin Typer shell over it.
"""

import os

__version__ = "0.1.0"

# numpy's OpenBLAS runs on the calling thread only (read when numpy loads, so before any
# of our modules imports it). A render's threads (light analysis, sound) use BLAS while
# other threads spawn ffmpeg; every fork shuts OpenBLAS's worker threads down (its
# pthread_atfork handler), and a thread inside a threaded BLAS call then waits forever
# for a worker that is gone (seen as renders stuck in `exec_blas`, issue 16). Our
# matrices are small: the worker threads bought nothing.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
