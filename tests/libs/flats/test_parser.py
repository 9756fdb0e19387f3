"""Captions, prompts and edit instructions <-> GarmentAttributes."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
from fashionedit.flats import caption_from_attributes, complete_attributes, parse_caption, parse_instruction


def opt(strategy):
    return st.none() | strategy


buttons = st.builds(
    Buttons, count=opt(st.integers(0, 12)), color=opt(st.sampled_from(ColorName)), placement=opt(st.sampled_from(ButtonPlacement))
)
pockets = st.builds(
    Pockets, count=opt(st.integers(0, 4)), kind=opt(st.sampled_from(PocketKind)), placement=opt(st.sampled_from(PocketPlacement))
)


@st.composite
def uppers(draw):
    kind = draw(opt(st.sampled_from(UpperType)))
    return UpperGarment(
        type=kind,
        sleeve=draw(opt(st.sampled_from(SleeveLength))),
        neckline=draw(opt(st.sampled_from(Neckline))),
        color=draw(opt(st.sampled_from(ColorName))),
        fabric=draw(opt(st.sampled_from(Fabric))),
        pattern=draw(opt(st.sampled_from(Pattern))),
        pattern_color=draw(opt(st.sampled_from(ColorName))),
        collar_color=draw(opt(st.sampled_from(ColorName))),
        buttons=draw(opt(buttons)),
        pockets=draw(opt(pockets)),
        hem=draw(opt(st.sampled_from(HemStyle))),
        # the caption says a length only where it means something: a dress
        length=draw(opt(st.sampled_from(LowerLength))) if kind is UpperType.DRESS else None,
    )


lowers = st.builds(
    LowerGarment,
    type=opt(st.sampled_from(LowerType)),
    length=opt(st.sampled_from(LowerLength)),
    color=opt(st.sampled_from(ColorName)),
    fabric=opt(st.sampled_from(Fabric)),
    pattern=opt(st.sampled_from(Pattern)),
    pattern_color=opt(st.sampled_from(ColorName)),
)
outfits = st.builds(
    GarmentAttributes,
    wearer=opt(st.sampled_from(Wearer)),
    upper=opt(uppers()),
    lower=opt(lowers),
    belt=opt(st.builds(Belt, present=st.booleans(), color=opt(st.sampled_from(ColorName)))),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(outfits)
def test_caption_round_trip_any_attributes(attrs: GarmentAttributes) -> None:
    caption = caption_from_attributes(attrs)
    result = parse_caption(caption)
    assert result.unknown_words == [], caption
    assert result.attributes == attrs, caption


def _one_field_outfits():
    """Every value of every attribute, each in an otherwise small outfit."""
    base_upper = UpperGarment(type=UpperType.SHIRT)
    out = []
    for field, enum in [
        ("type", UpperType),
        ("sleeve", SleeveLength),
        ("neckline", Neckline),
        ("color", ColorName),
        ("fabric", Fabric),
        ("pattern", Pattern),
        ("pattern_color", ColorName),
        ("collar_color", ColorName),
        ("hem", HemStyle),
    ]:
        out += [GarmentAttributes(upper=base_upper.model_copy(update={field: v})) for v in enum]
    out += [GarmentAttributes(upper=UpperGarment(type=UpperType.DRESS, length=v)) for v in LowerLength]
    out += [
        GarmentAttributes(upper=base_upper.model_copy(update={"buttons": Buttons(count=n, color=ColorName.GOLD, placement=p)}))
        for n in range(13)
        for p in ButtonPlacement
    ]
    out += [
        GarmentAttributes(upper=base_upper.model_copy(update={"pockets": Pockets(count=n, kind=k, placement=p)}))
        for n in range(5)
        for k in PocketKind
        for p in PocketPlacement
    ]
    for field, enum in [
        ("type", LowerType),
        ("length", LowerLength),
        ("color", ColorName),
        ("fabric", Fabric),
        ("pattern", Pattern),
        ("pattern_color", ColorName),
    ]:
        out += [GarmentAttributes(lower=LowerGarment(type=LowerType.SKIRT).model_copy(update={field: v})) for v in enum]
    out += [GarmentAttributes(wearer=w, belt=Belt(color=c)) for w in Wearer for c in ColorName]
    return out


@pytest.mark.parametrize("attrs", _one_field_outfits(), ids=lambda a: a.model_dump_json(exclude_none=True)[:80])
def test_round_trip_every_value(attrs: GarmentAttributes) -> None:
    result = parse_caption(caption_from_attributes(attrs))
    assert result.unknown_words == []
    assert result.attributes == attrs


def test_completed_outfits_round_trip() -> None:
    for seed in range(50):
        attrs = complete_attributes(GarmentAttributes(), seed)
        assert parse_caption(caption_from_attributes(attrs)).attributes == attrs


# Written for this project in the dataset's template style (never copied from the dataset).
DEEPFASHION_STYLE = [
    (
        "This gentleman is wearing a medium-sleeve shirt with pure color patterns. The shirt is with cotton fabric and its "
        "neckline "
        "is lapel. The gentleman wears long trousers. The trousers are with denim fabric and pure color patterns.",
        {
            "wearer": "man",
            "upper": {"type": "shirt", "sleeve": "medium", "neckline": "lapel", "fabric": "cotton", "pattern": "pure color"},
            "lower": {"type": "trousers", "length": "long", "fabric": "denim", "pattern": "pure color"},
        },
    ),
    (
        "The lady wears a short-sleeve T-shirt with graphic patterns. The T-shirt is with cotton fabric. It has a round "
        "neckline. "
        "The lady wears three-point shorts. The shorts are with denim fabric and pure color patterns. There is an accessory on "
        "her wrist.",
        {
            "wearer": "woman",
            "upper": {"type": "t-shirt", "sleeve": "short", "neckline": "round", "fabric": "cotton", "pattern": "graphic"},
            "lower": {"type": "shorts", "length": "three-point", "fabric": "denim", "pattern": "pure color"},
        },
    ),
    (
        "The upper clothing has long sleeves, chiffon fabric and floral patterns. The neckline of it is V-shape. The lower "
        "clothing "
        "is of three-quarter length. The fabric is cotton and it has striped patterns. There is a ring on her finger.",
        {
            "wearer": "woman",
            "upper": {"sleeve": "long", "neckline": "v-shape", "fabric": "chiffon", "pattern": "floral"},
            "lower": {"length": "three-quarter", "fabric": "cotton", "pattern": "striped"},
        },
    ),
    (
        "This person is wearing a sleeveless tank top with pure color patterns. The tank top is with knitted fabric and its "
        "neckline "
        "is suspenders. This person wears a medium-short skirt. The skirt is with leather fabric and pure color patterns. "
        "This person wears a hat and sunglasses.",
        {
            "upper": {
                "type": "tank top",
                "sleeve": "sleeveless",
                "neckline": "suspenders",
                "fabric": "knitted",
                "pattern": "pure color",
            },
            "lower": {"type": "skirt", "length": "medium-short", "fabric": "leather", "pattern": "pure color"},
        },
    ),
    (
        "This woman is wearing a long-sleeve sweater with lattice patterns. The sweater is with furry fabric. It has a stand "
        "neckline. "
        "The pants this woman wears is of long length. The pants are with cotton fabric and pure color patterns. There is a belt "
        "in her waist.",
        {
            "wearer": "woman",
            "upper": {"type": "sweater", "sleeve": "long", "neckline": "stand", "fabric": "furry", "pattern": "lattice"},
            "lower": {"type": "trousers", "length": "long", "fabric": "cotton", "pattern": "pure color"},
            "belt": {"present": True},
        },
    ),
    (
        "The gentleman is wearing a long-sleeve jacket with color block patterns. The jacket is with leather fabric and it has a "
        "square neckline. He wears socks and glasses.",
        {
            "wearer": "man",
            "upper": {"type": "jacket", "sleeve": "long", "neckline": "square", "fabric": "leather", "pattern": "color block"},
        },
    ),
]


@pytest.mark.parametrize("caption,expected", DEEPFASHION_STYLE)
def test_deepfashion_style_captions_parse_without_unknown_words(caption: str, expected: dict) -> None:
    result = parse_caption(caption)
    assert result.unknown_words == []
    assert result.attributes == GarmentAttributes.model_validate(expected)


def test_accessories_are_reported_as_ignored_not_dropped() -> None:
    result = parse_caption("The lady wears a dress. There is an accessory on her wrist and a ring on her finger.")
    assert result.unknown_words == []
    assert {"accessory", "wrist", "ring", "finger"} <= set(result.ignored_words)


def test_loose_prompt_keeps_what_it_understands_and_reports_the_rest() -> None:
    result = parse_caption("a navy linen blazer with four gold buttons, very zhuzhy and fabulous")
    upper = result.attributes.upper
    assert (upper.type, upper.color, upper.fabric) == (UpperType.BLAZER, ColorName.NAVY, Fabric.LINEN)
    assert upper.buttons == Buttons(count=4, color=ColorName.GOLD)
    assert result.unknown_words == ["zhuzhy", "fabulous"]


CURRENT = GarmentAttributes(
    wearer=Wearer.MAN,
    upper=UpperGarment(
        type=UpperType.SHIRT,
        sleeve=SleeveLength.SHORT,
        neckline=Neckline.LAPEL,
        color=ColorName.WHITE,
        fabric=Fabric.COTTON,
        pattern=Pattern.PURE_COLOR,
        buttons=Buttons(count=0),
        pockets=Pockets(count=1, kind=PocketKind.PATCH, placement=PocketPlacement.CHEST),
        hem=HemStyle.CURVED,
    ),
    lower=LowerGarment(type=LowerType.TROUSERS, length=LowerLength.LONG, color=ColorName.KHAKI, fabric=Fabric.COTTON),
    belt=Belt(present=False),
)


@pytest.mark.parametrize(
    "instruction,expected",
    [
        ("change the sleeves to long", {("upper.sleeve", "sleeves"): "long"}),
        ("make the jacket navy", {("upper.color", "upper"): "navy"}),
        (
            "add four white buttons down the front",
            {
                ("upper.buttons.count", "buttons"): 4,
                ("upper.buttons.color", "buttons"): "white",
                ("upper.buttons.placement", "buttons"): "center front",
            },
        ),
        (
            "remove the pockets",
            {
                ("upper.pockets.count", "pockets"): 0,
                ("upper.pockets.kind", "pockets"): None,
                ("upper.pockets.placement", "pockets"): None,
            },
        ),
        ("add a brown belt", {("belt.present", "belt"): True, ("belt.color", "belt"): "brown"}),
        ("make the trousers shorter", {("lower.length", "lower"): "three-quarter"}),
        ("change the neckline to a V-neck", {("upper.neckline", "neckline"): "v-shape"}),
        (
            "make it navy with white stripes",
            {("upper.color", "upper"): "navy", ("upper.pattern", "upper"): "striped", ("upper.pattern_color", "upper"): "white"},
        ),
        ("turn the shirt into a blazer", {("upper.type", "upper"): "blazer"}),
        ("change the trousers to black denim", {("lower.color", "lower"): "black", ("lower.fabric", "lower"): "denim"}),
        ("give it a black collar", {("upper.collar_color", "collar"): "black"}),
        ("make it sleeveless", {("upper.sleeve", "sleeves"): "sleeveless"}),
    ],
)
def test_instructions(instruction: str, expected: dict) -> None:
    result = parse_instruction(instruction, CURRENT)
    assert result.unknown_words == []
    assert {(c.field, c.part): c.new for c in result.changes} == expected
    for change in result.changes:
        assert change.old != change.new


def test_unparseable_instruction_reports_words_and_changes_nothing() -> None:
    result = parse_instruction("florp the wibble gently", CURRENT)
    assert result.changes == []
    assert result.attributes == CURRENT
    assert result.unknown_words == ["florp", "wibble", "gently"]
    assert parse_instruction("", CURRENT).changes == []


def test_complete_attributes_is_seeded_and_keeps_what_was_said() -> None:
    partial = parse_caption("a navy linen blazer with four gold buttons").attributes
    first, again, other = (complete_attributes(partial, s) for s in (1, 1, 2))
    assert first == again
    assert len({complete_attributes(partial, s).model_dump_json() for s in range(6)}) > 1
    for done in (first, other):
        assert (done.upper.type, done.upper.color, done.upper.fabric) == (UpperType.BLAZER, ColorName.NAVY, Fabric.LINEN)
        assert (done.upper.buttons.count, done.upper.buttons.color) == (4, ColorName.GOLD)
        assert done.upper.sleeve is not None and done.upper.neckline is not None and done.belt is not None
