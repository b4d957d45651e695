"""Loopback servers that speak each remote provider's documented protocol, with fault knobs.

Use them in tests (``with serve("fal") as server: ...``, ``server.faults.error_5xx = 2``) or by
hand: ``podium testing serve fal --port 8001`` and ``PODIUM_FAL_URL=http://127.0.0.1:8001``.
"""

from __future__ import annotations

import importlib

from podium.testing.servers.base import Faults, Loopback, QueuedJob, Stats

SERVERS: dict[str, str] = {
    "fal": "podium.testing.servers.fal:FalServer",
    "replicate": "podium.testing.servers.replicate:ReplicateServer",
    "openai": "podium.testing.servers.openai:OpenAIServer",
    "elevenlabs": "podium.testing.servers.elevenlabs:ElevenLabsServer",
    "comfyui": "podium.testing.servers.comfyui:ComfyUIServer",
}

# the settings field that points a provider at its server
URL_SETTINGS: dict[str, str] = {
    "fal": "fal_url",
    "replicate": "replicate_url",
    "openai": "openai_url",
    "elevenlabs": "elevenlabs_url",
    "comfyui": "comfyui_url",
}


def server_class(name: str) -> type[Loopback]:
    """The loopback server class for provider ``name``.

    Raises:
        KeyError: no server of that name, listing the known ones.
    """
    if name not in SERVERS:
        raise KeyError(f"no loopback server {name!r}; known: {', '.join(SERVERS)}")
    module, _, attr = SERVERS[name].partition(":")
    cls: type[Loopback] = getattr(importlib.import_module(module), attr)
    return cls


def serve(name: str, host: str = "127.0.0.1", port: int = 0) -> Loopback:
    """A (not yet started) loopback server for ``name``; use it as a context manager."""
    return server_class(name)(host, port)


def base_url(name: str, server: Loopback) -> str:
    """The base URL a provider's settings field takes for ``server``."""
    return server.url + ("/v1" if name == "openai" else "")


__all__ = [
    "SERVERS",
    "URL_SETTINGS",
    "Faults",
    "Loopback",
    "QueuedJob",
    "Stats",
    "base_url",
    "serve",
    "server_class",
]
