"""The layer drawn as a network: ten inputs x₁…x₁₀, an edge from each into one neuron with its bias, and the
output, the prediction for the learner's input against the lucky number.

Each edge is drawn from its weight: its width is |wᵢ| on one scale for the whole run (``width_scale``: the
widest edge is ``EDGE_MAX_PX``, and any weight that is not 0 at least ``EDGE_MIN_PX``, so its colour shows),
its colour the sign (blue for w > 0, vermilion for w < 0). A thin grey
guide under every edge keeps the wiring visible when a weight reaches 0, which is this lesson's ending:
the edges thin away while the bias on the neuron climbs to the lucky number. Any weights can be drawn, and a
reference layer (the optimum's weights, ``theory.optimum_for``) shows as a dashed grey edge of its own
width wherever its weights are not 0.

``network_figure`` returns a Plotly figure dict whose frames (one per epoch given) carry only what moves: each
edge's width and colour, the weights written on the edges, the bias and the output. It is one more chart of
the lesson (``figures.lesson_figures``), played like the others. Its axes are hidden and the drawing stretches
to its box; the neuron and the inputs are markers, sized in px, so they stay round at any size. Plotly draws a
frame's traces again on top of the others, so the neuron is in every frame (unchanged), after the edges.
"""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
import torch

from ..narration import near, number
from .style import Palette, powers_of_ten

EDGE_MAX_PX = 12.0  # px: the widest edge
# px: the thinnest edge of a weight that is not 0. Thinner, it vanished into the grey guide under it, and a tiny
# positive weight read as grey: its colour must still say its sign.
EDGE_MIN_PX = 1.5
WIDTH, HEIGHT = 392.0, 320.0  # the drawing's own units, about px on a laptop; the drawing fills its box
_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_ROW_TOP, _ROW_GAP = 302.0, 31.5  # the inputs' rows, from the top down
_INPUT_X, _NEURON = 80.0, (236.0, 160.0)
_NEURON_PX = 88  # the neuron's diameter in px: a marker, round at any size of the drawing
_OUTPUT_X = 296.0  # where the arrow from the neuron ends; the output's numbers are centred right of it
_OUTPUT_MID = 340.0
_FONT = 13


def width_scale(weights: torch.Tensor, reference: torch.Tensor | None = None) -> float:
    """The |w| drawn ``EDGE_MAX_PX`` wide: the largest |wᵢ| of the run and of the reference.

    ``weights`` (frames, 10). A weight that runs away (a diverging run, 10¹⁸ and beyond) would make every
    other frame's edges vanish, so the scale stops at 100 times the start's (or the reference's) largest
    |wᵢ|, at least 0.1; wider weights are drawn at the full width.
    """
    w = weights.double().abs().nan_to_num(nan=0.0, posinf=0.0, neginf=0.0)
    ref = float(reference.double().abs().max()) if reference is not None and reference.numel() else 0.0
    start = max(float(w[0].max()) if w.numel() else 0.0, ref, 0.1)
    return max(min(float(w.max()) if w.numel() else 0.0, 100 * start), ref, 1e-12)


def edge_widths(weights: torch.Tensor, scale: float) -> torch.Tensor:
    """Edge widths in px for ``weights`` (..., 10): EDGE_MAX_PX·|w|/scale, at most EDGE_MAX_PX and, for a weight
    that is not 0, at least EDGE_MIN_PX; 0 for a weight of 0 (float64)."""
    w = weights.double().abs().nan_to_num(nan=0.0)
    return torch.where(w > 0, (w / scale * EDGE_MAX_PX).clamp(EDGE_MIN_PX, EDGE_MAX_PX), torch.zeros_like(w))


def row(i: int) -> float:
    """The height of input i's row (0 = x₁, at the top)."""
    return _ROW_TOP - i * _ROW_GAP


def network_figure(
    weights: torch.Tensor,
    biases: torch.Tensor,
    x: Sequence[float] | torch.Tensor,
    target: float,
    p: Palette,
    *,
    names: Sequence[str],
    reference: tuple[torch.Tensor, float] | None = None,
    goal: str = "lucky number",
    used: int = 10,
) -> dict:
    """The network drawn at every frame, as a Plotly figure dict with one frame per entry of ``names``.

    Args:
        weights: (frames, 10), the weights at each frame.
        biases: (frames,), the bias at each frame.
        x: the learner's input (10,): written beside the inputs; the output is b + Σ wᵢxᵢ for it.
        target: what the output is compared with: the lucky number, or the rule's value at ``x``.
        p: the theme's palette.
        names: the frames' names, one per row of ``weights``.
        reference: (weights (10,), bias) of a reference layer, usually the optimum: dashed edges of its widths.
        goal: the words written before ``target`` under the output.
        used: how many inputs carry data, x₁ first (a data set with fewer than ten features, ``lucky5.data``): the
            others are always 0, so their weights never move; they are drawn grey and labelled "unused".

    The first trace is the guides; then come the reference's edges (if any), the ten edges (``edge 1`` ..
    ``edge 10``, in order), the inputs, the neuron, the weights' labels, the bias and the output. Frames update
    the edges (line width and colour), the weights' labels, the bias and the output.

    Raises:
        ValueError: shapes that do not match (10 inputs, one bias and one name per frame).
    """
    w, b = weights.double(), biases.double()
    xs = torch.as_tensor(x, dtype=torch.float64).flatten()
    frames = w.shape[0] if w.ndim == 2 else -1
    if w.ndim != 2 or w.shape[1] != 10 or b.shape != (frames,) or xs.shape != (10,) or len(names) != frames:
        raise ValueError(
            f"need weights (frames, 10), biases and names of one per frame, and x (10,); got {tuple(w.shape)}, "
            f"{tuple(b.shape)}, {len(names)} names, {tuple(xs.shape)}"
        )
    ref_w = reference[0].double() if reference is not None else None
    best_b = reference[1] if reference is not None else target
    scale = width_scale(w, ref_w)
    widths = edge_widths(w, scale).tolist()
    signs = (w < 0).tolist()
    colors = [[_sign_color(s, p) if i < used else p.muted for i, s in enumerate(r)] for r in signs]
    labels = [[number(v, 2) for v in r] for r in w.tolist()]
    bias = [f"b = {near(v, best_b)}" for v in b.tolist()]
    output = [near(v, target) for v in (w @ xs + b).tolist()]

    traces = [_guides(p)]
    if ref_w is not None:
        traces += _reference(edge_widths(ref_w, scale).tolist(), p)
    first_edge = len(traces)
    traces += [_edge(i, widths[0][i], colors[0][i]) for i in range(10)]
    traces += [_inputs(xs.tolist(), p, used), _neuron(p)]
    texts = len(traces)
    traces += [
        _texts([_INPUT_X + 10] * 10, [row(i) + 8 for i in range(10)], labels[0], p, "weights", "middle right", 11),
        _texts([_NEURON[0]], [_NEURON[1] - 12], [bias[0]], p, "bias", "middle center", _FONT, p.background),
        _texts([_OUTPUT_MID], [_NEURON[1]], [output[0]], p, "output", "middle center", 18),
    ]
    fig = go.Figure(traces)
    _layout(fig, target, p, goal, ref_w is not None and bool(ref_w.abs().max() > 0), used < 10)
    spec = fig.to_dict()
    # Plotly draws a frame's traces again on top, in the frame's order: the neuron is listed (unchanged) after the
    # edges so that it stays over their ends, and the numbers after it.
    moving = [*range(first_edge, first_edge + 10), texts - 1, texts, texts + 1, texts + 2]
    spec["frames"] = [
        {
            "name": name,
            "traces": moving,
            "data": [
                *({"line": {"width": round(widths[f][i], 1), "color": colors[f][i]}} for i in range(10)),
                {"x": [_NEURON[0]]},
                {"text": labels[f]},
                {"text": [bias[f]]},
                {"text": [output[f]]},
            ],
        }
        for f, name in enumerate(names)
    ]
    return spec


def _sign_color(negative: bool, p: Palette) -> str:
    return p.vermilion if negative else p.blue


def _end(i: int) -> tuple[float, float]:
    """Where edge i ends: the neuron's centre (the neuron, drawn over it, hides the last stretch)."""
    return _NEURON


def _guides(p: Palette) -> go.Scatter:
    xs: list[float | None] = []
    ys: list[float | None] = []
    for i in range(10):
        ex, ey = _end(i)
        xs += [_INPUT_X, ex, None]
        ys += [row(i), ey, None]
    return go.Scatter(x=xs, y=ys, mode="lines", line=dict(color=p.muted, width=1), hoverinfo="skip", name="wiring")


def _reference(widths: list[float], p: Palette) -> list[go.Scatter]:
    out = []
    for i, width in enumerate(widths):
        if width > 0:
            ex, ey = _end(i)
            out.append(
                go.Scatter(
                    x=[_INPUT_X, ex],
                    y=[row(i), ey],
                    mode="lines",
                    line=dict(color=p.muted, width=width, dash="dot"),
                    hoverinfo="name",
                    name=f"w{i + 1} at the optimum",
                )
            )
    return out


def _edge(i: int, width: float, color: str) -> go.Scatter:
    ex, ey = _end(i)
    return go.Scatter(
        x=[_INPUT_X, ex],
        y=[row(i), ey],
        mode="lines",
        line=dict(color=color, width=round(width, 1)),
        hoverinfo="skip",
        name=f"edge {i + 1}",
    )


def _inputs(x: list[float], p: Palette, used: int = 10) -> go.Scatter:
    labels = [f"x{str(i + 1).translate(_SUBSCRIPT)}  {number(v, 2) if i < used else 'unused'}" for i, v in enumerate(x)]
    return go.Scatter(
        x=[_INPUT_X] * 10,
        y=[row(i) for i in range(10)],
        mode="markers+text",
        text=labels,
        textposition="middle left",
        textfont=dict(size=_FONT, color=p.ink),
        marker=dict(size=9, color=p.ink, line=dict(color=p.ink, width=1)),
        hoverinfo="text",
        name="your input",
        cliponaxis=False,
    )


def _halo(color: str) -> str:
    """A text shadow in ``color`` 2 px wide all round: a label stays readable on a thick edge it crosses."""
    around = [(dx, dy) for dx in (-2, -1, 0, 1, 2) for dy in (-2, -1, 0, 1, 2) if (dx, dy) != (0, 0)]
    return ", ".join(f"{dx}px {dy}px 1px {color}" for dx, dy in around)


def _neuron(p: Palette) -> go.Scatter:
    return go.Scatter(
        x=[_NEURON[0]],
        y=[_NEURON[1]],
        mode="markers",
        marker=dict(size=_NEURON_PX, color=p.ink, line=dict(color=p.ink, width=2)),  # what it writes: p.background
        hoverinfo="skip",
        name="neuron",
        cliponaxis=False,
    )


def _texts(
    xs: list[float], ys: list[float], text: list[str], p: Palette, name: str, position: str, size: int, color: str = ""
) -> go.Scatter:
    return go.Scatter(
        x=xs,
        y=ys,
        mode="text",
        text=text,
        textposition=position,
        # A halo of the background keeps a number readable where it crosses a thick edge.
        textfont=dict(size=size, color=color or p.ink, shadow=_halo(p.background if not color else p.ink)),
        hoverinfo="skip",
        name=name,
        cliponaxis=False,  # text near the drawing's edge, at any size
    )


def _layout(fig: go.Figure, target: float, p: Palette, goal: str, dashed: bool, unused: bool = False) -> None:
    cx, cy = _NEURON
    arrow = dict(xref="x", yref="y", axref="x", ayref="y", showarrow=True, arrowhead=2, arrowwidth=2)
    fig.add_annotation(
        x=_OUTPUT_X + 6, y=cy, ax=cx, ay=cy, startstandoff=_NEURON_PX / 2, text="", arrowcolor=p.ink, **arrow
    )
    notes = [
        (cx, cy + 14, "Σ wᵢxᵢ + b", p.background),  # inside the neuron
        (_OUTPUT_MID, cy + 26, "prediction ŷ", p.ink),
        (_OUTPUT_MID, cy - 26, f"{goal} {number(target, 4)}", p.ink),
    ]
    for nx, ny, text, color in notes:
        fig.add_annotation(x=nx, y=ny, text=text, showarrow=False, font=dict(size=_FONT - 1, color=color))
    # The drawing fills its box; the neuron and the dots are markers, sized in px, so they stay round.
    fig.update_xaxes(visible=False, range=[0, WIDTH], fixedrange=True)
    fig.update_yaxes(visible=False, range=[0, HEIGHT], fixedrange=True)
    fig.update_layout(
        margin=dict(l=4, r=4, t=40, b=4),
        showlegend=False,
        plot_bgcolor=p.background,
        title=dict(
            text="The network: your input through the layer"
            "<br><sup>edge width = |weight| · blue: w > 0 · vermilion: w < 0"
            + (" · dotted grey: the optimum's weights" if dashed else "")
            + (" · grey: unused inputs" if unused else "")
            + "</sup>",
            x=0,
            xanchor="left",
            y=1,
            yanchor="top",
            pad=dict(t=14),
            font=dict(size=14),
        ),
        font=dict(size=_FONT),
    )
    powers_of_ten(fig)  # hidden axes, but the figures' one rule for axis labels all the same
