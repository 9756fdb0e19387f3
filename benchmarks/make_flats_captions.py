"""Write benchmarks/data/flats_captions.json: captions in DeepFashion-MultiModal's style, with the labels they say.

    python benchmarks/make_flats_captions.py

The "deepfashion_style" group is 120 seeded captions from the dataset's label vocabulary (sleeve length, lower
length, neckline, fabric, colour pattern, upper/lower garment words and the accessory labels: socks, hat, glasses,
neckwear, wrist wearing, ring, waist accessories, outer cardigan, navel covering) in the dataset's several
phrasings; "deepfashion_style_labels" holds, per caption, the garment values it states (what a parser must read).
The customer groups are hand-written and kept as they are in the file: "customer" (what the vocabulary was
extended from) and "customer_held_out" (written afterwards, never used to tune the tables).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

OUT = Path(__file__).with_name("data") / "flats_captions.json"

WHO = {
    "The lady": ("lady", "her", "she"),
    "This woman": ("woman", "her", "she"),
    "The female": ("female", "her", "she"),
    "This gentleman": ("gentleman", "his", "he"),
    "The man": ("man", "his", "he"),
    "This guy": ("guy", "his", "he"),
    "The person": ("person", "her", "she"),
}
UPPERS = {
    "shirt": "shirt",
    "T-shirt": "t-shirt",
    "tank top": "tank top",
    "sweater": "sweater",
    "blouse": "blouse",
    "dress": "dress",
    "top": None,
    "jumper": "sweater",
    "polo": "shirt",
    "vest": "tank top",
}
SLEEVES = {"long-sleeve": "long", "short-sleeve": "short", "medium-sleeve": "medium", "sleeveless": "sleeveless"}
SLEEVE_SENTENCES = {
    "The upper clothing has long sleeves": "long",
    "Its two sleeves are short": "short",
    "The upper clothing has sleeves cut off": "sleeveless",
    "The upper clothing has medium sleeves": "medium",
    "It has long sleeves": "long",
}
FABRICS = {
    "denim": "denim",
    "cotton": "cotton",
    "leather": "leather",
    "furry": "furry",
    "knitted": "knitted",
    "chiffon": "chiffon",
    "other": None,
    "mixed": None,
}
PATTERNS = {
    "pure color": "pure color",
    "solid color": "pure color",
    "floral": "floral",
    "graphic": "graphic",
    "striped": "striped",
    "lattice": "lattice",
    "plaid": "lattice",
    "color block": "color block",
    "complicated": None,
    "mixed": None,
    "other": None,
}
NECKS = {
    "round": "round",
    "crew": "round",
    "V-shape": "v-shape",
    "square": "square",
    "lapel": "lapel",
    "stand": "stand",
    "suspenders": "suspenders",
    "turtleneck": "turtleneck",
}
LOWERS = {
    "trousers": "trousers",
    "pants": "trousers",
    "shorts": "shorts",
    "skirt": "skirt",
    "leggings": "leggings",
    "jeans": "trousers",
}
LENGTHS = {
    "long": "long",
    "three-point": "three-point",
    "medium-short": "medium-short",
    "three-quarter": "three-quarter",
    "short": "medium-short",
}
EXTRAS = [
    "There is an accessory on {p} wrist.",
    "This {n} wears a ring.",
    "There is a ring on {p} finger.",
    "The {n} wears a hat.",
    "This {n} is wearing a hat.",
    "The {n} wears a pair of glasses.",
    "The {n} wears sunglasses.",
    "The {n} wears eyeglasses.",
    "There is an accessory in {p} neck.",
    "The {n} has neckwear.",
    "This {n} wears socks in shoes.",
    "The {n} wears socks.",
    "There is a belt.",
    "There is a belt around {p} waist.",
    "The {n} is wearing a cardigan as outer clothing.",
    "The upper clothing covers the navel.",
    "The navel is not covered.",
    "There is clothing tied around {p} waist.",
    "{s} wears a scarf.",
    "{s} has a watch on {p} wrist.",
    "{s} carries a bag.",
]


def pick(rng: random.Random, table: dict) -> tuple[str, object]:
    word = rng.choice(list(table))
    return word, table[word]


def deepfashion_style(n: int = 120, seed: int = 14) -> tuple[list[str], list[dict]]:
    rng = random.Random(seed)
    captions, labels = [], []
    for i in range(n):
        w = rng.choice(list(WHO))
        noun, pos, subj = WHO[w]
        up, up_label = pick(rng, UPPERS)
        sl, sl_label = pick(rng, SLEEVES)
        pat, pat_label = pick(rng, PATTERNS)
        fab, fab_label = pick(rng, FABRICS)
        nk, nk_label = pick(rng, NECKS)
        label = {
            "upper.type": up_label,
            "upper.sleeve": sl_label,
            "upper.pattern": pat_label,
            "upper.fabric": fab_label,
            "upper.neckline": nk_label,
        }
        form = i % 4
        sents = []
        if form == 0:
            sents += [
                f"{w} is wearing a {sl} {up} with {pat} patterns.",
                f"The {up} is with {fab} fabric.",
                f"It has a {nk} neckline.",
            ]
        elif form == 1:
            sentence, label["upper.sleeve"] = pick(rng, SLEEVE_SENTENCES)
            label["upper.type"] = None
            sents += [sentence + f", {fab} fabric and {pat} patterns.", f"The neckline of it is {nk}."]
        elif form == 2:
            sents += [
                f"This {noun} wears a {sl} {up} with {pat} patterns.",
                f"The {up} is made of {fab} fabric and its neckline is {nk}.",
            ]
        else:
            sents.append(
                f"{subj.capitalize()} wears a {sl} {up}. The {up} has {pat} patterns and {fab} fabric. Its neckline is {nk}."
            )
        if up != "dress" or form == 1:
            lo, lo_label = pick(rng, LOWERS)
            ln, ln_label = pick(rng, LENGTHS)
            lform = rng.randrange(3)
            if lform == 0:
                sents.append(f"The {lo} this {noun} wears is of {ln} length.")
            elif lform == 1:
                sents.append(f"The lower clothing is of {ln} length.")
                lo_label = None
            else:
                sents.append(f"{subj.capitalize()} wears {ln} {lo}.")
            lfab, lfab_label = pick(rng, FABRICS)
            lpat, lpat_label = pick(rng, PATTERNS)
            name = lo if lform != 1 else "lower clothing"
            verb = "are" if lo.endswith("s") and lform != 1 else "is"
            sents.append(f"The {name} {verb} with {lfab} fabric and {lpat} patterns.")
            label |= {"lower.type": lo_label, "lower.length": ln_label, "lower.fabric": lfab_label, "lower.pattern": lpat_label}
        else:
            ln, ln_label = pick(rng, LENGTHS)
            sents.append(f"The dress is of {ln} length.")
            label["upper.length"] = ln_label
        for extra in rng.sample(EXTRAS, rng.randrange(0, 3)):
            sents.append(extra.format(n=noun, p=pos, s=subj.capitalize()))
        captions.append(" ".join(sents))
        labels.append({k: v for k, v in label.items() if v is not None})
    return captions, labels


def main() -> None:
    data = json.loads(OUT.read_text()) if OUT.is_file() else {}
    captions, labels = deepfashion_style()
    out = {"deepfashion_style": captions, "deepfashion_style_labels": labels}
    out |= {k: v for k, v in data.items() if k.startswith("customer")}
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(
        f"wrote {len(captions)} labelled captions and {sum(len(v) for k, v in out.items() if k.startswith('customer'))} customer "
        f"prompts to {OUT}"
    )


if __name__ == "__main__":
    main()
