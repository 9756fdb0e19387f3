"""Text -> garment attributes: DeepFashion-style captions, loose customer prompts and edit instructions.

Text is read as phrases (longest match from :mod:`.vocabulary`). Adjectives wait
in a queue until the garment noun they describe ("a long-sleeve navy *shirt*")
or, failing one, the end of the sentence, when they go to the garment last
talked about. Details take the words right before their noun ("four white
*buttons*"). Words in no table are reported in ``unknown_words``; nothing is
silently dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from fashionedit.contracts.garment import (
    Belt,
    Buttons,
    GarmentAttributes,
    GraphicSize,
    LowerGarment,
    LowerLength,
    Neckline,
    Pattern,
    PocketPlacement,
    Pockets,
    SleeveLength,
    UpperGarment,
    UpperType,
    Wearer,
)

from .vocabulary import MAX_PHRASE_WORDS, PHRASES, REMOVE_WORDS, Tag


class ParseResult(BaseModel):
    attributes: GarmentAttributes
    unknown_words: list[str] = Field(default_factory=list, description="Words no table knows, in text order, repeats removed")
    ignored_words: list[str] = Field(
        default_factory=list, description="Known words for things a flat does not draw (accessories: 'ring', 'hat', 'wrist')"
    )
    notes: list[str] = Field(
        default_factory=list, description="Words drawn as the nearest thing a flat has ('hoodie' as a sweater)"
    )


class AttributeChange(BaseModel):
    field: str = Field(description="Dotted path in GarmentAttributes, e.g. 'upper.sleeve' or 'upper.buttons.count'")
    old: Any = None
    new: Any = None
    part: str = Field(description="The garment part the change lands on; a key of part_boxes(), e.g. 'sleeves', 'buttons'")


class InstructionResult(BaseModel):
    attributes: GarmentAttributes = Field(description="The current attributes with the instruction applied")
    changes: list[AttributeChange] = Field(default_factory=list)
    unknown_words: list[str] = Field(default_factory=list)
    notes: list[str] = Field(
        default_factory=list, description="How the instruction was read where it asked for what the flat cannot show as said"
    )

    @property
    def understood(self) -> bool:
        return bool(self.changes)


# -- tokens and phrases ------------------------------------------------------------------------
@dataclass
class Phrase:
    index: int
    words: tuple[str, ...]
    tags: list[Tag]

    def kinds(self) -> set[str]:
        return {t.kind for t in self.tags}

    def tag(self, kind: str) -> Tag | None:
        return next((t for t in self.tags if t.kind == kind), None)

    def value(self, kind: str) -> Any:
        """The value of this phrase's tag of ``kind``; None when it has no such tag."""
        tag = self.tag(kind)
        return None if tag is None else tag.value

    @property
    def text(self) -> str:
        return " ".join(self.words)


_SENTENCE_SPLIT = re.compile(r"[.;!?\n]+")
_WORD = re.compile(r"[a-z]+|\d+")
_PLURAL_PATTERN_NOUNS = {
    ("stripes",),
    ("flowers",),
    ("florals",),
    ("checks",),
    ("graphics",),
    ("print",),
    ("prints",),
    ("logo",),
    ("logos",),
    ("embroidery",),
    ("motif",),
    ("motifs",),
}
#: Pattern words that name a print, which can be small (a chest logo) or large (a centre print).
_GRAPHIC_NOUNS = {
    ("print",),
    ("prints",),
    ("logo",),
    ("logos",),
    ("embroidery",),
    ("motif",),
    ("motifs",),
    ("graphic",),
    ("graphics",),
}


def _normalise(text: str) -> str:
    text = text.lower().replace("\u2019", "'").replace("colour", "color")
    text = re.sub(r"'s\b", "", text)
    return text.replace("-", " ").replace("_", " ")


def segment(text: str) -> tuple[list[list[Phrase]], list[str]]:
    """Sentences of phrases, and the words no table knows (in order, repeats removed)."""
    sentences: list[list[Phrase]] = []
    unknown: list[str] = []
    for raw in _SENTENCE_SPLIT.split(_normalise(text)):
        words = _WORD.findall(raw)
        phrases: list[Phrase] = []
        i = 0
        while i < len(words):
            for n in range(min(MAX_PHRASE_WORDS, len(words) - i), 0, -1):
                key = tuple(words[i : i + n])
                if key in PHRASES:
                    phrases.append(Phrase(len(phrases), key, list(PHRASES[key])))
                    i += n
                    break
            else:
                word = words[i]
                if word.isdigit() and int(word) <= 12:
                    phrases.append(Phrase(len(phrases), (word,), [Tag("number", int(word))]))
                else:
                    phrases.append(Phrase(len(phrases), (word,), []))
                    if word not in unknown:
                        unknown.append(word)
                i += 1
        if phrases:
            sentences.append(phrases)
    return sentences, unknown


# -- building attributes from phrases -------------------------------------------------------------
_VALUE_KINDS = (
    "graphic_size",
    "pattern_color",
    "color",
    "fabric",
    "pattern",
    "neckline",
    "sleeve",
    "length",
    "hem",
    "button_place",
    "pocket_kind",
    "pocket_place",
)
_DETAIL_RUN_KINDS = {
    "buttons": {"number", "color", "button_place", "remove"},
    "pockets": {"number", "pocket_kind", "pocket_place", "remove"},
    "belt": {"number", "color", "remove"},
    "collar": {"number", "color"},
}


@dataclass
class _Builder:
    """Accumulates attribute values from phrases. ``focus`` is the part an instruction is about."""

    default_piece: str = "upper"
    focus: str | None = None
    wearer: Wearer | None = None
    wearer_said: bool = False
    upper: dict | None = None
    lower: dict | None = None
    belt: dict | None = None
    current: str | None = None
    unused: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def piece(self, name: str) -> dict:
        if name == "upper":
            if self.upper is None:
                self.upper = {}
            return self.upper
        if self.lower is None:
            self.lower = {}
        return self.lower

    def detail(self, name: str) -> dict:
        if name == "belt":
            if self.belt is None:
                self.belt = {}
            return self.belt
        return self.piece("upper").setdefault(name, {})

    # one sentence ------------------------------------------------------------------------------
    def sentence(self, phrases: list[Phrase], skip_types: bool = False) -> None:
        pending: list[Phrase] = []
        mentions_sleeves = any(p.value("noun") == "sleeves" for p in phrases)
        mentions_pockets = any(p.value("noun") == "pockets" for p in phrases)
        said_pattern = False
        last_graphic: int | None = None
        for k, phrase in enumerate(phrases):
            kinds = phrase.kinds()
            if not kinds or kinds <= {"function", "accessory"}:
                continue
            if "wearer" in kinds:
                if not self.wearer_said:
                    self.wearer, self.wearer_said = phrase.value("wearer"), True
                continue
            if "upper_type" in kinds or "lower_type" in kinds:
                name = "upper" if "upper_type" in kinds else "lower"
                value = phrase.tags[0].value
                piece = self.piece(name)
                outer = any(p.words in (("outer", "clothing"), ("outerwear",)) for p in phrases)
                if value is not None and not skip_types and outer and piece.get("type") not in (None, value):
                    # DeepFashion's separate outer layer ("a cardigan as outer clothing"): one upper garment is drawn
                    note = f"an outer {value.value} over the {piece['type'].value} is not drawn (a flat draws one upper garment)"
                    if note not in self.notes:
                        self.notes.append(note)
                    self._flush(pending, name, mentions_sleeves)
                    continue
                if value is not None and not skip_types:
                    piece["type"] = value
                self._flush(pending, name, mentions_sleeves)
                self.current = name
                continue
            noun = phrase.tag("noun")
            if noun is not None:
                if noun.value in _DETAIL_RUN_KINDS:
                    self._detail_run(noun.value, phrase, pending)
                elif noun.value == "pattern":
                    said_pattern = True
                    # "white striped patterns": the colour is the pattern's
                    if k >= 2 and pending[-2:] and _is(pending, k - 1, "pattern") and _is(pending, k - 2, "color"):
                        _retag(pending, k - 2, Tag("pattern_color", pending[-2].value("color")))
                continue
            if "color" in kinds and k > 0 and phrases[k - 1].words == ("in",) and said_pattern:
                pending.append(Phrase(k, phrase.words, [Tag("pattern_color", phrase.value("color"))]))
                continue
            if "pocket_place" in kinds and last_graphic is not None and k - last_graphic <= 3 and not mentions_pockets:
                # "a small logo on the chest": where the print goes, not a pocket
                if phrase.value("pocket_place") is PocketPlacement.CHEST and not _is(pending, last_graphic, "graphic_size"):
                    pending.append(Phrase(k, phrase.words, [Tag("graphic_size", GraphicSize.SMALL)]))
                continue
            if (
                "pattern" in kinds
                and phrase.words in (("print",), ("prints",))
                and k > 0
                and phrases[k - 1].tag("pattern") is not None
            ):
                # "floral print": the noun of the pattern just named; "a blue graphic print": blue is the print's
                if phrases[k - 1].value("pattern") is Pattern.GRAPHIC and _is(pending, k - 2, "color"):
                    _retag(pending, k - 2, Tag("pattern_color", next(p for p in pending if p.index == k - 2).value("color")))
                continue
            if "pattern" in kinds:
                said_pattern = True
                if phrase.words in _PLURAL_PATTERN_NOUNS and _is(pending, k - 1, "color"):
                    _retag(pending, k - 1, Tag("pattern_color", pending[-1].value("color")))
                if phrase.words in _GRAPHIC_NOUNS:
                    last_graphic = k
                    for back in (k - 1, k - 2):
                        size = next((p for p in pending if p.index == back and p.tag("size") is not None), None)
                        if size is not None:
                            value = GraphicSize.SMALL if size.value("size") == "small" else GraphicSize.LARGE
                            _retag(pending, back, Tag("graphic_size", value))
                            break
            if kinds & {"shorter", "longer", "to", "add", "remove"} and not kinds & (set(_VALUE_KINDS) | {"number"}):
                continue
            pending.append(phrase)
        target = self.current or self.default_piece
        self._flush(pending, target, mentions_sleeves)

    def _detail_run(self, name: str, noun: Phrase, pending: list[Phrase]) -> None:
        """Take the words right before a detail noun: 'four white buttons', 'no pockets', 'a brown belt'."""
        run: list[Phrase] = []
        index = noun.index - 1
        allowed = _DETAIL_RUN_KINDS[name]
        while pending and pending[-1].index == index and pending[-1].kinds() & allowed:
            run.insert(0, pending.pop())
            index -= 1
        detail = self.detail(name if name != "collar" else "collar")
        plural = noun.words[-1].endswith("s")
        for phrase in run:
            kinds = phrase.kinds()
            number = phrase.tag("number")
            if name == "collar":
                if "color" in kinds:
                    self.piece("upper")["collar_color"] = phrase.value("color")
                continue
            if number is not None:
                if number.value == 0 or "remove" in kinds:
                    detail["count" if name != "belt" else "present"] = 0 if name != "belt" else False
                elif name != "belt" and not (number.value == 1 and plural and phrase.words in (("a",), ("an",))):
                    detail["count"] = number.value
                continue
            if "color" in kinds and name in ("buttons", "belt"):
                detail["color"] = phrase.value("color")
            elif "button_place" in kinds and name == "buttons":
                detail["placement"] = phrase.value("button_place")
            elif "pocket_kind" in kinds and name == "pockets":
                detail["kind"] = phrase.value("pocket_kind")
            elif "pocket_place" in kinds and name == "pockets":
                detail["placement"] = phrase.value("pocket_place")
        if name == "collar" and "collar" in self.piece("upper") and not self.piece("upper")["collar"]:
            del self.piece("upper")["collar"]
        if name == "belt":
            detail.setdefault("present", True)

    def _flush(self, pending: list[Phrase], piece_name: str, mentions_sleeves: bool) -> None:
        for phrase in pending:
            self._assign(phrase, piece_name, mentions_sleeves)
        pending.clear()

    def _assign(self, phrase: Phrase, piece_name: str, mentions_sleeves: bool) -> None:
        tag = next((phrase.tag(kind) for kind in _VALUE_KINDS if phrase.tag(kind) is not None), None)
        focus = self.focus
        if tag is None:
            number = phrase.tag("number")
            if number is not None and focus in ("buttons", "pockets") and phrase.words not in (("a",), ("an",)):
                self.detail(focus)["count"] = number.value
            return
        kind, value = tag.kind, tag.value
        if kind == "color" and focus in ("buttons", "belt"):
            self.detail(focus)["color"] = value
        elif kind == "color" and focus == "collar":
            self.piece("upper")["collar_color"] = value
        elif kind == "color" and focus == "pattern":
            self.piece(piece_name)["pattern_color"] = value
        elif kind in ("color", "fabric", "pattern", "pattern_color"):
            self.piece(piece_name)[kind] = value
        elif kind == "graphic_size":
            self.piece("upper")["graphic_size"] = value
        elif kind in ("neckline", "sleeve", "hem"):
            self.piece("upper")[kind] = value
        elif kind == "length":
            sleeve, lower_length = value
            is_dress = self.upper is not None and self.upper.get("type") is UpperType.DRESS
            if (mentions_sleeves or focus == "sleeves") and sleeve is not None:
                self.piece("upper")["sleeve"] = sleeve
            elif piece_name == "lower" and lower_length is not None:
                self.piece("lower")["length"] = lower_length
            elif piece_name == "upper" and (is_dress or focus == "length") and lower_length is not None:
                self.piece("upper")["length"] = lower_length
            else:
                self.unused.append(phrase.text)
        elif kind == "button_place":
            self.detail("buttons")["placement"] = value
        elif kind == "pocket_kind":
            self.detail("pockets")["kind"] = value
        elif kind == "pocket_place":
            self.detail("pockets")["placement"] = value

    def attributes(self) -> GarmentAttributes:
        upper = None
        if self.upper is not None:
            data = dict(self.upper)
            data.pop("collar", None)
            if "buttons" in data:
                data["buttons"] = Buttons(**data["buttons"])
            if "pockets" in data:
                data["pockets"] = Pockets(**data["pockets"])
            upper = UpperGarment(**data)
        lower = LowerGarment(**self.lower) if self.lower is not None else None
        belt = Belt(**self.belt) if self.belt is not None else None
        return GarmentAttributes(wearer=self.wearer, upper=upper, lower=lower, belt=belt)


def _is(pending: list[Phrase], index: int, kind: str) -> bool:
    return any(p.index == index and p.tag(kind) is not None for p in pending)


def _retag(pending: list[Phrase], index: int, tag: Tag) -> None:
    for i, phrase in enumerate(pending):
        if phrase.index == index:
            pending[i] = Phrase(phrase.index, phrase.words, [tag])


def _unknown_plus_unused(unknown: list[str], unused: list[str]) -> list[str]:
    out = list(unknown)
    for word in unused:
        if word not in out:
            out.append(word)
    return out


def parse_caption(text: str) -> ParseResult:
    """A caption or a loose prompt -> attributes (only what the text says; the rest stays ``None``).

    Words the tables do not know, and known words that describe nothing here
    (e.g. a length on a shirt), are listed in ``unknown_words``.
    """
    sentences, unknown = segment(text)
    builder = _Builder()
    ignored: list[str] = []
    notes = builder.notes
    for phrases in sentences:
        builder.sentence(phrases)
        ignored += [p.text for p in phrases if p.tag("accessory") is not None and p.text not in ignored]
        notes += [p.value("approx") for p in phrases if p.tag("approx") is not None and p.value("approx") not in notes]
    return ParseResult(
        attributes=builder.attributes(),
        unknown_words=_unknown_plus_unused(unknown, builder.unused),
        ignored_words=ignored,
        notes=notes,
    )


# -- edit instructions -------------------------------------------------------------------------
_SLEEVE_ORDER = [SleeveLength.SLEEVELESS, SleeveLength.SHORT, SleeveLength.MEDIUM, SleeveLength.LONG]
_LENGTH_ORDER = [LowerLength.THREE_POINT, LowerLength.MEDIUM_SHORT, LowerLength.THREE_QUARTER, LowerLength.LONG]
_PART_NOUNS = {"buttons", "pockets", "belt", "collar", "sleeves", "neckline", "hem", "pattern", "length", "fabric"}
_UPPER_PARTS = {"buttons", "pockets", "collar", "sleeves", "neckline", "hem"}
_VALUE_OR_TYPE = set(_VALUE_KINDS) | {"upper_type", "lower_type", "number", "noun"}
DEFAULT_ADDED_BUTTONS = 5
DEFAULT_ADDED_POCKETS = 2


def part_for_field(field_path: str) -> str:
    """Which part of the flat a field lives on (a key of :func:`fashionedit.flats.part_boxes`)."""
    parts = field_path.split(".")
    head = parts[0]
    if head in ("lower", "belt"):
        return head
    if head == "wearer":
        return "garment"
    if len(parts) == 1:
        return "upper"
    return {
        "sleeve": "sleeves",
        "neckline": "neckline",
        "collar_color": "collar",
        "buttons": "buttons",
        "pockets": "pockets",
        "hem": "hem",
        "length": "skirt",
    }.get(parts[1], "upper")


def diff_attributes(old: GarmentAttributes, new: GarmentAttributes) -> list[AttributeChange]:
    """Leaf-level differences, with the part each lands on."""
    changes: list[AttributeChange] = []

    def walk(a: Any, b: Any, path: str) -> None:
        if isinstance(a, dict) and isinstance(b, dict):
            for key in a.keys() | b.keys():
                walk(a.get(key), b.get(key), f"{path}.{key}" if path else key)
        elif a != b:
            changes.append(AttributeChange(field=path, old=a, new=b, part=part_for_field(path)))

    walk(old.model_dump(mode="json"), new.model_dump(mode="json"), "")
    return sorted(changes, key=lambda c: c.field)


def _split_at_to(phrases: list[Phrase]) -> int | None:
    """Index of the last 'to'/'into' that has a value after it ("change the sleeves to long")."""
    for phrase in reversed(phrases):
        if phrase.tag("to") is not None and any(p.kinds() & _VALUE_OR_TYPE for p in phrases[phrase.index + 1 :]):
            return phrase.index
    return None


def _merge(current: GarmentAttributes, patch: GarmentAttributes, adding: bool) -> GarmentAttributes:
    data = current.model_dump()
    said = patch.model_dump(exclude_none=True)
    if "wearer" in said:
        data["wearer"] = said["wearer"]
    for piece in ("upper", "lower", "belt"):
        if piece not in said:
            continue
        target = data.get(piece) or {}
        for key, value in said[piece].items():
            if isinstance(value, dict):
                merged = dict(target.get(key) or {})
                merged.update(value)
                if key in ("buttons", "pockets") and "count" not in value and not merged.get("count"):
                    # "add white buttons": some buttons, where there were none
                    merged["count"] = DEFAULT_ADDED_BUTTONS if key == "buttons" else DEFAULT_ADDED_POCKETS
                target[key] = merged
            else:
                target[key] = value
        if piece == "belt" and adding and "present" not in said[piece]:
            target["present"] = True
        data[piece] = target
    if (
        data.get("upper")
        and data["upper"].get("type") == UpperType.DRESS
        and current.upper
        and current.upper.type != UpperType.DRESS
    ):
        data["lower"] = None  # a dress replaces the outfit's lower garment
    return GarmentAttributes.model_validate(data)


_REFERENCE_NOUNS = (
    "reference image|reference|sketch|drawing|logo|image|picture|photo|print|graphic|crop|patch|detail|emblem|badge|motif|"
    "embroidery|example|one|design|pattern"
)
#: Words that point at the reference image ("like this sketch", "add this logo", "as in the reference").
REFERENCE_WORDS = re.compile(
    rf"\b(?:(?:just |exactly )?like|as in|as shown in|as|from|matching|using|with|per)?\s*"
    rf"(?:(?:this|that|these|the)\s+(?:reference\s+)?(?:{_REFERENCE_NOUNS})s?\b|this\b(?!\s+(?:shirt|top|dress|coat|jacket|garment)))",
    re.IGNORECASE,
)
#: "make it a dress", "turn the shirt into a coat": the garment type named after the article is the new value.
_MAKE_IT_A = re.compile(
    r"\b(?:make|turn|change|switch)\s+(?:it|this|the\s+[a-z]+(?:\s+[a-z]+)?)\s+(?:into\s+|to\s+)?(?:a|an)\b", re.I
)
_COLLARED = (Neckline.LAPEL, Neckline.STAND, Neckline.TURTLENECK)


def strip_reference_words(text: str) -> str:
    """``text`` without the words that point at a reference image: 'change the neckline to v-neck like this sketch'
    -> 'change the neckline to v-neck'. The reference itself says what those words mean."""
    return re.sub(r"\s{2,}", " ", REFERENCE_WORDS.sub(" ", text)).strip()


def _said(patch: GarmentAttributes) -> dict[str, Any]:
    flat: dict[str, Any] = {}

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, f"{path}.{key}" if path else key)
        else:
            flat[path] = value

    walk(patch.model_dump(mode="json", exclude_none=True), "")
    return flat


def parse_instruction(text: str, current: GarmentAttributes, *, with_reference: bool = False) -> InstructionResult:
    """An edit instruction -> the changed attributes. Never raises on odd text: no change understood is ``changes == []``.

    ``with_reference``: the instruction comes with a reference image, so words pointing at it ("this logo",
    "like this sketch") are the reference's to show, not changes to the garment. ``notes`` say where the
    instruction asked for something the flat shows another way (a collar on a round neckline) or already has.
    """
    if with_reference:
        text = strip_reference_words(text)
    sentences, unknown = segment(text)
    phrases = [p for sentence in sentences for p in sentence]
    # one index space across sentences, so positions compare
    phrases = [Phrase(i, p.words, p.tags) for i, p in enumerate(phrases)]
    if not phrases:
        return InstructionResult(attributes=current, changes=[], unknown_words=unknown)

    to_at = _split_at_to(phrases)
    target_part = phrases if to_at is None else phrases[:to_at]
    value_part = phrases if to_at is None else phrases[to_at + 1 :]
    removing = any(p.tag("remove") is not None and p.words in {tuple(w.split()) for w in REMOVE_WORDS} for p in phrases)
    adding = any(p.tag("add") is not None for p in phrases)

    nouns = [p.value("noun") for p in target_part if p.tag("noun") is not None and p.value("noun") in _PART_NOUNS]
    lower_named = any(p.tag("lower_type") is not None for p in target_part)
    upper_named = any(p.tag("upper_type") is not None for p in target_part)
    if lower_named:
        piece = "lower"
    elif upper_named or set(nouns) & _UPPER_PARTS:
        piece = "upper"
    else:
        piece = "upper" if current.upper is not None or current.lower is None else "lower"
    focus = _focus(target_part)

    new = current
    patch_said: dict[str, Any] = {}
    if removing:
        new = _apply_removals(phrases, new, piece)
    if to_at is not None or not removing:
        builder = _Builder(default_piece=piece, focus=focus)
        builder.current = None
        builder.sentence(value_part, skip_types=to_at is None and not _MAKE_IT_A.search(text))
        if builder.upper is not None and piece == "lower" and not any(p.tag("upper_type") for p in value_part):
            # values about the lower garment that landed on the upper by default
            builder.upper = {
                k: v for k, v in builder.upper.items() if k in ("sleeve", "neckline", "hem", "buttons", "pockets", "collar_color")
            } or None
        unknown = _unknown_plus_unused(unknown, builder.unused)
        patch = builder.attributes()
        patch_said = _said(patch)
        new = _merge(new, patch, adding)
    if any(p.tag("shorter") or p.tag("longer") for p in phrases):
        new = _apply_step(phrases, new, piece, focus)
    notes: list[str] = []
    if not removing:
        new, notes = _collar(phrases, focus, adding, new, notes)
    changes = diff_attributes(current, new)
    if not changes and patch_said:
        already = ", ".join(f"{field} is already {value}" for field, value in patch_said.items())
        notes.append(f"no change: {already}")
    return InstructionResult(attributes=new, changes=changes, unknown_words=unknown, notes=notes)


def _collar(
    phrases: list[Phrase], focus: str | None, adding: bool, new: GarmentAttributes, notes: list[str]
) -> tuple[GarmentAttributes, list[str]]:
    """A collar asked for on a neckline that has none gets one (lapels on shirts and outer garments, else a stand
    collar); collar sizes are not drawn, which the notes say."""
    upper = new.upper
    about_collar = focus == "collar" or any(p.tag("noun") is not None and p.value("noun") == "collar" for p in phrases)
    if upper is None or not about_collar:
        return new, notes
    sizes = [p.text for p in phrases if p.tag("size") is not None]
    neckline = upper.neckline
    if neckline is not None and neckline not in _COLLARED and (adding or sizes or upper.collar_color is not None):
        shirtlike = upper.type in (UpperType.SHIRT, UpperType.BLOUSE, UpperType.JACKET, UpperType.BLAZER, UpperType.COAT)
        collar = Neckline.LAPEL if shirtlike else Neckline.STAND
        wanted = f" to make {sizes[0]}" if sizes else ""
        notes.append(f"collar: a {neckline.value} neckline has no collar{wanted}; added a {collar.value} collar")
        new = new.model_copy(update={"upper": upper.model_copy(update={"neckline": collar})})
    elif sizes:
        notes.append(f"not applied: collar size ('{sizes[0]}') is not drawn by the offline flats")
    return new, notes


def _focus(target_part: list[Phrase]) -> str | None:
    """The part an instruction is about: the first part noun (or pattern word) before any colour."""
    for phrase in target_part:
        if phrase.tag("color") is not None:
            return None
        noun = phrase.tag("noun")
        if noun is not None and noun.value in _PART_NOUNS:
            return noun.value
        if phrase.tag("pattern") is not None and phrase.words in _PLURAL_PATTERN_NOUNS:
            return "pattern"
    return None


def _apply_removals(phrases: list[Phrase], current: GarmentAttributes, piece: str) -> GarmentAttributes:
    """'remove the belt', 'no pockets', 'take off the sleeves', 'without stripes'."""
    data = current.model_dump()
    start = next(p.index for p in phrases if p.tag("remove") is not None)
    for phrase in phrases[start:]:
        noun = phrase.tag("noun")
        name = noun.value if noun is not None else None
        upper = data.get("upper")
        if name == "buttons" and upper is not None:
            upper["buttons"] = {"count": 0}
        elif name == "pockets" and upper is not None:
            upper["pockets"] = {"count": 0}
        elif name == "belt":
            data["belt"] = {"present": False}
        elif name == "sleeves" and upper is not None:
            upper["sleeve"] = SleeveLength.SLEEVELESS
        elif name == "collar" and upper is not None:
            if upper.get("neckline") in (Neckline.LAPEL, Neckline.STAND, Neckline.TURTLENECK, None):
                upper["neckline"] = Neckline.ROUND
            upper["collar_color"] = None
        elif (name == "pattern" or phrase.tag("pattern") is not None) and data.get(piece) is not None:
            data[piece]["pattern"] = Pattern.PURE_COLOR
            data[piece]["pattern_color"] = None
        elif phrase.tag("lower_type") is not None and data.get("lower") is not None:
            data["lower"] = None
    return GarmentAttributes.model_validate(data)


def _apply_step(phrases: list[Phrase], current: GarmentAttributes, piece: str, focus: str | None) -> GarmentAttributes:
    """'make the trousers shorter', 'lengthen the sleeves'."""
    direction = 1 if any(p.tag("longer") for p in phrases) else -1
    data = current.model_dump()
    upper = data.get("upper")
    if focus == "sleeves" or (piece == "upper" and upper is not None and upper.get("type") != UpperType.DRESS):
        if upper is not None:
            now = upper.get("sleeve") or SleeveLength.SHORT
            upper["sleeve"] = _SLEEVE_ORDER[min(max(_SLEEVE_ORDER.index(now) + direction, 0), len(_SLEEVE_ORDER) - 1)]
    else:
        holder = data.get("lower") if piece == "lower" else upper
        if holder is not None:
            now = holder.get("length") or LowerLength.MEDIUM_SHORT
            holder["length"] = _LENGTH_ORDER[min(max(_LENGTH_ORDER.index(now) + direction, 0), len(_LENGTH_ORDER) - 1)]
    return GarmentAttributes.model_validate(data)


__all__ = [
    "AttributeChange",
    "InstructionResult",
    "ParseResult",
    "diff_attributes",
    "parse_caption",
    "parse_instruction",
    "part_for_field",
    "segment",
    "strip_reference_words",
]
