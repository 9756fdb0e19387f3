"""Random-weight model builders for offline tests, the offline ``tiny`` backends and GPU timings.

Nothing here downloads anything. Tiny specs run in well under a second on a
CPU; full-size specs (``sd3-medium``, ``ViT-L-14``) cost exactly the real
model's compute, so GPU benchmarks are honest without weights. Scores from
these weights are meaningless and must never be reported as model scores.
"""

from .build import (
    RANDOM_WEIGHTS_MARKER,
    build_open_clip,
    build_sd2_pipeline,
    build_sd3_pipeline,
    is_random_weights,
    save_open_clip_checkpoint,
    save_open_clip_local_dir,
    save_pipeline,
    save_sd2_pipeline,
    save_sd3_pipeline,
)
from .edit_pipelines import (
    KONTEXT_SPECS,
    QWEN_EDIT_SPECS,
    build_kontext_pipeline,
    build_qwen_edit_pipeline,
    save_kontext_pipeline,
    save_qwen_edit_pipeline,
)
from .specs import CLIP_SPECS, SD2_SPECS, SD3_SPECS
from .tokenizer import write_clip_tokenizer

__all__ = [
    "CLIP_SPECS",
    "KONTEXT_SPECS",
    "QWEN_EDIT_SPECS",
    "RANDOM_WEIGHTS_MARKER",
    "SD2_SPECS",
    "SD3_SPECS",
    "build_kontext_pipeline",
    "build_open_clip",
    "build_qwen_edit_pipeline",
    "build_sd2_pipeline",
    "build_sd3_pipeline",
    "is_random_weights",
    "save_kontext_pipeline",
    "save_open_clip_checkpoint",
    "save_open_clip_local_dir",
    "save_pipeline",
    "save_qwen_edit_pipeline",
    "save_sd2_pipeline",
    "save_sd3_pipeline",
    "write_clip_tokenizer",
]
