"""Room codes, presenter keys and participant ids; the limits of rooms and stores; the refusals (``RoomError``).

A presenter's room has a short code (for people to type or scan) and a secret key (to drive the room). Each
phone joins with the code and gets a participant id: a random token that only that phone knows. Every check
of a code, a key or an id is here, as are the messages a refused person reads.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import NoReturn

from ..config import MAX_SEED

MAX_PARTICIPANTS = 1_000  # per room
# Rooms per store; creating one more closes the room idle the longest. A full room of full-sized
# summaries is about 4 MB of JSON (more as Python objects), so this bounds a MemoryStore's memory.
MAX_ROOMS = 50
# A room used within this many seconds is never closed to make space (an open wall keeps its room in use):
# anyone can open ?room=new, and a burst of new rooms must not close a talk's room. Creating is refused instead.
MIN_IDLE_TO_CLOSE_SECONDS = 30 * 60
ROOM_TTL_SECONDS = 4 * 3600  # a room closes after this long without any activity (wall reads count)
# A room where nobody has trained closes after this long unread (``seats``). An open wall reads its room every
# 2 s, and three minutes outlast a projector's Wi-Fi blip (about two); a burst of ``?room=new`` is gone soon.
EMPTY_ROOM_SECONDS = 3 * 60

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # A–Z and 2–9 without the look-alikes 0 O 1 I
CODE_LENGTH = 6
KEY_BYTES = 24  # the presenter's key: 192 random bits, 32 URL-safe characters
PARTICIPANT_BYTES = 16  # 128 random bits, 22 URL-safe characters
TOKEN_BYTES = 24  # a presenter link's one-time token: 192 random bits, 32 URL-safe characters
# A token not used within this long is void: the link was shown to be opened soon, on the presenter's other device.
TOKEN_SECONDS = 3600
MAX_TOKENS = 1_000  # tokens a MemoryStore keeps (oldest dropped first): a page rerun in a loop cannot fill memory

_PARTICIPANT = re.compile(r"[A-Za-z0-9_-]{22}", re.ASCII)
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}", re.ASCII)
_MAX_KEY_CHARS = 64
_MAX_TYPED_CODE = 64  # longer input is refused before it is stripped or upper-cased


class RoomError(ValueError):
    """A refusal, with a message fit to show a person and a short machine-readable ``reason``.

    Reasons: ``bad_code`` (not a room code), ``unknown`` (no such room: mistyped, closed or
    expired), ``full``, ``unknown_participant``, ``wrong_key``, ``bad_stage``, ``wrong_stage``
    (a run trained for another stage), ``bad_lr``, ``bad_summary``, ``busy`` (every room is in use:
    no new one now), ``unknown_token`` and ``used_token`` (a presenter link's one-time token), ``locked``,
    ``removed``, ``bad_capacity`` (``seats``), ``slow_down`` (``limits``), ``lost`` (gone in a
    restart of the store), ``unavailable`` (the shared store cannot be reached, or holds data that does not
    parse); for votes ``bad_vote``, ``vote_closed``, ``no_vote`` and ``bad_round`` (``lucky5.room.votes``).
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.retry_after: int | None = None  # for ``slow_down``: whole seconds until it may be tried again


def refuse(reason: str, message: str) -> NoReturn:
    """Raise ``RoomError(reason, message)``."""
    raise RoomError(reason, message)


def normalize_code(text: object) -> str:
    """A room code as typed, checked: surrounding spaces dropped, lower case accepted.

    Raises:
        RoomError: ``bad_code``, saying what a code looks like (the input is not echoed).
    """
    looks = f"A room code is {CODE_LENGTH} characters from A–Z and 2–9 (never 0, O, 1 or I)"
    if not isinstance(text, str):
        refuse("bad_code", f"{looks}.")
    if len(text) > _MAX_TYPED_CODE:
        refuse("bad_code", f"That is far too long for a room code. {looks}.")
    code = text.strip().upper()
    if len(code) != CODE_LENGTH:
        refuse("bad_code", f"That has {len(code)} characters. {looks}.")
    if any(ch not in CODE_ALPHABET for ch in code):
        refuse("bad_code", f"That has characters no room code uses. {looks}.")
    return code


def new_code() -> str:
    """A fresh random code: ``CODE_LENGTH`` characters of ``CODE_ALPHABET`` (32⁶ ≈ 1.07e9 codes)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def new_key() -> str:
    """A fresh presenter key: ``KEY_BYTES`` random bytes, URL-safe base64."""
    return secrets.token_urlsafe(KEY_BYTES)


def new_token() -> str:
    """A fresh one-time token for a presenter link: ``TOKEN_BYTES`` random bytes, URL-safe base64 (32 characters)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def check_token(token: object) -> str:
    """``token`` if it is well-formed; else RoomError ``unknown_token`` (``unknown_token()``)."""
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        raise unknown_token()
    return token


def unknown_token() -> RoomError:
    """The refusal of a presenter link whose token no store holds (mistyped, or older than ``TOKEN_SECONDS``)."""
    return RoomError(
        "unknown_token",
        f"This presenter link is not valid or is older than {TOKEN_SECONDS // 60} minutes. In the browser that "
        "drives the room, press 'Show my private presenter link' for a new one.",
    )


def used_token() -> RoomError:
    """The refusal of a presenter link opened a second time: its token worked once and is void."""
    return RoomError(
        "used_token",
        "This presenter link was already used: each one works once, in one browser. In the browser that drives "
        "the room, press 'Show my private presenter link' for a new one.",
    )


def new_participant() -> str:
    """A fresh participant id: ``PARTICIPANT_BYTES`` random bytes, URL-safe base64 (22 characters)."""
    return secrets.token_urlsafe(PARTICIPANT_BYTES)


def participant_seed(participant: str) -> int:
    """The seed of a participant's runs: the first four bytes of SHA-256 of their id, in [0, MAX_SEED].

    Ids are 128 random bits, so seeds are as random as ``secrets`` makes them; and a phone that reloads
    and joins again with its id (``join(code, again=...)``) trains the very same runs.
    """
    return int.from_bytes(hashlib.sha256(participant.encode()).digest()[:4], "big") % (MAX_SEED + 1)


def previous_participant(again: object) -> str | None:
    """A well-formed earlier id, else None: a mangled link joins afresh rather than failing."""
    return again if isinstance(again, str) and _PARTICIPANT.fullmatch(again) else None


def joining(code: object, again: object, adopt: bool) -> tuple[str, str | None, str]:
    """A join's (room code, earlier id or None, id to use), the same rule for every store.

    ``again`` counts only when well-formed; with ``adopt`` it becomes the id (a phone that drew its own),
    else a fresh id is drawn, which the store replaces by ``again`` if that one is still in the room.
    """
    previous = previous_participant(again)
    return normalize_code(code), previous, previous if adopt and previous is not None else new_participant()


def check_participant(participant: object) -> str:
    """``participant`` if it is well-formed; else RoomError ``unknown_participant``."""
    if not isinstance(participant, str) or not _PARTICIPANT.fullmatch(participant):
        refuse("unknown_participant", "This phone is not in the room (or the room was replaced): join again.")
    return participant


def check_key(given: object, stored: str) -> None:
    """RoomError ``wrong_key`` unless ``given`` is ``stored``.

    Constant-time comparison (hmac.compare_digest), so timing says nothing about the key.
    """
    ok = isinstance(given, str) and len(given) <= _MAX_KEY_CHARS
    given_bytes = given.encode("utf-8", "surrogatepass") if isinstance(given, str) and ok else b""
    if not hmac.compare_digest(given_bytes, stored.encode()) or not ok:
        refuse("wrong_key", "That is not this room's presenter key.")


def unknown_room(code: str) -> RoomError:
    """The refusal for a code no room has (mistyped, closed or expired)."""
    hours = ROOM_TTL_SECONDS / 3600
    return RoomError(
        "unknown",
        f"There is no room {code}: check the code; rooms close after {hours:g} idle hours ({EMPTY_ROOM_SECONDS // 60} "
        "minutes while nobody has trained) or when the presenter starts too many.",
    )


def gone(code: str, seen_at: float | None, started_at: float, now: float) -> RoomError:
    """Why room ``code``, which the asking page saw at ``seen_at`` (Unix seconds), is unknown now.

    ``started_at`` is when the store last started (its ``started_at()``). A store that started after the room
    was seen lost it in the restart (``lost``: a Redis without persistence keeps no room); else, or when the page
    never saw the room (``seen_at`` None), the room is simply unknown (``unknown_room``).
    """
    if seen_at is None or started_at <= seen_at:
        return unknown_room(code)
    minutes = max(0, round((now - started_at) / 60))
    ago = "less than a minute ago" if minutes == 0 else f"{minutes} minute{'' if minutes == 1 else 's'} ago"
    return RoomError(
        "lost",
        f"Room {code} was lost: the server that keeps the rooms restarted {ago} and kept none of them (not idle "
        "hours). The presenter can start a new room; its code and QR code will be new.",
    )


def busy(cap: int) -> RoomError:
    """The refusal of a new room while all ``cap`` rooms are in use."""
    minutes = MIN_IDLE_TO_CLOSE_SECONDS // 60
    return RoomError(
        "busy", f"All {cap:,} rooms are in use (none idle for {minutes} minutes): try again later, or reuse your room."
    )


def full(cap: int) -> RoomError:
    """The refusal of a phone joining a room that holds ``cap`` people."""
    return RoomError("full", f"This room is full ({cap:,} people at most): watch the wall instead.")
