"""Pipeline specs: models, vocabulary, YAML loading with line numbers, validation, references."""

from podium.spec.models import (
    Consistency,
    InputDecl,
    Pipeline,
    RetryPolicy,
    Route,
    Select,
    Step,
    Variants,
    Weights,
)
from podium.spec.vocabulary import ArtifactType, Task

__all__ = [
    "ArtifactType",
    "Consistency",
    "InputDecl",
    "Pipeline",
    "RetryPolicy",
    "Route",
    "Select",
    "Step",
    "Task",
    "Variants",
    "Weights",
]
