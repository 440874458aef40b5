"""Caption rules a preset's `[captions]` table sets, the named profiles, and what a
job's `[captions]` table asks of its render (a draft, burned-in captions).

Schemas only (pydantic, unknown keys are errors): `pipeline.config` builds presets and
jobs with them; `wayfinder captions check` / QA / upload read the rules. The defaults
follow the DCMP Captioning Key's looser end (42 characters a line, two lines); the
`dcmp-strict` profile holds lines to 32 characters. A job cannot loosen the rules: its
`[captions]` table has only the render's keys.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, model_validator

Profile = Literal["standard", "dcmp-strict"]

# Characters a caption line may hold under each profile, unless `max_line_chars` says.
PROFILE_LINE_CHARS: dict[str, int] = {"standard": 42, "dcmp-strict": 32}


class CaptionSettings(BaseModel):
    """Per-caption limits. TOML has no null: `max_line_chars = 0` means "the profile's"."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    profile: Profile = Field("standard", description="standard (42 characters a line) or dcmp-strict (32)")
    max_line_chars: int = Field(0, ge=0, le=200, description="characters a line may hold; 0: the profile's")
    max_lines: int = Field(2, ge=1, le=10, description="lines a caption may hold")
    min_duration_s: float = Field(1.0, ge=0.0, le=60.0, description="shortest time on screen")
    max_duration_s: float = Field(7.0, gt=0.0, le=600.0, description="longest time on screen")
    max_chars_per_s: float = Field(20.0, gt=0.0, le=100.0, description="fastest reading rate, characters a second")
    onset_tolerance_s: float = Field(0.5, ge=0.0, le=10.0, description="how far a caption may start from the speech it shows")
    max_uncaptioned_speech_s: float = Field(2.0, gt=0.0, le=600.0, description="longest speech with no caption on screen")
    # For `wayfinder captions draft`: the names the recognizer should expect.
    vocabulary: tuple[str, ...] = Field((), max_length=500, description="building, department and clinician names")
    language: str = Field("en", pattern=r"^[a-z]{2,3}$", description="the language spoken (draft files are OUT.<language>.vtt)")

    @property
    def line_chars(self) -> int:
        """The line length that applies: the setting, else the profile's."""
        return self.max_line_chars or PROFILE_LINE_CHARS[self.profile]


VocabularyName = Annotated[str, StringConstraints(max_length=200)]


class RenderCaptions(BaseModel):
    """A job's `[captions]` table: what its render makes of captions.

    `draft`: transcribe the finished output and write `OUT.<language>.vtt` / `.srt` drafts
    beside it (the code of `wayfinder captions draft`). `burn_in` with `file`: burn that
    caption file, timed on the output and approved as it is now (`wayfinder captions
    approve`), into the picture."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    draft: StrictBool = Field(False, description="write OUT.<language>.vtt and .srt drafts of the output's speech")
    burn_in: StrictBool = Field(False, description="burn the approved caption file `file` into the picture")
    file: Path | None = Field(None, description="the approved caption file to burn in, timed on the output")
    # Added to the preset's [captions] vocabulary for this job's draft.
    vocabulary: tuple[VocabularyName, ...] = Field((), max_length=500, description="names the recognizer should expect")

    @model_validator(mode="after")
    def _file_with_burn_in(self) -> "RenderCaptions":
        if self.burn_in and self.file is None:
            raise ValueError("burn_in needs the approved caption file: set file = \"OUT.en.vtt\" (timed on the output)")
        if self.file is not None and not self.burn_in:
            raise ValueError("file names the captions to burn in: set burn_in = true too, or leave file out")
        return self
