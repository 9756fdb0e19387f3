"""LMM answer variants and what the analyzer must make of them (shared by the parser and SDK tests).

Boxes are expected in box_2d ([ymin, xmin, ymax, xmax] on 0-1000) for a model asked in the paper's
convention, with pixel coordinates referring to an ORIGINAL of ``IMAGE_SIZE``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fashionedit.contracts import RepairCode as R

IMAGE_SIZE = (2000, 1500)  # (width, height): big enough that pixel answers exceed 1000
L, N, C, RO, CL, ZA, DI, T, MD = (
    R.PARSED_LENIENTLY,
    R.RENAMED_KEY,
    R.CONVERTED,
    R.REORDERED,
    R.CLAMPED,
    R.DROPPED_ZERO_AREA,
    R.DROPPED_INVALID,
    R.TRUNCATED,
    R.MISSING_DESCRIPTION,
)


def flat(boxes: list[list[float]]) -> list[float]:
    return [v for box in boxes for v in box]


@dataclass(frozen=True)
class Variant:
    name: str
    text: str
    boxes: list[list[float]]
    repairs: list[R] = field(default_factory=list)
    k: int = 3
    descriptions: list[str] | None = None


def _items(n: int) -> str:
    return ", ".join(
        f'{{"description": "d{i}", "box_2d": [{10 * i}, {10 * i}, {10 * i + 100}, {10 * i + 100}]}}' for i in range(n)
    )


READABLE: list[Variant] = [
    Variant(
        "paper_object",
        '{"differences": [{"description": "Red collar", "box_2d": [100, 200, 300, 400]}]}',
        [[100, 200, 300, 400]],
        [],
        descriptions=["Red collar"],
    ),
    Variant("bare_list", '[{"description": "A", "box_2d": [100, 200, 300, 400]}]', [[100, 200, 300, 400]], [L]),
    Variant(
        "fenced_json",
        'Here you go:\n```json\n{"differences": [{"description": "A", "box_2d": [100, 200, 300, 400]}]}\n```\nDone.',
        [[100, 200, 300, 400]],
        [L],
    ),
    Variant(
        "python_literal_paper_example",
        "[{'description': 'Wearing a belt', 'box_2d': [0, 250, 600, 750]}]",
        [[0, 250, 600, 750]],
        [L, L],
        descriptions=["Wearing a belt"],
    ),
    Variant(
        "bbox_2d_key", '{"differences": [{"description": "A", "bbox_2d": [100, 200, 300, 400]}]}', [[100, 200, 300, 400]], [N]
    ),
    Variant("bbox_key", '{"differences": [{"description": "A", "bbox": [100, 200, 300, 400]}]}', [[100, 200, 300, 400]], [N]),
    Variant("box_key", '{"differences": [{"description": "A", "box": [100, 200, 300, 400]}]}', [[100, 200, 300, 400]], [N]),
    Variant(
        "pixel_coordinates",
        '{"differences": [{"description": "A", "box_2d": [300, 500, 1200, 1800]}]}',
        [[200, 250, 800, 900]],
        [C],
    ),
    Variant(
        "reversed_corners",
        '{"differences": [{"description": "A", "box_2d": [300, 400, 100, 200]}]}',
        [[100, 200, 300, 400]],
        [RO],
    ),
    Variant(
        "out_of_range", '{"differences": [{"description": "A", "box_2d": [-20, 100, 500, 990]}]}', [[0, 100, 500, 990]], [CL]
    ),
    Variant(
        "zero_area_dropped",
        '{"differences": [{"description": "A", "box_2d": [100, 100, 100, 300]}, {"description": "B", "box_2d": [100, 200, 300, '
        "400]}]}",
        [[100, 200, 300, 400]],
        [ZA],
        descriptions=["B"],
    ),
    Variant(
        "more_than_k",
        '{"differences": [' + _items(5) + "]}",
        [[10 * i, 10 * i, 10 * i + 100, 10 * i + 100] for i in range(3)],
        [T],
    ),
    Variant(
        "fewer_than_k", '{"differences": [{"description": "A", "box_2d": [100, 200, 300, 400]}]}', [[100, 200, 300, 400]], [], k=3
    ),
    Variant(
        "discription_typo",
        '{"differences": [{"discription": "A", "box_2d": [100, 200, 300, 400]}]}',
        [[100, 200, 300, 400]],
        [N],
        descriptions=["A"],
    ),
    Variant(
        "prose_around_json",
        'The differences are {"differences": [{"description": "A", "box_2d": [1, 2, 3, 4]}]} as requested.',
        [[1, 2, 3, 4]],
        [L],
    ),
    Variant("results_key", '{"results": [{"description": "A", "box_2d": [100, 200, 300, 400]}]}', [[100, 200, 300, 400]], [N]),
    Variant(
        "numbers_as_text",
        '{"differences": [{"description": "A", "box_2d": ["100", "200", "300", "400"]}]}',
        [[100, 200, 300, 400]],
        [L],
    ),
    Variant("missing_description", '{"differences": [{"box_2d": [100, 200, 300, 400]}]}', [[100, 200, 300, 400]], [MD]),
    Variant("single_object", '{"description": "A", "box_2d": [100, 200, 300, 400]}', [[100, 200, 300, 400]], [L]),
    Variant(
        "corner_pairs", '{"differences": [{"description": "A", "box_2d": [[100, 200], [300, 400]]}]}', [[100, 200, 300, 400]], [L]
    ),
    Variant(
        "named_corners",
        '{"differences": [{"description": "A", "box_2d": {"xmin": 200, "ymin": 100, "xmax": 400, "ymax": 300}}]}',
        [[100, 200, 300, 400]],
        [L],
    ),
    Variant(
        "reversed_and_out_of_range_and_renamed",
        "```\n[{'label': 'A', 'bbox': [1100, 2100, -30, 50]}]\n```",
        # values > 1000 are pixels of 2000x1500: y 1100/1500, x 2100/2000 -> reorder -> clamp
        [[0.0, 25.0, 733.3333333333334, 1000.0]],
        [L, L, N, C, RO, CL, N],
    ),
    Variant("empty_list_means_none", '{"differences": []}', [], []),
    Variant(
        "one_bad_item_of_two",
        '{"differences": [{"description": "A", "box_2d": [1, 2]}, {"description": "B", "box_2d": [100, 200, 300, 400]}]}',
        [[100, 200, 300, 400]],
        [DI],
    ),
]

UNREADABLE: list[tuple[str, str]] = [
    ("empty", ""),
    ("prose_only", "I'm sorry, I can't compare these images."),
    ("truncated_fence", '```json\n{"differences": [{"description": "A", "box_2d": [1'),
    ("no_box", '{"differences": [{"description": "A"}]}'),
    ("all_zero_area", '{"differences": [{"description": "A", "box_2d": [5, 5, 5, 5]}]}'),
    ("list_is_string", '{"differences": "none found"}'),
    ("lone_box", "[100, 200, 300, 400]"),
]
