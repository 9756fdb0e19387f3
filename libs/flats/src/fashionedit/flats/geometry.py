"""Where each part of a flat goes: garment attributes -> parts made of shapes, in canvas pixels.

The renderer draws exactly these shapes and :func:`part_boxes` measures them,
so a box always matches what is drawn. Every part's geometry depends only on
the attributes that part is about (sleeve shape on ``sleeve``, buttons on
``buttons``, ...) and patterns are anchored to the canvas, so changing one
attribute changes pixels only inside that part's box (old and new), which is
what the synthetic data's planted boxes rely on. Garment *type* and the set of
garments present (upper only, upper and lower, dress) change the layout.

Local units: an upper garment's neck top is y=0 and its hem y=1 (a dress goes
on to its length); a lower garment's waist is y=0. x is measured from the
centre line. "Left" and "right" parts are the wearer's: the left sleeve is
drawn on the viewer's right, as on a designer's flat.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from fashionedit.contracts.garment import (
    ButtonPlacement,
    GarmentAttributes,
    GraphicSize,
    HemStyle,
    LowerGarment,
    LowerLength,
    LowerType,
    Neckline,
    PocketKind,
    PocketPlacement,
    SleeveLength,
    UpperGarment,
    UpperType,
    Wearer,
)

Point = tuple[float, float]
RGB = tuple[int, int, int]

OUTER_TYPES = {UpperType.JACKET, UpperType.BLAZER, UpperType.COAT, UpperType.CARDIGAN}
SLEEVE_LENGTH = {SleeveLength.SHORT: 0.24, SleeveLength.MEDIUM: 0.5, SleeveLength.LONG: 0.86}
LOWER_LENGTH = {
    LowerLength.THREE_POINT: 0.42,
    LowerLength.MEDIUM_SHORT: 0.62,
    LowerLength.THREE_QUARTER: 0.86,
    LowerLength.LONG: 1.06,
}
DRESS_LENGTH = {
    LowerLength.THREE_POINT: 1.05,
    LowerLength.MEDIUM_SHORT: 1.3,
    LowerLength.THREE_QUARTER: 1.6,
    LowerLength.LONG: 1.95,
}
DRESS_WAIST = 0.45
SLEEVE_ANGLE = math.radians(62)
NECK_HALF = 0.15


@dataclass
class Shape:
    """One drawn thing. ``fill``: an RGB, 'upper'/'lower' (that garment's fabric fill), 'shade:upper' (its inside), or None."""

    kind: str  # polygon | line | ellipse
    points: list[Point]
    fill: object = None
    outline: RGB | None = None
    width: float = 1.0  # in units of the outline width
    dash: bool = False
    closed: bool = True


@dataclass
class Part:
    name: str
    shapes: list[Shape] = field(default_factory=list)


@dataclass
class Transform:
    """Local garment units -> canvas pixels."""

    cx: float
    top: float
    scale: float

    def __call__(self, x: float, y: float) -> Point:
        return (self.cx + x * self.scale, self.top + y * self.scale)

    def pts(self, points: list[Point]) -> list[Point]:
        return [self(x, y) for x, y in points]


@dataclass
class Frame:
    """The square design area centred on the canvas (the flat keeps its proportions on any canvas)."""

    width: int
    height: int

    @property
    def side(self) -> float:
        return float(min(self.width, self.height))

    @property
    def ox(self) -> float:
        return (self.width - self.side) / 2

    @property
    def oy(self) -> float:
        return (self.height - self.side) / 2

    def transform(self, top: float, scale: float) -> Transform:
        return Transform(self.ox + self.side / 2, self.oy + top * self.side, scale * self.side)


OUTLINE: RGB = (38, 38, 44)


def layout(attrs: GarmentAttributes, frame: Frame) -> tuple[Transform | None, Transform | None]:
    upper, lower = attrs.upper, attrs.lower
    if upper is not None and upper.type is UpperType.DRESS:
        return frame.transform(0.04, 0.47), None
    if upper is not None and lower is not None:
        return frame.transform(0.04, 0.40), frame.transform(0.50, 0.44)
    if upper is not None:
        return frame.transform(0.22, 0.55), None
    if lower is not None:
        return None, frame.transform(0.10, 0.74)
    return None, None


def _arc(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float, n: int = 16) -> list[Point]:
    return [(cx + rx * math.cos(a0 + (a1 - a0) * i / n), cy + ry * math.sin(a0 + (a1 - a0) * i / n)) for i in range(n + 1)]


def _front_neck(neck: Neckline, upper: UpperGarment) -> list[Point]:
    """The front neckline from the wearer's left neck point (viewer's right, +x) to the right one."""
    nw = NECK_HALF
    if neck is Neckline.V_SHAPE:
        return [(nw, 0.0), (0.0, 0.28), (-nw, 0.0)]
    if neck is Neckline.SQUARE:
        return [(nw, 0.0), (nw * 0.92, 0.15), (-nw * 0.92, 0.15), (-nw, 0.0)]
    if neck is Neckline.LAPEL:
        depth = 0.34 if upper.type in OUTER_TYPES else 0.22
        return [(nw, 0.0), (0.0, depth), (-nw, 0.0)]
    if neck is Neckline.TURTLENECK:
        return _arc(0, 0, nw, 0.04, 0, math.pi)
    if neck is Neckline.STAND:
        return _arc(0, 0, nw, 0.07, 0, math.pi)
    return _arc(0, 0, nw, 0.13, 0, math.pi)  # round


def _side(x_hem: float, women: bool) -> list[Point]:
    """Right side seam (viewer's right) from the armpit down to just above the hem."""
    waist = 0.32 if women else 0.37
    return [(0.38, 0.30), (waist, 0.62), (x_hem, 0.9)]


def _hem_edge(hem: HemStyle, y: float, half: float) -> list[Point]:
    """Bottom edge from the viewer's right to the left."""
    if hem is HemStyle.CURVED:
        return (
            [(half, y - 0.06)]
            + [(half * math.cos(t), y - 0.06 + 0.09 * math.sin(t)) for t in [math.pi * i / 16 for i in range(1, 16)]]
            + [(-half, y - 0.06)]
        )
    if hem is HemStyle.RUFFLED:
        pts: list[Point] = []
        n = 9
        for i in range(n):
            x0 = half - 2 * half * i / n
            x1 = half - 2 * half * (i + 1) / n
            pts += _arc((x0 + x1) / 2, y, (x0 - x1) / 2, 0.035, 0, math.pi, 6)
        return pts
    return [(half, y), (-half, y)]


def upper_parts(
    upper: UpperGarment, wearer: Wearer | None, t: Transform, *, collar_rgb: RGB | None = None, button_rgb: RGB = (240, 240, 240)
) -> list[Part]:
    women = wearer is Wearer.WOMAN
    dress = upper.type is UpperType.DRESS
    neck = upper.neckline or Neckline.ROUND
    hem = upper.hem or HemStyle.STRAIGHT
    sleeve = upper.sleeve or SleeveLength.LONG
    parts: list[Part] = []

    # sleeves (under the body, so the body's outline covers the seam)
    if sleeve is not SleeveLength.SLEEVELESS:
        length = SLEEVE_LENGTH[sleeve]
        dx, dy = math.cos(SLEEVE_ANGLE), math.sin(SLEEVE_ANGLE)
        for side, name in ((1, "left_sleeve"), (-1, "right_sleeve")):
            s = (0.42, 0.07)
            a = (0.37, 0.31)
            s_end = (s[0] + length * dx, s[1] + length * dy)
            a_end = (a[0] + length * dx * 0.9, a[1] + length * dy * 0.9)
            # narrow towards the cuff
            mid = ((s_end[0] + a_end[0]) / 2, (s_end[1] + a_end[1]) / 2)
            taper = 0.12 if sleeve is SleeveLength.LONG else 0.0
            s_end = (s_end[0] + (mid[0] - s_end[0]) * taper, s_end[1] + (mid[1] - s_end[1]) * taper)
            a_end = (a_end[0] + (mid[0] - a_end[0]) * taper, a_end[1] + (mid[1] - a_end[1]) * taper)
            poly = [(side * x, y) for x, y in (s, s_end, a_end, a)]
            shapes = [Shape("polygon", t.pts(poly), fill="upper", outline=OUTLINE)]
            if sleeve is SleeveLength.LONG:
                k = 0.1
                c1 = (s_end[0] + (s[0] - s_end[0]) * k, s_end[1] + (s[1] - s_end[1]) * k)
                c2 = (a_end[0] + (a[0] - a_end[0]) * k, a_end[1] + (a[1] - a_end[1]) * k)
                shapes.append(
                    Shape("line", t.pts([(side * c1[0], c1[1]), (side * c2[0], c2[1])]), outline=OUTLINE, width=0.6, closed=False)
                )
            parts.append(Part(name, shapes))

    # body: shoulders, sides, hem; the neckline cut is part of the body outline
    if dress:
        length = DRESS_LENGTH[upper.length or LowerLength.MEDIUM_SHORT]
        flare = lambda y: 0.30 + 0.32 * (y - DRESS_WAIST)  # noqa: E731 - constant slope, so length changes only the bottom
        right = [(0.38, 0.30), (0.30, DRESS_WAIST), (flare(length - 0.1), length - 0.1)]
        bottom_y, half = length, flare(length)
    else:
        half = 0.39 if not women else 0.37
        right = _side(half, women)
        bottom_y = 1.0
    front = _front_neck(neck, upper)
    if neck is Neckline.SUSPENDERS:
        top_right = [(0.37, 0.26)]
        top_left = [(-0.37, 0.26)]
        front = []
    else:
        top_right = [(0.42, 0.07), (NECK_HALF, 0.0)]
        top_left = [(-NECK_HALF, 0.0), (-0.42, 0.07)]
    hem_edge = _hem_edge(hem, bottom_y, half)
    left = [(-x, y) for x, y in right]
    # outline: right side up -> shoulder -> neck -> (front neckline) -> other shoulder -> other side down -> hem back
    body = list(reversed(right)) + top_right + front[1:-1] + top_left + left + hem_edge[::-1]
    body_shapes = []
    if neck not in (Neckline.SUSPENDERS,):
        back = [(NECK_HALF, 0.0)] + _arc(0, 0.0, NECK_HALF, 0.035, 0, math.pi)[1:-1] + [(-NECK_HALF, 0.0)]
        inside = back + list(reversed(front))
        body_shapes.append(Shape("polygon", t.pts(inside), fill="shade:upper", outline=OUTLINE, width=0.6))
    body_shapes.append(Shape("polygon", t.pts(body), fill="upper", outline=OUTLINE))
    if upper.type in OUTER_TYPES:
        body_shapes.append(Shape("line", t.pts([(0.0, 0.36), (0.0, bottom_y - 0.02)]), outline=OUTLINE, width=0.6, closed=False))
    if dress:
        body_shapes.append(
            Shape("line", t.pts([(0.30, DRESS_WAIST), (-0.30, DRESS_WAIST)]), outline=OUTLINE, width=0.6, closed=False)
        )
    parts.append(Part("body", body_shapes))

    # hem details (inside the hem band)
    hem_shapes: list[Shape] = []
    if hem is HemStyle.RIBBED:
        band_top = bottom_y - 0.08
        hx = half if not dress else half
        hem_shapes.append(Shape("line", t.pts([(hx, band_top), (-hx, band_top)]), outline=OUTLINE, width=0.6, closed=False))
        n = 24
        for i in range(1, n):
            x = -hx + 2 * hx * i / n
            hem_shapes.append(
                Shape("line", t.pts([(x, band_top + 0.01), (x, bottom_y - 0.01)]), outline=OUTLINE, width=0.35, closed=False)
            )
    elif hem is HemStyle.STRAIGHT:
        hem_shapes.append(
            Shape(
                "line",
                t.pts([(half - 0.02, bottom_y - 0.03), (-half + 0.02, bottom_y - 0.03)]),
                outline=OUTLINE,
                width=0.4,
                dash=True,
                closed=False,
            )
        )
    elif hem is HemStyle.CURVED:
        edge = [(x, y - 0.03) for x, y in _hem_edge(hem, bottom_y, half - 0.02)]
        hem_shapes.append(Shape("line", t.pts(edge), outline=OUTLINE, width=0.4, dash=True, closed=False))
    elif hem is HemStyle.RUFFLED:
        n = 9
        for i in range(1, n):
            x = half - 2 * half * i / n
            hem_shapes.append(
                Shape("line", t.pts([(x, bottom_y - 0.06), (x, bottom_y + 0.02)]), outline=OUTLINE, width=0.35, closed=False)
            )
    parts.append(Part("hem", hem_shapes))

    # neckline details and collars (drawn over the body)
    neck_shapes: list[Shape] = []
    collar_shapes: list[Shape] = []
    cfill: object = collar_rgb or "upper"
    if neck is Neckline.LAPEL:
        depth = 0.34 if upper.type in OUTER_TYPES else 0.22
        for side in (1, -1):
            wing = [(side * NECK_HALF * 0.55, -0.035), (side * (NECK_HALF + 0.05), -0.02), (side * (NECK_HALF + 0.12), 0.11)]
            wing = (
                wing
                + ([(side * (NECK_HALF + 0.06), 0.14)] if upper.type in OUTER_TYPES else [])
                + [(side * 0.02, depth), (side * NECK_HALF * 0.8, 0.03)]
            )
            collar_shapes.append(Shape("polygon", t.pts(wing), fill=cfill, outline=OUTLINE, width=0.8))
    elif neck is Neckline.STAND:
        band = (
            [(NECK_HALF * 1.02, 0.02), (NECK_HALF * 0.95, -0.07)]
            + _arc(0, -0.07, NECK_HALF * 0.95, 0.02, 0, math.pi)[1:-1]
            + [(-NECK_HALF * 0.95, -0.07), (-NECK_HALF * 1.02, 0.02)]
            + _arc(0, 0.02, NECK_HALF * 1.02, 0.06, math.pi, 0)[1:-1]
        )
        collar_shapes.append(Shape("polygon", t.pts(band), fill=cfill, outline=OUTLINE, width=0.8))
    elif neck is Neckline.TURTLENECK:
        tube = [(NECK_HALF * 1.05, 0.03), (NECK_HALF * 1.0, -0.13), (-NECK_HALF * 1.0, -0.13), (-NECK_HALF * 1.05, 0.03)] + _arc(
            0, 0.03, NECK_HALF * 1.05, 0.03, math.pi, 0
        )[1:-1]
        collar_shapes.append(Shape("polygon", t.pts(tube), fill=cfill, outline=OUTLINE, width=0.8))
        for i in range(1, 10):
            x = -NECK_HALF + 2 * NECK_HALF * i / 10
            collar_shapes.append(Shape("line", t.pts([(x, -0.12), (x, 0.02)]), outline=OUTLINE, width=0.35, closed=False))
    elif neck is Neckline.SUSPENDERS:
        for side in (1, -1):
            strap = [(side * 0.2, 0.265), (side * 0.25, 0.0), (side * 0.29, 0.0), (side * 0.26, 0.265)]
            collar_shapes.append(Shape("polygon", t.pts(strap), fill=cfill, outline=OUTLINE, width=0.7))
    else:
        # a neckband stitched along the front neckline
        inner = [(x * 0.86, y * 0.86 + 0.025) if abs(x) < NECK_HALF else (x * 0.86, 0.02) for x, y in front]
        neck_shapes.append(Shape("line", t.pts(inner), outline=OUTLINE, width=0.45, dash=True, closed=False))
    parts.append(Part("neckline", neck_shapes))
    parts.append(Part("collar", collar_shapes))

    # pockets
    pockets = upper.pockets
    if pockets is not None and pockets.count:
        pocket_shapes: list[Shape] = []
        chest_spots = [(0.2, 0.36), (-0.2, 0.36)]
        hip_y = 0.76 if not dress else DRESS_WAIST + 0.3
        hip_spots = [(0.22, hip_y), (-0.22, hip_y)]
        first, second = (chest_spots, hip_spots) if pockets.placement is not PocketPlacement.HIP else (hip_spots, chest_spots)
        spots = (first + second)[: pockets.count]
        kind = pockets.kind or PocketKind.PATCH
        for cx, cy in spots:
            w, h = (0.13, 0.15) if cy < 0.5 else (0.15, 0.13)
            if kind is PocketKind.WELT:
                rect = [(cx - w / 2, cy - 0.015), (cx + w / 2, cy - 0.015), (cx + w / 2, cy + 0.015), (cx - w / 2, cy + 0.015)]
                pocket_shapes.append(Shape("polygon", t.pts(rect), fill="shade:upper", outline=OUTLINE, width=0.6))
                continue
            bag = [
                (cx - w / 2, cy - h / 2),
                (cx + w / 2, cy - h / 2),
                (cx + w / 2, cy + h / 2 - 0.02),
                (cx, cy + h / 2),
                (cx - w / 2, cy + h / 2 - 0.02),
            ]
            pocket_shapes.append(Shape("polygon", t.pts(bag), fill="upper", outline=OUTLINE, width=0.7))
            inner = [
                (cx - w / 2 + 0.012, cy - h / 2 + 0.012),
                (cx + w / 2 - 0.012, cy - h / 2 + 0.012),
                (cx + w / 2 - 0.012, cy + h / 2 - 0.028),
                (cx, cy + h / 2 - 0.012),
                (cx - w / 2 + 0.012, cy + h / 2 - 0.028),
            ]
            pocket_shapes.append(Shape("line", t.pts(inner + [inner[0]]), outline=OUTLINE, width=0.35, dash=True, closed=False))
            if kind is PocketKind.FLAP:
                flap = [
                    (cx - w / 2 - 0.008, cy - h / 2 - 0.01),
                    (cx + w / 2 + 0.008, cy - h / 2 - 0.01),
                    (cx + w / 2 + 0.008, cy - h / 2 + 0.045),
                    (cx, cy - h / 2 + 0.065),
                    (cx - w / 2 - 0.008, cy - h / 2 + 0.045),
                ]
                pocket_shapes.append(Shape("polygon", t.pts(flap), fill="upper", outline=OUTLINE, width=0.7))
        parts.append(Part("pockets", pocket_shapes))

    # buttons (on top of everything on the garment)
    buttons = upper.buttons
    if buttons is not None and buttons.count:
        button_shapes: list[Shape] = []
        placement = buttons.placement or ButtonPlacement.CENTER_FRONT
        n = buttons.count
        r = 0.022
        end = bottom_y - 0.1 if not dress else DRESS_WAIST + 0.35
        if placement is ButtonPlacement.HALF_PLACKET:
            placket = [(0.035, 0.05), (0.035, 0.46), (-0.035, 0.46), (-0.035, 0.05)]
            button_shapes.append(Shape("polygon", t.pts(placket), fill="upper", outline=OUTLINE, width=0.5))
            spots = [(0.0, 0.1 + 0.33 * (i + 0.5) / n) for i in range(n)]
        elif placement is ButtonPlacement.DOUBLE_BREASTED:
            rows = (n + 1) // 2
            spots = []
            for i in range(n):
                row, col = divmod(i, 2)
                spots.append((0.1 if col == 0 else -0.1, 0.38 + (end - 0.38) * (row + 0.5) / rows))
        else:
            if upper.type not in OUTER_TYPES:
                button_shapes.append(
                    Shape("line", t.pts([(0.035, 0.3), (0.035, bottom_y - 0.02)]), outline=OUTLINE, width=0.4, closed=False)
                )
                button_shapes.append(
                    Shape("line", t.pts([(-0.035, 0.3), (-0.035, bottom_y - 0.02)]), outline=OUTLINE, width=0.4, closed=False)
                )
            spots = [(0.0, 0.36 + (end - 0.36) * (i + 0.5) / n) for i in range(n)]
        for cx, cy in spots:
            button_shapes.append(
                Shape("ellipse", t.pts([(cx - r, cy - r), (cx + r, cy + r)]), fill=button_rgb, outline=OUTLINE, width=0.6)
            )
            hole = r * 0.25
            for hx in (-r * 0.35, r * 0.35):
                button_shapes.append(
                    Shape("ellipse", t.pts([(cx + hx - hole, cy - hole), (cx + hx + hole, cy + hole)]), fill=OUTLINE)
                )
        parts.append(Part("buttons", button_shapes))
    return parts


def lower_parts(lower: LowerGarment, t: Transform) -> list[Part]:
    kind = lower.type or LowerType.TROUSERS
    length = LOWER_LENGTH[lower.length or LowerLength.LONG]
    shapes: list[Shape] = []
    band = [(0.34, 0.0), (0.34, 0.07), (-0.34, 0.07), (-0.34, 0.0)]
    if kind is LowerType.SKIRT:
        flare = lambda y: 0.34 + 0.26 * (y - 0.07)  # noqa: E731
        outline = [(0.34, 0.07), (flare(length), length), (-flare(length), length), (-0.34, 0.07)]
        shapes.append(Shape("polygon", t.pts(outline), fill="lower", outline=OUTLINE))
        shapes.append(
            Shape(
                "line",
                t.pts([(flare(length) - 0.02, length - 0.03), (-flare(length) + 0.02, length - 0.03)]),
                outline=OUTLINE,
                width=0.4,
                dash=True,
                closed=False,
            )
        )
    else:
        narrow = kind is LowerType.LEGGINGS
        outer = (lambda y: 0.36 - 0.10 * (y - 0.25)) if narrow else (lambda y: 0.36 - 0.04 * (y - 0.25))  # noqa: E731
        inner = (lambda y: 0.03 + 0.02 * (y - 0.3)) if narrow else (lambda y: 0.025 + 0.015 * (y - 0.3))  # noqa: E731
        crotch = 0.3
        outline = [
            (0.34, 0.07),
            (0.36, 0.25),
            (outer(length), length),
            (inner(length), length),
            (0.0, crotch),
            (-inner(length), length),
            (-outer(length), length),
            (-0.36, 0.25),
            (-0.34, 0.07),
        ]
        shapes.append(Shape("polygon", t.pts(outline), fill="lower", outline=OUTLINE))
        if not narrow:
            shapes.append(Shape("line", t.pts([(0.0, 0.07), (0.0, 0.2), (0.04, 0.24)]), outline=OUTLINE, width=0.5, closed=False))
            shapes.append(
                Shape(
                    "line", t.pts([(0.06, 0.07), (0.06, 0.2), (0.02, 0.235)]), outline=OUTLINE, width=0.4, dash=True, closed=False
                )
            )
            for side in (1, -1):
                shapes.append(
                    Shape("line", t.pts([(side * 0.24, 0.07), (side * 0.35, 0.19)]), outline=OUTLINE, width=0.5, closed=False)
                )
        for side in (1, -1):
            shapes.append(
                Shape(
                    "line",
                    t.pts([(side * (outer(length) - 0.01), length - 0.03), (side * (inner(length) + 0.01), length - 0.03)]),
                    outline=OUTLINE,
                    width=0.4,
                    dash=True,
                    closed=False,
                )
            )
    shapes.append(Shape("polygon", t.pts(band), fill="lower", outline=OUTLINE, width=0.8))
    for x in (-0.22, 0.0, 0.22):
        loop = [(x - 0.012, -0.005), (x + 0.012, -0.005), (x + 0.012, 0.075), (x - 0.012, 0.075)]
        shapes.append(Shape("polygon", t.pts(loop), fill="lower", outline=OUTLINE, width=0.5))
    return [Part("lower", shapes)]


def belt_part(belt_rgb: RGB, t: Transform, y0: float, half: float) -> Part:
    band = [(half, y0), (half, y0 + 0.06), (-half, y0 + 0.06), (-half, y0)]
    buckle = [(0.05, y0 - 0.01), (0.05, y0 + 0.07), (-0.05, y0 + 0.07), (-0.05, y0 - 0.01)]
    inner = [(0.03, y0 + 0.01), (0.03, y0 + 0.05), (-0.03, y0 + 0.05), (-0.03, y0 + 0.01)]
    return Part(
        "belt",
        [
            Shape("polygon", t.pts(band), fill=belt_rgb, outline=OUTLINE, width=0.8),
            Shape("polygon", t.pts(buckle), fill=(200, 180, 110), outline=OUTLINE, width=0.7),
            Shape("polygon", t.pts(inner), fill=belt_rgb, outline=OUTLINE, width=0.5),
        ],
    )


def graphic_center(
    attrs: GarmentAttributes, upper_t: Transform | None, lower_t: Transform | None
) -> dict[str, tuple[Point, float]]:
    """Where the graphic print of each garment sits (centre, radius in pixels)."""
    out: dict[str, tuple[Point, float]] = {}
    if attrs.upper is not None and upper_t is not None:
        if attrs.upper.graphic_size is GraphicSize.SMALL:  # a chest logo, on the wearer's left (the viewer's right)
            out["upper"] = (upper_t(0.19, 0.27), 0.055 * upper_t.scale)
        else:
            out["upper"] = (upper_t(0.0, 0.55 if attrs.upper.type is not UpperType.DRESS else 0.8), 0.16 * upper_t.scale)
    if attrs.lower is not None and lower_t is not None:
        out["lower"] = (lower_t(-0.18, 0.22), 0.08 * lower_t.scale)
    return out


def color_block_line(
    attrs: GarmentAttributes, upper_t: Transform | None, lower_t: Transform | None
) -> dict[str, tuple[str, float]]:
    """Colour block: below a line (upper) or on the viewer's left half (lower), in canvas pixels."""
    out: dict[str, tuple[str, float]] = {}
    if upper_t is not None:
        out["upper"] = ("y", upper_t(0.0, 0.56)[1])
    if lower_t is not None:
        out["lower"] = ("x", lower_t(0.0, 0.0)[0])
    return out


__all__ = ["Frame", "Part", "Shape", "Transform", "layout", "upper_parts", "lower_parts", "belt_part"]
