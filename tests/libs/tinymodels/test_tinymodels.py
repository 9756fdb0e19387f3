"""Tiny random-weight models round-trip through the same loaders real weights use."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")

from fashionedit.tinymodels import (  # noqa: E402
    CLIP_SPECS,
    SD3_SPECS,
    is_random_weights,
    save_open_clip_checkpoint,
    save_open_clip_local_dir,
    save_sd2_pipeline,
    save_sd3_pipeline,
    write_clip_tokenizer,
)


def test_clip_tokenizer_matches_open_clip(tmp_path) -> None:
    import open_clip
    from transformers import CLIPTokenizer

    hf = CLIPTokenizer.from_pretrained(str(write_clip_tokenizer(tmp_path / "tok")))
    text = "This lady wears a long-sleeve white blazer with a lapel neckline."
    ours = hf(text, padding="max_length", max_length=77, truncation=True).input_ids
    reference = open_clip.get_tokenizer("ViT-B-32")([text])[0].tolist()
    assert hf.model_max_length == 77 and len(hf) == 49408
    assert ours[: ours.index(49407) + 1] == reference[: reference.index(49407) + 1]


@pytest.fixture(scope="module")
def sd3_dir(tmp_path_factory):
    return save_sd3_pipeline(tmp_path_factory.mktemp("sd3") / "pipe", "sd3-tiny", seed=0)


def test_sd3_round_trips_through_from_pretrained(sd3_dir) -> None:
    from diffusers import AutoPipelineForText2Image, StableDiffusion3Img2ImgPipeline

    assert is_random_weights(sd3_dir)
    index = json.loads((sd3_dir / "model_index.json").read_text())
    assert index["_class_name"] == "StableDiffusion3Pipeline" and index["text_encoder_3"] == ["transformers", "T5EncoderModel"]
    pipe = AutoPipelineForText2Image.from_pretrained(str(sd3_dir))
    pipe.set_progress_bar_config(disable=True)

    def run(seed: int):
        return pipe(
            "a navy shirt",
            num_inference_steps=2,
            guidance_scale=7.0,
            height=64,
            width=64,
            generator=torch.Generator().manual_seed(seed),
            output_type="np",
        ).images[0]

    first, again, other = run(1), run(1), run(2)
    assert first.shape == (64, 64, 3)
    assert (first == again).all(), "the same seed must give the same image"
    assert not (first == other).all()
    img2img = StableDiffusion3Img2ImgPipeline.from_pipe(pipe)
    out = img2img("make it red", image=torch.rand(1, 3, 64, 64), strength=0.5, num_inference_steps=2, output_type="np").images[0]
    assert out.shape == (64, 64, 3)


def test_sd3_without_t5_loads_with_t5_dropped_explicitly(tmp_path) -> None:
    from diffusers import StableDiffusion3Pipeline

    path = save_sd3_pipeline(tmp_path / "sd3not5", "sd3-tiny", seed=3, with_t5=False)
    pipe = StableDiffusion3Pipeline.from_pretrained(str(path), text_encoder_3=None, tokenizer_3=None)
    pipe.set_progress_bar_config(disable=True)
    image = pipe("a skirt", num_inference_steps=1, height=64, width=64).images[0]
    assert image.size == (64, 64)


def test_sd2_round_trips(tmp_path) -> None:
    from diffusers import DiffusionPipeline

    pipe = DiffusionPipeline.from_pretrained(str(save_sd2_pipeline(tmp_path / "sd2")))
    pipe.set_progress_bar_config(disable=True)
    assert type(pipe).__name__ == "StableDiffusionPipeline" and pipe.scheduler.config.prediction_type == "v_prediction"
    assert pipe("a dress", num_inference_steps=2, height=64, width=64).images[0].size == (64, 64)


def test_open_clip_local_dir_round_trip(tmp_path) -> None:
    import open_clip

    from fashionedit.tinymodels import build_open_clip

    directory = save_open_clip_local_dir(tmp_path / "clip", "clip-tiny", seed=5)
    model, _, preprocess = open_clip.create_model_and_transforms(f"local-dir:{directory}")
    reference = build_open_clip("clip-tiny", seed=5)
    batch = torch.rand(2, 3, 224, 224)
    with torch.no_grad():
        assert torch.allclose(model.eval().encode_image(batch), reference.encode_image(batch), atol=1e-6)
    assert model.encode_image(batch).shape == (2, CLIP_SPECS["clip-tiny"].model_cfg["embed_dim"])


def test_open_clip_checkpoint_file_loads_by_builtin_name(tmp_path) -> None:
    import open_clip

    path = save_open_clip_checkpoint(tmp_path / "vitb32.pt", "ViT-B-32", seed=1)
    model, _, _ = open_clip.create_model_and_transforms("ViT-B-32", pretrained=str(path))
    with torch.no_grad():
        assert model.encode_image(torch.zeros(1, 3, 224, 224)).shape == (1, 512)


def test_full_size_specs_match_the_published_architectures() -> None:
    medium = SD3_SPECS["sd3-medium"]
    assert medium.transformer["num_layers"] == 24 and medium.transformer["caption_projection_dim"] == 1536
    assert medium.clip_l["projection_dim"] + medium.clip_g["projection_dim"] == medium.transformer["pooled_projection_dim"]
    assert medium.vae["latent_channels"] == medium.transformer["in_channels"] == 16
    assert CLIP_SPECS["ViT-L-14"].builtin == "ViT-L-14"


@pytest.mark.gpu
def test_full_size_sd3_medium_builds_on_gpu() -> None:
    from fashionedit.tinymodels import build_sd3_pipeline

    pipe = build_sd3_pipeline("sd3-medium", torch_dtype=torch.bfloat16).to("cuda")
    params = sum(p.numel() for p in pipe.transformer.parameters())
    assert 1.9e9 < params < 2.2e9  # SD3-medium's MMDiT has ~2B parameters
    image = pipe("a coat", num_inference_steps=2, height=1024, width=1024).images[0]
    assert image.size == (1024, 1024)
