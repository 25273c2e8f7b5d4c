"""Rooms where a whole audience trains together: the store behind the page's presenter wall.

A presenter creates a room and gets a short code (for people to type or scan) and a secret key
(to drive the room). Each phone joins with the code, trains its own run, and submits a bounded
``Summary`` of it; the presenter's wall shows the current stage's runs.

Two stores keep rooms, with the same methods and the same refusals:

- ``MemoryStore``: in this process, thread-safe; the default.
- ``RedisStore``: in a Redis server, so that several server processes share rooms; chosen by
  ``store_from_env()`` when ``LUCKY5_REDIS_URL`` is set. Every change is one Lua script, so a
  crowd joining at once can neither exceed ``MAX_PARTICIPANTS`` nor lose a join or a run. Values
  are JSON (never pickle) and everything read back is parsed as untrusted.

Stages (``STAGES``) are data, shared by the page and the tests: each fixes some ``Config`` fields.
A room keeps the runs of its *current* stage only. Changing the stage clears them, and a run
trained for another stage is refused with a reason naming the current one. So the wall never
mixes stages, and a room holds at most ``MAX_PARTICIPANTS`` summaries (4 MB at the worst).

This module trains nothing (``summarize`` reads a finished ``History``) and knows nothing of a UI.
Participants are anonymous: a participant id is a random token that only its phone knows (the
phone's page keeps it in its own address bar, so that a reload joins again as the same participant),
and the wall never shows ids.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NoReturn, Protocol

from .config import DEFAULT, MAX_EPOCHS, MAX_LR, MAX_SEED, OPTIMIZERS, Config
from .engine import History

# --- bounds ---------------------------------------------------------------------------------

MAX_PARTICIPANTS = 1_000  # per room
# Rooms per store; creating one more closes the room idle the longest. A full room of full-sized
# summaries is about 4 MB of JSON (more as Python objects), so this bounds a MemoryStore's memory.
MAX_ROOMS = 50
# A room used within this many seconds is never closed to make space (an open wall keeps its room in use):
# anyone can open ?room=new, and a burst of new rooms must not close a talk's room. Creating is refused instead.
MIN_IDLE_TO_CLOSE_SECONDS = 30 * 60
ROOM_TTL_SECONDS = 4 * 3600  # a room closes after this long without any activity (wall reads count)
MAX_SUMMARY_BYTES = 4096  # a Summary's JSON; to_json of any valid Summary fits (tests check the worst case)
MAX_CURVE_POINTS = 60

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # A–Z and 2–9 without the look-alikes 0 O 1 I
CODE_LENGTH = 6
KEY_BYTES = 24  # the presenter's key: 192 random bits, 32 URL-safe characters
PARTICIPANT_BYTES = 16  # 128 random bits, 22 URL-safe characters
REDIS_URL_ENV = "LUCKY5_REDIS_URL"
REDIS_CONNECTIONS = 32  # per RedisStore (per server process); each call holds one for about a round trip

_PARTICIPANT = re.compile(r"[A-Za-z0-9_-]{22}", re.ASCII)
_MAX_KEY_CHARS = 64
_MAX_TYPED_CODE = 64  # longer input is refused before it is stripped or upper-cased


class RoomError(ValueError):
    """A refusal, with a message fit to show a person and a short machine-readable ``reason``.

    Reasons: ``bad_code`` (not a room code), ``unknown`` (no such room: mistyped, closed or
    expired), ``full``, ``unknown_participant``, ``wrong_key``, ``bad_stage``, ``wrong_stage``
    (a run trained for another stage), ``bad_lr``, ``bad_summary``, ``busy`` (every room is in use:
    no new one now), ``unavailable`` (the shared store cannot be reached, or holds data that does not parse).
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


# --- stages ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    """One step of the talk: which ``Config`` fields it fixes, and what a participant may choose.

    ``overrides`` are Config fields set for everyone (the rest keep the blog post's defaults);
    ``lrs`` are the learning rates a participant picks from (empty: the stage's own lr). Every
    participant always brings their own seed.
    """

    name: str
    title: str
    overrides: Mapping[str, Any]
    lrs: tuple[float, ...] = ()

    @property
    def base(self) -> Config:
        """The stage's Config before a participant's own seed and learning rate."""
        return DEFAULT.replace(**self.overrides)

    def config(self, seed: int, lr: float | None = None) -> Config:
        """A participant's Config for this stage.

        Raises:
            RoomError: ``bad_lr`` for a learning rate this stage does not offer;
                ``bad_summary`` for an invalid seed (message from ``Config``).
        """
        changes: dict[str, Any] = {"seed": seed}
        if lr is not None:
            if lr not in (self.lrs or (self.base.lr,)):
                offered = ", ".join(f"{x:g}" for x in self.lrs) if self.lrs else f"only {self.base.lr:g}"
                raise RoomError("bad_lr", f"The learning rate {lr!r} is not offered in this stage ({offered}).")
            changes["lr"] = lr
        try:
            return self.base.replace(**changes)
        except ValueError as err:
            raise RoomError("bad_summary", str(err)) from None

    def problem(self, summary: Summary) -> str | None:
        """Why ``summary`` was not trained for this stage, or None when it was."""
        base = self.base
        if summary.epochs != base.epochs or summary.optimizer != base.optimizer:
            return f"this run has {summary.epochs:,} epochs of {summary.optimizer}"
        if self.lrs and summary.lr not in self.lrs:
            return f"the learning rate {summary.lr:g} is not one this stage offers"
        if not self.lrs and summary.lr != base.lr:
            return f"this stage trains at learning rate {base.lr:g}, not {summary.lr:g}"
        return None


# The learning-rate stage brackets the stability edge of the post's SGD (batch 1, momentum 0.1):
# theory.sgd_critical_lr(1, 0.1) ≈ 0.224 and theory.critical_lr(0.1) ≈ 0.309. Over 2,000 epochs
# runs at 0.2 settle on 5, at 0.25 most blow up to huge values and some overflow, at 0.3 all overflow.
STAGES: Mapping[str, Stage] = MappingProxyType(
    {
        "post": Stage("post", "The blog post: 200 epochs, your own seed", MappingProxyType({"epochs": 200})),
        "patience": Stage("patience", "Patience: 20,000 epochs", MappingProxyType({"epochs": 20_000})),
        "lr": Stage(
            "lr",
            "Pick your learning rate",
            MappingProxyType({"epochs": 2_000}),
            lrs=(0.01, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4),
        ),
    }
)
STAGE_NAMES: tuple[str, ...] = tuple(STAGES)
FIRST_STAGE = STAGE_NAMES[0]


def check_stage(stage: object) -> Stage:
    """The Stage named ``stage``; raises RoomError (``bad_stage``) for anything else."""
    if isinstance(stage, str) and stage in STAGES:
        return STAGES[stage]
    _raise("bad_stage", "Unknown stage; the stages are " + ", ".join(STAGE_NAMES) + ".")


def _raise(reason: str, message: str) -> NoReturn:
    raise RoomError(reason, message)


# --- the summary of one run -----------------------------------------------------------------


_SUMMARY_KEYS = frozenset(
    ("seed", "optimizer", "lr", "epochs", "final_loss", "b", "w_norm", "diverged_at", "curve_steps", "curve_losses")
)


@dataclass(frozen=True)
class Summary:
    """What the wall needs of one run: a few numbers and a short loss curve, at most 4 kB as JSON.

    Fields:
        seed, optimizer, lr, epochs: the run's settings (``epochs`` as configured, even if it diverged).
        final_loss: the last finite step's loss (mean squared error of its batch), None if no step
            finished. float.
        b: the trained bias; w_norm: ‖w‖₂ of the trained weights, computed in float64.
        diverged_at: the first step whose loss or update was not finite, None if the run finished.
        curve_steps, curve_losses: at most 60 points (step count, mean loss); see ``summarize``.

    The constructor validates everything (``from_json`` relies on it), so an invalid Summary
    cannot exist.

    Raises:
        RoomError: ``bad_summary``, naming the field and what is allowed.
    """

    seed: int
    optimizer: str
    lr: float
    epochs: int
    final_loss: float | None
    b: float
    w_norm: float
    diverged_at: int | None
    curve_steps: tuple[int, ...]
    curve_losses: tuple[float, ...]

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "seed", _int(self.seed, "seed", 0, MAX_SEED))
        if self.optimizer not in OPTIMIZERS:  # also refuses non-strings: OPTIMIZERS holds str only
            _bad("optimizer", "one of " + ", ".join(OPTIMIZERS))
        set_(self, "lr", _float(self.lr, "lr"))
        if not 0 < self.lr <= MAX_LR:
            _bad("lr", f"above 0 and at most {MAX_LR:g}")
        set_(self, "epochs", _int(self.epochs, "epochs", 1, MAX_EPOCHS))
        if self.diverged_at is not None:
            set_(self, "diverged_at", _int(self.diverged_at, "diverged_at", 0, self.epochs - 1))
        steps = self.steps
        if self.final_loss is None:
            if steps:
                _bad("final_loss", "a number when any step finished")
        else:
            set_(self, "final_loss", _float(self.final_loss, "final_loss", nonnegative=True))
            if not steps:
                _bad("final_loss", "null when no step finished")
        set_(self, "b", _float(self.b, "b"))
        set_(self, "w_norm", _float(self.w_norm, "w_norm", nonnegative=True))
        xs, ys = self.curve_steps, self.curve_losses
        if not isinstance(xs, (tuple, list)) or not isinstance(ys, (tuple, list)):
            _bad("curve_steps", "two lists of numbers")
        if len(xs) > MAX_CURVE_POINTS or len(xs) != len(ys):
            _bad("curve_steps", f"at most {MAX_CURVE_POINTS} points, as many steps as losses")
        if not steps and xs:
            _bad("curve_steps", "empty when no step finished")
        xs = tuple(_int(x, "curve_steps", 1, steps) for x in xs)
        if any(b <= a for a, b in zip(xs, xs[1:], strict=False)) or (steps and (not xs or xs[-1] != steps)):
            _bad("curve_steps", f"increasing step counts ending at the run's {steps} finished steps")
        set_(self, "curve_steps", xs)
        set_(self, "curve_losses", tuple(_float(y, "curve_losses", nonnegative=True) for y in ys))

    @property
    def steps(self) -> int:
        """Steps that finished: ``diverged_at`` for a diverged run, else ``epochs``."""
        return self.epochs if self.diverged_at is None else self.diverged_at

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None

    def to_json(self) -> bytes:
        """Compact UTF-8 JSON, at most ``MAX_SUMMARY_BYTES``; ``from_json`` reads it back equal."""
        data = {
            "seed": self.seed,
            "optimizer": self.optimizer,
            "lr": self.lr,
            "epochs": self.epochs,
            "final_loss": self.final_loss,
            "b": self.b,
            "w_norm": self.w_norm,
            "diverged_at": self.diverged_at,
            "curve_steps": list(self.curve_steps),
            "curve_losses": list(self.curve_losses),
        }
        return json.dumps(data, separators=(",", ":"), allow_nan=False).encode()

    @classmethod
    def from_json(cls, data: bytes | str) -> Summary:
        """Parse untrusted JSON (a participant's upload, a value read from Redis) into a Summary.

        Total: returns a valid Summary or raises RoomError (``bad_summary``, a ValueError) with
        a reason. Refuses more than ``MAX_SUMMARY_BYTES``, invalid UTF-8, NaN and infinities,
        numbers too long or too large, duplicate or unknown keys, and wrong types.
        """
        if isinstance(data, str):
            if len(data) > MAX_SUMMARY_BYTES:
                _bad_json(f"more than {MAX_SUMMARY_BYTES:,} characters")
            data = data.encode("utf-8", "surrogatepass")
        if not isinstance(data, (bytes, bytearray, memoryview)):
            _bad_json("expected bytes or text")
        if len(data) > MAX_SUMMARY_BYTES:
            _bad_json(f"more than {MAX_SUMMARY_BYTES:,} bytes")
        try:
            obj = json.loads(
                bytes(data).decode("utf-8"),
                parse_constant=_refuse_constant,
                parse_int=_parse_int,
                parse_float=_parse_float,
                object_pairs_hook=_unique_keys,
            )
        except RoomError:
            raise
        except (ValueError, RecursionError) as err:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            _bad_json(f"not valid JSON ({type(err).__name__})")
        if not isinstance(obj, dict):
            _bad_json("expected a JSON object")
        keys = set(obj)
        if keys != _SUMMARY_KEYS:
            missing, extra = sorted(_SUMMARY_KEYS - keys), sorted(keys - _SUMMARY_KEYS)
            shown = [k[:20] for k in extra[:3]]
            _bad_json(f"missing {missing}" if missing else f"unknown keys {shown}")
        if not isinstance(obj["curve_steps"], list) or not isinstance(obj["curve_losses"], list):
            _bad("curve_steps", "two lists of numbers")
        return cls(**{**obj, "curve_steps": tuple(obj["curve_steps"]), "curve_losses": tuple(obj["curve_losses"])})


def _bad(name: str, allowed: str) -> NoReturn:
    raise RoomError("bad_summary", f"Not a run summary: {name} must be {allowed}.")


def _bad_json(why: str) -> NoReturn:
    raise RoomError("bad_summary", f"Not a run summary: {why}.")


def _int(value: Any, name: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        _bad(name, f"a whole number from {low:,} to {high:,}")
    return int(value)


def _float(value: Any, name: str, nonnegative: bool = False) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        _bad(name, "a number")
    try:
        out = float(value)
    except OverflowError:
        out = math.inf
    if not math.isfinite(out) or (nonnegative and out < 0):
        _bad(name, "a finite number" + (" >= 0" if nonnegative else ""))
    return out


def _refuse_constant(name: str) -> NoReturn:
    _bad_json(f"{name} is not a finite number")


def _parse_int(text: str) -> int:
    if len(text) > 20:  # also keeps int() away from CPython's 4,300-digit limit
        _bad_json("a whole number with more than 20 digits")
    return int(text)


def _parse_float(text: str) -> float:
    if len(text) > 40:
        _bad_json("a number written with more than 40 characters")
    return float(text)  # may be inf (1e999): Summary's validation refuses it


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        _bad_json("a key is repeated")
    return out


def curve_edges(steps: int) -> list[int]:
    """Bin edges 0 = e₀ < e₁ < … < e_k = steps of the loss curve, k ≤ ``MAX_CURVE_POINTS``.

    Up to 60 steps every step is its own bin. Beyond, there are exactly 60 bins with edges
    eᵢ = i + round((steps − 59)^(i/60) − 1), i = 0..60: strictly increasing (i grows by one, the
    rounded term never falls), from 0 to ``steps``, and nearly log-spaced for long runs: fine where
    the loss falls fast, coarse in the long crawl.
    """
    p = MAX_CURVE_POINTS
    if steps <= p:
        return list(range(steps + 1))
    return [i + round((steps - p + 1) ** (i / p) - 1) for i in range(p + 1)]


def summarize(history: History) -> Summary:
    """A bounded ``Summary`` of one run.

    The curve has one point per bin of ``curve_edges(steps)``: x is the bin's end (steps done,
    from 1), y the mean of the per-step losses in the bin (float64). Averaging, not sampling,
    keeps one lucky or unlucky batch from standing for a thousand steps. A diverged run keeps
    its last finite values: History holds nothing non-finite, and its curve ends at ``diverged_at``.
    """
    c = history.config
    losses = history.losses.double()
    steps = history.steps
    edges = curve_edges(steps)
    xs = tuple(edges[1:])
    ys = tuple(float(losses[a:b].mean()) for a, b in zip(edges, edges[1:], strict=False))
    weight = history.weights[-1].double()
    return Summary(
        seed=c.seed,
        optimizer=c.optimizer,
        lr=c.lr,
        epochs=c.epochs,
        final_loss=float(losses[-1]) if steps else None,
        b=float(history.biases[-1]),
        w_norm=float(weight.norm()),
        diverged_at=history.diverged_at,
        curve_steps=xs,
        curve_losses=ys,
    )


# --- what a store shows ---------------------------------------------------------------------


@dataclass(frozen=True)
class Wall:
    """What the presenter's wall shows: the room's current stage and its runs.

    ``participants`` counts everyone who joined (trained or not); ``runs`` holds one Summary per
    participant who submitted in this stage (their latest), in no particular order, without ids.
    ``invalid`` counts stored runs that did not parse (only a RedisStore can hold such data).
    """

    stage: str
    participants: int
    runs: tuple[Summary, ...]
    invalid: int = 0


class Store(Protocol):
    """The methods both stores offer. Codes may be typed by people (see ``normalize_code``)."""

    def create(self) -> tuple[str, str]: ...
    def join(self, code: str, again: str | None = None) -> str: ...
    def submit(self, code: str, participant: str, summary: Summary) -> None: ...
    def wall(self, code: str) -> Wall: ...
    def set_stage(self, code: str, key: str, stage: str) -> None: ...
    def reset(self, code: str, key: str) -> None: ...


def normalize_code(text: object) -> str:
    """A room code as typed, checked: surrounding spaces dropped, lower case accepted.

    Raises:
        RoomError: ``bad_code``, saying what a code looks like (the input is not echoed).
    """
    looks = f"A room code is {CODE_LENGTH} characters from A–Z and 2–9 (never 0, O, 1 or I)"
    if not isinstance(text, str):
        _raise("bad_code", f"{looks}.")
    if len(text) > _MAX_TYPED_CODE:
        _raise("bad_code", f"That is far too long for a room code. {looks}.")
    code = text.strip().upper()
    if len(code) != CODE_LENGTH:
        _raise("bad_code", f"That has {len(code)} characters. {looks}.")
    if any(ch not in CODE_ALPHABET for ch in code):
        _raise("bad_code", f"That has characters no room code uses. {looks}.")
    return code


def new_code() -> str:
    """A fresh random code: ``CODE_LENGTH`` characters of ``CODE_ALPHABET`` (32⁶ ≈ 1.07e9 codes)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _new_key() -> str:
    return secrets.token_urlsafe(KEY_BYTES)


def _new_participant() -> str:
    return secrets.token_urlsafe(PARTICIPANT_BYTES)


def participant_seed(participant: str) -> int:
    """The seed of a participant's runs: the first four bytes of SHA-256 of their id, in [0, MAX_SEED].

    Ids are 128 random bits, so seeds are as random as ``secrets`` makes them; and a phone that reloads
    and joins again with its id (``join(code, again=...)``) trains the very same runs.
    """
    return int.from_bytes(hashlib.sha256(participant.encode()).digest()[:4], "big") % (MAX_SEED + 1)


def _previous(again: object) -> str | None:
    """A well-formed earlier id, else None: a mangled link joins afresh rather than failing."""
    return again if isinstance(again, str) and _PARTICIPANT.fullmatch(again) else None


def _check_participant(participant: object) -> str:
    if not isinstance(participant, str) or not _PARTICIPANT.fullmatch(participant):
        _raise("unknown_participant", "This phone is not in the room (or the room was replaced): join again.")
    return participant


def _check_key(given: object, stored: str) -> None:
    """Constant-time comparison (hmac.compare_digest), so timing says nothing about the key."""
    ok = isinstance(given, str) and len(given) <= _MAX_KEY_CHARS
    given_bytes = given.encode("utf-8", "surrogatepass") if isinstance(given, str) and ok else b""
    if not hmac.compare_digest(given_bytes, stored.encode()) or not ok:
        _raise("wrong_key", "That is not this room's presenter key.")


def _check_summary(summary: object) -> Summary:
    if not isinstance(summary, Summary):
        _raise("bad_summary", "Not a run summary: expected a Summary (see summarize and Summary.from_json).")
    return summary


def _unknown(code: str) -> RoomError:
    hours = ROOM_TTL_SECONDS / 3600
    return RoomError(
        "unknown",
        f"There is no room {code}: check the code; rooms close after {hours:g} idle hours or when the presenter "
        "starts too many.",
    )


def _wrong_stage(stage: Stage, why: str) -> RoomError:
    return RoomError("wrong_stage", f"The room has moved on to '{stage.title}' and {why}: train again.")


def _busy(cap: int) -> RoomError:
    minutes = MIN_IDLE_TO_CLOSE_SECONDS // 60
    return RoomError(
        "busy", f"All {cap:,} rooms are in use (none idle for {minutes} minutes): try again later, or reuse your room."
    )


def _full(cap: int) -> RoomError:
    return RoomError("full", f"This room is full ({cap:,} people at most): watch the wall instead.")


# --- in this process ------------------------------------------------------------------------


@dataclass
class _Room:
    key: str
    stage: str
    last_active: float
    participants: set[str] = field(default_factory=set)
    runs: dict[str, Summary] = field(default_factory=dict)


class MemoryStore:
    """Rooms in this process's memory, behind one lock (every method is thread-safe).

    Expiry is lazy: a room idle for ``ttl`` seconds is removed when it is next looked up, and
    all expired rooms are removed when a room is created. ``clock`` (seconds, monotonic) is
    injectable for tests; the caps default to the module's constants at construction time.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_rooms: int | None = None,
        max_participants: int | None = None,
        ttl: float | None = None,
    ) -> None:
        self._clock = clock
        self._max_rooms = MAX_ROOMS if max_rooms is None else max_rooms
        self._max_participants = MAX_PARTICIPANTS if max_participants is None else max_participants
        self._ttl = ROOM_TTL_SECONDS if ttl is None else ttl
        self._lock = threading.Lock()
        self._rooms: dict[str, _Room] = {}

    def create(self) -> tuple[str, str]:
        """A new room at the first stage: ``(code, key)``. May close the room idle the longest."""
        key = _new_key()
        with self._lock:
            now = self._clock()
            for code in [c for c, r in self._rooms.items() if now - r.last_active >= self._ttl]:
                del self._rooms[code]
            while self._rooms and len(self._rooms) >= self._max_rooms:
                oldest = min(self._rooms, key=lambda c: self._rooms[c].last_active)
                if now - self._rooms[oldest].last_active < MIN_IDLE_TO_CLOSE_SECONDS:
                    raise _busy(self._max_rooms)
                del self._rooms[oldest]
            code = new_code()
            while code in self._rooms:
                code = new_code()
            self._rooms[code] = _Room(key=key, stage=FIRST_STAGE, last_active=now)
        return code, key

    def _room(self, code: str) -> _Room:
        """The live room (call with the lock held); refreshes its activity time."""
        now = self._clock()
        room = self._rooms.get(code)
        if room is not None and now - room.last_active >= self._ttl:
            del self._rooms[code]
            room = None
        if room is None:
            raise _unknown(code)
        room.last_active = now
        return room

    def join(self, code: str, again: str | None = None) -> str:
        """Join the room; returns this participant's id (keep it secret: it submits their runs).

        ``again`` is the id this phone held before (after a reload): while it is still in the room it is
        returned, counted once, with its run kept; anything else joins afresh.
        """
        code, previous = normalize_code(code), _previous(again)
        participant = _new_participant()
        with self._lock:
            room = self._room(code)
            if previous is not None and previous in room.participants:
                return previous
            if len(room.participants) >= self._max_participants:
                raise _full(self._max_participants)
            room.participants.add(participant)
        return participant

    def submit(self, code: str, participant: str, summary: Summary) -> None:
        """Record the participant's run for the current stage, replacing their earlier one."""
        code, summary = normalize_code(code), _check_summary(summary)
        participant = _check_participant(participant)
        with self._lock:
            room = self._room(code)
            if participant not in room.participants:
                _check_participant(None)
            stage = STAGES[room.stage]
            why = stage.problem(summary)
            if why is not None:
                raise _wrong_stage(stage, why)
            room.runs[participant] = summary

    def wall(self, code: str) -> Wall:
        """The current stage, the number of participants and their runs (counts as activity)."""
        code = normalize_code(code)
        with self._lock:
            room = self._room(code)
            return Wall(stage=room.stage, participants=len(room.participants), runs=tuple(room.runs.values()))

    def set_stage(self, code: str, key: str, stage: str) -> None:
        """Presenter only: move to ``stage``, clearing the runs (the same stage keeps them)."""
        code = normalize_code(code)
        check_stage(stage)
        with self._lock:
            room = self._room(code)
            _check_key(key, room.key)
            if stage != room.stage:
                room.stage, room.runs = stage, {}

    def reset(self, code: str, key: str) -> None:
        """Presenter only: clear the runs and go back to the first stage; participants stay joined."""
        code = normalize_code(code)
        with self._lock:
            room = self._room(code)
            _check_key(key, room.key)
            room.stage, room.runs = FIRST_STAGE, {}


# --- in Redis -------------------------------------------------------------------------------

# Keys: lucky5:room:{code}:meta (hash: key, stage), :people (set of participant ids), :runs (hash:
# participant id -> Summary JSON), and lucky5:rooms (sorted set: code -> last activity, Redis TIME
# in seconds). Every room key expires ROOM_TTL_SECONDS after the room's last activity. Scripts
# build room keys from the code, so this needs one Redis server (or a primary), not Redis Cluster.
_LUA_PRELUDE = """
local prefix = 'lucky5:room:'
local index = KEYS[1]
local t = redis.call('TIME')
local now = string.format('%d.%06d', t[1], t[2])
local function touch(code, ttl)
  redis.call('EXPIRE', prefix .. code .. ':meta', ttl)
  redis.call('EXPIRE', prefix .. code .. ':people', ttl)
  redis.call('EXPIRE', prefix .. code .. ':runs', ttl)
  redis.call('ZADD', index, now, code)
  redis.call('EXPIRE', index, ttl)
end
"""

# ARGV: code, key, stage, ttl, max_rooms, min_idle. Returns 1, 0 if the code is taken, -1 if every room is in use.
_LUA_CREATE = (
    _LUA_PRELUDE
    + """
local code, ttl, max_rooms = ARGV[1], tonumber(ARGV[4]), tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', index, '-inf', tonumber(t[1]) - ttl)
local meta = prefix .. code .. ':meta'
if redis.call('EXISTS', meta) == 1 then return 0 end
while redis.call('ZCARD', index) >= max_rooms do
  local oldest = redis.call('ZRANGE', index, 0, 0, 'WITHSCORES')
  if tonumber(now) - tonumber(oldest[2]) < tonumber(ARGV[6]) then return -1 end
  local c = redis.call('ZPOPMIN', index)[1]
  redis.call('DEL', prefix .. c .. ':meta', prefix .. c .. ':people', prefix .. c .. ':runs')
end
redis.call('HSET', meta, 'key', ARGV[2], 'stage', ARGV[3])
touch(code, ttl)
return 1
"""
)

# ARGV: code, participant, max_participants, ttl, earlier id or ''. Returns the new count, 0 when the earlier
# id is still in the room (nothing added), -1 unknown, -2 full.
_LUA_JOIN = (
    _LUA_PRELUDE
    + """
local code, ttl = ARGV[1], tonumber(ARGV[4])
if redis.call('EXISTS', prefix .. code .. ':meta') == 0 then return -1 end
local people = prefix .. code .. ':people'
touch(code, ttl)
if ARGV[5] ~= '' and redis.call('SISMEMBER', people, ARGV[5]) == 1 then return 0 end
local n = redis.call('SCARD', people)
if n >= tonumber(ARGV[3]) then return -2 end
redis.call('SADD', people, ARGV[2])
redis.call('EXPIRE', people, ttl)
return n + 1
"""
)

# ARGV: code, participant, summary JSON, ttl, stages the summary fits... Returns 'ok', 'unknown',
# 'participant', or 'stage:<current stage>'.
_LUA_SUBMIT = (
    _LUA_PRELUDE
    + """
local code, p, ttl = ARGV[1], ARGV[2], tonumber(ARGV[4])
local meta = prefix .. code .. ':meta'
if redis.call('EXISTS', meta) == 0 then return 'unknown' end
touch(code, ttl)
if redis.call('SISMEMBER', prefix .. code .. ':people', p) == 0 then return 'participant' end
local stage = redis.call('HGET', meta, 'stage')
for i = 5, #ARGV do
  if ARGV[i] == stage then
    redis.call('HSET', prefix .. code .. ':runs', p, ARGV[3])
    redis.call('EXPIRE', prefix .. code .. ':runs', ttl)
    return 'ok'
  end
end
return 'stage:' .. tostring(stage)
"""
)

# ARGV: code, ttl. Returns {stage, participants, runs...} or {} for an unknown room.
_LUA_WALL = (
    _LUA_PRELUDE
    + """
local code, ttl = ARGV[1], tonumber(ARGV[2])
local meta = prefix .. code .. ':meta'
if redis.call('EXISTS', meta) == 0 then return {} end
touch(code, ttl)
local out = {redis.call('HGET', meta, 'stage') or '', redis.call('SCARD', prefix .. code .. ':people')}
for _, v in ipairs(redis.call('HVALS', prefix .. code .. ':runs')) do out[#out + 1] = v end
return out
"""
)

# ARGV: code, key, ttl, stage, 'reset' or 'stage'. The key was already compared in constant time;
# comparing it again here makes the check and the change one atomic step.
_LUA_PRESENT = (
    _LUA_PRELUDE
    + """
local code, ttl, stage = ARGV[1], tonumber(ARGV[3]), ARGV[4]
local meta = prefix .. code .. ':meta'
if redis.call('EXISTS', meta) == 0 then return 'unknown' end
if redis.call('HGET', meta, 'key') ~= ARGV[2] then return 'key' end
if ARGV[5] == 'reset' or redis.call('HGET', meta, 'stage') ~= stage then
  redis.call('HSET', meta, 'stage', stage)
  redis.call('DEL', prefix .. code .. ':runs')
end
touch(code, ttl)
return 'ok'
"""
)

_INDEX_KEY = "lucky5:rooms"


def _meta_key(code: str) -> str:
    return f"lucky5:room:{code}:meta"


class RedisStore:
    """Rooms in a Redis server, shared by every process that uses the same URL.

    Each method is one round trip (two for the presenter's methods: the key is fetched and
    compared here in constant time) and each change is one Lua script, atomic in Redis. Scripts
    use Redis's clock, so replicas on different machines agree on idleness. Expiry is Redis's:
    every room key's TTL is renewed on activity. Redis errors become RoomError ``unavailable``.

    Raises:
        RoomError: ``unavailable`` if ``url`` is not a redis:// (rediss://, unix://) URL.
    """

    def __init__(
        self,
        url: str,
        *,
        max_rooms: int | None = None,
        max_participants: int | None = None,
        ttl: int | None = None,
    ) -> None:
        import redis  # here, so that a MemoryStore does not import the Redis client

        self._errors: tuple[type[BaseException], ...] = (redis.RedisError,)
        try:
            # A blocking pool: when a crowd outnumbers the connections, calls wait for a free one
            # (up to `timeout` seconds) instead of failing as the default pool does past its cap.
            pool = redis.BlockingConnectionPool.from_url(
                url, max_connections=REDIS_CONNECTIONS, timeout=10, socket_timeout=10, socket_connect_timeout=5
            )
            self._redis = redis.Redis.from_pool(pool)
        except ValueError:
            raise RoomError("unavailable", f"{REDIS_URL_ENV} must be a redis:// URL.") from None
        self._max_rooms = MAX_ROOMS if max_rooms is None else max_rooms
        self._max_participants = MAX_PARTICIPANTS if max_participants is None else max_participants
        self._ttl = int(ROOM_TTL_SECONDS if ttl is None else ttl)
        r = self._redis
        self._create = r.register_script(_LUA_CREATE)
        self._join = r.register_script(_LUA_JOIN)
        self._submit = r.register_script(_LUA_SUBMIT)
        self._wall = r.register_script(_LUA_WALL)
        self._present = r.register_script(_LUA_PRESENT)
        # Parsed runs by their JSON: a wall refreshing every few seconds re-reads the same runs.
        self._parsed: dict[bytes, Summary] = {}

    def _call(self, script: Any, *args: Any) -> Any:
        try:
            return script(keys=[_INDEX_KEY], args=list(args))
        except self._errors as err:
            raise RoomError(
                "unavailable", f"The shared room store is not answering ({type(err).__name__}); try again shortly."
            ) from None

    def create(self) -> tuple[str, str]:
        """A new room at the first stage: ``(code, key)``. May close the room idle the longest."""
        key = _new_key()
        for _ in range(100):  # a taken code is drawn about once in 1e9 / MAX_ROOMS tries
            code = new_code()
            made = self._call(
                self._create, code, key, FIRST_STAGE, self._ttl, self._max_rooms, MIN_IDLE_TO_CLOSE_SECONDS
            )
            if made == -1:
                raise _busy(self._max_rooms)
            if made == 1:
                return code, key
        _raise("unavailable", "No free room code was found; try again.")

    def join(self, code: str, again: str | None = None) -> str:
        """Join the room; returns this participant's id (keep it secret: it submits their runs).

        ``again`` is the id this phone held before (after a reload): while it is still in the room it is
        returned, counted once, with its run kept; anything else joins afresh.
        """
        code, previous = normalize_code(code), _previous(again)
        participant = _new_participant()
        n = self._call(self._join, code, participant, self._max_participants, self._ttl, previous or "")
        if n == -1:
            raise _unknown(code)
        if n == -2:
            raise _full(self._max_participants)
        return participant if n else str(previous)

    def submit(self, code: str, participant: str, summary: Summary) -> None:
        """Record the participant's run for the current stage, replacing their earlier one."""
        code, summary = normalize_code(code), _check_summary(summary)
        participant = _check_participant(participant)
        fits = [s.name for s in STAGES.values() if s.problem(summary) is None]
        out = self._call(self._submit, code, participant, summary.to_json(), self._ttl, *fits)
        out = out.decode("utf-8", "replace") if isinstance(out, bytes) else str(out)
        if out == "ok":
            return
        if out == "unknown":
            raise _unknown(code)
        if out == "participant":
            _check_participant(None)
        current = self._stage(out.removeprefix("stage:"))
        raise _wrong_stage(current, current.problem(summary) or "this run is for another stage")

    def wall(self, code: str) -> Wall:
        """The current stage, the number of participants and their runs (counts as activity)."""
        code = normalize_code(code)
        out = self._call(self._wall, code, self._ttl)
        if not out:
            raise _unknown(code)
        stage = self._stage(out[0].decode("utf-8", "replace") if isinstance(out[0], bytes) else "")
        if not isinstance(out[1], int):
            _raise("unavailable", "The shared room store holds a room that does not parse.")
        runs, invalid = [], 0
        parsed = self._parsed
        if len(parsed) > 4 * self._max_participants:
            parsed.clear()
        for raw in out[2:]:
            summary = parsed.get(raw) if isinstance(raw, bytes) else None
            if summary is None:
                try:
                    summary = Summary.from_json(raw)
                except RoomError:
                    invalid += 1
                    continue
                parsed[raw] = summary
            runs.append(summary)
        return Wall(stage=stage.name, participants=out[1], runs=tuple(runs), invalid=invalid)

    def _stage(self, name: str) -> Stage:
        if name not in STAGES:
            _raise("unavailable", "The shared room store holds a room that does not parse.")
        return STAGES[name]

    def _presenter(self, code: str, key: str, stage: str, action: str) -> None:
        try:
            stored = self._redis.hget(_meta_key(code), "key")
        except self._errors:
            _raise("unavailable", "The shared room store is not answering; try again shortly.")
        if stored is None:
            raise _unknown(code)
        if not isinstance(stored, bytes):
            _raise("unavailable", "The shared room store holds a room that does not parse.")
        _check_key(key, stored.decode("utf-8", "replace"))
        out = self._call(self._present, code, key, self._ttl, stage, action)
        if out == b"unknown":
            raise _unknown(code)
        if out == b"key":
            _check_key(None, "")

    def set_stage(self, code: str, key: str, stage: str) -> None:
        """Presenter only: move to ``stage``, clearing the runs (the same stage keeps them)."""
        code = normalize_code(code)
        check_stage(stage)
        self._presenter(code, key, stage, "stage")

    def reset(self, code: str, key: str) -> None:
        """Presenter only: clear the runs and go back to the first stage; participants stay joined."""
        self._presenter(normalize_code(code), key, FIRST_STAGE, "reset")

    def close(self) -> None:
        """Close the connections to Redis (the rooms stay)."""
        self._redis.close()


def store_from_env(environ: Mapping[str, str] | None = None) -> MemoryStore | RedisStore:
    """A RedisStore on ``$LUCKY5_REDIS_URL`` when it is set (and not blank), else a MemoryStore."""
    env = os.environ if environ is None else environ
    url = env.get(REDIS_URL_ENV, "").strip()
    return RedisStore(url) if url else MemoryStore()


__all__ = [
    "CODE_ALPHABET",
    "FIRST_STAGE",
    "MAX_CURVE_POINTS",
    "MAX_PARTICIPANTS",
    "MAX_ROOMS",
    "MIN_IDLE_TO_CLOSE_SECONDS",
    "MAX_SUMMARY_BYTES",
    "ROOM_TTL_SECONDS",
    "STAGES",
    "STAGE_NAMES",
    "MemoryStore",
    "RedisStore",
    "RoomError",
    "Stage",
    "Store",
    "Summary",
    "Wall",
    "check_stage",
    "curve_edges",
    "normalize_code",
    "participant_seed",
    "store_from_env",
    "summarize",
]


# --- reading the runs of a room ---------------------------------------------------------------------------------


def blew_up(run: Summary) -> bool:
    """The run overflowed, or its loss ended higher than it started (the mean of its last curve bin against
    its first)."""
    return run.diverged or (bool(run.curve_losses) and run.curve_losses[-1] > run.curve_losses[0])


def counts_by_lr(runs: Sequence[Summary], lrs: Sequence[float]) -> list[tuple[float, int, int]]:
    """Per offered learning rate: (lr, runs that settled, runs that blew up)."""
    out = []
    for lr in lrs:
        at = [r for r in runs if r.lr == lr]
        bad = sum(blew_up(r) for r in at)
        out.append((lr, len(at) - bad, bad))
    return out
