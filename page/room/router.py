"""Which room page a link asks for, and the main page's way into a room.

``?join=CODE`` opens the light participant page (``phone``); ``?room=new`` starts a room and ``?room=CODE``
opens its wall (``presenter``). ``app.py`` asks ``requested()`` first and, when it is true, draws ``page()``
and nothing else.
"""

from __future__ import annotations

import streamlit as st

from .. import panels
from .links import NEW
from .phone import page as phone_page
from .presenter import CREATED
from .presenter import page as presenter_page


def requested() -> bool:
    """True when the link asks for a room page (``join`` or ``room`` in the query)."""
    return "join" in st.query_params or "room" in st.query_params


def page() -> None:
    """The participant page for ``?join=``, else the presenter's page for ``?room=`` (join wins if both)."""
    panels.readable_captions()
    if "join" in st.query_params:
        phone_page(st.query_params.get("join", ""))
    else:
        presenter_page(st.query_params.get("room", ""), st.query_params.get("key"))


def start_control() -> None:
    """The main page's way into a room: one button that turns this tab into a new room's wall."""
    st.subheader("A room that trains together")
    st.markdown(
        "Giving a talk? Start a room: everyone scans its QR code, trains their own run on their phone with their "
        "own seed, and the wall on your screen fills up with the whole room's runs."
    )
    st.button("Start a room", on_click=_start, key="start_room")


def _start() -> None:
    st.session_state.pop(CREATED, None)  # a press always starts a new room, even after one in this tab
    st.query_params.from_dict({"room": NEW})  # this entry is replaced by ?room=CODE as soon as the room exists
