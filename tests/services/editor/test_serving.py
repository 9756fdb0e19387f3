"""Gateway logic in-process: prompts, settings, input validation, backend choice, info."""

from __future__ import annotations

import pytest
from PIL import Image

from fashionedit.contracts import EditRequest, ImagePayload
from fashionedit.contracts.edit import BUG_PROMPT, VANILLA_PROMPT, compose_prompt
from fashionedit.services.common import InvalidInput
from fashionedit.services.editor.serving import EditorServing, build_prompt
from fashionedit.services.editor.settings import EditorSettings

from .conftest import openai_serving, payload


def test_default_prompts_are_the_papers_concatenated_without_separator():
    settings = EditorSettings()
    assert build_prompt(settings, "Add buttons.", with_references=False) == VANILLA_PROMPT + "Add buttons."
    assert build_prompt(settings, "Add buttons.", with_references=True) == BUG_PROMPT + "Add buttons."
    assert compose_prompt("Edit: {instruction}!", "x") == "Edit: x!"
    assert compose_prompt("Edit:", "x", " ") == "Edit: x"


def test_settings_from_environment(monkeypatch, tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text("sk-from-file\n")
    monkeypatch.setenv("FASHIONEDIT_EDITOR_BACKEND", "openai-images")
    monkeypatch.setenv("FASHIONEDIT_EDITOR_ALLOWED_BACKENDS", "local, openai-responses")
    monkeypatch.setenv("FASHIONEDIT_EDITOR_OPENAI_API_KEY_FILE", str(key_file))
    monkeypatch.setenv("FASHIONEDIT_EDITOR_PROMPT_SEPARATOR", " ")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("FASHIONEDIT_EDITOR_OPENAI_API_KEY", raising=False)
    settings = EditorSettings()
    assert settings.backends == ["openai-images", "local", "openai-responses"]
    assert settings.api_key() == "sk-from-file" and settings.prompt_separator == " "
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env-secret")
    settings = EditorSettings()
    assert settings.api_key() == "sk-env-secret" and "sk-env-secret" not in repr(settings)
    monkeypatch.setenv("FASHIONEDIT_EDITOR_BACKEND", "dall-e")
    with pytest.raises(ValueError, match="unknown backend"):
        EditorSettings()


def test_openai_backend_without_a_key_is_not_ready_and_says_why(monkeypatch, design):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("FASHIONEDIT_EDITOR_OPENAI_API_KEY", raising=False)
    serving = EditorServing(EditorSettings(backend="openai-responses"), background=False)
    assert not serving.ready
    assert "FASHIONEDIT_EDITOR_OPENAI_API_KEY" in serving.info().message


@pytest.fixture
def gateway(openai_server):
    return openai_serving(
        openai_server, "openai-responses", openai_max_references=2, max_reference_pixels=32 * 32, max_reference_bytes=2000
    )


async def test_more_references_than_the_backend_accepts(gateway, design, reference):
    with pytest.raises(InvalidInput) as info:
        await gateway.edit(EditRequest(image=design, instruction="x", references=[reference] * 3))
    assert "at most 2" in info.value.message and info.value.details[0].loc == ["references"]


async def test_oversized_references(gateway, design):
    big = payload(Image.new("RGB", (40, 40), (1, 1, 1)))
    with pytest.raises(InvalidInput, match="pixel limit") as info:
        await gateway.edit(EditRequest(image=design, instruction="x", references=[big]))
    assert info.value.details[0].loc == ["references", 0]
    import numpy as np

    noisy = payload(Image.fromarray(np.random.default_rng(0).integers(0, 255, (30, 30, 3), dtype=np.uint8)))
    with pytest.raises(InvalidInput, match="byte limit"):
        await gateway.edit(EditRequest(image=design, instruction="x", references=[noisy]))


async def test_truncated_images_are_422_before_any_provider_call(gateway, openai_fake, design, reference):
    truncated = ImagePayload.from_bytes(reference.to_bytes()[:-30])  # header intact, pixels cut
    with pytest.raises(InvalidInput, match="references.0") as info:
        await gateway.edit(EditRequest(image=design, instruction="x", references=[truncated]))
    assert info.value.details[0].loc == ["references", 0]
    assert openai_fake.requests() == []


async def test_backend_override_only_where_allowed(gateway, design):
    with pytest.raises(InvalidInput, match="not enabled") as info:
        await gateway.edit(EditRequest(image=design, instruction="x", backend="openai-images"))
    assert "openai-responses" in info.value.message


async def test_backend_override_picks_another_loaded_backend(openai_fake, design):
    serving = openai_serving(openai_fake, "openai-responses", allowed_backends=["openai-images"])
    response = await serving.edit(EditRequest(image=design, instruction="x", backend="openai-images"))
    assert response.model.backend == "openai-images" and len(openai_fake.requests("images")) == 1
    info = serving.info()
    assert info.backends == ["openai-responses", "openai-images"] and info.ready
    assert info.limits["max_references"] == {"openai-responses": 15, "openai-images": 15}
    await serving.aclose()


def test_an_openai_gateway_loads_no_torch_opencv_or_flats():
    """The OpenAI-only install stays light: nothing heavy is imported unless the local backend is selected."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from fashionedit.services.editor.serving import EditorServing\n"
        "assert EditorServing(background=False).ready\n"
        "print([m for m in ('torch', 'cv2', 'diffusers', 'fashionedit.flats') if m in sys.modules])\n"
    )
    env = {"FASHIONEDIT_EDITOR_BACKEND": "openai-images", "FASHIONEDIT_EDITOR_OPENAI_API_KEY": "sk-test", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"
