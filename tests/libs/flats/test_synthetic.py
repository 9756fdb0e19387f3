"""Synthetic FashionEdit-shaped data: layout, names, labels, reproducibility and planted boxes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fashionedit.contracts.boxes import Box2D
from fashionedit.contracts.garment import GarmentAttributes
from fashionedit.flats import change_box, parse_caption, read_attributes, render_flat, write_synthetic_dataset
from fashionedit.flats.synthetic import GroundTruthLine, main

NAME = re.compile(r"^(MEN|WOMEN)-[A-Za-z_]+-id_\d{8}-\d{2}_\d+_[a-z]+\.jpg$")
SIZE = (150, 220)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("synthetic")
    return out, write_synthetic_dataset(out, n=12, seed=7, image_size=SIZE)


def test_layout_matches_deepfashion_multimodal(dataset) -> None:
    out, summary = dataset
    captions = json.loads((out / "captions.json").read_text())
    assert len(captions) == 12 == summary.n
    for name, caption in captions.items():
        assert NAME.match(name), name
        with Image.open(out / "images" / name) as img:
            assert img.format == "JPEG" and img.size == SIZE
        assert parse_caption(caption).unknown_words == []
    shape = (out / "labels/shape/shape_anno_all.txt").read_text().splitlines()
    fabric = (out / "labels/texture/fabric_ann.txt").read_text().splitlines()
    pattern = (out / "labels/texture/pattern_ann.txt").read_text().splitlines()
    for lines, width, top in ((shape, 12, 7), (fabric, 3, 7), (pattern, 3, 7)):
        assert sorted(line.split()[0] for line in lines) == sorted(captions)
        for line in lines:
            values = [int(v) for v in line.split()[1:]]
            assert len(values) == width and all(0 <= v <= top for v in values)


def test_ground_truth_lines_and_drafts(dataset) -> None:
    out, summary = dataset
    lines = [GroundTruthLine.model_validate_json(line) for line in (out / "ground_truth.jsonl").read_text().splitlines()]
    assert len(lines) == 12
    kinds = set()
    for line in lines:
        assert 1 <= len(line.differences) <= 3
        assert [d.index for d in line.differences] == list(range(1, len(line.differences) + 1))
        assert len({d.kind for d in line.differences}) == len(line.differences)
        kinds |= {d.kind for d in line.differences}
        draft_bytes = (out / line.draft).read_bytes()
        assert read_attributes(draft_bytes) == line.draft_attributes
        assert line.draft_attributes != line.original_attributes
        for difference in line.differences:
            assert difference.description.endswith(".") and difference.original_value != difference.draft_value
    assert sum(summary.differences_by_kind.values()) == sum(len(line.differences) for line in lines)
    assert len(kinds) >= 4


def test_planted_boxes_are_tight_around_every_changed_pixel(dataset) -> None:
    out, _ = dataset
    for raw in (out / "ground_truth.jsonl").read_text().splitlines():
        line = GroundTruthLine.model_validate_json(raw)
        original = np.asarray(render_flat(line.original_attributes, SIZE)).astype(np.int16)
        draft = np.asarray(Image.open(out / line.draft).convert("RGB")).astype(np.int16)
        changed = (np.abs(draft - original) > 0).any(axis=2)
        allowed = np.zeros_like(changed)
        for difference in line.differences:
            box = difference.box_2d.to_pixels(*SIZE)
            allowed[box.y0 : box.y1, box.x0 : box.x1] = True
        assert changed.any()
        assert not (changed & ~allowed).any(), line.id
        # and each difference alone: only that field changed, boxed by its own box
        for difference in line.differences:
            head, _, rest = difference.field.partition(".")
            single = line.original_attributes.model_copy(deep=True)
            piece = getattr(single, head)
            setattr(piece, rest, getattr(getattr(line.draft_attributes, head), rest))
            if rest == "pattern":
                piece.pattern_color = line.draft_attributes.upper.pattern_color
            single = GarmentAttributes.model_validate(single.model_dump())
            alone = (np.abs(np.asarray(render_flat(single, SIZE)).astype(np.int16) - original) > 0).any(axis=2)
            box = difference.box_2d.to_pixels(*SIZE)
            inside = np.zeros_like(alone)
            inside[box.y0 : box.y1, box.x0 : box.x1] = True
            assert alone.any() and not (alone & ~inside).any(), (line.id, difference.field)
            # box_2d is tight: every side touches a pixel this change alters
            ys, xs = np.nonzero(alone)
            assert difference.box_2d == Box2D.from_pixels((xs.min(), ys.min(), xs.max() + 1, ys.max() + 1), *SIZE)
            # part_box_2d is the parts' extent, which holds the tight box
            assert change_box(line.original_attributes, single, difference.parts, SIZE) == difference.part_box_2d
            assert difference.part_box_2d.contains(difference.box_2d, tolerance=1e-6)


def test_same_seed_same_bytes_other_seed_other_data(tmp_path, dataset) -> None:
    out, _ = dataset
    again = tmp_path / "again"
    write_synthetic_dataset(again, n=12, seed=7, image_size=SIZE)
    for relative in ("captions.json", "ground_truth.jsonl", "labels/shape/shape_anno_all.txt"):
        assert (again / relative).read_bytes() == (out / relative).read_bytes()
    for image in sorted((out / "drafts").iterdir()):
        assert (again / "drafts" / image.name).read_bytes() == image.read_bytes()
    other = tmp_path / "other"
    write_synthetic_dataset(other, n=3, seed=8, image_size=SIZE)
    assert (other / "captions.json").read_text() != (out / "captions.json").read_text()


def test_cli(tmp_path, capsys) -> None:
    assert main([str(tmp_path / "cli"), "--n", "2", "--seed", "1", "--size", "64x94"]) == 0
    assert '"n": 2' in capsys.readouterr().out
    assert len(list((tmp_path / "cli" / "images").iterdir())) == 2
    with pytest.raises(SystemExit):
        main([str(tmp_path / "bad"), "--size", "huge"])
