"""Synthetic FashionEdit-shaped data with known ground truth, in the DeepFashion-MultiModal layout.

``python -m fashionedit.flats.synthetic OUT --n 100 --seed 0`` writes::

    OUT/captions.json                      {"<name>.jpg": "<caption>"}
    OUT/images/<name>.jpg                  originals (flats), 750x1101 by default
    OUT/drafts/<stem>.png                  a draft per original, 1-3 planted differences, same size
    OUT/ground_truth.jsonl                 one line per sample: the planted differences with boxes
    OUT/labels/shape/shape_anno_all.txt    DeepFashion-MultiModal label files (space-separated)
    OUT/labels/texture/fabric_ann.txt
    OUT/labels/texture/pattern_ann.txt

Names follow the dataset's scheme ``{MEN|WOMEN}-{Category}-id_{8 digits}-{2-digit outfit}_{view#}_{view}.jpg``
(flats are front views: ``_1_front``). Each difference is described from the
*original's* point of view, as the paper's analyzer writes it ("The shirt is
navy blue"), with two boxes ([ymin, xmin, ymax, xmax], 0-1000):

* ``box_2d``: the tight box of every pixel that difference alone changes on the
  original (the original and the original with only that change, rendered and
  compared). This is where the draft differs because of it: what an analyzer
  should box, and the crop that undoes it.
* ``part_box_2d``: the extent of the garment parts the change can touch, in the
  original and the changed garment (``render.change_box``): the whole shirt for a
  graphic print, the whole button row when one button moves.

A change that alters no pixel (a colour too close to the old one to draw
differently) is not planted. Same arguments, same bytes.

``--motifs RATE`` (off by default; the other samples' bytes do not change) adds differences that words cannot
carry: with probability RATE a sample's original gets a small random motif (an identicon-like embroidered badge
or a scatter print, random colours, at a random exact spot on the garment) that its draft lacks. It is
described as a person would ("The shirt has a small embroidered motif on the chest, on the wearer's left."):
the description names neither the design nor the exact place, and the flats parser has no word for it, so a
text-only edit cannot restore it while the reference crop shows it exactly.
"""

from __future__ import annotations

import argparse
import io
import json
import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from pydantic import BaseModel, Field

from fashionedit.contracts.boxes import Box2D
from fashionedit.contracts.files import atomic_write_bytes
from fashionedit.contracts.garment import (
    ButtonPlacement,
    Buttons,
    ColorName,
    GarmentAttributes,
    LowerType,
    Neckline,
    Pattern,
    PocketKind,
    PocketPlacement,
    Pockets,
    SleeveLength,
    UpperType,
    Wearer,
)

from .caption import caption_from_attributes, describe_field
from .complete import complete_attributes
from .render import BACKGROUND, change_box, part_boxes, render_flat, to_png_bytes
from .vocabulary import (
    CATEGORY,
    DF_FABRIC,
    DF_FABRIC_NA,
    DF_LOWER_LENGTH,
    DF_LOWER_LENGTH_NA,
    DF_NECKLINE,
    DF_NECKLINE_NA,
    DF_PATTERN,
    DF_PATTERN_NA,
    DF_SLEEVE,
    DF_SLEEVE_NA,
    OUTER_TYPES,
    contrast_color,
)

DIFFERENCE_KINDS = ("color", "sleeve", "buttons", "pockets", "pattern", "neckline")
DEFAULT_IMAGE_SIZE = (750, 1101)
LOWER_CATEGORY = {
    LowerType.TROUSERS: "Pants",
    LowerType.SHORTS: "Shorts",
    LowerType.SKIRT: "Skirts",
    LowerType.LEGGINGS: "Leggings",
}


class PlantedDifference(BaseModel):
    index: int = Field(ge=1)
    kind: str = Field(description="color | sleeve | buttons | pockets | pattern | neckline | motif")
    field: str = Field(description="The GarmentAttributes path that differs, e.g. 'upper.sleeve'; 'pixels.motif' for a motif")
    description: str = Field(description="How the ORIGINAL looks there (the paper's analyzer convention)")
    box_2d: Box2D = Field(description="Tight box of the pixels this difference alone changes on the original")
    part_box_2d: Box2D = Field(description="Extent of the garment parts the change can touch (original and changed garment)")
    parts: list[str]
    original_value: object = None
    draft_value: object = None


class GroundTruthLine(BaseModel):
    id: str
    image: str
    caption: str
    draft: str
    draft_caption: str
    original_attributes: GarmentAttributes
    draft_attributes: GarmentAttributes
    differences: list[PlantedDifference]


class SyntheticSummary(BaseModel):
    out_dir: str
    n: int
    seed: int
    image_size: tuple[int, int]
    captions: str = "captions.json"
    ground_truth: str = "ground_truth.jsonl"
    labels: list[str] = Field(default_factory=list)
    differences_by_kind: dict[str, int] = Field(default_factory=dict)


# -- planting one difference ---------------------------------------------------------------
def _get(attrs: GarmentAttributes, path: str):
    value = attrs
    for key in path.split("."):
        value = getattr(value, key)
    return value


def _set_upper(attrs: GarmentAttributes, **changes) -> GarmentAttributes:
    assert attrs.upper is not None, "only garments with an upper part get upper changes"
    return attrs.model_copy(update={"upper": attrs.upper.model_copy(update=changes)})


def plant_difference(attrs: GarmentAttributes, kind: str, rng: random.Random) -> tuple[GarmentAttributes, str, list[str]] | None:
    """``attrs`` with one ``kind`` of change, the field it changes and the parts it lands on (None if not applicable)."""
    upper, lower = attrs.upper, attrs.lower
    if kind == "color":
        if lower is not None and (upper is None or rng.random() < 0.3):
            new = rng.choice([c for c in ColorName if c is not lower.color])
            return attrs.model_copy(update={"lower": lower.model_copy(update={"color": new})}), "lower.color", ["lower"]
        if upper is None:
            return None
        new = rng.choice([c for c in ColorName if c is not upper.color and c is not upper.pattern_color])
        return _set_upper(attrs, color=new), "upper.color", ["upper"]
    if upper is None:
        return None
    if kind == "sleeve":
        sleeve = rng.choice([s for s in SleeveLength if s is not upper.sleeve])
        return _set_upper(attrs, sleeve=sleeve), "upper.sleeve", ["sleeves"]
    if kind == "neckline":
        neckline = rng.choice([n for n in Neckline if n is not upper.neckline])
        return _set_upper(attrs, neckline=neckline), "upper.neckline", ["neckline"]
    if kind == "pattern":
        pattern = rng.choice([p for p in Pattern if p is not upper.pattern])
        pattern_color = upper.pattern_color
        if pattern is not Pattern.PURE_COLOR and pattern_color is None and upper.color is not None:
            pattern_color = contrast_color(upper.color)
        return _set_upper(attrs, pattern=pattern, pattern_color=pattern_color), "upper.pattern", ["upper"]
    if kind == "buttons":
        buttons = upper.buttons or Buttons(count=0)
        new_buttons: Buttons
        if buttons.count:
            choice = rng.random()
            if choice < 0.4:
                new_buttons = Buttons(count=0)
            elif choice < 0.7:
                new_buttons = buttons.model_copy(update={"color": rng.choice([c for c in ColorName if c is not buttons.color])})
            else:
                new_buttons = buttons.model_copy(update={"count": rng.choice([n for n in range(1, 9) if n != buttons.count])})
        else:
            new_buttons = Buttons(
                count=rng.randint(3, 6),
                color=rng.choice(list(ColorName)),
                placement=rng.choice([ButtonPlacement.CENTER_FRONT, ButtonPlacement.DOUBLE_BREASTED]),
            )
        return _set_upper(attrs, buttons=new_buttons), "upper.buttons", ["buttons"]
    if kind == "pockets":
        pockets = upper.pockets or Pockets(count=0)
        new_pockets: Pockets
        if pockets.count:
            if rng.random() < 0.5:
                new_pockets = Pockets(count=0)
            else:
                new_pockets = pockets.model_copy(update={"kind": rng.choice([k for k in PocketKind if k is not pockets.kind])})
        else:
            new_pockets = Pockets(
                count=rng.choice([1, 2]), kind=rng.choice(list(PocketKind)), placement=rng.choice(list(PocketPlacement))
            )
        return _set_upper(attrs, pockets=new_pockets), "upper.pockets", ["pockets"]
    raise ValueError(f"unknown difference kind {kind!r}; expected one of {DIFFERENCE_KINDS}")


def changed_pixels_box(original_pixels: np.ndarray, changed: GarmentAttributes, size: tuple[int, int]) -> Box2D | None:
    """The tight box of the pixels where ``changed`` renders differently from ``original_pixels`` (None: none do)."""
    alone = (np.asarray(render_flat(changed, size)) != original_pixels).any(axis=2)
    ys, xs = np.nonzero(alone)
    if len(ys) == 0:
        return None
    return Box2D.from_pixels((int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1), *size)


def make_sample(
    original: GarmentAttributes,
    rng: random.Random,
    size: tuple[int, int],
    original_pixels: np.ndarray | None = None,
    wanted: int | None = None,
) -> tuple[GarmentAttributes, list[PlantedDifference]]:
    """A draft with ``wanted`` (default 1-3) planted differences of distinct kinds, and their descriptions and boxes."""
    if original_pixels is None:
        original_pixels = np.asarray(render_flat(original, size))
    wanted = rng.randint(1, 3) if wanted is None else wanted
    kinds = list(DIFFERENCE_KINDS)
    rng.shuffle(kinds)
    draft = original
    differences: list[PlantedDifference] = []
    for kind in kinds:
        if len(differences) == wanted:
            break
        planted = plant_difference(original, kind, rng)
        if planted is None:
            continue
        single, field, parts = planted
        # Boxes are measured on this change alone; a change nothing shows (or with no part) is not planted.
        part_box = change_box(original, single, parts, size)
        box = changed_pixels_box(original_pixels, single, size) if part_box is not None else None
        if box is None:
            continue
        # the draft takes this change on top of the ones before
        if kind == "color" and field.startswith("lower"):
            assert draft.lower is not None and single.lower is not None
            draft = draft.model_copy(update={"lower": draft.lower.model_copy(update={"color": single.lower.color})})
        else:
            head = field.split(".")[1]
            assert single.upper is not None
            changes = {head: getattr(single.upper, head)}
            if head == "pattern":
                changes["pattern_color"] = single.upper.pattern_color
            draft = _set_upper(draft, **changes)
        differences.append(
            PlantedDifference(
                index=len(differences) + 1,
                kind=kind,
                field=field,
                description=describe_field(original, field),
                box_2d=box,
                part_box_2d=part_box,
                parts=parts,
                original_value=_json(_get(original, field)),
                draft_value=_json(_get(single, field)),
            )
        )
    return draft, differences


# -- motifs: differences words cannot carry ------------------------------------------------------
MOTIF_STYLES = {"badge": "embroidered motif", "print": "splash of printed specks"}


def _motif_pixels(style: str, side: int, rng: random.Random) -> tuple[np.ndarray, np.ndarray]:
    """A random ``side`` x ``side`` motif: RGB array and a boolean mask of the pixels it covers."""
    ink = np.array([rng.randrange(256) for _ in range(3)], dtype=np.uint8)
    ground = np.array([rng.randrange(256) for _ in range(3)], dtype=np.uint8)
    if style == "badge":
        cells = 7  # identicon: a random left half mirrored, on a ground of its own colour
        half = np.array([[rng.random() < 0.5 for _ in range((cells + 1) // 2)] for _ in range(cells)])
        grid = np.concatenate([half, half[:, : cells // 2][:, ::-1]], axis=1)
        index = (np.arange(side) * cells // side).clip(0, cells - 1)
        on = grid[index][:, index]
        rgb = np.where(on[..., None], ink, ground)
        return rgb.astype(np.uint8), np.ones((side, side), dtype=bool)
    canvas = Image.new("RGB", (side, side), (0, 0, 0))
    mask = Image.new("L", (side, side), 0)
    draw, draw_mask = ImageDraw.Draw(canvas), ImageDraw.Draw(mask)
    for _ in range(rng.randint(5, 9)):
        r = max(1, side // rng.randint(6, 10))
        x, y = rng.randint(r, side - r - 1), rng.randint(r, side - r - 1)
        colour = tuple(int(v) for v in (ink if rng.random() < 0.6 else ground))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
        draw_mask.ellipse((x - r, y - r, x + r, y + r), fill=255)
    return np.asarray(canvas), np.asarray(mask) > 0


def _where(cx: float, cy: float, body: Box2D) -> str:
    """Where on the garment, in a person's words (the wearer's left is the viewer's right)."""
    fy = (cy - body.ymin) / max(body.ymax - body.ymin, 1e-6)
    fx = (cx - body.xmin) / max(body.xmax - body.xmin, 1e-6)
    vertical = "on the chest" if fy < 0.35 else "on the front" if fy < 0.7 else "near the hem"
    horizontal = "on the wearer's right" if fx < 0.4 else "on the wearer's left" if fx > 0.6 else "in the middle"
    return f"{vertical}, {horizontal}"


def plant_motif(
    original: GarmentAttributes, pixels: np.ndarray, rng: random.Random, size: tuple[int, int]
) -> tuple[np.ndarray, PlantedDifference] | None:
    """``pixels`` with a random motif on the garment, and its difference (index 0: the caller numbers it); None if no room."""
    boxes = part_boxes(original, size)
    body = boxes.get("body") or boxes.get("upper") or boxes.get("lower")
    if body is None:
        return None
    width, height = size
    x0, y0, x1, y1 = body.to_pixels(width, height)
    side = max(6, round(0.09 * min(width, height)))
    style = rng.choice(sorted(MOTIF_STYLES))
    motif, mask = _motif_pixels(style, side, rng)
    for _ in range(30):
        if x1 - x0 <= side + 2 or y1 - y0 <= side + 2:
            return None
        x, y = rng.randint(x0 + 1, x1 - side - 1), rng.randint(y0 + 1, y1 - side - 1)
        under = pixels[y : y + side, x : x + side]
        if (under == np.array(BACKGROUND, dtype=np.uint8)).all(axis=2).any():
            continue  # only on the garment itself
        changed = pixels.copy()
        changed[y : y + side, x : x + side][mask] = motif[mask]
        moved = (changed != pixels).any(axis=2)
        ys, xs = np.nonzero(moved)
        if len(ys) < side:  # the motif's colours happen to match the fabric: try another
            continue
        box = Box2D.from_pixels((int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1), width, height)
        noun = (
            original.upper.type.value
            if original.upper is not None and original.upper.type is not None
            else (original.lower.type.value if original.lower is not None and original.lower.type is not None else "garment")
        )
        where = _where((x + side / 2) / width * 1000, (y + side / 2) / height * 1000, body)  # on body's 0-1000 grid
        description = f"The {noun} has a small {MOTIF_STYLES[style]} {where}."
        return changed, PlantedDifference(
            index=1,
            kind="motif",
            field="pixels.motif",
            description=description,
            box_2d=box,
            part_box_2d=box,
            parts=["body" if "body" in boxes else "upper" if "upper" in boxes else "lower"],
            original_value={"style": style, "x": x, "y": y, "side": side},
            draft_value=None,
        )
    return None


def _json(value):
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", exclude_none=True)
    return getattr(value, "value", value)


# -- names and label files -----------------------------------------------------------------
def image_name(attrs: GarmentAttributes, number: int) -> str:
    wearer = attrs.wearer or Wearer.WOMAN
    if attrs.upper is not None and attrs.upper.type is not None:
        category = CATEGORY[(wearer, attrs.upper.type)]
    else:
        category = LOWER_CATEGORY[attrs.lower.type] if attrs.lower and attrs.lower.type else "Tees_Tanks"
    return f"{'MEN' if wearer is Wearer.MAN else 'WOMEN'}-{category}-id_{number:08d}-01_1_front.jpg"


def shape_labels(attrs: GarmentAttributes) -> list[int]:
    """The 12 DeepFashion-MultiModal shape labels (accessories: none; parts a flat hides: NA)."""
    upper, lower = attrs.upper, attrs.lower
    sleeve = DF_SLEEVE[upper.sleeve] if upper and upper.sleeve else DF_SLEEVE_NA
    if lower is not None and lower.length is not None:
        length = DF_LOWER_LENGTH[lower.length]
    elif upper is not None and upper.type is UpperType.DRESS and upper.length is not None:
        length = DF_LOWER_LENGTH[upper.length]
    else:
        length = DF_LOWER_LENGTH_NA
    waist = 1 if attrs.belt is not None and attrs.belt.present else 0
    neckline = DF_NECKLINE[upper.neckline] if upper and upper.neckline else DF_NECKLINE_NA
    cardigan = 0 if upper is not None and upper.type is UpperType.CARDIGAN else 1
    navel = 1 if upper is not None else 2
    # sleeve, lower length, socks, hat, glasses, neckwear, wrist, ring, waist, neckline, cardigan?, navel covered
    return [sleeve, length, 0, 0, 0, 0, 0, 0, waist, neckline, cardigan, navel]


def texture_labels(attrs: GarmentAttributes, table: dict, na: int, field: str) -> list[int]:
    """<upper> <lower> <outer>: an outer garment (jacket, blazer, coat, cardigan) fills the outer column."""
    upper, lower = attrs.upper, attrs.lower
    upper_value = table[getattr(upper, field)] if upper is not None and getattr(upper, field) is not None else na
    lower_value = table[getattr(lower, field)] if lower is not None and getattr(lower, field) is not None else na
    if upper is not None and upper.type in OUTER_TYPES:
        return [na, lower_value, upper_value]
    return [upper_value, lower_value, na]


# -- the dataset ------------------------------------------------------------------------------
def write_synthetic_dataset(
    out_dir: str | Path,
    n: int,
    seed: int,
    image_size: tuple[int, int] = DEFAULT_IMAGE_SIZE,
    jpeg_quality: int = 95,
    motif_rate: float = 0.0,
) -> SyntheticSummary:
    """Write ``n`` samples (originals, drafts, captions, labels, ground truth) under ``out_dir``; seeded, reproducible.

    ``motif_rate``: the share of samples whose original also carries a motif the draft lacks (see the module doc).
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    if not 0.0 <= motif_rate <= 1.0:
        raise ValueError("motif_rate must be within 0..1")
    out = Path(out_dir)
    for sub in ("images", "drafts", "labels/shape", "labels/texture"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"fashionedit.flats.synthetic:{seed}")
    captions: dict[str, str] = {}
    shape_lines, fabric_lines, pattern_lines, truth_lines = [], [], [], []
    counts = {kind: 0 for kind in DIFFERENCE_KINDS + (("motif",) if motif_rate else ())}
    for number in range(1, n + 1):
        original = complete_attributes(GarmentAttributes(), rng.randrange(2**31))
        name = image_name(original, number)
        stem = name.rsplit(".", 1)[0]
        caption = caption_from_attributes(original)
        captions[name] = caption
        original_image = render_flat(original, image_size)
        motif = None
        if motif_rate and rng.random() < motif_rate:
            motif = plant_motif(original, np.asarray(original_image), rng, image_size)
        if motif is None:
            draft, differences = make_sample(original, rng, image_size, np.asarray(original_image))
        else:
            # Up to two attribute differences (boxed on the motif-free render), and the motif at a random round.
            draft, differences = make_sample(original, rng, image_size, np.asarray(original_image), wanted=rng.randint(0, 2))
            differences.insert(rng.randint(0, len(differences)), motif[1])
            differences = [d.model_copy(update={"index": i}) for i, d in enumerate(differences, start=1)]
            original_image = Image.fromarray(motif[0], "RGB")
        jpeg = io.BytesIO()
        original_image.save(jpeg, format="JPEG", quality=jpeg_quality)
        atomic_write_bytes(out / "images" / name, jpeg.getvalue())
        atomic_write_bytes(out / "drafts" / f"{stem}.png", to_png_bytes(render_flat(draft, image_size)))
        for difference in differences:
            counts[difference.kind] += 1
        truth_lines.append(
            GroundTruthLine(
                id=stem,
                image=f"images/{name}",
                caption=caption,
                draft=f"drafts/{stem}.png",
                draft_caption=caption_from_attributes(draft),
                original_attributes=original,
                draft_attributes=draft,
                differences=differences,
            ).model_dump_json(exclude_none=True)
        )
        shape_lines.append(" ".join([name, *map(str, shape_labels(original))]))
        fabric_lines.append(" ".join([name, *map(str, texture_labels(original, DF_FABRIC, DF_FABRIC_NA, "fabric"))]))
        pattern_lines.append(" ".join([name, *map(str, texture_labels(original, DF_PATTERN, DF_PATTERN_NA, "pattern"))]))
    atomic_write_bytes(out / "captions.json", (json.dumps(captions, indent=2, sort_keys=True) + "\n").encode())
    atomic_write_bytes(out / "ground_truth.jsonl", "".join(line + "\n" for line in truth_lines).encode())
    labels = {
        "labels/shape/shape_anno_all.txt": shape_lines,
        "labels/texture/fabric_ann.txt": fabric_lines,
        "labels/texture/pattern_ann.txt": pattern_lines,
    }
    for path, lines in labels.items():
        atomic_write_bytes(out / path, "".join(line + "\n" for line in lines).encode())
    return SyntheticSummary(
        out_dir=str(out), n=n, seed=seed, image_size=image_size, labels=sorted(labels), differences_by_kind=counts
    )


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"size {text!r} is not WIDTHxHEIGHT, e.g. 750x1101") from exc
    if not (16 <= width <= 4096 and 16 <= height <= 4096):
        raise argparse.ArgumentTypeError("each side must be 16..4096")
    return width, height


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fashionedit.flats.synthetic", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path, help="output folder (created)")
    parser.add_argument("--n", type=int, default=100, help="number of samples")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=_size, default=DEFAULT_IMAGE_SIZE, help="WIDTHxHEIGHT of originals and drafts (750x1101)")
    parser.add_argument(
        "--motifs",
        type=float,
        default=0.0,
        metavar="RATE",
        help="share of samples whose original gets a motif words cannot carry (0: none, the default)",
    )
    args = parser.parse_args(argv)
    summary = write_synthetic_dataset(args.out, args.n, args.seed, args.size, motif_rate=args.motifs)
    print(summary.model_dump_json(indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
