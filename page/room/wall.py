"""A room's wall: the live count and the charts (every run's loss curve, the spread of b and ‖w‖, and the
learning-rate stage), right of the presenter's join panel.

The wall is an ``st.fragment`` that reruns itself every ``WALL_SECONDS``: only the wall, not the page. Its
figures are ``lucky5.figures``' pure functions of the runs and the theme, rebuilt only when the room's runs
changed. Which runs blew up or settled, and their medians, are ``lucky5.room``'s rules.
"""

from __future__ import annotations

import streamlit as st

from lucky5.figures import curves_figure, lr_figure, spread_figure
from lucky5.room import STAGE_NAMES, STAGES, RoomError, Wall, counts_by_lr

from .. import runtime
from ..panels import CHART_CONFIG
from ..scroll import to_top
from ..text import literal
from . import outage, vote
from .store import show_error, store

WALL_SECONDS = 2.0
NOTICE = "room_notice"  # session-state key: a refusal of the presenter's last button, shown on the wall
BUTTONS = "room_buttons_stage"  # session-state key: (code, stage) the stage buttons highlight now
TOP = "room_top_stage"  # session-state key: (code, stage) the wall showed last, to open a new stage at the top
TOP_NONCE = "room_top_nonce"  # session-state key: how many times the wall went back to its top
PENDING = "room_pending_press"  # session-state key: (code, key, stage or None) of a press that waits for the store


def wall_figures(wall: Wall, theme: str) -> list[tuple[str, runtime.FrozenFigure, str]]:
    """The wall's charts for the room's current stage: (key, figure, text alternative).

    The spread of b and ‖w‖ is left out while no run settled: its histograms would be empty, and the
    curves' title already says that no run settled.
    """
    stage = STAGES[wall.stage]
    runs = wall.runs
    settled = bool(wall.settled)
    out = [
        (
            "wall_curves",
            runtime.FrozenFigure(curves_figure(runs, stage, theme)),
            "Every participant's loss curve overlaid, with the room's median curve."
            if settled
            else "Every participant's loss curve overlaid; no run settled.",
        )
    ]
    if settled:
        out.append(
            (
                "wall_spread",
                runtime.FrozenFigure(spread_figure(runs, stage, theme)),
                "Histograms of every participant's final bias b and size of the weights.",
            )
        )
    if stage.lrs:
        out.insert(
            0,
            (
                "wall_lrs",
                runtime.FrozenFigure(lr_figure(runs, stage, theme)),
                "Bars: at each learning rate, how many runs settled and how many blew up, beside theory's limit.",
            ),
        )
    return out


def press(code: str, key: str, stage: str | None) -> None:
    """The presenter's press: move to ``stage`` (None: clear the runs and start over). While the store is away
    the press waits (``PENDING``) and the wall's refresh sends it again with the outage's retries."""
    st.session_state.pop(PENDING, None)
    try:
        if stage is None:
            store().reset(code, key)
        else:
            store().set_stage(code, key, stage)
    except RoomError as err:
        if err.reason == "unavailable":
            st.session_state[PENDING] = (code, key, stage)
            outage.failed(code)
        else:
            st.session_state[NOTICE] = str(err)


def _top_on_a_new_stage(code: str, stage: str) -> None:
    """A new stage opens at the wall's top: a reveal scrolled the wall down to its chart, and the next stage
    would otherwise open there, with the code, the QR code and the question off the projected screen."""
    shown = st.session_state.get(TOP)
    st.session_state[TOP] = (code, stage)
    if shown is not None and shown != (code, stage):
        st.session_state[TOP_NONCE] = st.session_state.get(TOP_NONCE, 0) + 1
        to_top(st.session_state[TOP_NONCE])


def _press_again(code: str) -> None:
    """A press that waits for the store, sent again when a retry is due (``outage.read`` then reads the room)."""
    pending = st.session_state.get(PENDING)
    if pending is not None and pending[0] == code and outage.due(code):
        press(*pending)


def _waiting(code: str) -> str:
    pending = st.session_state.get(PENDING)
    if pending is None or pending[0] != code:
        return ""
    what = "Clear the runs" if pending[2] is None else f"Stage {STAGE_NAMES.index(pending[2]) + 1}"
    return f"Your press ({what}) waits for it and is sent again. "


@st.fragment(run_every=WALL_SECONDS)
def wall_view(code: str, key: str | None = None) -> None:
    """The live count, the stage's question (``vote.section``; its buttons for the presenter, who holds ``key``)
    and the wall's charts, rerun on their own every ``WALL_SECONDS``; while the store is away, the room's last
    answer with a notice, and the whole page again once it answers (the buttons' stage)."""
    if notice := st.session_state.pop(NOTICE, None):
        st.error(literal(notice))
    was_failing = outage.failing(code)
    _press_again(code)
    try:
        wall = outage.read(code)
    except RoomError as err:
        show_error(err)
        return
    shown = st.session_state.get(BUTTONS)
    if (was_failing and not outage.failing(code)) or (
        shown is not None and shown[0] == code and shown[1] != wall.stage
    ):
        st.rerun(scope="app")  # the store is back, or the room moved on: the stage buttons show the room's stage
    outage.notice(code, _waiting(code))
    _top_on_a_new_stage(code, wall.stage)
    stage = STAGES[wall.stage]
    st.header(f"Stage {STAGE_NAMES.index(stage.name) + 1}: {stage.title}")
    # Large, for the back of a hall (CODE_CSS in presenter.py); numbers only, made here.
    counts = f"{wall.participants:,} joined · {len(wall.runs):,} trained in this stage · {wall.blown_up:,} blew up"
    # "3 joined" beside "0 seats taken" read as a contradiction: say what takes a seat (a join alone holds none).
    seats = f"{wall.seated:,} of {wall.capacity:,} seats taken (a phone takes one when it first trains)"
    seats += " · locked: no one new joins" if wall.locked else ""
    # One block, not two: each element costs a gap, and at 1280×720 the first chart must start on the screen.
    # A seat is taken by a run (``lucky5.room.seats``): joins alone take none.
    st.markdown(
        f'<div class="lucky5-counts">{counts}</div><div class="lucky5-seats">{seats}</div>', unsafe_allow_html=True
    )
    vote.section(code, wall.stage, wall.runs, key)
    if wall.invalid:
        st.caption(f"{wall.invalid} stored runs did not parse and are left out.")
    if not wall.runs:
        st.info("No runs yet in this stage: the charts appear with the first one.")
        return
    theme = runtime.theme()
    signature = (theme, wall.stage, hash(wall.runs))
    memo = st.session_state.get("wall_memo")
    if memo is None or memo[0] != signature:
        memo = (signature, wall_figures(wall, theme))
        st.session_state["wall_memo"] = memo
    for key, figure, alt in memo[1]:
        st.plotly_chart(figure, key=key, config=CHART_CONFIG, alt=alt)
    if stage.name == "lr":
        rows = counts_by_lr(wall.runs, stage.lrs)
        st.caption("Blew up: " + ", ".join(f"lr {lr:g}: {bad} of {ok + bad}" for lr, ok, bad in rows if ok + bad) + ".")
