"""Batch renders (`wayfinder batch`): a manifest of many jobs, rendered in parallel and
incrementally, with failures isolated, locally or on a Dask cluster.

Modules: `manifest` (schema, loading, selection), `filehash` (cached content digests),
`fingerprint` (what determines an output, and its record beside the output), `decide`
(render, skip or fail), `task` (one job where it runs), `local` (thread pool), `cluster`
(Dask, optional), `qa` (QA of the outputs), `report` (batch-report.json), `run` (the
whole batch). `model` holds the data passed between them.
"""

from pipeline.batch.run import BatchOptions, BatchRun, run_batch

__all__ = ["BatchOptions", "BatchRun", "run_batch"]
