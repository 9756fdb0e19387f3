"""A design's placed layers: reference pixels an editor placed on a design, kept in the PNG so later rounds keep them.

A placed reference (a logo, a pocket sketch, a crop of a photo) becomes part of the design's state:
its RGBA pixels (alpha 0 where the design shows through, e.g. the reference's own background), the
box it sits in and, on a technical flat, the garment part it sits on. The state travels in PNG text
chunks beside the flat's garment attributes (:data:`~fashionedit.flats.render.METADATA_KEY`), so a
later text edit re-renders the garment and lays the same layers over it again, each moved with the
part it sits on ("make the shirt a dress" keeps a chest logo on the chest).

Pillow and numpy only; the editor's classical placement (OpenCV) makes the layers.
"""

from __future__ import annotations

import base64
import io
import json

import numpy as np
from PIL import Image
from pydantic import BaseModel, Field, ValidationError

from fashionedit.contracts.boxes import Box2D, PixelBox
from fashionedit.contracts.garment import GarmentAttributes

from .render import METADATA_KEY, part_boxes, render_flat

LAYERS_KEY = "fashionedit:layers"
LAYER_PIXELS_KEY = "fashionedit:layer:{}"
#: Pillow refuses a single text chunk over 1 MiB when reading; a layer's pixels stay below this in base64.
MAX_LAYER_CHARS = 900_000
#: Parts a layer can ride on, most specific first: they keep their place when other parts change.
ANCHOR_PARTS = ("left_sleeve", "right_sleeve", "body", "lower")


class PlacedLayer(BaseModel):
    """One placed reference. ``box_2d`` is where its pixels sit now ([ymin, xmin, ymax, xmax] on 0-1000)."""

    box_2d: Box2D
    png: str = Field(description="base64 RGBA PNG of the placed pixels; alpha 0 where the design shows through")
    anchor: str | None = Field(default=None, description="The flat part it sits on (a key of part_boxes), if any")
    anchor_box: Box2D | None = Field(default=None, description="That part's box when the layer was placed or last moved")
    instruction: str = Field(default="", max_length=2000, description="The instruction it was placed with")

    def pixels(self, size: tuple[int, int]) -> tuple[Image.Image, PixelBox]:
        """The layer's RGBA pixels at its box on a ``size`` canvas, and that box in pixels."""
        box = self.box_2d.to_pixels(*size)
        with Image.open(io.BytesIO(base64.b64decode(self.png))) as opened:
            img = opened.convert("RGBA")
        if img.size != (box.width, box.height):
            img = img.resize((box.width, box.height), Image.Resampling.BICUBIC)
        return img, box


def encode_layer_pixels(rgba: np.ndarray) -> str:
    """base64 PNG of an HxWx4 uint8 array, downscaled until it fits one PNG text chunk."""
    img = Image.fromarray(rgba, "RGBA")
    while True:
        buf = io.BytesIO()
        img.save(buf, format="PNG", optimize=False, compress_level=6)
        text = base64.b64encode(buf.getvalue()).decode("ascii")
        if len(text) <= MAX_LAYER_CHARS or min(img.size) <= 8:
            return text
        img = img.resize((max(1, img.width * 3 // 4), max(1, img.height * 3 // 4)), Image.Resampling.LANCZOS)


def composite(image: Image.Image, layers: list[PlacedLayer]) -> Image.Image:
    """``image`` (RGB) with ``layers`` laid over it in order; pixels outside every layer's box are untouched."""
    out = np.asarray(image.convert("RGB"), np.float32).copy()
    for layer in layers:
        pixels, box = layer.pixels(image.size)
        rgba = np.asarray(pixels, np.float32)
        alpha = rgba[..., 3:4] / 255.0
        region = out[box.y0 : box.y1, box.x0 : box.x1]
        out[box.y0 : box.y1, box.x0 : box.x1] = alpha * rgba[..., :3] + (1 - alpha) * region
    return Image.fromarray(np.clip(out + 0.5, 0, 255).astype(np.uint8), "RGB")


def anchor_for(box: Box2D, attributes: GarmentAttributes | None, size: tuple[int, int]) -> tuple[str | None, Box2D | None]:
    """The flat part whose box holds the centre of ``box`` (sleeves before the body), or ``(None, None)``."""
    if attributes is None:
        return None, None
    boxes = part_boxes(attributes, size)
    cy, cx = (box.ymin + box.ymax) / 2, (box.xmin + box.xmax) / 2
    for name in ANCHOR_PARTS:
        part = boxes.get(name)
        if part is not None and part.ymin <= cy <= part.ymax and part.xmin <= cx <= part.xmax:
            return name, part
    return None, None


#: Where an instruction says a reference goes on a flat, longest phrase first: (phrase, part, box within the part's box
#: as (top, left, bottom, right) fractions). "Left"/"right" are the wearer's, as in part_boxes.
PLACE_WORDS: tuple[tuple[str, str, tuple[float, float, float, float]], ...] = (
    ("left sleeve", "left_sleeve", (0.3, 0.25, 0.7, 0.75)),
    ("right sleeve", "right_sleeve", (0.3, 0.25, 0.7, 0.75)),
    ("left chest", "body", (0.14, 0.56, 0.38, 0.86)),
    ("right chest", "body", (0.14, 0.14, 0.38, 0.44)),
    ("sleeve", "left_sleeve", (0.3, 0.25, 0.7, 0.75)),
    ("chest", "body", (0.14, 0.56, 0.38, 0.86)),
    ("breast", "body", (0.14, 0.56, 0.38, 0.86)),
    ("pocket", "pockets", (0.0, 0.0, 1.0, 1.0)),
    ("collar", "collar", (0.0, 0.0, 1.0, 1.0)),
    ("neckline", "neckline", (0.0, 0.0, 1.0, 1.0)),
    ("hem", "hem", (0.0, 0.0, 1.0, 1.0)),
    ("belt", "belt", (0.0, 0.0, 1.0, 1.0)),
    ("front", "body", (0.3, 0.2, 0.75, 0.8)),
    ("centre", "body", (0.3, 0.2, 0.75, 0.8)),
    ("center", "body", (0.3, 0.2, 0.75, 0.8)),
    ("trousers", "lower", (0.1, 0.1, 0.5, 0.9)),
    ("skirt", "lower", (0.1, 0.1, 0.6, 0.9)),
)


def box_from_words(text: str, attributes: GarmentAttributes, size: tuple[int, int]) -> tuple[Box2D, str] | None:
    """The box an instruction names for a reference on a flat ("put this logo on the left chest"), and the phrase."""
    words = " " + " ".join(text.lower().replace("-", " ").split()) + " "
    boxes = part_boxes(attributes, size)
    for phrase, part, (top, left, bottom, right) in PLACE_WORDS:
        if f" {phrase} " not in words and f" {phrase}s " not in words:
            continue
        box = boxes.get(part)
        if box is None:
            continue
        h, w = box.ymax - box.ymin, box.xmax - box.xmin
        return Box2D((box.ymin + top * h, box.xmin + left * w, box.ymin + bottom * h, box.xmin + right * w)), phrase
    return None


def _moved(layer: PlacedLayer, boxes: dict[str, Box2D]) -> PlacedLayer:
    """The layer at the same place relative to its part's new box (its own size kept)."""
    assert layer.anchor is not None and layer.anchor_box is not None, "only anchored layers move with their part"
    old, new = layer.anchor_box, boxes[layer.anchor]
    box = layer.box_2d
    cy = new.ymin + ((box.ymin + box.ymax) / 2 - old.ymin) / max(old.ymax - old.ymin, 1e-6) * (new.ymax - new.ymin)
    cx = new.xmin + ((box.xmin + box.xmax) / 2 - old.xmin) / max(old.xmax - old.xmin, 1e-6) * (new.xmax - new.xmin)
    half_h, half_w = (box.ymax - box.ymin) / 2, (box.xmax - box.xmin) / 2
    # keep the whole layer on the canvas
    cy = min(max(cy, half_h), 1000 - half_h)
    cx = min(max(cx, half_w), 1000 - half_w)
    moved = Box2D((cy - half_h, cx - half_w, cy + half_h, cx + half_w))
    return layer.model_copy(update={"box_2d": moved, "anchor_box": new})


def relocate(
    layers: list[PlacedLayer], attributes: GarmentAttributes, size: tuple[int, int]
) -> tuple[list[PlacedLayer], list[str]]:
    """Layers moved with the parts they sit on in the re-rendered ``attributes``; notes for any whose part is gone."""
    if not layers:
        return [], []
    boxes = part_boxes(attributes, size)
    out: list[PlacedLayer] = []
    notes: list[str] = []
    for layer in layers:
        if layer.anchor is None or layer.anchor_box is None:
            out.append(layer)
        elif layer.anchor in boxes:
            out.append(_moved(layer, boxes))
        else:
            notes.append(
                f"a placed reference sat on the {layer.anchor.replace('_', ' ')}, which this edit removed; it stays where it was"
            )
            out.append(layer.model_copy(update={"anchor": None, "anchor_box": None}))
    return out, notes


def render_design(
    attributes: GarmentAttributes, layers: list[PlacedLayer], size: tuple[int, int]
) -> tuple[Image.Image, list[PlacedLayer], list[str]]:
    """The flat of ``attributes`` with ``layers`` moved along and laid over it, the design state in its PNG text."""
    flat = render_flat(attributes, size)
    moved, notes = relocate(layers, attributes, size)
    image = composite(flat, moved) if moved else flat
    attach_state(image, read_flat_text(flat), moved)
    return image, moved, notes


def read_flat_text(flat: Image.Image) -> str | None:
    return (getattr(flat, "text", None) or {}).get(METADATA_KEY)


def attach_state(image: Image.Image, garment_json: str | None, layers: list[PlacedLayer]) -> Image.Image:
    """Put the design state into ``image``'s PNG text (what ``encode_image`` / ``to_png_bytes`` write)."""
    text: dict[str, str] = {}
    if garment_json:
        text[METADATA_KEY] = garment_json
    if layers:
        index = [layer.model_dump(mode="json", exclude={"png"}) for layer in layers]
        text[LAYERS_KEY] = json.dumps(index, separators=(",", ":"))
        for i, layer in enumerate(layers):
            text[LAYER_PIXELS_KEY.format(i)] = layer.png
    image.text = text  # type: ignore[attr-defined]
    image.info.update(text)
    return image


def read_layers(text: dict[str, str]) -> list[PlacedLayer]:
    """The layers recorded in PNG text chunks (empty when none, or when the record is broken)."""
    raw = text.get(LAYERS_KEY)
    if not raw:
        return []
    try:
        index = json.loads(raw)
        return [PlacedLayer.model_validate({**entry, "png": text[LAYER_PIXELS_KEY.format(i)]}) for i, entry in enumerate(index)]
    except (ValueError, TypeError, KeyError, ValidationError):
        return []


__all__ = [
    "LAYERS_KEY",
    "PlacedLayer",
    "anchor_for",
    "attach_state",
    "box_from_words",
    "composite",
    "encode_layer_pixels",
    "read_layers",
    "relocate",
    "render_design",
]
