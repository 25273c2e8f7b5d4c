"""Pictures of the talk's scenes that are not the animation: the expected loss's three parts over a whole run,
drawn complete and large for a projector (``lucky5.scenes``'s "why" scene).

A still picture: the scene's point is the shape of the whole run (the fast error gone within tens of epochs,
the valley term barely moved), which an animation would only reveal at its end.
"""

from __future__ import annotations

import plotly.graph_objects as go
import torch

from .. import theory
from ..engine import History
from .panels import _term_colors
from .style import EPOCH_TICKS, _log_axis, _Style, palette
from .traces import _line, _round, _subsample

LOSS_PARTS_TITLE = "The expected loss over the run, in its three parts"
_PART_NAMES = (
    "fast error (0.5·Σw + b − t)²",
    "valley (Σw)²/120",
    "disagreement ‖w − mean w‖²/12",
)


def loss_parts(history: History, *, theme: str = "light", projector: bool = True, height: int = 480) -> go.Figure:
    """The expected loss's three parts at every epoch of ``history`` (``theory.loss_terms``) and their sum
    (``theory.expected_losses``), on a log scale, with a legend that names each part and its formula.

    Args:
        history: the run; epochs 0..steps are drawn (a diverged run's finite ones).
        theme: "light" or "dark" (``THEMES``): every line has 3:1 contrast against its plot.
        projector: every text at least ``PROJECTOR_FONT`` px.
        height: px; a page may stretch the figure to its container instead.

    Raises:
        ValueError: unknown theme.
    """
    p = palette(theme)
    style = _Style(projector, p.text)
    terms = theory.loss_terms(history)  # (steps + 1, 3) float64
    total = theory.expected_losses(history)
    idx = _subsample(history.steps + 1, 600)
    epochs = idx.tolist()
    fig = go.Figure()
    # The sum first and thickest, under the parts: where a part lies on it, that part is the whole loss.
    fig.add_trace(_line(epochs, _round(total[idx]), p.blue, "expected loss: the sum of the three", 6))
    for name, color, j in zip(_PART_NAMES, _term_colors(p), range(3), strict=True):
        fig.add_trace(_line(epochs, _round(terms[idx, j]), color, name, 3.5))
    fig.update_xaxes(range=[0, max(1, history.steps)], title_text="epoch", **EPOCH_TICKS)
    _log_axis(fig, torch.cat([terms.flatten(), total]), title_text="expected loss")  # finite, positive values
    fig.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=20 + style.title_font * 2, b=10),
        title=dict(text=f"<b>{LOSS_PARTS_TITLE}</b>", x=0, xanchor="left", y=1, yanchor="top", pad=dict(t=8, l=8)),
        showlegend=True,
        legend=dict(x=1.02, xanchor="left", y=1, yanchor="top", itemwidth=40, tracegroupgap=4),
        hovermode="x unified",
    )
    style.apply(fig)
    return fig
