"""The presenter's side of a room: the code in huge type, the QR code of the join link, the stages and the wall.

Made for a projector: the join panel (code, QR code, link, stage buttons) is a narrow column at the left and
the wall takes the rest, so that at 1920×1080 the audience sees the code and the wall's first chart together.

``?room=new`` creates a room, keeps its key in a cookie and loads ``?room=CODE`` in its place (``links.move_to``):
a reconnect after a Wi-Fi blip or a restarted server shows the same room, Back leaves the room's page and never
meets ``?room=new`` again, and a rerun of the creating session shows its own room, not another one. Anyone
with ``?room=CODE`` sees the wall; only a session holding the key sees the stage buttons: created here, opened
once with the private presenter link, or kept by this browser's cookie (a reload of the wall keeps its
buttons); the key is checked with a read, never a write. The key is drawn only when the presenter asks for the
private link; it is never in the join link, the QR code or the address bar (except once, in place of the
cookie, for a browser that refuses cookies).

The wall itself, right of the join panel, is ``wall.wall_view``.
"""

from __future__ import annotations

import streamlit as st

from lucky5.room import STAGE_NAMES, STAGES, RoomError, normalize_code

from .. import runtime
from .links import KEY_COOKIE, NEW, join_link, keep, kept, light_link, move_to, presenter_link, replace_address
from .store import show_error, store
from .wall import NOTICE, wall_view

CREATED = "room_created"  # session-state key: the room this tab created from ?room=new (router._start clears it)
CODE_CSS = """<style>
.lucky5-room-code { font: 800 clamp(3rem, min(5vw, 9vh), 7rem)/1.05 ui-monospace, "DejaVu Sans Mono", monospace;
  letter-spacing: 0.12em; margin: 0.1em 0 0.2em; }
[data-testid="stMetricValue"] { font-size: 3rem !important; }
/* A hall reads the wall from the back row: no text under 18 px, and the counts large. */
.stApp p, .stApp li, .stApp label, .stApp code, .stApp button, .stApp [data-testid="stCaptionContainer"],
.stApp [data-testid="stImageCaption"], .stApp [data-testid="stMarkdownContainer"] { font-size: max(18px, 1em); }
.lucky5-counts { font-size: clamp(1.6rem, 2.4vw, 3rem); font-weight: 800; line-height: 1.2; margin: 0.2em 0; }
/* Room for the stage buttons on a 1280×720 screen: less padding above, a QR code that fits the height, and
   on a short screen the link's text left to the QR code (the code in huge type is there to type). */
[data-testid="stMainBlockContainer"] { padding-top: 2.5rem !important; }
.st-key-join_panel h3 { margin-top: 0; padding-top: 0; }
.st-key-join_panel img { max-height: max(150px, min(34vh, calc(100vh - 570px))); width: auto; }
@media (max-height: 800px) { .st-key-join_panel [data-testid="stCode"] { display: none; } }
.st-key-join_panel button { min-height: 2.4rem; }
/* The QR code shrinks with a narrow column (Streamlit's image container keeps the image's own width). */
.st-key-join_panel [data-testid="stImageContainer"] { max-width: 100%; }
/* The light phone's link until the probe below finds it unreachable; then the Streamlit page's. */
.st-key-join_fallback { display: none; }
body.lucky5-no-light .st-key-join_light { display: none; }
body.lucky5-no-light .st-key-join_fallback { display: block; }
</style>"""
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
        if code is None or not _alive(code):
            code, new_key = store().create()
            _keys()[code], st.session_state[CREATED] = new_key, code
        # Not just the address bar: the browser loads ?room=CODE, so a reconnect or a restarted server, which
        # run the query the page was loaded with, show this room again (with the key from the cookie).
        move_to(code, KEY_COOKIE, _keys()[code])
        return str(code)
    code = normalize_code(raw)
    store().wall(code)  # an unknown room is refused here, before its code and QR code are drawn
    if key is not None or st.query_params.to_dict() != {"room": code}:
        replace_address({"room": code})  # the key leaves the address bar and the history; ' abcdef' reads ABCDEF
    if key is not None:
        if _take_key(code, key):
            keep(KEY_COOKIE, code, key)
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
        if err.reason in ("bad_code", "unknown"):
            st.button("Start a new room", on_click=st.query_params.from_dict, args=({"room": NEW},))
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
    with wall:
        wall_view(code)


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
            if key == "join_fallback":
                st.warning(
                    "The short link does not answer through this address (a proxy that forwards only Streamlit's "
                    "own paths?): phones join through the Streamlit page instead, which loads more."
                )
            alt = f"QR code of the link that joins room {code}"
            st.image(runtime.qr_png(link, 10), width=360, alt=alt)
            st.code(link, language=None, wrap_lines=True)  # a code block shows the address exactly, never as a link


def _controls(code: str, key: str) -> None:
    """The stage buttons, a fresh start and the private presenter link (shown only when asked for)."""
    try:
        current = store().wall(code).stage
    except RoomError as err:
        show_error(err)
        return
    for i, name in enumerate(STAGE_NAMES):
        st.button(
            f"{i + 1}. {STAGES[name].title}",
            key=f"stage_{name}",
            type="primary" if name == current else "secondary",
            on_click=_set_stage,
            args=(code, key, name),
            width="stretch",
        )
    st.button("Clear the runs and start over", on_click=_reset, args=(code, key), width="stretch")
    # A toggle, not an expander: an expander's content is sent to the browser even while it is closed.
    if st.toggle("Show my private presenter link", key="show_presenter_link", help="It lets anyone drive this room."):
        st.code(presenter_link(code, key), language=None, wrap_lines=True)
        st.caption(
            "It lets anyone drive this room: do not project it. A reload in this browser keeps your stage buttons; "
            "open this link to drive the room from another browser or device."
        )


def _set_stage(code: str, key: str, stage: str) -> None:
    try:
        store().set_stage(code, key, stage)
    except RoomError as err:
        st.session_state[NOTICE] = str(err)


def _reset(code: str, key: str) -> None:
    try:
        store().reset(code, key)
    except RoomError as err:
        st.session_state[NOTICE] = str(err)
