"""Who holds a seat in a room: seats for people who trained, not for scripts that only join.

A join is cheap for a script and costs a person a scan, so a join alone holds no seat: it is *held* for
``JOIN_HOLD_SECONDS`` (counted as joined, free to vote and to train) and then forgotten unless it trained. A
participant takes a seat by sending a run; the room's capacity counts seats only, so a thousand scripted joins
leave every seat to the people who train. A phone whose hold ran out is let in again when it trains (a seat
is taken by the run itself), unless the room is locked, full or the presenter removed it.

The presenter can lock the room (no new participants: those seated, or joined within the hold, still train),
take a run off the wall (its participant loses the seat and cannot send another), and choose the room's
capacity within the server's bound, ``MAX_PARTICIPANTS``. An empty room (no seat taken) that nobody reads
closes after ``codes.EMPTY_ROOM_SECONDS``.

Both stores (``memory``, ``redis_store``) follow these rules and give these refusals.
"""

from __future__ import annotations

from .codes import MAX_PARTICIPANTS, RoomError, full, refuse

# A hall joins and trains within a minute or so of scanning; two minutes covers a slow phone's first load and
# its first run. Longer would only keep a script's joins on the wall's count: a real phone whose hold ran out
# is let in again when it trains, so the hold bounds what the store keeps, never who may train.
JOIN_HOLD_SECONDS = 120
# Joins held per room at most (the oldest go first): bounds a room's memory against a script that joins
# faster than holds run out (150 a second for two minutes would be 18,000). Twice the seats a room can have.
MAX_HELD = 2 * MAX_PARTICIPANTS


def check_capacity(capacity: object, bound: int = MAX_PARTICIPANTS) -> int:
    """``capacity`` as a whole number of seats in [1, ``bound``] (the server's bound).

    Raises:
        RoomError: ``bad_capacity``, naming the bound.
    """
    if isinstance(capacity, bool) or not isinstance(capacity, int) or not 1 <= capacity <= bound:
        refuse("bad_capacity", f"A room holds from 1 to {bound:,} people on this server.")
    return capacity


def locked() -> RoomError:
    """The refusal of a new participant in a locked room."""
    return RoomError("locked", "The presenter has closed this room to new people: watch the wall instead.")


def removed() -> RoomError:
    """The refusal of a participant whose run the presenter took off the wall."""
    return RoomError(
        "removed", "The presenter took your run off the wall: this phone cannot send runs to this room again."
    )


def first_run_kept() -> RoomError:
    """The refusal of a second, different run in a stage that keeps each participant's first (``Stage.keeps_first``)."""
    return RoomError(
        "kept",
        "Your first run of this stage is on the wall and stays there, so the room sees every learning rate "
        "tried. This new run is yours to look at.",
    )


def seat_refusal(
    *, is_removed: bool, seated: bool, held: bool, is_locked: bool, taken: int, capacity: int
) -> RoomError | None:
    """Why a participant may not take a seat by sending a run, or None if they may.

    A removed participant never may; a seated one always may (their seat is theirs); a new one needs an open
    room (or a join still held from before the lock) and a free seat (``taken`` of ``capacity``).
    """
    if is_removed:
        return removed()
    if seated:
        return None
    if is_locked and not held:
        return locked()
    return full(capacity) if taken >= capacity else None


def join_refusal(*, is_removed: bool, known: bool, is_locked: bool, taken: int, capacity: int) -> RoomError | None:
    """Why a phone may not join, or None if it may: a participant already in the room (seated or held) comes
    back; a new one is refused by a lock or by seats all taken, so a phone learns it before it trains."""
    if is_removed:
        return removed()
    if known:
        return None
    if is_locked:
        return locked()
    return full(capacity) if taken >= capacity else None


# Redis answers of the seat scripts -> the refusal (``redis_store``); the capacity is read back with 'full'.
REFUSALS = {"removed": removed, "locked": locked, "kept": first_run_kept}
