"""The presenter's stage buttons and "Clear the runs and start over", each asking first when it would take runs
off the wall.

Moving to another stage clears the wall's runs (``lucky5.room``: each stage shows its own runs) and starts that
stage's question afresh. The buttons sit close together in the join panel, and a speaker under stress clicks
the wrong one: while runs are on the wall, a first click only asks ("Move on to stage 2? The 12 runs of this
stage leave the wall"), and nothing moves until "Yes, move on". An empty wall moves at once. A fresh start
always asks: it clears every run and vote.
"""

from __future__ import annotations

import streamlit as st

from lucky5.room import STAGE_NAMES, STAGES

from ..text import literal
from .private import hide
from .wall import press

CONFIRM = "room_confirm_reset"  # session-state key: the room whose "Clear the runs" waits for its confirmation
MOVE = "room_confirm_stage"  # session-state key: (room, stage) a stage button waits to move to


def stage_buttons(code: str, key: str, current: str, trained: int) -> None:
    """One button per stage (the room's ``current`` one highlighted) for a wall with ``trained`` runs, the
    question before a move that would clear them, and the fresh start's button with its own question."""
    for i, name in enumerate(STAGE_NAMES):
        st.button(
            f"{i + 1}. {STAGES[name].title}",
            key=f"stage_{name}",
            type="primary" if name == current else "secondary",
            on_click=_choose,
            args=(code, key, name, name != current and trained > 0),
            width="stretch",
        )
    pending = st.session_state.get(MOVE)
    if pending is not None and pending[0] == code and pending[1] != current and trained > 0:
        _ask_move(code, key, pending[1], trained)
    _reset_button(code, key)


def _ask_move(code: str, key: str, stage: str, trained: int) -> None:
    number = STAGE_NAMES.index(stage) + 1
    runs = "The 1 run of this stage leaves" if trained == 1 else f"The {trained:,} runs of this stage leave"
    st.warning(literal(f"Move on to stage {number}? {runs} the wall; the phones stay joined."))
    st.button(f"Yes, move on to stage {number}", key="stage_yes", on_click=_set_stage, args=(code, key, stage),
              type="primary", width="stretch")  # fmt: skip
    st.button("Cancel", key="stage_no", on_click=_ask, args=(None,), width="stretch")


def _choose(code: str, key: str, stage: str, asks: bool) -> None:
    if asks:
        st.session_state.pop(CONFIRM, None)
        st.session_state[MOVE] = (code, stage)
    else:
        _set_stage(code, key, stage)


def _reset_button(code: str, key: str) -> None:
    """The button "Clear the runs and start over" deletes every run and vote of the room: a first click only asks, and
    nothing is cleared until "Yes, clear everything" (Cancel, or a stage button, leaves the room as it is)."""
    if st.session_state.get(CONFIRM) != code:
        st.button("Clear the runs and start over", key="reset_ask", on_click=_ask, args=(code,), width="stretch")
        return
    st.warning("Clear every run and every vote of this room, and go back to stage 1? The phones stay joined.")
    # One under the other: side by side in the narrow join panel, "Yes, clear everything" was cut to "Yes, clear ev…"
    st.button("Yes, clear everything", key="reset_yes", on_click=_reset, args=(code, key), width="stretch")
    st.button("Cancel", key="reset_no", on_click=_ask, args=(None,), width="stretch")


def _ask(code: str | None) -> None:
    st.session_state.pop(MOVE, None)
    st.session_state[CONFIRM] = code


def _set_stage(code: str, key: str, stage: str) -> None:
    _moving_on()
    press(code, key, stage)


def _reset(code: str, key: str) -> None:
    _moving_on()
    press(code, key, None)


def _moving_on() -> None:
    """A stage change (or a reset) closes what belonged to the moment before: the questions "move on?" and
    "clear everything?", and the private presenter link, which must not stay on the projected wall."""
    st.session_state.pop(CONFIRM, None)
    st.session_state.pop(MOVE, None)
    hide()
