"""Loudness normalization planned from a measurement (pure): plain gain when the true
peak allows it, otherwise the preset's explicit policy.

`limit` keeps the target loudness with a true-peak-safe limiter: the signal is
oversampled 4x (192 kHz) so the limiter sees inter-sample peaks, limited to the ceiling
minus the encoder margin, and brought back to 48 kHz. `lower-target` stays linear and
lands as loud as the ceiling allows. Either way the decision is recorded.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from pipeline.config import AudioSettings
from pipeline.errors import AudioError
from pipeline.filters import Filter


OVERSAMPLED_RATE_HZ = 192_000
LIMITER_ATTACK_MS = 5.0
LIMITER_RELEASE_MS = 80.0
GATE_LUFS = -70.0
# More than this off the peaks and speech starts to sound squashed (consonants flattened,
# pumping on loud syllables): the producer is told, in the notes and the report.
HEAVY_LIMITING_DB = 4.0


@dataclass(frozen=True)
class GainPlan:
    measured_lufs: float
    measured_true_peak_dbtp: float
    gain_db: float
    predicted_true_peak_dbtp: float
    landing_lufs: float  # what the output should measure
    policy: str
    limiter: bool
    limiter_ceiling_dbtp: float | None
    reason: str

    @property
    def limiting_db(self) -> float:
        """How far the gain pushes the loudest true peak over the limiter's ceiling: what
        the limiter must take off it (0 without the limiter)."""
        if not self.limiter or self.limiter_ceiling_dbtp is None:
            return 0.0
        return max(0.0, self.measured_true_peak_dbtp + self.gain_db - self.limiter_ceiling_dbtp)

    @property
    def heavy_limiting(self) -> bool:
        return self.limiting_db > HEAVY_LIMITING_DB

    def to_dict(self) -> dict[str, object]:
        data = {k: (round(v, 2) if isinstance(v, float) else v) for k, v in asdict(self).items()}
        data["limiting_db"] = round(self.limiting_db, 2)
        return data


def plan_gain(
    settings: AudioSettings,
    measured_lufs: float | None,
    measured_true_peak_dbtp: float | None,
    *,
    extra_margin_db: float = 0.0,
    file: str | None = None,
) -> GainPlan:
    """Gain to reach the target, and whether a limiter is needed to respect the ceiling."""
    if measured_lufs is None or measured_lufs < GATE_LUFS or measured_true_peak_dbtp is None:
        raise AudioError(
            "audio is digital silence (or below the -70 LUFS gate): loudness cannot be "
            "normalized and no gain was applied; set [audio] normalize = false to render it as is",
            file=file,
            field="audio",
        )
    safe_peak = settings.true_peak_dbtp - settings.encoder_margin_db - extra_margin_db
    gain_db = settings.target_lufs - measured_lufs
    predicted = measured_true_peak_dbtp + gain_db
    if predicted <= safe_peak:
        return GainPlan(measured_lufs, measured_true_peak_dbtp, gain_db, predicted, settings.target_lufs,
                        settings.limiter_policy, False, None, "plain gain: the true peak stays under the ceiling")
    if settings.limiter_policy == "limit":
        return GainPlan(
            measured_lufs, measured_true_peak_dbtp, gain_db, safe_peak, settings.target_lufs,
            "limit", True, safe_peak,
            f"gain would put the true peak at {predicted:.1f} dBTP: limited to {safe_peak:.1f} dBTP "
            f"(ceiling {settings.true_peak_dbtp:g} minus {settings.encoder_margin_db + extra_margin_db:g} dB encoder margin)",
        )
    lowered_gain = safe_peak - measured_true_peak_dbtp
    landing = measured_lufs + lowered_gain
    return GainPlan(
        measured_lufs, measured_true_peak_dbtp, lowered_gain, safe_peak, landing,
        "lower-target", False, None,
        f"lower-target policy: linear gain lands at {landing:.1f} LUFS instead of {settings.target_lufs:g} "
        f"to keep the true peak at {safe_peak:.1f} dBTP",
    )


def with_gain(plan: GainPlan, gain_db: float, reason: str) -> GainPlan:
    """The same plan with a calibrated gain (the limiter's loudness loss made up)."""
    return GainPlan(
        plan.measured_lufs, plan.measured_true_peak_dbtp, gain_db, plan.predicted_true_peak_dbtp,
        plan.landing_lufs, plan.policy, plan.limiter, plan.limiter_ceiling_dbtp,
        f"{plan.reason}; {reason}" if reason else plan.reason,
    )


def build_gain_filters(plan: GainPlan, output_rate_hz: int) -> list[Filter]:
    filters: list[Filter] = [("volume", {"volume": f"{plan.gain_db:.3f}dB", "precision": "double"})]
    if plan.limiter and plan.limiter_ceiling_dbtp is not None:
        filters += [
            ("aresample", {"out_sample_rate": OVERSAMPLED_RATE_HZ}),
            ("alimiter", {
                "limit": round(10 ** (plan.limiter_ceiling_dbtp / 20), 6),
                "attack": LIMITER_ATTACK_MS,
                "release": LIMITER_RELEASE_MS,
                # level=false: alimiter would otherwise re-normalize its output to 0 dBFS
                "level": "false",
                # The look-ahead (attack) delays the sound; latency=true removes that delay
                # and flushes the look-ahead buffer at the end, so lip sync is untouched.
                "latency": "true",
            }),
            ("aresample", {"out_sample_rate": output_rate_hz}),
        ]
    return filters


def check_landing(
    settings: AudioSettings, landing_lufs: float, integrated_lufs: float | None, true_peak_dbtp: float | None
) -> list[str]:
    """What is wrong with measured output loudness (empty: it ships)."""
    problems = []
    if integrated_lufs is None:
        problems.append("output audio is silent")
    elif abs(integrated_lufs - landing_lufs) > settings.tolerance_lu:
        problems.append(
            f"integrated {integrated_lufs:.2f} LUFS is {integrated_lufs - landing_lufs:+.2f} LU "
            f"off the target {landing_lufs:.2f} (tolerance {settings.tolerance_lu:g} LU)"
        )
    if true_peak_dbtp is not None and true_peak_dbtp > settings.true_peak_dbtp:
        problems.append(f"true peak {true_peak_dbtp:.2f} dBTP is over the ceiling {settings.true_peak_dbtp:g} dBTP")
    return problems
