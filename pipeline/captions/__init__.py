"""Captions for accessibility: reading SRT and WebVTT files with a maintained parser,
finding the speech in a programme's sound, and checking captions against the caption
rules (line length and count, time on screen, reading rate, overlaps, programme bounds,
sync with the speech, speech left uncaptioned)."""
