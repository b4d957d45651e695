"""Lock files: ``x.lock`` beside ``x.yaml`` pins the model@version each step resolved to.

Written only by ``podium lock`` (a run never writes one); read by runs so a re-run reproduces.
The file is YAML::

    pipeline: promo
    spec_hash: 3f2a...
    steps:
      hero: local/studio@1.0.0
      voice: local/piper@1.2.0
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from podium.errors import InvalidInput

HEADER = "# Written by `podium lock`; move it on purpose with `podium lock --upgrade [STEP]`.\n"


@dataclass(frozen=True)
class LockFile:
    """The contents of a lock file.

    Attributes:
        pipeline: the pipeline's name.
        spec_hash: the hash of the spec the lock was made from.
        steps: step id -> ``provider/model@version``.
    """

    pipeline: str
    spec_hash: str
    steps: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON/YAML-ready form."""
        return {"pipeline": self.pipeline, "spec_hash": self.spec_hash, "steps": dict(self.steps)}


def lock_path(spec_path: str | Path) -> Path:
    """Where the lock of ``spec_path`` lives: the same name with a ``.lock`` suffix."""
    return Path(spec_path).with_suffix(".lock")


def load_lock(spec_path: str | Path) -> LockFile | None:
    """The lock file beside ``spec_path``, or ``None`` if there is none.

    Raises:
        InvalidInput: the file exists but is not a lock file (says which and what to do).
    """
    path = lock_path(spec_path)
    if not path.exists():
        return None
    fix = f"fix it or delete it and run `podium lock {spec_path}`"
    try:
        data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except (YAMLError, UnicodeDecodeError) as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        where = f"{path}:{line + 1}" if line is not None else str(path)
        raise InvalidInput("the lock file is not valid YAML", where=where, hint=fix) from exc
    steps = data.get("steps") if isinstance(data, dict) else None
    if not isinstance(steps, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and "@" in v for k, v in steps.items()
    ):
        raise InvalidInput(
            "the lock file needs `steps:` mapping each step id to provider/model@version",
            where=str(path),
            hint=fix,
        )
    return LockFile(
        pipeline=str(data.get("pipeline", "")),
        spec_hash=str(data.get("spec_hash", "")),
        steps=dict(steps),
    )


def read_lock(spec_path: str | Path) -> dict[str, str] | None:
    """Step id -> ``provider/model@version`` from the lock beside ``spec_path``, if any."""
    lock = load_lock(spec_path)
    return dict(lock.steps) if lock else None


def write_lock(
    spec_path: str | Path, pipeline: str, spec_hash: str, steps: Mapping[str, str]
) -> Path:
    """Write the lock beside ``spec_path`` atomically; return its path.

    Args:
        spec_path: the pipeline spec.
        pipeline: the pipeline's name.
        spec_hash: the hash of the spec text the lock was resolved from.
        steps: step id -> ``provider/model@version`` (in the spec's order).
    """
    path = lock_path(spec_path)
    yaml = YAML()
    yaml.default_flow_style = False
    buf = io.StringIO()
    buf.write(HEADER)
    yaml.dump(LockFile(pipeline, spec_hash, dict(steps)).to_dict(), buf)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(buf.getvalue())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path
