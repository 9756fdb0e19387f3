"""ImagePayload: validated before decoding, clear messages, RGB on the way out."""

from __future__ import annotations

import base64
import io
import struct
import zlib

import pytest
from PIL import Image
from pydantic import BaseModel, ValidationError

from fashionedit.contracts import ImageDecodeError, ImageLimits, ImagePayload, decode_image_bytes, image_payload
from fashionedit.contracts.images import inspect_image_bytes


class Holder(BaseModel):
    image: ImagePayload


def png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def bomb_png(width: int, height: int) -> bytes:
    """A valid PNG header claiming a huge size, with a tiny compressed body (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    rows = zlib.compress(b"\x00" * (width + 1) * 16, 9)  # only 16 rows, but the header claims `height`
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_round_trip_each_format(fmt: str) -> None:
    img = Image.new("RGB", (37, 21), (10, 200, 30))
    payload = ImagePayload.from_pil(img, fmt)  # type: ignore[arg-type]
    assert payload.format == fmt
    assert payload.size == (37, 21)
    out = payload.to_pil()
    assert out.mode == "RGB" and out.size == (37, 21)
    assert Holder.model_validate_json(Holder(image=payload).model_dump_json()).image.to_bytes() == payload.to_bytes()


def test_data_url_and_whitespace_are_accepted() -> None:
    data = png_bytes(Image.new("RGB", (4, 4)))
    encoded = b64(data)
    assert ImagePayload(f"data:image/png;base64,{encoded}").to_bytes() == data
    assert ImagePayload(encoded[:10] + "\n" + encoded[10:]).to_bytes() == data
    assert ImagePayload.from_bytes(data).to_data_url().startswith("data:image/png;base64,")


def test_invalid_base64_is_refused_with_an_actionable_message() -> None:
    with pytest.raises(ValidationError) as err:
        Holder(image="this is not base64!!")
    assert "not valid base64" in str(err.value)


def test_empty_image_is_refused() -> None:
    with pytest.raises(ValidationError, match="empty"):
        Holder(image="   ")


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValidationError, match="PNG, JPEG or WebP"):
        Holder(image=b64(b"GIF89a" + b"\x00" * 20))


def test_truncated_png_header_is_refused_on_validation() -> None:
    data = png_bytes(Image.new("RGB", (64, 64), (1, 2, 3)))
    with pytest.raises(ValidationError, match="truncated or corrupt"):
        Holder(image=b64(data[:20]))


def test_truncated_png_body_is_refused_on_decode() -> None:
    img = Image.effect_noise((128, 128), 64).convert("RGB")
    data = png_bytes(img)
    payload = ImagePayload.from_bytes(data[: len(data) // 2])  # header intact, pixels cut
    with pytest.raises(ImageDecodeError, match="truncated or corrupt"):
        payload.to_pil()


def test_decompression_bomb_is_refused_before_decoding() -> None:
    data = bomb_png(30_000, 30_000)
    assert len(data) < 10_000  # tiny on the wire
    with pytest.raises(ValidationError) as err:
        Holder(image=b64(data))
    message = str(err.value)
    assert "decompression bomb" in message and "downscale" in message


def test_large_but_plausible_header_is_refused_by_our_limit() -> None:
    data = bomb_png(5000, 5000)  # under PIL's own bomb threshold, over our 4096x4096 default
    with pytest.raises(ValidationError) as err:
        Holder(image=b64(data))
    assert "5000x5000" in str(err.value) and "downscale" in str(err.value)


def test_limits_are_configurable() -> None:
    data = png_bytes(Image.new("RGB", (100, 100)))
    with pytest.raises(ImageDecodeError, match="over the limit"):
        inspect_image_bytes(data, ImageLimits(max_pixels=50 * 50))
    with pytest.raises(ImageDecodeError, match="byte limit"):
        decode_image_bytes(data, ImageLimits(max_encoded_bytes=10))


def test_oversized_payload_is_refused_before_base64_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    from fashionedit.contracts import images

    monkeypatch.setattr(images, "DEFAULT_LIMITS", ImageLimits(max_encoded_bytes=1024))
    with pytest.raises(ValidationError, match="larger than"):
        Holder(image="A" * 10_000)


@pytest.mark.parametrize(
    "mode,expected",
    [("RGBA", (255, 255, 255)), ("LA", (255, 255, 255)), ("L", (128, 128, 128)), ("P", (0, 0, 0)), ("I;16", (128, 128, 128))],
)
def test_modes_convert_to_rgb(mode: str, expected: tuple[int, int, int]) -> None:
    if mode in ("RGBA", "LA"):
        img = Image.new(mode, (8, 8), (0, 0) if mode == "LA" else (0, 0, 0, 0))  # fully transparent → white
    elif mode == "I;16":
        img = Image.new(mode, (8, 8), 32896)  # mid-grey in 16 bits
    elif mode == "P":
        img = Image.new("P", (8, 8), 0)
    else:
        img = Image.new(mode, (8, 8), 128)
    out = ImagePayload.from_pil(img).to_pil()
    assert out.mode == "RGB"
    assert out.getpixel((3, 3)) == expected


def test_repr_never_dumps_base64() -> None:
    payload = ImagePayload.from_pil(Image.new("RGB", (300, 300)))
    assert len(repr(payload)) < 80 and "PNG" in repr(payload)


def test_png_text_metadata_survives_encoding() -> None:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("fashionedit:garment", '{"type": "blazer"}')
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, format="PNG", pnginfo=info)
    reopened = Image.open(io.BytesIO(buf.getvalue()))
    reopened.load()
    payload = ImagePayload.from_pil(reopened)
    assert payload.png_text() == {"fashionedit:garment": '{"type": "blazer"}'}


def test_image_payload_coerces_common_inputs(tmp_path) -> None:
    img = Image.new("RGB", (5, 5), (9, 9, 9))
    path = tmp_path / "x.png"
    img.save(path)
    for value in (img, path, str(path), path.read_bytes(), b64(path.read_bytes())):
        assert image_payload(value).size == (5, 5)
    with pytest.raises(TypeError):
        image_payload(3.5)


def test_save_is_atomic_and_leaves_no_temporary_file(tmp_path, monkeypatch) -> None:
    import os as _os

    from PIL import Image as _Image

    from fashionedit.contracts import ImagePayload as _Payload

    payload = _Payload.from_pil(_Image.new("RGB", (8, 8), (1, 2, 3)))
    target = tmp_path / "out.png"
    target.write_bytes(b"old")

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(_os, "replace", fail)
    try:
        payload.save(target)
    except OSError:
        pass
    assert target.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]
    monkeypatch.undo()
    payload.save(target)
    assert target.read_bytes() == payload.to_bytes() and sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]
