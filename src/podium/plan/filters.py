"""Filters that take a model out of the running for a step, each with a code and a reason.

Filters here depend only on the card and what the step asks (:class:`StepFacts`); those that
depend on the world (credentials, circuit breakers, observed figures, the budget left, the
model chosen upstream) live in the router. The first filter that objects wins, so the reason
a user reads is the most fundamental one.
"""

from __future__ import annotations

from collections.abc import Callable

from podium.catalog.card import ModelCard
from podium.plan.decision import Exclusion
from podium.plan.facts import StepFacts
from podium.spec.references import refers


def is_studio(card: ModelCard) -> bool:
    """Whether the model renders studio scenes (its images carry their scene description).

    A card says so with ``extra: {scene: true}``; the ``local/studio*`` engines are recognised
    by name as well.
    """
    if "scene" in card.extra:
        return bool(card.extra["scene"])
    return card.provider == "local" and card.model.startswith("studio")


def pin_exclusion(card: ModelCard, pin: str, code: str, source: str) -> Exclusion | None:
    """Exclude every model but the pinned one (``provider/model`` or with ``@version``).

    Args:
        card: the candidate.
        pin: the pinned model.
        code: ``pin`` or ``lock``.
        source: what pinned it, for the reason (``route.pin``, ``the lock file``).
    """
    model, _, version = pin.partition("@")
    if card.id != model:
        return Exclusion(code, f"{source} pins {pin}")
    if version and version != card.version:
        hint = "run `podium lock --upgrade`" if code == "lock" else "change the pin"
        return Exclusion(
            code, f"{source} pins version {version} but the catalog has {card.ref} — {hint}"
        )
    return None


def exclude_exclusion(card: ModelCard, excluded: tuple[str, ...]) -> Exclusion | None:
    """``route.exclude`` lists the model (any version or this one) or its whole provider."""
    if not excluded:
        return None
    for item in excluded:
        if item in (card.provider, card.id, card.ref):
            return Exclusion("exclude", f"route.exclude lists {item}")
    return None


def task_exclusion(card: ModelCard, facts: StepFacts) -> Exclusion | None:
    """The model does not do the step's task."""
    if facts.step.task in card.tasks:
        return None
    does = ", ".join(str(t) for t in card.tasks)
    return Exclusion("task", f"does not do {facts.step.task} (it does {does})")


def outputs_exclusion(card: ModelCard, facts: StepFacts) -> Exclusion | None:
    """A later step takes an output type the model does not produce."""
    if not facts.used_outputs:
        return None
    makes = card.outputs_for(facts.step.task)
    for kind, ref in facts.used_outputs:
        if kind not in makes:
            only = ", ".join(str(t) for t in makes)
            return Exclusion("outputs", f"makes {only} only, but {ref} takes its {kind}")
    return None


def limits_exclusion(card: ModelCard, facts: StepFacts) -> Exclusion | None:
    """A stated duration, size, frame rate, aspect ratio, sample rate, text or item count is
    outside the card's limits."""
    for check in _LIMIT_CHECKS:
        reason = check(card, facts)
        if reason:
            return Exclusion("limits", reason)
    return None


def _duration(card: ModelCard, facts: StepFacts) -> str | None:
    d, lim = facts.duration_s, card.limits
    if d is None:
        return None
    if lim.max_duration_s is not None and d > lim.max_duration_s:
        return f"duration {d:g} s is over its {lim.max_duration_s:g} s maximum"
    if lim.min_duration_s is not None and d < lim.min_duration_s:
        return f"duration {d:g} s is under its {lim.min_duration_s:g} s minimum"
    return None


def _size(card: ModelCard, facts: StepFacts) -> str | None:
    lim = card.limits
    if facts.width and lim.max_width and facts.width > lim.max_width:
        return f"width {facts.width} px is over its {lim.max_width} px maximum"
    if facts.height and lim.max_height and facts.height > lim.max_height:
        return f"height {facts.height} px is over its {lim.max_height} px maximum"
    return None


def _choices(card: ModelCard, facts: StepFacts) -> str | None:
    lim = card.limits
    if facts.fps and lim.fps and facts.fps not in lim.fps:
        return f"{facts.fps} fps is not one of its frame rates ({_join(lim.fps)})"
    if facts.aspect_ratio and lim.aspect_ratios and facts.aspect_ratio not in lim.aspect_ratios:
        return f"aspect ratio {facts.aspect_ratio} is not one of {_join(lim.aspect_ratios)}"
    if facts.sample_rate and lim.sample_rates and facts.sample_rate not in lim.sample_rates:
        return f"sample rate {facts.sample_rate} Hz is not one of {_join(lim.sample_rates)}"
    return None


def _amounts(card: ModelCard, facts: StepFacts) -> str | None:
    lim = card.limits
    if lim.max_chars is not None and facts.chars > lim.max_chars:
        return f"text is {facts.chars:,} characters, over its {lim.max_chars:,} maximum"
    if lim.max_items is not None and facts.items is not None and facts.items > lim.max_items:
        return f"{facts.items} items, over its {lim.max_items} maximum"
    return None


_LIMIT_CHECKS: tuple[Callable[[ModelCard, StepFacts], str | None], ...] = (
    _duration,
    _size,
    _choices,
    _amounts,
)


def needs_exclusion(card: ModelCard, facts: StepFacts) -> Exclusion | None:
    """The step needs a capability the card does not declare, or a studio engine."""
    if not (facts.needs or facts.wants_scene or facts.framings):
        return None
    studio = is_studio(card)
    for need in sorted(facts.needs):
        if need in card.capabilities:
            continue
        if need == "first_last_frame" and studio and not _asked(facts, need):
            continue  # studio engines frame shots from the scene the image carries
        return Exclusion("needs", f"lacks {need}: {_why_needed(facts, need)}")
    if facts.wants_scene and not studio:
        return Exclusion("needs", "route.needs asks for scene, which only studio engines have")
    if facts.framings and not studio:
        fields = " and ".join(facts.framings)
        return Exclusion(
            "needs",
            f"{fields} is a framing {{camera, composition, perspective}}; only studio "
            "engines take framings — give an image reference instead",
        )
    return None


def _asked(facts: StepFacts, need: str) -> bool:
    return need in facts.step.route.needs


def _why_needed(facts: StepFacts, need: str) -> str:
    if _asked(facts, need):
        return "route.needs asks for it"
    if need == "first_last_frame":
        return f"the step binds {' and '.join(facts.frame_images)} to an image"
    if need == "reference_image":
        return "the step passes consistency references"
    return "the step needs it"


def _join(values: tuple[object, ...]) -> str:
    return ", ".join(str(v) for v in values)


def static_exclusion(
    card: ModelCard,
    facts: StepFacts,
    *,
    pin: str | None,
    locked: str | None,
) -> Exclusion | None:
    """The first objection of the filters that need only the card and the step.

    Args:
        card: the candidate.
        facts: what the step asks.
        pin: ``route.pin``, if any.
        locked: the lock file's model@version for the step, if any.
    """
    if locked:
        found = pin_exclusion(card, locked, "lock", "the lock file")
        if found:
            return found
    elif pin:
        found = pin_exclusion(card, pin, "pin", "route.pin")
        if found:
            return found
    return (
        exclude_exclusion(card, facts.step.route.exclude)
        or task_exclusion(card, facts)
        or outputs_exclusion(card, facts)
        or limits_exclusion(card, facts)
        or params_exclusion(card, facts)
        or needs_exclusion(card, facts)
    )


def params_exclusion(card: ModelCard, facts: StepFacts) -> Exclusion | None:
    """A param the step sets to a value the model's card refuses (``width: -5`` under its
    minimum 8, a choice it does not offer). Values that refer to something are not known yet."""
    for name, value in facts.step.params.items():
        spec = card.params.get(name)
        if spec is None or refers(value):
            continue
        why = spec.refuses(value)
        if why:
            return Exclusion("params", f"params.{name}: {why}")
    return None
