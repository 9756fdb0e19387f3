"""CLIP as the published evaluation computes it: OpenAI's QuickGELU, float32, CLIPProcessor's exact preprocessing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from fashionedit.services.scorer.backends import EmbedderUnavailable, load_embedder
from fashionedit.services.scorer.backends import openclip as backend
from fashionedit.services.scorer.clip_geometry import PUBLISHED_PROCESSOR_CONFIG, ProcessorGeometry
from fashionedit.services.scorer.settings import ScorerSettings

from .conftest import random_rgb

# (width, height): 640x427 is where torchvision's rounding crop and the processor's floored one part by a pixel.
ODD_SIZES = [
    (640, 427),
    (427, 640),
    (500, 333),
    (750, 1101),
    (1101, 750),
    (225, 224),
    (224, 225),
    (301, 224),
    (1024, 683),
    (97, 61),
]


def activations(module: torch.nn.Module) -> set[str]:
    import open_clip.transformer as oct

    return {type(m).__name__ for m in module.modules() if isinstance(m, (torch.nn.GELU, oct.QuickGELU))}


@pytest.fixture(scope="module")
def default_clip():
    """The default configuration's ViT-L-14, built as the scorer would build it but with pretrained=None (no download)."""
    import open_clip

    weights = backend._Weights(ScorerSettings())
    assert (weights.model_name, weights.pretrained) == ("ViT-L-14", "openai")
    kwargs = {**weights.create_kwargs(), "pretrained": None}
    model, _, preprocess = open_clip.create_model_and_transforms(weights.model_name, **kwargs)
    return weights, model, preprocess


def test_default_clip_uses_quickgelu(default_clip) -> None:
    weights, model, _ = default_clip
    assert weights.quick_gelu is True and "pretrained tag 'openai'" in weights.activation
    assert activations(model.visual) == {"QuickGELU"}  # the image tower scores; the text tower matches it
    assert activations(model) == {"QuickGELU"}


def test_open_clip_alone_would_build_gelu_for_the_openai_tag() -> None:
    """The defect being guarded against: ViT-L-14's config has no quick_gelu, so open_clip 3.x builds nn.GELU."""
    import open_clip

    assert not open_clip.get_model_config("ViT-L-14").get("quick_gelu", False)
    assert open_clip.get_pretrained_cfg("ViT-L-14", "openai")["quick_gelu"] is True


@pytest.mark.parametrize(
    "model, tag",
    [(m, t) for m, t in __import__("open_clip").list_pretrained() if __import__("open_clip").get_model_config(m) is not None],
)
def test_every_tag_gets_its_own_activation(model: str, tag: str) -> None:
    import open_clip

    weights = backend._Weights(ScorerSettings(clip_model=model, clip_weights=tag))
    declared = bool(open_clip.get_pretrained_cfg(model, tag).get("quick_gelu", False))
    assert weights.create_kwargs()["quick_gelu"] is declared  # both directions (roberta-ViT-B-32's tag turns it off)


def _checkpoint_with_config(tiny_clip_dir: Path, tmp_path: Path, quick_gelu: bool | None) -> tuple[str, Path]:
    import open_clip

    config = json.loads((tiny_clip_dir / "open_clip_config.json").read_text())
    name = "fashionedit-clip-tiny-fidelity"
    (tmp_path / "configs").mkdir(exist_ok=True)
    (tmp_path / "configs" / f"{name}.json").write_text(
        json.dumps({k: v for k, v in config["model_cfg"].items() if k != "quick_gelu"})
    )
    open_clip.add_model_config(tmp_path / "configs")
    folder = tmp_path / f"weights-{quick_gelu}"
    folder.mkdir()
    shutil.copy(tiny_clip_dir / "open_clip_model.safetensors", folder / "clip.safetensors")
    shutil.copy(tiny_clip_dir / backend.RANDOM_WEIGHTS_MARKER, folder / backend.RANDOM_WEIGHTS_MARKER)
    if quick_gelu is not None:
        (folder / "open_clip_config.json").write_text(
            json.dumps({"model_cfg": {**config["model_cfg"], "quick_gelu": quick_gelu}})
        )
    return name, folder / "clip.safetensors"


@pytest.mark.parametrize("declared", [True, False])
def test_a_checkpoint_file_declares_its_activation(tiny_clip_dir: Path, tmp_path: Path, declared: bool) -> None:
    name, checkpoint = _checkpoint_with_config(tiny_clip_dir, tmp_path, declared)
    embedder = load_embedder(
        ScorerSettings(clip_model=name, clip_weights=str(checkpoint), allow_random_weights=True, device="cpu")
    )
    assert not isinstance(embedder, EmbedderUnavailable), getattr(embedder, "reason", "")
    assert activations(embedder.visual) == {"QuickGELU" if declared else "GELU"}
    assert embedder.activation.startswith("QuickGELU" if declared else "GELU") and "open_clip_config.json" in embedder.activation
    # The operator's setting wins over the file.
    forced = load_embedder(
        ScorerSettings(
            clip_model=name,
            clip_weights=str(checkpoint),
            allow_random_weights=True,
            device="cpu",
            clip_quick_gelu="false" if declared else "true",
        )
    )
    assert activations(forced.visual) == {"GELU" if declared else "QuickGELU"}


def test_float32_is_the_default_precision(tiny_clip_dir: Path) -> None:
    assert ScorerSettings().dtype == "float32"
    embedder = load_embedder(ScorerSettings(clip_model=f"local-dir:{tiny_clip_dir}", allow_random_weights=True, device="cpu"))
    assert embedder.info.dtype == "float32" and next(embedder.visual.parameters()).dtype == torch.float32
    half = load_embedder(
        ScorerSettings(clip_model=f"local-dir:{tiny_clip_dir}", allow_random_weights=True, device="cpu", dtype="bfloat16")
    )
    assert half.info.dtype == "bfloat16"  # opt-in, and every response names it


def published_processor():
    from transformers import CLIPImageProcessorPil

    return CLIPImageProcessorPil(**PUBLISHED_PROCESSOR_CONFIG)


@pytest.mark.parametrize("size", ODD_SIZES, ids=[f"{w}x{h}" for w, h in ODD_SIZES])
def test_preprocessing_equals_the_published_clip_processor(default_clip, size: tuple[int, int]) -> None:
    _, model, preprocess = default_clip
    image = Image.fromarray(random_rgb(sum(size), size))
    geometry, mean, std = backend.split_preprocess(preprocess, (224, 224))
    assert isinstance(geometry, ProcessorGeometry)
    ours = backend.normalize_batch(
        torch.from_numpy(geometry(image)[None].copy()),
        torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1),
        torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1),
    )
    published = torch.from_numpy(np.asarray(published_processor()(images=image, return_tensors="np")["pixel_values"]))
    assert ours.dtype == published.dtype == torch.float32 and ours.shape == published.shape == (1, 3, 224, 224)
    assert torch.equal(ours, published)


def test_640x427_is_where_open_clips_own_crop_moves_a_pixel(default_clip) -> None:
    _, _, preprocess = default_clip
    image = Image.fromarray(random_rgb(3, (640, 427)))
    published = np.asarray(published_processor()(images=image, return_tensors="np")["pixel_values"])
    torchvision_crop = preprocess(image).numpy()[None]
    assert not np.allclose(torchvision_crop, published, atol=1e-3)  # rounded offset 56 vs the processor's floor 55


def test_embedder_geometry_matches_the_processor_for_the_tiny_model(tiny_clip_dir: Path) -> None:
    """The same rule at the tiny model's input size, through the embedder the service uses."""
    from transformers import CLIPImageProcessorPil

    embedder = load_embedder(ScorerSettings(clip_model=f"local-dir:{tiny_clip_dir}", allow_random_weights=True, device="cpu"))
    h, w = embedder.input_size
    processor = CLIPImageProcessorPil(**{**PUBLISHED_PROCESSOR_CONFIG, "size": h, "crop_size": h})
    for size in ODD_SIZES:
        image = Image.fromarray(random_rgb(sum(size), size))
        ours = backend.normalize_batch(torch.from_numpy(embedder.geometry(image)[None].copy()), embedder._mean, embedder._std)
        assert torch.equal(ours, torch.from_numpy(np.asarray(processor(images=image, return_tensors="np")["pixel_values"])))
