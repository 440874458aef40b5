"""Job and preset files: schemas, loading, and the precedence of settings.

Precedence: built-in defaults < preset (and the presets it `extends`) < job file <
command-line flags. Every layer is validated on its own so that a problem is reported
with the file it came from; unknown keys are errors; every problem of a file is
reported at once (ConfigError, exit code 3). Relative paths in a job resolve against the
job file's folder.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationError,
    model_validator,
)

from pipeline import paths
from pipeline.errors import ConfigError, shown_value
from pipeline.captions.settings import CaptionSettings, RenderCaptions
from pipeline.overlay_specs import MAX_LOWER_THIRDS, LogoSpec, LowerThirdSpec
from pipeline.qa.settings import QaSettings
from pipeline.tomlfile import read_toml_file
from pipeline.youtube.metadata import parse_youtube_section

X264Preset = Literal[
    "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"
]


class StrictModel(BaseModel):
    """Base for every file schema: unknown keys are errors, models are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class VideoSettings(StrictModel):
    codec: Literal["libx264"] = "libx264"
    profile: Literal["high", "main", "baseline"] = "high"
    pix_fmt: Literal["yuv420p"] = "yuv420p"
    crf: int = Field(18, ge=0, le=51)
    x264_preset: X264Preset = "medium"
    max_width_px: int = Field(1920, ge=16, le=7680)
    max_height_px: int = Field(1080, ge=16, le=4320)
    gop_s: float = Field(0.5, gt=0, le=10, description="closed GOP length; 0.5 s is half the frame rate")
    fps: float | None = Field(None, gt=0, le=240, description="output frame rate; None keeps the source's")
    color: Literal["bt709"] = "bt709"
    # The output frame's shape: "source" keeps the source's orientation; "vertical" and
    # "square-or-vertical" centre a wider picture in a 9:16 or a square frame.
    orientation: Literal["source", "vertical", "square-or-vertical"] = "source"
    faststart: StrictBool = True
    copy_when_possible: StrictBool = True
    threads: int | None = Field(None, ge=1, le=64)


class AudioSettings(StrictModel):
    codec: Literal["aac"] = "aac"
    bitrate_kbps: int = Field(384, ge=32, le=512)
    sample_rate_hz: Literal[48000] = 48000
    channels: Literal[1, 2] = 2
    required: StrictBool = False
    normalize: StrictBool = True
    target_lufs: float = Field(-14.0, ge=-40.0, le=-5.0)
    true_peak_dbtp: float = Field(-1.0, ge=-9.0, le=0.0)
    # Closed loop: the encoded file must land within this of the target, or be corrected.
    tolerance_lu: float = Field(0.2, ge=0.05, le=3.0)
    # When gain would push the true peak over the ceiling: "limit" keeps the target
    # loudness with an oversampled limiter; "lower-target" stays linear and lands quieter.
    limiter_policy: Literal["limit", "lower-target"] = "limit"
    # Headroom kept below the ceiling for the lossy encoder, which can raise peaks.
    encoder_margin_db: float = Field(0.5, ge=0.0, le=3.0)
    # "music" turns off what only suits speech: the neural enhancer and the leveler.
    content: Literal["speech", "music"] = "speech"
    # Speech clean-up, in this order; each stage can be turned off.
    highpass_hz: float = Field(80.0, ge=0.0, le=300.0, description="0 turns the high-pass off")
    hum_removal: StrictBool = True
    hum_min_prominence_db: float = Field(10.0, ge=3.0, le=40.0)
    # De-reverberation (WPE), only when the detector finds the speech reverberant.
    dereverb: StrictBool = True
    # The neural speech enhancer (DeepFilterNet 3): strength is the wet/dry mix, max_db
    # the most it may take off any time-frequency bin (100: no limit).
    noise_reduction: StrictBool = True
    noise_reduction_strength: float = Field(1.0, ge=0.0, le=1.0)
    noise_reduction_max_db: float = Field(100.0, ge=0.0, le=100.0)
    # Stereo speech: "mid" enhances (L+R)/2 once and gives dual mono (half the enhancer's
    # time; speech is centred once its ambience is removed); "channels" each apart.
    noise_reduction_stereo: Literal["mid", "channels"] = "mid"
    # Off by default: on one steady speaker it costs quality (measured in bench_speech).
    leveler: StrictBool = False
    leveler_max_gain_db: float = Field(12.0, ge=0.0, le=30.0)
    # A separate recorder (a lavalier's WAV), aligned to the camera's sound and used
    # instead of it ("replace") or with the camera's sound mixed under it ("under", at
    # external_under_db). Job files only: a path relative to the job file.
    external: Path | None = None
    external_mix: Literal["replace", "under"] = "replace"
    external_under_db: float = Field(-12.0, ge=-40.0, le=0.0)


class LightSettings(StrictModel):
    mode: Literal["off", "auto", "manual"] = "off"
    brightness: float = Field(0.0, ge=-1.0, le=1.0)
    contrast: float = Field(1.0, ge=0.0, le=2.0)
    gamma: float = Field(1.0, ge=0.1, le=10.0)
    saturation: float = Field(1.0, ge=0.0, le=3.0)
    temperature_shift_k: float = Field(0.0, ge=-4000.0, le=4000.0)
    strength: float = Field(1.0, ge=0.0, le=1.0)


class StabilizeSettings(StrictModel):
    """Stabilization of shaky (walking) footage with ffmpeg's vid.stab, per take; see
    `pipeline.video.stabilize` for how these become the detect and transform filters."""

    # "auto" stabilizes only the takes whose measured shake reaches the threshold.
    mode: Literal["off", "auto", "on"] = "off"
    # The most of the frame's width and height the stabilizing zoom may cut away.
    max_crop_percent: float = Field(8.0, gt=0.0, le=25.0)
    # Half the window of the camera path's smoothing: longer follows the walk more
    # calmly but needs more crop; 1 s removes the footsteps' bounce (about 2 Hz).
    smoothing_s: float = Field(1.0, ge=0.1, le=5.0)
    # "auto": the shake (RMS wobble, % of the frame's diagonal) from which a take is
    # stabilized; 0.15 % is about 3 px at 1080p (set on the inputs of bench_stabilize.py).
    shake_threshold_percent: float = Field(0.15, ge=0.0, le=10.0)


class PublishPolicy(StrictModel):
    """Hospital and accessibility gates before a video may be public or scheduled."""

    require_captions: StrictBool = False
    require_made_for_kids: StrictBool = False
    require_release: StrictBool = False


class Settings(StrictModel):
    """The fully merged settings of one render."""

    video: VideoSettings = VideoSettings()
    audio: AudioSettings = AudioSettings()
    light: LightSettings = LightSettings()
    stabilize: StabilizeSettings = StabilizeSettings()
    publish: PublishPolicy = PublishPolicy()
    qa: QaSettings = QaSettings()
    captions: CaptionSettings = CaptionSettings()


class PresetFile(StrictModel):
    description: str = ""
    extends: str | None = None
    video: VideoSettings = VideoSettings()
    audio: AudioSettings = AudioSettings()
    light: LightSettings = LightSettings()
    stabilize: StabilizeSettings = StabilizeSettings()
    # Gates (publishing rules, QA thresholds) live in presets only: a job cannot loosen them.
    publish: PublishPolicy = PublishPolicy()
    qa: QaSettings = QaSettings()
    captions: CaptionSettings = CaptionSettings()

    @model_validator(mode="after")
    def _no_recorder_file(self) -> "PresetFile":
        # A recording belongs to one job; a preset is shared by many.
        if self.audio.external is not None:
            raise ValueError("audio.external names a recording: set it in a job file, not a preset")
        return self


MAX_PATH_CHARS = 4096  # Linux's PATH_MAX: a longer path cannot name a file


def _path_fits(value: object) -> object:
    if isinstance(value, str) and len(value) > MAX_PATH_CHARS:
        raise ValueError(f"a path of {len(value):,} characters; at most {MAX_PATH_CHARS} can name a file")
    return value


FilePath = Annotated[Path, BeforeValidator(_path_fits)]


class InputSection(StrictModel):
    main: FilePath


class TakeSpec(StrictModel):
    """One take of an edit list: a source, the part of it used, and the join to the next."""

    source: Path
    start_s: float = Field(0.0, ge=0.0)
    end_s: float | None = Field(None, gt=0.0)
    join: Literal["cut", "dissolve"] = "cut"
    dissolve_s: float = Field(0.5, gt=0.0, le=5.0)
    captions: Path | None = None  # SRT or WebVTT timed on this take's source
    external: Path | None = None  # a separate recorder for this take, synced to its camera sound

    @model_validator(mode="after")
    def _trim_in_order(self) -> "TakeSpec":
        if self.end_s is not None and self.start_s >= self.end_s:
            raise ValueError(f"start_s ({self.start_s}) must be before end_s ({self.end_s})")
        return self


class OutputSection(StrictModel):
    path: FilePath | None = None


# A card is read in a few seconds: a headline and a few short lines. These bounds keep a
# card on one picture (at 1080p about 30 headline characters fit a row, so 200 wrap to 7
# rows) and keep a mistaken 10 MB line from costing minutes of text layout.
MAX_CARD_LINES = 8
# Each inset is a decode and an overlay in the one picture graph; a screen holds a few.
MAX_INSETS = 16
MAX_CARD_LINE_CHARS = 200
MAX_COLOR_CHARS = 64
CardLine = Annotated[str, StringConstraints(max_length=MAX_CARD_LINE_CHARS)]
ColorText = Annotated[str, StringConstraints(max_length=MAX_COLOR_CHARS)]


Corner = Literal["top-left", "top-right", "bottom-left", "bottom-right"]


class PipSpec(StrictModel):
    source: FilePath
    corner: Corner | None = None
    x: float | None = Field(None, ge=0.0, le=1.0)
    y: float | None = Field(None, ge=0.0, le=1.0)
    width: float = Field(0.3, gt=0.0, le=1.0)
    margin: float = Field(0.03, ge=0.0, le=0.5)
    start_s: float = Field(0.0, ge=0.0)
    end_s: float | None = Field(None, gt=0.0)
    fade_s: float = Field(0.0, ge=0.0, le=10.0)
    border_px: int = Field(0, ge=0, le=64)
    border_color: ColorText = "white"
    audio: Literal["mute", "mix", "duck"] = "mute"
    duck_db: float = Field(12.0, ge=0.0, le=40.0)
    when_short: Literal["hold", "end"] = "hold"

    @model_validator(mode="after")
    def _window_and_position(self) -> "PipSpec":
        if self.end_s is not None and self.start_s >= self.end_s:
            raise ValueError(f"start_s ({self.start_s}) must be before end_s ({self.end_s})")
        if (self.x is None) != (self.y is None):
            raise ValueError("give both x and y, or neither (then corner is used)")
        if self.x is not None and self.corner is not None:
            raise ValueError("give either corner or x/y, not both")
        return self


class CardSpec(StrictModel):
    lines: list[CardLine] = Field(min_length=1, max_length=MAX_CARD_LINES)
    duration_s: float = Field(3.0, gt=0.0, le=30.0)
    background: ColorText = "#1d3557"
    background_image: FilePath | None = None
    text_color: ColorText = "white"
    font_size_px: int | None = Field(None, ge=8, le=400)
    audio: FilePath | None = None


class JobFile(StrictModel):
    preset: str = "youtube"
    input: InputSection | None = None
    # An edit list: takes in playback order (`[[take]]` tables), instead of `[input] main`.
    take: list[TakeSpec] = []
    output: OutputSection = OutputSection()
    video: VideoSettings = VideoSettings()
    audio: AudioSettings = AudioSettings()
    light: LightSettings = LightSettings()
    stabilize: StabilizeSettings = StabilizeSettings()
    pip: list[PipSpec] = Field(default_factory=list, max_length=MAX_INSETS)
    intro: CardSpec | None = None
    outro: CardSpec | None = None
    logo: LogoSpec | None = None
    lower_third: list[LowerThirdSpec] = Field(default_factory=list, max_length=MAX_LOWER_THIRDS)
    # What the render makes of captions (a draft, burned-in captions); the caption rules
    # themselves are a preset's `[captions]` table, which a job cannot loosen.
    captions: RenderCaptions = RenderCaptions()
    # Its schema belongs to the publishing code (pipeline.youtube.metadata); load_job
    # validates it there.
    youtube: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _one_source_of_picture(self) -> "JobFile":
        if self.input is None and not self.take:
            raise ValueError("no input: give [input] main, or an edit list of [[take]] tables")
        if self.input is not None and self.take:
            raise ValueError("give [input] main or [[take]] tables, not both")
        if self.take and self.take[-1].join != "cut":
            raise ValueError(f"take[{len(self.take) - 1}].join: the last take has nothing to dissolve into")
        return self


@dataclass(frozen=True)
class PresetInfo:
    name: str
    path: Path
    source: Literal["built-in", "user"]
    description: str


@dataclass(frozen=True)
class Job:
    """A validated job: where it came from, its inputs and outputs, and merged settings."""

    source: Path | None
    preset_name: str
    main_path: Path
    output_path: Path
    settings: Settings
    pip: tuple[PipSpec, ...] = ()
    intro: CardSpec | None = None
    outro: CardSpec | None = None
    youtube: dict[str, Any] | None = None
    layers: tuple[str, ...] = field(default=())
    # The edit list, paths resolved; empty for a job with one `[input] main`. When set,
    # `main_path` is the first take's source (for messages).
    takes: tuple[TakeSpec, ...] = field(default=())
    logo: LogoSpec | None = None  # its source resolved
    lower_thirds: tuple[LowerThirdSpec, ...] = field(default=())
    captions: RenderCaptions = RenderCaptions()  # the job's [captions] table, its file resolved


# ---------------------------------------------------------------- error formatting


def _format_loc(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(file)"


def format_validation_errors(
    error: ValidationError, file: Path | str, model: type[BaseModel]
) -> list[str]:
    """One line per problem: `file: key.path: what is wrong (got value)`."""
    problems: list[str] = []
    for item in error.errors(include_url=False):
        loc = tuple(p for p in item["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        key = _format_loc(loc)
        if item["type"] == "extra_forbidden":
            allowed = _allowed_keys(model, loc[:-1])
            message = "unknown key" + (f"; allowed: {', '.join(allowed)}" if allowed else "")
        else:
            message = item["msg"].removeprefix("Value error, ")
        got = item.get("input")
        got_text = ""
        if item["type"] != "missing" and not isinstance(got, dict):
            got_text = f" (got {shown_value(got)})"
        problems.append(f"{file}: {key}: {message}{got_text}")
    return problems


def _allowed_keys(model: type[BaseModel], parent_loc: tuple[int | str, ...]) -> list[str]:
    current: Any = model
    for part in parent_loc:
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return []
        current = _model_of(fields[part].annotation)
        if current is None:
            return []
    fields = getattr(current, "model_fields", None)
    return sorted(fields) if fields else []


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


# ---------------------------------------------------------------- loading


read_toml = read_toml_file  # the name the batch manifest and older callers use


def deep_merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """A copy of `base` with `overlay` merged in; tables merge, other values replace."""
    merged = copy.deepcopy(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def list_presets() -> list[PresetInfo]:
    """Every preset by name; a user preset wins over a built-in of the same name."""
    found: dict[str, PresetInfo] = {}
    for source, folder in (("built-in", paths.builtin_presets_dir()), ("user", paths.user_presets_dir())):
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            description = ""
            try:
                description = str(read_toml(path, "preset").get("description", ""))
            except ConfigError:
                description = "(unreadable: run `wayfinder presets show` for details)"
            found[path.stem] = PresetInfo(path.stem, path, source, description)  # type: ignore[arg-type]
    return sorted(found.values(), key=lambda info: info.name)


def find_preset(name: str) -> PresetInfo:
    for info in list_presets():
        if info.name == name:
            return info
    known = ", ".join(info.name for info in list_presets())
    raise ConfigError(f"unknown preset {shown_value(name)}; known presets: {known}", field="preset")


SETTINGS_SECTIONS = ("video", "audio", "light", "stabilize", "publish", "qa", "captions")


def _preset_layers(name: str, seen: tuple[str, ...] = ()) -> list[tuple[str, dict[str, Any]]]:
    """The preset's settings layers, base first, following `extends`."""
    if name in seen:
        chain = " -> ".join((*seen, name))
        raise ConfigError(f"presets extend each other in a loop: {chain}", field="extends")
    info = find_preset(name)
    raw = read_toml(info.path, "preset")
    try:
        preset = PresetFile.model_validate(raw)
    except ValidationError as exc:
        problems = format_validation_errors(exc, info.path, PresetFile)
        raise ConfigError(f"invalid preset {shown_value(name)}", file=info.path, problems=problems) from None
    layer = preset.model_dump(include=set(SETTINGS_SECTIONS), exclude_unset=True)
    base = _preset_layers(preset.extends, (*seen, name)) if preset.extends else []
    return [*base, (f"preset {name} ({info.path})", layer)]


def merge_settings(layers: list[tuple[str, dict[str, Any]]]) -> Settings:
    merged: dict[str, Any] = Settings().model_dump()
    for _, layer in layers:
        merged = deep_merge(merged, layer)
    return Settings.model_validate(merged)


def load_preset_settings(name: str) -> Settings:
    """Built-in defaults merged with the named preset (and what it extends)."""
    return merge_settings(_preset_layers(name))


def resolve_path(base_dir: Path, value: Path | str | None) -> Path | None:
    """An absolute, normalized path; relative ones are taken from `base_dir`."""
    if value is None:
        return None
    value = Path(value).expanduser()
    return Path(os.path.abspath(value if value.is_absolute() else base_dir / value))


def _resolve_card(base_dir: Path, spec: CardSpec | None) -> CardSpec | None:
    if spec is None:
        return None
    return spec.model_copy(update={
        "background_image": resolve_path(base_dir, spec.background_image),
        "audio": resolve_path(base_dir, spec.audio),
    })


def build_job(
    *,
    source: Path,
    label: str,
    base_dir: Path,
    preset_name: str,
    main: Path,
    output: Path,
    settings_layer: dict[str, Any],
    pip: tuple[PipSpec, ...] | list[PipSpec] = (),
    intro: CardSpec | None = None,
    outro: CardSpec | None = None,
    youtube: dict[str, Any] | None = None,
    flag_layer: dict[str, Any] | None = None,
    takes: tuple[TakeSpec, ...] | list[TakeSpec] = (),
    logo: LogoSpec | None = None,
    lower_thirds: tuple[LowerThirdSpec, ...] | list[LowerThirdSpec] = (),
    captions: RenderCaptions = RenderCaptions(),
) -> Job:
    """A Job from already-validated tables (a job file's, or an inline one in a batch
    manifest): defaults < preset < `settings_layer` (named `label`) < flags. Paths
    resolve against `base_dir`. Raises ConfigError naming `source`."""
    if youtube is not None:
        # Publishing metadata is checked now, so a typo fails the render, not the upload.
        parse_youtube_section(youtube, file=source)
    try:
        preset_layers = _preset_layers(preset_name)
    except ConfigError as exc:
        if exc.file is None:
            exc.file = str(source)
        raise
    layers = [*preset_layers, (label, settings_layer)]
    if flag_layer:
        layers.append(("command line", flag_layer))
    try:
        settings = merge_settings(layers)
    except ValidationError as exc:
        problems = format_validation_errors(exc, "command line", Settings)
        raise ConfigError("invalid command-line settings", problems=problems) from None
    main_path = resolve_path(base_dir, main)
    output_path = resolve_path(base_dir, output)
    assert main_path is not None and output_path is not None
    if settings.audio.external is not None and takes:
        # A recorder runs through the raw takes, not the edit: it is synced take by take.
        raise ConfigError(
            "audio.external: with an edit list, name the recorder in each [[take]] (external = \"lav.wav\"): "
            "it is synced to each take's own camera sound", file=source, field="audio.external",
        )
    if settings.audio.external is not None:
        # Only the job's own layer can set it (presets refuse it), so its folder is the base.
        audio = settings.audio.model_copy(update={"external": resolve_path(base_dir, settings.audio.external)})
        settings = settings.model_copy(update={"audio": audio})
    return Job(
        source=source,
        preset_name=preset_name,
        main_path=main_path,
        output_path=output_path,
        settings=settings,
        pip=tuple(spec.model_copy(update={"source": resolve_path(base_dir, spec.source)}) for spec in pip),
        intro=_resolve_card(base_dir, intro),
        outro=_resolve_card(base_dir, outro),
        youtube=youtube,
        layers=tuple(name for name, _ in layers),
        takes=tuple(take.model_copy(update={
            "source": resolve_path(base_dir, take.source), "captions": resolve_path(base_dir, take.captions),
            "external": resolve_path(base_dir, take.external),
        }) for take in takes),
        logo=logo.model_copy(update={"source": resolve_path(base_dir, logo.source)}) if logo is not None else None,
        lower_thirds=tuple(lower_thirds),
        captions=captions.model_copy(update={"file": resolve_path(base_dir, captions.file)}),
    )


def load_job(
    path: Path,
    *,
    preset_override: str | None = None,
    output_override: Path | None = None,
    flag_layer: dict[str, Any] | None = None,
) -> Job:
    """Read, validate and merge a job file. Raises ConfigError listing every problem."""
    raw = read_toml(path, "job file")
    try:
        job_file = JobFile.model_validate(raw)
    except ValidationError as exc:
        # The rest of the job is checked too, so one run lists everything to fix.
        preset = preset_override or (raw.get("preset") if isinstance(raw.get("preset"), str) else "youtube")
        check_whole_job(raw, path, preset, format_validation_errors(exc, path, JobFile))
        raise AssertionError("unreachable: schema problems always raise") from None
    check_whole_job(raw, path, preset_override or job_file.preset, [])
    base_dir = path.resolve().parent
    return build_job(
        source=path,
        label=f"job {path}",
        base_dir=base_dir,
        preset_name=preset_override or job_file.preset,
        main=job_file.input.main if job_file.input is not None else job_file.take[0].source,
        output=output_override or job_file.output.path or Path(f"{path.stem}.mp4"),
        settings_layer=job_file.model_dump(include={"video", "audio", "light", "stabilize"}, exclude_unset=True),
        pip=job_file.pip,
        intro=job_file.intro,
        outro=job_file.outro,
        youtube=job_file.youtube,
        flag_layer=flag_layer,
        takes=job_file.take,
        logo=job_file.logo,
        lower_thirds=job_file.lower_third,
        captions=job_file.captions,
    )


def missing_input_problems(raw: dict[str, Any], source: Path) -> list[str]:
    """`file: key: file not found: path` for each input file the raw job names that does not exist."""
    base_dir = source.resolve().parent
    named: list[tuple[str, object]] = []
    if isinstance(raw.get("input"), dict):
        named.append(("input.main", raw["input"].get("main")))
    if isinstance(raw.get("take"), list):
        for index, take in enumerate(raw["take"]):
            if isinstance(take, dict):
                named += [(f"take[{index}].{key}", take.get(key)) for key in ("source", "captions", "external")]
    if isinstance(raw.get("audio"), dict):
        named.append(("audio.external", raw["audio"].get("external")))
    if isinstance(raw.get("captions"), dict):
        named.append(("captions.file", raw["captions"].get("file")))
    problems = []
    for key, value in named:
        if isinstance(value, str) and value and len(value) <= 4096:
            resolved = resolve_path(base_dir, value)
            if resolved is not None and not resolved.exists():
                problems.append(f"{source}: {key}: file not found: {resolved}")
    return problems


def job_errors_beyond_schema(raw: dict[str, Any], source: Path, preset_name: str) -> list[ConfigError]:
    """The preset's and the [youtube] table's errors of a raw job (empty when both are fine)."""
    errors: list[ConfigError] = []
    try:
        _preset_layers(preset_name)
    except ConfigError as error:
        if error.file is None:
            error.file = str(source)
        errors.append(error)
    youtube = raw.get("youtube")
    if isinstance(youtube, dict):
        try:
            parse_youtube_section(youtube, file=source)
        except ConfigError as error:
            errors.append(error)
    return errors


def check_whole_job(raw: dict[str, Any], source: Path, preset_name: str, schema_problems: list[str]) -> None:
    """Raise one ConfigError listing every problem of a job: schema, preset, [youtube]
    table, and the input files it names that do not exist.

    A single problem is raised as it always was (a missing input alone is left to the
    render's own one-line check); two or more come together, so a bad job takes one run
    to learn, not three."""
    errors = job_errors_beyond_schema(raw, source, preset_name)
    if not schema_problems and len(errors) <= 1:
        if errors and not missing_input_problems(raw, source):
            raise errors[0]
        if not errors:
            return
    problems = list(schema_problems)
    for error in errors:
        named = str(error.file or source)
        problems += [p if p.startswith(named) else f"{named}: {p}" for p in error.problems] if error.problems else [
            f"{error.file or source}: {error.field + ': ' if error.field else ''}{error.message}"]
    problems += missing_input_problems(raw, source)
    raise ConfigError(f"invalid job file ({len(problems)} problem{'s' if len(problems) != 1 else ''})",
                      file=source, problems=problems)


def quick_job(
    input_path: Path,
    output_path: Path,
    *,
    preset_name: str = "youtube",
    flag_layer: dict[str, Any] | None = None,
) -> Job:
    """A job for `wayfinder render INPUT -o OUT` with no job file."""
    layers = _preset_layers(preset_name)
    if flag_layer:
        layers.append(("command line", flag_layer))
    return Job(
        source=None,
        preset_name=preset_name,
        main_path=input_path,
        output_path=output_path,
        settings=merge_settings(layers),
        layers=tuple(name for name, _ in layers),
    )
