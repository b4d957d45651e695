"""The model card: what a model can do, what it costs, how fast and good it is believed to be."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from podium.spec.vocabulary import TASK_OUTPUTS, ArtifactType, Task

PriceUnit = Literal["image", "output_second", "1k_chars", "call", "compute_second", "free"]
Capability = Literal["seed", "reference_image", "first_last_frame", "streaming", "loop"]


class _Card(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Price(_Card):
    """Price in USD per unit, with the date and source of the public figure."""

    usd: float = Field(default=0.0, ge=0)
    unit: PriceUnit = "free"
    date: dt.date | None = None
    source: str | None = None


class Priors(_Card):
    """What we believe before observing: latency, error rate and quality, each with its source."""

    latency_p50_s: float = Field(default=1.0, ge=0)
    latency_p95_s: float = Field(default=2.0, ge=0)
    cold_start_s: float = Field(default=0.0, ge=0)
    error_rate: float = Field(default=0.01, ge=0, le=1)
    quality: float = Field(default=0.5, ge=0, le=1)
    source: str = "estimate"


class Limits(_Card):
    """Limits on a model's inputs and outputs; ``None`` means unlimited / any."""

    min_duration_s: float | None = None
    max_duration_s: float | None = None
    max_width: int | None = None
    max_height: int | None = None
    fps: tuple[int, ...] | None = None
    aspect_ratios: tuple[str, ...] | None = None
    sample_rates: tuple[int, ...] | None = None
    max_chars: int | None = None
    max_items: int | None = None


class ParamSpec(_Card):
    """A model-specific parameter a step may set in ``params``."""

    type: Literal["int", "float", "string", "bool", "list", "object"] = "string"
    default: Any = None
    min: float | None = None
    max: float | None = None
    choices: tuple[Any, ...] | None = None
    description: str | None = None

    def refuses(self, value: Any) -> str | None:
        """Why this param refuses ``value`` (``"-5 is below the minimum 8"``), or ``None``."""
        if value is None:
            return None
        if self.type in ("int", "float"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                return f"{value!r} is not a number"
            if not math.isfinite(value):
                return f"{value!r} is not a finite number"
            if self.type == "int" and not float(value).is_integer():
                return f"{value!r} is not a whole number"
            if self.min is not None and value < self.min:
                return f"{value!r} is below the minimum {self.min:g}"
            if self.max is not None and value > self.max:
                return f"{value!r} is above the maximum {self.max:g}"
        elif self.type == "bool" and not isinstance(value, bool):
            return f"{value!r} is not true or false"
        if self.choices and value not in self.choices:
            return f"{value!r} is not one of {', '.join(map(str, self.choices))}"
        return None


class ModelCard(_Card):
    """One model: ``provider/model@version``.

    Attributes:
        id: ``provider/model``.
        version: the pinned version.
        name: human name.
        tasks: tasks it can run.
        outputs: artifact types it produces per task (default: the task's outputs).
        limits: input and output limits.
        params: declared model-specific params.
        capabilities: ``seed``, ``reference_image``, ``first_last_frame``, ``streaming``, ``loop``.
        needs: what the model needs from its inputs (``scene``: studio images only).
        price: public price.
        priors: latency, error-rate and quality priors.
        credentials: env var names that must be set.
        offline: runs without a network.
        engine: what must be installed (python modules ``py:NAME``, binaries ``bin:NAME``,
            Debian data files ``file:PATH``); the provider checks it.
        prompt_template: how a structured prompt becomes this model's prompt text
            (``{subject}, {style} ...`` over the prompt fields; empty fields are dropped).
        param_map: structured prompt fields sent as the model's own parameters.
        endpoint: provider-specific address (fal app id, Replicate version, ComfyUI workflow).
        extra: provider-specific configuration.
    """

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.\-/]*$")
    version: str = "1"
    name: str | None = None
    description: str | None = None
    tasks: tuple[Task, ...] = Field(min_length=1)
    outputs: dict[Task, tuple[ArtifactType, ...]] = Field(default_factory=dict)
    limits: Limits = Field(default_factory=Limits)
    params: dict[str, ParamSpec] = Field(default_factory=dict)
    capabilities: tuple[Capability, ...] = ()
    needs: tuple[Literal["scene"], ...] = ()
    price: Price = Field(default_factory=Price)
    priors: Priors = Field(default_factory=Priors)
    credentials: tuple[str, ...] = ()
    offline: bool = False
    engine: tuple[str, ...] = ()
    prompt_template: str | None = None
    param_map: dict[str, str] = Field(default_factory=dict)
    endpoint: str | None = None
    extra: dict[str, Any] = Field(default_factory=dict)
    source_file: str | None = Field(default=None, exclude=True)

    @property
    def provider(self) -> str:
        """The provider half of the id."""
        return self.id.split("/", 1)[0]

    @property
    def model(self) -> str:
        """The model half of the id."""
        return self.id.split("/", 1)[1]

    @property
    def ref(self) -> str:
        """``provider/model@version``."""
        return f"{self.id}@{self.version}"

    def outputs_for(self, task: Task) -> tuple[ArtifactType, ...]:
        """Artifact types this model produces for ``task``."""
        return self.outputs.get(task, TASK_OUTPUTS[task])

    def render_prompt(self, prompt: str | dict[str, Any] | None) -> str:
        """This model's own prompt text for a structured (or plain) prompt."""
        if prompt is None:
            return ""
        if isinstance(prompt, str):
            return prompt
        fields = {k: v for k, v in prompt.items() if v not in (None, "", [])}
        if self.prompt_template:
            parts = []
            for chunk in self.prompt_template.split("|"):
                try:
                    text = chunk.format_map(_Fields(fields)).strip(" ,")
                except KeyError:
                    continue
                if text:
                    parts.append(text)
            return ", ".join(parts)
        return ", ".join(
            f"{v}" if k in ("subject", "text") else f"{k.replace('_', ' ')}: {v}"
            for k, v in fields.items()
            if k not in self.param_map and k not in ("negative", "first_frame", "last_frame")
        )

    def price_for(self, *, images: int = 1, seconds: float = 0.0, chars: int = 0) -> float:
        """Price of one call producing ``images`` images / ``seconds`` of output / ``chars``."""
        unit = self.price.unit
        if unit == "image":
            return self.price.usd * images
        if unit == "output_second":
            return self.price.usd * seconds
        if unit == "1k_chars":
            return self.price.usd * chars / 1000.0
        if unit == "compute_second":
            return self.price.usd * max(seconds, self.priors.latency_p50_s)
        if unit == "call":
            return self.price.usd
        return 0.0


class _Fields(dict[str, Any]):
    """format_map mapping that raises KeyError for missing fields so the chunk is dropped."""

    def __missing__(self, key: str) -> Any:
        raise KeyError(key)
