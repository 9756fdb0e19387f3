"""open_clip backend: same numbers as a manual open_clip computation, weights identity, honest unavailability."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from fashionedit.services.scorer.backends import EmbedderUnavailable, load_embedder
from fashionedit.services.scorer.backends import openclip as backend
from fashionedit.services.scorer.settings import ScorerSettings

from .conftest import random_rgb


def manual_cosine(model, preprocess, a: Image.Image, b: Image.Image) -> float:
    """The reference computation: open_clip's own preprocess and encode_image, one image at a time."""
    with torch.no_grad():
        fa = model.encode_image(preprocess(a).unsqueeze(0), normalize=True)
        fb = model.encode_image(preprocess(b).unsqueeze(0), normalize=True)
    return float((fa @ fb.T).item())


def test_cosine_equals_manual_open_clip(tiny_clip_dir: Path) -> None:
    import open_clip

    model, _, preprocess = open_clip.create_model_and_transforms(f"local-dir:{tiny_clip_dir}")
    model.eval()
    embedder = load_embedder(ScorerSettings(clip_model=f"local-dir:{tiny_clip_dir}", allow_random_weights=True, device="cpu"))
    assert not isinstance(embedder, EmbedderUnavailable)
    images = [
        Image.fromarray(random_rgb(seed, size))
        for seed, size in enumerate([(64, 64), (300, 120), (57, 333), (224, 224), (225, 224)])
    ]
    batch = np.stack([embedder.geometry(img) for img in images])
    embeddings, timings = embedder.embed(batch)
    assert embeddings.shape[0] == len(images) and set(timings) == {"transfer_ms", "forward_ms"}
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)
    for i in range(len(images)):
        for j in range(i + 1, len(images)):
            ours = float(embeddings[i] @ embeddings[j])
            assert ours == pytest.approx(manual_cosine(model, preprocess, images[i], images[j]), abs=1e-5)


def test_identity_and_random_flag(tiny_clip_dir: Path) -> None:
    embedder = load_embedder(ScorerSettings(clip_model=f"local-dir:{tiny_clip_dir}", allow_random_weights=True))
    info = embedder.info
    weights_file = tiny_clip_dir / "open_clip_model.safetensors"
    assert info.weights.sha256 == hashlib.sha256(weights_file.read_bytes()).hexdigest()
    assert info.weights.name == str(weights_file) and info.weights.source == "random"
    assert info.random_weights is True and info.offline is True and info.backend == "open-clip"
    assert info.device == "cpu" and info.dtype == "float32"


def test_marker_name_matches_tinymodels() -> None:
    from fashionedit.tinymodels import RANDOM_WEIGHTS_MARKER

    assert backend.RANDOM_WEIGHTS_MARKER == RANDOM_WEIGHTS_MARKER


def test_random_weights_refused_unless_allowed(tiny_clip_dir: Path) -> None:
    refused = load_embedder(ScorerSettings(clip_model=f"local-dir:{tiny_clip_dir}"))
    assert isinstance(refused, EmbedderUnavailable)
    assert "random test weights" in refused.reason and "FASHIONEDIT_SCORER_ALLOW_RANDOM_WEIGHTS" in refused.reason
    refused = load_embedder(ScorerSettings(clip_model="ViT-B-32", clip_weights="random"))
    assert isinstance(refused, EmbedderUnavailable) and "random" in refused.reason


def test_checkpoint_file_for_a_named_architecture(tiny_clip_dir: Path, tmp_path: Path) -> None:
    """``clip_model=<built-in name>`` + ``clip_weights=<file>``: the path real OpenAI .pt/.bin files take."""
    import open_clip

    config = json.loads((tiny_clip_dir / "open_clip_config.json").read_text())
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "fashionedit-clip-tiny.json").write_text(json.dumps(config["model_cfg"]))
    open_clip.add_model_config(tmp_path / "configs")
    model = open_clip.create_model("local-dir:" + str(tiny_clip_dir))
    checkpoint = tmp_path / "weights" / "clip-tiny.pt"
    checkpoint.parent.mkdir()
    torch.save(model.state_dict(), checkpoint)

    # No marker beside the file: it is taken as real weights (the operator vouches for a local file).
    embedder = load_embedder(ScorerSettings(clip_model="fashionedit-clip-tiny", clip_weights=str(checkpoint)))
    assert not isinstance(embedder, EmbedderUnavailable), getattr(embedder, "reason", "")
    assert embedder.info.weights.source == "local" and embedder.info.random_weights is False
    assert embedder.info.weights.sha256 == hashlib.sha256(checkpoint.read_bytes()).hexdigest()
    img = Image.fromarray(random_rgb(3, (90, 70)))
    ours, _ = embedder.embed(np.stack([embedder.geometry(img)]))
    with torch.no_grad():
        theirs = model.eval().encode_image(open_clip.image_transform(224, is_train=False)(img).unsqueeze(0), normalize=True)
    np.testing.assert_allclose(ours, theirs.numpy(), atol=1e-5)

    # A marker beside the file (what fashionedit.tinymodels writes) makes it random test weights.
    (checkpoint.parent / backend.RANDOM_WEIGHTS_MARKER).write_text("{}")
    refused = load_embedder(ScorerSettings(clip_model="fashionedit-clip-tiny", clip_weights=str(checkpoint)))
    assert isinstance(refused, EmbedderUnavailable)


def test_default_profile_without_cached_weights_is_unavailable_with_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    result = load_embedder(ScorerSettings(clip_cache_dir=str(tmp_path)))  # defaults: ViT-L-14, openai
    assert isinstance(result, EmbedderUnavailable)
    assert "ViT-L-14:openai" in result.reason and "HF_HUB_OFFLINE=1" in result.reason
    assert "FASHIONEDIT_SCORER_CLIP_WEIGHTS" in result.reason
    assert result.info.offline is True and result.info.model_id == "ViT-L-14"


@pytest.mark.parametrize(
    ("model", "weights", "needle"),
    [
        ("ViT-L-14", "no-such-tag", "neither a pretrained tag"),
        ("No-Such-Model", "openai", "unknown open_clip model"),
        ("ViT-L-14", "", "no CLIP weights configured"),
        ("local-dir:/nonexistent/folder", "openai", "not an open_clip local-dir folder"),
    ],
)
def test_misconfiguration_is_explained(model: str, weights: str, needle: str) -> None:
    result = load_embedder(ScorerSettings(clip_model=model, clip_weights=weights))
    assert isinstance(result, EmbedderUnavailable) and needle in result.reason


def test_backend_none() -> None:
    result = load_embedder(ScorerSettings(backend="none"))
    assert isinstance(result, EmbedderUnavailable) and "BACKEND=none" in result.reason
