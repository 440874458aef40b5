"""How Wayfinder shows a moment to a producer: in the machine's zone, the zone named
(`2030-06-03 09:00 CDT`). One place, so the queue, uploads and caption approvals agree."""

from __future__ import annotations

from datetime import datetime


def local_time_text(moment: datetime) -> str:
    """`moment` (timezone-aware) in the producer's zone, to the minute, with the zone's name."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M %Z")
