"""The layer drawn as a network: ten inputs x₁…x₁₀, an edge from each into one neuron with its bias, and the
output, the prediction for the learner's input against the lucky number.

Each edge is drawn from its weight: its width is |wᵢ| on one scale for the whole run (``width_scale``: the
widest edge is ``EDGE_MAX_PX``, and any weight that is not 0 at least ``EDGE_MIN_PX``, so its colour shows),
its colour the sign (blue for w > 0, orange-red for w < 0). A thin grey
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

from .. import glossary
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
    moments: Sequence[str] | None = None,
    still: bool = False,
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
        moments: what moment each frame shows, in words ("epoch 0 of 200"), written at the drawing's top right
            (a last trace, ``moment``), so the drawing says which epoch it is at beside numbers of the run's end.
        still: a drawing that does not play (one frame, a run on data): each edge runs along its input's row
            first, and its weight is written there in a box of the background's colour (``_boxes``), where no
            other edge can run through the number; the legend takes two lines, so a phone's width keeps it whole.
            The weights' trace then writes nothing.

    The first trace is the guides; then come the reference's edges (if any), the ten edges (``edge 1`` ..
    ``edge 10``, in order), the inputs, the neuron, the weights' labels, the bias and the output. Frames update
    the edges (line width and colour), the weights' labels, the bias and the output.

    Raises:
        ValueError: shapes that do not match (10 inputs, one bias and one name per frame).
    """
    w, b = weights.double(), biases.double()
    xs = torch.as_tensor(x, dtype=torch.float64).flatten()
    frames = w.shape[0] if w.ndim == 2 else -1
    shapes = w.ndim == 2 and w.shape[1] == 10 and b.shape == (frames,) and xs.shape == (10,) and len(names) == frames
    if not shapes or (moments is not None and len(moments) != frames):
        raise ValueError(
            f"need weights (frames, 10), biases and names (and moments) of one per frame, and x (10,); got "
            f"{tuple(w.shape)}, {tuple(b.shape)}, {len(names)} names, {tuple(xs.shape)}"
        )
    ref_w = reference[0].double() if reference is not None else None
    best_b = reference[1] if reference is not None else target
    scale = width_scale(w, ref_w)
    widths = edge_widths(w, scale).tolist()
    signs = (w < 0).tolist()
    colors = [[_sign_color(s, p) if i < used else p.muted for i, s in enumerate(r)] for r in signs]
    labels = [[number(v, 2) for v in r] for r in w.tolist()]
    boxed = labels[-1] if still else None
    labels = [[""] * 10 for _ in labels] if still else labels
    bias = [f"b = {near(v, best_b)}" for v in b.tolist()]
    output = [near(v, target) for v in (w @ xs + b).tolist()]

    lead = _LEAD if still else 0.0
    traces = [_guides(p, lead)]
    if ref_w is not None:
        traces += _reference(edge_widths(ref_w, scale).tolist(), p, lead)
    first_edge = len(traces)
    traces += [_edge(i, widths[0][i], colors[0][i], lead) for i in range(10)]
    traces += [_inputs(xs.tolist(), p, used), _neuron(p)]
    texts = len(traces)
    traces += [
        _texts([_INPUT_X + 10] * 10, [row(i) + 8 for i in range(10)], labels[0], p, "weights", "middle right", 11),
        _texts([_NEURON[0]], [_NEURON[1] - 12], [bias[0]], p, "bias", "middle center", _FONT, p.background),
        _texts([_OUTPUT_MID], [_NEURON[1]], [output[0]], p, "output", "middle center", 18),
    ]
    if moments is not None:
        traces.append(_texts([WIDTH - 4], [_ROW_TOP], [moments[0]], p, "moment", "middle left", _FONT))
    fig = go.Figure(traces)
    _layout(fig, target, p, goal, ref_w is not None and bool(ref_w.abs().max() > 0), used < 10, still)
    if boxed is not None:
        _boxes(fig, boxed, colors[-1], p)
    spec = fig.to_dict()
    # Plotly draws a frame's traces again on top, in the frame's order: the neuron is listed (unchanged) after the
    # edges so that it stays over their ends, and the numbers after it.
    moving = [*range(first_edge, first_edge + 10), texts - 1, texts, texts + 1, texts + 2]
    moving += [texts + 3] if moments is not None else []
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
                *([{"text": [moments[f]]}] if moments is not None else []),
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


def _wire(i: int, lead: float) -> tuple[list[float], list[float]]:
    """The path of input i's edge: from its dot, straight along its row for ``lead`` (a still drawing writes the
    weight there), then to the neuron."""
    ex, ey = _end(i)
    if lead:
        return [_INPUT_X, _INPUT_X + lead, ex], [row(i), row(i), ey]
    return [_INPUT_X, ex], [row(i), ey]


def _guides(p: Palette, lead: float = 0.0) -> go.Scatter:
    xs: list[float | None] = []
    ys: list[float | None] = []
    for i in range(10):
        wx, wy = _wire(i, lead)
        xs += [*wx, None]
        ys += [*wy, None]
    return go.Scatter(x=xs, y=ys, mode="lines", line=dict(color=p.muted, width=1), hoverinfo="skip", name="wiring")


def _reference(widths: list[float], p: Palette, lead: float = 0.0) -> list[go.Scatter]:
    out = []
    for i, width in enumerate(widths):
        if width > 0:
            wx, wy = _wire(i, lead)
            out.append(
                go.Scatter(
                    x=wx,
                    y=wy,
                    mode="lines",
                    line=dict(color=p.muted, width=width, dash="dot"),
                    hoverinfo="name",
                    name=f"w{i + 1} at the optimum",
                )
            )
    return out


def _edge(i: int, width: float, color: str, lead: float = 0.0) -> go.Scatter:
    wx, wy = _wire(i, lead)
    return go.Scatter(
        x=wx,
        y=wy,
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


_LINE_PX = 18  # one more line of a 14 px title (Plotly spaces lines 1.3 font sizes apart)

# A still drawing runs each edge straight along its input's row for this long (drawing units) before it turns to the
# neuron, and writes the weight in a box on that stretch: the rows are more than a box's height apart, and every
# edge turns only after the boxes, so no edge crosses another's number. Room for "−0.0063" on a phone.
_LEAD = 62.0


def _boxes(fig: go.Figure, labels: list[str], colors: list[str], p: Palette) -> None:
    """Each weight in a box on its own edge (``still``): the background's colour behind the number hides the edge
    under it, a border in the edge's colour ties the box to its edge. Annotations sit above every trace."""
    for i, (label, color) in enumerate(zip(labels, colors, strict=True)):
        fig.add_annotation(
            x=_INPUT_X + _LEAD / 2 + 3,  # clear of the input's dot
            y=row(i),
            text=label,
            showarrow=False,
            name=f"weight {i + 1}",
            font=dict(size=11, color=p.ink),
            bgcolor=p.background,
            bordercolor=color,
            borderwidth=1,
            borderpad=1,
        )


def _layout(
    fig: go.Figure, target: float, p: Palette, goal: str, dashed: bool, unused: bool = False, still: bool = False
) -> None:
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
        # A pointer on the neuron's sum reads what it means (the Words panel under the drawing says it too).
        hover = glossary.meaning(text) if text == "Σ wᵢxᵢ + b" else None
        fig.add_annotation(
            x=nx, y=ny, text=text, showarrow=False, font=dict(size=_FONT - 1, color=color), hovertext=hover
        )
    # The drawing fills its box; the neuron and the dots are markers, sized in px, so they stay round.
    fig.update_xaxes(visible=False, range=[0, WIDTH], fixedrange=True)
    fig.update_yaxes(visible=False, range=[0, HEIGHT], fixedrange=True)
    second = [*(["dotted grey: the optimum's weights"] if dashed else []), *(["grey: unused inputs"] if unused else [])]
    legend = "edge width = |weight| · blue: w > 0 · orange-red: w < 0"
    if second:
        # The references get a line of their own: on one line the legend outgrew a 330 px drawing (1280×720).
        legend += "</sup><br><sup>" + " · ".join(second)
    fig.update_layout(
        margin=dict(l=4, r=4, t=40 + (_LINE_PX if second else 0), b=4),
        showlegend=False,
        plot_bgcolor=p.background,
        title=dict(
            text=f"The network: your input through the layer<br><sup>{legend}</sup>",
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
