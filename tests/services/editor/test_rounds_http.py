"""Design rounds in any order over a real `bentoml serve` editor on the offline profile (no SD3, no random weights).

Each round is checked in pixels: a reference round changes only its box and keeps the reference's shape;
a text round changes the garment part it names and keeps every placed reference where it was.
"""

from __future__ import annotations

import base64
import os
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image, ImageDraw

from fashionedit.contracts import Box2D, EditResponse, ErrorResponse, ImagePayload, ServiceInfo
from fashionedit.contracts.garment import ColorName, GarmentAttributes, UpperGarment
from tests.support.servers import BentoServer

from .helpers import abs_diff, box_masks

flats = pytest.importorskip("fashionedit.flats")
pytest.importorskip("fashionedit.flats.layers")  # makes flats.layers available
pytest.importorskip("cv2")

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TARGET = "fashionedit.services.editor.service:Editor"
SIZE = 256
CHEST_BOX = Box2D((330.0, 520.0, 470.0, 720.0))  # wide: a round logo must stay round inside it
HIP_BOX = Box2D((640.0, 300.0, 760.0, 420.0))


@pytest.fixture(scope="module")
def tmp_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("editor-rounds-tmp")


@pytest.fixture(scope="module")
def offline_editor(tmp_path_factory, tmp_root):
    """The editor exactly as the offline profile configures it: nothing set but the backend."""
    logs = tmp_path_factory.mktemp("editor-rounds")
    server = BentoServer(
        TARGET,
        env={"FASHIONEDIT_EDITOR_BACKEND": "local", "TMPDIR": str(tmp_root)},
        log_path=logs / "local.log",
        startup_timeout=240,
    )
    started = time.perf_counter()
    server.start()
    server.ready_s = time.perf_counter() - started
    try:
        yield server
    finally:
        server.stop()


def logo(diameter: int = 60, color=(200, 30, 40)) -> Image.Image:
    """A round logo on its own plain light-grey card (the background a designer would leave out)."""
    img = Image.new("RGB", (diameter + 20, diameter + 20), (225, 225, 225))
    ImageDraw.Draw(img).ellipse([10, 10, 10 + diameter, 10 + diameter], fill=color)
    return img


def b64(img: Image.Image | ImagePayload) -> str:
    payload = img if isinstance(img, ImagePayload) else ImagePayload.from_pil(img)
    return base64.b64encode(payload.to_bytes()).decode()


def edit(server, image, instruction: str, reference: Image.Image | None = None, box: Box2D | None = None) -> httpx.Response:
    body: dict = {"image": b64(image), "instruction": instruction}
    if reference is not None:
        body["references"] = [b64(reference)]
    if box is not None:
        body["target_box"] = box.to_list()
    return httpx.post(server.url + "/v1/edit", json=body, timeout=60)


def ok(response: httpx.Response) -> EditResponse:
    assert response.status_code == 200, response.text
    return EditResponse.model_validate(response.json())


def start_flat() -> ImagePayload:
    attrs = GarmentAttributes(
        upper=UpperGarment(type="shirt", color="white", sleeve="long", neckline="lapel", pattern="pure color")
    )
    return ImagePayload.from_bytes(flats.to_png_bytes(flats.render_flat(attrs, (SIZE, SIZE))))


def red_mask(image: ImagePayload, color=(200, 30, 40)) -> np.ndarray:
    pixels = np.asarray(image.to_pil().convert("RGB"), np.int16)
    return np.abs(pixels - np.array(color)).max(axis=-1) < 40


def assert_reference_round(before: ImagePayload, after: EditResponse, box: Box2D, color=(200, 30, 40)) -> None:
    inside, outside = box_masks(box, (SIZE, SIZE))
    diff = abs_diff(after.image, before)
    assert diff[outside].max() <= 1.0, "a reference round changed pixels outside its box"
    mark = red_mask(after.image, color) & inside
    ys, xs = np.nonzero(mark)
    assert mark.sum() > 100
    height, width = np.ptp(ys) + 1, np.ptp(xs) + 1
    assert abs(height - width) <= 2, f"the round logo became {width}x{height}: stretched to the box"

    # its own grey card was left out: no card-grey pixels inside the box
    def card(image: ImagePayload) -> float:
        return float((np.abs(np.asarray(image.to_pil().convert("RGB"), np.int16) - 225).max(axis=-1) < 3)[inside].mean())

    assert card(after.image) <= card(before) + 0.01


def assert_text_round(before: ImagePayload, after: EditResponse, parts: list[Box2D], keep: np.ndarray) -> None:
    """The named part changed; every pixel outside the part (old and new boxes) is unchanged, placed marks included."""
    diff = abs_diff(after.image, before)
    part = np.zeros((SIZE, SIZE), bool)
    for box in parts:
        part |= box_masks(box, (SIZE, SIZE), margin=2)[0]
    assert diff[part].mean() > 3.0, "the text round did not change the part it names"
    assert diff[~part].max() <= 1.0, "the text round changed pixels outside the part it names"
    assert diff[keep & ~part].max() <= 1.0 and keep.sum() > 100


def test_the_offline_editor_starts_fast_without_random_weights(offline_editor, tmp_root):
    info = ServiceInfo.model_validate(httpx.post(offline_editor.url + "/v1/info", json={}, timeout=30).json())
    assert info.ready and info.model.random_weights is False and info.model.offline
    assert offline_editor.ready_s < 60  # measured about 2 s on the 2-core dev machine; it used to build a random SD3 first
    assert not list(tmp_root.glob("fashionedit-editor-*"))


def test_reference_text_reference_text_with_boxes(offline_editor):
    flat = start_flat()
    first = ok(edit(offline_editor, flat, "put this logo on the chest", logo(), CHEST_BOX))
    assert_reference_round(flat, first, CHEST_BOX)
    assert any("background" in w for w in first.warnings)
    placed = red_mask(first.image)

    second = ok(edit(offline_editor, first.image, "make the sleeves short"))
    attrs1 = flats.read_attributes(first.image.to_bytes())
    attrs2 = flats.read_attributes(second.image.to_bytes())
    assert (attrs1.upper.sleeve.value, attrs2.upper.sleeve.value) == ("long", "short")
    sleeves = [flats.part_boxes(a, (SIZE, SIZE))[side] for a in (attrs1, attrs2) for side in ("left_sleeve", "right_sleeve")]
    assert_text_round(first.image, second, sleeves, keep=placed)
    assert second.model.random_weights is False and second.model.model_id.startswith("fashionedit-flats")

    third = ok(edit(offline_editor, second.image, "add this badge", logo(40, color=(30, 60, 200)), HIP_BOX))
    assert_reference_round(second.image, third, HIP_BOX, color=(30, 60, 200))

    fourth = ok(edit(offline_editor, third.image, "make the buttons red"))
    attrs4 = flats.read_attributes(fourth.image.to_bytes())
    assert attrs4.upper.buttons.color.value == "red" and attrs4.upper.sleeve.value == "short"
    both = red_mask(third.image) | red_mask(third.image, (30, 60, 200))
    buttons = flats.part_boxes(attrs4, (SIZE, SIZE))["buttons"]
    assert_text_round(third.image, fourth, [buttons], keep=both & ~box_masks(buttons, (SIZE, SIZE), margin=2)[0])


def test_text_reference_text_without_a_box(offline_editor):
    flat = start_flat()
    first = ok(edit(offline_editor, flat, "make the shirt navy"))
    assert flats.read_attributes(first.image.to_bytes()).upper.color.value == "navy"

    # a detail crop of the same shirt with red buttons: it belongs where the buttons are
    attrs = flats.read_attributes(first.image.to_bytes())
    red_buttons = attrs.model_copy(
        update={
            "upper": attrs.upper.model_copy(update={"buttons": attrs.upper.buttons.model_copy(update={"color": ColorName.RED})})
        }
    )
    buttons_box = flats.part_boxes(attrs, (SIZE, SIZE))["buttons"]
    crop_px = buttons_box.to_pixels(SIZE, SIZE)
    crop = flats.render_flat(red_buttons, (SIZE, SIZE)).crop(tuple(crop_px))
    second = ok(edit(offline_editor, first.image, "buttons like these", crop))
    assert second.target_box is not None and second.target_box.iou(buttons_box) > 0.6
    _, outside = box_masks(second.target_box, (SIZE, SIZE))
    assert abs_diff(second.image, first.image)[outside].max() <= 1.0

    # the same reference again, with no box: never on top of the first paste
    again = edit(offline_editor, second.image, "buttons like these", crop)
    if again.status_code == 200:
        assert EditResponse.model_validate(again.json()).target_box.iou(second.target_box) < 0.1
    else:
        assert again.status_code == 422 and "placed before" in ErrorResponse.model_validate(again.json()).error.message

    third = ok(edit(offline_editor, second.image, "make the sleeves short"))
    attrs3 = flats.read_attributes(third.image.to_bytes())
    assert attrs3.upper.sleeve.value == "short" and attrs3.upper.color.value == "navy"
    inside, _ = box_masks(second.target_box, (SIZE, SIZE))
    assert abs_diff(third.image, second.image)[inside].max() <= 1.0  # the placed buttons survive the re-render


def test_a_reference_round_applies_the_text_it_can_read(offline_editor):
    flat = start_flat()
    sketch = logo(50, color=(20, 20, 20))
    neck_box = Box2D((120.0, 420.0, 260.0, 580.0))
    response = ok(edit(offline_editor, flat, "change the neckline to v-neck like this sketch", sketch, neck_box))
    assert flats.read_attributes(response.image.to_bytes()).upper.neckline.value == "v-shape"
    assert any("applied from the text" in w for w in response.warnings)
    assert red_mask(response.image, (20, 20, 20))[box_masks(neck_box, (SIZE, SIZE))[0]].sum() > 100


def test_text_on_a_picture_without_weights_is_a_503_saying_what_is_missing(offline_editor):
    photo = ImagePayload.from_pil(logo(120))
    response = edit(offline_editor, photo, "make the buttons gold")
    assert response.status_code == 503, response.text
    message = ErrorResponse.model_validate(response.json()).error.message
    assert "technical flats" in message and "SD3 weights" in message and "FASHIONEDIT_EDITOR_LOCAL_SD3_MODEL" in message


def test_an_edit_that_changes_nothing_says_why(offline_editor):
    flat = start_flat()
    attrs = flats.read_attributes(flat.to_bytes())
    color = attrs.upper.buttons.color.value
    response = ok(edit(offline_editor, flat, f"make the buttons {color}"))
    assert abs_diff(response.image, flat).max() == 0
    assert any("already" in w and color in w for w in response.warnings)


@pytest.mark.skipif(os.environ.get("FASHIONEDIT_SKIP_RESTART") == "1", reason="restart check disabled")
def test_the_weights_identity_is_the_same_after_a_restart(offline_editor, tmp_root, tmp_path):
    first = httpx.post(offline_editor.url + "/v1/info", json={}, timeout=30).json()["model"]
    other = BentoServer(
        TARGET,
        env={"FASHIONEDIT_EDITOR_BACKEND": "local", "TMPDIR": str(tmp_root)},
        log_path=tmp_path / "again.log",
        startup_timeout=240,
    )
    other.start()
    try:
        second = httpx.post(other.url + "/v1/info", json={}, timeout=30).json()["model"]
    finally:
        other.stop()
    assert first == second
    assert not list(tmp_root.glob("fashionedit-editor-*"))


def test_without_a_box_the_instructions_place_words_are_followed(offline_editor):
    flat = start_flat()
    response = ok(edit(offline_editor, flat, "put this logo on the left chest", logo()))
    chest = flats.layers.box_from_words("left chest", flats.read_attributes(flat.to_bytes()), (SIZE, SIZE))[0]
    assert response.target_box is not None and response.target_box.iou(chest) > 0.6
    assert any("left chest" in w for w in response.warnings)
    assert_reference_round(flat, response, response.target_box)
    body = flats.part_boxes(flats.read_attributes(flat.to_bytes()), (SIZE, SIZE))["body"]
    _ys, xs = np.nonzero(red_mask(response.image))
    assert xs.mean() > (body.xmin + body.xmax) / 2 / 1000 * SIZE  # the wearer's left is the viewer's right
