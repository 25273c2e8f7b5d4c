"""The room pages' links, their address bar and the cookies that keep a presenter's key and a phone's id.

The presenter's key is a secret: it lives in the session's state, in a cookie of the presenter's browser
(so that a reload of the wall keeps the stage buttons) and, on request, in one private link
(``presenter_link``, with ``key=`` in its query). It never goes into the join link, the QR code or the
address bar: a link that carries it is read once and the address bar is rewritten to ``?room=CODE``.

The room pages rewrite the address bar with ``replace_address`` (the browser's ``history.replaceState``),
never with ``st.query_params``, whose writes push a history entry: Back then met ``?room=new`` again (a new
room) or the phone's address without its id, and a key link stayed one Back away.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from urllib.parse import urlencode

import streamlit as st

NEW = "new"  # ?room=new starts a room
KEY_COOKIE = "lucky5_room_key_"  # + the room's code: the presenter's key, kept by their browser
ME_COOKIE = "lucky5_room_me_"  # + the room's code: a phone's participant id, so a re-scan in it is the same phone
# Longer than any talk day, so a room kept alive by an open wall never outlives its cookie; a cookie that
# outlives its room is harmless (the code is unknown, or a new room under it has another key).
COOKIE_SECONDS = 7 * 24 * 3600
REPLACE_JS = "<script>history.replaceState(history.state, '', location.pathname + QUERY + location.hash);</script>"
COOKIE_JS = "<script>document.cookie = COOKIE;</script>"


def base_url() -> str:
    """This page's address without its query (the links below are built on it)."""
    return (st.context.url or "http://localhost:8501/").split("?")[0].split("#")[0]


def join_link(code: str) -> str:
    """The Streamlit page of a participant, ``BASE?join=CODE``: the fallback where ``/j/CODE`` cannot be reached."""
    return base_url() + "?" + urlencode({"join": code})


def light_link(code: str) -> str:
    """The short link a participant opens: ``BASE/j/CODE``, the light phone (``page.server.phone``); nothing secret."""
    return base_url().rstrip("/") + "/j/" + code


def presenter_link(code: str, key: str) -> str:
    """The presenter's private link into the room from another browser or device: it carries the key."""
    return base_url() + "?" + urlencode({"room": code, "key": key})


def replace_address(params: Mapping[str, str]) -> None:
    """Show ``params`` as the address bar's query, replacing the current history entry instead of adding one.

    Only for values this page made or checked (a room code, a participant id): they go into a script.
    """
    query = json.dumps("?" + urlencode(params))  # urlencode leaves no quote, '<' or '/' for the script to trip on
    st.html(REPLACE_JS.replace("QUERY", query), unsafe_allow_javascript=True)


def move_to(code: str, prefix: str, key: str) -> None:
    """Keep ``key`` for room ``code`` in a cookie (``keep``'s), then load ``?room=CODE`` in place of this page.

    Streamlit reruns a reconnected or restarted session with the query the page was *loaded* with, which
    ``replace_address`` does not change: only a real load makes the room's code that query. Only for values
    this page made: they go into a script.
    """
    pair = f"{prefix}{code}={key}"
    cookie = json.dumps(f"{pair}; max-age={COOKIE_SECONDS}; path=/; samesite=strict")
    plain, keyed = (json.dumps("?" + urlencode(q)) for q in ({"room": code}, {"room": code, "key": key}))
    # A browser that refuses the cookie gets the key in the address once; the page takes it and rewrites the
    # address bar (``replace_address``). A reload, not a history entry: Back never meets ?room=new again.
    script = (
        f"<script>document.cookie = {cookie};\n"
        f"location.replace(document.cookie.split('; ').includes({json.dumps(pair)}) ? {plain} : {keyed});</script>"
    )
    st.html(script, unsafe_allow_javascript=True)


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
