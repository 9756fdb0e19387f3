"""The local backend in-process: classical placement, flats re-rendering, SD3 (tiny, random) img2img."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from fashionedit.contracts import Box2D, EditRequest, ImagePayload
from fashionedit.contracts.edit import EditMode
from fashionedit.services.common import InvalidInput, Unavailable

from .conftest import design_image, payload, reference_patch
from .helpers import abs_diff, box_masks

pytest.importorskip("cv2")

BOX = Box2D((250.0, 250.0, 625.0, 625.0))  # rows/columns 16-40 of a 64x64 design

# Measured: feathered placement leaves every pixel outside the box bit-identical (max diff 0), and
# SD3 refinement is pasted back inside the box only. The bound leaves room for a 1-level rounding.
OUTSIDE_MAX_DIFF = 1.0
INSIDE_MIN_MEAN_DIFF = 40.0


@pytest.fixture(scope="module")
def serving(sd3_dir):
    from fashionedit.services.editor.serving import EditorServing
    from fashionedit.services.editor.settings import EditorSettings

    return EditorServing(EditorSettings(backend="local", local_sd3_model=str(sd3_dir), local_steps=4), background=False)


@pytest.fixture(scope="module")
def classical_only():
    """No SD3 at all: what a machine without weights and without the tiny model serves."""
    from fashionedit.services.editor.serving import EditorServing
    from fashionedit.services.editor.settings import EditorSettings

    return EditorServing(EditorSettings(backend="local", local_random_sd3=False), background=False)


@pytest.mark.parametrize("seam", ["feather", "poisson", "mixed"])
async def test_reference_into_box_changes_inside_only(serving, design, reference, seam, monkeypatch):
    monkeypatch.setattr(serving.settings, "local_seam", seam)
    response = await serving.edit(
        EditRequest(image=design, instruction="a checked pocket", references=[reference], target_box=BOX)
    )
    inside, outside = box_masks(BOX, (64, 64))
    diff = abs_diff(response.image, design)
    assert diff[outside].max() <= OUTSIDE_MAX_DIFF
    assert diff[inside].mean() > (INSIDE_MIN_MEAN_DIFF if seam == "feather" else 5.0)
    assert response.mode is EditMode.TEXT_IMAGE and response.target_box == BOX
    # Offline classical placement: not the paper's model, and no weights at all.
    assert response.model.backend == "local" and response.model.offline and not response.model.random_weights
    assert seam in response.model.model_id


async def test_feathered_seam_keeps_the_reference_in_the_core_and_blends_the_edge(serving, design, reference):
    response = await serving.edit(EditRequest(image=design, instruction="pocket", references=[reference], target_box=BOX))
    out = np.asarray(response.image.to_pil(), np.float32)
    expected = np.asarray(reference.to_pil().resize((24, 24), Image.Resampling.BICUBIC), np.float32)
    core = np.abs(out[20:36, 20:36] - expected[4:20, 4:20]).mean()
    edge = np.abs(out[16, 16:40] - expected[0]).mean()
    assert core < 8.0 and edge > core  # the core is the reference; the outermost ring is blended


async def test_without_a_box_the_reference_goes_where_it_matches(serving):
    base = np.asarray(design_image(), np.float32)
    faded = 0.6 * np.asarray(reference_patch(), np.float32) + 0.4 * 128
    base[8:24, 36:52] = faded  # the same part, faded, at columns 36-52, rows 8-24
    design = payload(Image.fromarray(base.astype(np.uint8), "RGB"))
    response = await serving.edit(
        EditRequest(image=design, instruction="brighter pocket", references=[payload(reference_patch())])
    )
    truth = Box2D.from_pixels((36, 8, 52, 24), 64, 64)
    assert response.target_box is not None and response.target_box.iou(truth) > 0.75
    diff = abs_diff(response.image, design)
    _, outside = box_masks(response.target_box, (64, 64))
    assert diff[outside].max() <= OUTSIDE_MAX_DIFF and diff[8:24, 36:52].mean() > 10


async def test_unmatchable_reference_without_a_box_is_a_422(serving, design, monkeypatch):
    monkeypatch.setattr(serving.settings, "local_match_min_score", 0.99)
    with pytest.raises(InvalidInput, match="send target_box"):
        await serving.edit(EditRequest(image=design, instruction="x", references=[payload(reference_patch())]))


async def test_sd3_refinement_stays_inside_the_box(serving, design, reference, monkeypatch):
    monkeypatch.setattr(serving.settings, "local_refine", "sd3")
    response = await serving.edit(
        EditRequest(image=design, instruction="a checked pocket", references=[reference], target_box=BOX, seed=3)
    )
    inside, outside = box_masks(BOX, (64, 64))
    diff = abs_diff(response.image, design)
    assert diff[outside].max() <= OUTSIDE_MAX_DIFF and diff[inside].mean() > 5.0
    assert response.model.random_weights and response.model.offline  # said plainly: tiny random SD3
    assert any(w.startswith("RANDOM WEIGHTS") for w in response.warnings)
    assert "refine" in response.timings.stages


async def test_text_edit_on_a_flat_changes_the_named_attribute(serving):
    flats = pytest.importorskip("fashionedit.flats")
    from fashionedit.contracts.garment import GarmentAttributes, UpperGarment

    attrs = GarmentAttributes(upper=UpperGarment(type="t-shirt", sleeve="short", color="white"))
    flat = ImagePayload.from_bytes(flats.to_png_bytes(flats.render_flat(attrs, (128, 128))))
    before = flats.read_attributes(flat.to_bytes())
    response = await serving.edit(EditRequest(image=flat, instruction="make the sleeves long"))

    after = flats.read_attributes(response.image.to_bytes())
    assert before.upper.sleeve.value == "short" and after.upper.sleeve.value == "long"
    assert after.model_copy(update={"upper": after.upper.model_copy(update={"sleeve": before.upper.sleeve})}) == before
    assert response.mode is EditMode.TEXT and response.prompt == "make the sleeves long"
    assert response.model.model_id.startswith("fashionedit-flats")
    sleeves = flats.part_boxes(after, (128, 128))["sleeves"]
    assert response.target_box == sleeves
    diff = abs_diff(response.image, flat)
    inside, outside = box_masks(sleeves, (128, 128), margin=2)
    assert diff[inside].mean() > 5 and diff[outside].max() == 0  # only the sleeves were redrawn


async def test_a_flat_instruction_with_unknown_words_is_a_422_naming_them(serving):
    flats = pytest.importorskip("fashionedit.flats")
    from fashionedit.contracts.garment import GarmentAttributes, UpperGarment

    flat = ImagePayload.from_bytes(
        flats.to_png_bytes(flats.render_flat(GarmentAttributes(upper=UpperGarment(type="shirt")), (64, 64)))
    )
    with pytest.raises(InvalidInput) as info:
        await serving.edit(EditRequest(image=flat, instruction="make the sleeves blorpy"))
    assert "'blorpy'" in info.value.message and info.value.details[0].loc == ["instruction"]


async def test_a_flat_instruction_is_applied_where_understood_and_the_rest_reported(serving):
    """LMM-written descriptions carry context words; the understood change is applied, the rest named."""
    flats = pytest.importorskip("fashionedit.flats")
    from fashionedit.contracts.garment import GarmentAttributes, UpperGarment

    attrs = GarmentAttributes(upper=UpperGarment(type="shirt", color="white"))
    flat = ImagePayload.from_bytes(flats.to_png_bytes(flats.render_flat(attrs, (64, 64))))
    response = await serving.edit(EditRequest(image=flat, instruction="The upper garment is navy (measured against the design)."))
    assert flats.read_attributes(response.image.to_bytes()).upper.color.value == "navy"
    assert len(response.warnings) == 1 and "'measured'" in response.warnings[0]


async def test_text_edit_on_a_picture_is_sd3_img2img_with_random_weights_said(serving, design):
    first = await serving.edit(EditRequest(image=design, instruction="a red dress", seed=7, size="48x32"))
    again = await serving.edit(EditRequest(image=design, instruction="a red dress", seed=7, size="48x32"))
    assert first.image.size == (48, 32)
    assert first.image.to_bytes() == again.image.to_bytes()  # seeded
    assert first.model.random_weights and first.model.offline and "random" in first.model.model_id
    assert first.prompt == "a red dress"  # SD3 gets the description, not the chat template
    assert "img2img" in first.timings.stages


async def test_without_sd3_text_edits_of_pictures_are_unavailable(classical_only, design, reference):
    with pytest.raises(Unavailable, match="FASHIONEDIT_EDITOR_LOCAL_SD3_MODEL"):
        await classical_only.edit(EditRequest(image=design, instruction="a red dress"))
    response = await classical_only.edit(EditRequest(image=design, instruction="pocket", references=[reference], target_box=BOX))
    assert response.model.model_id.startswith("classical-placement")
    assert classical_only.info().model.random_weights is False


async def test_more_references_than_the_local_backend_places_is_a_422(serving, design, reference):
    with pytest.raises(InvalidInput, match="at most 1"):
        await serving.edit(EditRequest(image=design, instruction="x", references=[reference, reference]))


@pytest.fixture(scope="module")
def inpaint_serving(tmp_path_factory):
    """A tiny random SD3 whose transformer takes 16 latent channels, as SD3-medium does: the inpainting branch."""
    import dataclasses

    from fashionedit.services.editor.serving import EditorServing
    from fashionedit.services.editor.settings import EditorSettings
    from fashionedit.tinymodels.build import build_sd3_pipeline, save_pipeline
    from fashionedit.tinymodels.specs import SD3_TINY

    spec = dataclasses.replace(
        SD3_TINY,
        name="sd3-tiny-16ch",
        transformer={**SD3_TINY.transformer, "in_channels": 16, "out_channels": 16},
        vae={**SD3_TINY.vae, "latent_channels": 16},
    )
    folder = tmp_path_factory.mktemp("editor-sd3-16ch")
    save_pipeline(build_sd3_pipeline(spec, workdir=folder / "tok"), folder / "sd3", spec_name=spec.name, seed=0)
    settings = EditorSettings(backend="local", local_sd3_model=str(folder / "sd3"), local_steps=2, local_refine="sd3")
    return EditorServing(settings, background=False)


async def test_sd3_inpainting_branch_stays_inside_the_box(inpaint_serving, design, reference):
    assert inpaint_serving.backends["local"].sd3.inpaint is not None  # 16-channel transformer: inpainting pipeline
    response = await inpaint_serving.edit(
        EditRequest(image=design, instruction="a checked pocket", references=[reference], target_box=BOX, seed=2)
    )
    inside, outside = box_masks(BOX, (64, 64))
    diff = abs_diff(response.image, design)
    assert diff[outside].max() <= OUTSIDE_MAX_DIFF and diff[inside].mean() > 5.0
    assert response.model.model_id == "sd3-tiny-16ch (random weights)" and response.model.random_weights


async def test_an_output_size_beyond_the_local_limits_is_a_422(classical_only, design, reference):
    with pytest.raises(InvalidInput, match="outside 16-4096") as info:
        await classical_only.edit(
            EditRequest(image=design, instruction="x", references=[reference], target_box=BOX, size="9999x9999")
        )
    assert info.value.details[0].loc == ["size"]


async def test_random_weights_are_opt_in_and_said_in_warnings(serving, design):
    from fashionedit.services.editor.settings import EditorSettings

    assert EditorSettings().local_random_sd3 is False  # the offline default builds no random model
    response = await serving.edit(EditRequest(image=design, instruction="a red dress", seed=1))
    assert any(w.startswith("RANDOM WEIGHTS") for w in response.warnings)


def test_a_random_sd3_build_leaves_no_folder_and_keeps_its_identity(tmp_path, monkeypatch):
    import tempfile

    from fashionedit.services.editor.sd3 import SD3Editor
    from fashionedit.services.editor.settings import EditorSettings

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    settings = EditorSettings(backend="local", local_random_sd3=True, local_steps=1)
    first, second = SD3Editor.load(settings), SD3Editor.load(settings)
    assert list(tmp_path.iterdir()) == []
    assert first.model_info() == second.model_info() and first.model_info().random_weights
    assert "sd3-tiny" in first.model_info().weights.name


def _flat(attrs, size=128) -> ImagePayload:
    flats = pytest.importorskip("fashionedit.flats")
    return ImagePayload.from_bytes(flats.to_png_bytes(flats.render_flat(attrs, (size, size))))


async def test_adding_a_collar_to_a_round_neck_coat_adds_one_and_says_so(classical_only):
    flats = pytest.importorskip("fashionedit.flats")
    from fashionedit.contracts.garment import GarmentAttributes, UpperGarment

    flat = _flat(GarmentAttributes(upper=UpperGarment(type="coat", color="red", neckline="round")))
    response = await classical_only.edit(EditRequest(image=flat, instruction="add a white collar"))
    upper = flats.read_attributes(response.image.to_bytes()).upper
    assert upper.neckline.value == "lapel" and upper.collar_color.value == "white"
    assert abs_diff(response.image, flat).max() > 50
    assert any("round neckline has no collar" in w and "added a lapel collar" in w for w in response.warnings)

    wide = await classical_only.edit(EditRequest(image=response.image, instruction="make the collar wide"))
    assert flats.read_attributes(wide.image.to_bytes()).upper.neckline.value == "lapel"  # never removed
    assert abs_diff(wide.image, response.image).max() == 0
    assert any("collar size" in w and "not drawn" in w for w in wide.warnings)


async def test_a_flat_text_edit_that_is_already_true_changes_nothing_and_says_so(classical_only):
    from fashionedit.contracts.garment import GarmentAttributes, UpperGarment

    flat = _flat(GarmentAttributes(upper=UpperGarment(type="shirt", color="navy")))
    response = await classical_only.edit(EditRequest(image=flat, instruction="make the shirt navy"))
    assert abs_diff(response.image, flat).max() == 0
    assert response.warnings == ["no change: upper.color is already navy"]


async def test_a_placed_reference_survives_a_garment_change_and_moves_with_its_part(classical_only):
    flats = pytest.importorskip("fashionedit.flats")
    from fashionedit.contracts.garment import GarmentAttributes, UpperGarment

    flat = _flat(GarmentAttributes(upper=UpperGarment(type="t-shirt", color="white", pattern="pure color")), 256)
    box = Box2D((330.0, 540.0, 440.0, 650.0))
    placed = await classical_only.edit(
        EditRequest(image=flat, instruction="this logo", references=[payload(reference_patch(16, 16))], target_box=box)
    )
    layers = flats.layers.read_layers(placed.image.png_text())
    assert len(layers) == 1 and layers[0].anchor == "body"
    dress = await classical_only.edit(EditRequest(image=placed.image, instruction="make it a long dress"))
    moved = flats.layers.read_layers(dress.image.png_text())
    assert len(moved) == 1
    pixels, px = moved[0].pixels((256, 256))
    out = np.asarray(dress.image.to_pil().convert("RGB"), np.float32)[px.y0 : px.y1, px.x0 : px.x1]
    rgba = np.asarray(pixels, np.float32)
    solid = rgba[..., 3] == 255
    assert solid.mean() > 0.3
    assert np.abs(out - rgba[..., :3])[solid].max() <= 1.0  # the checker is drawn where the layer now says
    assert flats.read_attributes(dress.image.to_bytes()).upper.type.value == "dress"
