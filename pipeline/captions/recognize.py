"""The local speech recognizer: faster-whisper (CTranslate2 Whisper) on this machine,
so footage never leaves the building.

Owns: where the model folder is (`--model`, else `$WAYFINDER_WHISPER_MODEL`, else
`<config folder>/models/faster-whisper-base`), refusing a folder that is not a
CTranslate2 Whisper model with what to do (exit 4, like any missing tool), loading it
with faster-whisper's own loader (never a download: a path is given), and turning its
word timestamps into `Word`s. The vocabulary list steers the decoder as faster-whisper's
`hotwords` (shown to the decoder before each window). Not as an initial prompt: on sound
with a voice but no words (a hum, a buzz) Whisper then writes the prompt back as a
caption, which hotwords alone did not do. Segments Whisper itself judges more likely
silence than speech (`no_speech_prob` over 0.5; real speech measured 0.01-0.1) are dropped.

faster-whisper is an optional dependency (`pip install 'wayfinder[captions]'`); it is
imported only here, only when a draft is made.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

from pipeline import paths
from pipeline.captions.segment import Word
from pipeline.errors import InputError, ToolError

MODEL_FILES = ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt")
DEFAULT_MODEL_NAME = "faster-whisper-base"
# The sha256 of model.bin in Systran/faster-whisper-base (revision ebe41f70d5b6), as
# its Hugging Face repository publishes it: the model the tests and the bench use.
MAX_NO_SPEECH_PROB = 0.5
WHISPER_BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"


def default_model_dir() -> Path:
    override = os.environ.get("WAYFINDER_WHISPER_MODEL")
    if override:
        return Path(override)
    return paths.user_config_dir() / "models" / DEFAULT_MODEL_NAME


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_model_dir(model_dir: Path) -> None:
    """ToolError (exit 4) naming what is missing and how to get it."""
    missing = [name for name in MODEL_FILES if not (model_dir / name).is_file()]
    if missing:
        raise ToolError(f"no speech recognition model here (missing {', '.join(missing)}); fetch one once with "
                        f"'huggingface-cli download Systran/faster-whisper-base --local-dir {model_dir}' or copy "
                        "that folder from another machine, then give it with --model or WAYFINDER_WHISPER_MODEL",
                        file=model_dir, field="model")


def hotwords(vocabulary: Sequence[str]) -> str | None:
    """The names the recognizer should expect, as faster-whisper's `hotwords`."""
    names = [name.strip() for name in vocabulary if name.strip()]
    return ", ".join(names) if names else None


class Recognizer:
    """A loaded faster-whisper model (loading takes seconds: make one, use it often)."""

    def __init__(self, model_dir: Path, *, threads: int = 0) -> None:
        check_model_dir(model_dir)
        try:
            from faster_whisper import WhisperModel
        except ModuleNotFoundError:
            raise ToolError("captions draft needs faster-whisper: pip install 'wayfinder[captions]'",
                            field="faster-whisper") from None
        try:
            self._model = WhisperModel(str(model_dir), device="cpu", compute_type="int8", cpu_threads=threads,
                                       local_files_only=True)
        except (RuntimeError, ValueError, OSError) as exc:
            raise ToolError(f"the speech model cannot be loaded: {exc}", file=model_dir, field="model") from None
        self.model_dir = model_dir

    def transcribe(self, media: Path, *, language: str = "en", vocabulary: Sequence[str] = ()) -> list[Word]:
        """Timed words of the first audio stream of `media`."""
        try:
            segments, _info = self._model.transcribe(
                str(media), language=language, word_timestamps=True, beam_size=5,
                hotwords=hotwords(vocabulary), condition_on_previous_text=False)
            return [Word(word.word.strip(), float(word.start), float(word.end))
                    for segment in segments if segment.no_speech_prob <= MAX_NO_SPEECH_PROB
                    for word in (segment.words or []) if word.word.strip()]
        except Exception as exc:  # noqa: BLE001 - PyAV and CTranslate2 raise their own kinds for a bad file
            raise InputError(f"cannot transcribe its sound: {type(exc).__name__}: {exc}", file=media,
                             field="audio") from None
