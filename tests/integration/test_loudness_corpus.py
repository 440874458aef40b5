"""Issue 3's proof: a corpus of speech-like files normalized to -14 LUFS / -1 dBTP with
AAC output; every output is measured on the ENCODED file and must land within 0.2 LU
and at or under -1.0 dBTP. Cross-checked against ffmpeg's own ebur128 meter."""

from __future__ import annotations

import json
from pathlib import Path

import av
import pytest

from pipeline.audio.meter import measure_file
from tests.audio_corpus import CORPUS, CorpusFile, make_corpus_file
from tests.integration.cli import leftovers, wayfinder
from tests.media import ebur128

TARGET_LUFS = -14.0
CEILING_DBTP = -1.0


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("corpus")


@pytest.mark.parametrize("item", CORPUS, ids=[c.name for c in CORPUS])
def test_corpus_file_lands_on_target_after_aac(item: CorpusFile, corpus_dir: Path, tmp_path: Path) -> None:
    source = make_corpus_file(item, corpus_dir)
    out = tmp_path / f"{item.name}.m4a"
    result = wayfinder("render", source, "-o", out, "--preset", "youtube")
    assert result.returncode == 0, result.stderr
    with av.open(str(out)) as container:
        stream = container.streams.audio[0]
        assert (stream.codec_context.name, stream.rate, stream.channels) == ("aac", 48000, 2)

    measured = measure_file(out)
    assert measured.integrated_lufs == pytest.approx(TARGET_LUFS, abs=0.2)
    assert measured.true_peak_dbtp is not None and measured.true_peak_dbtp <= CEILING_DBTP

    # an independent meter agrees (ffmpeg prints one decimal)
    reference = ebur128(out)
    assert reference["integrated_lufs"] == pytest.approx(TARGET_LUFS, abs=0.25)
    assert reference["true_peak_dbtp"] <= CEILING_DBTP + 0.05

    report = json.loads(Path(f"{out}.wayfinder.json").read_text())
    verified = report["measurements"]["audio"]["verified"]
    assert verified["output"]["integrated_lufs"] == pytest.approx(measured.integrated_lufs, abs=0.01)
    assert leftovers(tmp_path) == []

    before = report["measurements"]["audio"]["input"]
    after = verified["output"]
    if item.name == "hum":
        # made with 60 Hz and 180 Hz lines: found before, notched after
        assert before["hum"]["mains_hz"] == 60.0 and before["hum"]["harmonics_hz"] == [60.0, 180.0]
        assert after["hum"]["harmonics_hz"] == []
    if item.name == "two-speakers":
        # the second speaker was made 14 dB quieter: the leveler brings them closer
        assert after["loudness_range_lu"] < before["loudness_range_lu"] - 3.0
    if item.name == "noisy":
        assert after["snr_db"] > before["snr_db"] + 3.0
