"""The animation's controls: the Play/Pause buttons and the epoch slider, as plain Plotly dicts.

On a projector the buttons sit at the bottom, left of the slider, where no panel title can be under them, and
the slider is labelled at round epochs (``frames.slider_ticks``: 0, 50, 100, ... or 0, 5,000, 10,000, ...):
Plotly labels every n-th step, n chosen from the screen's width, which can read 0, 600, 1,200 or 0, 6, 12. So
there its own step labels are transparent and the round ones are annotations placed where Plotly draws the
steps.
"""

from __future__ import annotations

from .frames import slider_ticks
from .style import Palette, _Style

# Button label -> ms per frame. Plain words: emoji are missing from many projector laptops' fonts.
SPEEDS = {"Slow": 120, "Play": 40, "Fast": 12}
# Plotly's slider geometry (plotly.js src/components/sliders/constants.js): a step's tick is stepInset px in from
# the input area's ends; the labels sit tickOffset + tickLength px below the current value.
_STEP_INSET, _TICK_OFFSET, _TICK_LENGTH = 10, 25, 7
_CURRENT_OFFSET = 10  # px: Plotly's default currentvalue.offset, below the current value's line
_BUTTONS_PX = 290  # px: the four buttons at projector scale, and the gap before the slider that follows them
_SLIDER_TOP = 6  # px between the plot's bottom edge (with its tick labels) and the controls
_LABEL_TICKS = 5  # at most this many round labels under a projector's slider


def _play_args(ms: int) -> list:
    # redraw=False: frames only move scatter traces, so Plotly skips the full redraw.
    return [None, {"frame": {"duration": ms, "redraw": False}, "transition": {"duration": 0}, "fromcurrent": True}]


def _play_buttons(p: Palette, style: _Style, title_lines: int = 2) -> dict:
    buttons = [dict(label=label, method="animate", args=_play_args(ms)) for label, ms in SPEEDS.items()]
    pause = [[None], {"frame": {"duration": 0, "redraw": False}, "mode": "immediate", "transition": {"duration": 0}}]
    buttons.insert(2, dict(label="Pause", method="animate", args=pause))
    if style.projector:  # at the bottom, beside the slider's rail
        place = dict(y=0, yanchor="top", pad=dict(r=0, t=_rail_top(style) - style.font, b=0, l=0))
    else:  # above the first row's titles, which take one line per "<br>" plus the first
        place = dict(y=1.0, yanchor="bottom", pad=dict(r=4, t=0, b=int(style.title_font * (title_lines + 1))))
    return dict(
        type="buttons",
        direction="left",
        showactive=False,
        x=0,
        xanchor="left",
        buttons=buttons,
        bgcolor=p.button_bg,
        bordercolor=p.muted,
        font=dict(size=style.font, color=p.button_text),
        **place,
    )


def _current_value_px(style: _Style) -> int:
    """Height Plotly gives the slider's current value ("epoch 1,234"): one line of its font, and its offset."""
    return round((style.font + 1) * 1.3) + _CURRENT_OFFSET


def _rail_top(style: _Style) -> int:
    """px from the plot's bottom edge to the slider's rail (projector layout)."""
    return _slider_pad_top(style) + _current_value_px(style) + _TICK_OFFSET // 2


def _slider_pad_top(style: _Style) -> int:
    return style.font * 2 + _SLIDER_TOP  # room for the x axes' tick labels above it


def _slider(frames_at: list[int], style: _Style, p: Palette | None = None) -> dict:
    slider = dict(
        active=0,
        x=0,
        len=1.0,
        y=0,
        yanchor="top",
        pad=dict(t=style.font * 3, b=0),
        font=dict(size=style.font, color=style.text),
        currentvalue=dict(prefix="epoch ", font=dict(size=style.font + 1, color=style.text)),
        steps=[
            dict(
                label=f"{s:,}" if style.projector else str(s),
                method="animate",
                args=[
                    [str(s)],
                    {"mode": "immediate", "frame": {"duration": 0, "redraw": False}, "transition": {"duration": 0}},
                ],
            )
            for s in frames_at
        ],
    )
    if style.projector:
        ink = p.button_text if p is not None else None
        slider.update(
            pad=dict(t=_slider_pad_top(style), b=0, l=_BUTTONS_PX, r=0),
            # Plotly's own step labels take their place but are not drawn: ``round_tick_labels`` are.
            font=dict(size=style.font, color="rgba(0, 0, 0, 0)"),
            currentvalue=dict(prefix="epoch ", font=dict(size=style.font + 1, color=ink)),
            ticklen=0,  # Plotly's ticks fall on its own label steps, not on the round epochs
            minorticklen=0,
        )
    return slider


def _with_last(frames_at: list[int], ticks: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``ticks`` and the last frame: a run that stops early (one that diverged at epoch 57) ends between round
    epochs, and the slider's end must still say where. A round tick less than half a step before it gives way."""
    if not frames_at or not ticks or ticks[-1][1] == frames_at[-1]:
        return ticks
    step = ticks[1][1] - ticks[0][1] if len(ticks) > 1 else frames_at[-1]
    kept = ticks if frames_at[-1] - ticks[-1][1] >= step / 2 or len(ticks) == 1 else ticks[:-1]
    return [*kept, (len(frames_at) - 1, frames_at[-1])]


def round_tick_labels(frames_at: list[int], style: _Style) -> list[dict]:
    """The projector slider's round labels as paper-anchored annotations, each under its step's tick, and the last
    frame's epoch where it is not a round one.

    A step at fraction f of the slider is drawn pad.l + stepInset + f·(W − pad.l − pad.r − 2·stepInset) px from
    the paper's left edge (W: the paper's width), so an annotation at x = f is shifted by the difference, which
    does not depend on W.
    """
    last = max(len(frames_at) - 1, 1)
    top = _slider_pad_top(style) + _current_value_px(style) + _TICK_OFFSET + _TICK_LENGTH
    labels = []
    for i, epoch in _with_last(frames_at, slider_ticks(frames_at, _LABEL_TICKS)):
        f = i / last
        labels.append(
            dict(
                text=f"{epoch:,}",
                xref="paper",
                yref="paper",
                x=f,
                y=0,
                xanchor="center",
                yanchor="top",
                xshift=_BUTTONS_PX + _STEP_INSET - f * (_BUTTONS_PX + 2 * _STEP_INSET),
                yshift=-top,
                showarrow=False,
                font=dict(size=style.font, color=style.text),
            )
        )
    return labels
