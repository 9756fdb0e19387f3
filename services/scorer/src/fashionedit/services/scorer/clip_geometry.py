"""CLIP's resize + centre crop exactly as the published evaluation's ``CLIPProcessor`` computes them.

The published code preprocesses with transformers' (PIL) ``CLIPImageProcessor`` for
``openai/clip-vit-large-patch14``: resize the shortest edge to 224 with PIL bicubic, the long edge to
``int(224 * long / short)``, then a centre crop whose offset is **floored** (``(h - 224) // 2``). torchvision's
``CenterCrop`` (open_clip's transform) **rounds** it, so where the resized long edge minus 224 is odd
(640x427 gives 335 - 224 = 111) its crop sits one pixel further along. The rescale and normalisation
(``x * (1/255)`` in float64, cast to float32, then ``(x - mean) / std`` in float32) are done per batch on the
device by the embedder, in the same arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

RESAMPLE = {"bicubic": Image.Resampling.BICUBIC, "bilinear": Image.Resampling.BILINEAR, "nearest": Image.Resampling.NEAREST}

# transformers' preprocessor_config.json of openai/clip-vit-large-patch14 (the published evaluation's processor).
PUBLISHED_PROCESSOR_CONFIG = {
    "crop_size": 224,
    "do_center_crop": True,
    "do_normalize": True,
    "do_resize": True,
    "feature_extractor_type": "CLIPFeatureExtractor",
    "image_mean": [0.48145466, 0.4578275, 0.40821073],
    "image_std": [0.26862954, 0.26130258, 0.27577711],
    "resample": 3,
    "size": 224,
}


def shortest_edge_size(width: int, height: int, shortest_edge: int) -> tuple[int, int]:
    """(width, height) after resizing the shortest edge to ``shortest_edge`` (the long one truncated, as transformers does)."""
    short, long = (width, height) if width <= height else (height, width)
    new_short, new_long = shortest_edge, int(shortest_edge * long / short)
    return (new_short, new_long) if width <= height else (new_long, new_short)


@dataclass(frozen=True)
class ProcessorGeometry:
    """Shortest-edge resize then floored centre crop: ``CLIPImageProcessor``'s geometric steps, uint8 in and out."""

    shortest_edge: int
    crop: tuple[int, int]  # (height, width)
    resample: Image.Resampling = Image.Resampling.BICUBIC

    def __call__(self, image: Image.Image) -> np.ndarray:
        width, height = shortest_edge_size(image.width, image.height, self.shortest_edge)
        resized = np.asarray(image.resize((width, height), resample=self.resample))
        crop_h, crop_w = self.crop
        if height < crop_h or width < crop_w:
            # transformers pads with zeros around a too-small image; only reachable when crop > shortest edge.
            padded = np.zeros((max(height, crop_h), max(width, crop_w), resized.shape[2]), dtype=resized.dtype)
            top, left = (padded.shape[0] - height) // 2, (padded.shape[1] - width) // 2
            padded[top : top + height, left : left + width] = resized
            resized, height, width = padded, padded.shape[0], padded.shape[1]
        top, left = (height - crop_h) // 2, (width - crop_w) // 2
        return resized[top : top + crop_h, left : left + crop_w]
