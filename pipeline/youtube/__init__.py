"""Publishing to YouTube: metadata, validation, policy, resumable upload, auth.

Modules, each with one job:

- `metadata`: schemas of a job's `[youtube]` table and of templates; the insert body.
- `templates`: finding templates and rendering them (sandboxed Jinja2, StrictUndefined).
- `chapters`, `captions`, `thumbnail`, `video_facts`: one kind of input each.
- `validate`: YouTube's metadata rules, every problem at once; `policy`: preset gates.
- `plan`: template + job + flags to one checked `UploadPlan` (no network).
- `calls`: the requests a plan makes and their quota (`--dry-run`); `quota`: the cost table.
- `client`: the only module importing googleapiclient; `errors`: API errors to Wayfinder errors.
- `upload`: the resumable transfer; `retry`: backoff; `playlists`; `publish`: the whole flow.
- `record`: the JSON upload record; `auth`: credentials and the login flow.

The state store (sessions, ledger, playlist ids, quota spent) is `pipeline.state`.
"""
