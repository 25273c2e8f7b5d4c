"""The presenter's doors of a room: lock it to new people, choose its seats, take a run off the wall.

The rules are ``lucky5.room.seats`` (a seat is taken by a run; a locked room takes no one new; a removed run's
phone cannot send again); this draws the presenter's controls for them, under the stage buttons, folded away so
the projected column stays short. What each press changes shows on the wall (its counts say "locked" and the
seats) and on every phone (``lucky5.room.standing``). A refusal is shown on the wall (``wall.NOTICE``).
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from lucky5.room import MAX_PARTICIPANTS, RoomError, Wall

from .store import store
from .wall import NOTICE

REMOVE_SEED = "room_remove_seed"  # widget key: the seed typed into "remove a run"


def doors(code: str, key: str, wall: Wall) -> None:
    """Lock or open the room, set its seats (within the server's ``MAX_PARTICIPANTS``), remove a run by seed."""
    with st.expander("Doors: lock the room, seats, remove a run"):
        label = "Open the room to new people" if wall.locked else "Lock the room: no one new joins"
        st.button(label, key="room_lock", on_click=_act, args=(_lock(code, key, not wall.locked),))
        with st.form("room_seats", border=False):
            seats = st.number_input(
                f"Seats: people who trained ({wall.seated:,} taken now)",
                min_value=1,
                max_value=MAX_PARTICIPANTS,
                value=min(wall.capacity, MAX_PARTICIPANTS),
                step=10,
                help=f"This server allows {MAX_PARTICIPANTS:,} at most. Seats taken stay taken.",
            )
            if st.form_submit_button("Set the seats"):
                _act(lambda: store().set_capacity(code, key, int(seats)))
        with st.form("room_remove", border=False):
            st.number_input(
                "Seed of the run to remove (its phone shows it)", min_value=0, step=1, value=0, key=REMOVE_SEED
            )
            # A callback runs once per press; read as the button's value, the press ran twice when the wall's
            # refresh reran the page in between, and the second said "nothing was removed" after the first had.
            st.form_submit_button("Take this run off the wall", on_click=_remove_pressed, args=(code, key))


def _lock(code: str, key: str, locked: bool) -> Callable[[], None]:
    return lambda: store().lock(code, key, locked)


def _remove_pressed(code: str, key: str) -> None:
    seed = int(st.session_state.get(REMOVE_SEED) or 0)
    _act(lambda: _remove(code, key, seed))


def _remove(code: str, key: str, seed: int) -> None:
    """Remove the runs of ``seed`` and say what happened, in a toast: it stays ~10 s, where a notice on the wall
    would leave with the wall's next 2 s refresh (numbers only, made here)."""
    removed = store().remove(code, key, seed)
    if removed:
        runs = "the run" if removed == 1 else f"{removed:,} runs"
        st.toast(f"Removed {runs} of seed {seed} from the wall; its phone cannot send again.", duration="long")
    else:
        st.toast(f"No run on the wall has seed {seed}: nothing was removed.", icon="⚠️", duration="long")


def _act(call: Callable[[], object]) -> None:
    """One press: its refusal (a wrong key, the store away) is shown on the wall."""
    try:
        call()
    except RoomError as err:
        st.session_state[NOTICE] = str(err)
