"""The animation's controls: the Play/Pause buttons and the epoch slider, as plain Plotly dicts."""

from __future__ import annotations

from .style import Palette, _Style

# Button label -> ms per frame. Plain words: emoji are missing from many projector laptops' fonts.
SPEEDS = {"Slow": 120, "Play": 40, "Fast": 12}


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
