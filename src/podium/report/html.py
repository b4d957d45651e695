"""Render a run document as one self-contained HTML page (inline CSS, thumbnails as data URIs).

The page has a header (status, cost, wall time), a step timeline drawn as bars from each step's
start and finish, a section per step (its attempts and the router's decision), the outputs with
small embedded thumbnails of images and links to the files, and the conformance table.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
from collections.abc import Mapping
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from podium.store.base import ArtifactStore

THUMB_PX = 160
MAX_THUMBS = 60


def thumbnail(artifacts: ArtifactStore, sha256: str) -> str | None:
    """A small PNG of an image artifact as a ``data:`` URI, or None if it cannot be read."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(artifacts.path(sha256)) as img:
            img.thumbnail((THUMB_PX, THUMB_PX))
            buf = io.BytesIO()
            img.convert("RGBA" if "A" in img.getbands() else "RGB").save(buf, "PNG")
    except (OSError, KeyError, UnidentifiedImageError, ValueError):
        return None
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _timeline(steps: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Bars (left and width in percent of the run's span) for steps that started."""
    started = [s for s in steps if s["started_at"]]
    times = [(s["started_at"], s["finished_at"] or s["started_at"]) for s in started]
    if not times:
        return {"span_s": 0.0, "bars": []}
    start = min(t[0] for t in times)
    span = max(max(t[1] for t in times) - start, 1e-6)
    bars = []
    for s in started:
        end = s["finished_at"] or s["started_at"]
        bars.append(
            {
                "key": s["key"],
                "status": s["status"],
                "model": s["model"] or "",
                "left": round(100 * (s["started_at"] - start) / span, 3),
                "width": round(max(0.4, 100 * (end - s["started_at"]) / span), 3),
                "duration_s": s["duration_s"],
                "cache_hit": s["cache_hit"],
            }
        )
    return {"span_s": round(span, 3), "bars": bars}


def _when(ts: float | None) -> str:
    if not ts:
        return ""
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


# the filters take whatever a record holds (None, missing, a number) and never fail a page
def _money(value: object) -> str:
    return f"${value:.4f}" if isinstance(value, int | float) else ""


def _secs(value: object) -> str:
    return f"{value:.2f} s" if isinstance(value, int | float) else ""


def _fixed(value: object, digits: int = 3) -> str:
    return f"{value:.{digits}f}" if isinstance(value, int | float) else ""


def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("podium.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    env.filters["money"] = _money
    env.filters["secs"] = _secs
    env.filters["fixed"] = _fixed
    return env


def render_html(doc: Mapping[str, Any], artifacts: ArtifactStore) -> str:
    """The summary page of a run document (see :func:`podium.report.summary.run_document`).

    Args:
        doc: the run document.
        artifacts: where image outputs are read from for thumbnails.
    """
    thumbs: dict[str, str] = {}
    for art in doc["artifacts"]:
        if art["type"] == "image" and len(thumbs) < MAX_THUMBS:
            uri = thumbnail(artifacts, art["sha256"])
            if uri:
                thumbs[art["sha256"]] = uri
    # a step's variants share one decision: show it once, under the first of them
    decision_keys: set[str] = set()
    seen: set[str] = set()
    for step in doc["steps"]:
        if step["step_id"] not in seen:
            seen.add(step["step_id"])
            decision_keys.add(step["key"])
    return (
        _env()
        .get_template("summary.html.j2")
        .render(
            decision_keys=decision_keys,
            doc=doc,
            run=doc["run"],
            totals=doc["totals"],
            timeline=_timeline(doc["steps"]),
            thumbs=thumbs,
        )
    )
