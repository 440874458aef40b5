"""Deterministic demo media, synthesized with ffmpeg's lavfi sources (no downloads).

The set: a walkthrough-like main video (1080p30, 20 s, moving detail, underexposed with
a warm cast, speech-like audio with room noise, 60 Hz hum and a level jump between two
"speakers"), a talking-head-like inset (10 s, 25 fps, its own voice), a speech-only WAV,
an SRT caption file for the main video, and the walkthrough's sound as a separate
lavalier recorder heard it (44.1 kHz mono WAV, started 1.3 s before the camera, its clock
0.02 % fast, no hum), and a small logo PNG with transparency. Used by `wayfinder samples`, `make demo` and
the tests (which ask for smaller sizes).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.media import run_ffmpeg

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


def _speech_input(spec: SpeechSpec, duration_s: float) -> list[str]:
    expr = speech_expression(spec).replace(",", "\\,")
    noise = (
        f"anoisesrc=color=pink:amplitude={spec.noise_amplitude}:seed={spec.seed}"
        f":sample_rate={SPEECH_RATE_HZ}:duration={duration_s}"
    )
    graph = (
        f"aevalsrc=exprs={expr}:sample_rate={SPEECH_RATE_HZ}:duration={duration_s}[v];"
        f"{noise}[n];[v][n]amix=inputs=2:normalize=0:duration=first,"
        f"pan=stereo|c0=c0|c1=c0[out]"
    )
    return ["-f", "lavfi", "-i", graph.replace("[out]", "")]


# What a camera writes: RGB converted with the BT.709 matrix to limited range, and said
# so both in the frames (which win in FFmpeg 7+) and in the stream's header.
BT709_PICTURE = (
    "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p,"
    "setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv"
)
BT709_FLAGS = ("-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv")


def _encode_clip(
    path: Path, video: str, speech: SpeechSpec, duration_s: float, *, x264_preset: str, crf: int, audio_kbps: int
) -> Path:
    """A lavfi picture and a speech-like track, encoded as an upload-style MP4 (BT.709, tagged)."""
    args = [
        "-y", "-f", "lavfi", "-i", f"{video},{BT709_PICTURE}", *_speech_input(speech, duration_s),
        "-map", "0:v", "-map", "1:a",
        "-c:v", "libx264", "-preset", x264_preset, "-crf", str(crf), "-pix_fmt", "yuv420p", *BT709_FLAGS,
        "-c:a", "aac", "-b:a", f"{audio_kbps}k", "-ar", str(SPEECH_RATE_HZ),
        "-shortest", "-movflags", "+faststart", str(path),
    ]
    run_ffmpeg(args, total_s=duration_s, what="sample synthesis", file=path)
    return path


def make_main_video(
    path: Path,
    *,
    width_px: int = 1920,
    height_px: int = 1080,
    fps: int = 30,
    duration_s: float = 20.0,
    speech: SpeechSpec | None = None,
    x264_preset: str = "veryfast",
) -> Path:
    """A walkthrough-like clip: moving test pattern, about 1.5 EV dark, warm cast."""
    speech = speech or SpeechSpec(duration_s=duration_s, switch_s=duration_s / 2)
    video = (
        f"testsrc2=size={width_px}x{height_px}:rate={fps}:duration={duration_s},"
        # Underexpose (about -1.5 EV on linear light) and warm the cast (red up, blue down).
        "colorchannelmixer=rr=0.42:gg=0.35:bb=0.26"
    )
    return _encode_clip(path, video, speech, duration_s, x264_preset=x264_preset, crf=20, audio_kbps=192)


def make_inset_video(
    path: Path,
    *,
    width_px: int = 640,
    height_px: int = 480,
    fps: int = 25,
    duration_s: float = 10.0,
) -> Path:
    """A talking-head-like inset: a different size and rate, its own voice."""
    speech = SpeechSpec(duration_s=duration_s, switch_s=duration_s + 1, f0_a_hz=180.0, amplitude_a=0.2,
                        hum_amplitude=0.0, seed=11)
    video = (
        f"testsrc=size={width_px}x{height_px}:rate={fps}:duration={duration_s},"
        "hue=h=60:s=0.6"
    )
    return _encode_clip(path, video, speech, duration_s, x264_preset="veryfast", crf=22, audio_kbps=128)


def make_speech_wav(path: Path, *, duration_s: float = 20.0) -> Path:
    speech = SpeechSpec(duration_s=duration_s, switch_s=duration_s / 2)
    args = ["-y", *_speech_input(speech, duration_s), "-c:a", "pcm_s16le", str(path)]
    run_ffmpeg(args, total_s=duration_s, what="sample synthesis", file=path)
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


def write_samples(folder: Path) -> dict[str, Path]:
    """Write the whole demo set into `folder` (created if needed); returns name -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    walkthrough = make_main_video(folder / "walkthrough.mp4")
    return {
        "walkthrough": walkthrough,
        "guide": make_inset_video(folder / "guide.mp4"),
        "speech": make_speech_wav(folder / "speech.wav"),
        "captions": write_srt(folder / "walkthrough.srt"),
        "lav": make_lav_wav(folder / "walkthrough-lav.wav", walkthrough),
        "logo": make_logo_png(folder / "logo.png"),
    }
