"""One test per kind of spec error: where it is (file:line:col), which field, and the hint."""

from __future__ import annotations

from pathlib import Path

import pytest

from podium.errors import SpecError
from podium.spec.loader import load_pipeline, load_pipeline_text
from tests.spec.specfiles import SpecFile, at, only, problems_of

TEXT_STEP = """
name: p
steps:
  - id: a
    task: text
    prompt: hi
"""


def test_yaml_syntax_error_points_at_the_broken_line(spec_file: SpecFile) -> None:
    path = spec_file(
        """
        name: p
        steps:
          - id: a
            task: text
            prompt: "unclosed
        """
    )
    (problem,) = problems_of(path)
    assert problem.file == str(path)
    assert problem.line == 6 and problem.col is not None
    assert "not valid YAML" in problem.message
    assert problem.hint and "syntax" in problem.hint


def test_duplicate_key(spec_file: SpecFile) -> None:
    path = spec_file("name: p\nname: q\nsteps: []\n")
    (problem,) = problems_of(path)
    assert problem.line == 2 and problem.col == 1
    assert problem.hint == "each key may appear once in a mapping; remove or rename one"


def test_unknown_key_with_did_you_mean(spec_file: SpecFile) -> None:
    path = spec_file(
        """
        name: p
        steps:
          - id: a
            task: text
            promt: hi
        """
    )
    problem = only(problems_of(path), "unknown key")
    assert at(problem) == (5, 5, "steps[0].promt")
    assert problem.hint == "did you mean 'prompt'?"
    assert problem.one_line().startswith(f"{path}:5:5: error: steps[0].promt: unknown key")


def test_wrong_type(spec_file: SpecFile) -> None:
    path = spec_file(
        """
        name: p
        steps:
          - id: a
            task: text
            prompt: hi
            timeout_s: soon
        """
    )
    problem = only(problems_of(path), "expected a number")
    assert at(problem) == (6, 16, "steps[0].timeout_s")
    assert problem.message == "expected a number, got 'soon'"
    assert problem.hint and "podium schema" in problem.hint


def test_number_out_of_range(spec_file: SpecFile) -> None:
    path = spec_file(TEXT_STEP + "    retry: {attempts: 0}\n")
    problem = only(problems_of(path), "must be >= 1")
    assert at(problem) == (6, 23, "steps[0].retry.attempts")
    assert problem.hint == "give a value >= 1"


def test_unknown_task(spec_file: SpecFile) -> None:
    path = spec_file(
        """
        name: p
        steps:
          - id: a
            task: text-to-imag
            prompt: hi
        """
    )
    problem = only(problems_of(path), "unknown task")
    assert at(problem) == (4, 11, "steps[0].task")
    assert problem.hint and problem.hint.startswith("did you mean 'text-to-image'")


def test_a_list_where_one_task_goes(spec_file: SpecFile) -> None:
    path = spec_file(
        """
        name: p
        steps:
          - id: a
            task: [text]
            prompt: hi
        """
    )
    problem = only(problems_of(path), "expected one task, got a list")
    assert at(problem) == (4, 11, "steps[0].task")
    assert problem.hint and problem.hint.startswith("write one of text, text-to-image")


def test_a_list_where_a_policy_name_or_weights_go(spec_file: SpecFile) -> None:
    path = spec_file("policy: [cheapest]\n" + TEXT_STEP.lstrip("\n"))
    problem = only(problems_of(path), "expected one value or a mapping, got a list")
    assert at(problem) == (1, 9, "policy")
    assert problem.hint and "cheapest" in problem.hint and "a mapping" in problem.hint


def test_unknown_policy_value(spec_file: SpecFile) -> None:
    path = spec_file("policy: cheapst\n" + TEXT_STEP.lstrip("\n"))
    problem = only(problems_of(path), "unknown value")
    assert at(problem) == (1, 9, "policy")
    assert problem.hint == "did you mean 'cheapest'?"


def test_invalid_step_id(spec_file: SpecFile) -> None:
    path = spec_file(TEXT_STEP.replace("id: a", "id: my step"))
    problem = only(problems_of(path), "not a valid id")
    assert at(problem) == (3, 9, "steps[0].id")
    assert problem.hint and "letters, digits" in problem.hint


def test_missing_required_field(spec_file: SpecFile) -> None:
    path = spec_file("name: p\nsteps:\n  - id: a\n    prompt: hi\n")
    problem = only(problems_of(path), "missing required field 'task'")
    assert at(problem) == (3, 5, "steps[0].task")
    assert problem.hint == "add `task:`"


def test_pipeline_without_steps(spec_file: SpecFile) -> None:
    path = spec_file("name: p\nsteps: []\n")
    problem = only(problems_of(path), "at least one step")
    assert at(problem) == (2, 8, "steps")
    assert problem.hint == "add a step under `steps:`"


def test_unknown_prompt_field(spec_file: SpecFile) -> None:
    path = spec_file(
        """
        name: p
        steps:
          - id: hero
            task: text-to-image
            prompt: {subject: can, lightng: soft}
        """
    )
    problem = only(problems_of(path), "no field 'lightng'")
    assert at(problem) == (5, 28, "steps[0].prompt.lightng")
    assert problem.hint == "did you mean 'lighting'?"


def test_unresolved_input_reference(spec_file: SpecFile) -> None:
    path = spec_file(
        """
        name: p
        inputs: {product: Lemon soda}
        steps:
          - id: a
            task: text
            prompt: "Meet ${inputs.prodct}"
        """
    )
    problem = only(problems_of(path), "declares no input 'prodct'")
    assert at(problem) == (6, 13, "steps[0].prompt")
    assert problem.hint == "did you mean 'product'?"


def test_unknown_step_reference(spec_file: SpecFile) -> None:
    path = spec_file(
        TEXT_STEP
        + """
  - id: b
    task: text
    prompt:
      template: "${steps.aa.output}"
"""
    )
    problem = only(problems_of(path), "no step 'aa'")
    assert at(problem) == (10, 17, "steps[1].prompt.template")
    assert problem.hint == "did you mean 'a'?"


def test_malformed_reference(spec_file: SpecFile) -> None:
    path = spec_file(TEXT_STEP.replace("prompt: hi", 'prompt: "${steps.a}"'))
    problem = only(problems_of(path), "bad reference")
    assert at(problem) == (5, 13, "steps[0].prompt")
    assert problem.hint == "write ${steps.a.output}"


def test_arithmetic_is_rejected(spec_file: SpecFile) -> None:
    path = spec_file(TEXT_STEP.replace("prompt: hi", 'prompt: "${inputs.n + 1}"'))
    problem = only(problems_of(path), "bad reference")
    assert "no arithmetic" in problem.message
    assert at(problem) == (5, 13, "steps[0].prompt")
    assert problem.hint and problem.hint.startswith("write one of ${inputs.NAME}")


def test_item_outside_foreach(spec_file: SpecFile) -> None:
    path = spec_file(TEXT_STEP.replace("prompt: hi", 'prompt: "${item}"'))
    problem = only(problems_of(path), "only defined inside a foreach")
    assert at(problem) == (5, 13, "steps[0].prompt")
    assert problem.hint and "foreach" in problem.hint


def test_cycle(spec_file: SpecFile) -> None:
    path = spec_file(
        """
        name: p
        steps:
          - id: a
            task: text
            prompt: "${steps.b.output}"
          - id: b
            task: text
            prompt: "${steps.a.output}"
        """
    )
    problem = only(problems_of(path), "cycle")
    assert problem.message == "steps form a cycle: a -> b -> a"
    assert at(problem) == (3, 9, "steps[0].id")
    assert problem.hint and "its own output" in problem.hint


def test_audio_cannot_feed_image_to_video(spec_file: SpecFile) -> None:
    path = spec_file(
        """
        name: p
        steps:
          - id: voice
            task: text-to-speech
            prompt: {text: Hello}
          - id: shot
            task: image-to-video
            inputs: {image: "${steps.voice.output}"}
        """
    )
    problem = only(problems_of(path), "takes image")
    assert problem.message == "slot 'image' takes image, but gets audio"
    assert at(problem) == (8, 21, "steps[1].inputs.image")
    assert problem.hint == "bind a step or input that produces image"


def test_list_into_single_slot(spec_file: SpecFile) -> None:
    path = spec_file(
        """
        name: p
        steps:
          - id: hero
            task: text-to-image
            prompt: {subject: can}
            variants: {count: 3}
          - id: shot
            task: image-to-video
            inputs: {image: "${steps.hero.outputs}"}
        """
    )
    problem = only(problems_of(path), "takes one image")
    assert at(problem) == (9, 21, "steps[1].inputs.image")
    assert problem.hint and "foreach" in problem.hint


def test_required_slot_unbound(spec_file: SpecFile) -> None:
    path = spec_file("name: p\nsteps:\n  - id: shot\n    task: image-to-video\n")
    problem = only(problems_of(path), "needs input 'image'")
    assert at(problem) == (4, 5, "steps[0].task")
    assert problem.hint == "add `inputs: {image: ${steps.ID.output}}`"


def test_unknown_slot(spec_file: SpecFile) -> None:
    path = spec_file(
        """
        name: p
        steps:
          - id: hero
            task: text-to-image
            prompt: {subject: can}
            inputs: {refrence: photo.png}
        """
    )
    problem = only(problems_of(path), "no input slot 'refrence'")
    assert at(problem) == (6, 14, "steps[0].inputs.refrence")
    assert problem.hint == "did you mean 'reference'?"


def test_output_index_out_of_range(spec_file: SpecFile) -> None:
    path = spec_file(
        """
        name: p
        steps:
          - id: voice
            task: text-to-speech
            prompt: {text: Hello}
          - id: t
            task: text
            prompt: "${steps.voice.outputs[2]}"
        """
    )
    problem = only(problems_of(path), "has 2 output(s)")
    assert at(problem) == (8, 13, "steps[1].prompt")
    assert problem.hint == "outputs[0] is audio, outputs[1] is subtitles"


def test_metadata_the_output_does_not_have(spec_file: SpecFile) -> None:
    path = spec_file(
        """
        name: p
        steps:
          - id: hero
            task: text-to-image
            prompt: {subject: can}
          - id: t
            task: text
            prompt: "${steps.hero.output.duration_s} seconds"
        """
    )
    problem = only(problems_of(path), "no duration_s")
    assert at(problem) == (8, 13, "steps[1].prompt")
    assert problem.hint == "metadata of image: width, height"


def test_select_without_variants_and_select_by_adherence(spec_file: SpecFile) -> None:
    path = spec_file(
        """
        name: p
        steps:
          - id: hero
            task: text-to-image
            prompt: {subject: can}
            select: {by: adherence}
        """
    )
    problems = problems_of(path)
    needs = only(problems, "needs `variants` or `foreach`")
    assert at(needs) == (6, 5, "steps[0].select")
    later = only(problems, "arrives later")
    assert at(later) == (6, 18, "steps[0].select.by")
    assert later.hint == "use `by: quality` for now"


def test_foreach_over_a_single_artifact(spec_file: SpecFile) -> None:
    path = spec_file(
        """
        name: p
        steps:
          - id: hero
            task: text-to-image
            prompt: {subject: can}
          - id: shots
            task: image-to-video
            foreach: "${steps.hero.output}"
            inputs: {image: "${item}"}
        """
    )
    problem = only(problems_of(path), "foreach needs a list")
    assert at(problem) == (8, 14, "steps[1].foreach")
    assert problem.hint == "use `foreach: ${steps.ID.outputs}` or a list input `${inputs.NAME}`"


def test_duplicate_step_id(spec_file: SpecFile) -> None:
    path = spec_file(TEXT_STEP + "  - id: a\n    task: text\n    prompt: again\n")
    problem = only(problems_of(path), "duplicate step id")
    assert at(problem) == (6, 9, "steps[1].id")
    assert problem.hint == "give every step its own id"


def test_missing_required_input(spec_file: SpecFile) -> None:
    path = spec_file("name: p\ninputs:\n  product: {type: string}\n" + TEXT_STEP.split("\n", 2)[2])
    problem = only(problems_of(path), "required and has no value")
    assert at(problem) == (3, 3, "inputs.product")
    assert problem.hint == "pass --set product=... or give it a `default:`"
    assert load_pipeline(path, {"product": "Cola"}).inputs == {"product": "Cola"}


def test_set_of_an_undeclared_input(spec_file: SpecFile) -> None:
    path = spec_file("name: p\ninputs: {product: soda}\n" + TEXT_STEP.split("\n", 2)[2])
    problem = only(problems_of(path, {"prodcut": "x"}), "declares no input")
    assert problem.path == "inputs"
    assert problem.hint == "did you mean 'product'?"


def test_set_value_of_the_wrong_type(spec_file: SpecFile) -> None:
    path = spec_file("name: p\ninputs: {n: 3}\n" + TEXT_STEP.split("\n", 2)[2])
    problem = only(problems_of(path, {"n": "three"}), "not an integer")
    assert at(problem) == (2, 10, "inputs.n")
    assert problem.hint == "give a value of type int"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the spec is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "not UTF-8 text"),
        (b"- a\n- b\n", "the spec is a list"),
        (b"just words", "the spec is a str"),
    ],
)
def test_files_that_are_not_specs(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "junk.yaml"
    path.write_bytes(content)
    (problem,) = problems_of(path)
    assert message in problem.message
    assert problem.file == str(path)
    assert problem.hint


def test_missing_file_and_directory(tmp_path: Path) -> None:
    (missing,) = problems_of(tmp_path / "nope.yaml")
    assert missing.message == "no such file" and missing.hint == "check the path"
    (directory,) = problems_of(tmp_path)
    assert directory.message == "is a directory"


def test_several_mistakes_are_reported_in_one_go(spec_file: SpecFile) -> None:
    path = spec_file(
        """
        name: promo
        inputs: {product: Lemon soda}
        polcy: cheapest
        steps:
          - id: hero
            task: text-to-image
            prompt: {subject: "${inputs.prodct}", lightng: soft}
          - id: voice
            task: text-to-speech
            prompt: {text: Hello}
          - id: shot
            task: image-to-video
            inputs: {image: "${steps.voice.output}"}
            retry: {attempts: 0}
          - id: cut
            task: compose-video
            inputs: {shots: ["${steps.shot.output}"], audio: "${steps.vioce.output}"}
        """
    )
    problems = problems_of(path)
    lines = [(p.line, p.path) for p in problems]
    assert lines == [
        (3, "polcy"),
        (7, "steps[0].prompt.subject"),
        (7, "steps[0].prompt.lightng"),
        (13, "steps[2].inputs.image"),
        (14, "steps[2].retry.attempts"),
        (17, "steps[3].inputs.audio"),
    ]
    assert all(p.hint for p in problems)


def test_text_api_reports_under_the_given_name() -> None:
    with pytest.raises(SpecError) as info:
        load_pipeline_text("name: p\nstep: []\n", filename="inline.yaml")
    problems = info.value.problems
    assert {p.file for p in problems} == {"inline.yaml"}
    assert only(problems, "unknown key 'step'").hint == "did you mean 'steps'?"
    assert only(problems, "missing required field 'steps'").line == 1


def test_first_frame_reference_must_be_an_image(spec_file: SpecFile) -> None:
    path = spec_file(
        """
        name: p
        steps:
          - id: music
            task: text-to-music
            prompt: {genre: pop}
          - id: shot
            task: text-to-video
            prompt: {action: runs, first_frame: "${steps.music.output}"}
        """
    )
    problem = only(problems_of(path), "takes image")
    assert problem.message == "slot 'first_frame' takes image, but gets audio"
    assert at(problem) == (8, 41, "steps[1].prompt.first_frame")


def test_a_literal_path_in_a_slot_points_at_typed_inputs(spec_file: SpecFile) -> None:
    path = spec_file(
        """
        name: p
        steps:
          - id: clip
            task: image-to-video
            prompt: {action: spins, camera: orbit, duration_s: 2}
            inputs: {image: /nonexistent.png}
        """
    )
    problem = only(problems_of(path), "takes an image from a step or an input")
    assert at(problem) == (6, 21, "steps[0].inputs.image")
    assert "not the value '/nonexistent.png'" in problem.message
    assert problem.hint is not None and "type: image" in problem.hint
