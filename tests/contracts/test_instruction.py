"""The edit instruction reaches the editor byte for byte (the published code concatenates it unchanged)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from fashionedit.contracts import EditRequest, ImagePayload
from fashionedit.contracts.edit import BUG_PROMPT, compose_prompt

PIXEL = ImagePayload.from_bytes(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415408d763f8ffff3f0005fe02fe"
        "a7359a290000000049454e44ae426082"
    )
)


@pytest.mark.parametrize("instruction", [" Add a pocket.", "Add a pocket. ", "\n\tAdd a pocket.\n", "  two  spaces  inside  "])
def test_instruction_is_kept_as_sent(instruction):
    request = EditRequest.model_validate_json(EditRequest(image=PIXEL, instruction=instruction).model_dump_json())
    assert request.instruction == instruction
    assert compose_prompt(BUG_PROMPT, request.instruction) == BUG_PROMPT + instruction


@pytest.mark.parametrize("instruction", ["", " ", "\n\t "])
def test_empty_or_whitespace_only_is_refused(instruction):
    with pytest.raises(ValidationError, match="must not be empty or whitespace|at least 1 character"):
        EditRequest(image=PIXEL, instruction=instruction)
