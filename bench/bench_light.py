"""Benchmark of automatic light: corridor-like scenes (tests/light_scenes.py) degraded in
known ways (underexposure, cool and warm casts, lifted blacks; one neutral, well-exposed
scene), corrected by Wayfinder's auto light (a real render, `youtube-draft`, x264
ultrafast CRF 1) and by ffmpeg's stock filters (`grayworld,normalize`, `greyedge`), and
compared with the undegraded original by SSIM (ffmpeg's ssim filter, All).

Run:  .venv/bin/python bench/bench_light.py     (writes the "Auto light" section of
      bench/RESULTS.md; --no-write to only print; --size WxH; media in bench/work/light/).
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date
from pathlib import Path

import common  # noqa: E402  (bench/common.py: machine description, RESULTS.md sections)

from pipeline import config  # noqa: E402
from pipeline.render import run_render  # noqa: E402
from tests.light_scenes import SCENES, Scene, apply_stock, make_degraded, make_original, ssim  # noqa: E402

WORK = common.WORK / "light"
TITLE = "## Auto light"
STOCK = {"grayworld,normalize": "grayworld,normalize", "greyedge": "greyedge"}
BAR_SSIM, NEUTRAL_BAR_SSIM = 0.97, 0.99


def render_auto(source: Path, out: Path) -> tuple[Path, dict[str, object]]:
    job = out.with_suffix(".toml")
    job.write_text(f"""
preset = "youtube-draft"
[input]
main = "{source}"
[output]
path = "{out}"
[video]
x264_preset = "ultrafast"
crf = 1
[light]
mode = "auto"
""")
    result = run_render(config.load_job(job), force=True)
    return result.plan.output_path, result.measurements["picture"]["light"]  # type: ignore[index,return-value]


def measure(scene: Scene, size: tuple[int, int]) -> dict[str, object]:
    folder = WORK / scene.name
    folder.mkdir(parents=True, exist_ok=True)
    original = make_original(folder / "original.mkv", scene.layout, shots=len(scene.shots),
                             width_px=size[0], height_px=size[1])
    degraded = make_degraded(original, folder / "degraded.mkv", scene.shots)
    started = time.monotonic()
    corrected, report = render_auto(degraded, folder / "wayfinder.mp4")
    row: dict[str, object] = {"scene": scene.name, "render_s": time.monotonic() - started,
                              "wayfinder": ssim(corrected, original), "none": ssim(degraded, original)}
    for label, filters in STOCK.items():
        row[label] = ssim(apply_stock(degraded, folder / f"{label.replace(',', '_')}.mp4", filters), original)
    row["winners"] = "/".join(str(shot["white_balance"]["winner"]) for shot in report["shots"])  # type: ignore[index]
    (folder / "light_report.json").write_text(json.dumps(report, indent=2))
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-write", action="store_true", help="print the section, do not write RESULTS.md")
    parser.add_argument("--size", default="640x360", help="frame size of the scenes (default 640x360)")
    parser.add_argument("--scenes", default="", help="comma-separated scene names (default: all)")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    chosen = [s for s in SCENES if not args.scenes or s.name in args.scenes.split(",")]
    rows = []
    for scene in chosen:
        row = measure(scene, size)  # type: ignore[arg-type]
        rows.append((scene, row))
        print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}), flush=True)
    lines = []
    for scene, row in rows:
        neutral = all(d.is_identity for d in scene.shots)
        stock_best = max(float(row[label]) for label in STOCK)  # type: ignore[arg-type]
        ours = float(row["wayfinder"])  # type: ignore[arg-type]
        if neutral:
            verdict = "PASS" if ours >= NEUTRAL_BAR_SSIM else "FAIL"
        else:
            beats = ours > float(row["grayworld,normalize"])  # type: ignore[arg-type]
            verdict = "PASS" if ours >= BAR_SSIM and beats else "FAIL"
        lines.append(
            f"| {scene.name} | {'; '.join(d.describe() for d in scene.shots)} | {ours:.4f} | "
            f"{float(row['grayworld,normalize']):.4f} | {float(row['greyedge']):.4f} | {float(row['none']):.4f} | "  # type: ignore[arg-type]
            f"{row['winners']} | {verdict}{' (above both stock filters)' if ours > stock_best else ''} |"
        )
    command = ".venv/bin/python bench/bench_light.py" + (f" --size {args.size}" if args.size != "640x360" else "")
    text = "\n".join([
        TITLE, "",
        f"Run: `{command}` ({date.today().isoformat()}). {common.machine_line()} "
        "The machine was shared and loaded (a CPU hog and other test runs): only the SSIM columns matter here.",
        "",
        f"Scenes: tests/light_scenes.py, {size[0]}x{size[1]} 25 fps, 1.5 s per shot, lossless. Degradations, "
        "in camera order: ffmpeg `colortemperature` (6500 K is neutral), `exposure` (EV on code values), "
        "`colorlevels` output black (lifted blacks). Wayfinder: `wayfinder render` with `[light] mode = \"auto\"` "
        "(`youtube-draft`, x264 ultrafast CRF 1); stock filters on the degraded file, encoded the same way. SSIM: ffmpeg's "
        f"ssim filter, All, against the undegraded original. Bar: >= {BAR_SSIM} and above `grayworld,normalize` "
        f"on every degraded scene; the neutral scene >= {NEUTRAL_BAR_SSIM}.",
        "",
        "| scene | degradation | Wayfinder | grayworld,normalize | greyedge | none | white balance winner | result |",
        "|---|---|---:|---:|---:|---:|---|---|",
        *lines, "",
        "Before this change (main at 5bdb364: one luma gain and a chroma slope in YUV, eq and colorcorrect), the "
        "same scenes at 320x180 through tests/integration/test_light.py scored: dark-cool 0.986, dark-warm 0.919, "
        "mild-warm 0.984, strong-cool 0.987, lifted-blacks 0.946, lifted-warm 0.940, two-shot 0.988 "
        "(all below `grayworld,normalize`).",
        "",
        "Applied in 16-bit RGB (`colorlevels` on `gbrp16le`, main at 30d97b1, 640x360, 2026-12-07), the same "
        "corrections scored: dark-cool 0.9897, dark-warm 0.9807, mild-warm 0.9932, strong-cool 0.9929, lifted-blacks "
        "0.9928, lifted-warm 0.9878, passer-by 0.9896, two-shot 0.9897, neutral 0.9993. Since issue 16 they are applied "
        "on the Y'CbCr planes (`colorcorrect` + `lutyuv`, pipeline/video/light_graph.py), at about a tenth of the "
        "filter cost (see \"Speed overhead (issue 16)\").",
        "",
    ])
    print(text)
    if not args.no_write:
        common.write_section(TITLE, text)


if __name__ == "__main__":
    main()
