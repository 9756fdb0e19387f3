"""Technical flats: garment attributes, DeepFashion-style captions, edit instructions, a procedural renderer
and synthetic FashionEdit-shaped data. Needs pydantic, Pillow and numpy only (no torch, no weights)."""

from .caption import caption_from_attributes, describe_field
from .complete import complete_attributes
from .parser import (
    AttributeChange,
    InstructionResult,
    ParseResult,
    diff_attributes,
    parse_caption,
    parse_instruction,
    part_for_field,
)
from .render import METADATA_KEY, change_box, part_boxes, read_attributes, render_flat, to_png_bytes

__all__ = [
    "METADATA_KEY",
    "AttributeChange",
    "InstructionResult",
    "ParseResult",
    "SyntheticSummary",
    "caption_from_attributes",
    "change_box",
    "complete_attributes",
    "describe_field",
    "diff_attributes",
    "parse_caption",
    "parse_instruction",
    "part_boxes",
    "part_for_field",
    "read_attributes",
    "render_flat",
    "to_png_bytes",
    "write_synthetic_dataset",
]


def __getattr__(name: str):
    # lazy, so `python -m fashionedit.flats.synthetic` does not find its module already imported
    if name in ("SyntheticSummary", "write_synthetic_dataset"):
        from . import synthetic

        return getattr(synthetic, name)
    raise AttributeError(f"module 'fashionedit.flats' has no attribute {name!r}")
