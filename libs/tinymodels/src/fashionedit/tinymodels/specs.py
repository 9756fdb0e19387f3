"""Architecture specs: ``tiny`` for tests (seconds on a CPU) and the real sizes for GPU timings.

The full-size specs copy the published configs of SD3-medium
(``stabilityai/stable-diffusion-3-medium-diffusers``), SD2.1 and open_clip
ViT-L-14, so a random-weight build costs exactly the real model's compute.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SD3Spec:
    name: str
    transformer: dict[str, Any]
    vae: dict[str, Any]
    clip_l: dict[str, Any]
    clip_g: dict[str, Any]
    t5: dict[str, Any] | None = None
    default_size: int = 1024


_CLIP_TEXT_COMMON = {
    "vocab_size": 49408,
    "max_position_embeddings": 77,
    "bos_token_id": 49406,
    "eos_token_id": 49407,
    "pad_token_id": 49407,
}

SD3_TINY = SD3Spec(
    name="sd3-tiny",
    transformer=dict(
        sample_size=32,
        patch_size=2,
        in_channels=4,
        num_layers=2,
        attention_head_dim=8,
        num_attention_heads=4,
        caption_projection_dim=32,
        joint_attention_dim=64,
        pooled_projection_dim=64,
        out_channels=4,
        pos_embed_max_size=96,
    ),
    vae=dict(
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"],
        up_block_types=["UpDecoderBlock2D", "UpDecoderBlock2D"],
        block_out_channels=[8, 16],
        latent_channels=4,
        layers_per_block=1,
        norm_num_groups=4,
        sample_size=64,
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
        **_CLIP_TEXT_COMMON,
    ),
    clip_g=dict(
        hidden_size=32,
        intermediate_size=37,
        num_attention_heads=4,
        num_hidden_layers=2,
        projection_dim=32,
        hidden_act="gelu",
        **_CLIP_TEXT_COMMON,
    ),
    t5=dict(vocab_size=32128, d_model=64, d_ff=37, d_kv=8, num_layers=2, num_heads=4, feed_forward_proj="gated-gelu"),
    default_size=64,
)

SD3_MEDIUM = SD3Spec(
    name="sd3-medium",
    transformer=dict(
        sample_size=128,
        patch_size=2,
        in_channels=16,
        num_layers=24,
        attention_head_dim=64,
        num_attention_heads=24,
        joint_attention_dim=4096,
        caption_projection_dim=1536,
        pooled_projection_dim=2048,
        out_channels=16,
        pos_embed_max_size=192,
    ),
    vae=dict(
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * 4,
        up_block_types=["UpDecoderBlock2D"] * 4,
        block_out_channels=[128, 256, 512, 512],
        latent_channels=16,
        layers_per_block=2,
        norm_num_groups=32,
        sample_size=1024,
        use_quant_conv=False,
        use_post_quant_conv=False,
        shift_factor=0.0609,
        scaling_factor=1.5305,
    ),
    clip_l=dict(
        hidden_size=768,
        intermediate_size=3072,
        num_attention_heads=12,
        num_hidden_layers=12,
        projection_dim=768,
        hidden_act="quick_gelu",
        **_CLIP_TEXT_COMMON,
    ),
    clip_g=dict(
        hidden_size=1280,
        intermediate_size=5120,
        num_attention_heads=20,
        num_hidden_layers=32,
        projection_dim=1280,
        hidden_act="gelu",
        **_CLIP_TEXT_COMMON,
    ),
    t5=dict(vocab_size=32128, d_model=4096, d_ff=10240, d_kv=64, num_layers=24, num_heads=64, feed_forward_proj="gated-gelu"),
    default_size=1024,
)

SD3_SPECS = {spec.name: spec for spec in (SD3_TINY, SD3_MEDIUM)}


@dataclass(frozen=True)
class SD2Spec:
    name: str
    unet: dict[str, Any]
    vae: dict[str, Any]
    text: dict[str, Any]
    default_size: int = 768


SD2_TINY = SD2Spec(
    name="sd2-tiny",
    unet=dict(
        block_out_channels=(8, 16),
        layers_per_block=1,
        sample_size=32,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32,
        attention_head_dim=(2, 4),
        use_linear_projection=True,
        norm_num_groups=4,
    ),
    vae=dict(
        block_out_channels=[8, 16],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * 2,
        up_block_types=["UpDecoderBlock2D"] * 2,
        latent_channels=4,
        norm_num_groups=4,
        sample_size=64,
    ),
    text=dict(
        hidden_size=32,
        intermediate_size=37,
        num_attention_heads=4,
        num_hidden_layers=2,
        hidden_act="gelu",
        projection_dim=32,
        **_CLIP_TEXT_COMMON,
    ),
    default_size=64,
)

SD2_SPECS = {SD2_TINY.name: SD2_TINY}


@dataclass(frozen=True)
class ClipSpec:
    """An open_clip architecture; ``builtin`` names a config open_clip ships."""

    name: str
    builtin: str | None = None
    model_cfg: dict[str, Any] = field(default_factory=dict)


CLIP_TINY = ClipSpec(
    name="clip-tiny",
    model_cfg={
        "embed_dim": 32,
        "quick_gelu": True,
        "vision_cfg": {"image_size": 224, "layers": 2, "width": 64, "head_width": 32, "patch_size": 32},
        "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 2},
    },
)
CLIP_VIT_L_14 = ClipSpec(name="ViT-L-14", builtin="ViT-L-14")
CLIP_VIT_B_32 = ClipSpec(name="ViT-B-32", builtin="ViT-B-32")
CLIP_SPECS = {spec.name: spec for spec in (CLIP_TINY, CLIP_VIT_L_14, CLIP_VIT_B_32)}
