"""The one room store of this process, shared by every session and the light phone's routes; how its refusals
are shown.

Not here: the rooms themselves (``lucky5.room``), which the room pages reach only through ``store()``.
"""

from __future__ import annotations

import streamlit as st

from lucky5.room import MemoryStore, RedisStore, RoomError, shared_store
from lucky5.room.limits import address

from ..text import literal


def store() -> MemoryStore | RedisStore:
    """This process's store, shared by every session and the light phone's routes (``lucky5.room.shared_store``):
    Redis when ``LUCKY5_REDIS_URL`` is set, else memory.

    Raises:
        RoomError: ``unavailable`` when ``LUCKY5_REDIS_URL`` is not a redis:// URL.
    """
    return shared_store()


def show_error(err: RoomError) -> None:
    """A refusal from the store, shown literally (messages may quote a room code)."""
    st.error(literal(err, limit=400))


def client() -> str:
    """This session's client address (``lucky5.room.limits.address``), for the limits per address: the
    websocket's peer as uvicorn reports it (``X-Forwarded-For`` only from a trusted proxy: README)."""
    return address(st.context.ip_address)
