"""Channel names and their BS.1770 loudness weights.

Owns: turning a channel count or a list of names (PyAV/ffmpeg names such as FL, FR, FC,
LFE, SL, SR, BL, BR, or the broadcast short forms L, R, C, Ls, Rs) into canonical
names, and the weight each channel gets in the loudness sum.

Weights follow BS.1770-4 for its 5-channel case (L, R, C = 1.0; Ls, Rs = 1.41, i.e.
+1.5 dB; LFE excluded) and extend it the way ffmpeg's ebur128 filter does for other
layouts: every side, back and surround-direct channel weighs 1.41, every LFE 0, all
other channels 1.0. A mono signal is one channel of weight 1.0.
"""

from __future__ import annotations

from collections.abc import Sequence

SURROUND_WEIGHT = 1.41
LFE_WEIGHT = 0.0

_SURROUND_NAMES = frozenset({"SL", "SR", "BL", "BR", "BC", "TBL", "TBC", "TBR", "SDL", "SDR"})
_LFE_NAMES = frozenset({"LFE", "LFE2"})

_ALIASES = {
    "L": "FL",
    "LEFT": "FL",
    "R": "FR",
    "RIGHT": "FR",
    "C": "FC",
    "CENTER": "FC",
    "CENTRE": "FC",
    "M": "FC",
    "MONO": "FC",
    "LS": "SL",
    "RS": "SR",
    "LSS": "SL",
    "RSS": "SR",
    "LRS": "BL",
    "RRS": "BR",
}

# Orders used when only a channel count is known (WAV/SMPTE orders as ffmpeg uses them).
_DEFAULT_NAMES: dict[int, tuple[str, ...]] = {
    1: ("FC",),
    2: ("FL", "FR"),
    5: ("FL", "FR", "FC", "SL", "SR"),
    6: ("FL", "FR", "FC", "LFE", "SL", "SR"),
    8: ("FL", "FR", "FC", "LFE", "BL", "BR", "SL", "SR"),
}


def canonical_channel_name(name: str) -> str:
    """Upper-case ffmpeg-style name for `name` ("Ls" -> "SL", "left" -> "FL")."""
    key = name.strip().upper()
    return _ALIASES.get(key, key)


def default_channel_names(channels: int) -> tuple[str, ...]:
    """Names for a bare channel count; counts without a standard order get c0, c1, ..."""
    if channels < 1:
        raise ValueError(f"need at least one channel, got {channels}")
    return _DEFAULT_NAMES.get(channels, tuple(f"c{i}" for i in range(channels)))


def build_channel_names(channels: Sequence[str] | int) -> tuple[str, ...]:
    """Canonical names from a count or a sequence of names."""
    if isinstance(channels, int):
        return default_channel_names(channels)
    names = tuple(canonical_channel_name(str(n)) for n in channels)
    if not names:
        raise ValueError("need at least one channel name")
    return names


def channel_weight(name: str) -> float:
    """BS.1770 weight G_i of one channel (canonical or alias name)."""
    canonical = canonical_channel_name(name)
    if canonical in _LFE_NAMES:
        return LFE_WEIGHT
    if canonical in _SURROUND_NAMES:
        return SURROUND_WEIGHT
    return 1.0
