"""Fill what a text did not say, deterministically from a seed, with values that suit the garment type."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Literal, TypeVar

from fashionedit.contracts.garment import (
    Belt,
    ButtonPlacement,
    Buttons,
    ColorName,
    Fabric,
    GarmentAttributes,
    HemStyle,
    LowerGarment,
    LowerLength,
    LowerType,
    Neckline,
    Pattern,
    PocketKind,
    PocketPlacement,
    Pockets,
    SleeveLength,
    UpperGarment,
    UpperType,
    Wearer,
)

from .vocabulary import contrast_color

T = TypeVar("T")
S, M, L, NO = SleeveLength.SHORT, SleeveLength.MEDIUM, SleeveLength.LONG, SleeveLength.SLEEVELESS
CF, DB, HP = ButtonPlacement.CENTER_FRONT, ButtonPlacement.DOUBLE_BREASTED, ButtonPlacement.HALF_PLACKET

#: Per upper type: sleeves, necklines, fabrics, button options (count, placement), pocket options, hems.
UPPER_PROFILES: dict[UpperType, dict] = {
    UpperType.T_SHIRT: dict(
        sleeve=[S, S, M, L],
        neck=[Neckline.ROUND, Neckline.ROUND, Neckline.V_SHAPE],
        fabric=[Fabric.COTTON, Fabric.COTTON, Fabric.KNITTED, Fabric.LINEN],
        buttons=[(0, None), (0, None), (3, HP)],
        pockets=[0, 0, 1],
        hem=[HemStyle.STRAIGHT, HemStyle.CURVED],
    ),
    UpperType.TANK_TOP: dict(
        sleeve=[NO],
        neck=[Neckline.ROUND, Neckline.SQUARE, Neckline.SUSPENDERS, Neckline.V_SHAPE],
        fabric=[Fabric.COTTON, Fabric.KNITTED, Fabric.SILK, Fabric.CHIFFON],
        buttons=[(0, None)],
        pockets=[0],
        hem=[HemStyle.STRAIGHT, HemStyle.RIBBED],
    ),
    UpperType.SHIRT: dict(
        sleeve=[L, L, S, M],
        neck=[Neckline.LAPEL, Neckline.LAPEL, Neckline.STAND],
        fabric=[Fabric.COTTON, Fabric.COTTON, Fabric.LINEN, Fabric.DENIM, Fabric.SILK],
        buttons=[(6, CF), (7, CF), (5, CF)],
        pockets=[0, 1, 2],
        hem=[HemStyle.CURVED, HemStyle.STRAIGHT],
    ),
    UpperType.BLOUSE: dict(
        sleeve=[L, M, S, NO],
        neck=[Neckline.V_SHAPE, Neckline.ROUND, Neckline.STAND, Neckline.SQUARE, Neckline.LAPEL],
        fabric=[Fabric.CHIFFON, Fabric.SILK, Fabric.COTTON],
        buttons=[(0, None), (5, CF), (3, HP)],
        pockets=[0],
        hem=[HemStyle.STRAIGHT, HemStyle.RUFFLED, HemStyle.CURVED],
    ),
    UpperType.SWEATER: dict(
        sleeve=[L, L, M],
        neck=[Neckline.ROUND, Neckline.V_SHAPE, Neckline.TURTLENECK],
        fabric=[Fabric.KNITTED, Fabric.WOOL, Fabric.COTTON, Fabric.FURRY],
        buttons=[(0, None)],
        pockets=[0],
        hem=[HemStyle.RIBBED],
    ),
    UpperType.CARDIGAN: dict(
        sleeve=[L, L, M],
        neck=[Neckline.V_SHAPE, Neckline.ROUND],
        fabric=[Fabric.KNITTED, Fabric.WOOL],
        buttons=[(5, CF), (6, CF)],
        pockets=[0, 2],
        hem=[HemStyle.RIBBED],
    ),
    UpperType.JACKET: dict(
        sleeve=[L],
        neck=[Neckline.STAND, Neckline.LAPEL],
        fabric=[Fabric.DENIM, Fabric.LEATHER, Fabric.COTTON, Fabric.FURRY],
        buttons=[(5, CF), (4, CF), (6, DB)],
        pockets=[2, 4],
        hem=[HemStyle.STRAIGHT, HemStyle.RIBBED],
    ),
    UpperType.BLAZER: dict(
        sleeve=[L],
        neck=[Neckline.LAPEL],
        fabric=[Fabric.WOOL, Fabric.LINEN, Fabric.COTTON],
        buttons=[(2, CF), (1, CF), (6, DB), (4, DB)],
        pockets=[2, 3],
        hem=[HemStyle.STRAIGHT],
    ),
    UpperType.COAT: dict(
        sleeve=[L],
        neck=[Neckline.LAPEL, Neckline.STAND],
        fabric=[Fabric.WOOL, Fabric.LEATHER, Fabric.FURRY],
        buttons=[(8, DB), (6, DB), (5, CF)],
        pockets=[2],
        hem=[HemStyle.STRAIGHT],
    ),
    UpperType.DRESS: dict(
        sleeve=[NO, S, L, M],
        neck=[Neckline.V_SHAPE, Neckline.ROUND, Neckline.SQUARE, Neckline.SUSPENDERS],
        fabric=[Fabric.CHIFFON, Fabric.COTTON, Fabric.SILK, Fabric.KNITTED],
        buttons=[(0, None), (0, None), (6, CF)],
        pockets=[0],
        hem=[HemStyle.STRAIGHT, HemStyle.RUFFLED],
    ),
}
LOWER_PROFILES: dict[LowerType, dict] = {
    LowerType.TROUSERS: dict(
        length=[LowerLength.LONG, LowerLength.LONG, LowerLength.THREE_QUARTER],
        fabric=[Fabric.DENIM, Fabric.COTTON, Fabric.WOOL, Fabric.LINEN, Fabric.LEATHER],
    ),
    LowerType.SHORTS: dict(
        length=[LowerLength.THREE_POINT, LowerLength.MEDIUM_SHORT], fabric=[Fabric.DENIM, Fabric.COTTON, Fabric.LINEN]
    ),
    LowerType.SKIRT: dict(
        length=list(LowerLength), fabric=[Fabric.DENIM, Fabric.COTTON, Fabric.LEATHER, Fabric.CHIFFON, Fabric.WOOL]
    ),
    LowerType.LEGGINGS: dict(length=[LowerLength.LONG, LowerLength.THREE_QUARTER], fabric=[Fabric.KNITTED, Fabric.COTTON]),
}
PATTERN_WEIGHTS = [
    (Pattern.PURE_COLOR, 10),
    (Pattern.STRIPED, 3),
    (Pattern.FLORAL, 2),
    (Pattern.GRAPHIC, 2),
    (Pattern.LATTICE, 2),
    (Pattern.COLOR_BLOCK, 1),
]
WOMEN_ONLY = {UpperType.DRESS, UpperType.BLOUSE}


def _pick(rng: random.Random, options: Sequence[T]) -> T:
    return options[rng.randrange(len(options))]


def _pattern(rng: random.Random) -> Pattern:
    values, weights = zip(*PATTERN_WEIGHTS, strict=True)
    return rng.choices(values, weights=weights)[0]


#: Types whose construction has buttons (a closure), drawn even when a prompt does not mention them.
CLOSURE_TYPES = frozenset({UpperType.SHIRT, UpperType.CARDIGAN, UpperType.JACKET, UpperType.BLAZER, UpperType.COAT})
#: How fields nobody named are filled: 'varied' draws decorations too (patterns, belts, pockets; synthetic data),
#: 'plain' draws only what the garment type needs, with its most typical shape (drafts that follow a prompt).
Unrequested = Literal["varied", "plain"]


def _plain_upper(upper: UpperGarment, rng: random.Random) -> UpperGarment:
    kind = upper.type or _pick(rng, [UpperType.T_SHIRT, UpperType.SHIRT, UpperType.SWEATER])
    profile = UPPER_PROFILES[kind]
    color = upper.color or _pick(rng, list(ColorName))
    pattern = upper.pattern or Pattern.PURE_COLOR
    pattern_color = upper.pattern_color
    if pattern_color is None and pattern is not Pattern.PURE_COLOR:
        pattern_color = contrast_color(color)
    closures = [option for option in profile["buttons"] if option[0]]
    count, placement = closures[0] if kind in CLOSURE_TYPES and closures else (0, None)
    given = upper.buttons or Buttons()
    n = given.count if given.count is not None else (count if upper.buttons is None else (count or 5))
    buttons = Buttons(
        count=n,
        color=given.color or (contrast_color(color) if n else None),
        placement=given.placement or ((placement or CF) if n else None),
    )
    given_pockets = upper.pockets or Pockets()
    n_pockets = given_pockets.count if given_pockets.count is not None else (0 if upper.pockets is None else 2)
    default_place = PocketPlacement.CHEST if kind in (UpperType.SHIRT, UpperType.T_SHIRT) else PocketPlacement.HIP
    pockets = Pockets(
        count=n_pockets,
        kind=given_pockets.kind or (PocketKind.PATCH if n_pockets else None),
        placement=given_pockets.placement or (default_place if n_pockets else None),
    )
    return UpperGarment(
        type=kind,
        sleeve=upper.sleeve or profile["sleeve"][0],
        neckline=upper.neckline or profile["neck"][0],
        color=color,
        fabric=upper.fabric or profile["fabric"][0],
        pattern=pattern,
        pattern_color=pattern_color,
        graphic_size=upper.graphic_size,
        collar_color=upper.collar_color,
        buttons=buttons,
        pockets=pockets,
        hem=upper.hem or profile["hem"][0],
        length=(upper.length or LowerLength.MEDIUM_SHORT) if kind is UpperType.DRESS else upper.length,
    )


def _plain_lower(lower: LowerGarment, rng: random.Random) -> LowerGarment:
    kind = lower.type or LowerType.TROUSERS
    profile = LOWER_PROFILES[kind]
    color = lower.color or _pick(rng, list(ColorName))
    pattern = lower.pattern or Pattern.PURE_COLOR
    pattern_color = lower.pattern_color or (contrast_color(color) if pattern is not Pattern.PURE_COLOR else None)
    return LowerGarment(
        type=kind,
        length=lower.length or profile["length"][0],
        color=color,
        fabric=lower.fabric or profile["fabric"][0],
        pattern=pattern,
        pattern_color=pattern_color,
    )


def complete_upper(upper: UpperGarment, rng: random.Random) -> UpperGarment:
    kind = upper.type or _pick(rng, [t for t in UpperType if t is not UpperType.DRESS])
    profile = UPPER_PROFILES[kind]
    color = upper.color or _pick(rng, list(ColorName))
    pattern = upper.pattern or _pattern(rng)
    pattern_color = upper.pattern_color
    if pattern_color is None and pattern is not Pattern.PURE_COLOR:
        pattern_color = _pick(rng, [c for c in ColorName if c is not color] + [contrast_color(color)] * 4)
    count, placement = _pick(rng, profile["buttons"])
    buttons = upper.buttons
    if (
        buttons is None
        or buttons.count is None
        or (buttons.count and buttons.placement is None)
        or (buttons.count and buttons.color is None)
    ):
        given = buttons or Buttons()
        if given.count is None:
            n = count if buttons is None or count else 5
        else:
            n = given.count
        buttons = Buttons(
            count=n,
            color=given.color or (_pick(rng, [contrast_color(color), color, ColorName.GOLD, ColorName.BLACK]) if n else None),
            placement=given.placement or ((placement or CF) if n else None),
        )
    pockets = upper.pockets
    if pockets is None or pockets.count is None or (pockets.count and (pockets.kind is None or pockets.placement is None)):
        given_pockets = pockets or Pockets()
        n = given_pockets.count if given_pockets.count is not None else (_pick(rng, profile["pockets"]) if pockets is None else 2)
        default_place = PocketPlacement.CHEST if kind in (UpperType.SHIRT, UpperType.T_SHIRT) else PocketPlacement.HIP
        pockets = Pockets(
            count=n,
            kind=given_pockets.kind or (_pick(rng, list(PocketKind)) if n else None),
            placement=given_pockets.placement or (default_place if n else None),
        )
    return UpperGarment(
        type=kind,
        sleeve=upper.sleeve or _pick(rng, profile["sleeve"]),
        neckline=upper.neckline or _pick(rng, profile["neck"]),
        color=color,
        fabric=upper.fabric or _pick(rng, profile["fabric"]),
        pattern=pattern,
        pattern_color=pattern_color,
        graphic_size=upper.graphic_size,
        collar_color=upper.collar_color,
        buttons=buttons,
        pockets=pockets,
        hem=upper.hem or _pick(rng, profile["hem"]),
        length=(upper.length or _pick(rng, list(LowerLength))) if kind is UpperType.DRESS else upper.length,
    )


def complete_lower(lower: LowerGarment, rng: random.Random) -> LowerGarment:
    kind = lower.type or _pick(rng, list(LowerType))
    profile = LOWER_PROFILES[kind]
    color = lower.color or _pick(rng, list(ColorName))
    pattern = lower.pattern or (_pattern(rng) if rng.random() < 0.5 else Pattern.PURE_COLOR)
    pattern_color = lower.pattern_color
    if pattern_color is None and pattern is not Pattern.PURE_COLOR:
        pattern_color = contrast_color(color)
    return LowerGarment(
        type=kind,
        length=lower.length or _pick(rng, profile["length"]),
        color=color,
        fabric=lower.fabric or _pick(rng, profile["fabric"]),
        pattern=pattern,
        pattern_color=pattern_color,
    )


def complete_attributes(partial: GarmentAttributes, seed: int, unrequested: Unrequested = "varied") -> GarmentAttributes:
    """Every field the flat needs, keeping what ``partial`` says; the same ``(partial, seed)`` gives the same result.

    Outfits with neither garment get an upper (and, unless it is a dress, a lower);
    a given upper alone stays alone ("a navy blazer" draws a blazer). A dress
    drops any lower garment. ``collar_color`` stays ``None`` (collar in the body
    colour) unless given. ``unrequested='plain'`` adds nothing a text did not ask for: no pattern, belt or
    pockets, buttons only where the type closes with them, and each type's most typical sleeve, neckline,
    fabric and hem (only the colour, when unsaid, still varies with the seed).
    """
    rng = random.Random(f"fashionedit.flats:{seed}")
    upper, lower = partial.upper, partial.lower
    if upper is None and lower is None:
        upper = UpperGarment()
        lower = LowerGarment()
    plain = unrequested == "plain"
    upper_done = (_plain_upper if plain else complete_upper)(upper, rng) if upper is not None else None
    if upper_done is not None and upper_done.type is UpperType.DRESS:
        lower = None
    lower_done = (_plain_lower if plain else complete_lower)(lower, rng) if lower is not None else None
    wearer = partial.wearer
    if wearer is None:
        if (upper_done and upper_done.type in WOMEN_ONLY) or (
            lower_done and lower_done.type in (LowerType.SKIRT, LowerType.LEGGINGS)
        ):
            wearer = Wearer.WOMAN
        else:
            wearer = _pick(rng, list(Wearer))
    belt = partial.belt
    if belt is None or (belt.present and belt.color is None):
        present = belt.present if belt is not None else (False if plain else rng.random() < 0.25)
        belt = Belt(
            present=present,
            color=_pick(rng, [ColorName.BROWN, ColorName.BLACK, ColorName.KHAKI, ColorName.GOLD]) if present else None,
        )
    return GarmentAttributes(wearer=wearer, upper=upper_done, lower=lower_done, belt=belt)
