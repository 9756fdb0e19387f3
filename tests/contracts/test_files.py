"""The shared crash-safe writer: old or new content, never a part, and no temporary left behind."""

from __future__ import annotations

import os

import pytest

from fashionedit.contracts import files
from fashionedit.contracts.files import atomic_write_bytes, atomic_write_text, remove_stale_temporaries


def test_writes_and_replaces_whole_content(tmp_path):
    target = tmp_path / "deep" / "folder" / "a.json"
    assert atomic_write_text(target, "first") == target
    atomic_write_bytes(target, b"second")
    assert target.read_bytes() == b"second"
    assert [p.name for p in target.parent.iterdir()] == ["a.json"]


def test_interrupted_write_keeps_old_content_and_leaves_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "a.bin"
    target.write_bytes(b"old")

    def power_cut(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "replace", power_cut)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin"]


def test_folder_is_synced_after_the_rename(tmp_path, monkeypatch):
    synced: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(fd):
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        return real_fsync(fd)

    monkeypatch.setattr(files.os, "fsync", recording_fsync)
    atomic_write_bytes(tmp_path / "x.png", b"png")
    assert synced[-1] == str(tmp_path)  # the folder last: the rename is durable


def test_stale_temporaries_from_a_killed_writer_are_removed(tmp_path):
    (tmp_path / "images").mkdir()
    stale = [tmp_path / ".records.jsonl.k3j2.tmp", tmp_path / "images" / ".0001.png.abcd.tmp"]
    for path in stale:
        path.write_bytes(b"half")
    keep = [tmp_path / "records.jsonl", tmp_path / "images" / "0001.png", tmp_path / "notes.tmp"]
    for path in keep:
        path.write_bytes(b"whole")
    assert sorted(remove_stale_temporaries(tmp_path)) == sorted(stale)
    assert all(path.exists() for path in keep)
    assert remove_stale_temporaries(tmp_path / "missing") == []
