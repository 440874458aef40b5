"""Batch renders (`wayfinder batch`): a manifest of many jobs, rendered in parallel and
incrementally, with failures isolated, locally or on a Dask cluster.

Modules: `manifest` (schema, loading, selection), `filehash` (cached content digests),
`fingerprint` (what determines an output, and its record beside the output), `decide`
(render, skip or fail). `model` holds the data passed between them.
"""
