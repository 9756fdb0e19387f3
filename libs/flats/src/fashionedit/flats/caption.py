"""Attributes -> a DeepFashion-MultiModal-style caption, and the analyzer-style description of one difference.

The template follows the dataset's templated captions ("This gentleman is
wearing a medium-sleeve shirt with pure color patterns. The shirt is with
cotton fabric and its neckline is lapel.") and extends them with colours and
construction details. Every value is written with a word the parser reads back,
and fields that are ``None`` are not mentioned, so ``parse_caption`` of a
caption gives back the attributes it was written from.
"""

from __future__ import annotations

from fashionedit.contracts.garment import (
    Belt,
    ButtonPlacement,
    Buttons,
    GarmentAttributes,
    GraphicSize,
    LowerGarment,
    LowerType,
    PocketPlacement,
    Pockets,
    SleeveLength,
    UpperGarment,
    Wearer,
)

from .vocabulary import COLOR_DISPLAY, COUNT_WORD

WHO = {Wearer.MAN: "gentleman", Wearer.WOMAN: "lady", None: "person"}
BUTTON_PLACEMENT_PHRASE = {
    ButtonPlacement.CENTER_FRONT: "down the front",
    ButtonPlacement.DOUBLE_BREASTED: "in two rows",
    ButtonPlacement.HALF_PLACKET: "on a half placket",
}
POCKET_PLACEMENT_PHRASE = {PocketPlacement.CHEST: "on the chest", PocketPlacement.HIP: "at the hips"}
PLURAL_LOWER = {LowerType.TROUSERS, LowerType.SHORTS, LowerType.LEGGINGS, None}


def _article(next_word: str) -> str:
    return "an" if next_word[:1].lower() in "aeio" else "a"


def _join(*words: str | None) -> str:
    return " ".join(w for w in words if w)


def upper_noun(upper: UpperGarment) -> str:
    return upper.type.value if upper.type else "top"


def lower_noun(lower: LowerGarment) -> str:
    return lower.type.value if lower.type else "bottoms"


def _sleeve_phrase(sleeve: SleeveLength | None) -> str | None:
    if sleeve is None:
        return None
    return "sleeveless" if sleeve is SleeveLength.SLEEVELESS else f"{sleeve.value}-sleeve"


def _pattern_phrase(pattern, pattern_color) -> str:
    if pattern is None and pattern_color is None:
        return ""
    text = f" with {pattern.value} patterns" if pattern is not None else " with patterns"
    if pattern_color is not None:
        text += f" in {pattern_color.value}"
    return text


def buttons_phrase(buttons: Buttons) -> str:
    """'four white buttons down the front', 'no buttons', 'one button'."""
    if buttons.count == 0:
        return "no buttons"
    noun = "button" if buttons.count == 1 else "buttons"
    count = COUNT_WORD[buttons.count] if buttons.count is not None else None
    placement = BUTTON_PLACEMENT_PHRASE[buttons.placement] if buttons.placement else None
    return _join(count, buttons.color.value if buttons.color else None, noun, placement)


def pockets_phrase(pockets: Pockets) -> str:
    if pockets.count == 0:
        return "no pockets"
    noun = "pocket" if pockets.count == 1 else "pockets"
    count = COUNT_WORD[pockets.count] if pockets.count is not None else None
    placement = POCKET_PLACEMENT_PHRASE[pockets.placement] if pockets.placement else None
    return _join(count, pockets.kind.value if pockets.kind else None, noun, placement)


def _upper_sentences(upper: UpperGarment, who: str) -> list[str]:
    noun = upper_noun(upper)
    described = _join(_sleeve_phrase(upper.sleeve), upper.color.value if upper.color else None, noun)
    out = [f"This {who} is wearing {_article(described)} {described}{_pattern_phrase(upper.pattern, upper.pattern_color)}."]
    if upper.fabric and upper.neckline:
        out.append(f"The {noun} is with {upper.fabric.value} fabric and its neckline is {upper.neckline.value}.")
    elif upper.fabric:
        out.append(f"The {noun} is with {upper.fabric.value} fabric.")
    elif upper.neckline:
        out.append(f"The neckline of the {noun} is {upper.neckline.value}.")
    if upper.graphic_size is GraphicSize.SMALL:
        out.append("It has a small graphic print on the chest.")
    elif upper.graphic_size is GraphicSize.LARGE:
        out.append("It has a large graphic print.")
    if upper.length is not None:
        out.append(f"The {noun} is {upper.length.value} in length.")
    if upper.collar_color is not None:
        out.append(f"It has a {upper.collar_color.value} collar.")
    if upper.buttons is not None:
        out.append(f"The {noun} has {buttons_phrase(upper.buttons)}.")
    if upper.pockets is not None:
        out.append(f"It has {pockets_phrase(upper.pockets)}.")
    if upper.hem is not None:
        out.append(f"It has a {upper.hem.value} hem.")
    return out


def _lower_sentences(lower: LowerGarment, who: str, first: bool) -> list[str]:
    noun = lower_noun(lower)
    plural = lower.type in PLURAL_LOWER
    described = _join(lower.length.value if lower.length else None, lower.color.value if lower.color else None, noun)
    if not plural:
        described = f"{_article(described)} {described}"
    opener = f"This {who} wears" if first else f"The {who} wears"
    out = [f"{opener} {described}{_pattern_phrase(lower.pattern, lower.pattern_color)}."]
    if lower.fabric is not None:
        out.append(f"The {noun} {'are' if plural else 'is'} with {lower.fabric.value} fabric.")
    return out


def _belt_sentence(belt: Belt) -> str:
    if not belt.present:
        return "There is no belt."
    return f"There is {_join('a', belt.color.value if belt.color else None, 'belt')} around the waist."


def caption_from_attributes(attrs: GarmentAttributes) -> str:
    """A caption in the DeepFashion-MultiModal template style that :func:`parse_caption` reads back exactly."""
    who = WHO[attrs.wearer]
    sentences: list[str] = []
    if attrs.upper is not None:
        sentences += _upper_sentences(attrs.upper, who)
    if attrs.lower is not None:
        sentences += _lower_sentences(attrs.lower, who, first=attrs.upper is None)
    if not sentences:
        sentences.append(f"This {who} is wearing an outfit.")
    if attrs.belt is not None:
        sentences.append(_belt_sentence(attrs.belt))
    return " ".join(sentences)


# -- one difference, from the original's point of view (as the paper's analyzer writes it) -------------
def describe_field(attrs: GarmentAttributes, field: str) -> str:
    """How the original (``attrs``) looks in respect of ``field``: 'The shirt is navy blue.'"""
    piece_name, _, rest = field.partition(".")
    if piece_name == "belt":
        return _belt_sentence(attrs.belt) if attrs.belt is not None else "There is no belt."
    if piece_name == "lower":
        lower = attrs.lower
        if lower is None:
            return "There is no lower garment."
        noun = lower_noun(lower)
        verb = "are" if lower.type in PLURAL_LOWER else "is"
        if rest == "color" and lower.color:
            return f"The {noun} {verb} {COLOR_DISPLAY[lower.color]}."
        if rest == "pattern" and lower.pattern:
            return f"The {noun} {'have' if verb == 'are' else 'has'} {lower.pattern.value} patterns."
        if rest == "length" and lower.length:
            return f"The {noun} {verb} {lower.length.value} in length."
        if rest == "fabric" and lower.fabric:
            return f"The {noun} {verb} made of {lower.fabric.value}."
        return f"The {noun} {verb} different."
    upper = attrs.upper
    if upper is None:
        return "There is no upper garment."
    noun = upper_noun(upper)
    head = rest.split(".")[0]
    if head == "color" and upper.color:
        return f"The {noun} is {COLOR_DISPLAY[upper.color]}."
    if head == "sleeve" and upper.sleeve:
        if upper.sleeve is SleeveLength.SLEEVELESS:
            return f"The {noun} is sleeveless."
        return f"The {noun} has {upper.sleeve.value} sleeves."
    if head == "neckline" and upper.neckline:
        neck = "V-shape" if upper.neckline.value == "v-shape" else upper.neckline.value
        return f"The {noun} has a {neck} neckline."
    if head == "pattern" and upper.pattern:
        if upper.pattern.value == "pure color":
            return f"The {noun} is a pure color without patterns."
        return f"The {noun} has {upper.pattern.value} patterns."
    if head == "buttons":
        buttons = upper.buttons or Buttons(count=0)
        return f"The {noun} has {buttons_phrase(buttons)}."
    if head == "pockets":
        pockets = upper.pockets or Pockets(count=0)
        return f"The {noun} has {pockets_phrase(pockets)}."
    if head == "fabric" and upper.fabric:
        return f"The {noun} is made of {upper.fabric.value}."
    if head == "hem" and upper.hem:
        return f"The {noun} has a {upper.hem.value} hem."
    if head == "collar_color" and upper.collar_color:
        return f"The {noun} has a {COLOR_DISPLAY[upper.collar_color]} collar."
    if head == "type" and upper.type:
        return f"The garment is {_article(noun)} {noun}."
    return f"The {noun} is different."


__all__ = ["caption_from_attributes", "describe_field", "buttons_phrase", "pockets_phrase", "upper_noun", "lower_noun"]
