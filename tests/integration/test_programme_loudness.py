"""The loudness gain is measured on the programme as the render mixes it: the inset's
sound and the cards' sound are part of what the producer publishes, so they are part of
the measurement, and the encoded file lands on target without a correction pass.

Expected levels come from how the tones were made and from ITU-R BS.1770-4: a stereo
1 kHz sine at X dBFS reads X LUFS (EBU Tech 3341), tones of different frequencies add in
power weighted by the K-filter (the standard's published 48 kHz coefficients), and the
integrated loudness averages 400 ms blocks that overlap by 75 %.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy.signal import freqz

from pipeline import config
from pipeline.audio.meter import measure_file
from pipeline.render import run_render
from tests.integration.jobs import write_job
from tests.media import ffmpeg, make_clip, tone

W, H = 320, 180
MAIN_DBFS = -26.0
INSET_DBFS = -20.0
AUDIO = """
[audio]
hum_removal = false
noise_reduction = false
leveler = false
"""


# ITU-R BS.1770-4, Table 1 and Table 2: the K-filter's two stages at 48 kHz.
K_STAGES = (
    ([1.53512485958697, -2.69169618940638, 1.19839281085285], [1.0, -1.69065929318241, 0.73248077421585]),
    ([1.0, -2.0, 1.0], [1.0, -1.99004745483398, 0.99007225036621]),
)


def k_power_gain(frequency_hz: float) -> float:
    """The K-filter's power gain at `frequency_hz`, relative to 1 kHz."""
    def gain(f: float) -> float:
        total = 1.0
        for b, a in K_STAGES:
            _, response = freqz(b, a, worN=[f], fs=48000)
            total *= float(abs(response[0]) ** 2)
        return total
    return gain(frequency_hz) / gain(1000.0)


def integrated_of(segment_powers: list[float]) -> float:
    """BS.1770 integrated loudness of 100 ms segments of constant power (none gated out):
    the mean of 400 ms blocks stepped by 100 ms, so edge segments are in fewer blocks."""
    powers = np.asarray(segment_powers)
    blocks = [powers[start:start + 4].mean() for start in range(len(powers) - 3)]
    return 10 * math.log10(float(np.mean(blocks)))


def test_inset_sound_is_in_the_measurement_so_no_correction_pass_is_needed(tmp_path: Path) -> None:
    main = make_clip(tmp_path / "main.mp4", duration_s=4.0, size=f"{W}x{H}", audio=tone(MAIN_DBFS, frequency_hz=1000.0))
    inset = make_clip(tmp_path / "guide.mp4", duration_s=4.0, size="160x120", fps=25,
                      audio=tone(INSET_DBFS, frequency_hz=1100.0))
    job = write_job(tmp_path, main, AUDIO + f"""
[[pip]]
source = "{inset}"
start_s = 0.5
end_s = 3.5
audio = "mix"
""")
    result = run_render(config.load_job(job))
    audio = result.measurements["audio"]
    # 0.5 s of the main tone alone, 3 s of both tones, 0.5 s alone again.
    main_power = 10 ** (MAIN_DBFS / 10)
    inset_power = 10 ** (INSET_DBFS / 10) * k_power_gain(1100.0)
    programme_lufs = integrated_of([main_power] * 5 + [main_power + inset_power] * 30 + [main_power] * 5)
    assert audio["before_gain"]["integrated_lufs"] == pytest.approx(programme_lufs, abs=0.15)  # type: ignore[index]
    # Measured without the inset this would be the main tone alone, 6 LU quieter; the
    # gain would overshoot and the closed loop would have to correct the encoded file.
    assert audio["verified"]["corrected"] is False  # type: ignore[index]
    measured = measure_file(result.plan.output_path)
    assert measured.integrated_lufs == pytest.approx(-14.0, abs=0.2)
    assert measured.true_peak_dbtp is not None and measured.true_peak_dbtp <= -1.0


def test_card_sound_is_in_the_measurement_and_normalized_with_the_programme(tmp_path: Path) -> None:
    main = make_clip(tmp_path / "main.mp4", duration_s=3.0, size=f"{W}x{H}", audio=tone(MAIN_DBFS, frequency_hz=1000.0))
    chime = tmp_path / "chime.wav"
    # As long as the card, and 15 dB louder than the main sound.
    ffmpeg("-f", "lavfi", "-i", f"{tone(-15.0, frequency_hz=1000.0)}:duration=3.0", str(chime))
    job = write_job(tmp_path, main, AUDIO + f"""
[outro]
lines = ["Thank you"]
duration_s = 3.0
audio = "{chime}"
""")
    result = run_render(config.load_job(job))
    audio = result.measurements["audio"]
    # Half the programme at -30, most of the other half at -15 (its last 0.5 s fades out):
    # far louder than the main sound alone.
    assert audio["before_gain"]["integrated_lufs"] > MAIN_DBFS + 8.0  # type: ignore[index, operator]
    assert audio["verified"]["corrected"] is False  # type: ignore[index]
    measured = measure_file(result.plan.output_path)
    assert measured.integrated_lufs == pytest.approx(-14.0, abs=0.2)
    assert measured.true_peak_dbtp is not None and measured.true_peak_dbtp <= -1.0
