"""Rooms where a whole audience trains together: the store behind the page's presenter wall.

A presenter creates a room and gets a short code (for people to type or scan) and a secret key
(to drive the room). Each phone joins with the code, trains its own run, and submits a bounded
``Summary`` of it; the presenter's wall shows the current stage's runs.

One job per module:

- ``codes``: room codes, presenter keys, participant ids and their seeds; the limits; ``RoomError``;
- ``stages``: the stages of a talk (``STAGES``), each fixing some ``Config`` fields;
- ``summary``: the wire format, ``Summary`` (at most 4 kB of JSON, parsed totally) and ``summarize``;
- ``wall``: what the wall shows (``Wall``) and its rules: which runs blew up or settled, the medians;
- ``memory``: ``MemoryStore``, rooms in this process, thread-safe; the default;
- ``redis_store``: ``RedisStore``, rooms in a Redis server shared by several server processes (its Lua
  scripts), and ``store_from_env``, which picks it when ``LUCKY5_REDIS_URL`` is set.

Both stores have the same methods and the same refusals. A room keeps the runs of its *current* stage only:
changing the stage clears them, and a run trained for another stage is refused with a reason naming the
current one. So the wall never mixes stages, and a room holds at most ``MAX_PARTICIPANTS`` summaries (4 MB
at the worst).

This package trains nothing (``summarize`` reads a finished ``History``) and knows nothing of a UI.
Participants are anonymous: a participant id is a random token that only its phone knows (the
phone's page keeps it in its own address bar, so that a reload joins again as the same participant),
and the wall never shows ids.
"""

from .codes import (
    CODE_ALPHABET,
    MAX_PARTICIPANTS,
    MAX_ROOMS,
    MIN_IDLE_TO_CLOSE_SECONDS,
    ROOM_TTL_SECONDS,
    RoomError,
    normalize_code,
    participant_seed,
)
from .memory import MemoryStore
from .redis_store import RedisStore, store_from_env
from .stages import FIRST_STAGE, STAGE_NAMES, STAGES, Stage, check_stage
from .summary import MAX_CURVE_POINTS, MAX_SUMMARY_BYTES, Summary, curve_edges, summarize
from .wall import Medians, Wall, blew_up, counts_by_lr, median_curve, medians, settled_runs

__all__ = [
    "CODE_ALPHABET",
    "FIRST_STAGE",
    "MAX_CURVE_POINTS",
    "MAX_PARTICIPANTS",
    "MAX_ROOMS",
    "MAX_SUMMARY_BYTES",
    "MIN_IDLE_TO_CLOSE_SECONDS",
    "ROOM_TTL_SECONDS",
    "STAGES",
    "STAGE_NAMES",
    "Medians",
    "MemoryStore",
    "RedisStore",
    "RoomError",
    "Stage",
    "Summary",
    "Wall",
    "blew_up",
    "check_stage",
    "counts_by_lr",
    "curve_edges",
    "median_curve",
    "medians",
    "normalize_code",
    "participant_seed",
    "settled_runs",
    "store_from_env",
    "summarize",
]
