"""Random Qwen-Image-Edit-Plus and FLUX.1 Kontext builds: saved in the published layout, loaded back with
from_pretrained, tokenizers and processors built offline, full-size specs at the published sizes."""

from __future__ import annotations

import json

import pytest
from PIL import Image

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

from tests.support.open_edit_models import kontext_folder, qwen_edit_folder  # noqa: E402


def test_qwen_edit_folder_has_the_published_layout_and_loads_back(tmp_path_factory):
    from diffusers import QwenImageEditPlusPipeline

    folder = qwen_edit_folder(tmp_path_factory)
    index = json.loads((folder / "model_index.json").read_text())
    assert index["_class_name"] == "QwenImageEditPlusPipeline"
    assert (
        index["processor"] == ["transformers", "Qwen2VLProcessor"]
        and index["text_encoder"][1] == "Qwen2_5_VLForConditionalGeneration"
    )
    for component in ("transformer", "vae", "text_encoder", "tokenizer", "processor", "scheduler"):
        assert (folder / component).is_dir(), component
    assert json.loads((folder / "fashionedit_random_weights.json").read_text())["spec"] == "qwen-image-edit-tiny"
    pipe = QwenImageEditPlusPipeline.from_pretrained(str(folder))
    # the tokenizer's special tokens are the ones the text encoder's config names
    config = pipe.text_encoder.config
    tokenizer = pipe.processor.tokenizer
    assert tokenizer.convert_tokens_to_ids("<|image_pad|>") == config.image_token_id
    assert tokenizer.convert_tokens_to_ids("<|vision_start|>") == config.vision_start_token_id
    assert len(pipe.tokenizer) <= config.text_config.vocab_size
    # the processor expands each image into its vision tokens, in order
    inputs = pipe.processor(
        text=["Picture 1: <|vision_start|><|image_pad|><|vision_end|>x"], images=[Image.new("RGB", (64, 64))], return_tensors="pt"
    )
    assert int((inputs["input_ids"] == config.image_token_id).sum()) == int(inputs["image_grid_thw"].prod() // 4)


def test_kontext_folder_loads_back_and_edits_deterministically(tmp_path_factory):
    from diffusers import FluxKontextPipeline

    folder = kontext_folder(tmp_path_factory)
    assert json.loads((folder / "model_index.json").read_text())["_class_name"] == "FluxKontextPipeline"
    pipe = FluxKontextPipeline.from_pretrained(str(folder))
    pipe.set_progress_bar_config(disable=True)
    image = Image.new("RGB", (32, 32), (120, 80, 60))

    def run(seed: int):
        return pipe(
            image=image,
            prompt="a red collar",
            num_inference_steps=1,
            height=32,
            width=32,
            max_area=32 * 32,
            _auto_resize=False,
            max_sequence_length=32,
            generator=torch.Generator().manual_seed(seed),
            output_type="np",
        ).images[0]

    first, again, other = run(0), run(0), run(1)
    assert first.shape == (32, 32, 3)
    assert (first == again).all() and not (first == other).all()


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        # published sizes, in billions of parameters (transformer, text encoder(s), VAE)
        ("qwen-image-edit-2509", {"transformer": 20.43, "text_encoder": 8.29, "vae": 0.127}),
        ("flux-kontext-dev", {"transformer": 11.90, "text_encoder": 0.123, "text_encoder_2": 4.76, "vae": 0.084}),
    ],
)
def test_full_size_specs_have_the_published_parameter_counts(spec, expected):
    from fashionedit.tinymodels import build_kontext_pipeline, build_qwen_edit_pipeline

    builder = build_qwen_edit_pipeline if spec.startswith("qwen") else build_kontext_pipeline
    with torch.device("meta"):  # shapes only: no memory, no time
        pipe = builder(spec)
    for component, billions in expected.items():
        count = sum(p.numel() for p in getattr(pipe, component).parameters()) / 1e9
        assert count == pytest.approx(billions, rel=0.01), component
