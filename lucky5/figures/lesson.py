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
- the valley's path (a curve in the plane, which no curtain can cut by epoch) is split into pieces
  (``valley.ValleyPath``) ending at frames: a frame shows the pieces already complete (their line
  ``PATH_WIDTH`` wide, the others 0) and carries only the path since the last complete piece, a bounded amount.

Each frame carries only what changes, and plays without a redraw: a line's width, a curtain's x, a marker's
position.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import plotly.graph_objects as go
import torch

from .. import task, theory
from ..engine import History
from ..narration import narrate, near, number
from .frames import frame_steps, predictions_for, slider_ticks
from .network import network_figure
from .style import EPOCH_TICKS, Palette, _log_axis, _Style, palette
from .traces import _curtain, _curtain_at, _ring, _round, _subsample
from .valley import PATH_WIDTH, ValleyPath, _Valley

CHARTS = ("loss", "prediction", "valley")  # the lesson's charts over time, in the order a page shows them
FIGURES = ("network", *CHARTS)  # everything that plays
CURVE_POINTS = 600  # points per curve: two per pixel of a laptop's chart, however long the run
# Margins (px) pinned for the whole animation, room enough for the tick labels and axis titles: with automargin
# Plotly draws twice (the axes, then the margins they need), and a frame shown between the two passes leaves the
# x axis inside the plot with its bottom cut off.
_MARGIN = dict(l=52, r=18, t=44, b=30)
_VALLEY_MARGIN = dict(l=60, r=8, t=44, b=34)  # no axis title under u (the detail names it): ticks only
_LINE_PX = 18  # one more line of a 14 px title: Plotly spaces lines 1.3 font sizes apart
VALLEY_FOOT = 0.1  # extra room under the valley's lowest point, as a share of its b range
_WIDE_TICKS = 26  # px more on the left for ticks Plotly writes with a power of ten ("−0.5×10¹²")
# What each chart's detail calls the dot at the epoch on screen (``_marker``, drawn in ``Palette.vermilion``): a
# reader asked what the orange dot was, in the loss and the prediction too, and every chart answers in one way.
NOW_DOT = "orange-red dot"


def _left(margin: dict, *ends: float) -> dict:
    """``margin`` with room on the left for the y ticks of an axis spanning ``ends``: a lucky number of 10¹²
    writes its ticks as "0.8×10¹²", which the usual margin cut to ".8×10¹²"."""
    big = max(abs(e) for e in ends) >= 1e4
    return {**margin, "l": margin["l"] + _WIDE_TICKS} if big else margin


# Labels on the loss chart's log axis at most: a 1280×720 screen leaves its plot about 80 px tall, where seven
# stacked into one another for a loss spanning many decades (a larger rate, another lucky number, a rule).
LOSS_TICKS = 4


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
            moments=[f"epoch {s:,} of {_asked(history)}" for s in epochs],
        ),
        "loss": _loss_chart(history, epochs, p, height),
        "prediction": _prediction_chart(history, x, epochs, p, height),
        "valley": _valley_chart(history, epochs, p, height),
    }
    return Lesson(epochs, slider_ticks(epochs), charts, list(narrate(history, epochs).captions))


def _asked(history: History) -> str:
    """The epochs a run counts up to: all it was asked for (a diverged run stopped short of them: said so)."""
    if history.diverged_at is None:
        return f"{history.steps:,}"
    return f"{history.config.epochs:,}, stopped at {history.steps:,}"


# --- what every chart shares ---------------------------------------------------------------------------------------


def _figure(traces: list[go.Scatter], title: str, detail: str | tuple[str, ...], p: Palette, height: int) -> go.Figure:
    """A lesson chart: ``title``, and under it ``detail`` in small type, one line per string (a line each keeps
    the longest, with the references a rule adds, inside a 255 px chart at 1280×720); the top margin grows
    by ``_LINE_PX`` for every line after the first."""
    lines = (detail,) if isinstance(detail, str) else detail
    fig = go.Figure(traces)
    text = title + "".join(f"<br><sup>{line}</sup>" for line in lines)
    fig.update_layout(
        height=height,
        margin={**_MARGIN, "t": _MARGIN["t"] + _LINE_PX * (len(lines) - 1)},
        title=dict(text=text, x=0, xanchor="left", y=1, yanchor="top", pad=dict(t=14)),
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


def _now_said(what: str = "") -> str:
    """The detail's words for the dot at the epoch on screen: "orange-red dot: the run now"."""
    return f"{NOW_DOT}: {what} now" if what else f"{NOW_DOT}: now"


def _epoch_axis(fig: go.Figure, steps: int) -> None:
    fig.update_xaxes(range=[0, max(1, steps)], title_text=None, **EPOCH_TICKS)


def _curve(x: list, y: list, color: str, name: str, width: float) -> go.Scatter:
    return go.Scatter(x=x, y=y, mode="lines", line=dict(color=color, width=width), name=name, hoverinfo="skip")


# --- the loss ------------------------------------------------------------------------------------------------------


def _loss_chart(history: History, epochs: list[int], p: Palette, height: int) -> dict:
    steps = history.steps
    expected = theory.expected_losses(history)
    fit = theory.least_squares(history.config)
    label = task.floor_label(fit.unfit, fit.noise_variance)
    detail: tuple[str, ...] = (
        "blue: expected, over all inputs · grey: one random input",
        _now_said("the expected loss"),
    )
    if fit.floor > 0:  # the line's own label gives the number; the detail line has room for the floor's name only
        detail = (f"blue: expected · grey: one input · {_now_said()}", f"dotted: {label.rsplit(',', 1)[0]}")
    names = ("loss on that epoch's one random input", "expected loss (theory)")
    fig, values = _loss_figure(history, expected, fit.floor, names, detail, p, height)
    low, high = _curtain_span(values)
    end = steps * 1.05 + 1
    fig.add_trace(_curtain(end, low, high, p))
    fig.add_trace(
        _marker(0, _round([float(expected[0])])[0], _loss_said(expected[0]), p.vermilion, p, "expected loss now")
    )
    spec = fig.to_dict()
    at = expected[epochs].tolist()
    spec["frames"] = _frames(
        epochs,
        [2, 3],
        [[_curtain_at(s, end), _now(s, at[i], _loss_said(at[i]))] for i, s in enumerate(epochs)],
    )
    return spec


def data_loss_figure(history: History, *, floor: float, theme: str = "light", height: int = 260) -> dict:
    """The loss chart of a run on a data set (``history.data``), whole and still: the loss of each epoch's sampled
    rows (grey), the mean squared error over every row at each epoch (blue, ``theory.data_expected_losses``) and
    ``floor``, the loss one neuron cannot beat (dotted, labelled; none when it is 0, which a log axis cannot
    show), in the lesson's loss chart's style. Raises ValueError for an unknown theme."""
    data = history.data
    assert data is not None
    p = palette(theme)
    expected = theory.data_expected_losses(data, history.weights, history.biases, noise=history.config.noise)
    rows = "row" if history.config.batch_size == 1 else "rows"
    # Two lines, so a phone's width keeps the detail whole.
    detail = f"blue: over every row · grey: each epoch's sampled {rows}</sup><br><sup>"
    detail += "dotted: the floor one neuron cannot beat" if floor > 0 else "floor 0: one neuron can fit your rows"
    names = (f"loss on that epoch's sampled {rows}", "mean squared error over every row")
    fig, _ = _loss_figure(history, expected, floor, names, detail, p, height)
    fig.update_layout(margin={**_MARGIN, "t": _MARGIN["t"] + 14})
    return fig.to_dict()


def _loss_figure(
    history: History,
    expected: torch.Tensor,
    floor: float,
    names: tuple[str, str],
    detail: str | tuple[str, ...],
    p: Palette,
    height: int,
) -> tuple[go.Figure, torch.Tensor]:
    """What every loss chart draws: each epoch's own loss (grey, ``names[0]``) and ``expected`` (blue, one per
    parameter row, ``names[1]``) on a log scale over the epochs, and ``floor`` dotted and labelled when above 0;
    returns the figure and the values its axis spans."""
    steps = history.steps
    one = _subsample(steps, CURVE_POINTS)  # losses[i] is epoch i's, drawn at i + 1: the layer after it
    every = _subsample(steps + 1, CURVE_POINTS)
    values = torch.cat([history.losses.double(), expected])
    traces = [
        _curve((one + 1).tolist(), _round(history.losses[one]), p.muted, names[0], 1.2),
        _curve(every.tolist(), _round(expected[every]), p.blue, names[1], 2.5),
    ]
    fig = _figure(traces, "Loss (log scale)", detail, p, height)
    if floor > 0:  # what the expected loss can only approach: a reference, above the curtain like the target
        line = dict(color=p.ink, dash="dot", width=2)
        said = dict(
            text=f"floor {number(floor)}",
            textposition="end",
            xanchor="right",
            yanchor="top",
            font=dict(size=11, color=p.ink),
        )
        fig.add_shape(type="line", x0=0, x1=steps, y0=floor, y1=floor, line=line, label=said, layer="above")
    _epoch_axis(fig, steps)
    _log_axis(fig, values, most=LOSS_TICKS)
    return fig, values


def _curtain_span(values: torch.Tensor) -> tuple[float, float]:
    """From far below to far above the positive finite ``values``: what a curtain must cover on a log axis."""
    finite = values[torch.isfinite(values) & (values > 0)]
    return (float(finite.min()) / 100, float(finite.max()) * 100) if finite.numel() else (1e-12, 1e12)


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
    detail = (f"dashed: {goal}", _now_said("the prediction"))
    if unreachable:  # a third line would squeeze the plot: the dot is named beside the rule
        detail = (
            f"dashed: the rule, {number(target, 4)} · {_now_said()}",
            f"dotted: one neuron's best, {number(best, 4)}",
        )
    fig = _figure(traces, "Prediction for your input", detail, p, height)
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
    traces: list[go.Scatter] = [_ring(level, us, bs, p) for level, (us, bs) in v.rings()]
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
    path = ValleyPath(history, v, epochs)
    first = len(traces)
    traces += [_curve(us, bs, p.purple, "the run's path", 0) for us, bs in path.pieces]  # 0 wide: not yet
    traces.append(_curve(*path.tail(0), p.purple, "the run's path", PATH_WIDTH))
    traces.append(_marker(*path.position(0), path.said(0), p.vermilion, p, "the run now"))
    fig = _figure(traces, "The valley of the expected loss", _valley_detail(v), p, height)
    # u is named in the detail, not under the axis: with equal scales Plotly moved the axis, and its title sat
    # on a tick label (390×844).
    fig.update_xaxes(range=list(v.u_range), scaleanchor="y", scaleratio=1)
    # Room under the lowest point (the start, b ≈ 0): a short, wide chart put the start's dot on the tick label 0.
    b0, b1 = v.b_range
    fig.update_yaxes(range=[b0 - VALLEY_FOOT * (b1 - b0), b1], title_text="b")
    fig.update_layout(margin=_left({**_VALLEY_MARGIN, "t": fig.layout.margin.t}, *v.b_range))  # t: the detail's
    spec = fig.to_dict()
    moving = list(range(first, len(traces)))
    spec["frames"] = _frames(epochs, moving, [path.frame(i, s) for i, s in enumerate(epochs)])
    return spec


def _valley_detail(v: _Valley) -> tuple[str, ...]:
    # Short lines: one long one outgrew a phone's chart. Every mark drawn is named (a reader asked what the pink
    # trail and the dot were); "grey: equal loss" says in plain words what "contour lines" would.
    lines = (
        "u = Σw/√10 across, b up · grey: equal loss, ×10 apart",
        "green: average answer right · star: optimum",
        f"pink: the run's path · {_now_said('the run')}",
    )
    gone = v.left_view if v.left_view is not None else v.left_at  # the view, long before the overflow
    return lines if gone is None else (*lines, f"the run leaves the view at epoch {gone:,}")
