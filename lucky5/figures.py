"""Plotly figures of a run: the training animation and the comparison charts.

Pure functions from a ``History`` (and friends) to Plotly figures: ``go.Figure`` objects, and
for the animation a figure dict (see ``animation``). No Streamlit here: the page decides where
a figure goes and which theme it is shown in; this module decides what it shows and in which colours.

The animation plays in the browser with Plotly's own frames, so playback costs the server
nothing. To keep it light on the wire, the long curves (and the valley's contours) are drawn
once as static traces and each frame carries only what moves: the markers, the 10 weight bars
and the bias bar.

Every builder takes ``theme`` ("light" or "dark"): each colour it draws a line, mark or bar
with has at least 3:1 contrast against that theme's plot background (WCAG 2.2, 1.4.11 non-text
contrast); ``tests/test_figures.py`` computes it for every trace. ``projector=True`` makes every
text in the chart at least ``PROJECTOR_FONT`` px, for a hall's back row.

Not here: the page's layout, text outside the charts, and training (``engine``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from . import theory
from .config import Config
from .engine import History


@dataclass(frozen=True)
class Palette:
    """The colours of one theme. Hues are Okabe–Ito's colour-blind-safe set; where the original
    has less than 3:1 contrast on ``background`` it is darkened (light) or lightened (dark) in
    lightness only, keeping its hue, to about 3.3:1."""

    background: str  # the plot background the contrast is measured against
    blue: str
    orange: str
    green: str
    vermilion: str
    purple: str  # Okabe–Ito's reddish purple
    sky: str
    yellow: str
    ink: str  # black on light, white on dark: the optimum star, marker outlines
    muted: str  # the noisy per-epoch loss, dashed guides, contours: a grey with >= 3.4:1 in both themes
    mark: str  # the optimum's marks behind the bars
    band: str  # the seed-spread lines (drawn at BAND_OPACITY)
    button_bg: str
    button_text: str

    @property
    def series(self) -> tuple[str, ...]:
        """Eight distinct line colours for runs side by side, in Okabe–Ito's order."""
        return (self.blue, self.orange, self.green, self.vermilion, self.purple, self.sky, self.yellow, self.ink)


THEMES: dict[str, Palette] = {
    # Background measured in headless Chromium under Streamlit's light theme.
    "light": Palette(
        background="#FFFFFF",
        blue="#0072B2",
        orange="#BB8100",
        green="#009E73",
        vermilion="#D55E00",
        purple="#C870A1",
        sky="#1C95D9",
        yellow="#978E0C",
        ink="#000000",
        muted="#8A8A8A",
        mark="#555555",
        band="#0072B2",
        button_bg="#F0F2F6",
        button_text="#000000",
    ),
    # ... and under Streamlit's dark theme.
    "dark": Palette(
        background="#171614",
        blue="#0072B2",
        orange="#E69F00",
        green="#009E73",
        vermilion="#D55E00",
        purple="#CC79A7",
        sky="#56B4E9",
        yellow="#F0E442",
        ink="#FFFFFF",
        muted="#8A8A8A",
        mark="#BBBBBB",
        band="#56B4E9",
        button_bg="#2B2A28",
        button_text="#FAFAFA",
    ),
}
BAND_OPACITY = 0.8  # seed-spread lines overlap; blended with the background they keep >= 3.5:1

MAX_FRAMES = 300  # the animation's frames, whatever the epochs
MAX_CURVE_POINTS = 1_500  # static curves are subsampled to this many points
# Button label -> ms per frame. Plain words: emoji are missing from many projector laptops' fonts.
SPEEDS = {"Slow": 120, "Play": 40, "Fast": 12}
PROJECTOR_FONT = 18  # px: the smallest text in projector mode
EPOCH_TICKS = dict(exponentformat="none", separatethousands=True)  # epochs read '5,000', not '0.5×10⁴'
PANELS = ("loss", "terms", "valley", "parameters", "prediction")  # the animation's panels, top to bottom
_PANEL_WEIGHT = {"loss": 1.0, "terms": 0.8, "valley": 1.5, "parameters": 1.0, "prediction": 0.8}
_VALLEY_DECADES = 6  # contour rings drawn, one per power of ten of the expected loss


def palette(theme: str) -> Palette:
    """The ``Palette`` of ``theme``: "light" or "dark". Raises ValueError naming the choices otherwise."""
    try:
        return THEMES[theme]
    except (KeyError, TypeError):
        raise ValueError(f"theme must be one of {sorted(THEMES)}, not {theme!r}") from None


def powers_of_ten(fig: go.Figure) -> None:
    """Powers of ten on every axis of ``fig`` that has not chosen its own format (epoch axes have:
    ``EPOCH_TICKS``): SI prefixes ("100µ"), Plotly's default, are not what a learner reads."""
    for each in (fig.for_each_xaxis, fig.for_each_yaxis):
        each(lambda axis: axis.update(exponentformat="power") if axis.exponentformat is None else None)


@dataclass(frozen=True)
class _Style:
    """Font sizes and title markup: the page's normal scale, or projector scale (nothing below 18 px)."""

    projector: bool

    @property
    def font(self) -> int:
        return PROJECTOR_FONT if self.projector else 13

    @property
    def title_font(self) -> int:
        return 20 if self.projector else 16

    def title(self, main: str, detail: str) -> str:
        # <sup> renders at 70 %: fine on a laptop, too small on a projector, so there it is plain text, broken
        # at its " · " separators into short lines so that two columns' titles never run into each other.
        return f"<b>{main}</b><br>{_wrap(detail)}" if self.projector else f"{main}<br><sup>{detail}</sup>"

    def apply(self, fig: go.Figure) -> None:
        """Set every text size the figure has, explicitly: titles, ticks, legend, hover, buttons, slider."""
        size = self.font
        fig.update_layout(
            font=dict(size=size), hoverlabel=dict(font=dict(size=size)), legend=dict(font=dict(size=size))
        )
        fig.update_annotations(font=dict(size=self.title_font))
        fig.update_xaxes(tickfont=dict(size=size), title_font=dict(size=size))
        fig.update_yaxes(tickfont=dict(size=size), title_font=dict(size=size))
        powers_of_ten(fig)
        if fig.layout.title.text:
            fig.update_layout(title_font=dict(size=self.title_font))


def frame_steps(steps: int, max_frames: int = MAX_FRAMES) -> list[int]:
    """Which parameter rows (0..steps) become frames: all of them, or evenly spaced ones."""
    if steps + 1 <= max_frames:
        return list(range(steps + 1))
    return sorted({round(i * steps / (max_frames - 1)) for i in range(max_frames)})


def _subsample(steps: int, limit: int = MAX_CURVE_POINTS) -> torch.Tensor:
    if steps <= limit:
        return torch.arange(steps)
    return torch.linspace(0, steps - 1, limit).round().long().unique()


def _path_rows(rows: int, limit: int = MAX_CURVE_POINTS) -> torch.Tensor:
    """Rows of a path to draw: every one of the first 200 (the fast phase's zigzag), then evenly spaced."""
    if rows <= limit:
        return torch.arange(rows)
    head = torch.arange(200)
    return torch.cat([head, torch.linspace(0, rows - 1, limit - 200).round().long()]).unique()


def _round(values: torch.Tensor | Sequence[float | None], digits: int = 5) -> list[float | None]:
    """Floats with 5 significant digits: a third of the bytes of full precision, same picture."""
    if isinstance(values, torch.Tensor):
        values = values.tolist()
    return [float(f"{v:.{digits}g}") if v is not None and math.isfinite(v) else None for v in values]


def predictions_for(history: History, x: torch.Tensor) -> torch.Tensor:
    """The layer's prediction for input ``x`` (10,) with the parameters before every step: (steps + 1,), float64."""
    return history.weights.double() @ x.double() + history.biases.double()


def frames_table(history: History) -> list[dict]:
    """The animation as a table, one row per frame: its text alternative.

    Keys: ``epoch`` (the frame's parameter row s, 0..steps), ``loss`` (the loss of epoch s on its
    own random input, ``None`` at s = 0), ``expected loss`` and its three parts (``fast error``,
    ``valley``, ``disagreement``; see ``theory.loss_terms``), ``u = Σw/√10``, ``bias`` and
    ``w1``..``w10``. Floats are plain Python floats (float64 values of the float32 record).
    """
    expected = theory.expected_losses(history).tolist()
    terms = theory.loss_terms(history).tolist()
    uv = theory.valley_coordinates(history).tolist()
    losses, weights, biases = history.losses.tolist(), history.weights.tolist(), history.biases.tolist()
    rows = []
    for s in frame_steps(history.steps):
        row: dict = {"epoch": s, "loss": losses[s - 1] if s else None, "expected loss": expected[s]}
        row.update(zip(theory.LOSS_TERM_NAMES, terms[s], strict=True))
        row.update({"u = Σw/√10": uv[s][0], "bias": biases[s]})
        row.update({f"w{i + 1}": v for i, v in enumerate(weights[s])})
        rows.append(row)
    return rows


# --- log axes: powers of ten, never SI prefixes ----------------------------------------------

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def power_of_ten(k: int, mantissa: int = 1) -> str:
    """``10⁻⁴``-style label of mantissa·10^k ("1" and "10" for k = 0, 1)."""
    if k in (0, 1):
        return str(mantissa * 10**k)
    power = "10" + str(k).translate(_SUPERSCRIPT)
    return power if mantissa == 1 else f"{mantissa}·{power}"


def _log_ticks(lo: float, hi: float, most: int = 7) -> tuple[list[float], list[str]]:
    """Tick values and labels for a log axis spanning 10^lo..10^hi: whole powers of ten (every
    n-th when there are many), with 2· and 5· added when fewer than two powers fall inside."""
    decades = list(range(math.ceil(lo), math.floor(hi) + 1))
    stride = max(1, math.ceil(len(decades) / most))
    ticks = [(k, 1) for k in decades[::stride]]
    if len(decades) < 2:
        ticks = [(k, m) for k in range(math.floor(lo), math.ceil(hi) + 1) for m in (1, 2, 5)]
        ticks = [(k, m) for k, m in ticks if lo <= math.log10(m) + k <= hi]
    return [m * 10.0**k for k, m in ticks], [power_of_ten(k, m) for k, m in ticks]


def _log_axis(fig: go.Figure, values: torch.Tensor, row: int | None = None, col: int | None = None, **kw) -> None:
    """Make a y axis logarithmic with a fixed range around the positive finite ``values`` and power-of-ten ticks."""
    v = values.double().flatten()
    v = v[torch.isfinite(v) & (v > 0)]
    axis: dict = dict(type="log", exponentformat="power", **kw)
    if v.numel():
        lo, hi = math.log10(float(v.min())) - 0.2, math.log10(float(v.max())) + 0.2
        axis["range"] = [lo, hi]
        axis["tickvals"], axis["ticktext"] = _log_ticks(lo, hi)
    fig.update_yaxes(row=row, col=col, **axis)


# --- the animation ----------------------------------------------------------------------------

Frame = Callable[[int], dict]  # parameter row s -> a frame's data for one moving trace


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


def animation(
    history: History,
    x: torch.Tensor,
    *,
    theme: str = "light",
    projector: bool = False,
    height: int | None = None,
    panels: Sequence[str] = PANELS,
    columns: int | None = None,
) -> dict:
    """The training animation: loss, its three parts, the valley, weights and bias, and the prediction for ``x``.

    Args:
        history: the run.
        x: the learner's input, shape (10,), any float dtype.
        theme: "light" or "dark": the palette (see ``THEMES``).
        projector: every text at least ``PROJECTOR_FONT`` px, subplot titles without small print.
        height: total height in px; default ``default_height(panels, projector, columns)``. In
            presenter mode (two columns) about 900 fits a 1080 px screen and 560 a 720 px one.
        panels: which panels, from ``PANELS``: "loss" (loss per epoch and the expected loss),
            "terms" (the expected loss's three parts, ``theory.loss_terms``), "valley" (contours of
            the expected loss on the plane (u = Σw/√10, b) with the run's path), "parameters"
            (bars) and "prediction" (for ``x``).
        columns: 1 stacks the panels in the given order (works from a 390 px phone up); 2 puts
            loss, terms and prediction on the left and the valley and bars on the right, for
            landscape screens. Default: 2 in projector mode, else 1.

    Returned as a Plotly figure *dict* (``go.Figure(spec)`` turns it into a figure). The static
    traces are built with graph objects; the up to 300 frames and slider steps are plain dicts,
    because validating ~1,200 small graph objects took over a second per new run. Frames update
    only the traces listed in their ``traces``, with only x and y.

    Raises:
        ValueError: unknown theme, panels or columns, or a height that leaves a panel under 80 px.
    """
    p = palette(theme)
    chosen = _check_panels(panels)
    cols = _check_columns(2 if projector else 1) if columns is None else _check_columns(columns)
    style = _Style(projector)
    height = default_height(chosen, projector, cols) if height is None else int(height)
    cells, rows, weights = _grid(chosen, cols)
    gap = _gap_px(projector)
    plot_px = height - 170 - gap * (rows - 1)  # margins, buttons and slider take about 170 px
    if plot_px < 80 * rows or (cols == 1 and min(weights) / sum(weights) * plot_px < 80):
        raise ValueError(
            f"height={height} px leaves a panel under 80 px for {len(chosen)} panels in {rows} rows;"
            " give more height, fewer panels or two columns"
        )

    run = _Run(history, x, p, with_valley="valley" in chosen)
    ncols = max(c.col for c in cells)
    specs: list[list[dict | None]] = [[None] * ncols for _ in range(rows)]
    for c in cells:
        specs[c.row - 1][c.col - 1] = {"rowspan": c.rowspan}
    fig = make_subplots(
        rows=rows,
        cols=ncols,
        specs=specs,
        row_heights=weights,
        column_widths=[0.55, 0.45] if ncols == 2 else None,
        horizontal_spacing=0.08,
        vertical_spacing=gap / (height - 170),
        subplot_titles=(titles := [style.title(*_panel_title(c.name, run.valley)) for c in cells]),
    )
    # The Play buttons sit above the first row's titles, which take one line per "<br>" plus the first.
    title_lines = max(t.count("<br>") + 1 for t in titles)
    moving: list[tuple[int, Frame]] = []
    # The bars lead each frame's data, as they did before the valley: readers that find them by order keep working.
    bars_first = sorted(cells, key=lambda c: c.name != "parameters")
    traces_of: dict[str, list[tuple[go.Scatter, Frame | None]]] = {c.name: _PANEL_BUILDERS[c.name](run) for c in cells}
    first_trace: dict[str, int] = {}
    for c in cells:
        first_trace[c.name] = len(fig.data)
        for trace, _ in traces_of[c.name]:
            fig.add_trace(trace, row=c.row, col=c.col)
        _PANEL_AXES[c.name](fig, run, c.row, c.col)
    for c in bars_first:
        moving += [(first_trace[c.name] + i, f) for i, (_, f) in enumerate(traces_of[c.name]) if f is not None]

    fig.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=70 if not projector else 40 + style.title_font * (title_lines + 1), b=10),
        showlegend=False,  # the subplot titles name every trace: a legend crowds a phone screen
        updatemenus=[_play_buttons(p, style, title_lines)],
        uirevision="animation",
    )
    style.apply(fig)
    spec = fig.to_dict()
    frames_at = run.frames_at
    traces = [i for i, _ in moving]
    spec["frames"] = [{"name": str(s), "traces": traces, "data": [f(s) for _, f in moving]} for s in frames_at]
    spec["layout"]["sliders"] = [_slider(frames_at, style)]
    return spec


def _panel_title(name: str, valley: _Valley | None) -> tuple[str, str]:
    if name == "valley" and valley is not None:
        detail = "rings ×10 apart · purple: run · green: 0.5Σw+b=t · star: optimum"
        if valley.left_at is not None:
            detail += f" · ✕ diverged at epoch {valley.left_at}"
        return "The valley of the expected loss", detail
    return _TITLES[name]


def _wrap(detail: str, width: int = 34) -> str:
    """``detail`` in lines of at most about ``width`` characters, broken only between its " · " parts."""
    lines: list[str] = []
    for part in detail.replace("; ", " · ").split(" · "):
        if lines and len(lines[-1]) + 3 + len(part) <= width:
            lines[-1] += " · " + part
        else:
            lines.append(part)
    return "<br>".join(lines)


_TITLES = {
    "loss": ("Loss per epoch (log scale)", "grey: on that epoch's input · blue: expected (theory)"),
    "terms": (
        "The expected loss in three parts",
        "orange: fast error · purple: valley · sky: disagreement · blue: sum",
    ),
    "parameters": ("Weights w₁…w₁₀ and bias b", "grey marks: the optimum, w = 0 and b = lucky number"),
    "prediction": ("Prediction for your input", "dashed: the lucky number"),
}

_Traces = list[tuple[go.Scatter, Frame | None]]


class _Run:
    """What the panels draw, computed once per figure: the run's curves in float64, and only the
    frames' rows as Python lists (``tolist`` of every row of a long run costs more than the figure)."""

    def __init__(self, history: History, x: torch.Tensor, p: Palette, with_valley: bool) -> None:
        self.history, self.p = history, p
        self.frames_at = frame_steps(history.steps)
        self.expected = theory.expected_losses(history)
        self.terms = theory.loss_terms(history)
        self.preds = predictions_for(history, x)
        self.valley = _Valley(history) if with_valley else None

    def at_frames(self, values: torch.Tensor) -> dict[int, Any]:
        """Row s -> values[s] as a list (or float), for every frame's row s."""
        return dict(zip(self.frames_at, values[self.frames_at].tolist(), strict=True))


def _loss_panel(run: _Run) -> _Traces:
    history, p = run.history, run.p
    idx = _subsample(history.steps)
    idx_e = _subsample(history.steps + 1)
    e = run.at_frames(run.expected)
    return [
        (_line((idx + 1).tolist(), _round(history.losses[idx]), p.muted, "loss on that epoch's input", 1.5), None),
        (_line(idx_e.tolist(), _round(run.expected[idx_e]), p.blue, "expected loss (theory)"), None),
        (_marker(0, e[0], p.vermilion, "now", p), lambda s: {"type": "scatter", "x": [s], "y": _round([e[s]])}),
    ]


TERM_NAMES = ("fast error (0.5·Σw + b − t)²", "valley (Σw)²/120", "disagreement ‖w − mean w‖²/12")


def _terms_panel(run: _Run) -> _Traces:
    p = run.p
    idx = _subsample(run.history.steps + 1, 600)  # three more curves: fewer points keep the page light
    colors = (p.orange, p.purple, p.sky)
    traces: _Traces = [
        (_line(idx.tolist(), _round(run.terms[idx, j]), colors[j], TERM_NAMES[j], 2), None) for j in range(3)
    ]
    # Their sum, the expected loss, drawn again here so that the three parts visibly add up to it.
    traces.append((_line(idx.tolist(), _round(run.expected[idx]), p.blue, "sum of the parts: expected loss", 3), None))
    t = run.at_frames(run.terms)
    now = go.Scatter(
        x=[0, 0, 0],
        y=_round(t[0]),
        mode="markers",
        name="now",
        marker=dict(color=list(colors), size=10, line=dict(color=p.ink, width=1)),
    )
    traces.append((now, lambda s: {"type": "scatter", "x": [s, s, s], "y": _round(t[s])}))
    return traces


def _parameters_panel(run: _Run) -> _Traces:
    history, p = run.history, run.p
    labels = [f"w{i + 1}" for i in range(10)] + ["b"]
    weights, biases = run.at_frames(history.weights), run.at_frames(history.biases)
    mark = dict(symbol="line-ew-open", size=34, color=p.mark, line=dict(color=p.mark, width=3))
    best = theory.optimum_for(history.config)
    return [
        (
            _bars(labels[:10], weights[0], p.blue, "weights"),
            lambda s: {"type": "scatter", "y": _bar_heights(weights[s])},
        ),
        (_bars(["b"], [biases[0]], p.orange, "bias"), lambda s: {"type": "scatter", "y": _bar_heights([biases[s]])}),
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
    """The marks' name: the optimum, or where weight decay pulls the run (``theory.optimum_for``)."""
    if config.weight_decay == 0 or config.optimizer == "adamw":
        return "optimum: w = 0, b = lucky number"
    return f"where weight decay pulls the run: every w = {float(best.weight[0]):.3g}, b = {best.bias:.3g}"


def _prediction_panel(run: _Run) -> _Traces:
    history, p = run.history, run.p
    target = history.config.target
    idx_e = _subsample(history.steps + 1)
    pr = run.at_frames(run.preds)
    return [
        (_line(idx_e.tolist(), _round(run.preds[idx_e]), p.green, "prediction for your input"), None),
        (
            go.Scatter(
                x=[0, history.steps],
                y=[target, target],
                mode="lines",
                line=dict(color=p.muted, dash="dash"),
                name=f"lucky number {target:g}",
            ),
            None,
        ),
        (_marker(0, pr[0], p.vermilion, "now", p), lambda s: {"type": "scatter", "x": [s], "y": _round([pr[s]])}),
    ]


def _valley_panel(run: _Run) -> _Traces:
    p, v = run.p, run.valley
    assert v is not None
    traces: _Traces = []
    for level, (us, bs) in v.rings():
        traces.append(
            (
                go.Scatter(
                    x=us,
                    y=bs,
                    mode="lines",
                    line=dict(color=p.muted, width=1),
                    hoverinfo="name",
                    name=f"expected loss {power_of_ten(round(math.log10(level)))}",
                    meta=level,
                ),
                None,
            )
        )
    (u0, u1), t = v.u_range, v.target
    slope = math.sqrt(10) / 2  # 0.5·Σw + b = t  <=>  b = t − (√10/2)·u
    traces.append(
        (
            go.Scatter(
                x=[u0, u1],
                y=[t - slope * u0, t - slope * u1],
                mode="lines",
                hoverinfo="name",
                line=dict(color=p.green, dash="dash", width=2),
                name="average prediction right: 0.5·Σw + b = t",
            ),
            None,
        )
    )
    traces.append((_line(v.path_u, v.path_b, p.purple, "the run's path (Σw/√10, b)", 2), None))
    traces.append(
        (
            go.Scatter(
                x=[0.0],
                y=[t],
                mode="markers",
                name=f"optimum (0, {t:g})",
                marker=dict(symbol="star", size=16, color=p.ink, line=dict(color=p.ink, width=1)),
            ),
            None,
        )
    )
    best = theory.optimum_for(run.history.config)
    if float(best.weight.abs().max()) > 0 or best.bias != t:  # weight decay moves where the run settles
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
        traces.append(
            (
                go.Scatter(
                    x=[v.exit_point[0]],
                    y=[v.exit_point[1]],
                    mode="markers",
                    name=f"diverged at epoch {v.left_at}",
                    marker=dict(symbol="x", size=16, color=p.vermilion, line=dict(color=p.ink, width=1)),
                ),
                None,
            )
        )
    uv = run.at_frames(v.coords)
    inside = run.at_frames(v.inside)

    def frame(s: int) -> dict:
        if not inside[s]:  # out of view (a diverging run): the ✕ marks where it left
            return {"type": "scatter", "x": [None], "y": [None]}
        return {"type": "scatter", "x": _round([uv[s][0]]), "y": _round([uv[s][1]])}

    traces.append((_marker(uv[0][0], uv[0][1], p.vermilion, "now", p), frame))
    return traces


_PANEL_BUILDERS: dict[str, Callable[[_Run], _Traces]] = {
    "loss": _loss_panel,
    "terms": _terms_panel,
    "valley": _valley_panel,
    "parameters": _parameters_panel,
    "prediction": _prediction_panel,
}


# --- fixed axes, so bars and markers move against a still background during playback ----------


def _epoch_axis(fig: go.Figure, run: _Run, row: int, col: int) -> None:
    fig.update_xaxes(range=[0, max(1, run.history.steps)], row=row, col=col, **EPOCH_TICKS)


def _padded_range(fig: go.Figure, values: torch.Tensor, row: int, col: int) -> None:
    lo, hi = float(values.min()), float(values.max())
    pad = 0.08 * (hi - lo or 1.0)
    fig.update_yaxes(range=[lo - pad, hi + pad], row=row, col=col)


def _loss_axes(fig: go.Figure, run: _Run, row: int, col: int) -> None:
    _epoch_axis(fig, run, row, col)
    _log_axis(fig, torch.cat([run.history.losses.double(), run.expected]), row=row, col=col, title_text="loss")


def _terms_axes(fig: go.Figure, run: _Run, row: int, col: int) -> None:
    _epoch_axis(fig, run, row, col)
    _log_axis(fig, run.terms, row=row, col=col, title_text="part of the loss")


def _parameters_axes(fig: go.Figure, run: _Run, row: int, col: int) -> None:
    h = run.history
    best = theory.optimum_for(h.config)
    marks = torch.tensor([0.0, h.config.target, float(best.weight[0]), best.bias])
    _padded_range(fig, torch.cat([h.weights.flatten(), h.biases, marks]), row, col)


def _prediction_axes(fig: go.Figure, run: _Run, row: int, col: int) -> None:
    _epoch_axis(fig, run, row, col)
    _padded_range(fig, torch.cat([run.preds, torch.tensor([run.history.config.target], dtype=torch.float64)]), row, col)


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
        text="u = Σw/√10 →",
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


# --- the valley -------------------------------------------------------------------------------


class _Valley:
    """The run seen on the plane (u = Σw/√10, b): its view box, the contour rings and the clipped path.

    On that plane (w = u/√10 · 1, so ‖w − mean w‖ = 0) the expected loss is the quadratic
    E(u, b) = ½·[u, b − t]·Q·[u, b − t]ᵀ with Q = Bᵀ·H·B, H the Hessian (``theory.hessian``) and B
    the plane's two unit vectors in [w, b]; its level sets are ellipses with semi-axes √(2L/λ)
    along Q's eigenvectors, drawn exactly rather than interpolated from a grid.
    """

    def __init__(self, history: History) -> None:
        self.target = t = float(history.config.target)
        self.coords = theory.valley_coordinates(history)  # (steps + 1, 2) float64
        self.left_at = history.diverged_at
        optimum = torch.tensor([0.0, t], dtype=torch.float64)
        dist = (self.coords - optimum).norm(dim=-1)
        # A diverging run leaves for 1e18 and beyond: the view keeps what is within 3× the start's
        # distance to the optimum (at least 1), and the path is clipped to it.
        radius = 3 * max(float(dist[0]), 1.0)
        near = self.coords[dist <= radius]
        pts = torch.cat([near, optimum[None], self.coords[:1]])
        lo, hi = pts.min(0).values, pts.max(0).values
        pad = 0.08 * (hi - lo).clamp(min=0.5)
        lo, hi = lo - pad, hi + pad
        self.u_range = (float(lo[0]), float(hi[0]))
        self.b_range = (float(lo[1]), float(hi[1]))
        self.inside = ((self.coords >= lo) & (self.coords <= hi)).all(-1)
        self.path_u, self.path_b, self.exit_point = self._clipped_path()

    def plane_loss(self, u: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """theory.expected_loss at w = u/√10 · 1 (shape of u), b."""
        w = (u.double() / math.sqrt(10)).unsqueeze(-1).expand(*u.shape, 10)
        return theory.expected_loss(w, b, self.target)

    def rings(self, points: int = 73) -> list[tuple[float, tuple[list[float | None], list[float | None]]]]:
        """(level, (u, b)) for each of the ``_VALLEY_DECADES`` powers of ten up to the view's largest loss."""
        basis = torch.zeros(11, 2, dtype=torch.float64)
        basis[:10, 0] = 1 / math.sqrt(10)
        basis[10, 1] = 1.0
        q = basis.T @ theory.hessian() @ basis
        lam, vec = torch.linalg.eigh(q)
        corners = torch.tensor([[u, b] for u in self.u_range for b in self.b_range], dtype=torch.float64)
        top = math.floor(math.log10(float(self.plane_loss(corners[:, 0], corners[:, 1]).max())))
        theta = torch.linspace(0, 2 * math.pi, points, dtype=torch.float64)
        circle = torch.stack([theta.cos(), theta.sin()])  # (2, points)
        rings = []
        for k in range(top - _VALLEY_DECADES + 1, top + 1):
            level = 10.0**k
            ellipse = vec @ (torch.sqrt(2 * level / lam)[:, None] * circle)  # E = ½·eᵀQe = level
            rings.append((level, (_round(ellipse[0], 7), _round(ellipse[1] + self.target, 7))))
        return rings

    def _clipped_path(self) -> tuple[list[float | None], list[float | None], tuple[float, float]]:
        """The path's drawn rows clipped to the view box (Liang–Barsky), with None between pieces;
        and where it last left the view (or its last point), to mark a divergence."""
        rows = _path_rows(self.coords.shape[0], 800)
        pts = self.coords[rows].tolist()
        (u0, u1), (b0, b1) = self.u_range, self.b_range
        us: list[float | None] = []
        bs: list[float | None] = []
        last: tuple[float, float] | None = None
        if len(pts) == 1:
            us, bs = [pts[0][0]], [pts[0][1]]
        for (ax, ay), (bx, by) in itertools.pairwise(pts):
            seg = _clip_segment(ax, ay, bx, by, u0, u1, b0, b1)
            if seg is None:
                continue
            (cx, cy), (dx, dy) = seg
            if last != (cx, cy):
                if us:
                    us.append(None)
                    bs.append(None)
                us.append(cx)
                bs.append(cy)
            us.append(dx)
            bs.append(dy)
            last = (dx, dy)
        exit_point = last if last is not None else (pts[0][0], pts[0][1])
        return _round(us, 6), _round(bs, 6), exit_point


def _clip_segment(ax: float, ay: float, bx: float, by: float, x0: float, x1: float, y0: float, y1: float):
    """The part of segment a→b inside the box [x0, x1]×[y0, y1] (Liang–Barsky), or None."""
    dx, dy = bx - ax, by - ay
    t0, t1 = 0.0, 1.0
    for p, q in ((-dx, ax - x0), (dx, x1 - ax), (-dy, ay - y0), (dy, y1 - ay)):
        if p == 0:
            if q < 0:
                return None
            continue
        r = q / p
        if p < 0:
            t0 = max(t0, r)
        else:
            t1 = min(t1, r)
        if t0 > t1:
            return None
    # The end points themselves when not cut, so the drawn path holds the run's own numbers.
    start = (ax, ay) if t0 == 0.0 else (ax + t0 * dx, ay + t0 * dy)
    end = (bx, by) if t1 == 1.0 else (ax + t1 * dx, ay + t1 * dy)
    return start, end


# --- small builders ---------------------------------------------------------------------------


def _bar_heights(values: Sequence[float]) -> list[float | None]:
    """y of bars drawn as line segments: 0 up to each value, then a gap (None)."""
    ys: list[float | None] = []
    for v in _round(values):
        ys += [0.0, v, None]
    return ys


def _line(x: list, y: list, color: str, name: str, width: float = 2.5) -> go.Scatter:
    return go.Scatter(x=x, y=y, mode="lines", line=dict(color=color, width=width), name=name)


def _bars(labels: list[str], values: Sequence[float], color: str, name: str) -> go.Scatter:
    """Bars drawn as thick line segments from 0: a scatter trace, which Plotly animates without a
    full redraw (real bar traces redraw the whole figure each frame: ~4 fps against ~20)."""
    xs: list[str | None] = []
    for label in labels:
        xs += [label, label, None]
    return go.Scatter(x=xs, y=_bar_heights(values), mode="lines", line=dict(color=color, width=22), name=name)


def _marker(x: float, y: float, color: str, name: str, p: Palette) -> go.Scatter:
    return go.Scatter(
        x=[x],
        y=_round([y]),
        mode="markers",
        name=name,
        marker=dict(color=color, size=12, line=dict(color=p.ink, width=1.5)),
    )


def _play_args(ms: int) -> list:
    # redraw=False: frames only move scatter traces, so Plotly skips the full redraw.
    return [None, {"frame": {"duration": ms, "redraw": False}, "transition": {"duration": 0}, "fromcurrent": True}]


def _play_buttons(p: Palette, style: _Style, title_lines: int = 2) -> dict:
    buttons = [dict(label=label, method="animate", args=_play_args(ms)) for label, ms in SPEEDS.items()]
    pause = [[None], {"frame": {"duration": 0, "redraw": False}, "mode": "immediate", "transition": {"duration": 0}}]
    buttons.insert(2, dict(label="Pause", method="animate", args=pause))
    return dict(
        type="buttons",
        direction="left",
        showactive=False,
        x=0,
        y=1.0,
        xanchor="left",
        yanchor="bottom",
        pad=dict(r=4, t=0, b=int(style.title_font * (title_lines + 1))),
        buttons=buttons,
        bgcolor=p.button_bg,
        bordercolor=p.muted,
        font=dict(size=style.font, color=p.button_text),
    )


def _slider(frames_at: list[int], style: _Style) -> dict:
    return dict(
        active=0,
        x=0,
        len=1.0,
        y=0,
        yanchor="top",
        pad=dict(t=style.font * 3, b=0),
        font=dict(size=style.font),
        currentvalue=dict(prefix="epoch ", font=dict(size=style.font + 1)),
        steps=[
            dict(
                label=str(s),
                method="animate",
                args=[
                    [str(s)],
                    {"mode": "immediate", "frame": {"duration": 0, "redraw": False}, "transition": {"duration": 0}},
                ],
            )
            for s in frames_at
        ],
    )


# --- the other charts -------------------------------------------------------------------------


def contributions(history: History, x: torch.Tensor, *, theme: str = "light", projector: bool = False) -> go.Figure:
    """How b + Σ wᵢxᵢ adds up to the prediction for ``x`` (10,), as a waterfall of the trained layer."""
    p = palette(theme)
    style = _Style(projector)
    w, b = history.weights[-1].double(), float(history.biases[-1])
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
    norms = [float(h.weights[-1].double().norm()) for h in histories]
    biases = [float(h.biases[-1]) for h in histories]
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
