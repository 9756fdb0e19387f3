"""Words, colours and DeepFashion-MultiModal label numbers for garment attributes.

One table per concept. The parser reads text as a sequence of *phrases*
(longest match first, up to four words, hyphens split into words), each phrase
carrying one or more tags; the caption writer uses the canonical words, which
are always in these tables, so what it writes reads back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fashionedit.contracts.garment import (
    ButtonPlacement,
    ColorName,
    Fabric,
    HemStyle,
    LowerLength,
    LowerType,
    Neckline,
    Pattern,
    PocketKind,
    PocketPlacement,
    SleeveLength,
    UpperType,
    Wearer,
)

# -- colours -------------------------------------------------------------------------------
COLOR_RGB: dict[ColorName, tuple[int, int, int]] = {
    ColorName.WHITE: (246, 246, 242),
    ColorName.CREAM: (240, 230, 200),
    ColorName.BEIGE: (222, 203, 164),
    ColorName.KHAKI: (189, 169, 118),
    ColorName.YELLOW: (240, 200, 40),
    ColorName.GOLD: (212, 165, 40),
    ColorName.ORANGE: (236, 120, 40),
    ColorName.RED: (200, 30, 40),
    ColorName.BURGUNDY: (120, 24, 44),
    ColorName.PINK: (238, 150, 180),
    ColorName.PURPLE: (110, 50, 150),
    ColorName.LAVENDER: (185, 165, 225),
    ColorName.NAVY: (28, 38, 86),
    ColorName.BLUE: (40, 90, 200),
    ColorName.LIGHT_BLUE: (150, 195, 235),
    ColorName.TEAL: (20, 130, 130),
    ColorName.GREEN: (40, 140, 60),
    ColorName.OLIVE: (110, 112, 50),
    ColorName.BROWN: (110, 70, 40),
    ColorName.GREY: (150, 150, 150),
    ColorName.CHARCOAL: (60, 62, 66),
    ColorName.BLACK: (22, 22, 24),
    ColorName.SILVER: (192, 195, 200),
}

#: How a difference description names a colour ("The shirt is navy blue").
COLOR_DISPLAY: dict[ColorName, str] = {c: c.value for c in ColorName} | {ColorName.NAVY: "navy blue"}

COLOR_ALIASES: dict[str, ColorName] = {c.value: c for c in ColorName} | {
    "gray": ColorName.GREY,
    "navy blue": ColorName.NAVY,
    "dark blue": ColorName.NAVY,
    "sky blue": ColorName.LIGHT_BLUE,
    "baby blue": ColorName.LIGHT_BLUE,
    "pale blue": ColorName.LIGHT_BLUE,
    "ivory": ColorName.CREAM,
    "off white": ColorName.CREAM,
    "tan": ColorName.KHAKI,
    "camel": ColorName.KHAKI,
    "sand": ColorName.BEIGE,
    "nude": ColorName.BEIGE,
    "mustard": ColorName.GOLD,
    "golden": ColorName.GOLD,
    "maroon": ColorName.BURGUNDY,
    "wine": ColorName.BURGUNDY,
    "scarlet": ColorName.RED,
    "crimson": ColorName.RED,
    "rose": ColorName.PINK,
    "violet": ColorName.PURPLE,
    "lilac": ColorName.LAVENDER,
    "turquoise": ColorName.TEAL,
    "emerald": ColorName.GREEN,
    "khaki green": ColorName.OLIVE,
    "army green": ColorName.OLIVE,
    "chocolate": ColorName.BROWN,
    "dark grey": ColorName.CHARCOAL,
    "dark gray": ColorName.CHARCOAL,
    "light grey": ColorName.SILVER,
    "light gray": ColorName.SILVER,
}


def is_light(color: ColorName) -> bool:
    r, g, b = COLOR_RGB[color]
    return 0.299 * r + 0.587 * g + 0.114 * b > 150


def contrast_color(color: ColorName) -> ColorName:
    """A second colour that shows on ``color`` (for patterns and details nobody named)."""
    return ColorName.NAVY if is_light(color) else ColorName.WHITE


# -- words for each value ------------------------------------------------------------------
UPPER_TYPE_WORDS: dict[str, UpperType] = {
    "t shirt": UpperType.T_SHIRT,
    "t shirts": UpperType.T_SHIRT,
    "tee": UpperType.T_SHIRT,
    "tshirt": UpperType.T_SHIRT,
    "tank top": UpperType.TANK_TOP,
    "tank": UpperType.TANK_TOP,
    "vest": UpperType.TANK_TOP,
    "camisole": UpperType.TANK_TOP,
    "shirt": UpperType.SHIRT,
    "polo": UpperType.SHIRT,
    "blouse": UpperType.BLOUSE,
    "sweater": UpperType.SWEATER,
    "jumper": UpperType.SWEATER,
    "pullover": UpperType.SWEATER,
    "sweatshirt": UpperType.SWEATER,
    "hoodie": UpperType.SWEATER,
    "cardigan": UpperType.CARDIGAN,
    "jacket": UpperType.JACKET,
    "bomber": UpperType.JACKET,
    "blazer": UpperType.BLAZER,
    "suit jacket": UpperType.BLAZER,
    "coat": UpperType.COAT,
    "overcoat": UpperType.COAT,
    "trench coat": UpperType.COAT,
    "dress": UpperType.DRESS,
    "gown": UpperType.DRESS,
    "sundress": UpperType.DRESS,
}
#: Words for "the upper garment" without a type.
GENERIC_UPPER_WORDS = ("top", "upper clothing", "upper garment", "outer clothing", "outerwear")

LOWER_TYPE_WORDS: dict[str, LowerType] = {
    "trousers": LowerType.TROUSERS,
    "trouser": LowerType.TROUSERS,
    "pants": LowerType.TROUSERS,
    "jeans": LowerType.TROUSERS,
    "chinos": LowerType.TROUSERS,
    "slacks": LowerType.TROUSERS,
    "joggers": LowerType.TROUSERS,
    "shorts": LowerType.SHORTS,
    "skirt": LowerType.SKIRT,
    "leggings": LowerType.LEGGINGS,
    "tights": LowerType.LEGGINGS,
}
GENERIC_LOWER_WORDS = ("bottoms", "lower clothing", "lower garment")

#: Phrases that say the sleeve length outright.
SLEEVE_WORDS: dict[str, SleeveLength] = {"sleeveless": SleeveLength.SLEEVELESS}
for _word, _value in (
    ("short", SleeveLength.SHORT),
    ("medium", SleeveLength.MEDIUM),
    ("long", SleeveLength.LONG),
    ("elbow", SleeveLength.MEDIUM),
    ("half", SleeveLength.MEDIUM),
    ("full", SleeveLength.LONG),
):
    for _suffix in ("sleeve", "sleeves", "sleeved"):
        SLEEVE_WORDS[f"{_word} {_suffix}"] = _value
SLEEVE_WORDS |= {
    "no sleeves": SleeveLength.SLEEVELESS,
    "without sleeves": SleeveLength.SLEEVELESS,
    "sleeves cut off": SleeveLength.SLEEVELESS,
    "cut off sleeves": SleeveLength.SLEEVELESS,
}

#: Length words; meaning depends on what they describe (sleeves or a lower garment / dress).
#: value: (sleeve length, lower length), either may be None.
LENGTH_WORDS: dict[str, tuple[SleeveLength | None, LowerLength | None]] = {
    "long": (SleeveLength.LONG, LowerLength.LONG),
    "full length": (SleeveLength.LONG, LowerLength.LONG),
    "maxi": (None, LowerLength.LONG),
    "ankle length": (None, LowerLength.LONG),
    "floor length": (None, LowerLength.LONG),
    "three quarter": (SleeveLength.MEDIUM, LowerLength.THREE_QUARTER),
    "midi": (None, LowerLength.THREE_QUARTER),
    "cropped": (None, LowerLength.THREE_QUARTER),
    "capri": (None, LowerLength.THREE_QUARTER),
    "medium short": (None, LowerLength.MEDIUM_SHORT),
    "knee length": (None, LowerLength.MEDIUM_SHORT),
    "medium": (SleeveLength.MEDIUM, LowerLength.MEDIUM_SHORT),
    "short": (SleeveLength.SHORT, LowerLength.MEDIUM_SHORT),
    "three point": (None, LowerLength.THREE_POINT),
    "mini": (None, LowerLength.THREE_POINT),
    "very short": (SleeveLength.SHORT, LowerLength.THREE_POINT),
}

NECKLINE_WORDS: dict[str, Neckline] = {
    "v shape": Neckline.V_SHAPE,
    "v shaped": Neckline.V_SHAPE,
    "v neck": Neckline.V_SHAPE,
    "v": Neckline.V_SHAPE,
    "round": Neckline.ROUND,
    "crew": Neckline.ROUND,
    "crew neck": Neckline.ROUND,
    "round neck": Neckline.ROUND,
    "scoop": Neckline.ROUND,
    "square": Neckline.SQUARE,
    "square neck": Neckline.SQUARE,
    "stand": Neckline.STAND,
    "standing": Neckline.STAND,
    "stand collar": Neckline.STAND,
    "mandarin": Neckline.STAND,
    "mandarin collar": Neckline.STAND,
    "lapel": Neckline.LAPEL,
    "lapels": Neckline.LAPEL,
    "notch lapel": Neckline.LAPEL,
    "notch lapels": Neckline.LAPEL,
    "notched lapel": Neckline.LAPEL,
    "notched lapels": Neckline.LAPEL,
    "shirt collar": Neckline.LAPEL,
    "turtleneck": Neckline.TURTLENECK,
    "turtle neck": Neckline.TURTLENECK,
    "polo neck": Neckline.TURTLENECK,
    "roll neck": Neckline.TURTLENECK,
    "high neck": Neckline.TURTLENECK,
    "suspenders": Neckline.SUSPENDERS,
    "suspender": Neckline.SUSPENDERS,
    "straps": Neckline.SUSPENDERS,
    "spaghetti straps": Neckline.SUSPENDERS,
    "strappy": Neckline.SUSPENDERS,
}

FABRIC_WORDS: dict[str, Fabric] = {f.value: f for f in Fabric} | {
    "jean": Fabric.DENIM,
    "chambray": Fabric.DENIM,
    "fur": Fabric.FURRY,
    "faux fur": Fabric.FURRY,
    "fleece": Fabric.FURRY,
    "fluffy": Fabric.FURRY,
    "knit": Fabric.KNITTED,
    "knitwear": Fabric.KNITTED,
    "leathers": Fabric.LEATHER,
    "suede": Fabric.LEATHER,
    "woollen": Fabric.WOOL,
    "woolen": Fabric.WOOL,
    "tweed": Fabric.WOOL,
    "cashmere": Fabric.WOOL,
    "silky": Fabric.SILK,
    "satin": Fabric.SILK,
    "jersey": Fabric.COTTON,
    "poplin": Fabric.COTTON,
    "sheer": Fabric.CHIFFON,
    "tulle": Fabric.CHIFFON,
}

PATTERN_WORDS: dict[str, Pattern] = {p.value: p for p in Pattern} | {
    "pure colour": Pattern.PURE_COLOR,
    "solid": Pattern.PURE_COLOR,
    "solid color": Pattern.PURE_COLOR,
    "plain": Pattern.PURE_COLOR,
    "stripe": Pattern.STRIPED,
    "stripes": Pattern.STRIPED,
    "stripy": Pattern.STRIPED,
    "pinstripe": Pattern.STRIPED,
    "pinstriped": Pattern.STRIPED,
    "flower": Pattern.FLORAL,
    "flowers": Pattern.FLORAL,
    "flowery": Pattern.FLORAL,
    "florals": Pattern.FLORAL,
    "print": Pattern.GRAPHIC,
    "printed": Pattern.GRAPHIC,
    "logo": Pattern.GRAPHIC,
    "graphics": Pattern.GRAPHIC,
    "plaid": Pattern.LATTICE,
    "checked": Pattern.LATTICE,
    "checks": Pattern.LATTICE,
    "checkered": Pattern.LATTICE,
    "gingham": Pattern.LATTICE,
    "tartan": Pattern.LATTICE,
    "grid": Pattern.LATTICE,
    "colour block": Pattern.COLOR_BLOCK,
    "colorblock": Pattern.COLOR_BLOCK,
    "color blocked": Pattern.COLOR_BLOCK,
    "two tone": Pattern.COLOR_BLOCK,
}

BUTTON_PLACEMENT_WORDS: dict[str, ButtonPlacement] = {
    "down the front": ButtonPlacement.CENTER_FRONT,
    "center front": ButtonPlacement.CENTER_FRONT,
    "centre front": ButtonPlacement.CENTER_FRONT,
    "single breasted": ButtonPlacement.CENTER_FRONT,
    "double breasted": ButtonPlacement.DOUBLE_BREASTED,
    "in two rows": ButtonPlacement.DOUBLE_BREASTED,
    "on a half placket": ButtonPlacement.HALF_PLACKET,
    "on the placket": ButtonPlacement.HALF_PLACKET,
    "half placket": ButtonPlacement.HALF_PLACKET,
    "placket": ButtonPlacement.HALF_PLACKET,
}

POCKET_KIND_WORDS: dict[str, PocketKind] = {
    "patch": PocketKind.PATCH,
    "flap": PocketKind.FLAP,
    "flapped": PocketKind.FLAP,
    "welt": PocketKind.WELT,
    "slit": PocketKind.WELT,
}

POCKET_PLACEMENT_WORDS: dict[str, PocketPlacement] = {
    "on the chest": PocketPlacement.CHEST,
    "chest": PocketPlacement.CHEST,
    "breast": PocketPlacement.CHEST,
    "at the hips": PocketPlacement.HIP,
    "on the hips": PocketPlacement.HIP,
    "hip": PocketPlacement.HIP,
    "hips": PocketPlacement.HIP,
    "side": PocketPlacement.HIP,
}

HEM_WORDS: dict[str, HemStyle] = {
    "straight": HemStyle.STRAIGHT,
    "curved": HemStyle.CURVED,
    "shirttail": HemStyle.CURVED,
    "rounded": HemStyle.CURVED,
    "ribbed": HemStyle.RIBBED,
    "rib": HemStyle.RIBBED,
    "ruffled": HemStyle.RUFFLED,
    "ruffle": HemStyle.RUFFLED,
    "frilled": HemStyle.RUFFLED,
}

WEARER_WORDS: dict[str, Wearer | None] = {
    "gentleman": Wearer.MAN,
    "man": Wearer.MAN,
    "men": Wearer.MAN,
    "male": Wearer.MAN,
    "guy": Wearer.MAN,
    "boy": Wearer.MAN,
    "mens": Wearer.MAN,
    "menswear": Wearer.MAN,
    "his": Wearer.MAN,
    "he": Wearer.MAN,
    "lady": Wearer.WOMAN,
    "woman": Wearer.WOMAN,
    "women": Wearer.WOMAN,
    "female": Wearer.WOMAN,
    "girl": Wearer.WOMAN,
    "womens": Wearer.WOMAN,
    "womenswear": Wearer.WOMAN,
    "her": Wearer.WOMAN,
    "she": Wearer.WOMAN,
    "person": None,
    "people": None,
    "someone": None,
    "model": None,
}

NUMBER_WORDS: dict[str, int] = {
    "no": 0,
    "zero": 0,
    "a": 1,
    "an": 1,
    "one": 1,
    "single": 1,
    "two": 2,
    "pair of": 2,
    "a pair of": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
}
COUNT_WORD = {n: w for w, n in NUMBER_WORDS.items() if w not in ("a", "an", "single", "pair of", "a pair of")}

#: Grammar words the parser understands as such (never reported as unknown).
FUNCTION_WORDS = frozenset(
    """this that these those the a an is are was be it its it's they their there here has have having with and
    or of in on at to into for by as wearing wears wear worn wore dressed also which who whose while plus
    features featuring feature comes come made from over under around along across up down front
    some any all both each very quite rather slightly bit more less fairly
    i we you me my our your us want would like need please could should can will let lets let's
    make change turn set give put use switch replace swap update add adding remove removing delete drop take
    off get rid keep instead instead of so then now just only same other another new style styled look
    clothes clothing garment garments outfit piece design sketch flat image picture one's
    fabric fabrics material materials pattern patterns colour color colors colours coloured colored
    neckline neck necklines length sleeve sleeves button buttons pocket pockets belt belts collar collars hem hems
    waist waistline shorter longer lengthen shorten covers cover covered covering not tied carries carrying holds
    holding front chest back left right""".split()
)

#: DeepFashion caption words for what a flat does not draw (accessories, body parts): known, reported as ignored.
ACCESSORY_WORDS = frozenset(
    """accessory accessories wrist wrists ring rings finger fingers hat hats cap caps head glasses eyeglasses
    sunglasses eyewear socks sock neckwear scarf scarves tie ties necklace bracelet bracelets watch bag bags
    handbag shoes shoe boots sneakers heels hand hands eyes face hair navel stomach belly body arm arms leg legs
    feet foot earrings gloves""".split()
)

#: Size words: read for collars (not drawn, said in notes) and prints.
SIZE_WORDS = {
    "wide": "large",
    "wider": "large",
    "broad": "large",
    "big": "large",
    "bigger": "large",
    "large": "large",
    "larger": "large",
    "oversized": "large",
    "narrow": "small",
    "narrower": "small",
    "small": "small",
    "smaller": "small",
    "tiny": "small",
    "little": "small",
}

#: Known words for what a flat does not draw beyond accessories: DeepFashion's "other/mixed" patterns and fabrics,
#: fit and season words. Reported as not drawn, like accessories.
NOT_DRAWN_WORDS = frozenset(
    """mixed complicated complex slim skinny loose fitted oversized relaxed baggy summer winter spring autumn casual
    formal smart elegant pleated pleats cargo dragon""".split()
)

#: Words drawn as the nearest thing a flat has, with the note that says so (kind, value, note).
APPROXIMATE_WORDS: dict[str, tuple[str, Any, str]] = {
    "hoodie": ("upper_type", UpperType.SWEATER, "'hoodie' drawn as a sweater (the flats draw no hood)"),
    "hoodies": ("upper_type", UpperType.SWEATER, "'hoodies' drawn as a sweater (the flats draw no hood)"),
    "kimono": ("upper_type", UpperType.COAT, "'kimono' drawn as a long-sleeve wrap coat (the flats have no kimono shape)"),
    "puffer": ("upper_type", UpperType.JACKET, "'puffer' drawn as a plain jacket (no quilting)"),
    "parka": ("upper_type", UpperType.COAT, "'parka' drawn as a coat"),
    "embroidery": ("pattern", Pattern.GRAPHIC, "'embroidery' drawn as a graphic print"),
    "embroidered": ("pattern", Pattern.GRAPHIC, "'embroidered' drawn as a graphic print"),
    "velvet": ("fabric", Fabric.SILK, "'velvet' drawn with the silk sheen"),
    "corduroy": ("fabric", Fabric.COTTON, "'corduroy' drawn as cotton (no wales)"),
    "flannel": ("fabric", Fabric.COTTON, "'flannel' drawn as cotton"),
    "polyester": ("fabric", Fabric.COTTON, "'polyester' drawn as cotton"),
}

#: Verbs that remove a detail / add one.
REMOVE_WORDS = ("remove", "removing", "delete", "drop", "take off", "get rid of", "without", "no", "lose", "omit")
ADD_WORDS = ("add", "adding", "put", "give", "include", "attach", "sew")

# -- DeepFashion-MultiModal label numbers (labels/shape, labels/texture) -------------------------
DF_SLEEVE = {SleeveLength.SLEEVELESS: 0, SleeveLength.SHORT: 1, SleeveLength.MEDIUM: 2, SleeveLength.LONG: 3}
DF_SLEEVE_NA = 5
DF_LOWER_LENGTH = {LowerLength.THREE_POINT: 0, LowerLength.MEDIUM_SHORT: 1, LowerLength.THREE_QUARTER: 2, LowerLength.LONG: 3}
DF_LOWER_LENGTH_NA = 4
# The dataset README numbers necklines 0,1,2,4,5,6 (3 unused) with 7 for NA; turtleneck is a standing neck there.
DF_NECKLINE = {
    Neckline.V_SHAPE: 0,
    Neckline.SQUARE: 1,
    Neckline.ROUND: 2,
    Neckline.STAND: 4,
    Neckline.TURTLENECK: 4,
    Neckline.LAPEL: 5,
    Neckline.SUSPENDERS: 6,
}
DF_NECKLINE_NA = 7
DF_FABRIC = {
    Fabric.DENIM: 0,
    Fabric.COTTON: 1,
    Fabric.LEATHER: 2,
    Fabric.FURRY: 3,
    Fabric.KNITTED: 4,
    Fabric.CHIFFON: 5,
    Fabric.LINEN: 6,
    Fabric.WOOL: 6,
    Fabric.SILK: 6,
}
DF_FABRIC_NA = 7
DF_PATTERN = {
    Pattern.FLORAL: 0,
    Pattern.GRAPHIC: 1,
    Pattern.STRIPED: 2,
    Pattern.PURE_COLOR: 3,
    Pattern.LATTICE: 4,
    Pattern.COLOR_BLOCK: 6,
}
DF_PATTERN_NA = 7
#: Upper types DeepFashion counts as "outer clothing" (its fabric/pattern files have an outer column).
OUTER_TYPES = frozenset({UpperType.CARDIGAN, UpperType.JACKET, UpperType.BLAZER, UpperType.COAT})

# DeepFashion In-shop categories, used in file names: {MEN|WOMEN}-{Category}-id_...
CATEGORY = {
    (Wearer.MAN, UpperType.T_SHIRT): "Tees_Tanks",
    (Wearer.MAN, UpperType.TANK_TOP): "Tees_Tanks",
    (Wearer.MAN, UpperType.SHIRT): "Shirts_Polos",
    (Wearer.MAN, UpperType.BLOUSE): "Shirts_Polos",
    (Wearer.MAN, UpperType.SWEATER): "Sweaters",
    (Wearer.MAN, UpperType.CARDIGAN): "Sweaters",
    (Wearer.MAN, UpperType.JACKET): "Jackets_Vests",
    (Wearer.MAN, UpperType.BLAZER): "Suiting",
    (Wearer.MAN, UpperType.COAT): "Jackets_Vests",
    (Wearer.MAN, UpperType.DRESS): "Suiting",
    (Wearer.WOMAN, UpperType.T_SHIRT): "Tees_Tanks",
    (Wearer.WOMAN, UpperType.TANK_TOP): "Tees_Tanks",
    (Wearer.WOMAN, UpperType.SHIRT): "Blouses_Shirts",
    (Wearer.WOMAN, UpperType.BLOUSE): "Blouses_Shirts",
    (Wearer.WOMAN, UpperType.SWEATER): "Sweaters",
    (Wearer.WOMAN, UpperType.CARDIGAN): "Cardigans",
    (Wearer.WOMAN, UpperType.JACKET): "Jackets_Coats",
    (Wearer.WOMAN, UpperType.BLAZER): "Jackets_Coats",
    (Wearer.WOMAN, UpperType.COAT): "Jackets_Coats",
    (Wearer.WOMAN, UpperType.DRESS): "Dresses",
}


@dataclass(frozen=True)
class Tag:
    """What a phrase means: ``kind`` (e.g. 'color', 'upper_type', 'button_noun') and a value."""

    kind: str
    value: Any = None


def _build_phrases() -> dict[tuple[str, ...], list[Tag]]:
    table: dict[tuple[str, ...], list[Tag]] = {}

    def add(text: str, tag: Tag) -> None:
        key = tuple(text.split())
        tags = table.setdefault(key, [])
        if tag not in tags:
            tags.append(tag)

    for text, upper in UPPER_TYPE_WORDS.items():
        add(text, Tag("upper_type", upper))
        if not text.endswith("s") and " " not in text:
            add(text + "s", Tag("upper_type", upper))
        elif " " in text and not text.endswith("s"):
            add(text + "s", Tag("upper_type", upper))
    add("dresses", Tag("upper_type", UpperType.DRESS))
    add("blouses", Tag("upper_type", UpperType.BLOUSE))
    for text in GENERIC_UPPER_WORDS:
        add(text, Tag("upper_type", None))
    for text, lower in LOWER_TYPE_WORDS.items():
        add(text, Tag("lower_type", lower))
    add("skirts", Tag("lower_type", LowerType.SKIRT))
    for text in GENERIC_LOWER_WORDS:
        add(text, Tag("lower_type", None))
    for text, sleeve in SLEEVE_WORDS.items():
        add(text, Tag("sleeve", sleeve))
    for text, pair in LENGTH_WORDS.items():
        add(text, Tag("length", pair))
    for text, neck in NECKLINE_WORDS.items():
        add(text, Tag("neckline", neck))
        if not text.endswith(("neck", "collar", "lapel", "lapels", "straps", "strappy")):
            add(text + " neck", Tag("neckline", neck))
    for text, fabric in FABRIC_WORDS.items():
        add(text, Tag("fabric", fabric))
    for text, pattern in PATTERN_WORDS.items():
        add(text, Tag("pattern", pattern))
    for text, color in COLOR_ALIASES.items():
        add(text, Tag("color", color))
    for text, button_place in BUTTON_PLACEMENT_WORDS.items():
        add(text, Tag("button_place", button_place))
    for text, pocket_kind in POCKET_KIND_WORDS.items():
        add(text, Tag("pocket_kind", pocket_kind))
    for text, pocket_place in POCKET_PLACEMENT_WORDS.items():
        add(text, Tag("pocket_place", pocket_place))
    for text, hem in HEM_WORDS.items():
        add(text, Tag("hem", hem))
    for text, wearer in WEARER_WORDS.items():
        add(text, Tag("wearer", wearer))
    for text, number in NUMBER_WORDS.items():
        add(text, Tag("number", number))
    for word in ("button", "buttons", "buttoned"):
        add(word, Tag("noun", "buttons"))
    for word in ("pocket", "pockets"):
        add(word, Tag("noun", "pockets"))
    for word in ("belt", "belts", "belted"):
        add(word, Tag("noun", "belt"))
    for word in ("collar", "collars", "neckband"):
        add(word, Tag("noun", "collar"))
    for word in ("sleeve", "sleeves"):
        add(word, Tag("noun", "sleeves"))
    for word in ("neckline", "necklines", "neck"):
        add(word, Tag("noun", "neckline"))
    for word in ("hem", "hems", "hemline"):
        add(word, Tag("noun", "hem"))
    for word in ("pattern", "patterns"):
        add(word, Tag("noun", "pattern"))
    for word in ("fabric", "fabrics", "material"):
        add(word, Tag("noun", "fabric"))
    for word in ("color", "colors", "colored", "shade"):
        add(word, Tag("noun", "color"))
    for word in ("length", "hemline length"):
        add(word, Tag("noun", "length"))
    for text in REMOVE_WORDS:
        add(text, Tag("remove"))
    for text in ADD_WORDS:
        add(text, Tag("add"))
    for word in ("to", "into"):
        add(word, Tag("to"))
    for word in ("shorter", "shorten", "shortened"):
        add(word, Tag("shorter"))
    for word in ("longer", "lengthen", "lengthened"):
        add(word, Tag("longer"))
    for word in SIZE_WORDS:
        add(word, Tag("size", SIZE_WORDS[word]))
    for word in ACCESSORY_WORDS | NOT_DRAWN_WORDS:
        add(word, Tag("accessory", word))
    for text, (approx_kind, value, note) in APPROXIMATE_WORDS.items():
        table.pop(tuple(text.split()), None)
        add(text, Tag(approx_kind, value))
        add(text, Tag("approx", note))
    for word in FUNCTION_WORDS:
        if (word,) not in table:
            add(word, Tag("function"))
    return table


PHRASES: dict[tuple[str, ...], list[Tag]] = _build_phrases()
MAX_PHRASE_WORDS = max(len(k) for k in PHRASES)
