"""The ``podium`` command line.

Each command lives in its own module in this package and registers itself on :data:`app`;
modules are discovered here, so adding a command never edits a central list.
"""

from __future__ import annotations

import importlib
import pkgutil

from podium.cli.app import app, main

for _mod in sorted(pkgutil.iter_modules(__path__)):
    if _mod.name not in ("app",) and not _mod.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_mod.name}")

__all__ = ["app", "main"]
