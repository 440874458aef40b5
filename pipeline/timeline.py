"""The edited timeline of a job with an edit list (pure): where each take starts and ends
in its source and in the programme, on the output's frame grid.

Every take is cut to a whole number of output frames, and a dissolve overlaps two takes by
a whole number of frames, so the picture (frames) and the sound (samples at the output
rate) of the edit are computed from the same integers: they cannot drift apart at a join
however the sources' frame and sample rates differ. Picture-in-picture windows, cards,
light analysis, loudness and captions are all placed on this timeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import TakeSpec
from pipeline.errors import ConfigError
from pipeline.probe import MediaInfo

# A trim end past the source's end by less than this is the source's end (containers
# round their durations).
END_SLACK_S = 0.05


@dataclass(frozen=True)
class Clip:
    """One take placed on the timeline."""

    index: int
    info: MediaInfo
    source_start_s: float
    frames: int  # length in output frames
    programme_start_frame: int
    dissolve_frames: int  # overlap with the next take (0: a cut, or the last take)

    @property
    def path(self) -> Path:
        return self.info.path


@dataclass(frozen=True)
class EditList:
    clips: tuple[Clip, ...]
    fps: float

    @property
    def frames(self) -> int:
        last = self.clips[-1]
        return last.programme_start_frame + last.frames

    @property
    def duration_s(self) -> float:
        return self.frames / self.fps

    def seconds(self, frames: int) -> float:
        return frames / self.fps

    def programme_time_s(self, clip_index: int, source_time_s: float) -> float:
        """Where a moment of a take's source lands in the programme."""
        clip = self.clips[clip_index]
        return self.seconds(clip.programme_start_frame) + source_time_s - clip.source_start_s

    def to_report(self) -> list[dict[str, object]]:
        return [
            {
                "source": str(clip.path),
                "source_start_s": round(clip.source_start_s, 3),
                "source_end_s": round(clip.source_start_s + self.seconds(clip.frames), 3),
                "programme_start_s": round(self.seconds(clip.programme_start_frame), 3),
                "duration_s": round(self.seconds(clip.frames), 3),
                "join": f"dissolve {self.seconds(clip.dissolve_frames):.3f} s" if clip.dissolve_frames else "cut",
            }
            for clip in self.clips
        ]


def build_edit_list(takes: Sequence[TakeSpec], infos: Sequence[MediaInfo], fps: float, *, file: Path | None) -> EditList:
    """Place `takes` (with their probed sources) on the output's frame grid at `fps`.
    ConfigError naming every take and field that cannot be placed."""
    problems: list[str] = []
    where = f"{file}: " if file else ""
    lengths: list[tuple[float, int]] = []
    for index, (take, info) in enumerate(zip(takes, infos, strict=True)):
        key = f"take[{index}]"
        if take.start_s >= info.duration_s:
            problems.append(f"{where}{key}.start_s: {take.start_s:g} s is past the end of {info.path} ({info.duration_s:.2f} s)")
            lengths.append((take.start_s, 0))
            continue
        end_s = info.duration_s if take.end_s is None else take.end_s
        if end_s > info.duration_s + END_SLACK_S:
            problems.append(f"{where}{key}.end_s: {end_s:g} s is past the end of {info.path} ({info.duration_s:.2f} s)")
        end_s = min(end_s, info.duration_s)
        frames = round((end_s - take.start_s) * fps)
        if frames < 1:
            problems.append(f"{where}{key}: shorter than one frame at {fps:g} fps")
        lengths.append((take.start_s, frames))
    overlaps: list[int] = []
    for index, take in enumerate(takes):
        if take.join != "dissolve" or index + 1 >= len(takes):
            overlaps.append(0)
            continue
        overlap = max(1, round(take.dissolve_s * fps))
        shorter = min(lengths[index][1], lengths[index + 1][1])
        if overlap >= shorter and shorter > 0:
            problems.append(f"{where}take[{index}].dissolve_s: {take.dissolve_s:g} s is as long as a take it joins "
                            f"({shorter / fps:.2f} s)")
        overlaps.append(overlap)
    if problems:
        raise ConfigError(
            problems[0].removeprefix(where) if len(problems) == 1 else f"{len(problems)} problems in the edit list",
            file=file, problems=problems if len(problems) > 1 else (),
        )
    clips: list[Clip] = []
    position = 0
    for index, (info, (start_s, frames), overlap) in enumerate(zip(infos, lengths, overlaps, strict=True)):
        clips.append(Clip(index, info, start_s, frames, position, overlap))
        position += frames - overlap
    return EditList(tuple(clips), fps)
