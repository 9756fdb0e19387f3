"""Synthetic flat garments with planted rectangular differences (for tests that must not wait on fashionedit.flats)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from PIL import Image, ImageDraw

from fashionedit.contracts import Box2D
from fashionedit.services.analyzer.colours import REFERENCE_RGB, display

COLOURS = [c for c in REFERENCE_RGB]


@dataclass
class Planted:
    box: Box2D
    colour: str  # the original's colour there, as a description names it


def garment_pair(seed: int, size: tuple[int, int] = (96, 128), n: int = 2) -> tuple[Image.Image, Image.Image, list[Planted]]:
    """A plain garment on a light sheet; ``n`` patches whose colour differs between original and draft."""
    rng = random.Random(seed)
    width, height = size
    body = rng.choice([c for c in COLOURS if c.value in ("navy", "black", "burgundy", "green", "brown", "teal")])
    original = Image.new("RGB", size, (250, 250, 250))
    ImageDraw.Draw(original).rectangle((width // 6, height // 10, 5 * width // 6, 9 * height // 10), fill=REFERENCE_RGB[body])
    generated = original.copy()
    planted: list[Planted] = []
    slots = [(0.22, 0.15), (0.55, 0.15), (0.22, 0.6), (0.55, 0.6)]
    rng.shuffle(slots)
    for fx, fy in slots[:n]:
        patch_w, patch_h = int(width * rng.uniform(0.15, 0.25)), int(height * rng.uniform(0.12, 0.25))
        x0, y0 = int(fx * width), int(fy * height)
        colour = rng.choice(
            [c for c in COLOURS if c not in (body,) and c.value in ("red", "yellow", "white", "orange", "pink", "light blue")]
        )
        ImageDraw.Draw(original).rectangle((x0, y0, x0 + patch_w - 1, y0 + patch_h - 1), fill=REFERENCE_RGB[colour])
        planted.append(Planted(Box2D.from_pixels((x0, y0, x0 + patch_w, y0 + patch_h), width, height), display(colour)))
    return original, generated, planted
