"""Corridor-like test scenes for automatic light (real ffmpeg, lavfi sources): a
well-exposed original and a copy degraded in a known way, shared by the light tests and
bench/bench_light.py.

An original is a corridor seen head-on: textured neutral walls with a perspective
gradient, a tiled floor (grout lines are edges), a ceiling light near white (about
0.92), a door gap near black (about 0.03), coloured hospital signs with white lettering
bars, and a skin-toned face-sized patch with shading. The picture pans slowly and carries
temporal noise, so no frame is a flat field and frames differ. Scenes vary the wall level
(median luma about 0.38 to 0.50), the layout and the sign colours, and some leave out the
ceiling light or the door gap (then nothing in view is white, or black), or have someone
in a white coat walk through, so that no estimate is tuned to one picture.

A degradation is applied in the order a camera would: the light's colour (ffmpeg's
`colortemperature`, which multiplies R, G, B by the colour of a black body at that
temperature; 6500 K is about neutral), underexposure (`exposure`: code values times
2^EV), then lifted blacks (`colorlevels` output black point: out = lift + (1 - lift) * in).
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

from pipeline.media import find_ffmpeg

LOSSLESS = ("-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-pix_fmt", "yuv420p",
            "-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709", "-color_range", "tv")
TAG = "setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv"
NEUTRAL_K = 6500


@dataclass(frozen=True)
class Layout:
    """What differs between originals: wall level (RGB code), where things are, sign colours."""

    wall_code: int = 118
    shift_px: int = 0
    signs: tuple[str, ...] = ("0x00784A", "0x1F4E9C")  # hospital green, blue
    skin: str = "0xD9A38A"
    pan_px_per_s: float = 12.0
    ceiling_light: bool = True  # without it the brightest things are sign lettering
    door_gap: bool = True  # without it nothing in the picture is near black
    passer_by: bool = False  # someone in a white coat and dark trousers walks through


@dataclass(frozen=True)
class Degradation:
    exposure_ev: float = 0.0
    temperature_k: int = NEUTRAL_K
    lift: float = 0.0  # lifted black level, 0..1

    @property
    def is_identity(self) -> bool:
        return self.exposure_ev == 0 and self.temperature_k == NEUTRAL_K and self.lift == 0

    def describe(self) -> str:
        parts = []
        if self.exposure_ev:
            parts.append(f"{self.exposure_ev:+g} EV")
        if self.temperature_k != NEUTRAL_K:
            shift = self.temperature_k - NEUTRAL_K
            parts.append(f"{'cool' if shift > 0 else 'warm'} {abs(shift)} K")
        if self.lift:
            parts.append(f"blacks lifted to {self.lift:g}")
        return ", ".join(parts) or "none (neutral, well exposed)"

    def filters(self) -> str:
        chain = []
        if self.temperature_k != NEUTRAL_K:
            chain.append(f"colortemperature=temperature={self.temperature_k}")
        if self.exposure_ev:
            chain.append(f"exposure=exposure={self.exposure_ev}")
        if self.lift:
            chain.append(f"colorlevels=romin={self.lift}:gomin={self.lift}:bomin={self.lift}")
        return ",".join(chain) or "null"


@dataclass(frozen=True)
class Scene:
    name: str
    layout: Layout
    shots: tuple[Degradation, ...]  # one per shot; shots are cut end to end


SCENES: tuple[Scene, ...] = (
    Scene("dark-cool", Layout(wall_code=120), (Degradation(-1.5, 8000),)),
    Scene("dark-warm", Layout(wall_code=112, shift_px=40, signs=("0xC8102E", "0xF2C200")), (Degradation(-2.0, 4500),)),
    Scene("mild-warm", Layout(wall_code=126, shift_px=-30, signs=("0x1F4E9C", "0xF2C200"), ceiling_light=False),
          (Degradation(-1.0, 5900),)),
    Scene("strong-cool", Layout(wall_code=104, shift_px=20, skin="0xC68B6E", door_gap=False), (Degradation(-1.0, 8500),)),
    Scene("lifted-blacks", Layout(wall_code=116, shift_px=-50, signs=("0x00784A", "0xC8102E")),
          (Degradation(-1.0, 7200, lift=0.10),)),
    Scene("lifted-warm", Layout(wall_code=128, shift_px=60, skin="0xE8B9A0", ceiling_light=False), (Degradation(-1.5, 5000, lift=0.06),)),
    Scene("passer-by", Layout(wall_code=114, shift_px=-20, signs=("0xC8102E", "0x1F4E9C"), ceiling_light=False,
                              door_gap=False, passer_by=True), (Degradation(-1.5, 7600),)),
    Scene("two-shot", Layout(wall_code=118, shift_px=10), (Degradation(-1.5, 8000), Degradation(-0.75, 5200))),
    Scene("neutral", Layout(wall_code=120, shift_px=-15), (Degradation(),)),
)


def scene(name: str) -> Scene:
    return next(one for one in SCENES if one.name == name)


def ffmpeg(*args: str) -> None:
    subprocess.run([find_ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def corridor_source(layout: Layout, width_px: int, height_px: int, fps: int, duration_s: float) -> str:
    """A lavfi graph (one output) of the original corridor; sizes scale with the frame."""
    w, h, s = width_px, height_px, layout.shift_px * width_px / 320
    x = f"(X+{s:.1f}+{layout.pan_px_per_s * width_px / 320:.2f}*T)"
    floor_y, ceiling_y = 0.72 * h, 0.12 * h
    # Walls: a neutral texture over a perspective gradient (darker towards the far end).
    wall = (f"{layout.wall_code}+34*sin({x}/{w / 36:.2f})*sin(Y/{h / 26:.2f})"
            f"+22*abs({x}-{w / 2:.1f})/{w / 2:.1f}-10")
    floor = f"70+8*sin({x}/{w / 80:.2f})-45*lt(mod({x}+2*Y,{w / 8:.1f}),{max(2.0, w / 160):.1f})"
    ceiling = f"if(lt(abs({x}-{w / 2:.1f}),{w / 6:.1f}),236,150)" if layout.ceiling_light else "150"
    grey = f"clip(if(lt(Y,{ceiling_y:.1f}),{ceiling},if(gt(Y,{floor_y:.1f}),{floor},{wall})),2,253)"
    source = (f"color=c=gray:s={w}x{h}:r={fps}:d={duration_s},format=gbrp,"
              f"geq=r='{grey}':g='{grey}':b='{grey}',format=yuv420p,{TAG}")

    def box(bx: float, by: float, bw: float, bh: float, color: str) -> str:
        return (f"drawbox=x={bx * w + s:.0f}:y={by * h:.0f}:w={bw * w:.0f}:h={bh * h:.0f}:"
                f"color={color}:t=fill")

    boxes = [
        box(0.80, 0.30, 0.06, 0.40, "0x080808" if layout.door_gap else "0x505050"),  # a door gap, or a closed door
        box(0.12, 0.22, 0.22, 0.14, layout.signs[0]),
        box(0.14, 0.26, 0.16, 0.02, "0xF0F0F0"),  # lettering bars
        box(0.14, 0.31, 0.10, 0.02, "0xF0F0F0"),
        box(0.58, 0.20, 0.16, 0.12, layout.signs[1]),
        box(0.60, 0.23, 0.10, 0.02, "0xF0F0F0"),
        box(0.40, 0.42, 0.08, 0.16, layout.skin),  # a face
        box(0.41, 0.50, 0.06, 0.07, "0xA0705A"),  # its shadowed side
    ]
    picture = source + "," + ",".join(boxes)
    if not layout.passer_by:
        return picture + ",noise=c0s=5:c0f=t"
    # A white coat over dark trousers, crossing the frame once (lavfi's output pad: out0).
    pw, ph = round(0.12 * w) // 2 * 2, round(0.65 * h) // 2 * 2
    person = (f"color=c=0xF6F6F6:s={pw}x{ph}:r={fps}:d={duration_s},format=yuv420p,"
              f"drawbox=x=0:y={ph // 2}:w={pw}:h={ph - ph // 2}:color=0x101018:t=fill")
    walk = f"{1.2 * w:.0f}*t/{duration_s:g}-{0.15 * w:.0f}"
    return (f"{picture}[corridor];{person}[person];"
            f"[corridor][person]overlay=x='{walk}':y={0.25 * h:.0f}:eval=frame,noise=c0s=5:c0f=t[out0]")


def make_original(path: Path, layout: Layout, *, shots: int = 1, shot_s: float = 1.5,
                  width_px: int = 320, height_px: int = 180, fps: int = 25) -> Path:
    """The undegraded scene, losslessly coded; several shots are the same corridor from
    further along (a hard cut: the pan jumps)."""
    inputs: list[str] = []
    for index in range(shots):
        moved = replace(layout, wall_code=layout.wall_code - 6 * index, shift_px=layout.shift_px + 90 * index)
        inputs += ["-f", "lavfi", "-i", corridor_source(moved, width_px, height_px, fps, shot_s)]
    joined = "".join(f"[{i}:v]" for i in range(shots)) + f"concat=n={shots}:v=1,{TAG}[v]"
    ffmpeg(*inputs, "-filter_complex", joined, "-map", "[v]", *LOSSLESS, str(path))
    return path


def make_degraded(original: Path, path: Path, shots: tuple[Degradation, ...], *, shot_s: float = 1.5) -> Path:
    """`original` with each shot's degradation, losslessly coded."""
    parts, labels = [], []
    for index, degradation in enumerate(shots):
        start, end = index * shot_s, (index + 1) * shot_s
        parts.append(f"[0:v]trim={start}:{end},setpts=PTS-STARTPTS,{TAG},{degradation.filters()},"
                     f"format=yuv420p[s{index}]")
        labels.append(f"[s{index}]")
    graph = ";".join(parts) + ";" + "".join(labels) + f"concat=n={len(shots)}:v=1,{TAG}[v]"
    ffmpeg("-i", str(original), "-filter_complex", graph, "-map", "[v]", *LOSSLESS, str(path))
    return path


# How the light tests and the bench render (x264 ultrafast CRF 1, near lossless, so that SSIM
# measures the correction, not the encoder's noise): the stock filters'
# output is encoded the same way, so that encoding loss counts the same on both sides.
RENDER_X264 = ("-c:v", "libx264", "-preset", "ultrafast", "-crf", "1", "-pix_fmt", "yuv420p")


def apply_stock(source: Path, path: Path, filters: str) -> Path:
    """`source` through ffmpeg's own filters (the peers auto light is measured against),
    encoded as the renders under comparison are (RENDER_X264)."""
    ffmpeg("-i", str(source), "-vf", f"{TAG},{filters},format=yuv420p", *RENDER_X264, str(path))
    return path


def ssim(distorted: Path, reference: Path, *, start_s: float = 0.0, end_s: float | None = None) -> float:
    """ffmpeg's SSIM (All: Y, U and V weighted by plane size) of `distorted` against
    `reference`, over the frames from `start_s` to `end_s`."""
    window = f"trim={start_s}" + (f":{end_s}" if end_s is not None else "") + ",setpts=PTS-STARTPTS"
    result = subprocess.run(
        [find_ffmpeg(), "-hide_banner", "-i", str(distorted), "-i", str(reference),
         "-lavfi", f"[0:v]{window}[a];[1:v]{window}[b];[a][b]ssim", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    )
    return float(re.findall(r"SSIM Y:.* All:([0-9.]+)", result.stderr)[-1])
