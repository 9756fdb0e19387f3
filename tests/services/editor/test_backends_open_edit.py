"""qwen-edit and flux-kontext in process: tiny random pipelines loaded with from_pretrained from
their saved folders, driven through EditorServing (validation, prompts, box rule, identity)."""

from __future__ import annotations

import asyncio
import shutil

import numpy as np
import pytest
from PIL import Image

from fashionedit.contracts import Box2D, EditRequest, ImagePayload
from fashionedit.contracts.edit import BUG_PROMPT, VANILLA_PROMPT
from fashionedit.services.common import InvalidInput
from tests.support.open_edit_models import kontext_folder, qwen_edit_folder, tiny_open_edit_settings

from .conftest import design_image, payload, reference_patch
from .helpers import abs_diff, box_masks

BOX = Box2D((250.0, 250.0, 750.0, 625.0))


@pytest.fixture(scope="module")
def serving(tmp_path_factory):
    from fashionedit.services.editor.serving import EditorServing
    from fashionedit.services.editor.settings import EditorSettings

    settings = EditorSettings(
        backend="qwen-edit",
        allowed_backends=["flux-kontext"],
        qwen_edit_model=str(qwen_edit_folder(tmp_path_factory)),
        flux_kontext_model=str(kontext_folder(tmp_path_factory)),
        **tiny_open_edit_settings(),
    )
    serving = EditorServing(settings, background=False)
    assert serving.ready, serving.info().message
    return serving


def edit(serving, **fields):
    return asyncio.run(serving.edit(EditRequest(**fields)))


def solid(color: tuple[int, int, int], size: tuple[int, int] = (64, 64)) -> ImagePayload:
    return ImagePayload.from_pil(Image.new("RGB", size, color))


@pytest.fixture
def vae_inputs(serving):
    """What the pipeline's VAE encoder is given, per backend: the images as the model sees them."""
    seen: dict[str, list[np.ndarray]] = {}
    handles = []
    for name in ("qwen-edit", "flux-kontext"):
        encoder = serving.backends[name].pipe.vae.encoder
        seen[name] = []

        def hook(module, args, name=name):
            x = args[0].detach().float()
            if x.ndim == 5:  # the Qwen VAE is a video VAE: (batch, channels, frames, h, w)
                x = x[:, :, 0]
            # back to 0..255 RGB, (h, w, 3)
            seen[name].append(((x[0].permute(1, 2, 0).numpy() + 1) * 127.5).clip(0, 255))

        handles.append(encoder.register_forward_pre_hook(hook))
    yield seen
    for handle in handles:
        handle.remove()


@pytest.mark.parametrize("backend", ["qwen-edit", "flux-kontext"])
def test_vanilla_and_bug_keep_the_size_and_use_the_papers_prompts(serving, backend):
    design = payload(design_image(64).resize((64, 48)))
    vanilla = edit(serving, image=design, instruction="a white lace collar", backend=backend, seed=3)
    bug = edit(
        serving, image=design, instruction="a white lace collar", references=[payload(reference_patch())], backend=backend, seed=3
    )
    for response in (vanilla, bug):
        assert response.image.size == (64, 48)
        assert response.model.backend == backend and response.model.random_weights and response.model.offline
        assert response.timings.stages["edit"] > 0
    assert vanilla.mode.value == "text" and vanilla.prompt == VANILLA_PROMPT + "a white lace collar"
    assert bug.mode.value == "text+image" and bug.prompt == BUG_PROMPT + "a white lace collar"


@pytest.mark.parametrize("backend", ["qwen-edit", "flux-kontext"])
def test_same_seed_same_image_other_seed_other_image(serving, backend):
    design, ref = payload(design_image()), payload(reference_patch())
    first = edit(serving, image=design, instruction="short sleeves", references=[ref], backend=backend, seed=11)
    again = edit(serving, image=design, instruction="short sleeves", references=[ref], backend=backend, seed=11)
    other = edit(serving, image=design, instruction="short sleeves", references=[ref], backend=backend, seed=12)
    assert first.image.to_bytes() == again.image.to_bytes()
    assert abs_diff(first.image, other.image).mean() > 0.5


def test_qwen_gets_the_design_then_the_references_in_order(serving, vae_inputs):
    grey, red, blue = (128, 128, 128), (220, 20, 20), (20, 20, 220)
    edit(serving, image=solid(grey), instruction="x", references=[solid(red, (32, 32)), solid(blue, (32, 32))], seed=0)
    means = [frame.reshape(-1, 3).mean(axis=0) for frame in vae_inputs["qwen-edit"]]
    assert len(means) == 3
    for mean, color in zip(means, (grey, red, blue)):
        assert np.abs(mean - color).max() < 3, (mean, color)


def test_kontext_sees_the_reference_stitched_right_of_the_design(serving, vae_inputs):
    grey, red = (128, 128, 128), (220, 20, 20)
    response = edit(
        serving, image=solid(grey), instruction="x", references=[solid(red, (32, 32))], backend="flux-kontext", seed=0
    )
    (canvas,) = vae_inputs["flux-kontext"]
    height, width, _ = canvas.shape
    assert width == 2 * height  # a square design, a square reference scaled to its height
    assert np.abs(canvas[:, : width // 2 - 2].reshape(-1, 3).mean(axis=0) - grey).max() < 3
    assert np.abs(canvas[:, width // 2 + 2 :].reshape(-1, 3).mean(axis=0) - red).max() < 3
    assert response.image.size == (64, 64)
    assert any("stitched" in w for w in response.warnings)


@pytest.mark.parametrize("backend", ["qwen-edit", "flux-kontext"])
@pytest.mark.parametrize("with_reference", [False, True], ids=["vanilla", "bug"])
def test_outside_the_box_the_result_is_the_input(serving, backend, with_reference):
    design = design_image()
    references = [payload(reference_patch())] if with_reference else []
    response = edit(
        serving, image=payload(design), instruction="a red pocket", references=references, target_box=BOX, backend=backend, seed=5
    )
    inside, outside = box_masks(BOX, design.size)
    diff = abs_diff(response.image, design)
    assert diff[outside].max() == 0.0
    assert diff[inside].mean() > 5.0
    assert response.target_box == BOX


def test_size_asks_for_another_output_size(serving):
    response = edit(serving, image=payload(design_image()), instruction="x", size="48x32", seed=0)
    assert response.image.size == (48, 32)
    with pytest.raises(InvalidInput, match="outside"):
        edit(serving, image=payload(design_image()), instruction="x", size="12x12")


@pytest.mark.parametrize(("backend", "count", "limit"), [("qwen-edit", 3, 2), ("flux-kontext", 2, 1)])
def test_too_many_references_is_a_422_naming_the_limit(serving, backend, count, limit):
    with pytest.raises(InvalidInput, match=f"{count} references sent but backend '{backend}' accepts at most {limit}"):
        edit(
            serving,
            image=payload(design_image()),
            instruction="x",
            references=[payload(reference_patch())] * count,
            backend=backend,
        )


def test_info_reports_identity_and_limits(serving):
    info = serving.info()
    assert info.ready and info.backends == ["qwen-edit", "flux-kontext"]
    assert info.limits["max_references"] == {"qwen-edit": 2, "flux-kontext": 1}
    model = info.model
    assert model.model_id == "qwen-image-edit-tiny (random weights)"
    assert model.weights.source == "random" and model.weights.name == "qwen-image-edit-tiny" and len(model.weights.sha256) == 64
    assert model.device == "cpu" and model.dtype == "float32"


def test_weights_identity_is_the_folders_not_its_path(tmp_path_factory, tmp_path):
    from fashionedit.services.editor.backends.open_edit import resolve_weights

    original = kontext_folder(tmp_path_factory)
    copy = shutil.copytree(original, tmp_path / "snapshot-abc123")
    (copy / "fashionedit_random_weights.json").unlink()  # as real weights would be
    first, second = resolve_weights(str(original), None), resolve_weights(str(copy), None)
    assert first.identity.sha256 == second.identity.sha256
    assert second.identity.name == "snapshot-abc123" and second.identity.source == "local" and not second.random_weights
    assert str(tmp_path) not in second.identity.name
    config = copy / "transformer" / "config.json"
    config.write_text(config.read_text().replace('"num_layers": 1', '"num_layers": 2'))
    assert resolve_weights(str(copy), None).identity.sha256 != first.identity.sha256


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({}, "set FASHIONEDIT_EDITOR_QWEN_EDIT_MODEL"),
        ({"qwen_edit_model": "Qwen/Qwen-Image-Edit-2509"}, "weights 'Qwen/Qwen-Image-Edit-2509' not available"),
        ({"qwen_edit_model": "/models/qwen-image-edit"}, "weights folder '/models/qwen-image-edit' does not exist"),
        ({"qwen_edit_model": "QWEN", "open_edit_cpu_offload": "model", "open_edit_device": "cpu"}, "needs a CUDA device"),
    ],
    ids=["no-model", "not-in-cache", "folder-missing", "offload-without-cuda"],
)
def test_unloadable_weights_leave_the_service_not_ready_with_the_reason(
    tmp_path_factory, tmp_path, monkeypatch, overrides, needle
):
    from huggingface_hub import constants

    from fashionedit.services.editor.serving import EditorServing
    from fashionedit.services.editor.settings import EditorSettings

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    if overrides.get("qwen_edit_model") == "QWEN":
        overrides["qwen_edit_model"] = str(qwen_edit_folder(tmp_path_factory))
    serving = EditorServing(EditorSettings(backend="qwen-edit", **overrides), background=False)
    info = serving.info()
    assert not info.ready and info.model is None
    assert needle in info.message, info.message
    assert str(tmp_path) not in info.message.replace(str(tmp_path / "empty-cache"), "")
