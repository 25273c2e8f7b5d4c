"""The charts beside the animation: how the prediction adds up (``contributions``), K seeds side by side
(``seed_spread``) and several runs' expected loss on one chart (``race``)."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from .. import theory
from ..engine import History
from .style import BAND_OPACITY, EPOCH_TICKS, _log_axis, _Style, palette
from .traces import _round, _subsample


def contributions(history: History, x: torch.Tensor, *, theme: str = "light", projector: bool = False) -> go.Figure:
    """How b + Σ wᵢxᵢ adds up to the prediction for ``x`` (10,), as a waterfall of the trained layer."""
    p = palette(theme)
    style = _Style(projector)
    layer = history.trained
    w, b = layer.weight.double(), layer.bias
    parts = (w * x.double()).tolist()
    labels = ["b"] + [f"w{i + 1}·x{i + 1}" for i in range(10)] + ["prediction"]
    fig = go.Figure(
        go.Waterfall(
            x=labels,
            y=[b] + parts + [0.0],
            measure=["absolute"] + ["relative"] * 10 + ["total"],
            increasing=dict(marker=dict(color=p.blue, line=dict(color=p.blue, width=0))),
            decreasing=dict(marker=dict(color=p.vermilion, line=dict(color=p.vermilion, width=0))),
            totals=dict(marker=dict(color=p.green, line=dict(color=p.green, width=0))),
            connector=dict(line=dict(color=p.muted, width=1)),
            text=[f"{v:.3g}" for v in [b] + parts + [b + sum(parts)]],
            textposition="outside",
            textfont=dict(size=style.font),
        )
    )
    fig.update_layout(
        height=420 if projector else 340,
        margin=dict(l=10, r=10, t=40, b=10),
        showlegend=False,
        title_text="How the prediction adds up: b + Σ wᵢ·xᵢ",
    )
    style.apply(fig)
    return fig


def seed_spread(histories: Sequence[History], *, theme: str = "light", projector: bool = False) -> go.Figure:
    """K seeds: the band of expected-loss curves, and where each run's parameters ended."""
    p = palette(theme)
    style = _Style(projector)
    fig = make_subplots(
        rows=1,
        cols=2,
        column_widths=[0.6, 0.4],
        subplot_titles=("Expected loss, every seed", "Where the runs end: b against ‖w‖"),
    )
    curves = []
    for i, h in enumerate(histories):
        e = theory.expected_losses(h)
        curves.append(e)
        idx = _subsample(h.steps + 1, 400)
        fig.add_trace(
            go.Scatter(
                x=idx.tolist(),
                y=_round(e[idx]),
                mode="lines",
                line=dict(color=p.band, width=1),
                opacity=BAND_OPACITY,
                showlegend=i == 0,
                name=f"seed {h.config.seed}" if i else "one line per seed",
            ),
            row=1,
            col=1,
        )
    layers = [h.trained for h in histories]
    norms, biases = [layer.norm for layer in layers], [layer.bias for layer in layers]
    fig.add_trace(
        go.Scatter(
            x=norms,
            y=biases,
            mode="markers",
            text=[f"seed {h.config.seed}" for h in histories],
            marker=dict(color=p.orange, size=10, line=dict(color=p.orange, width=0)),
            name="end of each run",
        ),
        row=1,
        col=2,
    )
    target = histories[0].config.target
    fig.add_trace(
        go.Scatter(
            x=[0],
            y=[target],
            mode="markers",
            name="optimum",
            marker=dict(symbol="star", size=16, color=p.green, line=dict(color=p.green, width=0)),
        ),
        row=1,
        col=2,
    )
    if curves:
        _log_axis(fig, torch.cat(curves), row=1, col=1)
    fig.update_xaxes(title_text="epoch", row=1, col=1, **EPOCH_TICKS)
    fig.update_xaxes(title_text="‖w‖", row=1, col=2)
    fig.update_yaxes(title_text="b", row=1, col=2)
    fig.update_layout(
        height=460 if projector else 380, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.2)
    )
    style.apply(fig)
    return fig


def race(
    histories: Sequence[History], labels: Sequence[str], *, theme: str = "light", projector: bool = False
) -> go.Figure:
    """Several runs on one chart: the expected loss of each, stopped where a run diverged.

    Lines take ``Palette.series``'s eight colours in turn; runs 9–16 repeat them dashed, 17–24 dotted.
    """
    p = palette(theme)
    style = _Style(projector)
    fig = go.Figure()
    curves = []
    for i, (h, label) in enumerate(zip(histories, labels, strict=True)):
        e = theory.expected_losses(h)
        curves.append(e)
        idx = _subsample(h.steps + 1, 600)
        name = label + (f" (diverged at epoch {h.diverged_at})" if h.diverged_at is not None else "")
        colors = p.series
        dash = ("solid", "dash", "dot")[(i // len(colors)) % 3]
        fig.add_trace(
            go.Scatter(
                x=idx.tolist(),
                y=_round(e[idx]),
                mode="lines",
                name=name,
                line=dict(color=colors[i % len(colors)], width=2, dash=dash),
            )
        )
    if curves:
        _log_axis(fig, torch.cat(curves), title_text="expected loss")
    fig.update_xaxes(title_text="epoch", **EPOCH_TICKS)
    fig.update_layout(
        height=460 if projector else 380,
        margin=dict(l=10, r=10, t=40, b=10),
        legend=dict(orientation="h", y=-0.2),
        title_text="Race: expected loss per epoch",
    )
    style.apply(fig)
    return fig
