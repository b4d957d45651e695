"""Testing harnesses shipped in the package: the ``fake`` and ``fake-remote`` providers.

Use them from tests and benches (``PODIUM_ENABLE_FAKE=1``); the CLI adds their cards to the
catalog through :func:`catalog_dirs` only when the fake is enabled.
"""

from __future__ import annotations

from pathlib import Path

from podium.settings import Settings

CARDS = Path(__file__).parent / "cards"


def catalog_dirs(settings: Settings) -> list[Path]:
    """Extra card directories for the testing providers: empty unless the fake is enabled."""
    return [CARDS] if settings.enable_fake else []


__all__ = ["CARDS", "catalog_dirs"]
