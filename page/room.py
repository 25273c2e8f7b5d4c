"""Rooms where an audience trains together: the page's routing, the one store per process, and the links.

``?join=CODE`` opens the light participant page (``room_participant``); ``?room=new`` starts a room and
``?room=CODE`` opens its wall (``room_presenter``). ``app.py`` asks ``requested()`` first and, when it is
true, draws ``page()`` and nothing else.

The presenter's key is a secret: it lives in the session's state, in a cookie of the presenter's browser
(so that a reload of the wall keeps the stage buttons) and, on request, in one private link
(``presenter_link``, with ``key=`` in its query). It never goes into the join link, the QR code or the
address bar: a link that carries it is read once and the address bar is rewritten to ``?room=CODE``.

The room pages rewrite the address bar with ``replace_address`` (the browser's ``history.replaceState``),
never with ``st.query_params``, whose writes push a history entry: Back then met ``?room=new`` again (a new
room) or the phone's address without its id, and a key link stayed one Back away.

Not here: the rooms themselves (``lucky5.room``), which this module only reaches through ``store()``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from urllib.parse import urlencode

import streamlit as st

from lucky5.room import MemoryStore, RedisStore, RoomError, store_from_env

from . import panels
from .text import literal

ROOM_PARAMS = ("join", "room", "key", "me")  # the room pages' URL parameters
NEW = "new"
KEY_COOKIE = "lucky5_room_key_"  # + the room's code: the presenter's key, kept by their browser
ME_COOKIE = "lucky5_room_me_"  # + the room's code: a phone's participant id, so a re-scan in it is the same phone
# Longer than any talk day, so a room kept alive by an open wall never outlives its cookie; a cookie that
# outlives its room is harmless (the code is unknown, or a new room under it has another key).
COOKIE_SECONDS = 7 * 24 * 3600
REPLACE_JS = "<script>history.replaceState(history.state, '', location.pathname + QUERY + location.hash);</script>"
COOKIE_JS = "<script>document.cookie = COOKIE;</script>"


@st.cache_resource(show_spinner=False)
def _store() -> MemoryStore | RedisStore:
    return store_from_env()


def store() -> MemoryStore | RedisStore:
    """This process's store, shared by every session: Redis when ``LUCKY5_REDIS_URL`` is set, else memory.

    Raises:
        RoomError: ``unavailable`` when ``LUCKY5_REDIS_URL`` is not a redis:// URL.
    """
    return _store()


def requested() -> bool:
    """True when the link asks for a room page (``join`` or ``room`` in the query)."""
    return "join" in st.query_params or "room" in st.query_params


def page() -> None:
    """The participant page for ``?join=``, else the presenter's page for ``?room=`` (join wins if both)."""
    from . import room_participant, room_presenter  # they import this module: imported here, when needed

    panels.readable_captions()
    if "join" in st.query_params:
        room_participant.page(st.query_params.get("join", ""))
    else:
        room_presenter.page(st.query_params.get("room", ""), st.query_params.get("key"))


def base_url() -> str:
    """This page's address without its query (the links below are built on it)."""
    return (st.context.url or "http://localhost:8501/").split("?")[0].split("#")[0]


def join_link(code: str) -> str:
    """The short link a participant opens: ``BASE?join=CODE``, nothing secret in it."""
    return base_url() + "?" + urlencode({"join": code})


def presenter_link(code: str, key: str) -> str:
    """The presenter's private link into the room from another browser or device: it carries the key."""
    return base_url() + "?" + urlencode({"room": code, "key": key})


def replace_address(params: Mapping[str, str]) -> None:
    """Show ``params`` as the address bar's query, replacing the current history entry instead of adding one.

    Only for values this page made or checked (a room code, a participant id): they go into a script.
    """
    query = json.dumps("?" + urlencode(params))  # urlencode leaves no quote, '<' or '/' for the script to trip on
    st.html(REPLACE_JS.replace("QUERY", query), unsafe_allow_javascript=True)


def keep(prefix: str, code: str, value: str) -> None:
    """Ask this browser to keep ``value`` for room ``code`` in a strict same-site cookie (``COOKIE_SECONDS``).

    ``prefix`` is ``KEY_COOKIE`` (the presenter's key) or ``ME_COOKIE`` (a phone's participant id); only for
    values this page made or checked: they go into a script.
    """
    cookie = f"{prefix}{code}={value}; max-age={COOKIE_SECONDS}; path=/; samesite=strict"
    st.html(COOKIE_JS.replace("COOKIE", json.dumps(cookie)), unsafe_allow_javascript=True)


def kept(prefix: str, code: str) -> str | None:
    """What this browser kept for room ``code`` under ``prefix`` (``keep``), if anything."""
    return st.context.cookies.get(prefix + code)


def show_error(err: RoomError) -> None:
    """A refusal from the store, shown literally (messages may quote a room code)."""
    st.error(literal(err, limit=400))


def start_control() -> None:
    """The main page's way into a room: one button that turns this tab into a new room's wall."""
    st.subheader("A room that trains together")
    st.markdown(
        "Giving a talk? Start a room: everyone scans its QR code, trains their own run on their phone with their "
        "own seed, and the wall on your screen fills up with the whole room's runs."
    )
    st.button("Start a room", on_click=_start, key="start_room")


def _start() -> None:
    st.session_state.pop("room_created", None)  # a press always starts a new room, even after one in this tab
    st.query_params.from_dict({"room": NEW})  # this entry is replaced by ?room=CODE as soon as the room exists
