"""The one device/dtype rule the generator, the editor and the scorer share."""

from __future__ import annotations

import pytest
import torch

from fashionedit.services.common.devices import device_and_dtype, resolve_device, resolve_dtype


def test_auto_picks_cuda_when_torch_sees_a_gpu_else_cpu(monkeypatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == "cuda"


def test_mps_only_where_the_caller_allows_it(monkeypatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert resolve_device("auto") == "cpu"
    assert resolve_device("auto", allow_mps=True) == "mps"


def test_a_named_device_is_used_as_given(monkeypatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("cpu") == "cpu" and resolve_device("cuda:1") == "cuda:1"


@pytest.mark.parametrize(
    ("name", "device", "half", "expected"),
    [
        ("auto", "cuda", "float16", torch.float16),  # SD3 as the paper ran it
        ("auto", "cuda:0", "bfloat16", torch.bfloat16),  # the open editing models
        ("auto", "cpu", "float16", torch.float32),  # no fast half precision on CPUs
        ("auto", "mps", "float16", torch.float32),
        ("bfloat16", "cpu", "float16", torch.bfloat16),  # a named dtype wins
        ("float32", "cuda", "bfloat16", torch.float32),
    ],
)
def test_dtype(name, device, half, expected) -> None:
    assert resolve_dtype(name, device, half=half) is expected


def test_both_at_once(monkeypatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert device_and_dtype("auto", "auto", half="bfloat16") == ("cuda", torch.bfloat16)
    assert device_and_dtype("cpu", "auto") == ("cpu", torch.float32)
