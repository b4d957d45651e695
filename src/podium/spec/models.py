"""Pipeline spec models (pydantic). Pure data: no I/O, no catalog knowledge.

A pipeline is loaded from YAML by :mod:`podium.spec.loader`, which keeps line numbers, or built
in Python directly::

    from podium.spec import Pipeline, Step
    p = Pipeline(name="hello", steps=[Step(id="script", task="text", prompt="Hi")])
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from podium.spec.references import NAME
from podium.spec.vocabulary import Task

InputType = Literal[
    "string", "int", "float", "bool", "list", "image", "audio", "video", "mesh", "text", "json"
]
PolicyName = Literal["cheapest", "fastest", "best", "balanced"]
Need = Literal["seed", "reference_image", "first_last_frame", "streaming", "scene"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InputDecl(_Strict):
    """A typed pipeline input with an optional default (overridable by ``--set key=value``)."""

    type: InputType = "string"
    default: Any = None
    description: str | None = None
    required: bool | None = None

    @property
    def is_required(self) -> bool:
        """Required unless a default is given or ``required: false``."""
        if self.required is not None:
            return self.required
        return self.default is None


class Weights(_Strict):
    """Explicit policy weights over normalised cost, p95 latency, quality and reliability:
    finite, none below 0, at least one above 0."""

    cost: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    latency: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    quality: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    reliability: float = Field(default=0.0, ge=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _some_weight(self) -> Weights:
        if not (self.cost or self.latency or self.quality or self.reliability):
            raise ValueError(
                "give at least one of cost, latency, quality, reliability a weight above 0"
            )
        return self


class Route(_Strict):
    """How the router chooses for one step.

    Attributes:
        policy: a named policy or explicit weights.
        max_cost_usd: exclude models whose estimate exceeds this.
        max_latency_s: exclude models whose p95 exceeds this.
        min_quality: exclude models whose quality is below this.
        pin: run exactly this model (``provider/model`` or ``provider/model@version``).
        exclude: never run these models or providers.
        needs: capabilities the model must declare.
        hedge_after_s: start the next fallback in parallel after this many seconds.
        fallbacks: how many fallbacks to keep in the chain.
    """

    policy: PolicyName | Weights | None = None
    max_cost_usd: float | None = Field(default=None, ge=0)
    max_latency_s: float | None = Field(default=None, gt=0)
    min_quality: float | None = Field(default=None, ge=0, le=1)
    pin: str | None = None
    exclude: tuple[str, ...] = ()
    needs: tuple[Need, ...] = ()
    hedge_after_s: float | None = Field(default=None, gt=0)
    fallbacks: int = Field(default=2, ge=0, le=10)


class RetryPolicy(_Strict):
    """``retry: {attempts, backoff_s, max_backoff_s}`` (DESIGN defaults 3, 0.25, 30)."""

    attempts: int = Field(default=3, ge=1, le=20)
    backoff_s: float = Field(default=0.25, ge=0)
    max_backoff_s: float = Field(default=30.0, ge=0)


class Variants(_Strict):
    """Fan-out: the cartesian product of ``vary``, times ``count`` seeds each."""

    count: int = Field(default=1, ge=1, le=100)
    vary: dict[str, list[Any]] = Field(default_factory=dict)


class Select(_Strict):
    """Keep the best ``keep`` variants, scored ``by`` a score model."""

    by: Literal["quality", "adherence", "human"] = "quality"
    keep: int = Field(default=1, ge=1)


class Consistency(_Strict):
    """Pipeline-wide seed and reference images (DESIGN, "Consistency")."""

    seed: int = 0
    references: dict[str, str] = Field(default_factory=dict)


class Step(_Strict):
    """One step of a pipeline.

    ``prompt`` is either a plain string or the structured fields of the task's family;
    ``inputs`` maps the task's slots to references; ``params`` holds common and model-specific
    parameters.
    """

    id: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_-]*$")
    task: Task
    prompt: str | dict[str, Any] | None = None
    inputs: dict[str, str | list[str]] = Field(default_factory=dict)
    params: dict[str, Any] = Field(default_factory=dict)
    variants: Variants | None = None
    select: Select | None = None
    foreach: str | None = None
    route: Route = Field(default_factory=Route)
    retry: RetryPolicy | None = None
    timeout_s: float | None = Field(default=None, gt=0)
    cache: bool = True
    seed: int | None = None
    description: str | None = None


class Pipeline(_Strict):
    """A whole pipeline: typed inputs, a default policy, consistency and steps."""

    name: str = Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
    description: str | None = None
    inputs: dict[str, InputDecl] = Field(default_factory=dict)
    policy: PolicyName | Weights = "balanced"
    consistency: Consistency = Field(default_factory=Consistency)
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    steps: list[Step] = Field(min_length=1)

    @field_validator("inputs", mode="before")
    @classmethod
    def _short_inputs(cls, value: Any) -> Any:
        """Allow ``inputs: {product: "Lemon soda"}`` as shorthand for a string default."""
        if not isinstance(value, dict):
            return value
        out: dict[str, Any] = {}
        for key, decl in value.items():
            if not isinstance(key, str) or not re.fullmatch(NAME, key):
                raise ValueError(
                    f"input name {key!r} cannot be referenced as ${{inputs.NAME}}: use letters, "
                    "digits, _ and -, starting with a letter or _"
                )
            if isinstance(decl, dict | InputDecl):
                out[key] = decl
            elif isinstance(decl, list):
                out[key] = {"type": "list", "default": decl}
            elif isinstance(decl, bool):
                out[key] = {"type": "bool", "default": decl}
            elif isinstance(decl, int):
                out[key] = {"type": "int", "default": decl}
            elif isinstance(decl, float):
                out[key] = {"type": "float", "default": decl}
            else:
                out[key] = {"type": "string", "default": decl}
        return out

    def step(self, step_id: str) -> Step:
        """The step with this id (KeyError if none)."""
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)
