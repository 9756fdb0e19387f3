"""Random-weight instruction editors: Qwen-Image-Edit-Plus and FLUX.1 Kontext, tiny or at full size.

The tiny specs follow diffusers' own fast tests of ``QwenImageEditPlusPipeline`` and
``FluxKontextPipeline``; the full-size specs copy the published configs of
``Qwen/Qwen-Image-Edit-2509`` and ``black-forest-labs/FLUX.1-Kontext-dev``, so a random build costs
the real model's compute (GPU timings without weights). Every tokenizer and processor is built
here, offline:

* Qwen2.5-VL: a byte-level BPE trained on a few sentences, with Qwen's chat and vision special
  tokens; the model config takes the token ids the tokenizer gave them. The image processor is
  ``Qwen2VLImageProcessor`` with the real patch geometry (14 px patches, 2x2 merge).
* FLUX: CLIP-L's tokenizer from open_clip's bundled BPE, and a small trained T5 tokenizer.

Folders are written with ``save_pretrained`` in the published layout (``model_index.json`` +
components) and carry :data:`~.build.RANDOM_WEIGHTS_MARKER`, which the services report.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .build import _build_t5, _clip_tokenizer, _seed, save_pipeline

# Qwen2.5-VL's special tokens, as the published tokenizer spells them (the pipeline's prompt uses them).
QWEN_SPECIAL_TOKENS = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
)
_QWEN_CORPUS = [
    "Describe the key features of the input image (color, shape, size, texture, objects, background), "
    "then explain how the user's text instruction should alter or modify the image. "
    "Generate a new image that meets the user's requirements while maintaining "
    "consistency with the original input where appropriate.",
    "Please edit the first image based on the following description and the second reference image: the collar is white lace",
    "Picture 1: Picture 2: system user assistant a woman wearing a long-sleeve blazer with a lapel neckline and denim trousers",
]


@dataclass(frozen=True)
class QwenEditSpec:
    name: str
    transformer: dict[str, Any]
    vae: dict[str, Any]
    text: dict[str, Any]
    vision: dict[str, Any]
    vocab_size: int | None  # None: the tokenizer's size (tiny); the real model's 152064 otherwise
    default_size: int


@dataclass(frozen=True)
class KontextSpec:
    name: str
    transformer: dict[str, Any]
    vae: dict[str, Any]
    clip_l: dict[str, Any]
    t5: dict[str, Any]
    default_size: int


QWEN_EDIT_TINY = QwenEditSpec(
    name="qwen-image-edit-tiny",
    transformer=dict(
        patch_size=2,
        in_channels=16,
        out_channels=4,
        num_layers=2,
        attention_head_dim=16,
        num_attention_heads=3,
        joint_attention_dim=16,
        guidance_embeds=False,
        axes_dims_rope=(8, 4, 4),
    ),
    vae=dict(
        base_dim=24,
        z_dim=4,
        dim_mult=[1, 2, 4],
        num_res_blocks=1,
        temperal_downsample=[False, True],
        latents_mean=[0.0] * 4,
        latents_std=[1.0] * 4,
    ),
    text=dict(
        hidden_size=16,
        intermediate_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        rope_scaling={"mrope_section": [1, 1, 2], "rope_type": "default", "type": "default"},
        rope_theta=1000000.0,
    ),
    vision=dict(depth=2, hidden_size=16, intermediate_size=16, num_heads=2, out_hidden_size=16),
    vocab_size=None,
    default_size=64,
)

# Qwen/Qwen-Image-Edit-2509: the Qwen-Image MMDiT (20B), its VAE, and Qwen2.5-VL-7B-Instruct as text encoder.
QWEN_EDIT_2509 = QwenEditSpec(
    name="qwen-image-edit-2509",
    transformer=dict(
        patch_size=2,
        in_channels=64,
        out_channels=16,
        num_layers=60,
        attention_head_dim=128,
        num_attention_heads=24,
        joint_attention_dim=3584,
        guidance_embeds=False,
        axes_dims_rope=(16, 56, 56),
    ),
    vae=dict(base_dim=96, z_dim=16, dim_mult=[1, 2, 4, 4], num_res_blocks=2, temperal_downsample=[False, True, True]),
    text=dict(
        hidden_size=3584,
        intermediate_size=18944,
        num_hidden_layers=28,
        num_attention_heads=28,
        num_key_value_heads=4,
        rope_scaling={"mrope_section": [16, 24, 24], "rope_type": "default", "type": "default"},
        rope_theta=1000000.0,
        max_position_embeddings=128000,
    ),
    vision=dict(
        depth=32,
        hidden_size=1280,
        intermediate_size=3420,
        num_heads=16,
        out_hidden_size=3584,
        window_size=112,
        fullatt_block_indexes=[7, 15, 23, 31],
        tokens_per_second=2,
    ),
    vocab_size=152064,
    default_size=1024,
)

KONTEXT_TINY = KontextSpec(
    name="flux-kontext-tiny",
    transformer=dict(
        patch_size=1,
        in_channels=16,
        num_layers=1,
        num_single_layers=1,
        attention_head_dim=16,
        num_attention_heads=2,
        joint_attention_dim=64,
        pooled_projection_dim=32,
        axes_dims_rope=[4, 4, 8],
        guidance_embeds=True,
    ),
    vae=dict(
        sample_size=64,
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * 3,
        up_block_types=["UpDecoderBlock2D"] * 3,
        block_out_channels=[8, 16, 16],
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=4,
        use_quant_conv=False,
        use_post_quant_conv=False,
        shift_factor=0.0609,
        scaling_factor=1.5035,
    ),
    clip_l=dict(
        hidden_size=32,
        intermediate_size=37,
        num_attention_heads=4,
        num_hidden_layers=2,
        projection_dim=32,
        hidden_act="gelu",
        vocab_size=49408,
        max_position_embeddings=77,
        bos_token_id=49406,
        eos_token_id=49407,
        pad_token_id=49407,
    ),
    t5=dict(vocab_size=32128, d_model=64, d_ff=37, d_kv=8, num_layers=2, num_heads=4, feed_forward_proj="gated-gelu"),
    default_size=64,
)

# black-forest-labs/FLUX.1-Kontext-dev: the FLUX.1 12B transformer, FLUX's VAE, CLIP-L and T5-XXL.
KONTEXT_DEV = KontextSpec(
    name="flux-kontext-dev",
    transformer=dict(
        patch_size=1,
        in_channels=64,
        num_layers=19,
        num_single_layers=38,
        attention_head_dim=128,
        num_attention_heads=24,
        joint_attention_dim=4096,
        pooled_projection_dim=768,
        guidance_embeds=True,
        axes_dims_rope=[16, 56, 56],
    ),
    vae=dict(
        sample_size=1024,
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * 4,
        up_block_types=["UpDecoderBlock2D"] * 4,
        block_out_channels=[128, 256, 512, 512],
        layers_per_block=2,
        latent_channels=16,
        norm_num_groups=32,
        use_quant_conv=False,
        use_post_quant_conv=False,
        shift_factor=0.1159,
        scaling_factor=0.3611,
    ),
    clip_l=dict(
        hidden_size=768,
        intermediate_size=3072,
        num_attention_heads=12,
        num_hidden_layers=12,
        projection_dim=768,
        hidden_act="quick_gelu",
        vocab_size=49408,
        max_position_embeddings=77,
        bos_token_id=49406,
        eos_token_id=49407,
        pad_token_id=49407,
    ),
    t5=dict(vocab_size=32128, d_model=4096, d_ff=10240, d_kv=64, num_layers=24, num_heads=64, feed_forward_proj="gated-gelu"),
    default_size=1024,
)

QWEN_EDIT_SPECS = {spec.name: spec for spec in (QWEN_EDIT_TINY, QWEN_EDIT_2509)}
KONTEXT_SPECS = {spec.name: spec for spec in (KONTEXT_TINY, KONTEXT_DEV)}


# -- Qwen-Image-Edit-Plus ------------------------------------------------------------------------


def qwen_tokenizer(directory: str | Path) -> Any:
    """A byte-level BPE ``Qwen2Tokenizer`` with Qwen's special tokens, trained here (nothing downloaded)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Tokenizer

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=list(QWEN_SPECIAL_TOKENS), initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(_QWEN_CORPUS, trainer)
    directory = Path(directory)
    PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>", model_max_length=32768
    ).save_pretrained(str(directory))
    return Qwen2Tokenizer.from_pretrained(str(directory))


def qwen_processor(tokenizer: Any, *, max_pixels: int) -> Any:
    """``Qwen2VLProcessor`` with the real patch geometry; ``max_pixels`` caps the vision tokens per image."""
    from transformers import Qwen2VLImageProcessor, Qwen2VLProcessor
    from transformers.models.qwen2_vl.video_processing_qwen2_vl import Qwen2VLVideoProcessor

    geometry = dict(patch_size=14, merge_size=2, temporal_patch_size=2, min_pixels=28 * 28, max_pixels=max_pixels)
    return Qwen2VLProcessor(
        image_processor=Qwen2VLImageProcessor(**geometry), tokenizer=tokenizer, video_processor=Qwen2VLVideoProcessor(**geometry)
    )


def build_qwen_edit_pipeline(
    spec: str | QwenEditSpec = "qwen-image-edit-tiny", *, seed: int = 0, workdir: str | Path | None = None
) -> Any:
    """A ``QwenImageEditPlusPipeline`` with random weights."""
    from diffusers import (
        AutoencoderKLQwenImage,
        FlowMatchEulerDiscreteScheduler,
        QwenImageEditPlusPipeline,
        QwenImageTransformer2DModel,
    )
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    spec = QWEN_EDIT_SPECS[spec] if isinstance(spec, str) else spec
    workdir = Path(workdir or tempfile.mkdtemp(prefix="fe-tok-"))
    tokenizer = qwen_tokenizer(workdir / "tokenizer")
    ids = {
        name: tokenizer.convert_tokens_to_ids(token)
        for name, token in (
            ("image_token_id", "<|image_pad|>"),
            ("video_token_id", "<|video_pad|>"),
            ("vision_start_token_id", "<|vision_start|>"),
            ("vision_end_token_id", "<|vision_end|>"),
            ("vision_token_id", "<|vision_pad|>"),
        )
    }
    vocab_size = spec.vocab_size or len(tokenizer)
    text = dict(spec.text, vocab_size=vocab_size)
    if spec.vocab_size is None:  # the tiny vocabulary's own ids, not the published 151643 / 151645
        text.update(
            bos_token_id=tokenizer.convert_tokens_to_ids("<|endoftext|>"),
            eos_token_id=tokenizer.convert_tokens_to_ids("<|im_end|>"),
        )
    _seed(seed)
    transformer = QwenImageTransformer2DModel(**spec.transformer)
    _seed(seed + 1)
    vae = AutoencoderKLQwenImage(**spec.vae)
    _seed(seed + 2)
    config = Qwen2_5_VLConfig(
        text_config=text, vision_config=spec.vision, hidden_size=text["hidden_size"], vocab_size=vocab_size, **ids
    )
    text_encoder = Qwen2_5_VLForConditionalGeneration(config)
    # Tiny: a few vision tokens per image; full size: the published processor's limit.
    max_pixels = 56 * 56 if spec.default_size <= 128 else 12845056
    pipe = QwenImageEditPlusPipeline(
        transformer=transformer,
        vae=vae,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0),
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        processor=qwen_processor(tokenizer, max_pixels=max_pixels),
    )
    pipe.set_progress_bar_config(disable=True)
    return pipe


def save_qwen_edit_pipeline(directory: str | Path, spec: str = "qwen-image-edit-tiny", *, seed: int = 0) -> Path:
    directory = Path(directory)
    pipe = build_qwen_edit_pipeline(spec, seed=seed, workdir=directory.parent / f".{directory.name}-tok")
    return save_pipeline(pipe, directory, spec_name=spec, seed=seed)


# -- FLUX.1 Kontext ------------------------------------------------------------------------------


def build_kontext_pipeline(
    spec: str | KontextSpec = "flux-kontext-tiny", *, seed: int = 0, workdir: str | Path | None = None
) -> Any:
    """A ``FluxKontextPipeline`` with random weights."""
    from diffusers import AutoencoderKL, FlowMatchEulerDiscreteScheduler, FluxKontextPipeline, FluxTransformer2DModel
    from transformers import CLIPTextConfig, CLIPTextModel

    spec = KONTEXT_SPECS[spec] if isinstance(spec, str) else spec
    workdir = Path(workdir or tempfile.mkdtemp(prefix="fe-tok-"))
    _seed(seed)
    transformer = FluxTransformer2DModel(**spec.transformer)
    _seed(seed + 1)
    vae = AutoencoderKL(**spec.vae)
    _seed(seed + 2)
    text_encoder = CLIPTextModel(CLIPTextConfig(**spec.clip_l))
    text_encoder_2, tokenizer_2 = _build_t5(spec.t5, seed + 3)
    scheduler = FlowMatchEulerDiscreteScheduler(
        shift=3.0, use_dynamic_shifting=True, base_shift=0.5, max_shift=1.15, base_image_seq_len=256, max_image_seq_len=4096
    )
    pipe = FluxKontextPipeline(
        scheduler=scheduler,
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=_clip_tokenizer(workdir, "tokenizer"),
        text_encoder_2=text_encoder_2,
        tokenizer_2=tokenizer_2,
        transformer=transformer,
        image_encoder=None,
        feature_extractor=None,
    )
    pipe.set_progress_bar_config(disable=True)
    return pipe


def save_kontext_pipeline(directory: str | Path, spec: str = "flux-kontext-tiny", *, seed: int = 0) -> Path:
    directory = Path(directory)
    pipe = build_kontext_pipeline(spec, seed=seed, workdir=directory.parent / f".{directory.name}-tok")
    return save_pipeline(pipe, directory, spec_name=spec, seed=seed)
