"""The local engine protocol: a CPU-bound engine that runs inside a worker process.

A local model card ``local/NAME`` is served by the engine module
``podium.providers.local.<NAME with - replaced by _>``, which exposes ``ENGINE``, an instance
of :class:`Engine`; third-party engines register by the entry point group ``podium.engines``.
Engines keep loaded models warm in module state of the worker process that runs them.
"""

from __future__ import annotations

import abc
import importlib
import importlib.metadata
import importlib.util
import shutil
from pathlib import Path

from podium.catalog.card import ModelCard
from podium.providers.base import Reporter, Request, Result


class Engine(abc.ABC):
    """One local engine.

    ``run`` is synchronous and CPU-bound; it is called in a worker process (or a thread when
    no pool is configured). It writes outputs under ``request.work_dir``.
    """

    name: str = ""

    def check(self, card: ModelCard) -> str | None:
        """Why this engine cannot run here, or ``None``. Default: ``card.engine`` requirements."""
        return check_requirements(card.engine)

    @abc.abstractmethod
    def run(self, request: Request, report: Reporter) -> Result:
        """Run the request and return its outputs."""


def check_requirements(requirements: tuple[str, ...]) -> str | None:
    """Check ``py:module``, ``bin:name`` and ``file:/path`` requirements; first failure wins."""
    for req in requirements:
        kind, _, what = req.partition(":")
        if kind == "py":
            if importlib.util.find_spec(what) is None:
                return f"Python package {what!r} is not installed (run `make setup`)"
        elif kind == "bin":
            if shutil.which(what) is None:
                return f"program {what!r} is not installed (run `make setup` as root)"
        elif kind == "file":
            alternatives = what.split("|")
            if not any(Path(p).exists() for p in alternatives):
                return f"{alternatives[0]} is missing (run `make setup` as root)"
    return None


def module_for(model: str) -> str:
    """The engine module of ``local/<model>``."""
    return "podium.providers.local." + model.replace("-", "_").replace(".", "_")


_ENGINES: dict[str, Engine] = {}


def load_engine(model: str) -> Engine | None:
    """The engine serving ``local/<model>``, or ``None`` if there is none."""
    if model in _ENGINES:
        return _ENGINES[model]
    engine: Engine | None = None
    for ep in importlib.metadata.entry_points(group="podium.engines"):
        if ep.name == model:
            loaded = ep.load()
            engine = loaded() if isinstance(loaded, type) else loaded
            break
    if engine is None:
        name = module_for(model)
        if importlib.util.find_spec(name) is None:
            return None
        module = importlib.import_module(name)
        engine = getattr(module, "ENGINE", None)
    if engine is not None:
        _ENGINES[model] = engine
    return engine
