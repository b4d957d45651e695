"""The router: for every step, which model runs, which ones stand by, and why.

For each step the router looks at every card that can run its task, excludes those that cannot
(each with a stable code and a reason), scores the rest under the policy, and keeps the best as
the chosen model followed by a fallback chain of distinct models, preferring distinct providers.
Latency and error figures come from the card's priors until the journal holds
``settings.min_samples`` finished attempts of the model; from then on the observed figures are
used, and the decision shows both.

    router = Router(catalog, registry.check, settings, journal=journal, state=state)
    plan = router.plan(loaded, policy="cheapest", budget_usd=2.0)
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from podium.catalog.card import ModelCard
from podium.catalog.catalog import Catalog
from podium.errors import PodiumError, Unavailable
from podium.plan import policy as policies
from podium.plan.decision import Candidate, Decision, Estimate, Exclusion, Plan
from podium.plan.estimate import call_cost, critical_path, ranks, stated_latency, step_latency
from podium.plan.facts import FactFinder, StepFacts
from podium.plan.filters import is_studio, static_exclusion
from podium.plan.world import World
from podium.settings import Settings
from podium.spec.models import Pipeline, Route, Step, Weights
from podium.spec.references import step_deps, topo_order
from podium.spec.vocabulary import Task
from podium.store.base import Journal, StateStore


class SpecLike(Protocol):
    """What the router needs of a loaded spec (``podium.spec.loader.LoadedSpec``)."""

    @property
    def pipeline(self) -> Pipeline:
        """The validated pipeline."""

    @property
    def inputs(self) -> Mapping[str, Any]:
        """Resolved input values."""


class NoModel(Unavailable):
    """No model can run a step; ``decision_candidates`` holds every candidate and its reason.

    Args:
        step_id: the step.
        candidates: what the router considered.
        decided: decisions already made for earlier steps (for display).
    """

    def __init__(
        self,
        step_id: str,
        candidates: tuple[Candidate, ...],
        decided: Mapping[str, Decision] | None = None,
    ) -> None:
        reasons = [f"{c.model}: {c.excluded.reason}" for c in candidates if c.excluded][:3]
        more = len(candidates) - len(reasons)
        text = "; ".join(reasons) + (f" (and {more} more)" if more > 0 else "")
        super().__init__(
            f"no model can run this step ({text or 'no card does its task'})",
            where=f"step {step_id}",
            hint="relax route constraints, set the missing keys or install the engine "
            "(`podium models` says what each needs)",
        )
        self.step_id = step_id
        self.candidates = candidates
        self.decided = dict(decided or {})


class Router:
    """Chooses a model and a fallback chain for each step, and says why.

    Args:
        catalog: the model cards.
        check: why a card cannot run here (``ProviderRegistry.check``), or ``None``.
        settings: ``min_samples`` and ``workers`` are read from it.
        journal: where observed latency and error figures come from.
        state: where circuit-breaker states come from.
        clock: the current unix time (tests pass a fixed one).
    """

    def __init__(
        self,
        catalog: Catalog,
        check: Callable[[ModelCard], str | None],
        settings: Settings,
        *,
        journal: Journal | None = None,
        state: StateStore | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.catalog = catalog
        self.settings = settings
        self._world = World(check, settings, journal=journal, state=state, clock=clock)
        self._by_task: dict[Task, list[ModelCard]] = {}

    def plan(
        self,
        loaded: SpecLike | Pipeline,
        *,
        policy: str | Weights | None = None,
        budget_usd: float | None = None,
        lock: Mapping[str, str] | None = None,
    ) -> Plan:
        """Decide every step of a pipeline, without running anything.

        Args:
            loaded: the loaded spec (or a bare pipeline: input defaults are used).
            policy: overrides the pipeline's default policy (a step's own route.policy wins).
            budget_usd: the run's budget: a model whose estimate exceeds what is left after
                the steps before it is excluded.
            lock: step id -> ``provider/model@version`` from a lock file.

        Raises:
            NoModel: a step has no eligible model.
            PodiumError: an unknown policy or pinned model.
        """
        pipeline, inputs = _unpack(loaded)
        run_policy = policy if policy is not None else pipeline.policy
        policies.resolve(run_policy)
        finder = FactFinder(pipeline, inputs)
        lock = lock or {}
        self._world.start()
        decided: dict[str, Decision] = {}
        upstream: dict[str, str] = {}  # step id -> its chosen model, as the steps are decided
        left = budget_usd
        by_id = {s.id: s for s in pipeline.steps}
        for step_id in _order(pipeline):
            step = by_id[step_id]
            try:
                decision = self._decide(step, finder, run_policy, left, lock.get(step_id), upstream)
            except NoModel as exc:
                exc.decided = {s.id: decided[s.id] for s in pipeline.steps if s.id in decided}
                raise
            decided[step_id] = decision
            upstream[step_id] = decision.chosen
            if left is not None:
                left -= _cost(decision)
        ordered = {s.id: decided[s.id] for s in pipeline.steps}
        latency = {k: _latency(d) for k, d in ordered.items()}
        deps = {s.id: step_deps(s) for s in pipeline.steps}
        return Plan(
            pipeline=pipeline.name,
            policy=policies.policy_name(run_policy),
            decisions=ordered,
            total_cost_usd=sum(_cost(d) for d in ordered.values()),
            critical_path_s=critical_path(latency, deps),
            ranks=ranks(self._stated(pipeline, ordered, finder, latency), deps),
        )

    def _stated(
        self,
        pipeline: Pipeline,
        decisions: Mapping[str, Decision],
        finder: FactFinder,
        latency: Mapping[str, float],
    ) -> dict[str, float]:
        """Each step's expected time for ranking: what its chosen card's ``latency_s`` param
        states when it has one (the testing provider's calls take exactly that), else the
        estimate."""
        out = dict(latency)
        for step in pipeline.steps:
            chosen = decisions[step.id].chosen
            if chosen not in self.catalog or "latency_s" not in step.params:
                continue
            stated = stated_latency(self.catalog.get(chosen), finder.facts(step))
            if stated is not None:
                out[step.id] = stated
        return out

    def decide(
        self,
        step: Step,
        loaded: SpecLike | Pipeline,
        *,
        policy: str | Weights | None = None,
        budget_left: float | None = None,
        locked: str | None = None,
        upstream: Mapping[str, str] | None = None,
    ) -> Decision:
        """Decide one step afresh (the runner may call this as a run goes on).

        Args:
            step: the step.
            loaded: the loaded spec the step belongs to.
            policy: overrides the pipeline's default policy.
            budget_left: USD left of the run's budget.
            locked: the lock file's ``provider/model@version`` for the step.
            upstream: step id -> model that ran it, for steps whose images feed this one.

        Raises:
            NoModel: no eligible model.
        """
        pipeline, inputs = _unpack(loaded)
        run_policy = policy if policy is not None else pipeline.policy
        self._world.start()
        return self._decide(
            step, FactFinder(pipeline, inputs), run_policy, budget_left, locked, upstream or {}
        )

    def _decide(
        self,
        step: Step,
        finder: FactFinder,
        run_policy: str | Weights,
        budget_left: float | None,
        locked: str | None,
        upstream: Mapping[str, str],
    ) -> Decision:
        facts = finder.facts(step)
        effective = step.route.policy or run_policy
        decision = self._choose(facts, effective, budget_left, locked, upstream)
        if step.select is None:
            return decision
        # not a step of the pipeline: its id (``hero.select``) cannot clash with a real one
        scorer_step = Step.model_construct(
            id=f"{step.id}.select",
            task=Task.SCORE,
            inputs={"items": f"${{steps.{step.id}.outputs}}"},
            # the step's exclusions and fallback count bound its scorer too
            route=Route(exclude=step.route.exclude, fallbacks=step.route.fallbacks),
        )
        scorer_facts = dataclasses.replace(finder.facts(scorer_step), items=facts.calls)
        left = None if budget_left is None else budget_left - decision.estimate.cost_usd
        scorer = self._choose(scorer_facts, effective, left, None, upstream)
        return dataclasses.replace(decision, scorer=scorer)

    def _choose(
        self,
        facts: StepFacts,
        policy: str | Weights,
        budget_left: float | None,
        locked: str | None,
        upstream: Mapping[str, str],
    ) -> Decision:
        step = facts.step
        weights = policies.resolve(policy)
        pin = locked or step.route.pin
        try:
            cards = self._cards(step.task, pin)
        except PodiumError as exc:  # an unknown model: say which pin named it
            source = "the lock file" if locked else "route.pin"
            hint = exc.hint if not locked else f"{exc.hint}; or `podium lock --upgrade {step.id}`"
            raise PodiumError(
                f"{source} pins unknown model {pin!r}", where=f"step {step.id}", hint=hint
            ) from None
        rows = [self._evaluate(c, facts, locked, upstream, budget_left) for c in cards]
        eligible = [r for r in rows if r["excluded"] is None]
        values = policies.scores(
            weights,
            [r["cost_usd"] for r in eligible],
            [r["latency_s"] for r in eligible],
            [r["quality"] for r in eligible],
            [r["reliability"] for r in eligible],
        )
        ranked = sorted(
            (Candidate(score=v, **r) for r, v in zip(eligible, values, strict=True)),
            key=lambda c: (-(c.score or 0.0), c.model),
        )
        excluded = sorted(
            (Candidate(score=None, **r) for r in rows if r["excluded"] is not None),
            key=lambda c: c.model,
        )
        candidates = (*ranked, *excluded)
        if not ranked:
            raise NoModel(step.id, candidates)
        chosen = ranked[0]
        count = 0 if pin else step.route.fallbacks
        return Decision(
            step_id=step.id,
            task=str(step.task),
            chosen=chosen.model,
            fallbacks=_fallbacks([c.model for c in ranked], count),
            candidates=candidates,
            estimate=Estimate(chosen.cost_usd, chosen.latency_s),
            policy=policies.policy_name(policy),
        )

    def _evaluate(
        self,
        card: ModelCard,
        facts: StepFacts,
        locked: str | None,
        upstream: Mapping[str, str],
        budget_left: float | None,
    ) -> dict[str, Any]:
        """A candidate's fields, all but its score (scores need every eligible candidate)."""
        excluded = (
            static_exclusion(card, facts, pin=facts.step.route.pin, locked=locked)
            or self._scene_exclusion(card, facts, upstream)
            or self._world.unavailable(card)
        )
        # the ledger is read only for models that could run: the others show their priors
        fig = self._world.priors(card) if excluded else self._world.figures(card)
        cost = call_cost(card, facts, fig.p50_s) * facts.calls
        latency = step_latency(card, facts, fig.p95_s, self.settings.workers)
        excluded = (
            excluded
            or self._world.breaker(card)
            or _constraints(card, facts.step.route, cost, fig.p95_s, budget_left)
        )
        return {
            "model": card.ref,
            "excluded": excluded,
            "cost_usd": cost,
            "latency_p95_s": fig.p95_s,
            "quality": card.priors.quality,
            "reliability": 1.0 - fig.error_rate,
            "prior": fig.prior,
            "observed": fig.observed,
            "latency_s": latency,
        }

    def _scene_exclusion(
        self, card: ModelCard, facts: StepFacts, upstream: Mapping[str, str]
    ) -> Exclusion | None:
        """A ``needs: scene`` model only takes images rendered by a studio engine."""
        if "scene" not in card.needs:
            return None
        for slot, kind, name in facts.image_sources:
            if kind == "inputs":
                return Exclusion(
                    "needs",
                    f"needs a studio image (needs: scene), but its {slot} is input {name!r}",
                )
            model = upstream.get(name)
            known = model is not None and model.split("@")[0] in self.catalog
            if model is not None and known and not is_studio(self.catalog.get(model)):
                return Exclusion(
                    "needs",
                    f"needs a studio image (needs: scene), but its {slot} comes from step "
                    f"{name!r}, which runs {model}, not a studio engine",
                )
        return None

    def _cards(self, task: Task, pin: str | None) -> list[ModelCard]:
        cards = self._by_task.get(task)
        if cards is None:
            cards = self._by_task[task] = self.catalog.for_task(task)
        if pin:
            pinned = self.catalog.get(pin)  # raises with "did you mean" for an unknown model
            if not any(c is pinned for c in cards):  # (== compares every field of two cards)
                return [*cards, pinned]
        return cards


def _constraints(
    card: ModelCard, route: Route, cost: float, p95: float, budget_left: float | None
) -> Exclusion | None:
    """The step's own limits on quality, latency and cost, then the run's budget."""
    quality = card.priors.quality
    if route.min_quality is not None and quality < route.min_quality:
        return Exclusion(
            "min_quality", f"quality {quality:.2f} is under min_quality {route.min_quality:g}"
        )
    if route.max_latency_s is not None and p95 > route.max_latency_s:
        return Exclusion(
            "max_latency", f"p95 {p95:.1f} s is over max_latency_s {route.max_latency_s:g} s"
        )
    if route.max_cost_usd is not None and cost > route.max_cost_usd:
        return Exclusion(
            "max_cost", f"estimate ${cost:.4f} is over max_cost_usd ${route.max_cost_usd:g}"
        )
    if budget_left is not None and cost > budget_left + 1e-12:
        return Exclusion(
            "budget", f"estimate ${cost:.4f} is over the ${max(budget_left, 0):.4f} budget left"
        )
    return None


def _fallbacks(ranked: list[str], count: int) -> tuple[str, ...]:
    """Up to ``count`` models after the chosen one: other providers first, in rank order."""
    if count <= 0 or len(ranked) < 2:
        return ()
    chosen, rest = ranked[0], ranked[1:]
    seen = {_provider(chosen)}
    picked: list[str] = []
    for model in rest:
        if len(picked) < count and _provider(model) not in seen:
            picked.append(model)
            seen.add(_provider(model))
    for model in rest:
        if len(picked) < count and model not in picked:
            picked.append(model)
    return tuple(picked)


def _provider(model: str) -> str:
    return model.split("/", 1)[0]


def _cost(decision: Decision) -> float:
    scorer = decision.scorer.estimate.cost_usd if decision.scorer else 0.0
    return decision.estimate.cost_usd + scorer


def _latency(decision: Decision) -> float:
    scorer = decision.scorer.estimate.latency_s if decision.scorer else 0.0
    return decision.estimate.latency_s + scorer


def _order(pipeline: Pipeline) -> list[str]:
    try:
        return topo_order(pipeline)
    except ValueError:  # a cycle: validation reports it; plan in spec order meanwhile
        return [s.id for s in pipeline.steps]


def _unpack(loaded: SpecLike | Pipeline) -> tuple[Pipeline, Mapping[str, Any]]:
    if isinstance(loaded, Pipeline):
        return loaded, {k: d.default for k, d in loaded.inputs.items()}
    return loaded.pipeline, loaded.inputs
