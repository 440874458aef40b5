"""Batch renders (`wayfinder batch`): a manifest of many jobs, rendered in parallel and
incrementally, with failures isolated, locally or on a Dask cluster.

Modules: `manifest` (schema, loading, selection), `filehash` (cached content digests),
`fingerprint` (what determines an output, and its record beside the output), `decide`
(render, skip or fail), `task` (one job where it runs), `local` (thread pool), `cluster`
(Dask, optional), `qa` (QA of the outputs), `report` (batch-report.json), `run` (the
whole batch). `model` holds the data passed between them.
"""

from typing import Any


__all__ = ["BatchOptions", "BatchRun", "run_batch"]


def __getattr__(name: str) -> Any:
    # Lazy, so `wayfinder --help` does not load the render engine through this package.
    if name in __all__:
        from pipeline.batch import run

        return getattr(run, name)
    raise AttributeError(f"module 'pipeline.batch' has no attribute {name!r}")
