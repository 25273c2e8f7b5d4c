"""``?room=new`` in a browser that already drives an open room: asked, never a silent second room.

A second tab, a bookmark of the main page's "Start a room", a Back too far: each would start another room, with
another code, while the hall's phones stay in the first. The page says which room this browser drives (its key
is kept in the HttpOnly cookie, ``links.KEY_COOKIE``; checked with the store, a read) and offers both ways:
back to that room, or a new room on purpose.
"""

from __future__ import annotations

import streamlit as st

from lucky5.room import RoomError, normalize_code

from .links import kept_keys, load
from .store import store

ANYWAY = "room_new_anyway"  # session-state key: True once the presenter chose a new room in spite of an open one


def driven_room() -> str | None:
    """The code of an open room whose key this browser keeps, unless a new room was chosen anyway; else None."""
    if st.session_state.get(ANYWAY):
        return None
    for raw, key in kept_keys():
        try:
            code = normalize_code(raw)
            store().verify_key(code, key)
        except RoomError:
            continue  # not a room code, a room that closed or was lost, a stale key, the store away
        return code
    return None


def ask(code: str) -> None:
    """Say that this browser drives room ``code`` and offer: back to it, or a new room anyway."""
    st.subheader(f"This browser already drives room {code}")
    st.markdown(
        f"Room **{code}** is still open, and its phones stay in it. A new room gets a new code and QR code: "
        "the hall would have to join again."
    )
    back, new = st.columns(2)
    if back.button(f"Back to room {code}", type="primary", key="room_back", width="stretch"):
        load({"room": code})
    new.button("Start a new room anyway", key="room_anyway", on_click=_anyway, width="stretch")


def _anyway() -> None:
    st.session_state[ANYWAY] = True


def chosen() -> None:
    """The new room exists: the next ``?room=new`` of this session asks again."""
    st.session_state.pop(ANYWAY, None)
