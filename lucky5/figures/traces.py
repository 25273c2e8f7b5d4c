"""Small trace builders every chart shares: long curves thinned, floats rounded, a line, a marker, the curtain."""

from __future__ import annotations

import math
from collections.abc import Sequence

import plotly.graph_objects as go
import torch

from .style import Palette, power_of_ten

MAX_CURVE_POINTS = 1_500  # static curves are subsampled to this many points
CURTAIN = "not yet"  # the curtain's trace name (``_curtain``)


def _subsample(steps: int, limit: int = MAX_CURVE_POINTS) -> torch.Tensor:
    if steps <= limit:
        return torch.arange(steps)
    return torch.linspace(0, steps - 1, limit).round().long().unique()


def _round(values: torch.Tensor | Sequence[float | None], digits: int = 5) -> list[float | None]:
    """Floats with 5 significant digits: a third of the bytes of full precision, same picture."""
    if isinstance(values, torch.Tensor):
        values = values.tolist()
    return [float(f"{v:.{digits}g}") if v is not None and math.isfinite(v) else None for v in values]


def _line(x: list, y: list, color: str, name: str, width: float = 2.5) -> go.Scatter:
    return go.Scatter(x=x, y=y, mode="lines", line=dict(color=color, width=width), name=name)


def _ring(level: float, us: list, bs: list, p: Palette) -> go.Scatter:
    """One contour of the valley's expected loss (``_Valley.rings``), named by its level, a power of ten."""
    return go.Scatter(
        x=us,
        y=bs,
        mode="lines",
        line=dict(color=p.muted, width=1),
        hoverinfo="name",
        name=f"expected loss {power_of_ten(round(math.log10(level)))}",
        meta=level,
    )


def _marker(x: float, y: float, color: str, name: str, p: Palette, said: str | None = None) -> go.Scatter:
    """The dot at the epoch on screen. With ``said``, hovering it reads that text (the value written from the
    unrounded number) instead of the drawn y, which keeps five digits: 4.9999995 must not read as 5."""
    hover = {} if said is None else {"text": [said], "hovertemplate": "%{text}<extra></extra>"}
    return go.Scatter(
        x=[x],
        y=_round([y]),
        mode="markers",
        name=name,
        marker=dict(color=color, size=12, line=dict(color=p.ink, width=1.5)),
        cliponaxis=False,  # whole at the axis range's edge (a run that blows up reaches the top), not cut in half
        **hover,
    )


def _curtain(end: float, low: float, high: float, p: Palette) -> go.Scatter:
    """Time runs forward: a polygon in the plot's background colour from x = 0 (each frame moves its left edge,
    ``_curtain_at``) past ``end`` and from ``low`` to ``high`` (data units), hiding every epoch not yet shown."""
    return go.Scatter(
        x=[0, end, end, 0, 0],
        y=[low, low, high, high, low],
        mode="lines",
        fill="toself",
        fillcolor=p.background,
        line=dict(width=0, color=p.background),
        hoverinfo="skip",
        name=CURTAIN,
    )


def _curtain_at(s: int, end: float) -> dict:
    """A frame's update of ``_curtain``: its left edge at epoch ``s`` (five numbers)."""
    return {"x": [s, end, end, s, s]}
