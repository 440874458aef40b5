"""The loudness meter against EBU Tech 3341 / Tech 3342 and ITU-R BS.1770-4, on synthesized signals.

Every expected value comes from the published test-signal descriptions or from how the
signal is built (a sine of peak amplitude A has mean square A^2 / 2; BS.1770 reads a
0 dBFS 997 Hz sine in one channel as -3.01 LUFS; weights L, R, C = 1, Ls, Rs = 1.41,
LFE = 0), never from the meter's own output.

Levels "dBFS" in the EBU descriptions are sine peak levels; a stereo 1 kHz sine at
X dBFS in both channels reads X LUFS.

Tech 3341 (2016, V3; the 2023 edition changed only editing) Table 1 cases covered here:
1-6, 9-19 (cases 10/13 are the "file-based" bursts, 11/14 the "live" ones read mid-stream).
Not here: cases 7 and 8 (Tech 3342 cases 5 and 6), which are recorded programme that no
description defines, and cases 20-23, whose signal passes through an anti-aliasing
filter the standard does not specify.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import scipy.signal

from pipeline.audio.kweighting import KWeightingFilter, loudness_offset_db
from pipeline.audio.meter import LoudnessMeter, measure_array

FS = 48_000
EBU_LOUDNESS_TOLERANCE_LU = 0.1  # Tech 3341: M, S, I within +/-0.1 LU
EBU_LRA_TOLERANCE_LU = 1.0  # Tech 3342: LRA within +/-1 LU
TP_ABOVE_DB, TP_BELOW_DB = 0.2, 0.4  # Tech 3341: true peak within +0.2 / -0.4 dB
MONO_BELOW_STEREO_DB = 10 * math.log10(2)  # one channel instead of two equal ones


def sine(level_dbfs: float, duration_s: float, *, fs: int = FS, freq_hz: float = 1000.0,
         channels: int = 2, phase_deg: float = 0.0) -> np.ndarray:
    """A sine of peak level `level_dbfs`, identical in `channels` channels."""
    n = np.arange(int(round(duration_s * fs)))
    wave = 10 ** (level_dbfs / 20) * np.sin(2 * np.pi * freq_hz * n / fs + np.deg2rad(phase_deg))
    return np.repeat(wave[:, np.newaxis], channels, axis=1)


def sequence(*segments: tuple[float, float], fs: int = FS) -> np.ndarray:
    """Stereo 1 kHz sine segments (level_dbfs, duration_s) back to back."""
    return np.concatenate([sine(level, duration, fs=fs) for level, duration in segments])


def silence(duration_s: float, *, fs: int = FS) -> np.ndarray:
    return np.zeros((int(round(duration_s * fs)), 2))


def burst(silence_before_s: float, level_dbfs: float, tone_s: float, silence_after_s: float,
          *, fs: int = FS) -> np.ndarray:
    """Stereo silence, a 1 kHz tone starting at phase 0, silence: one Tech 3341 burst segment."""
    return np.concatenate([silence(silence_before_s, fs=fs), sine(level_dbfs, tone_s, fs=fs),
                           silence(silence_after_s, fs=fs)])


def assert_within(measured: float | None, expected: float, tolerance: float) -> None:
    assert measured is not None, f"expected {expected}, measured None"
    assert abs(measured - expected) <= tolerance, f"measured {measured:.4f}, expected {expected} +/- {tolerance}"


# --- EBU Tech 3341 -----------------------------------------------------------------------


@pytest.mark.parametrize("level_dbfs", [-23.0, -33.0])
def test_3341_cases_1_2_constant_sine_reads_its_level_on_m_s_and_i(level_dbfs: float) -> None:
    result = measure_array(sequence((level_dbfs, 20.0)), FS)

    assert_within(result.integrated_lufs, level_dbfs, EBU_LOUDNESS_TOLERANCE_LU)
    assert_within(result.max_momentary_lufs, level_dbfs, EBU_LOUDNESS_TOLERANCE_LU)
    assert_within(result.max_short_term_lufs, level_dbfs, EBU_LOUDNESS_TOLERANCE_LU)
    # Once a window is full, every reading is the level (one value per 100 ms).
    assert len(result.momentary_lufs) == len(result.short_term_lufs) == 200
    assert np.all(np.abs(result.momentary_lufs[3:] - level_dbfs) <= EBU_LOUDNESS_TOLERANCE_LU)
    assert np.all(np.abs(result.short_term_lufs[29:] - level_dbfs) <= EBU_LOUDNESS_TOLERANCE_LU)


@pytest.mark.parametrize(
    "segments",
    [
        pytest.param([(-36, 10), (-23, 60), (-36, 10)], id="case3-relative-gate"),
        pytest.param([(-72, 10), (-36, 10), (-23, 60), (-36, 10), (-72, 10)], id="case4-both-gates"),
        pytest.param([(-26, 20), (-20, 20.1), (-26, 20)], id="case5-gated-average"),
    ],
)
def test_3341_cases_3_4_5_gating_gives_minus_23(segments: list[tuple[float, float]]) -> None:
    result = measure_array(sequence(*segments), FS)
    assert_within(result.integrated_lufs, -23.0, EBU_LOUDNESS_TOLERANCE_LU)


def test_3341_case_6_five_channels_use_bs1770_weights() -> None:
    # L, R at -28 dBFS, C at -24 dBFS, Ls, Rs at -30 dBFS: -23 LUFS only if the
    # surrounds get +1.5 dB (weight 1.41).
    levels = {"L": -28.0, "R": -28.0, "C": -24.0, "Ls": -30.0, "Rs": -30.0}
    signal = np.column_stack([sine(level, 20.0, channels=1)[:, 0] for level in levels.values()])
    result = measure_array(signal, FS, channel_names=list(levels))
    assert_within(result.integrated_lufs, -23.0, EBU_LOUDNESS_TOLERANCE_LU)


def test_3341_case_9_short_term_is_constant_over_alternating_bursts() -> None:
    # 1.34 s at -20 dBFS then 1.66 s at -30 dBFS, five times: any 3 s window holds one
    # period, whose energy average is -23 LUFS.
    result = measure_array(sequence(*[(-20, 1.34), (-30, 1.66)] * 5), FS)
    full_windows = result.short_term_lufs[29:]
    assert full_windows.size == 121
    assert np.all(np.abs(full_windows - -23.0) <= EBU_LOUDNESS_TOLERANCE_LU)


@pytest.mark.parametrize("i", range(20))
def test_3341_case_10_max_short_term_of_a_3_s_burst_at_any_start(i: int) -> None:
    # (i * 0.15 s of silence; 3 s at -23 dBFS; 1 s of silence): the 3 s window that holds
    # exactly the burst reads -23 LUFS wherever the burst starts.
    result = measure_array(burst(i * 0.15, -23.0, 3.0, 1.0), FS)
    assert_within(result.max_short_term_lufs, -23.0, EBU_LOUDNESS_TOLERANCE_LU)


def test_3341_case_11_live_max_short_term_reads_each_burst() -> None:
    # (i * 0.15 s of silence; 3 s at -38 + i dBFS; 3 - i * 0.15 s of silence), i = 0..19,
    # read after each 6 s segment. Each burst is 1 dB louder than the one before and no
    # 3 s window reaches two bursts (3.15 s apart), so the running maximum after segment
    # i is burst i's level.
    meter = LoudnessMeter(FS, 2)
    readings = []
    for i in range(20):
        meter.add(burst(i * 0.15, -38.0 + i, 3.0, 3.0 - i * 0.15))
        readings.append(meter.result().max_short_term_lufs)
    for i, reading in enumerate(readings):
        assert_within(reading, -38.0 + i, EBU_LOUDNESS_TOLERANCE_LU)


def test_3341_case_12_momentary_is_constant_over_alternating_bursts() -> None:
    # (0.18 s at -20 dBFS; 0.22 s at -30 dBFS) 25 times: every 400 ms window holds one
    # period, 10 * log10((0.18 * 10^-2 + 0.22 * 10^-3) / 0.4) = -22.97 LUFS.
    result = measure_array(sequence(*[(-20, 0.18), (-30, 0.22)] * 25), FS)
    after_one_second = result.momentary_lufs[9:]  # value k is the window ending at (k + 1) * 0.1 s
    assert after_one_second.size == 91
    assert np.all(np.abs(after_one_second - -23.0) <= EBU_LOUDNESS_TOLERANCE_LU)
    assert_within(result.max_momentary_lufs, -23.0, EBU_LOUDNESS_TOLERANCE_LU)


@pytest.mark.parametrize("i", range(20))
def test_3341_case_13_max_momentary_of_a_400_ms_burst_at_any_start(i: int) -> None:
    # (i * 20 ms of silence; 400 ms at -23 dBFS; 1 s of silence): only the one 400 ms
    # window that holds exactly the burst reads -23 LUFS; a window 20 ms off reads
    # 10 * log10(380 / 400) = -0.22 LU less.
    result = measure_array(burst(i * 0.02, -23.0, 0.4, 1.0), FS)
    assert_within(result.max_momentary_lufs, -23.0, EBU_LOUDNESS_TOLERANCE_LU)


SUB_BLOCK_OFFSETS_MS = (0, 13, 37, 50, 71, 99)


@pytest.mark.parametrize("fs", [48_000, 44_100])
def test_3341_case_13_burst_reads_the_same_at_any_offset_from_the_100_ms_grid(fs: int) -> None:
    # The case 13 burst starting 0..99 ms after a sub-block boundary: the maximum
    # momentary must not depend on where the burst falls on the 100 ms reporting grid.
    maxima = {}
    for offset_ms in SUB_BLOCK_OFFSETS_MS:
        signal = burst(1.0 + offset_ms / 1000, -23.0, 0.4, 1.0, fs=fs)
        maxima[offset_ms] = measure_array(signal, fs).max_momentary_lufs
        assert_within(maxima[offset_ms], -23.0, EBU_LOUDNESS_TOLERANCE_LU)
    # The K-weighting is time-invariant, so the best window's content is the same
    # whatever the offset: the readings agree far inside the tolerance.
    assert max(maxima.values()) - min(maxima.values()) <= 0.01, maxima


@pytest.mark.parametrize("offset_ms", SUB_BLOCK_OFFSETS_MS)
def test_3341_case_10_burst_reads_the_same_at_any_offset_from_the_100_ms_grid(offset_ms: int) -> None:
    result = measure_array(burst(1.0 + offset_ms / 1000, -23.0, 3.0, 1.0), FS)
    assert_within(result.max_short_term_lufs, -23.0, EBU_LOUDNESS_TOLERANCE_LU)


def test_3341_case_14_live_max_momentary_reads_each_burst() -> None:
    # (i * 20 ms of silence; 400 ms at -38 + i dBFS; 400 - i * 20 ms of silence), i = 0..19,
    # read after each 800 ms segment; bursts are 420 ms apart, so as in case 11 the
    # running maximum after segment i is burst i's level.
    meter = LoudnessMeter(FS, 2)
    readings = []
    for i in range(20):
        meter.add(burst(i * 0.02, -38.0 + i, 0.4, 0.4 - i * 0.02))
        readings.append(meter.result().max_momentary_lufs)
    for i, reading in enumerate(readings):
        assert_within(reading, -38.0 + i, EBU_LOUDNESS_TOLERANCE_LU)


def tapered_tone(fs: int, cycles_per_sample: float, peak: float, phase_deg: float) -> np.ndarray:
    """1 s stereo tone with 10 ms raised-cosine fades, as in the Tech 3341 peak signals."""
    n = np.arange(fs)
    wave = peak * np.sin(2 * np.pi * cycles_per_sample * n + np.deg2rad(phase_deg))
    fade = int(0.01 * fs)
    window = np.hanning(2 * fade)
    wave[:fade] *= window[:fade]
    wave[-fade:] *= window[fade:]
    return np.column_stack([wave, wave])


@pytest.mark.parametrize("fs", [44_100, 48_000, 96_000])
@pytest.mark.parametrize(
    ("cycles_per_sample", "phase_deg", "peak", "expected_dbtp"),
    [
        pytest.param(1 / 4, 0.0, 0.5, -6.0, id="case15-fs/4"),
        pytest.param(1 / 4, 45.0, 0.5, -6.0, id="case16-fs/4-45deg"),
        pytest.param(1 / 6, 60.0, 0.5, -6.0, id="case17-fs/6-60deg"),
        pytest.param(1 / 8, 67.5, 0.5, -6.0, id="case18-fs/8-67.5deg"),
        pytest.param(1 / 4, 45.0, 1.41, 3.0, id="case19-fs/4-45deg-over-full-scale"),
    ],
)
def test_3341_cases_15_to_19_true_peak(
    fs: int, cycles_per_sample: float, phase_deg: float, peak: float, expected_dbtp: float
) -> None:
    result = measure_array(tapered_tone(fs, cycles_per_sample, peak, phase_deg), fs)

    assert result.true_peak_dbtp is not None
    assert expected_dbtp - TP_BELOW_DB <= result.true_peak_dbtp <= expected_dbtp + TP_ABOVE_DB
    # The samples themselves miss the crest by the phase offset: the meter must find
    # what lies between them.
    samples_per_cycle = round(1 / cycles_per_sample)
    sample_angles = np.deg2rad(phase_deg + 360.0 * np.arange(samples_per_cycle) / samples_per_cycle)
    expected_sample_peak = 20 * math.log10(peak * np.abs(np.sin(sample_angles)).max())
    assert_within(result.sample_peak_dbfs, expected_sample_peak, 0.01)
    for channel_tp in result.channel_true_peak_dbtp:
        assert channel_tp is not None
        assert expected_dbtp - TP_BELOW_DB <= channel_tp <= expected_dbtp + TP_ABOVE_DB


# --- EBU Tech 3342 -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("segments", "expected_lra"),
    [
        pytest.param([(-20, 20), (-30, 20)], 10.0, id="case1"),
        pytest.param([(-20, 20), (-15, 20)], 5.0, id="case2"),
        pytest.param([(-40, 20), (-20, 20)], 20.0, id="case3"),
        pytest.param([(-50, 20), (-35, 20), (-20, 20), (-35, 20), (-50, 20)], 15.0, id="case4-relative-gate"),
    ],
)
@pytest.mark.parametrize("repeats", [1, 2])
def test_3342_loudness_range(segments: list[tuple[float, float]], expected_lra: float, repeats: int) -> None:
    # Tech 3342: "the expected response is unchanged if the test signal is repeated one
    # or more times in its full length".
    result = measure_array(np.concatenate([sequence(*segments)] * repeats), FS)
    assert_within(result.loudness_range_lu, expected_lra, EBU_LRA_TOLERANCE_LU)


# --- BS.1770 anchors, channels and rates -------------------------------------------------


def test_997_hz_full_scale_in_one_channel_reads_minus_3_01_lufs() -> None:
    # The definition of BS.1770's -0.691 dB constant.
    result = measure_array(sine(0.0, 5.0, freq_hz=997.0, channels=1), FS)
    assert_within(result.integrated_lufs, -3.01, 0.01)


def test_mono_is_one_channel_of_weight_one() -> None:
    result = measure_array(sine(-23.0, 10.0, channels=1)[:, 0], FS)
    assert result.channels == 1
    assert_within(result.integrated_lufs, -23.0 - MONO_BELOW_STEREO_DB, EBU_LOUDNESS_TOLERANCE_LU)


def test_five_one_excludes_lfe_and_weights_surrounds() -> None:
    names = ["FL", "FR", "FC", "LFE", "SL", "SR"]
    silent = np.zeros(10 * FS)
    tone = sine(-23.0, 10.0, channels=1)[:, 0]
    loud_lfe = sine(-3.0, 10.0, freq_hz=60.0, channels=1)[:, 0]

    only_lfe = measure_array(np.column_stack([silent, silent, silent, loud_lfe, silent, silent]), FS, names)
    assert only_lfe.integrated_lufs is None  # weight 0: nothing reaches the gate
    assert only_lfe.channel_integrated_lufs[3] is not None  # but the channel itself is measured

    only_ls = measure_array(np.column_stack([silent, silent, silent, silent, tone, silent]), FS, names)
    assert_within(only_ls.integrated_lufs, -23.0 - MONO_BELOW_STEREO_DB + 10 * math.log10(1.41), 0.1)

    centre_plus_lfe = measure_array(np.column_stack([silent, silent, tone, loud_lfe, silent, silent]), FS, names)
    assert_within(centre_plus_lfe.integrated_lufs, -23.0 - MONO_BELOW_STEREO_DB, 0.1)


def test_broadcast_channel_aliases_mean_the_same_channels() -> None:
    signal = np.column_stack([sine(level, 5.0, channels=1)[:, 0] for level in (-30, -30, -25, -20, -33, -33)])
    by_alias = measure_array(signal, FS, ["L", "R", "C", "LFE", "Ls", "Rs"])
    by_ffmpeg_name = measure_array(signal, FS, ["FL", "FR", "FC", "LFE", "SL", "SR"])
    by_count = measure_array(signal, FS)
    assert by_alias.channel_names == by_ffmpeg_name.channel_names == by_count.channel_names
    assert by_alias.integrated_lufs == pytest.approx(by_ffmpeg_name.integrated_lufs, abs=1e-9)
    assert by_alias.integrated_lufs == pytest.approx(by_count.integrated_lufs, abs=1e-9)


def test_per_channel_values_show_an_imbalance() -> None:
    signal = np.column_stack([sine(-23.0, 10.0, channels=1)[:, 0], sine(-29.0, 10.0, channels=1)[:, 0]])
    result = measure_array(signal, FS)
    left, right = result.channel_integrated_lufs
    assert_within(left, -23.0 - MONO_BELOW_STEREO_DB, 0.1)
    assert_within(right, -29.0 - MONO_BELOW_STEREO_DB, 0.1)
    assert result.channel_sample_peak_dbfs[0] == pytest.approx(-23.0, abs=0.01)
    assert result.channel_sample_peak_dbfs[1] == pytest.approx(-29.0, abs=0.01)


@pytest.mark.parametrize("fs", [44_100, 96_000, 11_025])
def test_other_sample_rates_read_the_same(fs: int) -> None:
    # 11025 Hz has 1102.5 samples per 100 ms: sub-blocks alternate 1102 and 1103.
    freq_hz = 1000.0
    constant = measure_array(sine(-23.0, 20.0, fs=fs, freq_hz=freq_hz), fs)
    assert_within(constant.integrated_lufs, -23.0, EBU_LOUDNESS_TOLERANCE_LU)
    assert len(constant.momentary_lufs) == 200
    steps = measure_array(sequence((-20, 20), (-30, 20), fs=fs), fs)
    assert_within(steps.loudness_range_lu, 10.0, EBU_LRA_TOLERANCE_LU)


def test_burst_maxima_follow_window_lengths() -> None:
    # A 1 s burst at -20 LUFS in silence, on the 100 ms grid: the 400 ms window can sit
    # inside it, the 3 s window holds all of it plus 2 s of silence.
    signal = np.concatenate([np.zeros((5 * FS, 2)), sequence((-20.0, 1.0)), np.zeros((5 * FS, 2))])
    result = measure_array(signal, FS)
    assert_within(result.max_momentary_lufs, -20.0, 0.1)
    assert_within(result.max_short_term_lufs, -20.0 + 10 * math.log10(1 / 3), 0.1)
    # Gating blocks touching the burst: 7 lie inside it, 6 hold 1/4, 2/4, 3/4 of it at
    # either edge (all above the relative gate), the rest are silent: 10 burst-blocks of
    # energy over 13 blocks.
    assert_within(result.integrated_lufs, -20.0 + 10 * math.log10(10 / 13), 0.1)
    # Digital silence before the burst reads -inf, never NaN.
    assert np.all(np.isneginf(result.momentary_lufs[:45]))
    assert not np.isnan(result.momentary_lufs).any()


# --- silence, short input, streaming ------------------------------------------------------


def test_digital_silence_gives_none_everywhere() -> None:
    result = measure_array(np.zeros((5 * FS, 2)), FS)
    assert result.integrated_lufs is None
    assert result.loudness_range_lu is None
    assert result.true_peak_dbtp is None
    assert result.sample_peak_dbfs is None
    assert result.max_momentary_lufs is None
    assert result.max_short_term_lufs is None
    assert result.channel_integrated_lufs == (None, None)
    assert result.channel_true_peak_dbtp == (None, None)
    assert np.all(np.isneginf(result.momentary_lufs))
    assert result.duration_s == 5.0


def test_signal_below_the_absolute_gate_has_peaks_but_no_loudness() -> None:
    result = measure_array(sequence((-80.0, 5.0)), FS)
    assert result.integrated_lufs is None
    assert result.loudness_range_lu is None
    assert_within(result.sample_peak_dbfs, -80.0, 0.01)
    assert_within(result.true_peak_dbtp, -80.0, 0.05)


def test_shorter_than_one_gating_block_has_no_integrated_loudness() -> None:
    result = measure_array(sequence((-23.0, 0.35)), FS)
    assert result.integrated_lufs is None
    assert len(result.momentary_lufs) == 3
    assert result.loudness_range_lu is None
    assert_within(result.sample_peak_dbfs, -23.0, 0.01)


def programme_like(seconds: float, seed: int = 7) -> np.ndarray:
    """Noise with a slow envelope, a silent gap and an over-range click."""
    rng = np.random.default_rng(seed)
    n = int(seconds * FS)
    t = np.arange(n) / FS
    envelope = 0.05 + 0.2 * (1 + np.sin(2 * np.pi * 0.3 * t)) / 2
    signal = rng.standard_normal((n, 2)) * envelope[:, np.newaxis]
    signal[int(2.0 * FS) : int(2.7 * FS)] = 0.0
    signal[int(4.1 * FS), 0] = 0.99
    return signal


def test_any_chunking_gives_the_same_result() -> None:
    signal = programme_like(8.0)
    whole = measure_array(signal, FS)

    rng = np.random.default_rng(3)
    meter = LoudnessMeter(FS, 2)
    position = 0
    # Single samples, primes, odd sizes straddling every sub-block boundary.
    for size in [1, 1, 1, 2, 3, 997, 4799, 4801, 1]:
        meter.add(signal[position : position + size])
        position += size
    while position < len(signal):
        size = int(rng.integers(1, 30_000))
        meter.add(signal[position : position + size])
        position += size
    streamed = meter.result()

    for name in ("integrated_lufs", "loudness_range_lu", "true_peak_dbtp", "sample_peak_dbfs",
                 "max_momentary_lufs", "max_short_term_lufs", "duration_s"):
        assert getattr(streamed, name) == pytest.approx(getattr(whole, name), abs=1e-6), name
    np.testing.assert_allclose(streamed.momentary_lufs, whole.momentary_lufs, atol=1e-4)
    np.testing.assert_allclose(streamed.short_term_lufs, whole.short_term_lufs, atol=1e-4)
    np.testing.assert_allclose(streamed.channel_true_peak_dbtp, whole.channel_true_peak_dbtp, atol=1e-6)
    np.testing.assert_allclose(streamed.channel_integrated_lufs, whole.channel_integrated_lufs, atol=1e-6)


def test_maxima_are_the_loudest_windows_ending_at_any_sample() -> None:
    # Brute force by another route: K-weight the whole signal in one call, sum the
    # 400 ms and 3 s windows ending at every sample (silence before the start) by FFT
    # convolution, take the loudest. The meter must find the same windows, not the
    # loudest of those that end on its 100 ms grid.
    signal = programme_like(8.0)
    power = np.square(KWeightingFilter(FS, 2).process(signal)).sum(axis=1)  # L, R weights 1
    result = measure_array(signal, FS)
    for window_s, measured, series in ((0.4, result.max_momentary_lufs, result.momentary_lufs),
                                       (3.0, result.max_short_term_lufs, result.short_term_lufs)):
        window = round(window_s * FS)
        sums = scipy.signal.fftconvolve(power, np.ones(window))[: power.size]
        expected = loudness_offset_db(FS) + 10 * math.log10(sums.max() / window)
        assert measured == pytest.approx(expected, abs=1e-6)
        assert measured >= float(series.max())


def test_result_can_be_read_mid_stream() -> None:
    signal = sequence((-30.0, 5.0), (-20.0, 5.0))
    meter = LoudnessMeter(FS, 2)
    meter.add(signal[: 5 * FS])
    early = meter.result()
    meter.add(signal[5 * FS :])
    late = meter.result()
    assert_within(early.integrated_lufs, -30.0, 0.1)
    assert late.integrated_lufs is not None and late.integrated_lufs > -24.0
    assert late.duration_s == 10.0


def test_true_peak_counts_the_interpolated_tail_after_the_last_sample() -> None:
    # A stream that stops on two equal samples straddling a crest: the peak lies between
    # them even though the next sample never arrives.
    peak = 0.5
    tone = peak * np.sin(2 * np.pi * 0.25 * np.arange(FS) + np.pi / 4)
    fade = np.hanning(2 * 4800)[:4800]
    tone[:4800] *= fade
    result = measure_array(np.column_stack([tone, tone]), FS)
    assert result.true_peak_dbtp is not None
    assert -6.02 - TP_BELOW_DB <= result.true_peak_dbtp <= -6.02 + TP_ABOVE_DB
    assert result.true_peak_dbtp > result.sample_peak_dbfs + 2.0


# --- API contract ------------------------------------------------------------------------


def test_to_dict_is_json_ready_and_rounded() -> None:
    result = measure_array(np.concatenate([np.zeros((FS, 2)), sequence((-23.0, 4.0))]), FS)
    plain = result.to_dict()
    assert "momentary_lufs" not in plain
    assert result.integrated_lufs is not None
    assert plain["integrated_lufs"] == round(result.integrated_lufs, 2)
    assert plain["channel_integrated_lufs"] == [round(v, 2) for v in result.channel_integrated_lufs]
    assert plain["channel_names"] == ["FL", "FR"]
    with_series = result.to_dict(include_series=True)
    assert with_series["step_s"] == 0.1
    assert len(with_series["momentary_lufs"]) == 50
    assert with_series["momentary_lufs"][0] is None  # silence: -inf becomes null
    json.dumps(with_series, allow_nan=False)


def test_bad_input_is_refused() -> None:
    meter = LoudnessMeter(FS, 2)
    with pytest.raises(ValueError, match="shape"):
        meter.add(np.zeros((100, 3)))
    with pytest.raises(ValueError, match="float"):
        meter.add(np.zeros((100, 2), dtype=np.int16))
    bad = np.zeros((100, 2))
    bad[10, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        meter.add(bad)
