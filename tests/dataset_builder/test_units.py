"""Builder pieces without services: source scanning, selection lists, split rule, square resizes and boxes."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from fashionedit.client.common.jsonl import JsonlLog
from fashionedit.client.dataset import default_val_size, load_selection_list, parse_name, scan_source, split_ids, top_n
from fashionedit.client.dataset.images import square_box, square_png

# The published selection list (FashionEdit repo, data/captions_top.json), when a copy sits beside the checkout.
SHARED_LIST = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "captions_top.json"


def test_names_follow_the_deepfashion_scheme():
    parts = parse_name("MEN-Denim-id_00000080-01_7_additional")
    assert parts == {"gender": "MEN", "category": "Denim", "id": "00000080", "outfit": "01", "view_no": "7", "view": "additional"}
    assert parse_name("WOMEN-Blouses_Shirts-id_00000001-02_1_front")["category"] == "Blouses_Shirts"
    assert parse_name("random-file") is None


def test_scan_source_is_sorted_and_counts_what_it_skips(tmp_path):
    (tmp_path / "images").mkdir()
    for stem in (
        "WOMEN-Tees_Tanks-id_00000002-01_1_front",
        "MEN-Denim-id_00000001-01_1_front",
        "MEN-Denim-id_00000003-01_1_front",
    ):
        Image.new("RGB", (8, 8)).save(tmp_path / "images" / f"{stem}.jpg")
    captions = {"MEN-Denim-id_00000001-01_1_front.jpg": "a", "WOMEN-Tees_Tanks-id_00000002-01_1_front.jpg": "b", "gone.jpg": "c"}
    (tmp_path / "captions.json").write_text(json.dumps(captions))
    items, skipped = scan_source(tmp_path)
    assert [i.id for i in items] == ["MEN-Denim-id_00000001-01_1_front", "WOMEN-Tees_Tanks-id_00000002-01_1_front"]
    assert skipped == {"no_caption": 1, "no_image": 1}
    with pytest.raises(FileNotFoundError, match="captions.json"):
        scan_source(tmp_path / "images")


def test_selection_list_format(tmp_path):
    path = tmp_path / "top.json"
    path.write_text(
        json.dumps({"MEN-Denim-id_00000001-01_1_front.png": "91.25", "MEN-Denim-id_00000003-01_1_front.png": "85.0001"})
    )
    assert load_selection_list(path) == {"MEN-Denim-id_00000001-01_1_front": 91.25, "MEN-Denim-id_00000003-01_1_front": 85.0001}
    path.write_text(json.dumps({"x.png": "high"}))
    with pytest.raises(ValueError, match="not a number"):
        load_selection_list(path)


@pytest.mark.skipif(
    not SHARED_LIST.exists(), reason="the published captions_top.json is not beside this checkout (../shared/data/)"
)
def test_the_published_list_reads_in_this_format():
    scores = load_selection_list(SHARED_LIST)  # read-only; never copied into the repo
    assert len(scores) == 11_546
    assert 85.0 <= min(scores.values()) and max(scores.values()) < 95.6
    assert all(parse_name(stem) for stem in list(scores)[:200])
    assert sum(1 for v in scores.values() if v > 90) == 1_206


def test_top_n_ranks_by_score_then_id_and_skips_missing():
    assert top_n({"c": 0.5, "a": 0.9, "b": 0.9, "d": None}, 2) == ["a", "b"]
    assert top_n({"c": 0.5, "a": 0.9, "b": 0.1}, 2) == ["a", "c"]


def test_split_is_seeded_sorted_and_proportional():
    ids = [f"id{i:03d}" for i in range(50)]
    first = split_ids(ids, seed=7, val=5)
    assert first == split_ids(list(reversed(ids)), seed=7, val=5)  # input order does not matter
    assert sum(v == "val" for v in first.values()) == 5
    assert first != split_ids(ids, seed=8, val=5)
    assert default_val_size(11_546) == 1_000 and default_val_size(20_000) == 1_000
    assert default_val_size(48) == 4 and default_val_size(10) == 1 and default_val_size(1) == 0


def test_square_resize_keeps_png_text_and_maps_boxes():
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("fashionedit:garment", "{}")
    buffer = io.BytesIO()
    Image.new("RGB", (100, 200), (10, 20, 30)).save(buffer, format="PNG", pnginfo=info)
    out = Image.open(io.BytesIO(square_png(buffer.getvalue(), 64, "pad")))
    assert out.size == (64, 64) and out.text.get("fashionedit:garment") == "{}"
    assert out.getpixel((0, 32)) == (255, 255, 255) and out.getpixel((32, 32)) == (10, 20, 30)
    # The whole of a 100x200 image is the middle half (in x) of its padded square.
    assert square_box((0, 0, 1000, 1000), (100, 200), "pad") == pytest.approx((0, 250, 1000, 750))
    assert square_box((100, 200, 300, 400), (100, 200), "stretch") == (100, 200, 300, 400)


def test_jsonl_log_ignores_and_repairs_a_torn_line(tmp_path):
    log = JsonlLog(tmp_path / "r.jsonl")
    log.append({"a": 1})
    with open(log.path, "ab") as handle:
        handle.write(b'{"a": 2')  # killed mid-write
    assert list(log.raw()) == [{"a": 1}]
    log.append({"a": 3})
    assert list(JsonlLog(log.path).raw()) == [{"a": 1}, {"a": 3}]
