"""A room page that outlives a short store outage: the room's last answer, a bounded retry, a plain message.

When Redis is briefly away (a restart, a network blip), a room page keeps what it showed: the code, the QR
code, the stage buttons, a phone's own run. ``read`` returns the room's last answer instead of failing, and asks
the store again only when the retry is due (``RETRY_FIRST`` seconds, doubling to at most ``RETRY_MAX``): the
pages' own timers (the wall's refresh, a phone's stage poll) run the retries, so the page recovers by itself,
with no reload, once the store answers. ``notice`` says so, plainly.

A room the store no longer knows, though this page saw it, is explained by ``lucky5.room.gone``: lost in a
restart of the store (one that keeps no rooms on disk), not idle hours.

Session state only (each page its own schedule); the rooms' rules stay in ``lucky5.room``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import streamlit as st

from lucky5.room import RoomError, Wall, gone

from .store import store

RETRY_FIRST = 1.0  # s before the first retry
RETRY_MAX = 8.0  # s between retries at most: a hall waits no longer than this after the store is back
STATE = "room_outage"  # session-state key: code -> Seen


@dataclass
class Seen:
    """What this page knows of one room: its last answer, when, and the retries since the store went away."""

    wall: Wall | None = None
    at: float | None = None  # Unix seconds of the last answer
    failures: int = 0
    retry_at: float = 0.0  # monotonic seconds: no store call before this while failing


def _seen(code: str) -> Seen:
    rooms = st.session_state.setdefault(STATE, {})
    assert isinstance(rooms, dict)
    return rooms.setdefault(code, Seen())


def delay(failures: int) -> float:
    """Seconds before the next try after ``failures`` failures in a row: 1, 2, 4, 8, 8, ... (``RETRY_MAX``)."""
    return min(RETRY_MAX, RETRY_FIRST * 2 ** max(0, failures - 1))


def due(code: str) -> bool:
    """True when a call about room ``code`` may be made now: the store answered last time, or a retry is due."""
    seen = _seen(code)
    return not seen.failures or time.monotonic() >= seen.retry_at


def failing(code: str) -> bool:
    """True while the store did not answer this page's last call about room ``code``."""
    return _seen(code).failures > 0


def read(code: str, seen_at: float | None = None) -> Wall:
    """Room ``code`` now, or while the store is away its last answer (asking again when a retry is due).

    ``seen_at``: when this browser is known to have seen the room before this session (e.g. it holds the room's
    key), so that a lost room is told apart from a mistyped code.

    Raises:
        RoomError: ``unavailable`` with no earlier answer to keep; ``lost`` or ``unknown`` (``gone``); others.
    """
    seen = _seen(code)
    if seen.wall is not None and not due(code):
        return seen.wall
    try:
        wall = store().wall(code)
    except RoomError as err:
        if err.reason == "unknown":
            raise _why_gone(code, seen.at or seen_at, err) from None
        if err.reason != "unavailable":
            raise
        failed(code)
        if seen.wall is None:
            raise
        return seen.wall
    seen.wall, seen.at, seen.failures = wall, time.time(), 0
    return wall


def failed(code: str) -> None:
    """Count one more failed call about room ``code`` and schedule the next try."""
    seen = _seen(code)
    seen.failures += 1
    seen.retry_at = time.monotonic() + delay(seen.failures)


def _why_gone(code: str, seen_at: float | None, err: RoomError) -> RoomError:
    if seen_at is None:
        return err
    try:
        return gone(code, seen_at, store().started_at(), time.time())
    except RoomError:
        return err


def notice(code: str, what: str = "") -> None:
    """While the store is away: a plain warning that this page keeps what it showed and retries by itself."""
    seen = _seen(code)
    if not seen.failures:
        return
    wait = max(0, round(seen.retry_at - time.monotonic()))
    st.warning(
        f"The room's store is not answering (tried {seen.failures} time{'' if seen.failures == 1 else 's'}). "
        f"{what}This page keeps what it showed and tries again by itself in about {wait} s: no need to reload.",
        icon="⏳",
    )


@st.fragment(run_every=2.0)
def wait_for_store(code: str) -> None:
    """On a page that has nothing of room ``code`` to keep: the whole page runs again once the store answers."""
    seen = _seen(code)
    if time.monotonic() < seen.retry_at:
        return
    try:
        store().pulse(code)
    except RoomError as err:
        if err.reason == "unavailable":
            failed(code)
            return
    st.rerun(scope="app")
