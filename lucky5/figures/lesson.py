"""The lesson: everything a learner watches on one screen, on one timeline, with time running forward.

``lesson_figures`` gives four figures, the network (``network_figure``), the loss, the prediction for the
learner's input and the valley, each its own Plotly figure dict whose frames carry the same names (the
frame's epoch), and with them the captions (``lucky5.narration``) and round slider ticks. Whatever plays it
shows the same frame name on every figure at once; each frame is the complete state at its epoch, so a jump
(scrubbing back, one step back, a restart) shows exactly what a learner would have seen by then.

Time runs forward: nothing after the current frame is drawn, and frames do not grow with the epoch.
Each curve and the valley's path is sent once; each frame carries a constant amount on top:

- curves over epochs (the loss, the prediction) lie under a *curtain*: a polygon in the plot's background
  colour over every epoch after the current one, which each frame moves (five numbers). References that
  are not the run's history (the lucky number's dashed line) are drawn above it;
- the valley's path (a curve in the plane, which no curtain can cut by epoch) is split into pieces of about
  ``_PIECE_POINTS`` points, ending at frames: a frame shows the pieces already complete (their line
  ``PATH_WIDTH`` wide, the others 0) and carries only the path since the last complete piece, a bounded amount.

Each frame carries only what changes, and plays without a redraw: a line's width, a curtain's x, a marker's
position.
"""

from __future__ import annotations

import bisect
import itertools
import math
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
import torch

from .. import task, theory
from ..engine import History
from ..narration import narrate, near, number
from .frames import frame_steps, predictions_for, slider_ticks
from .network import network_figure
from .style import EPOCH_TICKS, Palette, _log_axis, _Style, palette, power_of_ten
from .traces import _round, _subsample
from .valley import _path_rows, _Valley

CHARTS = ("loss", "prediction", "valley")  # the lesson's charts over time, in the order a page shows them
FIGURES = ("network", *CHARTS)  # everything that plays
CURVE_POINTS = 600  # points per curve: two per pixel of a laptop's chart, however long the run
PATH_POINTS = 800
PATH_WIDTH = 2  # px; a piece of the path not yet walked is 0 wide: not drawn at all
_PIECE_POINTS = 60  # points per piece of the valley's path: pieces (a width each per frame) and a tail balance
CURTAIN = "not yet"  # the curtain's trace name
# Margins (px) pinned for the whole animation, room enough for the tick labels and axis titles: with automargin
# Plotly draws twice (the axes, then the margins they need), and a frame shown between the two passes leaves the
# x axis inside the plot with its bottom cut off.
_MARGIN = dict(l=52, r=18, t=44, b=30)
_VALLEY_MARGIN = dict(l=60, r=8, t=44, b=62)
_WIDE_TICKS = 26  # px more on the left for ticks Plotly writes with a power of ten ("−0.5×10¹²")


def _left(margin: dict, *ends: float) -> dict:
    """``margin`` with room on the left for the y ticks of an axis spanning ``ends``: a lucky number of 10¹²
    writes its ticks as "0.8×10¹²", which the usual margin cut to ".8×10¹²"."""
    big = max(abs(e) for e in ends) >= 1e4
    return {**margin, "l": margin["l"] + _WIDE_TICKS} if big else margin


@dataclass(frozen=True)
class Lesson:
    """One run's lesson. ``epochs``: the frames' epochs (frame i is named ``str(epochs[i])``); ``ticks``:
    (frame index, epoch) to label a slider with; ``charts``: name (``FIGURES``) -> Plotly figure dict with
    frames; ``captions``: one plain-words caption per frame (``lucky5.narration``)."""

    epochs: list[int]
    ticks: list[tuple[int, int]]
    charts: dict[str, dict]
    captions: list[str]

    @property
    def stride(self) -> int:
        """Epochs between two frames: what one step forward or back moves."""
        return self.epochs[1] - self.epochs[0] if len(self.epochs) > 1 else 1


def lesson_figures(history: History, x: torch.Tensor, *, theme: str = "light", height: int = 260) -> Lesson:
    """The lesson of ``history`` for the learner's input ``x`` (10,), in ``theme``'s colours.

    Every chart is ``height`` px tall. Raises ValueError for an unknown theme.
    """
    p = palette(theme)
    epochs = frame_steps(history.steps)
    best = theory.optimum_for(history.config)
    names = [str(s) for s in epochs]
    charts = {
        "network": network_figure(
            history.weights[epochs],
            history.biases[epochs],
            x,
            task.target_at(history.config, x),
            p,
            names=names,
            goal="lucky number" if history.config.target_rule is None else "the rule says",
            reference=(best.weight, best.bias),
        ),
        "loss": _loss_chart(history, epochs, p, height),
        "prediction": _prediction_chart(history, x, epochs, p, height),
        "valley": _valley_chart(history, epochs, p, height),
    }
    return Lesson(epochs, slider_ticks(epochs), charts, list(narrate(history, epochs).captions))


# --- what every chart shares ---------------------------------------------------------------------------------------


def _figure(traces: list[go.Scatter], title: str, detail: str, p: Palette, height: int) -> go.Figure:
    fig = go.Figure(traces)
    fig.update_layout(
        height=height,
        margin=_MARGIN,
        title=dict(text=f"{title}<br><sup>{detail}</sup>", x=0, xanchor="left", y=1, yanchor="top", pad=dict(t=14)),
        showlegend=False,
        plot_bgcolor=p.background,  # the curtain is this colour: it must match what it covers exactly
        hovermode="closest",
    )
    _Style(projector=False, text=p.text).apply(fig)
    fig.update_layout(title_font=dict(size=14))
    fig.update_xaxes(automargin=False)
    fig.update_yaxes(automargin=False)
    return fig


def _frames(epochs: list[int], traces: list[int], data: list[list[dict]]) -> list[dict]:
    return [{"name": str(s), "traces": traces, "data": d} for s, d in zip(epochs, data, strict=True)]


def _marker(x: float | None, y: float | None, said: str, color: str, p: Palette, name: str = "now") -> go.Scatter:
    """The dot at the epoch on screen; hovering it reads ``said`` (the value in words, from the unrounded number:
    the drawn y keeps five digits, and 4.9999995 must not read as the lucky number 5)."""
    return go.Scatter(
        x=[x],
        y=[y],
        mode="markers",
        name=name,
        marker=dict(color=color, size=11, line=dict(color=p.ink, width=1.5)),
        hovertemplate="epoch %{customdata:,}<br>%{text}<extra></extra>",
        customdata=[0],
        text=[said],
        cliponaxis=False,  # whole at epoch 0 (on the y axis) and at the range's edge, not cut in half
    )


def _curtain(end: float, low: float, high: float, p: Palette) -> go.Scatter:
    """A polygon in the plot's background colour from x = 0 (moved by each frame) past ``end``."""
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
    return {"x": [s, end, end, s, s]}


def _epoch_axis(fig: go.Figure, steps: int) -> None:
    fig.update_xaxes(range=[0, max(1, steps)], title_text=None, **EPOCH_TICKS)


def _curve(x: list, y: list, color: str, name: str, width: float) -> go.Scatter:
    return go.Scatter(x=x, y=y, mode="lines", line=dict(color=color, width=width), name=name, hoverinfo="skip")


# --- the loss ------------------------------------------------------------------------------------------------------


def _loss_chart(history: History, epochs: list[int], p: Palette, height: int) -> dict:
    steps = history.steps
    expected = theory.expected_losses(history)
    one = _subsample(steps, CURVE_POINTS)  # losses[i] is epoch i's, drawn at i + 1: the layer after it
    every = _subsample(steps + 1, CURVE_POINTS)
    values = torch.cat([history.losses.double(), expected])
    finite = values[torch.isfinite(values) & (values > 0)]
    low, high = (float(finite.min()) / 100, float(finite.max()) * 100) if finite.numel() else (1e-12, 1e12)
    end = steps * 1.05 + 1
    traces = [
        _curve((one + 1).tolist(), _round(history.losses[one]), p.muted, "loss on that epoch's one random input", 1.2),
        _curve(every.tolist(), _round(expected[every]), p.blue, "expected loss (theory)", 2.5),
        _curtain(end, low, high, p),
        _marker(0, _round([float(expected[0])])[0], _loss_said(expected[0]), p.vermilion, p, "expected loss now"),
    ]
    detail = "blue: expected, over all inputs · grey: one random input"
    fit = theory.least_squares(history.config)
    label = task.floor_label(fit.unfit, fit.noise_variance)
    if fit.floor > 0:  # the line's own label gives the number; the detail line has room for the floor's name only
        detail = f"blue: expected · grey: one input · dotted: {label.rsplit(',', 1)[0]}"
    fig = _figure(traces, "Loss (log scale)", detail, p, height)
    if fit.floor > 0:  # what the expected loss can only approach: a reference, above the curtain like the target
        line = dict(color=p.ink, dash="dot", width=2)
        said = dict(
            text=f"floor {number(fit.floor)}",
            textposition="end",
            xanchor="right",
            yanchor="top",
            font=dict(size=11, color=p.ink),
        )
        fig.add_shape(type="line", x0=0, x1=steps, y0=fit.floor, y1=fit.floor, line=line, label=said, layer="above")
    _epoch_axis(fig, steps)
    _log_axis(fig, values)
    spec = fig.to_dict()
    at = expected[epochs].tolist()
    spec["frames"] = _frames(
        epochs,
        [2, 3],
        [[_curtain_at(s, end), _now(s, at[i], _loss_said(at[i]))] for i, s in enumerate(epochs)],
    )
    return spec


def _loss_said(value: float | torch.Tensor) -> str:
    return f"expected loss {number(float(value))}"


def _now(s: int, y: float | None, said: str) -> dict:
    return {"x": [s], "y": _round([y]), "customdata": [s], "text": [said]}


# --- the prediction ------------------------------------------------------------------------------------------------


def _prediction_chart(history: History, x: torch.Tensor, epochs: list[int], p: Palette, height: int) -> dict:
    c, steps = history.config, history.steps
    target, best = task.target_at(c, x), task.best_at(c, x)
    unreachable = c.target_rule is not None and not c.target_rule.is_linear  # one neuron stops short of it
    preds = predictions_for(history, x)
    every = _subsample(steps + 1, CURVE_POINTS)
    lo, hi = float(preds.min()), float(preds.max())
    lo, hi = min(lo, target, best), max(hi, target, best)
    pad = 0.08 * (hi - lo or 1.0)
    end = steps * 1.05 + 1

    def said(value: float) -> str:
        return f"prediction {near(value, target)}"

    traces = [
        _curve(every.tolist(), _round(preds[every]), p.green, "prediction for your input", 2.5),
        _curtain(end, lo - 10 * pad, hi + 10 * pad, p),
        _marker(0, _round([float(preds[0])])[0], said(float(preds[0])), p.vermilion, p, "prediction now"),
    ]
    goal = (
        f"the lucky number {number(target, 4)}"
        if c.target_rule is None
        else f"the rule at your input, {number(target, 4)}"
    )
    if unreachable:
        goal = f"the rule, {number(target, 4)} · dotted: one neuron's best, {number(best, 4)}"
    fig = _figure(traces, "Prediction for your input", f"dashed: {goal}", p, height)
    # The target is no history: a shape above every trace, the curtain too, so it is always in view.
    for level, dash in ((target, "dash"), *(((best, "dot"),) if unreachable else ())):
        fig.add_shape(
            type="line", x0=0, x1=steps, y0=level, y1=level, line=dict(color=p.muted, dash=dash, width=2), layer="above"
        )
    _epoch_axis(fig, steps)
    fig.update_yaxes(range=[lo - pad, hi + pad])
    fig.update_layout(margin=_left(_MARGIN, lo - pad, hi + pad))
    spec = fig.to_dict()
    at = preds[epochs].tolist()
    moved = [[_curtain_at(s, end), _now(s, at[i], said(at[i]))] for i, s in enumerate(epochs)]
    spec["frames"] = _frames(epochs, [1, 2], moved)
    return spec


# --- the valley ----------------------------------------------------------------------------------------------------


def _valley_chart(history: History, epochs: list[int], p: Palette, height: int) -> dict:
    v = _Valley(history)
    traces: list[go.Scatter] = [
        go.Scatter(
            x=us,
            y=bs,
            mode="lines",
            line=dict(color=p.muted, width=1),
            hoverinfo="name",
            name=f"expected loss {power_of_ten(round(math.log10(level)))}",
        )
        for level, (us, bs) in v.rings()
    ]
    (u0, u1) = v.u_range
    traces.append(
        go.Scatter(
            x=[u0, u1],
            y=[v.right_line(u0), v.right_line(u1)],
            mode="lines",
            line=dict(color=p.green, dash="dash", width=2),
            hoverinfo="name",
            name="average answer right: 0.5·Σw + b = t",
        )
    )
    best = theory.optimum_for(history.config)
    traces.append(
        go.Scatter(
            x=[float(best.weight.sum()) / math.sqrt(10)],
            y=[best.bias],
            mode="markers",
            name="optimum",
            marker=dict(symbol="star", size=16, color=p.ink, line=dict(color=p.ink, width=1)),
            hoverinfo="name",
            cliponaxis=False,  # the destination stays whole when a narrow view puts it at the edge
        )
    )
    path = _Path(history, v, epochs)
    first = len(traces)
    traces += [_curve(us, bs, p.purple, "the run's path", 0) for us, bs in path.pieces]  # 0 wide: not yet
    traces.append(_curve(*path.tail(0), p.purple, "the run's path", PATH_WIDTH))
    traces.append(_marker(*path.position(0), path.said(0), p.vermilion, p, "the run now"))
    fig = _figure(traces, "The valley of the expected loss", _valley_detail(v), p, height)
    fig.update_xaxes(range=list(v.u_range), scaleanchor="y", scaleratio=1, title_text="u = Σw/√10")
    fig.update_yaxes(range=list(v.b_range), title_text="b")
    fig.update_layout(margin=_left(_VALLEY_MARGIN, *v.b_range))
    spec = fig.to_dict()
    moving = list(range(first, len(traces)))
    spec["frames"] = _frames(epochs, moving, [path.frame(i, s) for i, s in enumerate(epochs)])
    return spec


def _valley_detail(v: _Valley) -> str:
    detail = "u = Σw/√10 across, b up · contour lines ×10 apart · green: average answer right · star: optimum"
    return detail + (f" · it leaves at epoch {v.left_at:,}" if v.left_at is not None else "")


class _Path:
    """The run's path on the valley's plane, in pieces, for time running forward.

    The path goes through the rows ``_path_rows`` picks and every frame's row, inside the view box (a
    diverging run's path stops where it leaves the view, with a gap where it is outside). Pieces end at frames
    and hold about ``_PIECE_POINTS`` points each, so a frame carries one width per piece and the path since
    the last complete piece: a bounded amount, whatever the epoch.
    """

    def __init__(self, history: History, v: _Valley, epochs: list[int]) -> None:
        self.target = history.config.target
        rows = sorted(set(_path_rows(history.steps + 1, PATH_POINTS).tolist()) | set(epochs))
        coords = v.coords[rows].tolist()
        inside = v.inside[rows].tolist()
        self.u = [c[0] if ok else None for c, ok in zip(coords, inside, strict=True)]
        self.b = [c[1] if ok else None for c, ok in zip(coords, inside, strict=True)]
        self.index = {r: i for i, r in enumerate(rows)}
        self.epochs = epochs
        ends = [0]  # frame indices where pieces end (the first piece starts at frame 0)
        for f in range(1, len(epochs)):
            if self.index[epochs[f]] - self.index[epochs[ends[-1]]] >= _PIECE_POINTS or f == len(epochs) - 1:
                ends.append(f)
        self.ends = ends  # piece j runs from frame ends[j] to frame ends[j + 1], both ends included
        self.pieces = [self._between(epochs[a], epochs[b]) for a, b in itertools.pairwise(ends)]

    def _between(self, a: int, b: int) -> tuple[list[Any], list[Any]]:
        i, j = self.index[a], self.index[b] + 1
        return _round(self.u[i:j], 6), _round(self.b[i:j], 6)

    def _done(self, frame: int) -> int:
        """How many pieces are complete at ``frame``."""
        return bisect.bisect_right(self.ends, frame) - 1

    def tail(self, frame: int) -> tuple[list[Any], list[Any]]:
        """The path from the last complete piece's end to frame ``frame``'s epoch."""
        return self._between(self.epochs[self.ends[self._done(frame)]], self.epochs[frame])

    def position(self, frame: int) -> tuple[float | None, float | None]:
        i = self.index[self.epochs[frame]]
        return _round([self.u[i]])[0], _round([self.b[i]])[0]

    def said(self, frame: int) -> str:
        """Where the run is at ``frame``, in words: b with the digits that tell it from the lucky number."""
        b = self.b[self.index[self.epochs[frame]]]
        return "outside the view" if b is None else f"b = {near(b, self.target)}"

    def frame(self, frame: int, epoch: int) -> list[dict]:
        done = self._done(frame)
        us, bs = self.tail(frame)
        u, b = self.position(frame)
        pieces = [{"line": {"width": PATH_WIDTH if j < done else 0}} for j in range(len(self.pieces))]
        return [*pieces, {"x": us, "y": bs}, {"x": [u], "y": [b], "customdata": [epoch], "text": [self.said(frame)]}]
