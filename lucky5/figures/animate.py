"""``animation``: the training animation as one Plotly figure dict, built from the panels, the grid,
the controls and the frames.

The animation plays in the browser with Plotly's own frames, so playback costs the server
nothing. To keep it light on the wire, the long curves (and the valley's contours) are drawn
once as static traces and each frame carries only what moves: the markers, the 10 weight bars
and the bias bar.
"""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from ..engine import History
from .controls import _play_buttons, _slider, _slider_pad_top, round_tick_labels
from .frames import Frame, _Run
from .layout import PANELS, _check_columns, _check_panels, _gap_px, _grid, default_height
from .panels import _PANEL_AXES, _PANEL_BUILDERS, U_LABEL, _panel_title
from .style import _Style, palette
from .traces import CURTAIN


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
    because Plotly validates every graph object it builds, and frames are hundreds of small ones. Frames update
    only the traces listed in their ``traces``, with only x and y.

    Raises:
        ValueError: unknown theme, panels or columns, or a height that leaves a panel under 80 px.
    """
    p = palette(theme)
    chosen = _check_panels(panels)
    cols = _check_columns(2 if projector else 1) if columns is None else _check_columns(columns)
    style = _Style(projector, p.text)
    height = default_height(chosen, projector, cols) if height is None else int(height)
    cells, rows, weights = _grid(chosen, cols)
    gap = _gap_px(projector)
    plot_px = height - 170 - gap * (rows - 1)  # margins, buttons and slider take about 170 px
    if plot_px < 80 * rows or (cols == 1 and min(weights) / sum(weights) * plot_px < 80):
        raise ValueError(
            f"height={height} px leaves a panel under 80 px for {len(chosen)} panels in {rows} rows;"
            " give more height, fewer panels or two columns"
        )

    run = _Run(history, x, p, with_valley="valley" in chosen, forward=projector)
    ncols = max(c.col for c in cells)
    specs: list[list[dict | None]] = [[None] * ncols for _ in range(rows)]
    for c in cells:
        specs[c.row - 1][c.col - 1] = {"rowspan": c.rowspan}
    widths = _column_widths(cells, run, projector) if ncols == 2 else [1.0]
    # About 90 characters of a projector's 20 px title font fit across the whole chart.
    titles = [style.title(*_panel_title(c.name, run), width=round(90 * widths[c.col - 1])) for c in cells]
    fig = make_subplots(
        rows=rows,
        cols=ncols,
        specs=specs,
        row_heights=weights,
        column_widths=widths if ncols == 2 else None,
        horizontal_spacing=0.08,
        vertical_spacing=gap / (height - 170),
        subplot_titles=titles,
    )
    # The Play buttons sit above the first row's titles, which take one line per "<br>" plus the first.
    title_lines = max(t.count("<br>") + 1 for t in titles)
    moving: list[tuple[int, Frame]] = []
    # The bars lead each frame's data, as they did before the valley: readers that find them by order keep working.
    bars_first = sorted(cells, key=lambda c: c.name != "parameters")
    traces_of: dict[str, list[tuple[go.Scatter, Frame | None]]] = {c.name: _PANEL_BUILDERS[c.name](run) for c in cells}
    if not projector:  # time runs forward on a projector (the talk); elsewhere the whole run is drawn at once
        traces_of = {name: [(t, f) for t, f in traces if t.name != CURTAIN] for name, traces in traces_of.items()}
    first_trace: dict[str, int] = {}
    for c in cells:
        first_trace[c.name] = len(fig.data)
        for trace, _ in traces_of[c.name]:
            fig.add_trace(trace, row=c.row, col=c.col)
        _PANEL_AXES[c.name](fig, run, c.row, c.col)
    for c in bars_first:
        moving += [(first_trace[c.name] + i, f) for i, (_, f) in enumerate(traces_of[c.name]) if f is not None]

    if projector and "valley" in chosen:  # the valley's box fits its path: its cell shrinks, not its axes grow
        valley = next(c for c in cells if c.name == "valley")
        fig.update_xaxes(constrain="domain", row=valley.row, col=valley.col)
        fig.update_yaxes(constrain="domain", row=valley.row, col=valley.col)
        if valley.row + valley.rowspan - 1 == rows:  # nothing below it but the controls: name u under its ticks
            _u_label_below(fig, style)
    # On a projector the controls sit below the panels, so only the titles need room above them.
    top = 70 if not projector else 16 + round(style.title_font * 1.25 * title_lines)
    fig.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=top, b=10),
        showlegend=False,  # the subplot titles name every trace: a legend crowds a phone screen
        updatemenus=[_play_buttons(p, style, title_lines)],
        uirevision="animation",
        plot_bgcolor=p.background,  # the curtain over the epochs not yet shown is this colour: it must match
    )
    style.apply(fig)
    spec = fig.to_dict()
    frames_at = run.frames_at
    traces = [i for i, _ in moving]
    spec["frames"] = [{"name": str(s), "traces": traces, "data": [f(s) for _, f in moving]} for s in frames_at]
    spec["layout"]["sliders"] = [_slider(frames_at, style, p)]
    if projector:
        spec["layout"]["annotations"] = [*spec["layout"].get("annotations", []), *round_tick_labels(frames_at, style)]
    return spec


def _u_label_below(fig: go.Figure, style: _Style) -> None:
    """The valley's "u = Σw/√10 →" under its tick labels, at the plot's right end, in the row of the slider's
    current value (which starts under the left column): inside the plot it lay on the contour lines."""
    fig.update_annotations(
        selector=dict(text=U_LABEL),
        y=0,
        yanchor="top",
        yshift=-_slider_pad_top(style),  # the room kept for the tick labels
        bgcolor="rgba(0, 0, 0, 0)",
    )


def _column_widths(cells: list, run: _Run, projector: bool) -> list[float]:
    """The two columns' shares of the width. On a projector a valley on the right gets about the share its
    path's box needs at equal scales on a wide screen (at least enough for its title); else 55 % : 45 %."""
    v = run.valley
    if not projector or v is None or not any(c.name == "valley" and c.col == 2 for c in cells):
        return [0.55, 0.45]
    aspect = (v.u_range[1] - v.u_range[0]) / (v.b_range[1] - v.b_range[0])  # the box's width over its height
    share = min(0.5, max(0.34, aspect / 2.4))  # a projector's chart is about 2.4 times as wide as its panels are tall
    return [1 - share, share]
