"""The presenter's side of a room: the code in huge type, the QR code of the join link, the stages and the wall.

Made for a projector: the join panel (code, QR code, link, stage buttons) is a narrow column at the left and
the wall takes the rest, kept short above its charts, so that at 1280×720 as at 1920×1080 the audience sees the
code, the QR code and the wall's first chart together, without scrolling (tests/browser/test_room_wall_screen.py).
The presenter's private link is not on this projected page unless asked for (``private``).

``?room=new`` creates a room and sends the browser through a one-time presenter link (``links.enter``): the
server keeps the key in an HttpOnly cookie and loads ``?room=CODE`` in its place, so a reconnect after a Wi-Fi
blip or a restarted server shows the same room, Back leaves the room's page and never meets ``?room=new``
again, and a rerun of the creating session shows its own room, not another one. Anyone with ``?room=CODE``
sees the wall; only a session holding the key sees the stage buttons: created here, or kept by this browser's
cookie (a reload of the wall keeps its buttons; the private link, ``/p/TOKEN``, sets it in another browser);
the key is checked with a read, never a write. The key is never drawn, nor in any link, the QR code or the
address bar; the private link works once.

The wall itself, right of the join panel, is ``wall.wall_view``.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import streamlit as st

from lucky5.room import ROOM_TTL_SECONDS, ROOMS, RoomError, normalize_code

from ..qr import qr
from ..text import literal
from . import outage
from .doors import doors
from .links import (
    KEY_COOKIE,
    NEW,
    NO_COOKIES,
    base_url,
    check_cookies,
    enter,
    join_link,
    kept,
    light_link,
    link_html,
    loopback_warning,
    replace_address,
)
from .private import private_link
from .second import ask, chosen, driven_room
from .stages import stage_buttons
from .store import client, show_error, store
from .wall import BUTTONS, wall_view

CREATED = "room_created"  # session-state key: the room this tab created from ?room=new (router._start clears it)
CODE_CSS = """<style>
.lucky5-room-code { font: 800 clamp(3rem, min(5vw, 9vh), 7rem)/1.05 ui-monospace, "DejaVu Sans Mono", monospace;
  letter-spacing: 0.12em; margin: 0.1em 0 0.2em; }
[data-testid="stMetricValue"] { font-size: 3rem !important; }
/* A hall reads the wall from the back row: no text under 18 px, and the counts large. */
.stApp p, .stApp li, .stApp label, .stApp code, .stApp button, .stApp [data-testid="stCaptionContainer"],
.stApp [data-testid="stImageCaption"], .stApp [data-testid="stMarkdownContainer"],
.stApp [data-testid="stIconMaterial"] { font-size: max(18px, 1em); }
.lucky5-counts, .lucky5-voted { font-size: clamp(1.6rem, 2.4vw, 3rem); font-weight: 800; line-height: 1.2;
  margin: 0.2em 0; }
/* Room for the stage buttons on a 1280×720 screen: the heading just below Streamlit's header band, and a QR
   code that fits the height. Streamlit's inline width on the image wins over a stylesheet's, so the cap is a
   max-width too: a cap on the height alone would squash the code, and a squashed QR code does not scan. */
[data-testid="stMainBlockContainer"] { padding-top: 4rem !important; }
@media (min-width: 60rem) {  /* a projector's width goes to the columns, not to Streamlit's wide margins */
  [data-testid="stMainBlockContainer"] { padding-left: 2.5rem !important; padding-right: 2.5rem !important; } }
.st-key-join_panel h3 { margin-top: 0; padding-top: 0; font-size: clamp(1.25rem, 1.6vw, 2.25rem); }
/* The wall's head (stage, counts, question) kept short, so that at 1280×720 its first chart starts on the
   screen: a stage title on one line, the seats under the counts in one block, the vote's state beside its buttons. */
.st-key-wall_column [data-testid="stVerticalBlock"] { gap: 0.6rem; }
.st-key-wall_column h2 { padding: 0 0 0.25rem; font-size: clamp(1.5rem, 2.2vw, 2.75rem); }
.lucky5-seats { opacity: 0.8; }
.lucky5-voted { margin: 0; }
.st-key-vote_row [data-testid="stMarkdownContainer"] p { margin: 0; }
/* The join link, broken only after a "/" of its path (never inside the host or the code); too long: it scrolls. */
.lucky5-link { font: 500 max(18px, 1em)/1.4 ui-monospace, "DejaVu Sans Mono", monospace; padding: 0.5rem 0.75rem;
  border-radius: 0.5rem; background: rgba(128, 128, 128, 0.12); overflow-x: auto; white-space: normal;
  word-break: keep-all; overflow-wrap: normal; }
.st-key-join_panel img { --qr-side: max(140px, min(34vh, calc(100vh - 600px)));
  max-width: min(100%, var(--qr-side)) !important; height: auto; aspect-ratio: 1; object-fit: contain; }
.st-key-join_panel button { min-height: 2.4rem; }
/* The QR code shrinks with a narrow column (Streamlit's image container keeps the image's own width). */
.st-key-join_panel [data-testid="stImageContainer"] { max-width: 100%; }
/* The light phone's link until the probe below finds it unreachable; then the Streamlit page's. */
.st-key-join_fallback, .st-key-fallback_note { display: none; }
body.lucky5-no-light .st-key-join_light { display: none; }
body.lucky5-no-light .st-key-join_fallback, body.lucky5-no-light .st-key-fallback_note { display: block; }
/* Said only where this browser refuses the site's cookies (links.NO_COOKIES, set by a script). */
.st-key-no_cookies { display: none; }
body.NO_COOKIES .st-key-no_cookies { display: block; }
</style>""".replace("NO_COOKIES", NO_COOKIES)
# From the presenter's browser, through the public address the hall uses: does the light phone's route answer?
# A proxy that forwards only Streamlit's own paths answers with Streamlit's page (or an error) instead of "ok".
PROBE_JS = r"""<script>
fetch(location.origin + location.pathname.replace(/\/?$/, "/") + "j/ping", {cache: "no-store"})
  .then(r => r.ok ? r.text() : "").catch(() => "")
  .then(t => document.body.classList.toggle("lucky5-no-light", t.trim() !== "ok"));
</script>"""


def _keys() -> dict[str, str]:
    """Room code -> presenter key, for the rooms this session drives (never drawn)."""
    keys = st.session_state.setdefault("room_keys", {})
    assert isinstance(keys, dict)
    return keys


def _open(raw: str, key: str | None) -> str | None:
    """The room this page shows, after creating it (``new``) or taking a private link's key; None after an error."""
    if raw.strip().lower() == NEW:
        code = st.session_state.get(CREATED)
        if code is None and (driven := driven_room()) is not None:
            ask(driven)  # never a silent second room: the hall's phones are in the first
            return None
        if code is None or not _alive(code):
            store().limit(ROOMS, client())  # a burst of ?room=new from one address costs a speaker seconds
            code, new_key = store().create()
            _keys()[code], st.session_state[CREATED] = new_key, code
            chosen()
        # Not just the address bar: the browser loads ?room=CODE, so a reconnect or a restarted server, which
        # run the query the page was loaded with, show this room again (with the key from the cookie).
        enter(store().issue_token(code, _keys()[code]), code)
        return str(code)
    code = normalize_code(raw)
    # An unknown room is refused here, before its code and QR code are drawn; a room this browser drove (it holds
    # the key) and the store lost in a restart says so. While the store is away, the room's last answer stands.
    outage.read(code, seen_at=time.time() - ROOM_TTL_SECONDS if kept(KEY_COOKIE, code) else None)
    if key is not None or st.query_params.to_dict() != {"room": code}:
        replace_address({"room": code})  # the key leaves the address bar and the history; ' abcdef' reads ABCDEF
    if key is not None:
        if _take_key(code, key):  # an older link with the key itself: into the HttpOnly cookie, out of the history
            enter(store().issue_token(code, key), code)
        else:
            st.error(f"That presenter link does not drive room {code}.")
    if code not in _keys() and (cookie := kept(KEY_COOKIE, code)) is not None:
        _take_key(code, cookie)  # a reload: this browser kept the key (a stale one is ignored)
    return code


def _alive(code: str) -> bool:
    try:
        store().wall(code)
    except RoomError:
        return False
    return True


def _take_key(code: str, key: str) -> bool:
    """Keep ``key`` for this session if it drives room ``code``; False if it does not. Only reads the store."""
    try:
        store().verify_key(code, key)
    except RoomError as err:
        if err.reason != "wrong_key":
            raise
        return False
    _keys()[code] = key
    return True


def page(raw: str, key: str | None) -> None:
    st.set_page_config(page_title="lucky5 · room", page_icon="🎯", layout="wide", initial_sidebar_state="collapsed")
    try:
        code = _open(raw, key)
    except RoomError as err:
        show_error(err)
        if err.reason in ("bad_code", "unknown", "lost", "slow_down"):
            st.button("Start a new room", on_click=st.query_params.from_dict, args=({"room": NEW},))
        if err.reason == "unavailable" and raw.strip().lower() != NEW:
            outage.wait_for_store(normalize_code(raw))  # nothing shown yet to keep: back by itself when it answers
        return
    if code is None:
        return
    st.html(CODE_CSS)
    join, wall = st.columns([2, 5], gap="large")
    with join, st.container(key="join_panel"):
        _join_panel(code)
        key = _keys().get(code)
        if key is None:
            st.info("You are watching this room's wall. To change its stages, open your private presenter link.")
        else:
            _controls(code, key)
    with wall, st.container(key="wall_column"):
        # The presenter's warnings head the wall's column, not the join panel: there they would push the stage
        # buttons below a 1280×720 screen.
        _cookies_warning(key is not None)
        _loopback_warning()
        _fallback_note()
        wall_view(code, _keys().get(code))


def _join_panel(code: str) -> None:
    """The code in huge type, the QR code of the join link, and the link itself.

    The link is the light phone's (``/j/CODE``) unless the presenter's browser finds that route unreachable
    through this address (``PROBE_JS``); then the Streamlit page's (``?join=CODE``), saying so.
    """
    st.markdown("### Join: scan the QR code or open the link")
    st.markdown(f'<div class="lucky5-room-code" role="heading" aria-level="1">{code}</div>', unsafe_allow_html=True)
    st.html(PROBE_JS, unsafe_allow_javascript=True)
    for key, link in (("join_light", light_link(code)), ("join_fallback", join_link(code))):
        with st.container(key=key):
            qr(link, 10, width=360, alt=f"QR code of the link that joins room {code}")  # too long: the code still works
            st.html(link_html(link))


def _fallback_note() -> None:
    """Hidden unless the presenter's browser found the short link unreachable (``PROBE_JS``)."""
    with st.container(key="fallback_note"):
        st.warning(
            "The short link does not answer through this address (a proxy that forwards only Streamlit's own "
            "paths?): phones join through the Streamlit page instead, which loads more."
        )


def _cookies_warning(driving: bool) -> None:
    """Hidden unless this browser refuses this site's cookies (``links.NO_COOKIES``): the presenter's key then
    has no way to outlive this session, so the stage buttons are lost at the next reload or new session."""
    if not driving:
        check_cookies()
    host = literal(urlsplit(base_url()).hostname)
    with st.container(key="no_cookies"):
        st.warning(
            f"The presenter view needs cookies for this site ({host}), and this browser refuses them. "
            + (
                "This tab keeps its stage buttons only until it is reloaded or loses its connection for minutes. "
                if driving
                else "It cannot keep the key that shows the stage buttons, so this page only watches the room. "
            )
            + f"Allow cookies for {host} in the browser's site settings, then start a new room.",
            icon=":material/cookie:",
        )


def _loopback_warning() -> None:
    """Before the hall scans: a wall at ``localhost`` or 127.x.x.x projects links no phone can open."""
    if (warning := loopback_warning(base_url())) is not None:
        st.warning(warning)


def _controls(code: str, key: str) -> None:
    """The stage buttons, a fresh start and the private presenter link (shown only when asked for)."""
    try:
        room = outage.read(code)  # while the store is away: what it last said
    except RoomError as err:
        show_error(err)
        return
    current = room.stage
    st.session_state[BUTTONS] = (code, current)  # the wall's refresh redraws the page when the room moves on
    stage_buttons(code, key, current, len(room.runs))  # each asks first when it would take runs off the wall
    private_link(code, key)  # not on the page until asked for: the page is projected
    doors(code, key, room)
