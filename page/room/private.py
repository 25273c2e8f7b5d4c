"""The presenter's private link on a page that is projected: never shown unless asked for, and never for long.

The presenter's screen is the wall the hall sees. The private link (``links.presenter_link``, a one-time token
that lets one browser drive the room) is therefore not on the page at all (not even hidden in the DOM, as an
expander's content would be) until the presenter presses a button whose label says it must not be projected.
Then it is shown for ``SHOWN_SECONDS`` at most: "Hide it now", the next stage, a fresh start or the time hides
it, whichever comes first. Each press shows a new token (the last one may have been used).
"""

from __future__ import annotations

from time import monotonic  # a name of this module's own: a test turns its clock alone

import streamlit as st

from lucky5.room import RoomError

from .links import presenter_link
from .store import store
from .wall import NOTICE

SHOWN_SECONDS = 60.0  # long enough to copy it into another device, short enough not to stay on the wall
SHOWN = "room_private_link"  # session-state key: (code, token, monotonic deadline) of the link shown now
SHOW_LABEL = "Show my private presenter link (not while projecting)"


def hide() -> None:
    """Take the private link off the page (a stage change, a fresh start, "Hide it now")."""
    st.session_state.pop(SHOWN, None)


def _show(code: str, key: str) -> None:
    try:
        token = store().issue_token(code, key)
    except RoomError as err:
        st.session_state[NOTICE] = str(err)  # said on the wall, as the presenter's other refusals
        return
    st.session_state[SHOWN] = (code, token, monotonic() + SHOWN_SECONDS)


def shown(code: str) -> str | None:
    """The token of room ``code``'s private link while it may be shown; None otherwise (and when it expired)."""
    made = st.session_state.get(SHOWN)
    if made is None or made[0] != code:
        return None
    if monotonic() >= made[2]:
        hide()
        return None
    return str(made[1])


def private_link(code: str, key: str) -> None:
    """The button that shows room ``code``'s private link, or the link with its warning and "Hide it now"."""
    if shown(code) is None:
        st.button(
            SHOW_LABEL,
            key="private_show",
            on_click=_show,
            args=(code, key),
            width="stretch",
            help="A one-time link that lets one other browser or device drive this room. Your screen is the "
            "wall: show it only while the projector is off or frozen.",
        )
        return
    _shown_link(code)


@st.fragment(run_every=2.0)
def _shown_link(code: str) -> None:
    """The link while it may be shown; a fragment that reruns itself, so that the link leaves the wall after
    ``SHOWN_SECONDS`` by itself. Timed only while shown: the wall's own refresh stays the page's one timer."""
    token = shown(code)
    if token is None:  # hidden by the time or by "Hide it now": the whole page again, with the button
        st.rerun(scope="app")
    st.warning(
        "Your private presenter link: do not project it. The first browser that opens it drives this room, "
        f"and then no other. It hides itself within {SHOWN_SECONDS:.0f} s, or at the next stage.",
        icon=":material/key:",
    )
    st.code(presenter_link(str(token)), language=None, wrap_lines=True)
    st.button("Hide it now", key="private_hide", on_click=hide, width="stretch")
