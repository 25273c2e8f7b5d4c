"""The animation's five panels: each one's traces, what moves in every frame, its title and its fixed axes
(fixed, so bars and markers move against a still background during playback)."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence

import plotly.graph_objects as go
import torch

from .. import task, theory
from ..config import Config
from ..narration import near, number, weights_text
from .frames import Frame, _Run
from .style import EPOCH_TICKS, Palette, _log_axis
from .traces import _curtain, _curtain_at, _line, _marker, _ring, _round, _subsample
from .valley import PATH_WIDTH, ValleyPath

_Traces = list[tuple[go.Scatter, Frame | None]]


def _run_curtain(run: _Run, values: torch.Tensor, log: bool) -> tuple[go.Scatter, Frame]:
    """Time runs forward: a polygon in the plot's background colour over every epoch after the frame's, on top
    of a panel's curves and under its references and marker; each frame moves its left edge (five numbers).
    It spans far beyond ``values`` (the curves it covers) on a ``log`` or linear axis."""
    v = values.double().flatten()
    v = v[torch.isfinite(v) & (v > 0)] if log else v[torch.isfinite(v)]
    if not v.numel():
        low, high = (1e-12, 1e12) if log else (-1.0, 1.0)
    elif log:
        low, high = float(v.min()) / 100, float(v.max()) * 100
    else:
        pad = 10 * (float(v.max() - v.min()) or 1.0)
        low, high = float(v.min()) - pad, float(v.max()) + pad
    end = max(1, run.history.steps) * 1.05  # past the axis's end
    return _curtain(end, low, high, run.p), lambda s: {"type": "scatter", **_curtain_at(s, end)}


def _panel_title(name: str, run: _Run) -> tuple[str, str]:
    """A panel's title and its line of detail, which names what this run's references are (the lucky number's
    optimum or the rule's, the floor one neuron cannot go below)."""
    valley, c = run.valley, run.history.config
    if name == "valley" and valley is not None:
        detail = "grey: equal loss, ×10 apart · pink: run · green: 0.5Σw+b=t · star: optimum"
        if valley.left_at is not None:
            detail += f" · ✕ diverged at epoch {valley.left_at}"
        return "The valley of the expected loss", detail
    title, detail = _TITLES[name]
    if name == "parameters":
        detail = f"grey marks: the {_optimum_name(c, theory.optimum_for(c))}"
    elif name == "prediction" and c.target_rule is not None:
        detail = f"dashed: the rule at your input, {number(task.target_at(c, run.x), 4)}"
    elif name == "loss" and (floor := _floor(c)) is not None:
        detail += f" · dotted: {floor[2]}"
    return title, detail


_TITLES = {
    "loss": ("Loss per epoch (log scale)", "grey: on that epoch's input · blue: expected (theory)"),
    "terms": (
        "The expected loss in three parts",
        "orange: fast error · pink: valley · green: disagreement · blue: sum",
    ),
    "parameters": ("Weights w₁…w₁₀ and bias b", "grey marks: the optimum: w = 0, b = lucky number"),
    "prediction": ("Prediction for your input", "dashed: the lucky number"),
}


def _floor(config: Config) -> tuple[float, str, str] | None:
    """The floor of the expected loss (``theory.least_squares``), its words and its short words (``task``)."""
    fit = theory.least_squares(config)
    if fit.floor == 0:
        return None
    return fit.floor, task.floor_text(fit.unfit, fit.noise_variance), task.floor_label(fit.unfit, fit.noise_variance)


def _loss_panel(run: _Run) -> _Traces:
    history, p = run.history, run.p
    idx = _subsample(history.steps)
    idx_e = _subsample(history.steps + 1)
    e = run.at_frames(run.expected)
    traces: _Traces = [
        (_line((idx + 1).tolist(), _round(history.losses[idx]), p.muted, "loss on that epoch's input", 1.5), None),
        (_line(idx_e.tolist(), _round(run.expected[idx_e]), p.blue, "expected loss (theory)"), None),
        _run_curtain(run, torch.cat([history.losses.double(), run.expected]), log=True),
    ]
    if (floor := _floor(history.config)) is not None:  # what the expected loss can only approach
        level, said, _ = floor
        line = dict(color=p.ink, dash="dot", width=2)
        floor_line = go.Scatter(x=[0, max(1, history.steps)], y=[level, level], mode="lines", line=line, name=said)
        traces.append((floor_line, None))
    traces.append(
        (_marker(0, e[0], p.vermilion, "now", p), lambda s: {"type": "scatter", "x": [s], "y": _round([e[s]])})
    )
    return traces


TERM_NAMES = ("fast error (0.5·Σw + b − t)²", "valley (Σw)²/120", "disagreement ‖w − mean w‖²/12")
# A rule's terms are measured from its best layer (a, c) (``theory.least_squares``), as "Why not exactly the rule?"
# writes them: the lucky number's with w − a for w and c for t.
RULE_TERM_NAMES = (
    "fast error (0.5·Σ(w − a) + b − c)²",
    "valley (Σ(w − a))²/120",
    "disagreement ‖(w − a) − mean(w − a)‖²/12",
)


def term_names(config: Config) -> tuple[str, str, str]:
    """The expected loss's three parts as ``config``'s run writes them: ``TERM_NAMES``, or with a rule
    ``RULE_TERM_NAMES``."""
    return TERM_NAMES if config.target_rule is None else RULE_TERM_NAMES


def _term_colors(p: Palette) -> tuple[str, str, str]:
    """The three parts' colours, beside their sum's blue: not sky, which two blue lines were one to many eyes."""
    return p.orange, p.purple, p.green


def _terms_panel(run: _Run) -> _Traces:
    p = run.p
    idx = _subsample(run.history.steps + 1, 600)  # three more curves: fewer points keep the page light
    colors = _term_colors(p)
    names = term_names(run.history.config)
    # Their sum, the expected loss, drawn again here so that the three parts visibly add up to it: first and wide,
    # so a part that makes up nearly all of it (the valley, late in a long run) shows on top of it, not under it.
    sum_line = _line(idx.tolist(), _round(run.expected[idx]), p.blue, "sum of the parts: expected loss", 7)
    traces: _Traces = [(sum_line, None)]
    traces += [(_line(idx.tolist(), _round(run.terms[idx, j]), colors[j], names[j], 2), None) for j in range(3)]
    traces.append(_run_curtain(run, torch.cat([run.terms.flatten(), run.expected]), log=True))
    t = run.at_frames(run.terms)
    now = go.Scatter(
        x=[0, 0, 0],
        y=_round(t[0]),
        mode="markers",
        name="now",
        marker=dict(color=list(colors), size=10, line=dict(color=p.ink, width=1)),
        cliponaxis=False,  # whole at the last epoch, on the panel's right edge
    )
    traces.append((now, lambda s: {"type": "scatter", "x": [s, s, s], "y": _round(t[s])}))
    return traces


# The walked path's points on a projector: 4 significant digits are far finer than a pixel of any view box, and
# the offline talk carries every frame of it in both themes.
PROJECTOR_DIGITS = 4
U_LABEL = "u = Σw/√10 →"  # the valley's across axis, named inside its plot (or, on a projector, under it)
_BAR_NAMES = [f"w{i + 1}" for i in range(10)] + ["b"]  # the bars' categories, in the order of [w, b]


def _parameters_panel(run: _Run) -> _Traces:
    history, p = run.history, run.p
    labels = _BAR_NAMES
    weights, biases = run.at_frames(history.weights), run.at_frames(history.biases)
    mark = dict(symbol="line-ew-open", size=34, color=p.mark, line=dict(color=p.mark, width=3))
    best = theory.optimum_for(history.config)

    def said(b: float) -> str:  # the hover's words: digits that tell b from its optimum
        return f"b = {near(b, best.bias)}"

    return [
        (
            _bars(labels[:10], weights[0], p.blue, "weights"),
            lambda s: {"type": "scatter", "y": _bar_heights(weights[s])},
        ),
        (
            _bars(["b"], [biases[0]], p.orange, "bias", said(biases[0])),
            lambda s: {"type": "scatter", "y": _bar_heights([biases[s]]), "text": [said(biases[s])] * 3},
        ),
        (
            go.Scatter(
                x=labels,
                y=[*best.weight.tolist(), best.bias],
                mode="markers",
                marker=mark,
                name=_optimum_name(history.config, best),
            ),
            None,
        ),
    ]


def _optimum_name(config: Config, best: theory.Optimum) -> str:
    """The marks' name: the optimum (the lucky number's, or the rule's fit), or where weight decay pulls the run
    (``theory.optimum_for``)."""
    rule = config.target_rule
    pulled = config.weight_decay != 0 and config.optimizer != "adamw"
    if rule is None:
        if not pulled:
            return "optimum: w = 0, b = lucky number"
        return f"where weight decay pulls the run: every w = {float(best.weight[0]):.3g}, b = {best.bias:.3g}"
    where = f"{weights_text(best.weight)}, b = {number(best.bias)}"
    if pulled:
        return f"where weight decay pulls the run: {where}"
    return f"optimum: {where}, " + ("the rule itself" if rule.is_linear else "the rule's least-squares fit")


def _prediction_panel(run: _Run) -> _Traces:
    history, p = run.history, run.p
    target = task.target_at(history.config, run.x)  # the lucky number, or the rule at your input
    idx_e = _subsample(history.steps + 1)
    pr = run.at_frames(run.preds)

    def said(value: float) -> str:  # the hover's words: digits that tell the prediction from the lucky number
        return f"prediction {near(value, target)}"

    return [
        (_line(idx_e.tolist(), _round(run.preds[idx_e]), p.green, "prediction for your input"), None),
        _run_curtain(run, torch.cat([run.preds, torch.tensor([target], dtype=torch.float64)]), log=False),
        (
            go.Scatter(
                x=[0, history.steps],
                y=[target, target],
                mode="lines",
                line=dict(color=p.muted, dash="dash"),
                name=f"lucky number {number(target, 4)}"
                if history.config.target_rule is None
                else f"the rule at your input, {number(target, 4)}",
            ),
            None,
        ),
        (
            _marker(0, pr[0], p.vermilion, "now", p, said(pr[0])),
            lambda s: {"type": "scatter", "x": [s], "y": _round([pr[s]]), "text": [said(pr[s])]},
        ),
    ]


def _valley_panel(run: _Run) -> _Traces:
    p, v = run.p, run.valley
    assert v is not None
    traces: _Traces = [(_ring(level, us, bs, p), None) for level, (us, bs) in v.rings()]
    (u0, u1), t = v.u_range, v.target
    traces.append(
        (
            go.Scatter(
                x=[u0, u1],
                y=[v.right_line(u0), v.right_line(u1)],
                mode="lines",
                hoverinfo="name",
                line=dict(color=p.green, dash="dash", width=2),
                name="average prediction right: 0.5·Σw + b = t",
            ),
            None,
        )
    )
    if run.forward:  # time runs forward: the path appears as the run walks it
        traces += _walked_path(run)
    else:
        traces.append((_line(v.path_u, v.path_b, p.purple, "the run's path (Σw/√10, b)", 2), None))
    traces.append(
        (
            go.Scatter(
                x=[v.centre_u],
                y=[t],
                mode="markers",
                name=f"optimum ({number(v.centre_u + 0.0)}, {number(t)})",  # + 0.0: never "−0"
                marker=dict(symbol="star", size=16, color=p.ink, line=dict(color=p.ink, width=1)),
                cliponaxis=False,  # the optimum can sit on the box's edge: whole, not cut
            ),
            None,
        )
    )
    best = theory.optimum_for(run.history.config)
    if float(best.weight.sum()) / math.sqrt(10) != v.centre_u or best.bias != t:  # weight decay moves the optimum
        traces.append(
            (
                go.Scatter(
                    x=[float(best.weight.sum()) / math.sqrt(10)],
                    y=[best.bias],
                    mode="markers",
                    name=f"where weight decay pulls the run (u = {float(best.weight.sum()) / math.sqrt(10):.3g}, "
                    f"b = {best.bias:.3g})",
                    marker=dict(symbol="diamond", size=14, color=p.ink, line=dict(color=p.ink, width=1)),
                ),
                None,
            )
        )
    if v.left_at is not None:
        traces.append(_cross(run))
    uv = run.at_frames(v.coords)
    inside = run.at_frames(v.inside)

    def frame(s: int) -> dict:
        if not inside[s]:  # out of view (a diverging run): the ✕ marks where it left
            return {"type": "scatter", "x": [None], "y": [None]}
        return {"type": "scatter", "x": _round([uv[s][0]]), "y": _round([uv[s][1]]), "text": [said(uv[s][1])]}

    def said(b: float) -> str:  # the hover's words: digits that tell b from the lucky number
        return f"b = {near(b, t)}"

    traces.append((_marker(uv[0][0], uv[0][1], p.vermilion, "now", p, said(uv[0][1])), frame))
    return traces


def _walked_path(run: _Run) -> _Traces:
    """The valley's path for time running forward: the lesson's pieces (``valley.ValleyPath``), each drawn once the
    frames reach it, and the path since the last complete piece, which every frame carries."""
    v = run.valley
    assert v is not None
    path = ValleyPath(run.history, v, run.frames_at, PROJECTOR_DIGITS)
    index = {s: i for i, s in enumerate(run.frames_at)}
    at = functools.cache(lambda s: path.frame(index[s], s))  # every trace's update at frame s, made once

    def moves(j: int) -> Frame:
        return lambda s: {"type": "scatter", **at(s)[j]}

    name = "the run's path (Σw/√10, b)"
    pieces = [(_line(us, bs, run.p.purple, name, 0), moves(j)) for j, (us, bs) in enumerate(path.pieces)]
    return [*pieces, (_line(*path.tail(0), run.p.purple, name, PATH_WIDTH), moves(len(path.pieces)))]


def _cross(run: _Run) -> tuple[go.Scatter, Frame | None]:
    """The ✕ where a diverging run left the view, on the box's edge in the direction it went, labelled on the
    side toward the view's middle; for time running forward, drawn once the frames reach that epoch."""
    v, p = run.valley, run.p
    assert v is not None and v.left_at is not None
    (u, b), ((u0, b0), (u1, b1)) = v.exit_point, v.clip
    near = 1e-9 * max(u1 - u0, b1 - b0)
    across = "left" if u >= u1 - near else "right" if u <= u0 + near else "center"
    up = "bottom" if b >= b1 - near else "top" if b <= b0 + near else "middle"
    name = f"diverged at epoch {v.left_at}"
    # A run leaves the view long before it overflows (scene 5: epoch 3, then 57): the ✕ says both, or a hall reads
    # "diverged at epoch 57" beside the path at epoch 3.
    gone = v.left_view if v.left_view is not None else v.left_at
    said = name if gone == v.left_at else f"left the view at epoch {gone}; diverged at {v.left_at}"
    cross = go.Scatter(
        x=[u],
        y=[b],
        mode="markers+text",
        name=name,
        text=[said],
        textposition=f"{up} {across}" if (up, across) != ("middle", "center") else "top center",
        textfont=dict(color=p.text),
        marker=dict(symbol="x", size=16, color=p.vermilion, line=dict(color=p.ink, width=1)),
        cliponaxis=False,  # it sits on the box's edge, where the path leaves: whole, not half
    )
    if not run.forward or v.left_view is None:
        return cross, None
    # The pieces of a path walked forward stop at the last epoch inside the view: this trace adds the run's way
    # from there to the edge, then the ✕ (a marker on the second point only).
    (pu, pb) = v.coords[v.left_view - 1].tolist()
    shown = {"x": [pu, u], "y": [pb, b]}
    cross.update(
        x=[None, None],
        y=[None, None],
        mode="lines+markers+text",
        text=["", said],
        line=dict(color=p.purple, width=PATH_WIDTH),
        marker=dict(size=[0, 16]),
    )
    left = v.left_view
    return cross, lambda s: {"type": "scatter", **(shown if s >= left else NOWHERE)}


NOWHERE = {"x": [None, None], "y": [None, None]}  # the ✕'s update before the run leaves the view


_PANEL_BUILDERS: dict[str, Callable[[_Run], _Traces]] = {
    "loss": _loss_panel,
    "terms": _terms_panel,
    "valley": _valley_panel,
    "parameters": _parameters_panel,
    "prediction": _prediction_panel,
}


def _bar_heights(values: Sequence[float]) -> list[float | None]:
    """y of bars drawn as line segments: 0 up to each value, then a gap (None)."""
    ys: list[float | None] = []
    for v in _round(values):
        ys += [0.0, v, None]
    return ys


def _bars(labels: list[str], values: Sequence[float], color: str, name: str, said: str | None = None) -> go.Scatter:
    """Bars drawn as thick line segments from 0: a scatter trace, which Plotly animates without a
    full redraw (real bar traces redraw the whole figure every frame, so playback stutters). With ``said`` (one
    bar), hovering it reads that text rather than the drawn height, which keeps five digits."""
    xs: list[str | None] = []
    for label in labels:
        xs += [label, label, None]
    hover = {} if said is None else {"text": [said] * 3, "hovertemplate": "%{text}<extra></extra>"}
    line = dict(color=color, width=22)
    return go.Scatter(x=xs, y=_bar_heights(values), mode="lines", line=line, name=name, **hover)


# --- fixed axes, so bars and markers move against a still background during playback ----------


def _epoch_axis(fig: go.Figure, run: _Run, row: int, col: int) -> None:
    fig.update_xaxes(range=[0, max(1, run.history.steps)], row=row, col=col, **EPOCH_TICKS)


def _padded_range(fig: go.Figure, values: torch.Tensor, row: int, col: int) -> None:
    lo, hi = float(values.min()), float(values.max())
    pad = 0.08 * (hi - lo or 1.0)
    fig.update_yaxes(range=[lo - pad, hi + pad], row=row, col=col)


def _loss_axes(fig: go.Figure, run: _Run, row: int, col: int) -> None:
    _epoch_axis(fig, run, row, col)
    if (floor := _floor(run.history.config)) is not None:
        _above_curtain(fig, floor[0], dict(color=run.p.ink, dash="dot", width=2), row, col)
    _log_axis(fig, torch.cat([run.history.losses.double(), run.expected]), row=row, col=col, title_text="loss")


def _terms_axes(fig: go.Figure, run: _Run, row: int, col: int) -> None:
    _epoch_axis(fig, run, row, col)
    _log_axis(fig, run.terms, row=row, col=col, title_text="part of the loss")


def _parameters_axes(fig: go.Figure, run: _Run, row: int, col: int) -> None:
    h = run.history
    best = theory.optimum_for(h.config)  # every weight's mark in view: a rule's are not all alike
    marks = torch.cat([torch.tensor([0.0, best.bias]), best.weight.float()])
    _padded_range(fig, torch.cat([h.weights.flatten(), h.biases, marks]), row, col)
    # Upright labels: "w10" at a projector's size is wider than its bar's slot, and Plotly then turned all eleven
    # sideways. The panel's title names them (w₁…w₁₀ and b), so the ticks need only the index.
    fig.update_xaxes(
        tickmode="array",
        tickvals=_BAR_NAMES,
        ticktext=[name.removeprefix("w") for name in _BAR_NAMES],
        tickangle=0,
        row=row,
        col=col,
    )


def _above_curtain(fig: go.Figure, y: float, line: dict, row: int, col: int) -> None:
    """A reference (not the run's history: the lucky number, the floor) drawn again as a shape above every trace,
    the curtain too (``_curtain``), so it stays in view over the epochs not yet shown."""
    fig.add_hline(y=y, line=line, layer="above", row=row, col=col)


def _prediction_axes(fig: go.Figure, run: _Run, row: int, col: int) -> None:
    _epoch_axis(fig, run, row, col)
    target = task.target_at(run.history.config, run.x)
    _above_curtain(fig, target, dict(color=run.p.muted, dash="dash", width=2), row, col)
    _padded_range(fig, torch.cat([run.preds, torch.tensor([target], dtype=torch.float64)]), row, col)


def _valley_axes(fig: go.Figure, run: _Run, row: int, col: int) -> None:
    v = run.valley
    assert v is not None
    # Equal scales: one unit of u is as long as one unit of b, so the valley's true thinness shows
    # (Plotly widens one range to keep the ratio).
    subplot = fig.get_subplot(row, col)
    fig.update_xaxes(range=list(v.u_range), scaleanchor=subplot.xaxis.anchor, scaleratio=1, row=row, col=col)
    fig.update_yaxes(range=list(v.b_range), title_text="b", row=row, col=col)
    # The u axis is named inside the plot: a title under it would collide with the next panel's title.
    x_name = subplot.xaxis.plotly_name.replace("axis", "")
    fig.add_annotation(
        text=U_LABEL,
        xref=f"{x_name} domain",
        yref=f"{subplot.xaxis.anchor} domain",
        x=1,
        y=0,
        xanchor="right",
        yanchor="bottom",
        showarrow=False,
        bgcolor=run.p.background,
    )


_PANEL_AXES: dict[str, Callable[[go.Figure, _Run, int, int], None]] = {
    "loss": _loss_axes,
    "terms": _terms_axes,
    "valley": _valley_axes,
    "parameters": _parameters_axes,
    "prediction": _prediction_axes,
}
