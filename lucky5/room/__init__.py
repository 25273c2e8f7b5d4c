"""Rooms where a whole audience trains together: the store behind the page's presenter wall.

A presenter creates a room and gets a short code (for people to type or scan) and a secret key
(to drive the room). Each phone joins with the code, trains its own run, and submits a bounded
``Summary`` of it; the presenter's wall shows the current stage's runs.

One job per module:

- ``codes``: room codes, presenter keys, participant ids and their seeds; the limits (``EMPTY_ROOM_SECONDS``:
  a room where nobody trained closes soon); ``RoomError``;
- ``seats``: who holds a seat (people who trained; a join alone is held ``JOIN_HOLD_SECONDS``), the room's
  capacity, lock and removed runs, and their refusals;
- ``limits``: how fast one address may join or create rooms and one participant train (``Limit``: token
  buckets, ``JOINS``, ``ROOMS``, ``RUNS``);
- ``stages``: the stages of a talk (``STAGES``), each fixing some ``Config`` fields;
- ``summary``: the wire format, ``Summary`` (at most 4 kB of JSON, parsed totally) and ``summarize``;
- ``wall``: what the wall shows (``Wall``) and its rules: which runs blew up or settled, the medians;
- ``questions``: the question each stage opens with (``QUESTIONS``), its choices, the check of a vote, and
  what the room's runs (``Outcome``) and the theory (``Expected``) answer;
- ``votes``: a stage's vote as the wall reads it (``Poll``: rounds, open, skipped, revealed, counts) and the
  rules and refusals both stores follow;
- ``memory``: ``MemoryStore``, rooms in this process, thread-safe; the default;
- ``redis_seats``: the Redis side of seats and limits: the bodies of the join, run, removal and bucket scripts;
- ``redis_votes``: the Redis side of the votes: the bodies of the vote scripts and the parse of what they store;
- ``redis_store``: ``RedisStore``, rooms in a Redis server shared by several server processes (its Lua
  scripts), ``store_from_env``, which picks it when ``LUCKY5_REDIS_URL`` is set, and ``shared_store``, the
  one store of this process;
- ``standing``: what a light phone is told (its stage's settings, the room's medians and spread), computed
  once per change of the room and the same for every phone;
- ``check``: the server's check of a run a phone trained itself (``replay`` with ``train_many``, ``mismatch``).

Both stores have the same methods and the same refusals, votes included (``vote``, ``cast``, ``ballot``,
``poll``). A room keeps the runs of its *current* stage only:
changing the stage clears them, and a run trained for another stage is refused with a reason naming the
current one. So the wall never mixes stages, and a room holds at most ``MAX_PARTICIPANTS`` summaries (4 MB
at the worst).

This package knows nothing of a UI, and trains only to check a phone's run (``check``; ``summarize`` reads a
finished ``History``).
Participants are anonymous: a participant id is a random token that only its phone knows (the
phone's page keeps it in its own address bar, so that a reload joins again as the same participant),
and the wall never shows ids.
"""

from .check import mismatch, replay
from .codes import (
    CODE_ALPHABET,
    EMPTY_ROOM_SECONDS,
    MAX_PARTICIPANTS,
    MAX_ROOMS,
    MIN_IDLE_TO_CLOSE_SECONDS,
    ROOM_TTL_SECONDS,
    RoomError,
    gone,
    normalize_code,
    participant_seed,
)
from .limits import JOINS, LIMITS, ROOMS, RUNS, Limit
from .memory import MemoryStore
from .questions import (
    QUESTIONS,
    BiasQuestion,
    BlowUpQuestion,
    Choice,
    Expected,
    Outcome,
    Question,
    ReachQuestion,
    question_for,
)
from .redis_store import RedisStore, shared_store, store_from_env
from .seats import JOIN_HOLD_SECONDS, MAX_HELD, check_capacity
from .stages import FIRST_STAGE, STAGE_NAMES, STAGES, Stage, check_stage
from .standing import asked, question_info, stage_info, standing
from .summary import MAX_CURVE_POINTS, MAX_SUMMARY_BYTES, Summary, curve_edges, summarize
from .votes import ROUNDS, VOTE_ACTIONS, Poll
from .wall import Medians, Pulse, Wall, blew_up, counts_by_lr, median_curve, medians, settled_runs

__all__ = [
    "CODE_ALPHABET",
    "EMPTY_ROOM_SECONDS",
    "JOINS",
    "JOIN_HOLD_SECONDS",
    "LIMITS",
    "MAX_HELD",
    "ROOMS",
    "RUNS",
    "Limit",
    "check_capacity",
    "FIRST_STAGE",
    "MAX_CURVE_POINTS",
    "MAX_PARTICIPANTS",
    "MAX_ROOMS",
    "MAX_SUMMARY_BYTES",
    "MIN_IDLE_TO_CLOSE_SECONDS",
    "QUESTIONS",
    "ROOM_TTL_SECONDS",
    "ROUNDS",
    "STAGES",
    "STAGE_NAMES",
    "VOTE_ACTIONS",
    "BiasQuestion",
    "BlowUpQuestion",
    "Choice",
    "Expected",
    "Outcome",
    "Poll",
    "Question",
    "ReachQuestion",
    "Medians",
    "Pulse",
    "MemoryStore",
    "RedisStore",
    "RoomError",
    "Stage",
    "Summary",
    "Wall",
    "asked",
    "blew_up",
    "check_stage",
    "counts_by_lr",
    "curve_edges",
    "gone",
    "median_curve",
    "mismatch",
    "medians",
    "normalize_code",
    "participant_seed",
    "question_for",
    "question_info",
    "replay",
    "settled_runs",
    "shared_store",
    "stage_info",
    "standing",
    "store_from_env",
    "summarize",
]
