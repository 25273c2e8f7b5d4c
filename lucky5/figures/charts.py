"""The charts beside the animation: how the prediction adds up (``contributions``), K seeds side by side
(``seed_spread``) and several runs' expected loss on one chart (``race``)."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from .. import theory
from ..engine import History
from ..room import blew_up, summarize
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
            cliponaxis=False,  # it sits on the b axis (‖w‖ = 0), half outside the plot
        ),
        row=1,
        col=2,
    )
    if curves:
        _log_axis(fig, torch.cat(curves), row=1, col=1)
    fig.update_xaxes(title_text="epoch", row=1, col=1, **EPOCH_TICKS)
    # ‖w‖ starts at 0, where the b axis is drawn: the optimum (‖w‖ = 0, b = t) sits on it.
    fig.update_xaxes(title_text="‖w‖", rangemode="tozero", row=1, col=2)
    fig.update_yaxes(title_text="b", showline=True, linecolor=p.muted, linewidth=1, row=1, col=2)
    fig.update_layout(
        height=460 if projector else 380, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.2)
    )
    style.apply(fig)
    return fig


# Each run of a race differs from every other in colour, dash and end marker, so that neighbouring rates
# (0.2 and 0.3) stay apart for any eyes and in greyscale; a race has at most eight runs (inputs.MAX_RACE).
RACE_DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot", "6px,3px,2px,3px", "2px,6px")
RACE_SYMBOLS = ("circle", "square", "diamond", "triangle-up", "triangle-down", "pentagon", "hexagon", "star")
BLEW_UP_SYMBOL = "x"  # the end of a run that blew up (``lucky5.room.blew_up``, the wall's rule)
RACE_END_SIZE = 11  # px: the marker at the end of each run's line
# The loss axis ends at this multiple of the highest starting expected loss: a run above it has blown up,
# and leaves through the top instead of squeezing the runs that settled into the bottom decades.
RACE_CEILING = 1e3


def race(
    histories: Sequence[History], labels: Sequence[str], *, theme: str = "light", projector: bool = False
) -> go.Figure:
    """Several runs on one chart: the expected loss of each, stopped where a run diverged or left the chart
    (``RACE_CEILING``), and which runs blew up.

    Run i takes colour ``Palette.series[i % 8]``, dash ``RACE_DASHES[i % 8]`` and end marker
    ``RACE_SYMBOLS[i % 8]``; a run that blew up (``lucky5.room.blew_up``: it overflowed, or its loss
    ended higher than it started) ends in ``BLEW_UP_SYMBOL`` and its name says so. When theory gives SGD's
    stability limit (``theory.stability``, the number on the settings' gauge) each name says which side of it
    the run's learning rate is, and the limit has a legend entry of its own, ranked between the runs below
    and above it; otherwise the subtitle says why no limit is claimed.
    """
    p = palette(theme)
    style = _Style(projector)
    fig = go.Figure()
    curves = []
    gauge = theory.stability(histories[0].config) if histories else None
    limit = gauge.limit if gauge is not None else None
    ranks = {h.config.lr: 10 * (r + 1) for r, h in enumerate(sorted(histories, key=lambda h: h.config.lr))}
    expected = [theory.expected_losses(h) for h in histories]
    ceiling = RACE_CEILING * max((float(e[0]) for e in expected), default=1.0)
    blown, cut = 0, False
    for i, (h, label, e) in enumerate(zip(histories, labels, expected, strict=True)):
        idx = _subsample(h.steps + 1, 600)
        inside = e[idx] <= ceiling
        left = not bool(inside.all())
        if left:  # the line ends where it leaves through the top
            idx, cut = idx[: int(torch.nonzero(~inside)[0]) + 1], True
        curves.append(e[idx].clamp(max=ceiling))
        bad = blew_up(summarize(h))
        xs, ys = idx.tolist(), _round(e[idx].clamp(max=ceiling))
        ends = [0] * (len(xs) - 1) + [RACE_END_SIZE]
        if left and h.diverged_at is not None:  # the ✕ on the top edge at the epoch it overflowed, not where its
            # line left the chart; a finite run whose loss rose ends where it left
            at = h.diverged_at
            xs, ys, ends = [*xs, None, at], [*ys, None, ceiling], [*ends[:-1], 0, 0, RACE_END_SIZE]
        blown += bad
        name = label + (
            "" if limit is None else (" · below the limit" if h.config.lr < limit else " · above the limit")
        )
        if bad:
            name += f" · blew up at epoch {h.diverged_at:,}" if h.diverged_at is not None else " · blew up: loss rose"
        colour = p.series[i % len(p.series)]
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines+markers",
                cliponaxis=False,  # a ✕ on the top edge stays whole
                name=name,
                legendrank=ranks[h.config.lr] + i / 100,
                line=dict(color=colour, width=2.5, dash=RACE_DASHES[i % len(RACE_DASHES)]),
                marker=dict(
                    color=colour,
                    size=ends,
                    symbol=BLEW_UP_SYMBOL if bad else RACE_SYMBOLS[i % len(RACE_SYMBOLS)],
                    line=dict(color=colour, width=0),
                ),
            )
        )
    if limit is not None:
        below = sum(h.config.lr < limit for h in histories)
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="lines",
                name=f"stability limit (theory): lr ≈ {limit:.3g}",
                legendrank=10 * below + 5,
                line=dict(color=p.muted, width=2, dash="dot"),
            )
        )
        detail = f"theory's stability limit lr ≈ {limit:.3g}"
    else:
        detail = f"no stability limit: {gauge.note}" if gauge is not None and gauge.note else "no stability limit"
    detail += f" · {blown} of {len(histories)} runs blew up (✕)" if blown else " · no run blew up"
    detail += f" · the axis stops at {RACE_CEILING:,.0f}× the starting loss" if cut else ""
    if curves:
        _log_axis(fig, torch.cat(curves), title_text="expected loss")
    fig.update_xaxes(title_text="epoch", **EPOCH_TICKS)
    fig.update_layout(
        height=460 if projector else 400,
        margin=dict(l=10, r=10, t=60, b=10),
        legend=dict(orientation="h", y=-0.2),
        title_text=style.title("Race: expected loss per epoch", detail),
    )
    style.apply(fig)
    return fig
