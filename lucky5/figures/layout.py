"""Where the animation's panels go: one column (phones up) or two (landscape screens), and the
figure's height when none is given."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

PANELS = ("loss", "terms", "valley", "parameters", "prediction")  # the animation's panels, top to bottom
_PANEL_WEIGHT = {"loss": 1.0, "terms": 0.8, "valley": 1.5, "parameters": 1.0, "prediction": 0.8}


def _check_panels(panels: Sequence[str]) -> tuple[str, ...]:
    chosen = tuple(panels) if not isinstance(panels, str) else (panels,)
    unknown = [p for p in chosen if p not in PANELS]
    if not chosen or unknown or len(set(chosen)) != len(chosen):
        raise ValueError(f"panels must be distinct names from {PANELS}, at least one; got {panels!r}")
    return chosen


_OVER_TIME = ("loss", "terms", "prediction")  # panels over epochs: the left column of the wide layout


@dataclass(frozen=True)
class _Cell:
    name: str
    row: int
    col: int
    rowspan: int


def _grid(chosen: tuple[str, ...], columns: int) -> tuple[list[_Cell], int, list[float]]:
    """Where each panel goes: (cells, grid rows, row heights). One column stacks the panels in the
    given order; two put the panels over epochs on the left and the valley and the bars on the right
    (the valley twice as tall as the bars when the left has three panels)."""
    left = [p for p in chosen if p in _OVER_TIME]
    right = [p for p in chosen if p not in _OVER_TIME]
    if columns == 1 or not left or not right:
        return [_Cell(p, i + 1, 1, 1) for i, p in enumerate(chosen)], len(chosen), [_PANEL_WEIGHT[p] for p in chosen]
    rows = max(len(left), len(right))
    cells = [_Cell(p, 1 + i * (rows // len(left)), 1, rows // len(left)) for i, p in enumerate(left)]
    if len(right) == 1 or rows == len(right):
        cells += [_Cell(p, 1 + i * (rows // len(right)), 2, rows // len(right)) for i, p in enumerate(right)]
    else:  # two panels on the right beside three on the left
        big = "valley" if "valley" in right else right[0]
        order = [big] + [p for p in right if p != big]
        cells += [_Cell(order[0], 1, 2, 2), _Cell(order[1], 3, 2, 1)]
    return sorted(cells, key=lambda c: (c.row, c.col)), rows, [1.0] * rows


def default_height(panels: Sequence[str] = PANELS, projector: bool = False, columns: int = 1) -> int:
    """The animation's height in px when none is given: about 180 px of plot per panel row (the
    valley 1.5 times that when stacked), plus titles, buttons and slider."""
    chosen = _check_panels(panels)
    cells, rows, weights = _grid(chosen, _check_columns(columns))
    per = 175 if projector else 180  # px of plot per unit of panel weight
    return round(170 + _gap_px(projector) * (rows - 1) + per * sum(weights))


def _check_columns(columns: int) -> int:
    if columns not in (1, 2) or isinstance(columns, bool):
        raise ValueError(f"columns must be 1 or 2, not {columns!r}")
    return int(columns)


def _gap_px(projector: bool) -> int:
    """Vertical room between panels: the next panel's two-line title and this one's tick labels."""
    return 105 if projector else 90
