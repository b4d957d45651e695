"""The JSON Schema of a pipeline spec, for editors (``podium schema``).

Generated from the pydantic models, then enriched: each task's structured prompt lists exactly
its family's fields (DESIGN, "Prompt fields per task family"), with descriptions, so an editor
completes and checks ``prompt:`` per task.
"""

from __future__ import annotations

from typing import Any

from podium.spec.models import Pipeline
from podium.spec.references import META_FIELDS
from podium.spec.vocabulary import PROMPT_FIELDS, Task

SCHEMA_URI = "https://json-schema.org/draft/2020-12/schema"

FIELD_DOCS: dict[str, str] = {
    "subject": "What the picture is of: 'a chilled can of lemon soda'.",
    "style": "Visual style: 'product photo', 'watercolor', 'cinematic'.",
    "lighting": "How it is lit: 'soft window light', 'golden hour', 'hard rim light'.",
    "composition": "How it is framed: 'centered', 'rule of thirds', 'close-up'.",
    "perspective": "Where the camera stands: 'eye level', 'overhead', 'low angle, 35mm'.",
    "mood": "The feeling: 'fresh', 'calm', 'energetic'.",
    "background": "What is behind the subject: 'pastel gradient', 'beach at noon'.",
    "material": "Surfaces and materials: 'brushed aluminium', 'frosted glass'.",
    "negative": "What must not appear.",
    "text": "Text to show (images) or to speak (speech) or to write (text).",
    "action": "What moves: 'the can spins slowly', 'a man runs'.",
    "camera": "What the camera does: 'slow dolly in', 'orbit left', 'static'.",
    "duration_s": "Length in seconds (video shots: 10 s or less; stitch longer ones).",
    "first_frame": "An image reference, or a framing {camera, composition, perspective}.",
    "last_frame": "An image reference, or a framing {camera, composition, perspective}.",
    "voice": "Voice name or description.",
    "rate": "Speaking rate, 1.0 = normal.",
    "emotion": "Delivery: 'warm', 'excited'.",
    "genre": "Musical genre: 'lo-fi', 'synth pop'.",
    "tempo_bpm": "Tempo in beats per minute.",
    "key": "Musical key: 'C major', 'A minor'.",
    "instruments": "Instruments: 'piano, soft drums'.",
    "structure": "Sections: 'intro, verse, outro'.",
    "template": "A text template; ${...} references are filled in before the engine runs.",
}
_NUMBERS = ("duration_s", "tempo_bpm", "rate")
_REF_PATTERN = r"\$\{[^{}]+\}"


def _field_schema(name: str) -> dict[str, Any]:
    doc = FIELD_DOCS.get(name, name.replace("_", " "))
    if name in _NUMBERS:
        return {
            "anyOf": [
                {"type": "number", "minimum": 0},
                {"type": "string", "pattern": _REF_PATTERN},
            ],
            "description": doc,
        }
    if name in ("first_frame", "last_frame"):
        framing = {
            "type": "object",
            "properties": {k: {"type": "string"} for k in ("camera", "composition", "perspective")},
        }
        return {"anyOf": [{"type": "string"}, framing], "description": doc}
    return {"type": "string", "description": doc}


def prompt_schema(task: Task) -> dict[str, Any]:
    """The schema of ``prompt:`` for one task: a plain string or its family's fields.

    Args:
        task: the task.
    """
    fields = PROMPT_FIELDS[task]
    structured = {
        "type": "object",
        "properties": {name: _field_schema(name) for name in fields},
        "additionalProperties": False,
    }
    return {"anyOf": [{"type": "string"}, structured, {"type": "null"}]}


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a pipeline spec.

    Returns:
        A JSON-ready dict (draft 2020-12).
    """
    schema = Pipeline.model_json_schema()
    schema["$schema"] = SCHEMA_URI
    schema["title"] = "Podium pipeline"
    schema["description"] = (
        "A Podium pipeline: typed inputs, a policy and steps. References: ${inputs.NAME}, "
        "${steps.ID.output}, ${steps.ID.outputs}, ${steps.ID.outputs[i]}, "
        f"${{steps.ID.output.{'|'.join(META_FIELDS)}}} and ${{item}} inside foreach."
    )
    inputs = schema.get("properties", {}).get("inputs")
    if inputs is not None:
        # the shorthand `product: Lemon soda` declares a string input with that default
        inputs["additionalProperties"] = {
            "anyOf": [
                {"$ref": "#/$defs/InputDecl"},
                {"type": ["string", "number", "boolean", "array"]},
            ]
        }
    step = schema.get("$defs", {}).get("Step")
    if step is not None:
        step["allOf"] = [
            {
                "if": {"properties": {"task": {"const": str(task)}}, "required": ["task"]},
                "then": {"properties": {"prompt": prompt_schema(task)}},
            }
            for task in Task
        ]
        task_def = schema["$defs"].get("Task")
        if task_def is not None:
            task_def["description"] = "What the step does (DESIGN.md, Tasks)."
    return schema
