"""Fan-out counts and order, and seeds that are the same in every process."""

from __future__ import annotations

import os
import subprocess
import sys

from podium.spec import Step, Variants
from podium.spec.fanout import apply, expand, variant_total
from podium.spec.seeds import SEED_MAX, derive_seed


def _hero(**kwargs: object) -> Step:
    return Step(id="hero", task="text-to-image", prompt={"subject": "can"}, **kwargs)  # type: ignore[arg-type]


def test_cartesian_product_times_count_in_declared_order() -> None:
    step = _hero(
        variants=Variants(
            count=2, vary={"lighting": ["soft", "hard"], "aspect_ratio": ["1:1", "16:9", "9:16"]}
        )
    )
    variants = expand(step, base_seed=0)
    assert variant_total(step) == len(variants) == 12
    assert [v.index for v in variants] == list(range(12))
    assert variants[0].overrides == {"lighting": "soft", "aspect_ratio": "1:1"}
    assert variants[1].overrides == variants[0].overrides  # second seed of the same combination
    assert variants[2].overrides == {"lighting": "soft", "aspect_ratio": "16:9"}
    assert variants[-1].overrides == {"lighting": "hard", "aspect_ratio": "9:16"}
    assert len({v.seed for v in variants}) == 12


def test_overrides_go_to_prompt_fields_or_params() -> None:
    step = _hero(variants=Variants(vary={"lighting": ["soft"], "guidance": [7.5]}))
    (variant,) = expand(step, base_seed=3)
    prompt, params = apply(step, variant)
    assert prompt == {"subject": "can", "lighting": "soft"}
    assert params == {"guidance": 7.5, "seed": variant.seed}
    assert step.prompt == {"subject": "can"}  # the step itself is untouched


def test_a_step_without_variants_is_one_variant() -> None:
    (variant,) = expand(_hero(), base_seed=0)
    assert variant.index == 0 and variant.overrides == {}
    assert variant.seed == derive_seed(0, "hero", 0)


def test_seeds_depend_on_base_step_and_index() -> None:
    seeds = {derive_seed(b, s, i) for b in (0, 1) for s in ("a", "b") for i in (0, 1)}
    assert len(seeds) == 8
    assert all(0 <= s <= SEED_MAX for s in seeds)
    assert derive_seed(0, "a", 0) == derive_seed(0, "a", 0)


def test_seeds_are_stable_across_processes() -> None:
    code = "from podium.spec.seeds import derive_seed; print(derive_seed(7, 'hero', 3))"
    outs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": str(salt)},
        ).stdout.strip()
        for salt in (1, 2)
    }
    assert outs == {str(derive_seed(7, "hero", 3))}


def test_explicit_step_seed_overrides_the_pipeline_seed() -> None:
    step = _hero(seed=42, variants=Variants(count=3))
    assert [v.seed for v in expand(step, base_seed=0)] == [42, 43, 44]
    assert [v.seed for v in expand(step, base_seed=9)] == [42, 43, 44]
    by_param = Step(id="x", task="text", prompt="hi", params={"seed": 5})
    assert [v.seed for v in expand(by_param, base_seed=0)] == [5]
