"""Boxes in the paper's convention: ``box_2d = [ymin, xmin, ymax, xmax]`` normalised to 0–1000.

Vision-language models disagree on box conventions, so this module is the one
place that converts between them:

* ``box_2d`` (Gemini / the paper's gpt-4.1-mini prompt): y-first, 0–1000;
* Qwen3-VL: ``[x1, y1, x2, y2]`` on 0–1000;
* Qwen2.5-VL: ``[x1, y1, x2, y2]`` in absolute pixels of the model's resized input;
* pixel boxes ``(x0, y0, x1, y1)`` of any image, half-open, as PIL's ``crop`` takes them.

:func:`repair_box` turns whatever a model returned into a valid :class:`Box2D`
and reports each repair it made, so nothing is silently changed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from enum import Enum
from typing import Any, NamedTuple

from pydantic import BaseModel, Field, RootModel, model_validator

SCALE = 1000.0


class PixelBox(NamedTuple):
    """Half-open pixel box ``[x0, x1) x [y0, y1)`` in an image of known size (PIL ``crop`` order)."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def area(self) -> int:
        return max(self.width, 0) * max(self.height, 0)


class BoxConvention(str, Enum):
    """How a model writes a box."""

    YX_1000 = "yx1000"  # [ymin, xmin, ymax, xmax] on 0-1000: the paper's box_2d
    XY_1000 = "xy1000"  # [x1, y1, x2, y2] on 0-1000: Qwen3-VL
    XY_PIXELS = "xy_pixels"  # [x1, y1, x2, y2] in pixels of the model's input: Qwen2.5-VL
    YX_PIXELS = "yx_pixels"  # [ymin, xmin, ymax, xmax] in pixels
    XY_UNIT = "xy_unit"  # [x1, y1, x2, y2] on 0-1
    YX_UNIT = "yx_unit"  # [ymin, xmin, ymax, xmax] on 0-1


class Box2D(RootModel[tuple[float, float, float, float]]):
    """``[ymin, xmin, ymax, xmax]`` on 0–1000, with ``ymin < ymax`` and ``xmin < xmax``."""

    root: tuple[float, float, float, float] = Field(
        description="[ymin, xmin, ymax, xmax] normalised to 0-1000 (the paper's box_2d)",
    )
    # "example" (OpenAPI 3.0), not "examples": BentoML's OpenAPI model accepts only the former.
    model_config = {"json_schema_extra": {"example": [100.0, 250.0, 600.0, 750.0]}}

    @model_validator(mode="after")
    def _check(self) -> Box2D:
        ymin, xmin, ymax, xmax = self.root
        for name, value in zip(("ymin", "xmin", "ymax", "xmax"), self.root, strict=True):
            if not math.isfinite(value) or not 0.0 <= value <= SCALE:
                raise ValueError(f"box_2d {name}={value} is outside 0-1000")
        if ymin >= ymax or xmin >= xmax:
            raise ValueError(
                f"box_2d {list(self.root)} has zero or negative area; expected [ymin, xmin, ymax, xmax] with min < max"
            )
        return self

    @property
    def ymin(self) -> float:
        return self.root[0]

    @property
    def xmin(self) -> float:
        return self.root[1]

    @property
    def ymax(self) -> float:
        return self.root[2]

    @property
    def xmax(self) -> float:
        return self.root[3]

    @property
    def area(self) -> float:
        """Area on the 1000x1000 grid."""
        return (self.ymax - self.ymin) * (self.xmax - self.xmin)

    def to_list(self) -> list[float]:
        return list(self.root)

    # -- pixels --------------------------------------------------------------------
    def to_pixels(self, width: int, height: int) -> PixelBox:
        """Pixel box in an image of ``width x height``: ``pixel = value / 1000 * size``.

        The published code truncates both corners with ``int()``; we floor the
        minimum and ceil the maximum so the crop always covers the box and is
        never empty.
        """
        x0 = int(math.floor(self.xmin / SCALE * width))
        y0 = int(math.floor(self.ymin / SCALE * height))
        x1 = int(math.ceil(self.xmax / SCALE * width))
        y1 = int(math.ceil(self.ymax / SCALE * height))
        x0, x1 = min(max(x0, 0), width - 1), min(max(x1, 1), width)
        y0, y1 = min(max(y0, 0), height - 1), min(max(y1, 1), height)
        return PixelBox(x0, y0, max(x1, x0 + 1), max(y1, y0 + 1))

    @classmethod
    def from_pixels(cls, box: Sequence[float], width: int, height: int) -> Box2D:
        """From a pixel box ``(x0, y0, x1, y1)`` of an image of ``width x height``."""
        x0, y0, x1, y1 = box
        return cls((y0 / height * SCALE, x0 / width * SCALE, y1 / height * SCALE, x1 / width * SCALE))

    def iou(self, other: Box2D) -> float:
        iy = max(0.0, min(self.ymax, other.ymax) - max(self.ymin, other.ymin))
        ix = max(0.0, min(self.xmax, other.xmax) - max(self.xmin, other.xmin))
        inter = iy * ix
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0

    def contains(self, other: Box2D, tolerance: float = 0.0) -> bool:
        return (
            self.ymin - tolerance <= other.ymin
            and self.xmin - tolerance <= other.xmin
            and self.ymax + tolerance >= other.ymax
            and self.xmax + tolerance >= other.xmax
        )


class RepairCode(str, Enum):
    CONVERTED = "converted"
    REORDERED = "reordered"
    CLAMPED = "clamped"
    DROPPED_ZERO_AREA = "dropped_zero_area"
    DROPPED_INVALID = "dropped_invalid"
    RENAMED_KEY = "renamed_key"
    TRUNCATED = "truncated"
    PARSED_LENIENTLY = "parsed_leniently"
    MISSING_DESCRIPTION = "missing_description"


class Repair(BaseModel):
    """One change made to a model's output so it fits the contract."""

    code: RepairCode
    message: str
    item: int | None = Field(default=None, description="Index of the affected item in the model's output, if any")


class BoxRepairResult(NamedTuple):
    box: Box2D | None
    repairs: list[Repair]


def _to_floats(values: Iterable[Any]) -> list[float]:
    out = [float(v) for v in values]  # raises on non-numbers
    if len(out) != 4:
        raise ValueError(f"a box needs 4 numbers, got {len(out)}")
    if not all(math.isfinite(v) for v in out):
        raise ValueError("a box contains a non-finite number")
    return out


def convert_to_box2d_values(
    values: Sequence[float],
    convention: BoxConvention,
    *,
    image_size: tuple[int, int] | None = None,
) -> list[float]:
    """Convert 4 numbers in ``convention`` to ``[ymin, xmin, ymax, xmax]`` on 0–1000 (no validation).

    ``image_size`` is ``(width, height)`` of the image the coordinates refer to,
    needed for pixel conventions.
    """
    a, b, c, d = _to_floats(values)
    if convention in (BoxConvention.XY_PIXELS, BoxConvention.YX_PIXELS):
        if image_size is None:
            raise ValueError(f"convention {convention.value} needs the image size")
        width, height = image_size
        if convention is BoxConvention.XY_PIXELS:
            return [b / height * SCALE, a / width * SCALE, d / height * SCALE, c / width * SCALE]
        return [a / height * SCALE, b / width * SCALE, c / height * SCALE, d / width * SCALE]
    if convention is BoxConvention.XY_1000:
        return [b, a, d, c]
    if convention is BoxConvention.XY_UNIT:
        return [b * SCALE, a * SCALE, d * SCALE, c * SCALE]
    if convention is BoxConvention.YX_UNIT:
        return [a * SCALE, b * SCALE, c * SCALE, d * SCALE]
    return [a, b, c, d]


def repair_box(
    values: Sequence[object],
    convention: BoxConvention = BoxConvention.YX_1000,
    *,
    image_size: tuple[int, int] | None = None,
    item: int | None = None,
    min_side: float = 1.0,
) -> BoxRepairResult:
    """Make a :class:`Box2D` out of a model's 4 numbers, reporting each repair.

    Repairs, in order: convert from ``convention``; detect pixel coordinates
    given where 0–1000 was asked (values beyond 1000 with a known image size);
    swap reversed corners; clamp to 0–1000; drop boxes with zero area (sides
    under ``min_side`` on the 0–1000 grid). Returns ``(None, repairs)`` when
    the box had to be dropped.
    """
    repairs: list[Repair] = []
    try:
        numbers = _to_floats(values)
    except (TypeError, ValueError) as exc:
        return BoxRepairResult(
            None, [Repair(code=RepairCode.DROPPED_INVALID, message=f"unreadable box {values!r}: {exc}", item=item)]
        )

    if convention in (BoxConvention.YX_1000, BoxConvention.XY_1000) and image_size is not None and max(numbers) > SCALE:
        # Asked for 0-1000 but got pixels (a common VLM slip): convert using the image size.
        pixel_convention = BoxConvention.YX_PIXELS if convention is BoxConvention.YX_1000 else BoxConvention.XY_PIXELS
        converted = convert_to_box2d_values(numbers, pixel_convention, image_size=image_size)
        repairs.append(
            Repair(
                code=RepairCode.CONVERTED,
                message=f"values {numbers} exceed 1000; read as pixels of a {image_size[0]}x{image_size[1]} image",
                item=item,
            )
        )
    else:
        converted = convert_to_box2d_values(numbers, convention, image_size=image_size)
        if convention is not BoxConvention.YX_1000:
            repairs.append(
                Repair(code=RepairCode.CONVERTED, message=f"converted {numbers} from {convention.value} to box_2d", item=item)
            )

    ymin, xmin, ymax, xmax = converted
    if ymin > ymax or xmin > xmax:
        ymin, ymax = min(ymin, ymax), max(ymin, ymax)
        xmin, xmax = min(xmin, xmax), max(xmin, xmax)
        repairs.append(
            Repair(code=RepairCode.REORDERED, message="corners were reversed; swapped to [ymin, xmin, ymax, xmax]", item=item)
        )

    clamped = [min(max(v, 0.0), SCALE) for v in (ymin, xmin, ymax, xmax)]
    if clamped != [ymin, xmin, ymax, xmax]:
        repairs.append(
            Repair(
                code=RepairCode.CLAMPED, message=f"clamped {[round(v, 2) for v in (ymin, xmin, ymax, xmax)]} to 0-1000", item=item
            )
        )
    ymin, xmin, ymax, xmax = clamped

    if ymax - ymin < min_side or xmax - xmin < min_side:
        repairs.append(
            Repair(
                code=RepairCode.DROPPED_ZERO_AREA,
                message=f"box {[round(v, 2) for v in clamped]} has zero area; dropped",
                item=item,
            )
        )
        return BoxRepairResult(None, repairs)
    return BoxRepairResult(Box2D((ymin, xmin, ymax, xmax)), repairs)
