"""The one room store of this process, shared by every session, and how its refusals are shown.

Not here: the rooms themselves (``lucky5.room``), which the room pages reach only through ``store()``.
"""

from __future__ import annotations

import streamlit as st

from lucky5.room import MemoryStore, RedisStore, RoomError, store_from_env

from ..text import literal


@st.cache_resource(show_spinner=False)
def _store() -> MemoryStore | RedisStore:
    return store_from_env()


def store() -> MemoryStore | RedisStore:
    """This process's store, shared by every session: Redis when ``LUCKY5_REDIS_URL`` is set, else memory.

    Raises:
        RoomError: ``unavailable`` when ``LUCKY5_REDIS_URL`` is not a redis:// URL.
    """
    return _store()


def show_error(err: RoomError) -> None:
    """A refusal from the store, shown literally (messages may quote a room code)."""
    st.error(literal(err, limit=400))
