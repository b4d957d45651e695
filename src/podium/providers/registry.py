"""Provider instances for one process, built from the ``podium.providers`` entry points.

The registry is created by whoever runs things (the CLI, the runner, a test) and passed down;
nothing is created at import time. It answers the router's question "can this card run here?"
and hands the runner the provider instance for a card.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import httpx

from podium.catalog.card import ModelCard
from podium.providers.base import Provider, load_providers
from podium.settings import Settings


class ProviderRegistry:
    """Lazily built provider instances by name.

    Args:
        settings: the process's settings.
        classes: provider classes by name (default: the ``podium.providers`` entry points).
        client_factory: builds the shared ``httpx.AsyncClient`` per remote provider.
        extra_kwargs: extra constructor keywords per provider name (e.g. the local worker pool).
    """

    def __init__(
        self,
        settings: Settings,
        classes: Mapping[str, type[Provider]] | None = None,
        client_factory: Callable[[str], httpx.AsyncClient] | None = None,
        extra_kwargs: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self.settings = settings
        self.classes = dict(classes if classes is not None else load_providers())
        self._client_factory = client_factory or _default_client
        self._extra = {k: dict(v) for k, v in (extra_kwargs or {}).items()}
        self._instances: dict[str, Provider] = {}
        self._clients: list[httpx.AsyncClient] = []

    def names(self) -> list[str]:
        """Known provider names."""
        return sorted(self.classes)

    def get(self, name: str) -> Provider:
        """The provider instance named ``name`` (KeyError if unknown)."""
        if name not in self._instances:
            cls = self.classes[name]
            client = None
            if cls.remote:
                client = self._client_factory(name)
                self._clients.append(client)
            self._instances[name] = cls(self.settings, client, **self._extra.get(name, {}))
        return self._instances[name]

    def for_card(self, card: ModelCard) -> Provider:
        """The provider serving ``card``."""
        return self.get(card.provider)

    def check(self, card: ModelCard) -> str | None:
        """Why ``card`` cannot run here (unknown provider, missing key, engine missing)."""
        off = self.settings.disabled_set
        if card.id in off or card.provider in off:
            which = card.id if card.id in off else f"provider {card.provider}"
            return f"{which} is disabled by PODIUM_DISABLED"
        if card.provider not in self.classes:
            return f"provider {card.provider!r} is not installed"
        try:
            return self.get(card.provider).check(card)
        except Exception as exc:  # a broken provider must not break planning
            return f"provider {card.provider!r} failed its check: {exc}"

    async def aclose(self) -> None:
        """Close every provider and the HTTP clients this registry created."""
        for provider in self._instances.values():
            await provider.aclose()
        for client in self._clients:
            await client.aclose()
        self._instances.clear()
        self._clients.clear()


def _default_client(name: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=httpx.Timeout(connect=10.0, read=120.0, write=60.0, pool=10.0),
        follow_redirects=True,
        headers={"User-Agent": "podium/0.1"},
    )
