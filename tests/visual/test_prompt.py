"""Reading a subject and a material: the noun and the phrase the prompt names win."""

from __future__ import annotations

import pytest

from podium.providers.local.scene import scene_from_prompt


@pytest.mark.parametrize(
    ("subject", "kind"),
    [
        ("a glass bottle of Lemon Soda", "bottle"),  # soda suggests a can; the bottle is named
        ("a lemon soda in a glass bottle", "bottle"),
        ("a soda can", "can"),
        ("lemon soda", "can"),  # only a hint: the hint decides
        ("a perfume bottle", "perfume"),  # a generic bottle yields to the specific kind
        ("a bottle of perfume", "perfume"),
        ("a mug of tea", "mug"),  # tea is a hint for a box; the mug is named
        ("a dropper bottle of serum", "dropper"),
        ("a cup of coffee", "mug"),
    ],
)
def test_the_product_the_subject_names_wins_over_words_that_suggest_another(
    subject: str, kind: str
) -> None:
    assert scene_from_prompt({"subject": subject}, {}, 0).product.kind == kind


@pytest.mark.parametrize(
    ("subject", "material", "name"),
    [
        ("a tube", "matte plastic", "matte-plastic"),
        ("a tube", "plastic, matte finish", "matte-plastic"),  # "plastic" alone says no finish
        ("a matte black phone", "plastic", "matte-plastic"),  # the subject gives the finish
        ("a mug", "glossy plastic", "gloss-plastic"),
        ("a mug", "brushed metal", "brushed-metal"),
        ("a mug", "glossy ceramic", "ceramic"),  # a finish qualifies the substance
        ("a can", "shiny metal", "brushed-metal"),
        ("a matte bottle", "glass", "glass"),  # the material field beats the subject
    ],
)
def test_the_most_specific_material_phrase_wins(subject: str, material: str, name: str) -> None:
    scene = scene_from_prompt({"subject": subject, "material": material}, {}, 0)
    assert scene.material.name == name


def test_shiny_metal_is_polished_and_brushed_metal_is_not() -> None:
    shiny = scene_from_prompt({"subject": "a can", "material": "shiny metal"}, {}, 0)
    brushed = scene_from_prompt({"subject": "a can", "material": "brushed metal"}, {}, 0)
    assert shiny.material.roughness < brushed.material.roughness
