"""Seats for people, not scripts (``lucky5.room.seats``, ``lucky5.room.limits``), in both stores.

A join holds no seat: it is held ``JOIN_HOLD_SECONDS`` and forgotten unless it trained; seats are taken by runs,
up to the capacity the presenter chose; the presenter locks the room and removes runs; token buckets bound one
address's joins and new rooms and one participant's runs. The memory store runs on an injected clock (no
sleeps); the Redis store on a real ``redis-server``, its clock moved by rewriting the stored times.

Oracles: counts made by hand (how many joined, trained, were refused), and the token bucket's closed form:
from empty, ``min(burst, rate * t)`` tokens after ``t`` seconds.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lucky5.room import (
    EMPTY_ROOM_SECONDS,
    JOIN_HOLD_SECONDS,
    JOINS,
    MAX_HELD,
    ROOMS,
    RUNS,
    Limit,
    MemoryStore,
    RoomError,
    Summary,
    participant_seed,
)
from lucky5.room.limits import take
from tests.conftest import StoreFactory


class Clock:
    def __init__(self) -> None:
        self.now = 5_000.0

    def __call__(self) -> float:
        return self.now


def _run(seed: int = 9) -> Summary:
    """A run the first stage takes (its curve made up: the stores check settings, the checker the numbers)."""
    return Summary(seed, "sgd", 0.01, 200, 0.5, 1.7, 2.0, None, (1, 200), (20.0, 0.5))


def _refused(reason: str, call) -> RoomError:
    with pytest.raises(RoomError) as err:
        call()
    assert err.value.reason == reason, str(err.value)
    assert str(err.value) and "Traceback" not in str(err.value)
    return err.value


# --- seats: both stores ---------------------------------------------------------------------------


def test_joins_that_never_train_take_no_seat(make_store: StoreFactory) -> None:
    store = make_store(max_participants=3)
    code, _ = store.create()
    for _ in range(40):  # a script: forty joins, no run
        store.join(code)
    people = [store.join(code) for _ in range(3)]
    for p in people:
        store.submit(code, p, _run())
    wall = store.wall(code)
    assert (wall.participants, wall.seated, len(wall.runs), wall.capacity) == (43, 3, 3, 3)
    _refused("full", lambda: store.join(code))  # every seat is taken by someone who trained
    late = people[0]
    assert store.join(code, again=late) == late  # a seated participant always comes back


def test_a_phone_whose_join_ran_out_is_let_in_when_it_trains(make_store: StoreFactory) -> None:
    store = make_store()
    code, _ = store.create()
    me = "Q" * 22  # a light phone's own id, never joined here (or its hold is gone): its run takes a seat
    store.submit(code, me, _run(participant_seed(me)))
    assert store.wall(code).seated == 1
    assert store.join(code, again=me) == me


def test_the_presenter_locks_the_room(make_store: StoreFactory) -> None:
    store = make_store()
    code, key = store.create()
    seated, held = store.join(code), store.join(code)
    store.submit(code, seated, _run())
    _refused("wrong_key", lambda: store.lock(code, key[::-1], True))
    store.lock(code, key, True)
    assert store.wall(code).locked
    err = _refused("locked", lambda: store.join(code))
    assert "closed this room" in str(err)
    _refused("locked", lambda: store.submit(code, "N" * 22, _run()))  # a new phone's run takes no seat
    store.submit(code, seated, _run(10))  # those seated keep training
    store.submit(code, held, _run(11))  # a join held from before the lock may still train
    assert store.join(code, again=held) == held
    store.lock(code, key, False)
    store.join(code)
    assert not store.wall(code).locked and store.wall(code).seated == 2


def test_the_presenter_removes_a_run_and_its_phone_cannot_send_again(make_store: StoreFactory) -> None:
    store = make_store(max_participants=2)
    code, key = store.create()
    a, b = store.join(code), store.join(code)
    store.submit(code, a, _run(1))
    store.submit(code, b, _run(2))
    _refused("full", lambda: store.join(code))
    _refused("wrong_key", lambda: store.remove(code, "x" * 32, 1))
    version = store.pulse(code).version
    assert store.remove(code, key, 1) == 1
    wall = store.wall(code)
    assert wall.runs == (_run(2),) and wall.removed == (1,) and wall.seated == 1
    assert store.pulse(code).version > version  # phones hear of it
    err = _refused("removed", lambda: store.submit(code, a, _run(1)))
    assert "took your run off the wall" in str(err)
    _refused("removed", lambda: store.join(code, again=a))
    _refused("removed", lambda: store.join(code, again=a, adopt=True))
    assert store.remove(code, key, 1) == 0  # nothing left with that seed
    store.submit(code, store.join(code), _run(3))  # the removed seat is free for someone else


def test_the_capacity_is_the_presenters_within_the_servers_bound(make_store: StoreFactory) -> None:
    store = make_store(max_participants=4)
    code, key = store.create()
    assert store.wall(code).capacity == 4
    for bad in (0, 5, -1, 2.5, "3", True, None):
        _refused("bad_capacity", lambda bad=bad: store.set_capacity(code, key, bad))
    _refused("wrong_key", lambda: store.set_capacity(code, key[:-1], 2))
    store.set_capacity(code, key, 1)
    store.submit(code, store.join(code), _run(1))
    _refused("full", lambda: store.join(code))
    _refused("full", lambda: store.submit(code, "F" * 22, _run(2)))
    store.set_capacity(code, key, 2)
    store.submit(code, store.join(code), _run(2))
    assert store.wall(code).seated == 2 and store.wall(code).capacity == 2


def test_a_phone_whose_join_ran_out_may_still_vote(make_store: StoreFactory) -> None:
    store = make_store()
    code, key = store.create()
    store.vote(code, key, "post", "open")
    me = "V" * 22
    assert store.cast(code, me, "post", "1-2") == ("1-2",)  # let in as a join would be
    store.lock(code, key, True)
    _refused("locked", lambda: store.cast(code, "W" * 22, "post", "1-2"))
    assert store.cast(code, me, "post", "1-2") == ("1-2",)


def test_a_limit_refuses_past_its_burst_and_says_how_long_to_wait(make_store: StoreFactory) -> None:
    store = make_store()
    slow = Limit("test", burst=3.0, rate=1 / 100, what="tries")
    for _ in range(3):
        store.limit(slow, "10.0.0.1")
    err = _refused("slow_down", lambda: store.limit(slow, "10.0.0.1"))
    assert "tries" in str(err) and ("100 s" in str(err) or "99 s" in str(err))
    store.limit(slow, "10.0.0.2")  # another address has its own bucket


# --- the memory store on an injected clock: holds, empty rooms and buckets over time -----------------


def test_a_join_is_held_two_minutes_then_forgotten() -> None:
    clock = Clock()
    store = MemoryStore(clock=clock)
    code, _ = store.create()
    early = store.join(code)
    clock.now += JOIN_HOLD_SECONDS - 1
    late = store.join(code)
    assert store.wall(code).participants == 2
    clock.now += 1
    assert store.wall(code).participants == 1  # the first join ran out; the second is held a while more
    assert store.join(code, again=early) != early  # forgotten: a fresh id (with adopt it would be its own)
    store.submit(code, late, _run())
    clock.now += 10 * JOIN_HOLD_SECONDS
    wall = store.wall(code)
    assert (wall.participants, wall.seated) == (1, 1)  # the one who trained keeps their seat


def test_a_flood_of_joins_keeps_at_most_max_held() -> None:
    clock = Clock()
    store = MemoryStore(clock=clock)
    code, _ = store.create()
    for _ in range(MAX_HELD + 50):
        store.join(code)
        clock.now += 0.001
    assert store.wall(code).participants == MAX_HELD


def test_an_empty_room_closes_soon_and_a_used_one_does_not() -> None:
    clock = Clock()
    store = MemoryStore(clock=clock)
    empty, _ = store.create()
    used, _ = store.create()
    store.join(empty)  # a join alone does not make a room used
    store.submit(used, store.join(used), _run())
    clock.now += EMPTY_ROOM_SECONDS - 1
    store.wall(empty)  # an open wall keeps it
    clock.now += EMPTY_ROOM_SECONDS - 1
    store.pulse(empty)
    clock.now += 1
    _refused("unknown", lambda: store.wall(empty))
    assert store.wall(used).seated == 1


def test_a_burst_of_new_rooms_from_many_addresses_locks_no_one_out_for_long() -> None:
    clock = Clock()
    store = MemoryStore(clock=clock, max_rooms=50)
    for _ in range(50):
        store.create()
    _refused("busy", store.create)
    clock.now += EMPTY_ROOM_SECONDS
    store.create()  # the burst's rooms, never used, are gone


@given(
    burst=st.integers(1, 50),
    rate=st.floats(0.01, 500),
    waited=st.floats(0, 1_000),
)
def test_a_bucket_follows_its_closed_form(burst: int, rate: float, waited: float) -> None:
    """From empty, a bucket holds min(burst, rate·t) tokens after t seconds: that many actions succeed now."""
    limit = Limit("x", float(burst), rate, "tries")
    clock = Clock()
    store = MemoryStore(clock=clock)
    for _ in range(burst):
        store.limit(limit, "a")
    clock.now += waited
    tokens = min(burst, rate * waited)
    allowed = 0
    for _ in range(burst + 1):
        try:
            store.limit(limit, "a")
        except RoomError:
            break
        allowed += 1
    assert math.floor(tokens - 1e-6) <= allowed <= math.floor(tokens + 1e-6)  # the clock's float rounding aside


def test_take_says_how_long_until_a_token() -> None:
    limit = Limit("x", 2.0, 0.5, "tries")
    assert take(0.25, 0.0, 0.0, limit) == (0.25, 1.5)  # 0.75 token missing at 0.5 a second
    assert take(0.25, 0.0, 1.5, limit) == (0.0, 0.0)
    assert take(0.0, 0.0, 1e9, limit) == (1.0, 0.0)  # never more than the burst


def test_the_limits_let_a_real_hall_in() -> None:
    """At least 150 joins a second from one address (a hall behind one NAT), for ten seconds on end."""
    clock = Clock()
    store = MemoryStore(clock=clock)
    for _ in range(150 * 10):
        store.limit(JOINS, "203.0.113.7")
        clock.now += 1 / 150
    for _ in range(int(ROOMS.burst)):
        store.limit(ROOMS, "203.0.113.7")  # speakers trying things
    for _ in range(3):
        store.limit(RUNS, "ABCDEF:participant")  # a few learning rates in a row
    _refused("slow_down", lambda: store.limit(ROOMS, "203.0.113.7"))
    clock.now += 1 / ROOMS.rate
    store.limit(ROOMS, "203.0.113.7")  # the next room within a minute
    assert 1 / ROOMS.rate <= 60


# --- the Redis store: the same rules with Redis's clock, every key expiring -----------------------------


def test_redis_forgets_holds_and_every_key_expires(redis_url: str, redis_client) -> None:
    from lucky5.room import RedisStore

    store = RedisStore(redis_url)
    code, key = store.create()
    assert 0 < redis_client.ttl(f"lucky5:room:{code}:meta") <= EMPTY_ROOM_SECONDS  # empty: closes soon
    early, late = store.join(code), store.join(code)
    held = f"lucky5:room:{code}:held"
    redis_client.zincrby(held, -JOIN_HOLD_SECONDS, early)  # as if it joined two minutes earlier
    assert store.wall(code).participants == 1
    assert redis_client.zscore(held, early) is None and redis_client.zscore(held, late) is not None
    store.submit(code, late, _run())
    store.remove(code, key, _run().seed)
    store.submit(code, store.join(code), _run(4))
    store.limit(JOINS, "198.51.100.1")
    for k in redis_client.keys("*"):
        assert redis_client.ttl(k) > 0, k  # nothing outlives its room or its bucket
    assert redis_client.ttl(f"lucky5:room:{code}:meta") > EMPTY_ROOM_SECONDS  # someone trained: a used room
    assert 0 < redis_client.pttl("lucky5:limit:join:198.51.100.1") <= 1000 * JOINS.idle_seconds + 1
    store.close()


def test_redis_drops_expired_rooms_from_its_index_to_make_space(redis_url: str, redis_client) -> None:
    from lucky5.room import RedisStore

    store = RedisStore(redis_url, max_rooms=3)
    codes = [store.create()[0] for _ in range(3)]
    _refused("busy", store.create)
    redis_client.delete(f"lucky5:room:{codes[0]}:meta")  # as Redis does when an empty room's time is up
    store.create()
    assert redis_client.zscore("lucky5:rooms", codes[0]) is None
    store.close()
