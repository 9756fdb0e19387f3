"""An interrupted synthetic-dataset write leaves whole files or none, never a half file or a .tmp."""

from __future__ import annotations

import os

import pytest

from fashionedit.flats import synthetic


def test_an_interrupted_write_keeps_no_partial_file(tmp_path, monkeypatch) -> None:
    synthetic.write_synthetic_dataset(tmp_path, n=2, seed=0, image_size=(128, 128))
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    calls = {"n": 0}
    real_replace = os.replace

    def replace_then_die(src, dst):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # killed mid-run
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace_then_die)
    with pytest.raises(KeyboardInterrupt):
        synthetic.write_synthetic_dataset(tmp_path, n=2, seed=1, image_size=(128, 128))
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert not [p for p in after if p.name.endswith(".tmp")]
    assert set(after) >= set(before)
    for path, data in after.items():  # every file is a complete one, from one run or the other
        if path.suffix in (".png", ".jpg"):
            assert data[-2:] in (b"\xff\xd9", b"\x82") or data.endswith(b"IEND\xaeB`\x82"), path
