"""Motifs: differences words cannot carry, planted only when asked, boxed tightly, described as a person would."""

from __future__ import annotations

import io
import json

import numpy as np
from PIL import Image

from fashionedit.contracts import GarmentAttributes
from fashionedit.flats import parse_instruction, read_attributes
from fashionedit.flats.render import render_flat
from fashionedit.flats.synthetic import write_synthetic_dataset

SIZE = (128, 128)


def _lines(root):
    return [json.loads(line) for line in (root / "ground_truth.jsonl").read_text().splitlines()]


def test_off_by_default_and_the_other_samples_keep_their_bytes(tmp_path) -> None:
    write_synthetic_dataset(tmp_path / "a", 4, seed=2, image_size=SIZE)
    write_synthetic_dataset(tmp_path / "b", 4, seed=2, image_size=SIZE, motif_rate=0.0)
    assert (tmp_path / "a/ground_truth.jsonl").read_bytes() == (tmp_path / "b/ground_truth.jsonl").read_bytes()
    assert not any(d["kind"] == "motif" for line in _lines(tmp_path / "a") for d in line["differences"])


def test_motifs_are_on_the_original_only_boxed_and_not_in_the_parsers_vocabulary(tmp_path) -> None:
    root = tmp_path / "m"
    summary = write_synthetic_dataset(root, 12, seed=0, image_size=SIZE, motif_rate=1.0)
    assert summary.differences_by_kind["motif"] >= 10
    for line in _lines(root):
        motifs = [d for d in line["differences"] if d["kind"] == "motif"]
        assert [d["index"] for d in line["differences"]] == list(range(1, len(line["differences"]) + 1))
        assert 1 <= len(line["differences"]) <= 3
        if not motifs:
            continue
        [motif] = motifs
        original_attributes = GarmentAttributes.model_validate(line["original_attributes"])
        original = np.asarray(Image.open(root / line["image"]).convert("RGB")).astype(int)
        buffer = io.BytesIO()
        render_flat(original_attributes, SIZE).save(buffer, format="JPEG", quality=95)  # as the original was saved
        clean = np.asarray(Image.open(buffer).convert("RGB")).astype(int)
        y0, x0, y1, x1 = _pixels(motif["box_2d"])
        inside = np.abs(original[y0:y1, x0:x1] - clean[y0:y1, x0:x1]).sum(axis=2)
        outside = np.abs(original - clean).sum(axis=2)
        outside[max(0, y0 - 8) : y1 + 8, max(0, x0 - 8) : x1 + 8] = 0  # JPEG's 8x8 blocks ring just outside the box
        # The motif is there on the original and nowhere else (the same JPEG coding on both sides).
        assert (inside > 90).mean() > 0.15 and (outside > 90).mean() < 0.002
        # A person's words: roughly where, never what exactly. Whatever the flats parser reads into them,
        # a text-only re-render of the draft does not bring the motif back.
        assert motif["description"].startswith("The ") and "small" in motif["description"]
        draft_attributes = read_attributes((root / line["draft"]).read_bytes())
        edited = np.asarray(render_flat(parse_instruction(motif["description"], draft_attributes).attributes, SIZE)).astype(int)
        assert np.abs(edited[y0:y1, x0:x1] - original[y0:y1, x0:x1]).sum(axis=2).mean() > 30


def _pixels(box_2d):
    ymin, xmin, ymax, xmax = box_2d
    return round(ymin / 1000 * SIZE[1]), round(xmin / 1000 * SIZE[0]), round(ymax / 1000 * SIZE[1]), round(xmax / 1000 * SIZE[0])
