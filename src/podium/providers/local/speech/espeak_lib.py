"""espeak-ng as a library, from the ``espeakng-loader`` wheel: the voice when no program is.

On a machine where ``make setup`` could not install the Debian ``espeak-ng`` program (no root),
the wheel still ships ``libespeak-ng`` and its data; this module drives it through ctypes in
synchronous mode, collecting the samples its callback hands over. The library keeps global
state, so one lock serialises calls within a process.
"""

from __future__ import annotations

import ctypes
import threading
from typing import Any

import numpy as np

from podium.errors import BadOutput, Unavailable

_SYNCHRONOUS = 2  # espeak_AUDIO_OUTPUT: AUDIO_OUTPUT_SYNCHRONOUS
_CHARS_UTF8 = 1
_POS_CHARACTER = 1
_RATE, _PITCH = 1, 3  # espeak_PARAMETER
_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)

_LOCK = threading.Lock()
_STATE: dict[str, Any] = {}


def available() -> bool:
    """Whether the ``espeakng-loader`` wheel (library and data) is installed."""
    try:
        import espeakng_loader

        espeakng_loader.get_data_path()
    except (ImportError, RuntimeError):
        return False
    return True


def _library() -> tuple[Any, int]:
    """The initialised library and its sample rate (once per process)."""
    if "lib" not in _STATE:
        try:
            import espeakng_loader

            lib = ctypes.CDLL(espeakng_loader.get_library_path())
            data = espeakng_loader.get_data_path().encode()
        except (ImportError, OSError, RuntimeError) as exc:
            raise Unavailable(
                f"espeak-ng library not loadable: {exc}", hint="pip install espeakng-loader"
            ) from exc
        lib.espeak_Initialize.restype = ctypes.c_int
        rate = lib.espeak_Initialize(_SYNCHRONOUS, 0, data, 0)
        if rate <= 0:
            raise Unavailable("espeak-ng library failed to initialise", hint="reinstall it")

        def collect(wav: Any, count: int, events: Any) -> int:
            if count > 0:
                _STATE["chunks"].append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
            return 0

        _STATE["callback"] = _CALLBACK(collect)  # kept alive: the library holds the pointer
        lib.espeak_SetSynthCallback(_STATE["callback"])
        _STATE["lib"], _STATE["rate"], _STATE["chunks"] = lib, rate, []
    return _STATE["lib"], int(_STATE["rate"])


def synthesize(text: str, voice: str, wpm: int, pitch: int) -> tuple[np.ndarray, int]:
    """Float32 samples and their rate for ``text``.

    Raises:
        BadOutput: the library produced no audio.
    """
    with _LOCK:
        lib, rate = _library()
        lib.espeak_SetVoiceByName(voice.encode())
        lib.espeak_SetParameter(_RATE, wpm, 0)
        lib.espeak_SetParameter(_PITCH, pitch, 0)
        _STATE["chunks"] = []
        data = text.encode("utf-8")
        status = lib.espeak_Synth(
            data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None
        )
        lib.espeak_Synchronize()
        chunks = _STATE["chunks"]
        _STATE["chunks"] = []
    if status != 0 or not chunks:
        raise BadOutput(f"espeak-ng library made no audio (status {status})")
    samples = np.concatenate(chunks).astype(np.float32) / 32768.0
    return samples, rate
