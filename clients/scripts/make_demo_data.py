"""Rebuild the demo's bundled images (fashionedit/client/data/*.png) and the box in demo.yaml.

The demo drafts "a long-sleeve white blazer ..." (seed 7). Its target is the same flat rendered navy, with
gold buttons and patch pockets, over grey trousers: round 1 (text) makes it navy, round 2 (image) places the
reference crop of the target's buttons into their box, and the analyzer then proposes the trousers' colour as
the next edit (`fashionedit session round latest --suggestion 1`).

    python clients/scripts/make_demo_data.py      # needs fashionedit-flats (libs/flats)
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import yaml

from fashionedit.contracts.garment import ColorName, PocketKind
from fashionedit.flats import parse_caption
from fashionedit.flats.complete import complete_attributes
from fashionedit.flats.render import part_boxes, render_flat

DATA = Path(__file__).resolve().parents[1] / "src" / "fashionedit" / "client" / "data"
SIZE = 512


def png(img) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def main() -> None:
    script = yaml.safe_load((DATA / "demo.yaml").read_text())
    draft = complete_attributes(parse_caption(script["prompt"]).attributes, script["seed"])
    upper = draft.upper.model_copy(deep=True)
    upper.color = ColorName.NAVY
    upper.buttons = upper.buttons.model_copy(update={"color": ColorName.GOLD})
    upper.pockets = upper.pockets.model_copy(update={"kind": PocketKind.PATCH})
    lower = draft.lower.model_copy(update={"color": ColorName.GREY}) if draft.lower else None
    target = draft.model_copy(update={"upper": upper, "lower": lower})
    image = render_flat(target, size=(SIZE, SIZE))
    (DATA / "target.png").write_bytes(png(image))

    box = part_boxes(target, (SIZE, SIZE))["buttons"]
    ymin, xmin, ymax, xmax = box.root
    crop = image.crop(
        (round(xmin / 1000 * SIZE), round(ymin / 1000 * SIZE), round(xmax / 1000 * SIZE), round(ymax / 1000 * SIZE))
    )
    (DATA / "reference.png").write_bytes(png(crop))

    text = (DATA / "demo.yaml").read_text()
    rounded = [round(v) for v in box.root]
    text = re.sub(r"target_box: \[[^\]]*\]", f"target_box: {rounded}", text)
    (DATA / "demo.yaml").write_text(text)
    for name in ("target.png", "reference.png"):
        print(name, (DATA / name).stat().st_size, "bytes")
    print("buttons box", rounded)


if __name__ == "__main__":
    main()
