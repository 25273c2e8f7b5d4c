"""The room wall's charts: every run's loss curve, the spread of b and ‖w‖, and the learning-rate stage.

Pure functions of the runs (``lucky5.room.Summary``), their stage and the theme; the presenter's page caches
them per wall and draws them. Which runs blew up or settled, their medians and the counts per learning rate
are ``lucky5.room``'s rules (``settled_runs``, ``median_curve``, ``counts_by_lr``), drawn here as they are.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .. import theory
from ..room import Stage, Summary, counts_by_lr, median_curve, settled_runs
from .style import BAND_OPACITY, EPOCH_TICKS, PROJECTOR_FONT, palette, powers_of_ten

WALL_FONT = PROJECTOR_FONT  # px: the wall is for a projector, like presenter mode
LOSS_CEILING = 1e4  # the wall's loss axis ends here: every run starts near 25, so above it a run has blown up
LOG_EPOCHS = 2_000  # a stage longer than this draws its epoch axis on a log scale


def _layout(fig: go.Figure, theme: str, height: int) -> None:
    fig.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=60, b=10),
        font=dict(size=WALL_FONT),
        showlegend=False,
        plot_bgcolor=palette(theme).background,
    )
    powers_of_ten(fig)  # the epoch axis keeps its own "20,000"; every tick label at the wall's size
    fig.update_xaxes(tickfont=dict(size=WALL_FONT))
    fig.update_yaxes(tickfont=dict(size=WALL_FONT))
    fig.update_annotations(font=dict(size=WALL_FONT))


def epoch_axis(epochs: int) -> dict:
    """The curves' epoch axis for a stage of ``epochs`` epochs, as ``update_xaxes`` arguments.

    Up to ``LOG_EPOCHS`` epochs it is linear from 0 to ``epochs``. Beyond, it is logarithmic from 1 to
    ``epochs``, ticked at the powers of ten and at the last epoch, all written out ("1,000", "20,000"):
    Plotly's own log ticks read "1, 2, 5, 10, ..., 10⁴", and a lone "2" at the right edge. A power of ten
    more than half the last epoch is left out, so its label never runs into the last epoch's.
    """
    if epochs <= LOG_EPOCHS:
        return dict(type="linear", range=[0, max(1, epochs)], **EPOCH_TICKS)
    ticks = [10**k for k in range(len(str(epochs))) if 2 * 10**k <= epochs] + [epochs]
    return dict(
        type="log",
        range=[0, math.log10(epochs)],
        tickvals=ticks,
        ticktext=[f"{t:,}" for t in ticks],
        **EPOCH_TICKS,
    )


def _count_axis(fig: go.Figure, most: int) -> None:
    """A count axis with whole-number ticks only: one per run while there are few, Plotly's own after that."""
    fig.update_yaxes(rangemode="tozero", tickformat=",d", dtick=1 if most <= 10 else None)


def _runs(n: int) -> str:
    return f"{n:,} run" if n == 1 else f"{n:,} runs"


def curves_figure(runs: Sequence[Summary], stage: Stage, theme: str) -> dict:
    """Every run's loss curve, thin and overlaid (one trace, gaps between runs), and the median of the runs
    that settled, thick (the title says so when no run settled). A figure dict: its thousands of points skip
    Plotly's validation. The epoch axis spans the stage's epochs (``epoch_axis``), however early runs ended.

    The loss axis stops at ``LOSS_CEILING``: runs that blew up leave through the top instead of squeezing
    the settled runs' ten decades into the bottom of the chart.
    """
    p = palette(theme)
    fig = go.Figure()
    epochs = stage.base.epochs
    fig.update_xaxes(title="epoch", **epoch_axis(epochs))
    fig.update_yaxes(title="loss (mean squared error)", type="log", exponentformat="power")
    settled = len(settled_runs(runs))
    losses = [v for r in runs for v in r.curve_losses if 0 < v < math.inf]
    above = bool(losses) and max(losses) > LOSS_CEILING
    if above:
        fig.update_yaxes(range=[math.log10(min(losses)) - 0.3, math.log10(LOSS_CEILING)])
    thick = f"thick: the median of the {_runs(settled)} that settled" if settled else "no run settled"
    fig.update_layout(
        title=f"Every run's loss ({_runs(len(runs))}); {thick}"
        + ("; runs that blew up leave through the top" if above else "")
    )
    _layout(fig, theme, 420)
    spec: dict = fig.to_dict()
    xs: list[float | None] = []
    ys: list[float | None] = []
    for r in runs:
        xs += [*r.curve_steps, None]
        ys += [*r.curve_losses, None]
    line = {"color": p.band, "width": 1}
    spec["data"] = [
        {"type": "scatter", "x": xs, "y": ys, "mode": "lines", "line": line, "opacity": BAND_OPACITY, "name": "runs"}
    ]
    median = median_curve(runs)
    if median is not None:
        steps, losses = median
        median_line = {"color": p.ink, "width": 4}
        spec["data"].append(
            {"type": "scatter", "x": list(steps), "y": losses, "mode": "lines", "line": median_line, "name": "median"}
        )
    return spec


def spread_figure(runs: Sequence[Summary], stage: Stage, theme: str) -> go.Figure:
    """Histograms of the final bias b and of ‖w‖ over the runs that did not blow up, with the optimum marked."""
    p = palette(theme)
    kept = settled_runs(runs)
    target = stage.base.target
    fig = make_subplots(
        rows=1, cols=2, subplot_titles=(f"final bias b (optimum {target:g})", "size of the weights ‖w‖ (optimum 0)")
    )
    line = dict(color=p.ink, width=1)
    fig.add_trace(go.Histogram(x=[r.b for r in kept], marker=dict(color=p.blue, line=line), name="b"), row=1, col=1)
    fig.add_trace(
        go.Histogram(x=[r.w_norm for r in kept], marker=dict(color=p.green, line=line), name="‖w‖"), row=1, col=2
    )
    fig.add_vline(x=target, line=dict(color=p.ink, dash="dash", width=2), row=1, col=1)
    fig.add_vline(x=0, line=dict(color=p.ink, dash="dash", width=2), row=1, col=2)
    fig.update_yaxes(title="runs", row=1, col=1)
    _layout(fig, theme, 360)
    _count_axis(fig, len(kept))
    return fig


def lr_figure(runs: Sequence[Summary], stage: Stage, theme: str) -> go.Figure:
    """Per offered learning rate, the runs that settled and those that blew up (stacked), beside the largest
    rate at which one-sample SGD still settles (``theory.stability``)."""
    p = palette(theme)
    rows = counts_by_lr(runs, stage.lrs)
    width = 0.6 * min((b - a for a, b in zip(stage.lrs, stage.lrs[1:], strict=False)), default=0.05)
    fig = go.Figure()
    for name, column, colour in (("settled", 1, p.blue), ("blew up", 2, p.vermilion)):
        fig.add_trace(
            go.Bar(
                x=[r[0] for r in rows],
                y=[r[column] for r in rows],
                width=width,
                name=name,
                marker=dict(color=colour, line=dict(color=p.ink, width=1)),
            )
        )
    limit = theory.stability(stage.base).limit
    if limit is not None:
        fig.add_vline(
            x=limit,
            line=dict(color=p.ink, dash="dash", width=3),
            # Above the bars, so the label never sits on a bar of the rate beside the limit.
            annotation=dict(text=f"theory's limit ≈ {limit:.3g}", yref="paper", y=1.02, yanchor="bottom"),
            annotation_position="top",
        )
    fig.update_xaxes(title="learning rate", tickvals=list(stage.lrs), ticktext=[f"{x:g}" for x in stage.lrs])
    fig.update_yaxes(title="runs")
    _layout(fig, theme, 420)
    _count_axis(fig, max((ok + bad for _, ok, bad in rows), default=0))
    fig.update_layout(
        barmode="stack",
        title="At each learning rate: the runs that settled and the runs that blew up",
        showlegend=True,
        legend=dict(orientation="h", x=0, y=1.0, yanchor="bottom"),
        margin=dict(t=130),
    )
    return fig
