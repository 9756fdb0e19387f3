"""Garment attributes: the DeepFashion-MultiModal label vocabulary plus colours and construction details.

A :class:`GarmentAttributes` describes one outfit as a technical flat shows it:
an upper garment (a top, outer garment or dress), an optional lower garment and
an optional belt. Every field may be ``None``, meaning "not said": a caption or
a customer prompt rarely names everything, and ``fashionedit.flats`` fills the
gaps deterministically from a seed when it renders.

Values are the words a caption uses ("long", "v-shape", "pure color"), so the
JSON is readable and the caption template can print them directly. The numeric
label files of DeepFashion-MultiModal map onto these enums in
``fashionedit.flats.vocabulary``.
"""

from __future__ import annotations

from enum import Enum

from pydantic import Field, model_validator

from .common import Contract


class Wearer(str, Enum):
    MAN = "man"  # DeepFashion "MEN-" images, captions say "gentleman"
    WOMAN = "woman"  # "WOMEN-" images, captions say "lady"


class UpperType(str, Enum):
    T_SHIRT = "t-shirt"
    TANK_TOP = "tank top"
    SHIRT = "shirt"
    BLOUSE = "blouse"
    SWEATER = "sweater"
    CARDIGAN = "cardigan"
    JACKET = "jacket"
    BLAZER = "blazer"
    COAT = "coat"
    DRESS = "dress"


class LowerType(str, Enum):
    TROUSERS = "trousers"
    SHORTS = "shorts"
    SKIRT = "skirt"
    LEGGINGS = "leggings"


class SleeveLength(str, Enum):
    """DeepFashion shape label 0 (its "not long-sleeve, NA" values have no drawing)."""

    SLEEVELESS = "sleeveless"
    SHORT = "short"
    MEDIUM = "medium"
    LONG = "long"


class LowerLength(str, Enum):
    """DeepFashion shape label 1: the length of trousers, shorts, skirts and dresses."""

    THREE_POINT = "three-point"
    MEDIUM_SHORT = "medium-short"
    THREE_QUARTER = "three-quarter"
    LONG = "long"


class Neckline(str, Enum):
    """DeepFashion shape label 9, plus turtleneck (which its labels file counts as standing)."""

    V_SHAPE = "v-shape"
    ROUND = "round"
    SQUARE = "square"
    STAND = "stand"
    LAPEL = "lapel"
    TURTLENECK = "turtleneck"
    SUSPENDERS = "suspenders"


class Fabric(str, Enum):
    """DeepFashion fabric labels, plus three common ones its labels file counts as "other"."""

    DENIM = "denim"
    COTTON = "cotton"
    LEATHER = "leather"
    FURRY = "furry"
    KNITTED = "knitted"
    CHIFFON = "chiffon"
    LINEN = "linen"
    WOOL = "wool"
    SILK = "silk"


class Pattern(str, Enum):
    """DeepFashion colour-pattern labels (its "other" has no drawing)."""

    PURE_COLOR = "pure color"
    STRIPED = "striped"
    FLORAL = "floral"
    GRAPHIC = "graphic"
    LATTICE = "lattice"
    COLOR_BLOCK = "color block"


class ColorName(str, Enum):
    WHITE = "white"
    CREAM = "cream"
    BEIGE = "beige"
    KHAKI = "khaki"
    YELLOW = "yellow"
    GOLD = "gold"
    ORANGE = "orange"
    RED = "red"
    BURGUNDY = "burgundy"
    PINK = "pink"
    PURPLE = "purple"
    LAVENDER = "lavender"
    NAVY = "navy"
    BLUE = "blue"
    LIGHT_BLUE = "light blue"
    TEAL = "teal"
    GREEN = "green"
    OLIVE = "olive"
    BROWN = "brown"
    GREY = "grey"
    CHARCOAL = "charcoal"
    BLACK = "black"
    SILVER = "silver"


class GraphicSize(str, Enum):
    """How a graphic print (logo, motif) is drawn: a small logo on the wearer's left chest, or a large print centre front."""

    SMALL = "small"
    LARGE = "large"


class ButtonPlacement(str, Enum):
    CENTER_FRONT = "center front"  # one column down the front opening
    DOUBLE_BREASTED = "double-breasted"  # two columns
    HALF_PLACKET = "half placket"  # a short placket under the neck (polo, henley)


class PocketKind(str, Enum):
    PATCH = "patch"
    FLAP = "flap"
    WELT = "welt"


class PocketPlacement(str, Enum):
    CHEST = "chest"
    HIP = "hip"


class HemStyle(str, Enum):
    STRAIGHT = "straight"
    CURVED = "curved"
    RIBBED = "ribbed"
    RUFFLED = "ruffled"


class Buttons(Contract):
    """Buttons of the upper garment; ``count == 0`` says "no buttons", ``count is None`` "some buttons"."""

    count: int | None = Field(default=None, ge=0, le=12)
    color: ColorName | None = None
    placement: ButtonPlacement | None = None

    @model_validator(mode="after")
    def _none_have_no_colour(self) -> Buttons:
        # "no buttons" has no colour or placement; keeping one would make two spellings of the same garment.
        if self.count == 0:
            self.color = self.placement = None
        return self


class Pockets(Contract):
    """Pockets of the upper garment; up to two on the chest and two at the hips."""

    count: int | None = Field(default=None, ge=0, le=4, description="0 says 'no pockets'; None 'some pockets'")
    kind: PocketKind | None = None
    placement: PocketPlacement | None = Field(
        default=None, description="Where the first two go; any beyond two go to the other place"
    )

    @model_validator(mode="after")
    def _none_have_no_kind(self) -> Pockets:
        if self.count == 0:
            self.kind = self.placement = None
        return self


class Belt(Contract):
    present: bool = True
    color: ColorName | None = None

    @model_validator(mode="after")
    def _absent_has_no_colour(self) -> Belt:
        if not self.present:
            self.color = None
        return self


class UpperGarment(Contract):
    """A top, an outer garment or a dress (a dress has ``length`` and no lower garment beside it)."""

    type: UpperType | None = None
    sleeve: SleeveLength | None = None
    neckline: Neckline | None = None
    color: ColorName | None = None
    fabric: Fabric | None = None
    pattern: Pattern | None = None
    pattern_color: ColorName | None = Field(default=None, description="Colour of the stripes, flowers, print or second block")
    graphic_size: GraphicSize | None = Field(
        default=None, description="A graphic print's size; None draws the large centre print"
    )
    collar_color: ColorName | None = Field(default=None, description="A contrast colour for the collar, lapels or neckband")
    buttons: Buttons | None = None
    pockets: Pockets | None = None
    hem: HemStyle | None = None
    length: LowerLength | None = Field(default=None, description="Dress length; ignored for other types")


class LowerGarment(Contract):
    type: LowerType | None = None
    length: LowerLength | None = None
    color: ColorName | None = None
    fabric: Fabric | None = None
    pattern: Pattern | None = None
    pattern_color: ColorName | None = None


class GarmentAttributes(Contract):
    """One outfit as a technical flat draws it. ``None`` anywhere means "not said"."""

    wearer: Wearer | None = None
    upper: UpperGarment | None = None
    lower: LowerGarment | None = None
    belt: Belt | None = None
