"""measure_file on real files made with ffmpeg, cross-checked against ffmpeg's ebur128.

The files are synthesized with lavfi sources (anoisesrc, sine, aevalsrc) in fixtures.
Expected values come either from how a file was made (ffmpeg's `sine` source has a
peak amplitude of 1/8, i.e. -18.06 dBFS; at 997 Hz one such channel reads
-18.06 - 3.01 LUFS by BS.1770's definition) or from ffmpeg's own ebur128 meter on the
same file. ffmpeg prints one decimal, so comparisons allow 0.05 for its rounding.
"""

from __future__ import annotations

import math
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from pipeline.audio.decode import iter_audio_chunks
from pipeline.audio.meter import measure_file
from pipeline.errors import InputError
from pipeline.media import find_ffmpeg

SINE_SOURCE_PEAK_DBFS = 20 * math.log10(1 / 8)  # ffmpeg's sine source: amplitude 1/8
ONE_CHANNEL_997HZ_LUFS = SINE_SOURCE_PEAK_DBFS - 3.01  # BS.1770 anchor
FFMPEG_ROUNDING = 0.05
INTEGRATED_TOLERANCE_LU = 0.1 + FFMPEG_ROUNDING
LRA_TOLERANCE_LU = 1.0
TRUE_PEAK_TOLERANCE_DB = 0.3


def ffmpeg(*args: str) -> str:
    completed = subprocess.run(
        [find_ffmpeg(), "-hide_banner", "-nostdin", "-nostats", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stderr


def make(path: Path, *args: str) -> Path:
    ffmpeg("-y", *args, str(path))
    return path


@dataclass(frozen=True)
class Ebur128Summary:
    integrated_lufs: float
    loudness_range_lu: float
    true_peak_dbtp: float


def ffmpeg_ebur128(path: Path) -> Ebur128Summary:
    stderr = ffmpeg("-i", str(path), "-map", "0:a:0", "-af", "ebur128=peak=true", "-f", "null", "-")
    summary = stderr[stderr.rindex("Summary:") :]

    def number(label: str) -> float:
        match = re.search(rf"{label}:\s+(-?[\d.]+|-inf)", summary)
        assert match, f"no {label} in ffmpeg summary:\n{summary}"
        return float(match.group(1))

    return Ebur128Summary(number("I"), number("LRA"), number("Peak"))


# --- material ------------------------------------------------------------------------------

# Speech-like: a voice-ish harmonic stack in 4 Hz syllables, with a pause every ~1.4 s.
SPEECH_EXPR = (
    "(0.3*sin(2*PI*150*t)+0.2*sin(2*PI*300*t)+0.12*sin(2*PI*450*t)+0.05*sin(2*PI*2500*t))"
    "*(0.55+0.45*sin(2*PI*4*t))*gt(sin(2*PI*0.7*t)+0.3\\,0)"
)
# Music-like: chords with tremolo and a swell, different in each channel.
MUSIC_LEFT = "(0.25*sin(2*PI*220*t)+0.15*sin(2*PI*277.2*t)+0.1*sin(2*PI*329.6*t)+0.04*sin(2*PI*3520*t))*(0.5+0.5*t/8)"
MUSIC_RIGHT = "(0.2*sin(2*PI*164.8*t)+0.15*sin(2*PI*246.9*t)+0.06*sin(2*PI*1975.5*t))*(0.7+0.3*sin(2*PI*0.4*t))"


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("meter_media")
    files: dict[str, Path] = {}
    files["noise_48k_stereo.wav"] = make(
        folder / "noise_48k_stereo.wav",
        "-f", "lavfi", "-i", "anoisesrc=d=8:c=pink:a=0.3:seed=11:r=48000",
        "-f", "lavfi", "-i", "anoisesrc=d=8:c=white:a=0.1:seed=12:r=48000",
        "-filter_complex", "[0][1]amerge=inputs=2,volume='if(lt(t,4),1,0.3)':eval=frame",
        "-c:a", "pcm_s16le",
    )
    files["music_44k_stereo.m4a"] = make(
        folder / "music_44k_stereo.m4a",
        "-f", "lavfi", "-i", f"aevalsrc={MUSIC_LEFT}|{MUSIC_RIGHT}:s=44100:d=8",
        "-c:a", "aac", "-b:a", "192k",
    )
    files["speech_96k_mono.flac"] = make(
        folder / "speech_96k_mono.flac",
        "-f", "lavfi", "-i", f"aevalsrc={SPEECH_EXPR}:s=96000:d=8",
        "-c:a", "flac", "-sample_fmt", "s32",
    )
    files["surround_48k_5.1.wav"] = make(
        folder / "surround_48k_5.1.wav",
        "-f", "lavfi", "-i", "anoisesrc=d=6:c=pink:a=0.2:seed=5:r=48000",
        "-f", "lavfi", "-i", "aevalsrc=0.5*sin(2*PI*50*t):s=48000:d=6",
        "-filter_complex",
        "[0]asplit=5[a][b][c][d][e];"
        "[b]adelay=13[b2];[c]adelay=29[c2];[d]adelay=41[d2];[e]adelay=53[e2];"
        "[a][b2][c2][1][d2][e2]join=inputs=6:channel_layout=5.1(side)",
        "-t", "6", "-c:a", "pcm_s24le",
    )
    # Inter-sample peaks: a quarter-sample-rate tone whose samples straddle its crests
    # (true peak 3 dB above the samples), over pink noise.
    files["bright_44k_stereo.wav"] = make(
        folder / "bright_44k_stereo.wav",
        "-f", "lavfi", "-i", "aevalsrc=0.4*sin(2*PI*11025*t+PI/4)|0.3*sin(2*PI*11025*t+PI/4):s=44100:d=6",
        "-f", "lavfi", "-i", "anoisesrc=d=6:c=pink:a=0.1:seed=3:r=44100",
        "-filter_complex", "[1]asplit[n1][n2];[n1][n2]amerge[n];[0][n]amix=inputs=2:normalize=0",
        "-c:a", "pcm_f32le",
    )
    files["talk_video.mp4"] = make(
        folder / "talk_video.mp4",
        "-f", "lavfi", "-i", "testsrc2=s=160x120:r=25:d=5",
        "-f", "lavfi", "-i", f"aevalsrc={SPEECH_EXPR}:s=48000:d=5",
        "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-b:a", "128k",
        "-movflags", "+faststart", "-shortest",
    )
    files["video_only.mp4"] = make(
        folder / "video_only.mp4",
        "-f", "lavfi", "-i", "testsrc2=s=160x120:r=25:d=1",
        "-c:v", "libx264", "-preset", "ultrafast",
    )
    return files


# --- cross-check against ffmpeg ebur128 -----------------------------------------------------


@pytest.mark.parametrize(
    "name", ["noise_48k_stereo.wav", "music_44k_stereo.m4a", "speech_96k_mono.flac",
             "surround_48k_5.1.wav", "bright_44k_stereo.wav", "talk_video.mp4"]
)
def test_agrees_with_ffmpeg_ebur128(media: dict[str, Path], name: str) -> None:
    path = media[name]
    ours = measure_file(path)
    reference = ffmpeg_ebur128(path)

    assert ours.integrated_lufs is not None
    assert ours.loudness_range_lu is not None
    assert ours.true_peak_dbtp is not None
    assert abs(ours.integrated_lufs - reference.integrated_lufs) <= INTEGRATED_TOLERANCE_LU, (
        ours.integrated_lufs, reference.integrated_lufs)
    assert abs(ours.loudness_range_lu - reference.loudness_range_lu) <= LRA_TOLERANCE_LU, (
        ours.loudness_range_lu, reference.loudness_range_lu)
    assert abs(ours.true_peak_dbtp - reference.true_peak_dbtp) <= TRUE_PEAK_TOLERANCE_DB, (
        ours.true_peak_dbtp, reference.true_peak_dbtp)


def test_file_properties_come_from_the_stream(media: dict[str, Path]) -> None:
    surround = measure_file(media["surround_48k_5.1.wav"])
    assert surround.channels == 6
    assert surround.channel_names == ("FL", "FR", "FC", "LFE", "SL", "SR")
    assert surround.sample_rate_hz == 48_000
    assert surround.duration_s == pytest.approx(6.0, abs=0.001)
    # The loud 50 Hz LFE tone (amplitude 0.5) is measured per channel but excluded
    # from the programme loudness.
    assert surround.channel_sample_peak_dbfs[3] == pytest.approx(20 * math.log10(0.5), abs=0.01)

    speech = measure_file(media["speech_96k_mono.flac"])
    assert (speech.channels, speech.sample_rate_hz) == (1, 96_000)
    assert len(speech.momentary_lufs) == 80

    video = measure_file(media["talk_video.mp4"])
    assert video.channels == 1
    assert video.duration_s == pytest.approx(5.0, abs=0.1)


@pytest.mark.parametrize(
    ("suffix", "codec_args"),
    [
        pytest.param(".wav", ["-c:a", "pcm_s16le"], id="s16"),
        pytest.param(".wav", ["-c:a", "pcm_s24le"], id="s24-as-s32"),
        pytest.param(".wav", ["-c:a", "pcm_s32le"], id="s32"),
        pytest.param(".wav", ["-c:a", "pcm_f32le"], id="flt"),
        pytest.param(".wav", ["-c:a", "pcm_f64le"], id="dbl"),
        pytest.param(".wav", ["-c:a", "pcm_u8"], id="u8"),
        pytest.param(".flac", ["-c:a", "flac"], id="flac-s16"),
        pytest.param(".m4a", ["-c:a", "alac"], id="alac-s16p-planar"),
        pytest.param(".m4a", ["-c:a", "aac", "-b:a", "192k"], id="aac-fltp-planar"),
    ],
)
def test_every_sample_format_is_scaled_to_full_scale(
    tmp_path: Path, suffix: str, codec_args: list[str]
) -> None:
    path = make(tmp_path / f"sine{suffix}", "-f", "lavfi", "-i", "sine=f=997:sample_rate=48000:d=3", *codec_args)
    result = measure_file(path)
    assert result.integrated_lufs is not None
    assert abs(result.integrated_lufs - ONE_CHANNEL_997HZ_LUFS) <= 0.1
    if "aac" not in codec_args:  # the lossy codec rings at the start; its peak is not the sine's
        # u8 has 1/128 steps: the peak sample is 16 +/- 0.5 steps.
        tolerance_db = 0.3 if "pcm_u8" in codec_args else 0.01
        assert result.sample_peak_dbfs is not None
        assert abs(result.sample_peak_dbfs - SINE_SOURCE_PEAK_DBFS) <= tolerance_db


def test_chunk_length_does_not_change_the_result(media: dict[str, Path]) -> None:
    path = media["noise_48k_stereo.wav"]
    small = measure_file(path, chunk_s=0.037)
    large = measure_file(path, chunk_s=5.0)
    assert small.integrated_lufs == pytest.approx(large.integrated_lufs, abs=1e-6)
    assert small.loudness_range_lu == pytest.approx(large.loudness_range_lu, abs=1e-6)
    assert small.true_peak_dbtp == pytest.approx(large.true_peak_dbtp, abs=1e-6)
    np.testing.assert_allclose(small.short_term_lufs, large.short_term_lufs, atol=1e-4)


def test_decoder_yields_float32_chunks_of_the_asked_length(media: dict[str, Path]) -> None:
    info, chunks = iter_audio_chunks(media["music_44k_stereo.m4a"], chunk_s=0.5)
    with chunks:
        blocks = list(chunks)
    assert info.sample_rate_hz == 44_100
    assert info.channel_names == ("FL", "FR")
    assert info.codec_name == "aac"
    assert all(b.dtype == np.float32 and b.ndim == 2 and b.shape[1] == 2 for b in blocks)
    # Whole AAC frames are gathered until at least 0.5 s is there.
    assert all(22_050 <= b.shape[0] < 22_050 + 2048 for b in blocks[:-1])
    assert sum(b.shape[0] for b in blocks) == pytest.approx(8 * 44_100, abs=2048)
    assert max(float(np.abs(b).max()) for b in blocks) <= 1.0


def test_stream_index_selects_a_container_stream(media: dict[str, Path]) -> None:
    path = media["talk_video.mp4"]
    info, chunks = iter_audio_chunks(path)
    chunks.close()
    assert info.stream_index == 1  # the video is stream 0
    assert measure_file(path, stream_index=1).integrated_lufs == pytest.approx(
        measure_file(path).integrated_lufs, abs=1e-9
    )
    with pytest.raises(InputError, match="stream 0 is video, not audio"):
        measure_file(path, stream_index=0)
    with pytest.raises(InputError, match="no stream 5"):
        measure_file(path, stream_index=5)


# --- unusable files -------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "gone.wav"
    with pytest.raises(InputError, match="file not found") as caught:
        measure_file(missing)
    assert caught.value.file == str(missing)
    assert caught.value.field == "audio"


def test_text_file_named_wav(tmp_path: Path) -> None:
    fake = tmp_path / "notes.wav"
    fake.write_text("these are meeting notes, not audio\n" * 20)
    with pytest.raises(InputError, match="not a media file") as caught:
        measure_file(fake)
    assert caught.value.file == str(fake)


def test_video_without_audio(media: dict[str, Path]) -> None:
    with pytest.raises(InputError, match="no audio stream") as caught:
        measure_file(media["video_only.mp4"])
    assert caught.value.field == "audio"


def truncate(source: Path, target: Path, fraction: float) -> Path:
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * fraction)])
    return target


def test_truncated_wav(media: dict[str, Path], tmp_path: Path) -> None:
    cut = truncate(media["surround_48k_5.1.wav"], tmp_path / "cut.wav", 0.4)
    with pytest.raises(InputError, match="truncated") as caught:
        measure_file(cut)
    assert caught.value.file == str(cut)


def test_truncated_mp4_with_index_in_front(media: dict[str, Path], tmp_path: Path) -> None:
    cut = truncate(media["talk_video.mp4"], tmp_path / "cut.mp4", 0.3)
    with pytest.raises(InputError, match="truncated"):
        measure_file(cut)


def test_truncated_mp4_that_lost_its_index(tmp_path: Path) -> None:
    # Without +faststart the index (moov) is written last: a cut file has none.
    whole = make(
        tmp_path / "whole.m4a", "-f", "lavfi", "-i", "sine=f=997:sample_rate=48000:d=3", "-c:a", "aac"
    )
    cut = truncate(whole, tmp_path / "cut.m4a", 0.5)
    with pytest.raises(InputError, match="not a media file"):
        measure_file(cut)
