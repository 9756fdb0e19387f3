"""Read a vision-language model's answer into differences, repairing what is safe and reporting it.

Models asked for ``{"differences": [{"description", "box_2d"}]}`` answer in many
shapes. :func:`parse_differences` accepts, in this order of leniency:

* the JSON object as asked, or a bare JSON list of items;
* JSON inside a fenced code block, or surrounded by prose;
* a Python literal (single quotes, as the paper's own prompt example writes it);
* other keys for the list (``results``, ...), the description (``discription``, ``label``, ...)
  and the box (``bbox_2d``, ``bbox``, ``box``, ...);
* boxes as numeric strings, ``[[x1, y1], [x2, y2]]`` pairs, or ``{"xmin": ...}`` objects;
* 0–1 fractions where 0–1000 was asked (all four values within 0–1), and values slightly over 1000
  (up to :data:`OVERSHOOT_LIMIT`: a model overshooting the edge, clamped, not mistaken for pixels);
* pixel coordinates, reversed corners and out-of-range values (via :func:`repair_box`);
* more than ``k`` items (the first ``k`` are kept); fewer are returned as they are.

Every change is a :class:`Repair`. Items that cannot be repaired (zero area, no
box) are dropped and reported. When nothing usable is left, or the text holds no
structure at all, :class:`UnreadableOutput` is raised so the caller can re-ask.
"""

from __future__ import annotations

import ast
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from fashionedit.contracts import Box2D, BoxConvention, Repair, RepairCode, repair_box

# A model answer longer than this is not three boxes; refuse it before any parsing.
MAX_TEXT_CHARS = 200_000

LIST_KEYS = ("differences", "difference", "results", "items", "objects", "detections", "boxes", "data", "output")
DESCRIPTION_KEYS = ("description", "discription", "desc", "label", "text", "difference", "caption", "name")
BOX_KEYS = ("box_2d", "bbox_2d", "bbox", "box", "box2d", "bounding_box", "boundingbox", "coordinates", "bounds")
MISSING_DESCRIPTION = "A difference in this region (the model gave no description)"
# Asked for 0-1000, a model that overshoots the edge writes 1001-1025 (2.5 %); beyond that the values are read as pixels.
OVERSHOOT_LIMIT = 1025.0
_PER_MILLE = (BoxConvention.YX_1000, BoxConvention.XY_1000)

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_-]*)[ \t]*\r?\n?(.*?)```", re.DOTALL)
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


class UnreadableOutput(ValueError):
    """The answer holds no usable difference; the message says why (it is shown in the final 502)."""


@dataclass
class ParsedDifference:
    description: str
    box: Box2D


@dataclass
class ParseResult:
    differences: list[ParsedDifference]
    repairs: list[Repair] = field(default_factory=list)


def _lenient(message: str, item: int | None = None) -> Repair:
    return Repair(code=RepairCode.PARSED_LENIENTLY, message=message, item=item)


# -- text -> Python structure ---------------------------------------------------------------


def _try_json(text: str) -> tuple[bool, Any]:
    try:
        return True, json.loads(text)
    except (ValueError, RecursionError):
        return False, None


def _try_literal(text: str) -> tuple[bool, Any]:
    try:
        return True, ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False, None


def _outer_span(text: str) -> str | None:
    """The text from the first ``{``/``[`` to the last matching closer: JSON with prose around it."""
    starts = [i for i in (text.find("{"), text.find("[")) if i >= 0]
    if not starts:
        return None
    start = min(starts)
    closer = "}" if text[start] == "{" else "]"
    end = text.rfind(closer)
    return text[start : end + 1] if end > start else None


def load_structure(text: str) -> tuple[Any, list[Repair]]:
    """Parse the answer text into Python objects, reporting how lenient the reading had to be."""
    stripped = text.strip()
    if not stripped:
        raise UnreadableOutput("the answer was empty")
    if len(stripped) > MAX_TEXT_CHARS:
        raise UnreadableOutput(f"the answer is {len(stripped)} characters long, far more than a list of boxes")
    ok, value = _try_json(stripped)
    if ok:
        return value, []
    for match in _FENCE.finditer(stripped):
        body = match.group(2)
        ok, value = _try_json(body)
        if ok:
            return value, [_lenient("read JSON from a fenced code block")]
        ok, value = _try_literal(body)
        if ok:
            return value, [_lenient("read a Python literal from a fenced code block")]
    ok, value = _try_literal(stripped)
    if ok and isinstance(value, (dict, list, tuple)):
        return value, [_lenient("read a Python literal (single quotes) instead of JSON")]
    span = _outer_span(stripped)
    if span is not None and span != stripped:
        ok, value = _try_json(span)
        if ok:
            return value, [_lenient("extracted JSON from surrounding text")]
        ok, value = _try_literal(span)
        if ok:
            return value, [_lenient("extracted a Python literal from surrounding text")]
    if "```" in stripped and len(_FENCE.findall(stripped)) == 0:
        raise UnreadableOutput("the answer has an unterminated code block (cut off?)")
    raise UnreadableOutput(f"no JSON found in the answer (starts {stripped[:80]!r})")


# -- structure -> items -----------------------------------------------------------------------


def _key(item: dict[str, Any], names: tuple[str, ...]) -> str | None:
    lowered = {str(k).lower().strip(): k for k in item}
    for name in names:
        if name in lowered:
            return lowered[name]
    return None


def _looks_like_item(value: Any) -> bool:
    return isinstance(value, dict) and _key(value, BOX_KEYS) is not None


def find_items(value: Any) -> tuple[list[Any], list[Repair]]:
    """Locate the list of differences in a parsed answer."""
    if isinstance(value, tuple):
        value = list(value)
    if isinstance(value, list):
        if len(value) == 4 and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            raise UnreadableOutput("the answer is a single box without a description")
        return value, [_lenient('a bare list instead of {"differences": [...]}')]
    if not isinstance(value, dict):
        raise UnreadableOutput(f"the answer is a JSON {type(value).__name__}, not an object or a list")
    lowered = {str(k).lower().strip(): k for k in value}
    for name in LIST_KEYS:
        key = lowered.get(name)
        if key is None:
            continue
        items = value[key]
        repairs = (
            []
            if key == "differences"
            else [Repair(code=RepairCode.RENAMED_KEY, message=f"read the list under {key!r} as 'differences'")]
        )
        if isinstance(items, (list, tuple)):
            return list(items), repairs
        if _looks_like_item(items):
            return [items], repairs + [_lenient(f"{key!r} held one object, not a list")]
    lists = [k for k, v in value.items() if isinstance(v, list) and v and all(isinstance(x, dict) for x in v)]
    if len(lists) == 1:
        return value[lists[0]], [
            Repair(code=RepairCode.RENAMED_KEY, message=f"read the list under {lists[0]!r} as 'differences'")
        ]
    if _looks_like_item(value):
        return [value], [_lenient("a single difference object instead of a list")]
    raise UnreadableOutput(f"no list of differences in the answer (keys: {sorted(map(str, value))[:8]})")


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("a boolean is not a coordinate")
    number = float(value)  # accepts numeric strings like "120"
    if not math.isfinite(number):
        raise ValueError("a coordinate is not finite")
    return number


def box_numbers(raw: Any, convention: BoxConvention, item: int) -> tuple[list[float], list[Repair]]:
    """The 4 numbers of a box in whatever container the model used, in ``convention``'s order."""
    if isinstance(raw, str):
        numbers = _NUMBER.findall(raw)
        if len(numbers) != 4:
            raise ValueError(f"box text {raw[:60]!r} does not hold 4 numbers")
        return [float(n) for n in numbers], [_lenient("read the box from a string", item)]
    if isinstance(raw, dict):
        lowered = {str(k).lower(): v for k, v in raw.items()}
        for names in (("ymin", "xmin", "ymax", "xmax"), ("y1", "x1", "y2", "x2"), ("top", "left", "bottom", "right")):
            if all(n in lowered for n in names):
                y0, x0, y1, x1 = (_number(lowered[n]) for n in names)
                x_first = convention.value.startswith("xy")
                values = [x0, y0, x1, y1] if x_first else [y0, x0, y1, x1]
                return values, [_lenient(f"read the box from named fields {list(names)}", item)]
        raise ValueError(f"box object has no recognised corner fields (keys {sorted(lowered)[:6]})")
    if isinstance(raw, (list, tuple)):
        if len(raw) == 2 and all(isinstance(p, (list, tuple)) and len(p) == 2 for p in raw):
            return [_number(v) for pair in raw for v in pair], [_lenient("flattened a box given as two corner points", item)]
        if len(raw) == 1 and isinstance(raw[0], (list, tuple)) and len(raw[0]) == 4:
            return [_number(v) for v in raw[0]], [_lenient("unwrapped a box nested in a one-element list", item)]
        if len(raw) != 4:
            raise ValueError(f"a box needs 4 numbers, got {len(raw)}")
        as_text = any(isinstance(v, str) for v in raw)
        return [_number(v) for v in raw], [_lenient("read box numbers given as text", item)] if as_text else []
    raise ValueError(f"a box cannot be a {type(raw).__name__}")


def read_scale(numbers: list[float], convention: BoxConvention, item: int) -> tuple[list[float], list[Repair]]:
    """Fractions and slight overshoots of a 0–1000 box, before :func:`repair_box` (which reads values over 1000 as pixels)."""
    if convention not in _PER_MILLE:
        return numbers, []
    if all(0.0 <= v <= 1.0 for v in numbers) and max(numbers) > 0:
        scaled = [v * 1000.0 for v in numbers]
        return scaled, [
            Repair(
                code=RepairCode.CONVERTED, message=f"values {numbers} are all within 0-1; read as fractions, {scaled}", item=item
            )
        ]
    if 1000.0 < max(numbers) <= OVERSHOOT_LIMIT:
        clamped = [min(v, 1000.0) for v in numbers]
        return clamped, [
            Repair(
                code=RepairCode.CLAMPED,
                message=f"values {numbers} go slightly over 1000 (at most {OVERSHOOT_LIMIT:g}); clamped to 1000, not read as "
                "pixels",
                item=item,
            )
        ]
    return numbers, []


def _description(item: dict[str, Any], index: int) -> tuple[str, list[Repair]]:
    key = _key(item, DESCRIPTION_KEYS)
    repairs: list[Repair] = []
    if key is not None and key != "description":
        repairs.append(Repair(code=RepairCode.RENAMED_KEY, message=f"read {key!r} as 'description'", item=index))
    value = item.get(key) if key is not None else None
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        value = " ".join(value)
        repairs.append(_lenient("joined a description given as a list of strings", index))
    if value is not None and not isinstance(value, str):
        value = str(value)
        repairs.append(_lenient("converted a non-text description to text", index))
    if not value or not value.strip():
        return MISSING_DESCRIPTION, repairs + [
            Repair(code=RepairCode.MISSING_DESCRIPTION, message="the item had no description; a placeholder was used", item=index)
        ]
    return value.strip(), repairs


def parse_differences(
    text: str,
    *,
    k: int,
    convention: BoxConvention = BoxConvention.YX_1000,
    image_size: tuple[int, int] | None = None,
) -> ParseResult:
    """Read ``text`` into at most ``k`` differences with valid boxes.

    ``convention`` is how the model was asked to write boxes; ``image_size``
    (width, height) is the image its pixel coordinates refer to: needed for
    pixel conventions, and used to read pixels given where 0–1000 was asked.
    Raises :class:`UnreadableOutput` when nothing usable is left, except that
    an explicit empty list is a valid answer ("no differences").
    """
    value, repairs = load_structure(text)
    items, found = find_items(value)
    repairs += found
    if not items:
        return ParseResult([], repairs)

    differences: list[ParsedDifference] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            repairs.append(
                Repair(code=RepairCode.DROPPED_INVALID, message=f"item is a {type(item).__name__}, not an object", item=index)
            )
            continue
        box_key = _key(item, BOX_KEYS)
        if box_key is None:
            repairs.append(
                Repair(
                    code=RepairCode.DROPPED_INVALID, message=f"item has no box (keys {sorted(map(str, item))[:6]})", item=index
                )
            )
            continue
        if box_key != "box_2d":
            repairs.append(Repair(code=RepairCode.RENAMED_KEY, message=f"read {box_key!r} as 'box_2d'", item=index))
        try:
            numbers, box_repairs = box_numbers(item[box_key], convention, index)
        except (TypeError, ValueError) as exc:
            repairs.append(Repair(code=RepairCode.DROPPED_INVALID, message=f"unreadable box: {exc}", item=index))
            continue
        repairs += box_repairs
        numbers, scale_repairs = read_scale(numbers, convention, index)
        repairs += scale_repairs
        box, fixed = repair_box(numbers, convention, image_size=image_size, item=index)
        repairs += fixed
        if box is None:
            continue
        description, desc_repairs = _description(item, index)
        repairs += desc_repairs
        differences.append(ParsedDifference(description, box))

    if not differences:
        raise UnreadableOutput(
            f"none of the {len(items)} item(s) had a usable box: " + "; ".join(r.message for r in repairs[-3:])
        )
    if len(differences) > k:
        repairs.append(
            Repair(code=RepairCode.TRUNCATED, message=f"the model gave {len(differences)} usable differences; kept the first {k}")
        )
        differences = differences[:k]
    return ParseResult(differences, repairs)
