"""Session scripts: a YAML or JSON file that says what a session does, for `--script FILE`.

A full script (``fashionedit session new --script FILE``)::

    prompt: This lady is wearing a long-sleeve white blazer with a lapel neckline.
    candidates: 2          # generator candidates; `pick` chooses one (default 0 in script mode)
    pick: 0
    seed: 7
    size: 512              # or width: / height:
    target: inspiration.png   # optional: scores every round and proposes next edits
    rounds:
      - instruction: make the blazer navy                      # text-as-prompt (Vanilla)
      - instruction: add these gold buttons
        references: [buttons.png]                              # image-into-prompt (BUG)
        target_box: [300, 420, 700, 580]                       # box_2d [ymin, xmin, ymax, xmax], 0-1000
      - suggestion: 1      # apply the analyzer's first proposed edit (its description, crop and box)

``fashionedit session round ID --script FILE`` takes a file with only ``rounds:``
(or a bare list of rounds). Relative paths are read from the script's folder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from fashionedit.contracts import Box2D


class ScriptRound(BaseModel):
    model_config = ConfigDict(extra="forbid")

    instruction: str | None = None
    references: list[Path] = Field(default_factory=list)
    target_box: Box2D | None = None
    suggestion: int | None = Field(default=None, ge=1)
    seed: int | None = None

    @field_validator("target_box", mode="before")
    @classmethod
    def _box_in_any_printed_form(cls, value: Any) -> Any:
        from .design import parse_box  # the CLI's own reading of a box, with its messages

        return value if value is None else parse_box(value)

    @model_validator(mode="after")
    def _needs_something(self) -> ScriptRound:
        if not (self.instruction and self.instruction.strip()) and self.suggestion is None:
            raise ValueError("each round needs an instruction or a suggestion number")
        return self


class SessionScript(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str | None = None
    name: str | None = None
    negative_prompt: str = ""
    candidates: int = Field(default=1, ge=1, le=8)
    pick: int | None = Field(default=None, ge=0)
    seed: int | None = None
    size: int | None = None
    width: int | None = None
    height: int | None = None
    steps: int | None = None
    guidance_scale: float | None = None
    target: Path | None = None
    analyze_k: int = Field(default=3, ge=1, le=10)
    rounds: list[ScriptRound] = Field(default_factory=list)

    @property
    def dimensions(self) -> tuple[int, int]:
        side = self.size or 1024
        return self.width or side, self.height or side

    def resolved(self, base: Path) -> SessionScript:
        """Paths made absolute against the script's folder."""

        def fix(path: Path) -> Path:
            path = path.expanduser()
            return path if path.is_absolute() else (base / path)

        copy = self.model_copy(deep=True)
        if copy.target is not None:
            copy.target = fix(copy.target)
        for round_ in copy.rounds:
            round_.references = [fix(p) for p in round_.references]
        return copy


def parse_script(data: Any, *, base: Path) -> SessionScript:
    if isinstance(data, list):
        data = {"rounds": data}
    if not isinstance(data, dict):
        raise ValueError("a session script is a mapping (prompt:, rounds:, ...) or a list of rounds")
    return SessionScript.model_validate(data).resolved(base)


def load_script(path: str | Path) -> SessionScript:
    path = Path(path).expanduser().resolve()
    text = path.read_text(encoding="utf-8")
    data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    return parse_script(data, base=path.parent)
