"""Fan-out: a step's variants are the cartesian product of ``variants.vary``, times ``count``
seeds each, in a deterministic order (DESIGN, "Fan-out")."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any, Literal

from podium.spec.models import Step
from podium.spec.seeds import step_seed
from podium.spec.vocabulary import PROMPT_FIELDS


@dataclass(frozen=True)
class Variant:
    """One variant of a step: its own attempt, seed and cache key.

    Attributes:
        index: 0-based position in the step's variants.
        seed: the variant's seed.
        overrides: the ``vary`` values of this variant, by field name.
    """

    index: int
    seed: int
    overrides: dict[str, Any] = field(default_factory=dict)


def vary_targets(step: Step) -> dict[str, Literal["prompt", "params"]]:
    """Where each varied field applies: the structured prompt (a prompt field) or ``params``.

    Args:
        step: the step.
    """
    if step.variants is None:
        return {}
    fields = PROMPT_FIELDS[step.task]
    return {name: ("prompt" if name in fields else "params") for name in step.variants.vary}


def variant_total(step: Step) -> int:
    """How many variants :func:`expand` yields for ``step``.

    Args:
        step: the step.
    """
    if step.variants is None:
        return 1
    sizes = [len(values) for values in step.variants.vary.values()]
    return step.variants.count * math.prod(sizes)


def fans_out(step: Step) -> bool:
    """Whether the step's ``outputs`` is a list of results (variants or ``foreach``).

    Args:
        step: the step.
    """
    return step.foreach is not None or variant_total(step) > 1


def explicit_seed(step: Step) -> int | None:
    """The step's own seed (``seed:`` or ``params.seed``), if it sets one.

    Args:
        step: the step.
    """
    if step.seed is not None:
        return step.seed
    value = step.params.get("seed")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def expand(step: Step, base_seed: int) -> list[Variant]:
    """The step's variants: each combination of ``vary`` (in declared order), ``count`` times.

    Args:
        step: the step.
        base_seed: the pipeline's seed (``consistency.seed`` or ``--seed``).
    """
    vary = step.variants.vary if step.variants else {}
    count = step.variants.count if step.variants else 1
    names = list(vary)
    combos = list(itertools.product(*(vary[n] for n in names))) if names else [()]
    own = explicit_seed(step)
    out: list[Variant] = []
    for combo in combos:
        for _ in range(count):
            index = len(out)
            seed = step_seed(base_seed, step.id, index, own)
            out.append(Variant(index, seed, dict(zip(names, combo, strict=True))))
    return out


def apply(step: Step, variant: Variant) -> tuple[str | dict[str, Any] | None, dict[str, Any]]:
    """The prompt and params of ``step`` with ``variant``'s overrides applied.

    Prompt fields go into the structured prompt, everything else into ``params``; ``params.seed``
    is set to the variant's seed.

    Args:
        step: the step.
        variant: one of its variants.
    """
    targets = vary_targets(step)
    prompt = dict(step.prompt) if isinstance(step.prompt, dict) else step.prompt
    params = dict(step.params)
    for name, value in variant.overrides.items():
        if targets.get(name) == "prompt" and isinstance(prompt, dict):
            prompt[name] = value
        else:
            params[name] = value
    params["seed"] = variant.seed
    return prompt, params
