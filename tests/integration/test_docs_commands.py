"""Every command README.md and docs/*.md show runs, in the order shown, against the sample
media, in a temporary copy of the repository's samples folder.

The copy holds the repository's samples folder and the media `make demo` synthesizes,
made by the same `write_samples` at test sizes (smaller pictures, same lengths, voices and
cut, so every sample job's times still hold). The docs run in order, README first: its
renders make the outputs (samples/out) that later commands upload and check.
Upload commands talk to the local YouTube-compatible server (tests/youtube_server) through
the documented settings (WAYFINDER_YOUTUBE_API_ROOT, WAYFINDER_CREDENTIALS). `/tmp/` in a
command is a temporary folder of the test, and the docs' example server address is the
local server's.

A command that cannot run here is listed in SKIPPED with the reason; a command documented
to fail (QA of raw recordings) is listed in EXPECTED_EXIT with its documented exit code.
Every other command must exit 0.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.samples import SampleSizes, write_samples
from tests.docs_commands import DocCommand, DocShell, base_env, extract_commands
from tests.whisper_model import assemble_model
from youtube_server import FakeYouTube

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
# Same lengths as the demo set (the sample jobs cut at fixed seconds), a quarter of the pixels.
TEST_SIZES = SampleSizes(main_px=(320, 180), main_fps=10, guide_px=(160, 120), guide_fps=25)
COMMAND_TIMEOUT_S = 600
# About 35 commands, a dozen of them renders: a few minutes on 2 idle cores; the limit
# leaves room for a machine loaded many times over.
COMMANDS_TIMEOUT_S = 2400

SKIPPED: dict[str, str] = {
    "make demo": "creates a virtual environment (pip install) and renders seven jobs at full size (minutes); "
                 "its synthesis runs in this test's fixture at test sizes, the jobs it renders are rendered "
                 "by the commands below, test_samples.py checks that a second synthesis keeps everything and "
                 "test_demo_manifest.py that its batch lists every sample job",
    "make test": "runs the whole suite, this test included",
    "wayfinder auth login --client-secrets ~/Downloads/client_secret.json":
        "signs in to Google in a browser; tests/integration/test_youtube_auth_cli.py runs the same flow "
        "against the local server",
    ".venv/bin/python -m pip install -e '.[captions]'":
        "installs a package from the network into the environment; the test extras already hold "
        "faster-whisper, and tests/unit/test_packaging.py checks the extra exists",
    "huggingface-cli download Systran/faster-whisper-base --local-dir ~/.config/wayfinder/models/faster-whisper-base":
        "downloads the model from the internet; this test gives the draft command the same model "
        "(whisper-base, sha256-checked) through WAYFINDER_WHISPER_MODEL",
    "wayfinder samples /tmp/wayfinder-samples":
        "synthesizes the full-size set (1080p, about 1.5 min on 2 loaded cores); the same write_samples "
        "made this test's media, and test_samples.py runs `wayfinder samples` itself",
}

# The docs say these fail here, and why: the raw recordings are not normalized (README,
# Loudness QA: "so they fail integrated_loudness"); the queue example's item 1 is the raw
# recording and fails its loudness check at upload time (README, Scheduled uploads).
EXPECTED_EXIT: dict[str, tuple[int, str]] = {
    "wayfinder qa samples/media samples/out": (1, "the raw sources fail integrated_loudness"),
    "wayfinder qa samples/media samples/out --json --junit /tmp/qa.xml --html /tmp/qa.html > /tmp/qa.json":
        (1, "the raw sources fail integrated_loudness"),
    "wayfinder queue run --once": (1, "item 1 (the raw recording) fails the loudness gate"),
    "wayfinder captions check samples/media/walkthrough.srt --video samples/media/walkthrough.mp4 "
    "--profile dcmp-strict": (1, "the README shows the strict profile failing one 33-character line"),
    "wayfinder qa samples/media/walkthrough.mp4 --json": (1, "the raw recording fails integrated_loudness"),
    # Shown for a damaged database; here it is sound, and the README says restore then refuses
    # ("It refuses to replace a state file that passes its check unless you add --force").
    "wayfinder state restore": (2, "the state database passes its check: restore refuses without --force"),
}

DOC_SERVER_ADDRESS = "http://127.0.0.1:8765/"


def all_commands() -> list[DocCommand]:
    return [command for doc in DOCS for command in extract_commands(REPO, doc)]


def test_the_docs_show_commands_in_shell_blocks() -> None:
    texts = [command.text for command in all_commands()]
    assert len(texts) >= 30
    assert any(text.startswith("wayfinder upload") for text in texts)
    assert any(text.startswith("wayfinder render") for text in texts)


def test_every_skip_and_expected_failure_names_a_command_the_docs_show() -> None:
    texts = {command.text for command in all_commands()}
    for listed in [*SKIPPED, *EXPECTED_EXIT]:
        assert listed in texts, f"{listed!r} is listed but no doc shows it any more"
    assert all(reason.strip() for reason in SKIPPED.values())


def test_every_samples_file_the_docs_name_ships_or_is_made_by_make_demo() -> None:
    """A path under samples/ in the docs is in the repository, or is made by `make demo`
    (samples/media by the synthesis, samples/out by the renders)."""
    missing = []
    for doc in DOCS:
        for match in re.finditer(r"samples/[\w./-]*\w", doc.read_text(encoding="utf-8")):
            path = match.group(0)
            if path.startswith(("samples/media", "samples/out")) or (REPO / path).exists():
                continue
            missing.append(f"{doc.name}: {path}")
    assert missing == []


@pytest.fixture(scope="module")
def youtube_server() -> Iterator[FakeYouTube]:
    with FakeYouTube(processing_polls=0) as server:
        yield server


@pytest.fixture(scope="module")
def doc_shell(tmp_path_factory: pytest.TempPathFactory, youtube_server: FakeYouTube) -> DocShell:
    """A copy of the repository's samples folder after `make demo`, and a shell in it."""
    root = tmp_path_factory.mktemp("repo")
    tmp = tmp_path_factory.mktemp("tmp")
    home = tmp_path_factory.mktemp("home")
    shutil.copytree(REPO / "samples", root / "samples",
                    ignore=shutil.ignore_patterns("media", "out", "__pycache__"))
    write_samples(root / "samples" / "media", sizes=TEST_SIZES)
    model = assemble_model(tmp_path_factory.mktemp("whisper") / "faster-whisper-base")
    credentials = home / "config" / "credentials.json"
    youtube_server.write_credentials(credentials)
    youtube_server.write_credentials(tmp / "test-credentials.json")  # the file docs/youtube.md exports
    env = base_env({
        "PYTHONPATH": str(REPO),
        "WAYFINDER_CONFIG_DIR": str(home / "config"),
        "WAYFINDER_STATE_DIR": str(home / "state"),
        "WAYFINDER_CACHE_DIR": str(home / "cache"),
        "WAYFINDER_CREDENTIALS": str(credentials),
        "WAYFINDER_YOUTUBE_API_ROOT": youtube_server.url,
        "WAYFINDER_RETRY_BASE_S": "0.01",
        "HOME": str(home),
        "COLUMNS": "80",
        "WAYFINDER_WHISPER_MODEL": str(model),
    })
    return DocShell(root, env, tmp, {DOC_SERVER_ADDRESS: youtube_server.url}, COMMAND_TIMEOUT_S)


@pytest.mark.slow
@pytest.mark.timeout(COMMANDS_TIMEOUT_S)
def test_every_command_in_the_docs_runs(doc_shell: DocShell) -> None:
    """In order, README first; every failure is listed, not only the first."""
    failures = []
    for doc in DOCS:
        for command in extract_commands(REPO, doc):
            if command.text in SKIPPED:
                continue
            expected, _reason = EXPECTED_EXIT.get(command.text, (0, ""))
            started = time.monotonic()
            ran = doc_shell.run(command.text)
            print(f"{command.where}: exit {ran.returncode} in {time.monotonic() - started:.1f} s", flush=True)
            if ran.returncode != expected:
                tail = "\n    ".join((ran.stderr or ran.stdout).strip().splitlines()[-6:])
                failures.append(f"{command.where}: `{command.text}` exited {ran.returncode}, not {expected}:\n    {tail}")
    assert not failures, "\n".join(failures)


def test_a_variable_holding_a_path_under_tmp_is_used_as_it_is(tmp_path: Path) -> None:
    # CI found it: a clone under /tmp gave $FFMPEG a /tmp/... value, which the shell then
    # moved into its own scratch folder as if the docs had written the path
    shell = DocShell(tmp_path, {"FFMPEG": "/tmp/ci/.venv/bin/ffmpeg"}, tmp_path / "scratch", {}, 10.0)
    assert shell._word("$FFMPEG") == "/tmp/ci/.venv/bin/ffmpeg"
    assert shell._word("/tmp/qa.html") == str(tmp_path / "scratch" / "qa.html")
