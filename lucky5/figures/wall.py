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

WALL_FONT = PROJECTOR_FONT  # px: the wall is for a projector, like presenter mode: no text smaller
WALL_TITLE_FONT = 24  # px: chart titles
LOSS_CEILING = 1e4  # the wall's loss axis ends here: every run starts near 25, so above it a run has blown up
LOG_EPOCHS = 2_000  # a stage longer than this draws its epoch axis on a log scale
# Curves drawn at most: a hall of 1,000 runs would send 60,000 points at every change of the wall, and 200
# faint lines already show the spread (the median is over every run that settled).
MAX_CURVES = 200
SPREAD_BINS = 40
# A histogram's axis spans at least this much around its optimum, so that runs which all reached it sit in
# one bar at the optimum, instead of an axis zoomed in to 10⁻⁵ that makes every run look as if it missed.
MIN_SPAN = {"b": 1.0, "w_norm": 1.0}
CLOSE = 0.01  # runs all within this of their optimum are said to be "within ..." it


def _layout(fig: go.Figure, theme: str, height: int) -> None:
    """The wall's size, background and fonts: every text set explicitly (the page's chart theme would draw
    titles at 16 px and axis titles at 14), none below ``WALL_FONT``."""
    fig.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=70, b=10),
        font=dict(size=WALL_FONT),
        title_font=dict(size=WALL_TITLE_FONT),
        showlegend=False,
        plot_bgcolor=palette(theme).background,
    )
    powers_of_ten(fig)  # the epoch axis keeps its own "20,000"; every tick label at the wall's size
    for axes in (fig.update_xaxes, fig.update_yaxes):
        axes(tickfont=dict(size=WALL_FONT), title_font=dict(size=WALL_FONT))
    fig.update_annotations(font=dict(size=WALL_FONT))


_SUPER = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def decade_ticks(low: float, high: float, most: int = 7) -> dict:
    """A log axis's ticks at powers of ten from ``low`` to ``high``, written "10⁻⁴" in plain characters, as
    ``update_yaxes`` arguments. Plotly's own "power" labels draw the exponent at 70 % of the tick font, below
    the wall's smallest size; at most ``most`` ticks (every second or third decade on a tall axis)."""
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    every = max(1, math.ceil((last - first + 1) / most))
    powers = list(range(last, first - 1, -every))[::-1]
    text = ["1" if k == 0 else "10" if k == 1 else "10" + str(k).translate(_SUPER) for k in powers]
    return dict(tickvals=[10.0**k for k in powers], ticktext=text)


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


def drawn(runs: Sequence[Summary], most: int = MAX_CURVES) -> list[Summary]:
    """At most ``most`` of ``runs``, spread evenly over them in order of seed (the same picks at every refresh
    while the runs stay the same)."""
    ordered = sorted(runs, key=lambda r: (r.seed, r.lr))
    if len(ordered) <= most:
        return ordered
    return [ordered[i * len(ordered) // most] for i in range(most)]


def curves_figure(runs: Sequence[Summary], stage: Stage, theme: str) -> dict:
    """Every run's loss curve, thin and overlaid (one trace, gaps between runs), and the median of the runs
    that settled, thick (the title says so when no run settled). A figure dict: its thousands of points skip
    Plotly's validation. The epoch axis spans the stage's epochs (``epoch_axis``), however early runs ended.

    At most ``MAX_CURVES`` curves are drawn (``drawn``; the title says how many), so the figure's size is
    bounded however large the hall; the median is over all the runs that settled. The loss axis stops at
    ``LOSS_CEILING``: runs that blew up leave through the top instead of squeezing the settled runs' ten
    decades into the bottom of the chart.
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
    if losses:
        fig.update_yaxes(**decade_ticks(min(losses), min(max(losses), LOSS_CEILING)))
    thick = f"thick: the median of the {_runs(settled)} that settled" if settled else "no run settled"
    shown = drawn(runs)
    some = f"{len(shown):,} of the {_runs(len(runs))} drawn" if len(shown) < len(runs) else _runs(len(runs))
    # On a line of its own: after "thick: the median ..." the projected wall cut it at "...settled; run".
    fig.update_layout(
        title=f"Every run's loss ({some}); {thick}" + ("<br>runs that blew up leave through the top" if above else "")
    )
    _layout(fig, theme, 420)
    if above:
        fig.update_layout(margin_t=100)  # room for the title's second line above the plot
    spec: dict = fig.to_dict()
    xs: list[float | None] = []
    ys: list[float | None] = []
    for r in shown:
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


_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def _close(x: float) -> str:
    """One significant digit, with a power of ten below 0.001: "0.03", "8×10⁻⁵"."""
    if x >= 1e-3 or x == 0:
        return f"{x:.1g}"
    mantissa, power = f"{x:.0e}".split("e")
    return f"{mantissa}×10{str(int(power)).translate(_SUPERSCRIPT)}"


def spread_axis(values: Sequence[float], optimum: float, min_span: float) -> tuple[float, float]:
    """The histogram axis of ``values``: every value and the optimum inside, at least ``min_span`` wide, with a
    margin of a twentieth on each side."""
    lo, hi = min([*values, optimum]), max([*values, optimum])
    if hi - lo < min_span:
        middle = optimum if max(abs(v - optimum) for v in values) < min_span / 2 else (lo + hi) / 2
        lo, hi = middle - min_span / 2, middle + min_span / 2
        if optimum == 0 and min(values) >= 0:  # ‖w‖ is never negative: its axis starts at 0
            lo, hi = 0.0, max(hi - lo, max(values))
    pad = (hi - lo) / 20
    return lo - pad, hi + pad


def spread_title(name: str, values: Sequence[float], optimum: float) -> str:
    """A histogram's title in two short lines (two titles side by side fit a 1280 px wall at 18 px): the
    quantity and its optimum, then how close the runs came: "every run within 3×10⁻⁵ of it" when they all
    came within ``CLOSE``, else their range."""
    farthest = max(abs(v - optimum) for v in values)
    head = f"{name} (optimum {optimum:g})<br>"
    if farthest < CLOSE:
        return head + f"every run within {_close(farthest)} of it"
    return head + f"from {min(values):.3g} to {max(values):.3g}"


def spread_figure(runs: Sequence[Summary], stage: Stage, theme: str) -> go.Figure:
    """Histograms of the final bias b and of ‖w‖ over the runs that did not blow up, with the optimum marked.

    Each axis keeps the optimum inside and spans at least ``MIN_SPAN`` (``spread_axis``); the titles say how
    close the runs came (``spread_title``). Bars are counted here, ``SPREAD_BINS`` per axis: the figure sends
    the counts, not every run's number.
    """
    p = palette(theme)
    kept = settled_runs(runs)
    target = stage.base.target
    columns = (("b", "final bias b", [r.b for r in kept], target, p.blue),
               ("w_norm", "size of the weights ‖w‖", [r.w_norm for r in kept], 0.0, p.green))  # fmt: skip
    fig = make_subplots(rows=1, cols=2, subplot_titles=[spread_title(n, v, o) for _, n, v, o, _ in columns])
    line = dict(color=p.ink, width=1)
    most = 0
    for col, (key, _, values, optimum, colour) in enumerate(columns, start=1):
        lo, hi = spread_axis(values, optimum, MIN_SPAN[key])
        width = (hi - lo) / SPREAD_BINS
        counts = [0] * SPREAD_BINS
        for v in values:
            counts[min(SPREAD_BINS - 1, max(0, int((v - lo) / width)))] += 1
        middles = [lo + (i + 0.5) * width for i in range(SPREAD_BINS)]
        bars = go.Bar(x=middles, y=counts, width=width, marker=dict(color=colour, line=line), name=key)
        fig.add_trace(bars, row=1, col=col)
        fig.update_xaxes(range=[lo, hi], row=1, col=col)
        fig.add_vline(x=optimum, line=dict(color=p.ink, dash="dash", width=2), row=1, col=col)
        most = max(most, *counts)
    fig.update_yaxes(title="runs", row=1, col=1)
    _layout(fig, theme, 360)
    _count_axis(fig, most)
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
