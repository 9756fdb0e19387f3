"""Small measuring helpers shared by the editor tests."""

from __future__ import annotations

import hashlib

import numpy as np
from PIL import Image

from fashionedit.contracts import Box2D, ImagePayload


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def box_masks(box: Box2D, size: tuple[int, int], margin: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(inside, outside) boolean masks of a box in pixels; ``margin`` pixels around the edge belong to neither."""
    width, height = size
    x0, y0, x1, y1 = box.to_pixels(width, height)
    inside = np.zeros((height, width), bool)
    inside[y0:y1, x0:x1] = True
    grown = np.zeros((height, width), bool)
    grown[max(0, y0 - margin) : y1 + margin, max(0, x0 - margin) : x1 + margin] = True
    return inside, ~grown


def abs_diff(a: ImagePayload | Image.Image, b: ImagePayload | Image.Image) -> np.ndarray:
    """Per-pixel mean absolute difference over channels (HxW float)."""
    pa = a.to_pil() if isinstance(a, ImagePayload) else a
    pb = b.to_pil() if isinstance(b, ImagePayload) else b
    return np.abs(np.asarray(pa, np.float32) - np.asarray(pb, np.float32)).mean(axis=-1)
