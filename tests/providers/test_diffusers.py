"""The diffusers provider loads a tiny random pipeline saved on disk and runs it for real."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from podium.catalog.card import ModelCard
from podium.providers.base import Event, Request
from podium.settings import Settings
from podium.spec.vocabulary import ArtifactType, Task

pytestmark = pytest.mark.diffusers


def build_tiny_pipeline(out: Path) -> Path:
    """A Stable Diffusion pipeline with random weights small enough to run in a test."""
    torch = pytest.importorskip("torch")
    diffusers = pytest.importorskip("diffusers")
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    torch.set_num_threads(1)  # tiny tensors: threads only add contention on a shared box
    unet = diffusers.UNet2DConditionModel(
        block_out_channels=(8, 16),
        layers_per_block=1,
        sample_size=8,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=16,
        attention_head_dim=2,
        norm_num_groups=4,
    )
    vae = diffusers.AutoencoderKL(
        block_out_channels=(8, 16),
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2,
        latent_channels=4,
        norm_num_groups=4,
        sample_size=32,
    )
    text_encoder = transformers.CLIPTextModel(
        transformers.CLIPTextConfig(
            bos_token_id=0,
            eos_token_id=2,
            pad_token_id=1,
            hidden_size=16,
            intermediate_size=32,
            num_attention_heads=2,
            num_hidden_layers=2,
            vocab_size=100,
            max_position_embeddings=32,
        )
    )
    vocab = {"<|startoftext|>": 0, "!": 1, "<|endoftext|>": 2}
    for i, ch in enumerate("abcdefghijklmnopqrstuvwxyz"):
        vocab[ch], vocab[ch + "</w>"] = 3 + i, 30 + i
    tok_dir = out.parent / "tokenizer-src"
    tok_dir.mkdir(parents=True, exist_ok=True)
    (tok_dir / "vocab.json").write_text(json.dumps(vocab))
    (tok_dir / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = transformers.CLIPTokenizer(
        str(tok_dir / "vocab.json"), str(tok_dir / "merges.txt"), model_max_length=32
    )
    scheduler = diffusers.DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
    )
    pipe = diffusers.StableDiffusionPipeline(
        unet=unet,
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_pipeline(tmp_path_factory.mktemp("tiny-sd") / "pipeline")


def card_for(weights: Path) -> ModelCard:
    return ModelCard(
        id="diffusers/tiny-sd",
        version="1",
        tasks=(Task.TEXT_TO_IMAGE,),
        offline=True,
        capabilities=("seed",),
        extra={"weights_dir": str(weights), "steps": 2, "guidance_scale": 1.0},
    )


def request_for(card: ModelCard, work_dir: Path, seed: int) -> Request:
    work_dir.mkdir(parents=True, exist_ok=True)
    return Request(
        step_id="hero",
        task=Task.TEXT_TO_IMAGE,
        card=card,
        prompt="a can",
        prompt_text="a can",
        inputs={},
        params={"width": 64, "height": 64},
        seed=seed,
        outputs=(ArtifactType.IMAGE,),
        work_dir=work_dir,
        idempotency_key=f"k{seed}",
    )


async def test_runs_a_saved_pipeline_warm_and_seeded(
    weights: Path, tmp_path: Path, settings: Settings
) -> None:
    from PIL import Image

    from podium.providers.diffusers import DiffusersProvider

    provider = DiffusersProvider(settings)
    card = card_for(weights)
    assert provider.check(card) is None
    events: list[Event] = []
    try:
        loads, outputs = [], []
        for i, seed in enumerate((1, 1, 2)):
            job = await provider.submit(request_for(card, tmp_path / str(i), seed), events.append)
            result = await provider.wait(job, events.append)
            loads.append(result.metadata["load_s"])
            outputs.append(result.outputs[0].path.read_bytes())
            assert result.metadata["device"] in ("cpu", "cuda")
            with Image.open(result.outputs[0].path) as img:
                assert img.size == (64, 64)
    finally:
        await provider.aclose()
    assert outputs[0] == outputs[1]  # same seed, same picture
    assert outputs[0] != outputs[2]
    # only the first call paid for loading: the pipeline stayed warm in the worker
    assert loads[0] > 0 and loads[1:] == [0.0, 0.0]
    assert [e.progress for e in events if e.kind == "progress"][:2] == [0.5, 1.0]


def test_check_names_what_is_missing(tmp_path: Path, settings: Settings) -> None:
    from podium.providers.diffusers import DiffusersProvider

    provider = DiffusersProvider(settings)
    reason = provider.check(card_for(tmp_path / "nowhere"))
    assert reason is not None and "model_index.json" in reason


def test_check_names_an_unset_weights_variable(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from podium.catalog import load_catalog
    from podium.providers.diffusers import DiffusersProvider

    monkeypatch.delenv("PODIUM_DIFFUSERS_WEIGHTS", raising=False)
    card = load_catalog().get("diffusers/local-sd")
    reason = DiffusersProvider(settings).check(card)
    assert (
        reason
        == "PODIUM_DIFFUSERS_WEIGHTS is not set (the directory of a saved diffusers pipeline)"
    )
