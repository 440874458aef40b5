"""Fingerprints: they change exactly when something that determines the output changes,
the record beside an output decides "up to date", and file digests are cached by
(path, size, mtime_ns)."""

from __future__ import annotations

import dataclasses
import hashlib
import os
from pathlib import Path

import pytest

from pipeline.batch import fingerprint as fp
from pipeline.batch.filehash import FileHasher
from pipeline.batch.task import with_ffmpeg_threads
from pipeline.config import PipSpec, quick_job
from pipeline.errors import InputError


def job_for(main: Path, output: Path, **video: object):  # type: ignore[no-untyped-def]
    return quick_job(main, output, preset_name="youtube-draft", flag_layer={"video": video} if video else None)


@pytest.fixture
def media(tmp_path: Path) -> Path:
    (tmp_path / "a.mp4").write_bytes(b"first input")
    return tmp_path / "a.mp4"


def digest_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_same_job_same_fingerprint_and_threads_or_publish_gates_do_not_count(media: Path, tmp_path: Path) -> None:
    job = job_for(media, tmp_path / "out.mp4")
    first = fp.build_fingerprint(job, digest_of)
    assert first == fp.build_fingerprint(job_for(media, tmp_path / "out.mp4"), digest_of)
    assert first == fp.build_fingerprint(with_ffmpeg_threads(job, 3), digest_of)
    gated = quick_job(media, tmp_path / "out.mp4", preset_name="youtube-draft",
                      flag_layer={"publish": {"require_captions": True}})
    assert first == fp.build_fingerprint(gated, digest_of)  # upload gates do not change the file
    strict = quick_job(media, tmp_path / "out.mp4", preset_name="youtube-draft",
                       flag_layer={"captions": {"profile": "dcmp-strict"}})
    assert strict.settings.captions.profile == "dcmp-strict"
    assert first == fp.build_fingerprint(strict, digest_of)  # nor do the caption rules
    assert first.components["input"] == hashlib.sha256(b"first input").hexdigest()


def test_settings_input_sources_and_version_each_change_it(media: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    job = job_for(media, tmp_path / "out.mp4")
    base = fp.build_fingerprint(job, digest_of)

    changed = fp.build_fingerprint(job_for(media, tmp_path / "out.mp4", crf=30), digest_of)
    assert changed.digest != base.digest
    assert [k for k in base.components if base.components[k] != changed.components[k]] == ["settings"]

    other_container = fp.build_fingerprint(job_for(media, tmp_path / "out.mkv"), digest_of)
    assert other_container.components["settings"] != base.components["settings"]

    moved = tmp_path / "moved" / "a.mp4"
    moved.parent.mkdir()
    moved.write_bytes(media.read_bytes())
    assert fp.build_fingerprint(job_for(moved, tmp_path / "out.mp4"), digest_of) == base  # paths do not count

    media.write_bytes(b"second input")
    assert fp.build_fingerprint(job, digest_of).components["input"] != base.components["input"]
    media.write_bytes(b"first input")

    inset = tmp_path / "inset.mp4"
    inset.write_bytes(b"inset v1")
    with_inset = dataclasses.replace(job, pip=(PipSpec(source=inset, corner="top-right"),))
    before = fp.build_fingerprint(with_inset, digest_of)
    inset.write_bytes(b"inset v2")
    after = fp.build_fingerprint(with_inset, digest_of)
    assert before.components["sources"] != after.components["sources"] != base.components["sources"]

    monkeypatch.setattr(fp, "PLAN_FORMAT_VERSION", fp.PLAN_FORMAT_VERSION + 1)
    assert fp.build_fingerprint(job, digest_of).components["version"] != base.components["version"]


def test_the_record_beside_the_output_decides_up_to_date(media: Path, tmp_path: Path) -> None:
    output = tmp_path / "out.mp4"
    job = job_for(media, output)
    current = fp.build_fingerprint(job, digest_of)
    assert fp.check_up_to_date(output, current) == "new output"
    output.write_bytes(b"rendered")
    assert "no fingerprint" in (fp.check_up_to_date(output, current) or "")

    fp.write_record(output, current, duration_s=2.5)
    assert fp.check_up_to_date(output, current) is None
    assert fp.read_record(output)["duration_s"] == 2.5  # type: ignore[index]

    newer = fp.build_fingerprint(job_for(media, output, crf=30), digest_of)
    assert fp.check_up_to_date(output, newer) == "settings changed"

    output.write_bytes(b"replaced by hand")
    assert fp.check_up_to_date(output, current) == "the output was changed after it was rendered"

    fp.record_path_for(output).write_text("not json")
    assert "no fingerprint" in (fp.check_up_to_date(output, current) or "")


def test_file_digests_are_cached_by_size_and_mtime(tmp_path: Path) -> None:
    cache = tmp_path / "cache" / "hashes.json"
    media = tmp_path / "a.mp4"
    media.write_bytes(b"abcdef")
    hasher = FileHasher(cache)
    assert hasher.digest(media) == hashlib.sha256(b"abcdef").hexdigest()
    hasher.save()

    # Same size and mtime: the cached digest is trusted (the contents are not read again).
    stat = media.stat()
    media.write_bytes(b"ABCDEF")
    os.utime(media, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    again = FileHasher(cache)
    assert again.digest(media) == hashlib.sha256(b"abcdef").hexdigest()
    assert again.files_hashed == 0

    os.utime(media, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert again.digest(media) == hashlib.sha256(b"ABCDEF").hexdigest()
    assert again.files_hashed == 1

    cache.write_text("{broken")
    assert FileHasher(cache).digest(media) == hashlib.sha256(b"ABCDEF").hexdigest()
    with pytest.raises(InputError, match="file not found"):
        hasher.digest(tmp_path / "missing.mp4")


def test_the_logo_file_and_lower_thirds_change_it(media: Path, tmp_path: Path) -> None:
    from pipeline.overlay_specs import LogoSpec, LowerThirdSpec

    job = job_for(media, tmp_path / "out.mp4")
    logo = tmp_path / "logo.png"
    logo.write_bytes(b"logo v1")
    branded = dataclasses.replace(job, logo=LogoSpec(source=logo))
    before = fp.build_fingerprint(branded, digest_of)
    assert before.components["sources"] != fp.build_fingerprint(job, digest_of).components["sources"]
    logo.write_bytes(b"logo v2")  # a new logo re-renders the video
    assert fp.build_fingerprint(branded, digest_of).components["sources"] != before.components["sources"]
    named = dataclasses.replace(job, lower_thirds=(LowerThirdSpec(lines=["Gonda Building"]),))
    renamed = dataclasses.replace(job, lower_thirds=(LowerThirdSpec(lines=["Gonda Building, Level 2"]),))
    assert fp.build_fingerprint(named, digest_of) != fp.build_fingerprint(renamed, digest_of)
