"""Build random-weight models from a spec and save them in the formats real weights come in.

* SD3 / SD2: a diffusers pipeline folder (``model_index.json`` + components),
  loaded back with ``DiffusionPipeline.from_pretrained(dir)`` exactly like a
  downloaded snapshot.
* CLIP: an open_clip ``local-dir`` folder (``open_clip_config.json`` +
  ``open_clip_model.safetensors``), the layout of open_clip's hub repos, or a
  bare checkpoint file for a built-in architecture (``pretrained=<file>``).

Weights are drawn from a seeded generator, so builds are reproducible.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .specs import CLIP_SPECS, SD2_SPECS, SD3_SPECS, ClipSpec, SD2Spec, SD3Spec
from .tokenizer import write_clip_tokenizer

RANDOM_WEIGHTS_MARKER = "fashionedit_random_weights.json"


def _seed(seed: int) -> None:
    import torch

    torch.manual_seed(seed)


def _clip_tokenizer(tmp: Path, name: str, pad_token: str = "<|endoftext|>") -> Any:
    from transformers import CLIPTokenizer

    return CLIPTokenizer.from_pretrained(str(write_clip_tokenizer(tmp / name, pad_token=pad_token)))


def build_sd3_pipeline(
    spec: str | SD3Spec = "sd3-tiny",
    *,
    seed: int = 0,
    with_t5: bool = False,
    torch_dtype: Any = None,
    workdir: str | Path | None = None,
) -> Any:
    """A ``StableDiffusion3Pipeline`` with random weights (T5 only if ``with_t5``: its tokenizer is trained here)."""
    import tempfile

    from diffusers import AutoencoderKL, FlowMatchEulerDiscreteScheduler, SD3Transformer2DModel, StableDiffusion3Pipeline
    from transformers import CLIPTextConfig, CLIPTextModelWithProjection

    spec = SD3_SPECS[spec] if isinstance(spec, str) else spec
    workdir = Path(workdir or tempfile.mkdtemp(prefix="fe-tok-"))
    _seed(seed)
    transformer = SD3Transformer2DModel(**spec.transformer)
    _seed(seed + 1)
    vae = AutoencoderKL(**spec.vae)
    _seed(seed + 2)
    text_encoder = CLIPTextModelWithProjection(CLIPTextConfig(**spec.clip_l))
    _seed(seed + 3)
    text_encoder_2 = CLIPTextModelWithProjection(CLIPTextConfig(**spec.clip_g))
    text_encoder_3 = tokenizer_3 = None
    if with_t5:
        if spec.t5 is None:
            raise ValueError(f"{spec.name} has no T5 config")
        text_encoder_3, tokenizer_3 = _build_t5(spec.t5, seed + 4)
    pipe = StableDiffusion3Pipeline(
        transformer=transformer,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0),
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=_clip_tokenizer(workdir, "tokenizer"),
        text_encoder_2=text_encoder_2,
        # SD3's CLIP-G tokenizer pads with "!" (as in the published tokenizer_2).
        tokenizer_2=_clip_tokenizer(workdir, "tokenizer_2", pad_token="!"),
        text_encoder_3=text_encoder_3,
        tokenizer_3=tokenizer_3,
    )
    if torch_dtype is not None:
        pipe = pipe.to(torch_dtype)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def _build_t5(config: dict[str, Any], seed: int) -> tuple[Any, Any]:
    """T5 encoder with random weights and a small Unigram tokenizer trained here (no sentencepiece download)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, T5Config, T5EncoderModel

    _seed(seed)
    encoder = T5EncoderModel(T5Config(**config))
    tok = Tokenizer(models.Unigram())
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    corpus = [
        "a woman wearing a long-sleeve white blazer with a lapel neckline",
        "this gentleman is wearing a short-sleeve cotton shirt with pure color patterns and denim trousers",
    ]
    tok.train_from_iterator(
        corpus, trainers.UnigramTrainer(vocab_size=200, special_tokens=["<pad>", "</s>", "<unk>"], unk_token="<unk>")
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>", model_max_length=256
    )
    return encoder, tokenizer


def build_sd2_pipeline(spec: str | SD2Spec = "sd2-tiny", *, seed: int = 0, workdir: str | Path | None = None) -> Any:
    """A ``StableDiffusionPipeline`` (SD2 layout: v-prediction, OpenCLIP text tower) with random weights."""
    import tempfile

    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    spec = SD2_SPECS[spec] if isinstance(spec, str) else spec
    workdir = Path(workdir or tempfile.mkdtemp(prefix="fe-tok-"))
    _seed(seed)
    unet = UNet2DConditionModel(**spec.unet)
    _seed(seed + 1)
    vae = AutoencoderKL(**spec.vae)
    _seed(seed + 2)
    text_encoder = CLIPTextModel(CLIPTextConfig(**spec.text))
    scheduler = DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        prediction_type="v_prediction",
        steps_offset=1,
    )
    pipe = StableDiffusionPipeline(
        unet=unet,
        scheduler=scheduler,
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=_clip_tokenizer(workdir, "tokenizer", pad_token="!"),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.set_progress_bar_config(disable=True)
    return pipe


def save_pipeline(pipe: Any, directory: str | Path, *, spec_name: str, seed: int) -> Path:
    """``save_pretrained`` plus a marker saying the weights are random (services report it)."""
    directory = Path(directory)
    pipe.save_pretrained(str(directory), safe_serialization=True)
    (directory / RANDOM_WEIGHTS_MARKER).write_text(json.dumps({"spec": spec_name, "seed": seed, "random_weights": True}))
    return directory


def save_sd3_pipeline(directory: str | Path, spec: str = "sd3-tiny", *, seed: int = 0, with_t5: bool = True) -> Path:
    """Save a random SD3 pipeline folder. With T5 by default, like the published snapshots: diffusers
    0.42 will not load a folder whose ``model_index.json`` lists ``[null, null]`` components unless the
    caller passes them explicitly (``text_encoder_3=None, tokenizer_3=None``), which is how T5 is dropped."""
    directory = Path(directory)
    return save_pipeline(
        build_sd3_pipeline(spec, seed=seed, with_t5=with_t5, workdir=directory.parent / f".{directory.name}-tok"),
        directory,
        spec_name=spec,
        seed=seed,
    )


def save_sd2_pipeline(directory: str | Path, spec: str = "sd2-tiny", *, seed: int = 0) -> Path:
    directory = Path(directory)
    return save_pipeline(
        build_sd2_pipeline(spec, seed=seed, workdir=directory.parent / f".{directory.name}-tok"),
        directory,
        spec_name=spec,
        seed=seed,
    )


def is_random_weights(directory: str | Path) -> bool:
    return (Path(directory) / RANDOM_WEIGHTS_MARKER).is_file()


# -- CLIP ------------------------------------------------------------------------------


def build_open_clip(spec: str | ClipSpec = "clip-tiny", *, seed: int = 0) -> Any:
    """An open_clip model with random weights (eval mode)."""
    import open_clip
    from open_clip.model import CLIP

    spec = CLIP_SPECS[spec] if isinstance(spec, str) else spec
    _seed(seed)
    if spec.builtin:
        model = open_clip.create_model(spec.builtin, pretrained=None)
    else:
        model = CLIP(**spec.model_cfg)
    return model.eval()


def save_open_clip_local_dir(directory: str | Path, spec: str = "clip-tiny", *, seed: int = 0) -> Path:
    """Save as an open_clip ``local-dir`` (the hub layout): load with ``create_model_and_transforms('local-dir:<dir>')``."""
    import open_clip
    from safetensors.torch import save_file

    clip_spec = CLIP_SPECS[spec]
    model = build_open_clip(clip_spec, seed=seed)
    model_cfg = clip_spec.model_cfg or open_clip.get_model_config(clip_spec.builtin)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    config = {
        "model_cfg": model_cfg,
        "preprocess_cfg": {
            "mean": list(open_clip.OPENAI_DATASET_MEAN),
            "std": list(open_clip.OPENAI_DATASET_STD),
            "interpolation": "bicubic",
            "resize_mode": "shortest",
        },
    }
    (directory / "open_clip_config.json").write_text(json.dumps(config, indent=2))
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(directory / "open_clip_model.safetensors"))
    (directory / RANDOM_WEIGHTS_MARKER).write_text(json.dumps({"spec": spec, "seed": seed, "random_weights": True}))
    return directory


def save_open_clip_checkpoint(path: str | Path, spec: str = "ViT-B-32", *, seed: int = 0) -> Path:
    """Save a bare ``state_dict`` file for a built-in architecture: ``create_model_and_transforms(name, pretrained=<file>)``."""
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(build_open_clip(spec, seed=seed).state_dict(), path)
    return path
