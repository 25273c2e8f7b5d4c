"""Plotly figures of a run: the training animation and the comparison charts.

Pure functions from a ``History`` (and friends) to Plotly figures: ``go.Figure`` objects, and
for the animation a figure dict (see ``animation``). No Streamlit here: the page decides where
a figure goes; this module decides what it shows.

The animation plays in the browser with Plotly's own frames, so playback costs the server
nothing. To keep it light on the wire, the long curves are drawn once as static traces
and each frame carries only what moves: two markers, the 10 weight bars and the bias bar.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from . import theory
from .engine import History

# Okabe–Ito: a palette that colour-blind viewers can tell apart.
BLUE, ORANGE, GREEN, VERMILION, PURPLE, SKY, YELLOW, GREY = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#56B4E9",
    "#F0E442",
    "#999999",
)
PALETTE = (BLUE, ORANGE, GREEN, VERMILION, PURPLE, SKY, YELLOW, "#000000")

MAX_FRAMES = 300  # the animation's frames, whatever the epochs
MAX_CURVE_POINTS = 1_500  # static curves are subsampled to this many points
# Button label -> ms per frame. Plain words: emoji are missing from many projector laptops' fonts.
SPEEDS = {"Slow": 120, "Play": 40, "Fast": 12}

# Trace order of the animation figure; frames update only the moving ones.
_LOSS, _EXPECTED, _LOSS_NOW, _WEIGHTS, _BIAS, _GHOST, _PRED, _TARGET, _PRED_NOW = range(9)
_MOVING = [_LOSS_NOW, _WEIGHTS, _BIAS, _PRED_NOW]


def frame_steps(steps: int, max_frames: int = MAX_FRAMES) -> list[int]:
    """Which parameter rows (0..steps) become frames: all of them, or evenly spaced ones."""
    if steps + 1 <= max_frames:
        return list(range(steps + 1))
    return sorted({round(i * steps / (max_frames - 1)) for i in range(max_frames)})


def _subsample(steps: int, limit: int = MAX_CURVE_POINTS) -> torch.Tensor:
    if steps <= limit:
        return torch.arange(steps)
    return torch.linspace(0, steps - 1, limit).round().long().unique()


def _round(values: torch.Tensor | Sequence[float], digits: int = 5) -> list[float | None]:
    """Floats with 5 significant digits: a third of the bytes of full precision, same picture."""
    if isinstance(values, torch.Tensor):
        values = values.tolist()
    return [float(f"{v:.{digits}g}") if math.isfinite(v) else None for v in values]


def predictions_for(history: History, x: torch.Tensor) -> torch.Tensor:
    """The layer's prediction for input ``x`` (10,) with the parameters before every step."""
    return history.weights.double() @ x.double() + history.biases.double()


def animation(history: History, x: torch.Tensor, *, height: int = 860) -> dict:
    """The training animation: loss, weights and bias, and the prediction for ``x``.

    Returned as a Plotly figure *dict* (``go.Figure(spec)`` turns it into a figure). The static
    traces are built with graph objects; the up to 300 frames and slider steps are plain dicts,
    because validating ~1,200 small graph objects took over a second per new run.
    """
    target = history.config.target
    steps = history.steps
    expected = theory.expected_losses(history)
    preds = predictions_for(history, x)
    frames_at = frame_steps(steps)

    fig = make_subplots(
        rows=3,
        cols=1,
        row_heights=[0.38, 0.32, 0.30],
        vertical_spacing=0.11,
        subplot_titles=(
            "Loss per epoch (log scale)<br><sup>grey: on that epoch's input · blue: expected (theory)</sup>",
            "Weights w₁…w₁₀ and bias b<br><sup>grey marks: the optimum, w = 0 and b = lucky number</sup>",
            "Prediction for your input<br><sup>dashed: the lucky number</sup>",
        ),
    )
    # Row 1: the noisy loss of each step's random input, and the expected loss from theory.
    idx = _subsample(steps)
    fig.add_trace(_line((idx + 1).tolist(), _round(history.losses[idx]), GREY, "loss on that epoch's input", 1),
                  row=1, col=1)
    idx_e = _subsample(steps + 1)
    fig.add_trace(_line(idx_e.tolist(), _round(expected[idx_e]), BLUE, "expected loss (theory)"), row=1, col=1)
    fig.add_trace(_marker(0, float(expected[0]), VERMILION, "now"), row=1, col=1)
    # Row 2: the parameters as bars, with the optimum (w = 0, b = target) as ghost marks.
    labels = [f"w{i + 1}" for i in range(10)] + ["b"]
    fig.add_trace(_bars(labels[:10], history.weights[0], BLUE, "weights"), row=2, col=1)
    fig.add_trace(_bars(["b"], history.biases[:1], ORANGE, "bias"), row=2, col=1)
    fig.add_trace(
        go.Scatter(
            x=labels,
            y=[0.0] * 10 + [target],
            mode="markers",
            marker=dict(symbol="line-ew-open", size=34, color="#555555", line=dict(width=3)),
            name="optimum: w = 0, b = lucky number",
        ),
        row=2,
        col=1,
    )
    # Row 3: the prediction for the user's input at every step, converging on the target.
    fig.add_trace(_line(idx_e.tolist(), _round(preds[idx_e]), GREEN, "prediction for your input"), row=3, col=1)
    fig.add_trace(
        go.Scatter(
            x=[0, steps],
            y=[target, target],
            mode="lines",
            line=dict(color=GREY, dash="dash"),
            name=f"lucky number {target:g}",
        ),
        row=3,
        col=1,
    )
    fig.add_trace(_marker(0, float(preds[0]), VERMILION, "now"), row=3, col=1)

    _fix_ranges(fig, history, expected, preds)
    fig.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=70, b=10),
        showlegend=False,  # the subplot titles name every trace: a legend crowds a phone screen
        font=dict(size=13),
        updatemenus=[_play_buttons()],
        uirevision="animation",
    )
    fig.update_yaxes(type="log", row=1, col=1, title_text="loss")
    spec = fig.to_dict()
    # Each frame moves only the two markers, the weight bars and the bias bar (trace indices _MOVING).
    weights, biases = history.weights.tolist(), history.biases.tolist()
    spec["frames"] = [
        {
            "name": str(s),
            "traces": _MOVING,
            "data": [
                {"type": "scatter", "x": [s], "y": _round([float(expected[s])])},
                {"type": "scatter", "y": _bar_heights(weights[s])},
                {"type": "scatter", "y": _bar_heights([biases[s]])},
                {"type": "scatter", "x": [s], "y": _round([float(preds[s])])},
            ],
        }
        for s in frames_at
    ]
    spec["layout"]["sliders"] = [_slider(frames_at)]
    return spec


def _bar_heights(values: Sequence[float]) -> list[float | None]:
    """y of bars drawn as line segments: 0 up to each value, then a gap (None)."""
    ys: list[float | None] = []
    for v in _round(values):
        ys += [0.0, v, None]
    return ys


def _line(x: list, y: list, color: str, name: str, width: float = 2.5) -> go.Scatter:
    return go.Scatter(x=x, y=y, mode="lines", line=dict(color=color, width=width), name=name)


def _bars(labels: list[str], values: torch.Tensor, color: str, name: str) -> go.Scatter:
    """Bars drawn as thick line segments from 0: a scatter trace, which Plotly animates without a
    full redraw (real bar traces redraw the whole figure each frame: ~4 fps against ~20)."""
    xs: list[str | None] = []
    for label in labels:
        xs += [label, label, None]
    return go.Scatter(x=xs, y=_bar_heights(values.tolist()), mode="lines", line=dict(color=color, width=22),
                      name=name)


def _marker(x: float, y: float, color: str, name: str) -> go.Scatter:
    return go.Scatter(x=[x], y=_round([y]), mode="markers", name=name,
                      marker=dict(color=color, size=12, line=dict(color="white", width=1.5)))


def _fix_ranges(fig: go.Figure, history: History, expected: torch.Tensor, preds: torch.Tensor) -> None:
    """Fixed axes, so bars and markers move against a still background during playback."""
    target = history.config.target
    params = torch.cat([history.weights.flatten(), history.biases, torch.tensor([0.0, target])])
    lo, hi = float(params.min()), float(params.max())
    pad = 0.08 * (hi - lo or 1.0)
    fig.update_yaxes(range=[lo - pad, hi + pad], row=2, col=1)
    p = torch.cat([preds, torch.tensor([target], dtype=preds.dtype)])
    plo, phi = float(p.min()), float(p.max())
    ppad = 0.08 * (phi - plo or 1.0)
    fig.update_yaxes(range=[plo - ppad, phi + ppad], row=3, col=1)
    fig.update_xaxes(range=[0, max(1, history.steps)], row=1, col=1)
    fig.update_xaxes(range=[0, max(1, history.steps)], row=3, col=1)
    positive = torch.cat([history.losses[history.losses > 0].double(), expected[expected > 0]])
    if positive.numel():
        fig.update_yaxes(
            range=[math.log10(float(positive.min())) - 0.2, math.log10(float(positive.max())) + 0.2], row=1, col=1
        )


def _play_args(ms: int) -> list:
    # redraw=False: frames only move scatter traces, so Plotly skips the full redraw.
    return [None, {"frame": {"duration": ms, "redraw": False}, "transition": {"duration": 0}, "fromcurrent": True}]


def _play_buttons() -> dict:
    buttons = [dict(label=label, method="animate", args=_play_args(ms)) for label, ms in SPEEDS.items()]
    pause = [[None], {"frame": {"duration": 0, "redraw": False}, "mode": "immediate", "transition": {"duration": 0}}]
    buttons.insert(2, dict(label="Pause", method="animate", args=pause))
    return dict(type="buttons", direction="left", showactive=False, x=0, y=1.07, xanchor="left", yanchor="bottom",
                pad=dict(r=4, t=0), buttons=buttons)


def _slider(frames_at: list[int]) -> dict:
    return dict(
        active=0,
        x=0,
        len=1.0,
        y=-0.04,
        pad=dict(t=10, b=0),
        currentvalue=dict(prefix="epoch ", font=dict(size=14)),
        steps=[
            dict(
                label=str(s),
                method="animate",
                args=[[str(s)], {"mode": "immediate", "frame": {"duration": 0, "redraw": False},
                                 "transition": {"duration": 0}}],
            )
            for s in frames_at
        ],
    )


def contributions(history: History, x: torch.Tensor) -> go.Figure:
    """How b + Σ wᵢxᵢ adds up to the prediction for ``x``, as a waterfall."""
    w, b = history.weights[-1].double(), float(history.biases[-1])
    parts = (w * x.double()).tolist()
    labels = ["b"] + [f"w{i + 1}·x{i + 1}" for i in range(10)] + ["prediction"]
    fig = go.Figure(
        go.Waterfall(
            x=labels,
            y=[b] + parts + [0.0],
            measure=["absolute"] + ["relative"] * 10 + ["total"],
            increasing=dict(marker_color=BLUE),
            decreasing=dict(marker_color=VERMILION),
            totals=dict(marker_color=GREEN),
            text=[f"{v:.3g}" for v in [b] + parts + [b + sum(parts)]],
            textposition="outside",
        )
    )
    fig.update_layout(height=340, margin=dict(l=10, r=10, t=30, b=10), showlegend=False,
                      title_text="How the prediction adds up: b + Σ wᵢ·xᵢ")
    return fig


def seed_spread(histories: Sequence[History]) -> go.Figure:
    """K seeds: the band of expected-loss curves, and where each run's parameters ended."""
    fig = make_subplots(rows=1, cols=2, column_widths=[0.6, 0.4],
                        subplot_titles=("Expected loss, every seed", "Where the runs end: b against ‖w‖"))
    for i, h in enumerate(histories):
        e = theory.expected_losses(h)
        idx = _subsample(h.steps + 1, 400)
        fig.add_trace(go.Scatter(x=idx.tolist(), y=_round(e[idx]), mode="lines",
                                 line=dict(color=BLUE, width=1), opacity=0.45, showlegend=i == 0,
                                 name=f"seed {h.config.seed}" if i else "one line per seed"), row=1, col=1)
    norms = [float(h.weights[-1].norm()) for h in histories]
    biases = [float(h.biases[-1]) for h in histories]
    fig.add_trace(go.Scatter(x=norms, y=biases, mode="markers", marker=dict(color=ORANGE, size=10),
                             text=[f"seed {h.config.seed}" for h in histories], name="end of each run"), row=1, col=2)
    target = histories[0].config.target
    fig.add_trace(go.Scatter(x=[0], y=[target], mode="markers", marker=dict(symbol="star", size=16, color=GREEN),
                             name="optimum"), row=1, col=2)
    fig.update_yaxes(type="log", row=1, col=1)
    fig.update_xaxes(title_text="epoch", row=1, col=1)
    fig.update_xaxes(title_text="‖w‖", row=1, col=2)
    fig.update_yaxes(title_text="b", row=1, col=2)
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=-0.2))
    return fig


def race(histories: Sequence[History], labels: Sequence[str]) -> go.Figure:
    """Several runs on one chart: the expected loss of each, stopped where a run diverged."""
    fig = go.Figure()
    for i, (h, label) in enumerate(zip(histories, labels, strict=True)):
        e = theory.expected_losses(h)
        idx = _subsample(h.steps + 1, 600)
        name = label + (f" (diverged at epoch {h.diverged_at})" if h.diverged_at is not None else "")
        fig.add_trace(go.Scatter(x=idx.tolist(), y=_round(e[idx]), mode="lines", name=name,
                                 line=dict(color=PALETTE[i % len(PALETTE)], width=2)))
    fig.update_yaxes(type="log", title_text="expected loss")
    fig.update_xaxes(title_text="epoch")
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=-0.2),
                      title_text="Race: expected loss per epoch")
    return fig
