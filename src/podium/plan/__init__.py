"""The router: candidates, exclusions with reasons, scores under a policy, chosen model and
fallback chain for every step — a :class:`Plan` of frozen :class:`Decision` data."""

from podium.plan.decision import Candidate, Decision, Estimate, Exclusion, Plan
from podium.plan.policy import NAMED as POLICIES
from podium.plan.policy import parse_policy, policy_name
from podium.plan.router import NoModel, Router, SpecLike
from podium.spec.models import Weights

__all__ = [
    "POLICIES",
    "Candidate",
    "Decision",
    "Estimate",
    "Exclusion",
    "NoModel",
    "Plan",
    "Router",
    "SpecLike",
    "Weights",
    "parse_policy",
    "policy_name",
]
