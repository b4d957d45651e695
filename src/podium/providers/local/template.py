"""``local/template``: the offline engine of the ``text`` task.

The runner resolves ``${...}`` references in the prompt before the engine sees it, so a template
such as ``"Meet ${inputs.product}. ${inputs.tagline}"`` arrives filled in. The engine tidies the
whitespace and writes the text as a ``text`` artifact.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from podium.errors import InvalidInput
from podium.providers.base import OutputFile, Reporter, Request, Result
from podium.providers.local.engine import Engine
from podium.spec.vocabulary import ArtifactType


def render_text(prompt: str | Mapping[str, object] | None) -> str:
    """The text of a ``text`` prompt: a plain string, or ``{template}`` / ``{text}``."""
    if prompt is None:
        return ""
    if isinstance(prompt, str):
        raw = prompt
    else:
        raw = str(prompt.get("template") or prompt.get("text") or "")
    lines = [re.sub(r"[ \t]+", " ", ln).strip() for ln in raw.strip().splitlines()]
    return "\n".join(lines)


class TemplateEngine(Engine):
    """Writes the resolved template as text."""

    name = "template"

    def run(self, request: Request, report: Reporter) -> Result:
        text = render_text(request.prompt)
        if not text:
            raise InvalidInput(
                "the text template is empty",
                where=f"step {request.step_id}",
                hint="give the step a `prompt:` string or `prompt: {template: ...}`",
            )
        out = request.work_dir / "text.txt"
        out.write_text(text + "\n", encoding="utf-8")
        return Result(
            outputs=[
                OutputFile(ArtifactType.TEXT, out, {"chars": len(text), "words": len(text.split())})
            ]
        )


ENGINE = TemplateEngine()
