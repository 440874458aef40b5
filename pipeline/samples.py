"""The demo media set (no downloads): what it holds, how each file is made, and when a
file already on disk can be kept.

The set: a walkthrough (1080p30, 20 s: a walk down a hospital corridor, a cut at half
time to a darker, more orange side corridor, the guide talking and then a colleague 12 dB
quieter, with reverb, room noise and a little 60 Hz hum), a talking-head inset (10 s,
640x480 at 25 fps, a guide in an office whose mouth moves with their voice), the
walkthrough's voice alone as a WAV, an SRT caption file, and the walkthrough's sound as a
separate lavalier recorder heard it (44.1 kHz mono WAV, started 1.3 s before the camera,
its clock 0.02 % fast, no hum), and a small logo PNG with transparency. Pictures come from pipeline.sample_scenes, voices from
pipeline.sample_voice. Used by `wayfinder samples`, `make demo` and the tests (which ask
for smaller sizes).

Each file is written to a hidden partial name and renamed into place, and recorded in
`.wayfinder-samples.json` with the recipe that made it (RECIPE_VERSION and its sizes) and
its size and modification time: `write_samples` keeps a file whose record still matches,
so a second `make demo` synthesizes nothing.

`SpeechSpec` and `speech_expression` are the older lavfi voice (harmonics, a syllable
envelope, hum) that tests and benches use as a signal whose numbers they know.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from scipy.io import wavfile

from pipeline.media import run_ffmpeg
from pipeline.sample_scenes import CorridorLook, CorridorShot, corridor_frames, guide_frames
from pipeline.sample_voice import Room, Voice, add_room, frame_levels, synthesize_voice

# Bump when any file of the set would come out different: sets made before are remade.
RECIPE_VERSION = 2
RECORD_NAME = ".wayfinder-samples.json"

SPEECH_RATE_HZ = 48000


@dataclass(frozen=True)
class SpeechSpec:
    """How the speech-like signal is made; tests derive expected values from this."""

    duration_s: float = 20.0
    switch_s: float = 10.0  # speaker 2 starts here
    f0_a_hz: float = 130.0
    f0_b_hz: float = 210.0
    amplitude_a: float = 0.30
    amplitude_b: float = 0.075  # 12 dB quieter: the level jump a leveler should fix
    syllable_hz: float = 4.0
    phrase_s: float = 4.0  # each phrase: 3 s of syllables, then 1 s of pause
    pause_s: float = 1.0
    hum_hz: float = 60.0
    hum_amplitude: float = 0.01  # -40 dBFS fundamental, plus 3rd harmonic at -46 dBFS
    noise_amplitude: float = 0.004
    intonation: float = 0.08  # pitch glides +-8% around f0
    intonation_hz: float = 0.9
    seed: int = 7


def speech_expression(spec: SpeechSpec) -> str:
    """An aevalsrc expression: voice-band harmonics with intonation, a syllable envelope,
    pauses between phrases, and mains hum.

    The pitch glides +-`intonation` around f0 (as real voices do), so voice partials are
    spread over many hertz while the hum stays a sharp line at exact multiples of the
    mains frequency.
    """
    rate = spec.intonation_hz
    depth = spec.intonation

    def voice(f0: float) -> str:
        # Phase is the integral of f0*(1 + depth*sin(2*pi*rate*t)).
        phase = f"({f0}*t-{f0 * depth / (2 * 3.141592653589793 * rate):.6f}*cos(2*PI*{rate}*t))"
        # Harmonics up to ~3 kHz with a 1/k roll-off: the energy sits in the voice band.
        return "+".join(f"sin(2*PI*{k}*{phase})/{k}" for k in range(1, 15))

    speaker_a = f"lt(t,{spec.switch_s})"
    amplitude = f"if({speaker_a},{spec.amplitude_a},{spec.amplitude_b})"
    voices = f"if({speaker_a},{voice(spec.f0_a_hz)},{voice(spec.f0_b_hz)})"
    envelope = f"pow(abs(sin(PI*{spec.syllable_hz / 2}*t)),2)"
    talking = f"lt(mod(t,{spec.phrase_s}),{spec.phrase_s - spec.pause_s})"
    hum = f"{spec.hum_amplitude}*sin(2*PI*{spec.hum_hz}*t)+{spec.hum_amplitude / 2}*sin(2*PI*{3 * spec.hum_hz}*t)"
    return f"{amplitude}*{talking}*{envelope}*({voices})/3.3+{hum}"


# What a camera writes: RGB converted with the BT.709 matrix to limited range, and said
# so both in the frames (which win in FFmpeg 7+) and in the stream's header.
BT709_PICTURE = (
    "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p,"
    "setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv"
)
BT709_FLAGS = ("-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv")


def _write_wav(path: Path, sound: np.ndarray, rate_hz: int, channels: int) -> None:
    pcm = np.round(np.clip(sound, -1.0, 1.0) * 32767).astype(np.int16)
    wavfile.write(path, rate_hz, np.repeat(pcm[:, None], channels, axis=1) if channels > 1 else pcm)


def _encode_frames(
    path: Path, frames: Iterator[bytes], size_px: tuple[int, int], fps: int, sound: np.ndarray, duration_s: float,
    *, x264_preset: str, crf: int, audio_kbps: int, picture_filter: str = "",
) -> Path:
    """Raw RGB frames (fed through ffmpeg's stdin) and a mono voice (as stereo), encoded as an
    upload-style MP4 (H.264 BT.709, tagged; AAC 48 kHz)."""
    with tempfile.TemporaryDirectory(prefix=".samples-", dir=path.parent) as work:
        voice = Path(work) / "voice.wav"
        _write_wav(voice, sound, SPEECH_RATE_HZ, 2)
        args = [
            "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{size_px[0]}x{size_px[1]}", "-r", str(fps),
            "-i", "pipe:0", "-i", str(voice),
            "-vf", f"{picture_filter}{BT709_PICTURE}", "-map", "0:v", "-map", "1:a",
            "-c:v", "libx264", "-preset", x264_preset, "-crf", str(crf), "-pix_fmt", "yuv420p", *BT709_FLAGS,
            "-c:a", "aac", "-b:a", f"{audio_kbps}k", "-ar", str(SPEECH_RATE_HZ),
            "-t", f"{duration_s}", "-movflags", "+faststart", str(path),
        ]
        run_ffmpeg(args, total_s=duration_s, what="sample synthesis", file=path, stdin_chunks=frames)
    return path


# The walkthrough's two speakers: the guide, then a colleague 12 dB quieter (the level jump
# a leveler should fix), in a corridor with ventilation noise and a little mains hum.
WALKTHROUGH_VOICES = (Voice(f0_hz=118.0, formant_scale=1.0, peak=0.30), Voice(f0_hz=205.0, formant_scale=1.17, peak=0.075))
WALKTHROUGH_ROOM = Room(reverb_rt60_s=0.45, reverb_mix=0.2, noise_rms=0.0025, hum_hz=60.0, hum_amplitude=0.006)
GUIDE_VOICE = Voice(f0_hz=190.0, formant_scale=1.15, peak=0.22)
GUIDE_ROOM = Room(reverb_rt60_s=0.25, reverb_mix=0.1, noise_rms=0.0012, hum_amplitude=0.0)

# Two shots of the walk, cut at half time. Both were shot too dark and warm (a phone
# exposing for the ceiling lights under warm-white tubes); the second, a side corridor
# with its lights half off and lit by old tungsten lamps, more so. Their walls, ceilings
# and doors are near-neutral, as a hospital's are: the cast is the light's, not the
# paint's, so auto light can measure it.
SHOT_1 = CorridorShot(CorridorLook(), start_m=0.0, speed_m_s=1.1, exposure=0.48, tint=(1.0, 0.86, 0.66))
SHOT_2 = CorridorShot(
    CorridorLook(width_m=3.2, height_m=2.9, wall=(206, 210, 212), floor=(150, 150, 146), ceiling=(232, 232, 230),
                 end_wall=(220, 225, 230), door=(70, 110, 150), line=(30, 96, 200), light_every_m=5.0,
                 door_every_m=6.0, sign_at_m=14.0, sign_text="Pharmacy \u2190   Clinic desk \u2192",
                 sign_colour=(20, 100, 70)),
    start_m=2.0, speed_m_s=0.9, exposure=0.36, tint=(1.0, 0.8, 0.55),
)


def walkthrough_voice(duration_s: float, *, with_room: bool = True) -> np.ndarray:
    """The walkthrough's sound, mono: the guide until half time, then a quieter colleague."""
    half_s = duration_s / 2
    dry = synthesize_voice([(0.0, half_s, WALKTHROUGH_VOICES[0]), (half_s, duration_s, WALKTHROUGH_VOICES[1])],
                           duration_s, SPEECH_RATE_HZ, seed=7)
    return add_room(dry, SPEECH_RATE_HZ, WALKTHROUGH_ROOM, seed=8) if with_room else dry


def make_main_video(
    path: Path,
    *,
    width_px: int = 1920,
    height_px: int = 1080,
    fps: int = 30,
    duration_s: float = 20.0,
    x264_preset: str = "veryfast",
) -> Path:
    """The walkthrough: a walk down a hospital corridor, a cut at half time to a side
    corridor, both shot dark and warm; the guide talking, then a quieter colleague."""
    shots = [(0.0, SHOT_1), (duration_s / 2, SHOT_2)]
    frames = corridor_frames(shots, duration_s, fps, width_px, height_px)
    return _encode_frames(path, frames, (width_px, height_px), fps, walkthrough_voice(duration_s), duration_s,
                          x264_preset=x264_preset, crf=20, audio_kbps=192, picture_filter="vignette=angle=PI/4.5,")


def make_inset_video(
    path: Path,
    *,
    width_px: int = 640,
    height_px: int = 480,
    fps: int = 25,
    duration_s: float = 10.0,
) -> Path:
    """A talking head for insets: a guide in an office, a different size and rate, its own voice."""
    dry = synthesize_voice([(0.0, duration_s, GUIDE_VOICE)], duration_s, SPEECH_RATE_HZ, seed=11)
    frames_n = int(round(duration_s * fps))
    levels = frame_levels(dry, SPEECH_RATE_HZ, fps, frames_n)
    frames = guide_frames(levels, fps, width_px, height_px)
    sound = add_room(dry, SPEECH_RATE_HZ, GUIDE_ROOM, seed=12)
    return _encode_frames(path, frames, (width_px, height_px), fps, sound, duration_s,
                          x264_preset="veryfast", crf=22, audio_kbps=128)


def make_speech_wav(path: Path, *, duration_s: float = 20.0) -> Path:
    """The walkthrough's voice alone, as a 48 kHz stereo 16-bit WAV (the podcast sample)."""
    _write_wav(path, walkthrough_voice(duration_s), SPEECH_RATE_HZ, 2)
    return path


# The lavalier sample's clock: started LAV_OFFSET_S before the camera and running
# 200 ppm fast, so each camera second lasts 1.0002 s on it: the camera's sound, resampled
# to 50 kHz and declared 49.99 kHz (50000 / 49990 = 1.0002), is played that much slower.
LAV_OFFSET_S = 1.3
LAV_STRETCH_HZ = (50_000, 49_990)
LAV_RATE_HZ = 44_100


def make_lav_wav(path: Path, camera: Path, *, tail_s: float = 0.5) -> Path:
    """The camera's sound as a lavalier recorder with its own clock would have it: mono
    16-bit at LAV_RATE_HZ, LAV_OFFSET_S of room tone before the camera's first sample,
    stretched by LAV_STRETCH_HZ, without the mains hum (high-passed), running on
    `tail_s` past the camera's end."""
    intermediate_hz, declared_hz = LAV_STRETCH_HZ
    chain = ",".join([
        "highpass=f=150:poles=2", "highpass=f=150:poles=2",
        f"aresample={intermediate_hz}", f"asetrate={declared_hz}", "asetpts=N/SR/TB",
        f"aresample={LAV_RATE_HZ}", "pan=mono|c0=c0",
        f"adelay=delays={round(LAV_OFFSET_S * LAV_RATE_HZ)}S:all=1", f"apad=pad_dur={tail_s}",
    ])
    args = ["-y", "-i", str(camera), "-map", "0:a:0", "-af", chain, "-c:a", "pcm_s16le", str(path)]
    run_ffmpeg(args, what="sample synthesis", file=path)
    return path


# The shaky take: the walkthrough's first seconds seen through a window that bobs at a
# walker's step (about 2 Hz) and sways (0.8 Hz), as a hand-held phone would add: shifts of
# up to 1.6 % of the width, 1.8 % of the height.
SHAKY_DURATION_S = 6.0
SHAKY_CROP = ("crop=w=trunc(iw*0.9/2)*2:h=trunc(ih*0.9/2)*2"
              ":x='iw*0.05+iw*0.010*sin(2*PI*1.9*t)+iw*0.006*sin(2*PI*0.8*t+1)'"
              ":y='ih*0.05+ih*0.018*sin(2*PI*2.1*t+2)'")


def make_shaky_take(path: Path, camera: Path, *, duration_s: float = SHAKY_DURATION_S) -> Path:
    """A shaky second take for stabilization: `camera`'s first `duration_s` with a
    walker's bob and sway (SHAKY_CROP), at 90 % of its size, with its sound."""
    args = ["-y", "-i", str(camera), "-t", f"{duration_s}", "-vf", f"{SHAKY_CROP},format=yuv420p",
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-c:a", "aac", "-b:a", "128k",
            "-f", "mp4", str(path)]
    run_ffmpeg(args, total_s=duration_s, what="sample synthesis", file=path)
    return path


def write_srt(path: Path, *, duration_s: float = 20.0) -> Path:
    # Two lines of at most 42 characters each, as the caption rules ask (pipeline.captions).
    lines = [
        "Welcome to the Riverside Clinic\nwalkthrough.",
        "From the parking ramp,\ntake the lift to level 2.",
        "Follow the blue line\nto the main entrance.",
        "The clinic desk is on your right,\npast the pharmacy.",
    ]
    step_s = duration_s / len(lines)

    def stamp(seconds: float) -> str:
        ms = int(round(seconds * 1000))
        return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"

    blocks = [
        f"{i + 1}\n{stamp(i * step_s)} --> {stamp((i + 1) * step_s - 0.2)}\n{text}\n"
        for i, text in enumerate(lines)
    ]
    path.write_text("\n".join(blocks), encoding="utf-8")
    return path


def make_logo_png(path: Path, *, size_px: int = 256) -> Path:
    """A hospital-style logo bug: a white rounded square with a blue cross, on a fully
    transparent background (alpha matters: the corners must not show as a box)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (size_px, size_px), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle([0, 0, size_px - 1, size_px - 1], radius=size_px // 5, fill=(255, 255, 255, 255))
    arm, reach = size_px // 6, size_px // 2 - size_px // 8
    centre = size_px // 2
    draw.rectangle([centre - arm, centre - reach, centre + arm, centre + reach], fill=(29, 53, 87, 255))
    draw.rectangle([centre - reach, centre - arm, centre + reach, centre + arm], fill=(29, 53, 87, 255))
    image.save(path)
    return path


@dataclass(frozen=True)
class SampleSizes:
    """Picture sizes of the set; the tests ask for smaller ones than the demo."""

    main_px: tuple[int, int] = (1920, 1080)
    main_fps: int = 30
    guide_px: tuple[int, int] = (640, 480)
    guide_fps: int = 25
    duration_s: float = 20.0


FULL_SIZES = SampleSizes()
Report = Callable[[str, Path, bool], None]  # (name, path, made now) for each file


def _signature(path: Path) -> dict[str, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return {"size_bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _recipe_key(name: str, sizes: SampleSizes, depends_on: dict[str, int] | None) -> str:
    text = json.dumps({"recipe": RECIPE_VERSION, "name": name, "sizes": asdict(sizes), "from": depends_on},
                      sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _read_record(folder: Path) -> dict[str, dict[str, object]]:
    try:
        record = json.loads((folder / RECORD_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return record.get("files", {}) if isinstance(record, dict) else {}


def _write_record(folder: Path, files: dict[str, dict[str, object]]) -> None:
    partial = folder / f".{RECORD_NAME}.partial"
    partial.write_text(json.dumps({"recipe": RECIPE_VERSION, "files": files}, indent=2, sort_keys=True),
                       encoding="utf-8")
    os.replace(partial, folder / RECORD_NAME)


def write_samples(
    folder: Path, *, sizes: SampleSizes | None = None, force: bool = False, report: Report | None = None
) -> dict[str, Path]:
    """Write the demo set into `folder` (created if needed); returns name -> path.

    A file whose record (recipe, size, modification time) still matches is kept, unless
    `force`. The lavalier track is made from the walkthrough, so it follows it.
    """
    sizes = sizes or FULL_SIZES
    folder.mkdir(parents=True, exist_ok=True)
    files = _read_record(folder)
    main_w, main_h = sizes.main_px
    guide_w, guide_h = sizes.guide_px
    duration_s = sizes.duration_s
    makers: list[tuple[str, str, Callable[[Path], Path], str | None]] = [
        ("walkthrough", "walkthrough.mp4", lambda p: make_main_video(
            p, width_px=main_w, height_px=main_h, fps=sizes.main_fps, duration_s=duration_s), None),
        ("guide", "guide.mp4", lambda p: make_inset_video(
            p, width_px=guide_w, height_px=guide_h, fps=sizes.guide_fps, duration_s=duration_s / 2), None),
        ("speech", "speech.wav", lambda p: make_speech_wav(p, duration_s=duration_s), None),
        ("captions", "walkthrough.srt", lambda p: write_srt(p, duration_s=duration_s), None),
        ("lav", "walkthrough-lav.wav", lambda p: make_lav_wav(p, folder / "walkthrough.mp4"), "walkthrough.mp4"),
        ("logo", "logo.png", make_logo_png, None),
        ("shaky", "shaky-corridor.mp4", lambda p: make_shaky_take(p, folder / "walkthrough.mp4"), "walkthrough.mp4"),
    ]
    written: dict[str, Path] = {}
    for name, file_name, make, depends_on in makers:
        path = folder / file_name
        key = _recipe_key(name, sizes, _signature(folder / depends_on) if depends_on else None)
        known = files.get(file_name, {})
        if not force and known.get("key") == key and known.get("file") == _signature(path):
            written[name] = path
            if report:
                report(name, path, False)
            continue
        partial = folder / f".{path.stem}.partial{path.suffix}"
        try:
            make(partial)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
        files[file_name] = {"key": key, "file": _signature(path)}
        _write_record(folder, files)
        written[name] = path
        if report:
            report(name, path, True)
    return written
