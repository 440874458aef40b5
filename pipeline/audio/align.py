"""How a separate recorder's clock maps onto the camera's (pure numpy math, no files).

The model: recorder time = offset_s + (1 + drift_ppm / 1e6) * camera time, where camera
time 0 is the start of the camera file and recorder time 0 is the recorder file's first
sample, both counted at their nominal sample rates. A positive offset means the recorder
was started before the camera.

Both sounds come in mono at ANALYSIS_RATE_HZ (anything that reads in slices: a reader of
a spool on disk keeps memory flat whatever the duration). The estimate has three steps:

1. coarse: the loudness envelopes (10 ms steps) of a few one-minute stretches of the
   camera sound are searched for in the recorder's whole envelope, and the other way
   round (normalized cross-correlation, FFT); the best match anchors the search. Envelopes do not care
   that a lavalier and a phone microphone colour the voice differently.
2. fine: short windows every few seconds over the whole overlap are matched sample by
   sample (GCC-PHAT in the speech band: whitening keeps the voice's pitch periodicity
   from making neighbouring peaks look as good as the true one), each searched near the
   lag the windows found so far predict (so any plausible drift is tracked), and placed
   to a fraction of a sample by a parabola through the peak.
3. fit: a line through the windows' lags (a robust start, then least squares on the
   windows within INLIER_TOLERANCE_S of it): its value at 0 is the offset, its slope the
   drift.

Confidence is the share of usable (not silent) windows that agree with the line; an
unrelated recording gives dull peaks at scattered lags, silence gives no usable windows,
and both are refused with the reason."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal

ANALYSIS_RATE_HZ = 8000
ENVELOPE_STEP_S = 0.01
COARSE_WINDOW_S = 60.0
COARSE_WINDOWS = 5
FINE_WINDOW_S = 4.0
FINE_STEP_S = 10.0  # every 10 s: 30 windows over a 5-minute take
MIN_FINE_WINDOWS = 8  # short takes get denser windows
# Around the predicted lag: the coarse envelope's uncertainty, plus what a recorder
# drifting MAX_DRIFT_PPM can move between the nearest measured window and this one.
SEARCH_MARGIN_S = 0.04
MAX_DRIFT_PPM = 1000.0
SPEECH_BAND_HZ = (150.0, 3800.0)
SILENT_RMS = 10 ** (-55 / 20)
# A window's peak is a candidate when it stands this many standard deviations above the
# rest of its search range. Unrelated sound peaks at 4.4 (median; 6.0 at most over 40
# windows); the same speech through a phone in a room and a dry lavalier at 4.5-13, the
# synthesized test scenes at about 20: a single window proves little either way, the
# agreement of many on one line does.
MIN_PEAK_SHARPNESS = 6.0
INLIER_TOLERANCE_S = 0.0015
MIN_AGREEING_WINDOWS = 4
# Of the candidate windows, this share must sit on the line...
MIN_AGREEING_SHARE = 0.6
# ...and of all windows where both carry sound, this share (long stretches of footsteps
# or traffic with no voice match nothing, and that is no reason to refuse).
MIN_CONFIDENCE = 0.25
MIN_OVERLAP_S = 8.0


@dataclass(frozen=True)
class WindowLag:
    """One fine window: its centre on the camera's clock, the lag found there
    (recorder time minus camera time), and how sharp its peak was (standard deviations
    above the rest of the search range)."""

    camera_s: float
    lag_s: float
    sharpness: float


@dataclass(frozen=True)
class Alignment:
    """Where a recorder's sound sits on the camera's clock, and how sure we are."""

    offset_s: float
    drift_ppm: float
    confidence: float
    windows_used: int
    windows_usable: int
    residual_ms: float
    median_sharpness: float
    camera_duration_s: float
    recorder_duration_s: float

    @property
    def rate_factor(self) -> float:
        """Recorder seconds per camera second."""
        return 1.0 + self.drift_ppm * 1e-6

    def recorder_time_s(self, camera_s: float) -> float:
        return self.offset_s + self.rate_factor * camera_s

    def camera_time_s(self, recorder_s: float) -> float:
        return (recorder_s - self.offset_s) / self.rate_factor

    def coverage_s(self) -> tuple[float, float]:
        """The part of the camera's clock the recorder covers."""
        start = max(0.0, self.camera_time_s(0.0))
        end = min(self.camera_duration_s, self.camera_time_s(self.recorder_duration_s))
        return start, max(start, end)

    def to_dict(self) -> dict[str, object]:
        start, end = self.coverage_s()
        return {
            "offset_s": round(self.offset_s, 5),
            "drift_ppm": round(self.drift_ppm, 2),
            "confidence": round(self.confidence, 3),
            "windows_used": self.windows_used,
            "windows_usable": self.windows_usable,
            "residual_ms": round(self.residual_ms, 3),
            "median_peak_sharpness": round(self.median_sharpness, 1),
            "covers_camera_s": [round(start, 3), round(end, 3)],
        }


class AlignmentRefused(ValueError):
    """The two sounds cannot be aligned with confidence; the message says why."""


def build_band_filter(rate_hz: int = ANALYSIS_RATE_HZ) -> np.ndarray:
    low, high = SPEECH_BAND_HZ
    return signal.butter(4, [low, min(high, 0.45 * rate_hz)], btype="bandpass", fs=rate_hz, output="sos")


def build_envelope(
    samples: np.ndarray, rate_hz: int = ANALYSIS_RATE_HZ, *, block_s: float = 60.0
) -> tuple[np.ndarray, float]:
    """Log energy of the speech band in ENVELOPE_STEP_S steps, read block by block (the
    band filter's state carried over), with its slow trend removed so onsets count; and
    the RMS of the loudest step."""
    step = round(ENVELOPE_STEP_S * rate_hz)
    sos = build_band_filter(rate_hz)
    state = signal.sosfilt_zi(sos) * 0.0
    block = round(block_s * rate_hz) // step * step
    parts = []
    for start in range(0, len(samples) // step * step, block):
        chunk = np.asarray(samples[start:start + block], dtype=np.float64)
        chunk = chunk[: len(chunk) // step * step]
        filtered, state = signal.sosfilt(sos, chunk, zi=state)
        parts.append(np.square(filtered).reshape(-1, step).mean(axis=1))
    energy = np.concatenate(parts) if parts else np.zeros(0)
    envelope = np.log10(energy + 1e-9)
    trend = signal.convolve(envelope, np.ones(101) / 101, mode="same") if len(envelope) > 101 else envelope.mean()
    return envelope - trend, float(np.sqrt(energy.max())) if len(energy) else 0.0


def _normalized_xcorr(needle: np.ndarray, haystack: np.ndarray) -> np.ndarray:
    """Pearson correlation of `needle` with every same-length stretch of `haystack`
    (index k: haystack[k:k+len(needle)])."""
    n = len(needle)
    needle = needle - needle.mean()
    norm_needle = np.sqrt(np.square(needle).sum())
    raw = signal.correlate(haystack, needle, mode="valid", method="fft")
    csum = np.concatenate([[0.0], np.cumsum(haystack)])
    csum2 = np.concatenate([[0.0], np.cumsum(np.square(haystack))])
    sums = csum[n:] - csum[:-n]
    energy = np.maximum(csum2[n:] - csum2[:-n] - np.square(sums) / n, 1e-12)
    return raw / (norm_needle * np.sqrt(energy) + 1e-12)


def _best_match_steps(needles: np.ndarray, haystack: np.ndarray) -> tuple[int, float]:
    """(haystack index minus needles index, correlation) of the best match of a few
    one-minute stretches of `needles` in `haystack`, which a stretch may overhang by half."""
    window = min(round(COARSE_WINDOW_S / ENVELOPE_STEP_S), len(needles))
    count = max(1, min(COARSE_WINDOWS, len(needles) // max(1, window)))
    starts = np.linspace(0, len(needles) - window, count).round().astype(int)
    pad = window // 2
    padded = np.concatenate([np.zeros(pad), haystack, np.zeros(pad)])
    best = (0, -1.0)
    for start in starts:
        needle = needles[start:start + window]
        if needle.std() < 1e-6 or len(padded) < len(needle):
            continue
        scores = _normalized_xcorr(needle, padded)
        k = int(np.argmax(scores))
        if scores[k] > best[1]:
            best = (k - pad - int(start), float(scores[k]))
    return best


def find_coarse_lag_s(camera_envelope: np.ndarray, recorder_envelope: np.ndarray) -> tuple[float, float]:
    """(lag_s, correlation): where the camera's sound is in the recorder's, searched both
    ways (camera stretches in the recorder, and recorder stretches in the camera, for a
    recorder that ran for only part of a long take)."""
    forward_steps, forward = _best_match_steps(camera_envelope, recorder_envelope)
    backward_steps, backward = _best_match_steps(recorder_envelope, camera_envelope)
    if backward > forward:
        return -backward_steps * ENVELOPE_STEP_S, backward
    return forward_steps * ENVELOPE_STEP_S, forward


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0


def measure_window_lag(
    camera: np.ndarray, recorder: np.ndarray, camera_start: int, window: int, predicted_lag: int, search: int,
    sos: np.ndarray, rate_hz: int = ANALYSIS_RATE_HZ,
) -> WindowLag | None:
    """The lag of one camera window within `search` samples of `predicted_lag`; None when
    either side is silent or the recorder does not reach that far."""
    first = camera_start + predicted_lag - search
    last = camera_start + predicted_lag + window + search
    if first < 0 or last > len(recorder):
        return None
    pad = round(0.05 * rate_hz)  # filter settling, cut off after band-limiting
    cam_from = max(0, camera_start - pad)
    cam = signal.sosfiltfilt(sos, np.asarray(camera[cam_from:camera_start + window + pad], dtype=np.float64))
    cam = cam[min(pad, camera_start):][:window]
    rec_from = max(0, first - pad)
    rec = signal.sosfiltfilt(sos, np.asarray(recorder[rec_from:last + pad], dtype=np.float64))
    rec = rec[first - rec_from:][: last - first]
    if len(cam) < window or len(rec) < last - first or _rms(cam) < SILENT_RMS or _rms(rec) < SILENT_RMS:
        return None
    size = 1 << int(np.ceil(np.log2(len(rec) + len(cam))))
    spectrum = np.fft.rfft(rec, size) * np.conj(np.fft.rfft(cam, size))
    spectrum /= np.abs(spectrum) + 1e-12
    freqs = np.fft.rfftfreq(size, 1.0 / rate_hz)
    spectrum[(freqs < SPEECH_BAND_HZ[0]) | (freqs > SPEECH_BAND_HZ[1])] = 0.0
    gcc = np.fft.irfft(spectrum, size)[: 2 * search + 1]
    k = int(np.argmax(gcc))
    guard = max(2, round(0.001 * rate_hz))
    rest = np.concatenate([gcc[: max(0, k - guard)], gcc[k + guard + 1:]])
    sharpness = float((gcc[k] - rest.mean()) / (rest.std() + 1e-12)) if len(rest) > 8 else 0.0
    fraction = 0.0
    if 0 < k < len(gcc) - 1:
        left, centre, right = gcc[k - 1], gcc[k], gcc[k + 1]
        curvature = left - 2 * centre + right
        if curvature < 0:
            fraction = float(np.clip(0.5 * (left - right) / curvature, -0.5, 0.5))
    lag = predicted_lag - search + k + fraction
    return WindowLag(camera_s=(camera_start + window / 2) / rate_hz, lag_s=lag / rate_hz, sharpness=sharpness)


def plan_fine_windows(overlap_start_s: float, overlap_end_s: float) -> list[float]:
    """Camera start times of the fine windows: every FINE_STEP_S, or denser on short takes."""
    span = overlap_end_s - overlap_start_s - FINE_WINDOW_S
    if span <= 0:
        return []
    count = max(MIN_FINE_WINDOWS, int(span // FINE_STEP_S) + 1)
    return list(np.linspace(overlap_start_s, overlap_start_s + span, count))


def fit_line(times_s: np.ndarray, lags_s: np.ndarray) -> tuple[float, float, np.ndarray]:
    """(intercept, slope, inlier mask): Theil-Sen for a start that outliers cannot pull,
    then least squares on the windows that agree with it."""
    if len(times_s) == 1:
        return float(lags_s[0]), 0.0, np.ones(1, dtype=bool)
    from scipy.stats import theilslopes

    slope, intercept, _, _ = theilslopes(lags_s, times_s)
    inliers = np.abs(lags_s - (intercept + slope * times_s)) <= INLIER_TOLERANCE_S
    if inliers.sum() >= 2:
        slope, intercept = np.polyfit(times_s[inliers], lags_s[inliers], 1)
        inliers = np.abs(lags_s - (intercept + slope * times_s)) <= INLIER_TOLERANCE_S
    return float(intercept), float(slope), inliers


def estimate_alignment(camera: np.ndarray, recorder: np.ndarray, rate_hz: int = ANALYSIS_RATE_HZ) -> Alignment:
    """Align `recorder` to `camera` (mono, `rate_hz`). Raises AlignmentRefused."""
    camera_s, recorder_s = len(camera) / rate_hz, len(recorder) / rate_hz
    camera_envelope, camera_peak = build_envelope(camera, rate_hz)
    recorder_envelope, recorder_peak = build_envelope(recorder, rate_hz)
    for name, peak in (("camera's", camera_peak), ("recorder's", recorder_peak)):
        if peak < SILENT_RMS:
            raise AlignmentRefused(f"the {name} sound is silent in the speech band: nothing to align by")
    coarse_lag_s, coarse_correlation = find_coarse_lag_s(camera_envelope, recorder_envelope)
    overlap_start_s = max(0.0, -coarse_lag_s)
    overlap_end_s = min(camera_s, recorder_s - coarse_lag_s)
    if overlap_end_s - overlap_start_s < MIN_OVERLAP_S:
        raise AlignmentRefused(
            f"the recorder overlaps the camera sound for {max(0.0, overlap_end_s - overlap_start_s):.1f} s at best "
            f"(at least {MIN_OVERLAP_S:.0f} s needed)"
        )
    sos = build_band_filter(rate_hz)
    window = round(FINE_WINDOW_S * rate_hz)
    starts_s = plan_fine_windows(overlap_start_s, overlap_end_s)
    # Visit windows outward from the middle; each is searched near the line through the
    # sharp windows measured so far, widened by how far a drifting clock could have moved.
    middle = (overlap_start_s + overlap_end_s) / 2
    order = sorted(range(len(starts_s)), key=lambda i: abs(starts_s[i] - middle))
    found: list[WindowLag] = []
    usable = 0
    for index in order:
        start_s = starts_s[index]
        centre_s = start_s + FINE_WINDOW_S / 2
        good = [w for w in found if w.sharpness >= MIN_PEAK_SHARPNESS]
        if len(good) >= 2 and max(w.camera_s for w in good) - min(w.camera_s for w in good) >= 2 * FINE_WINDOW_S:
            intercept, slope, _ = fit_line(np.array([w.camera_s for w in good]), np.array([w.lag_s for w in good]))
            predicted_s = intercept + slope * centre_s
            distance_s = min(abs(w.camera_s - centre_s) for w in good)
        elif good:
            predicted_s = good[0].lag_s
            distance_s = abs(good[0].camera_s - centre_s)
        else:
            predicted_s, distance_s = coarse_lag_s, camera_s
        search_s = SEARCH_MARGIN_S + MAX_DRIFT_PPM * 1e-6 * distance_s
        measured = measure_window_lag(
            camera, recorder, round(start_s * rate_hz), window, round(predicted_s * rate_hz),
            round(search_s * rate_hz), sos, rate_hz,
        )
        if measured is None:
            continue
        usable += 1
        found.append(measured)
    sharp = [w for w in found if w.sharpness >= MIN_PEAK_SHARPNESS]
    if usable == 0:
        raise AlignmentRefused("no stretch where both the camera and the recorder carry sound")
    if not sharp:
        raise AlignmentRefused(
            f"no stretch of the recorder matches the camera sound (best envelope correlation "
            f"{coarse_correlation:.2f}, no sharp peak in {usable} windows): is it the same scene?"
        )
    times = np.array([w.camera_s for w in sharp])
    lags = np.array([w.lag_s for w in sharp])
    intercept, slope, inliers = fit_line(times, lags)
    agreeing = int(inliers.sum())
    confidence = agreeing / usable
    share = agreeing / len(sharp)
    misfit_s = lags[inliers] - (intercept + slope * times[inliers])
    residual_ms = float(np.sqrt(np.mean(np.square(misfit_s)))) * 1000 if agreeing else 0.0
    sharpness = [w.sharpness for w, keep in zip(sharp, inliers) if keep]
    alignment = Alignment(
        offset_s=intercept, drift_ppm=slope * 1e6, confidence=confidence,
        windows_used=agreeing, windows_usable=usable, residual_ms=residual_ms,
        median_sharpness=float(np.median(sharpness)) if sharpness else 0.0,
        camera_duration_s=camera_s, recorder_duration_s=recorder_s,
    )
    if len(sharp) < MIN_AGREEING_WINDOWS:
        raise AlignmentRefused(
            f"only {len(sharp)} of {usable} stretches with sound match the camera sound at all "
            f"(at least {MIN_AGREEING_WINDOWS} needed): is it the same scene?"
        )
    if agreeing < MIN_AGREEING_WINDOWS or share < MIN_AGREEING_SHARE or confidence < MIN_CONFIDENCE:
        raise AlignmentRefused(
            f"only {agreeing} of {usable} stretches with sound agree on one offset and drift "
            f"({agreeing} of the {len(sharp)} that matched anything; at least {MIN_AGREEING_WINDOWS}, "
            f"{MIN_AGREEING_SHARE:.0%} of those and {MIN_CONFIDENCE:.0%} of all needed): is it the same scene?"
        )
    if abs(alignment.drift_ppm) > MAX_DRIFT_PPM:
        raise AlignmentRefused(
            f"the clocks would differ by {alignment.drift_ppm:+.0f} ppm (at most {MAX_DRIFT_PPM:.0f}): "
            "not a recorder of the same scene, or a wrong sample rate in its header"
        )
    return alignment
