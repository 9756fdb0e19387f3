"""The tiled-texture cache is bounded by bytes, not by entries (each entry is a supersampled canvas)."""

from __future__ import annotations

from fashionedit.contracts.garment import Fabric
from fashionedit.flats import render


def test_the_canvas_cache_stays_under_its_byte_budget(monkeypatch) -> None:
    monkeypatch.setattr(render, "TEXTURE_CACHE_BYTES", 8 * 1024 * 1024)
    render._canvas_cache.clear()
    monkeypatch.setattr(render, "_canvas_cache_bytes", 0)
    for fabric in list(Fabric)[:4]:
        for side in (512, 768, 1024, 1536):
            canvas = render._texture_canvas(fabric, side, side)
            assert canvas.size == (side, side)
            assert render.texture_cache_bytes() <= render.TEXTURE_CACHE_BYTES
    assert render._canvas_cache  # recent canvases are still kept
    again = render._texture_canvas(list(Fabric)[3], 1024, 1024)
    assert again is render._texture_canvas(list(Fabric)[3], 1024, 1024)  # a hit is the same shared canvas
