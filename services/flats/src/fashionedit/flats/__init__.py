"""Technical flats: garment attributes, DeepFashion-style captions, edit instructions, a procedural renderer
and synthetic FashionEdit-shaped data. Needs pydantic, Pillow and numpy only (no torch, no weights)."""

from .caption import caption_from_attributes, describe_field
from .parser import AttributeChange, InstructionResult, ParseResult, diff_attributes, parse_caption, parse_instruction, part_for_field

__all__ = [
    "AttributeChange",
    "InstructionResult",
    "ParseResult",
    "caption_from_attributes",
    "describe_field",
    "diff_attributes",
    "parse_caption",
    "parse_instruction",
    "part_for_field",
]
