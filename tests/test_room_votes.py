"""Tests of the votes on the stages' questions, in both stores (``make_store``: memory and a real Redis).

Oracle: a plain-Python model of a stage's vote (a dict of ballots per round, and the rules of the
``lucky5.room.votes`` docstring), against which any sequence of casts, changes, closes, reveals, skips and
"ask again" must give the same state and counts (Hypothesis).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lucky5 import room
from lucky5.room import QUESTIONS, MemoryStore, Poll, RedisStore, RoomError, votes
from tests.conftest import StoreFactory

Store = MemoryStore | RedisStore


def _refused(reason: str, call: Callable[[], object]) -> RoomError:
    with pytest.raises(RoomError) as err:
        call()
    assert err.value.reason == reason, str(err.value)
    return err.value


def test_predict_reveal_and_vote_again(make_store: StoreFactory) -> None:
    """Three phones vote; one changes its vote, one reloads; the wall sees how many voted, never what, until
    the reveal; a vote after the close is refused; asking again shows both rounds side by side."""
    store = make_store()
    code, key = store.create()
    a, b, c = (store.join(code) for _ in range(3))
    assert store.poll(code, "post") == Poll("post", 0, False, False, False, (0, 0), None, 0)
    _refused("vote_closed", lambda: store.cast(code, a, "post", "1-2"))  # not opened yet
    store.vote(code, key, "post", "open")
    assert store.cast(code, a, "post", "1-2") == ("1-2",)
    store.cast(code, b, "post", ["ge4.9"])
    store.cast(code, c, "post", "3-4")
    store.cast(code, b, "post", "2-3")  # b changes its mind
    assert store.join(code, again=c) == c and store.ballot(code, c, "post") == ("3-4",)  # c reloads
    poll = store.poll(code, "post")
    assert (poll.round, poll.open, poll.voted, poll.counts) == (1, True, (3, 0), None)
    store.vote(code, key, "post", "close")
    err = _refused("vote_closed", lambda: store.cast(code, a, "post", "lt1"))
    assert "closed" in str(err) and store.ballot(code, a, "post") == ("1-2",)
    store.vote(code, key, "post", "reveal")
    poll = store.poll(code, "post")
    ids = QUESTIONS["post"].ids
    assert poll.revealed and not poll.open and poll.counts is not None
    shown = dict(zip(ids, poll.counts[0], strict=True))
    assert shown == {"lt1": 0, "1-2": 1, "2-3": 1, "3-4": 1, "4-4.9": 0, "ge4.9": 0}
    # ask again: a fresh round 2, round 1 kept; nothing shown until the next reveal
    store.vote(code, key, "post", "open", 2)
    assert store.ballot(code, a, "post") == ()
    for p in (a, b, c):
        store.cast(code, p, "post", "1-2")
    poll = store.poll(code, "post")
    assert (poll.round, poll.open, poll.revealed, poll.voted, poll.counts) == (2, True, False, (3, 3), None)
    store.vote(code, key, "post", "reveal")
    counts = store.poll(code, "post").counts
    assert counts is not None and counts[0] == (0, 1, 1, 1, 0, 0) and counts[1] == (0, 3, 0, 0, 0, 0)
    _refused("vote_closed", lambda: store.cast(code, a, "post", "lt1"))


def test_several_learning_rates_in_one_vote(make_store: StoreFactory) -> None:
    store = make_store()
    code, key = store.create()
    a, b = store.join(code), store.join(code)
    store.set_stage(code, key, "lr")
    store.vote(code, key, "lr", "open")
    store.cast(code, a, "lr", ["0.4", "0.3", "0.25"])
    store.cast(code, b, "lr", ["0.4"])
    store.cast(code, a, "lr", ["0.3", "0.4"])  # a change removes the choice it drops
    _refused("bad_vote", lambda: store.cast(code, b, "lr", ["0.4", "0.4"]))
    _refused("bad_vote", lambda: store.cast(code, b, "lr", ["0.5"]))
    assert store.ballot(code, b, "lr") == ("0.4",)  # refused votes are never stored
    store.vote(code, key, "lr", "reveal")
    counts = store.poll(code, "lr").counts
    assert counts is not None
    assert dict(zip(QUESTIONS["lr"].ids, counts[0], strict=True)) == {
        "0.01": 0, "0.05": 0, "0.1": 0, "0.15": 0, "0.2": 0, "0.25": 0, "0.3": 1, "0.4": 2, "none": 0,
    }  # fmt: skip


def test_refusals_carry_their_reason(make_store: StoreFactory) -> None:
    store = make_store()
    code, key = store.create()
    p = store.join(code)
    stranger = "A" * 22  # well-formed, never joined
    _refused("no_vote", lambda: store.vote(code, key, "post", "close"))
    _refused("no_vote", lambda: store.vote(code, key, "post", "reveal"))
    _refused("no_vote", lambda: store.vote(code, key, "post", "open", 2))  # ask again needs a first vote
    _refused("bad_round", lambda: store.vote(code, key, "post", "open", 3))
    _refused("bad_round", lambda: store.vote(code, key, "post", "open", True))
    _refused("bad_round", lambda: store.vote(code, key, "post", "delete"))
    _refused("wrong_stage", lambda: store.vote(code, key, "lr", "open"))  # the room is at "post"
    _refused("wrong_key", lambda: store.vote(code, key[::-1], "post", "open"))
    _refused("bad_stage", lambda: store.vote(code, key, "<b>x</b>", "open"))
    _refused("unknown", lambda: store.vote("ABCDEF", key, "post", "open"))
    store.vote(code, key, "post", "open")
    _refused("unknown_participant", lambda: store.cast(code, "x" * 400, "post", "1-2"))  # a stranger's joins
    _refused("unknown_participant", lambda: store.cast(code, "not an id", "post", "1-2"))
    _refused("bad_vote", lambda: store.cast(code, p, "post", "<script>"))
    _refused("bad_vote", lambda: store.cast(code, p, "post", ["1-2", "2-3"]))  # a single-choice question
    _refused("wrong_stage", lambda: store.cast(code, p, "lr", "0.4"))
    _refused("unknown", lambda: store.cast("ABCDEF", p, "post", "1-2"))
    _refused("unknown", lambda: store.poll("ABCDEF", "post"))
    assert store.poll(code, "post").voted == (0, 0) and store.ballot(code, stranger, "post") == ()
    # the presenter moves on: the old question takes no votes, and keeps the ones it has
    store.cast(code, p, "post", "1-2")
    store.set_stage(code, key, "patience")
    err = _refused("wrong_stage", lambda: store.cast(code, p, "post", "2-3"))
    assert "Patience" in str(err)
    assert store.poll(code, "post").voted == (1, 0) and store.ballot(code, p, "post") == ("1-2",)
    # ... and its vote is closed in storage
    left = store.poll(code, "post")
    assert (left.round, left.open, left.revealed) == (1, False, False)
    store.vote(code, key, "post", "reveal")  # a closed vote can still be revealed
    assert store.poll(code, "post").counts == ((0, 1, 0, 0, 0, 0), (0, 0, 0, 0, 0, 0))
    # Coming back to the stage (its runs were cleared on the way out) starts its question afresh: a reveal
    # beside runs that are gone would answer for runs no one can see. Other stages' votes stay as they were.
    store.set_stage(code, key, "lr")
    store.vote(code, key, "lr", "open")
    store.set_stage(code, key, "post")
    back = store.poll(code, "post")
    assert (back.round, back.open, back.skipped, back.revealed, back.voted) == (0, False, False, False, (0, 0))
    assert back.version > left.version + 1 and back.counts is None  # a page comparing versions sees the change
    assert store.ballot(code, p, "post") == () and votes.train_waits(back) == votes.PREDICT_FIRST
    err = _refused("vote_closed", lambda: store.cast(code, p, "post", "2-3"))
    assert "not opened" in str(err)
    assert store.poll(code, "lr").round == 1  # the stage left keeps its (closed) vote
    store.vote(code, key, "post", "open")
    assert store.cast(code, p, "post", "2-3") == ("2-3",) and store.poll(code, "post").voted == (1, 0)


def test_a_skipped_question_takes_no_votes_until_it_is_opened_again(make_store: StoreFactory) -> None:
    store = make_store()
    code, key = store.create()
    p = store.join(code)
    store.vote(code, key, "post", "skip")
    err = _refused("vote_closed", lambda: store.cast(code, p, "post", "1-2"))
    assert "skipped" in str(err) and store.poll(code, "post").skipped
    store.vote(code, key, "post", "open")
    store.cast(code, p, "post", "1-2")
    poll = store.poll(code, "post")
    assert not poll.skipped and poll.open and poll.voted == (1, 0)


def test_train_waits_until_the_vote_is_closed_or_skipped(make_store: StoreFactory) -> None:
    """Predict, then see: a phone's Train waits while the stage's question waits to be opened and while its
    vote is open; it opens after the close (and stays open through the reveal), after a skip, and closes again
    while a second vote is open and in a stage the room moves on to, or after a reset."""
    store = make_store()
    code, key = store.create()

    def waits(stage: str = "post") -> str | None:
        return votes.train_waits(store.poll(code, stage))

    assert waits() == votes.PREDICT_FIRST  # the question is not opened yet: nobody has predicted
    store.vote(code, key, "post", "open")
    assert waits() == votes.VOTE_FIRST
    store.vote(code, key, "post", "close")
    assert waits() is None
    store.vote(code, key, "post", "open", 2)  # ask again: the second vote comes before training too
    assert waits() == votes.VOTE_FIRST
    store.vote(code, key, "post", "reveal")
    assert waits() is None
    store.set_stage(code, key, "patience")
    assert waits("patience") == votes.PREDICT_FIRST  # every stage opens with its own question
    store.vote(code, key, "patience", "skip")
    assert waits("patience") is None
    store.reset(code, key)
    assert waits(store.wall(code).stage) == votes.PREDICT_FIRST
    assert votes.PREDICT_FIRST != votes.VOTE_FIRST and "skip" in votes.PREDICT_FIRST


def test_opening_round_one_again_and_resetting_the_room_clear_the_votes(make_store: StoreFactory) -> None:
    store = make_store()
    code, key = store.create()
    p = store.join(code)
    store.vote(code, key, "post", "open")
    store.cast(code, p, "post", "1-2")
    store.vote(code, key, "post", "open", 2)
    store.cast(code, p, "post", "2-3")
    store.vote(code, key, "post", "open", 1)
    assert store.poll(code, "post").voted == (0, 0) and store.ballot(code, p, "post") == ()
    store.cast(code, p, "post", "1-2")
    store.reset(code, key)
    poll = store.poll(code, "post")
    assert (poll.round, poll.voted, poll.open) == (0, (0, 0), False)
    _refused("vote_closed", lambda: store.cast(code, p, "post", "1-2"))


def test_votes_cast_at_once_are_all_counted(make_store: StoreFactory) -> None:
    """Phones casting and changing at the same moment: the counts equal the ballots that stand, none lost."""
    store = make_store()
    code, key = store.create()
    store.set_stage(code, key, "lr")
    store.vote(code, key, "lr", "open")
    people = [store.join(code) for _ in range(24)]
    ids = QUESTIONS["lr"].ids
    first = [(ids[i % 8],) for i in range(24)]
    then = [(ids[(i + 3) % 8], ids[(i + 5) % 8]) if i % 2 else (ids[(i + 1) % 8],) for i in range(24)]
    votes = first + then  # every phone's second vote differs from its first
    barrier = threading.Barrier(24)
    errors: list[BaseException] = []

    def phone(i: int) -> None:
        barrier.wait()
        try:
            store.cast(code, people[i], "lr", list(votes[i]))
            store.cast(code, people[i], "lr", list(votes[24 + i]))  # every phone changes its vote once
        except BaseException as err:  # noqa: BLE001 - collected for the assertion
            errors.append(err)

    threads = [threading.Thread(target=phone, args=(i,)) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors and not any(t.is_alive() for t in threads)
    store.vote(code, key, "lr", "reveal")
    counts = store.poll(code, "lr").counts
    assert counts is not None and store.poll(code, "lr").voted == (24, 0)
    standing = [set(votes[24 + i]) for i in range(24)]
    assert counts[0] == tuple(sum(choice in v for v in standing) for choice in ids)
    assert all(store.ballot(code, p, "lr") == tuple(i for i in ids if i in standing[n]) for n, p in enumerate(people))


# --- any sequence of actions, against a plain-Python model -----------------------------------


class Model:
    """A stage's vote as the rules say, in plain Python: round, open, skipped, revealed, ballots per round."""

    def __init__(self) -> None:
        self.round, self.open, self.skipped, self.revealed = 0, False, False, False
        self.ballots: list[dict[int, tuple[str, ...]]] = [{}, {}]

    def apply(self, op: tuple) -> str | None:
        """Apply ``op``; the refusal's reason, or None."""
        if op[0] == "cast":
            _, who, choices, ok = op
            if not ok:
                return "bad_vote"
            if not self.open:
                return "vote_closed"
            self.ballots[self.round - 1][who] = choices
            return None
        action, round_ = op
        if action in ("close", "reveal") or (action == "open" and round_ == 2):
            if self.round == 0:
                return "no_vote"
        if action == "open":
            for r in range(round_, 3):
                self.ballots[r - 1] = {}
            self.round, self.open, self.skipped, self.revealed = round_, True, False, False
        elif action == "skip":
            self.open, self.skipped, self.revealed = False, True, False
        else:
            self.open, self.revealed = False, self.revealed or action == "reveal"
        return None


def _ops(stage: str) -> st.SearchStrategy[list[tuple]]:
    q = QUESTIONS[stage]
    alone = st.just([q.alone]) if q.alone else st.nothing()
    some = st.lists(st.sampled_from([i for i in q.ids if i != q.alone]), min_size=1, max_size=q.most, unique=True)
    valid = some | alone
    cast = st.tuples(st.just("cast"), st.integers(0, 3), valid, st.just(True))
    hostile = st.sampled_from([[], ["nope"], list(q.ids) * 2, list(q.ids[-2:])])
    bad = st.tuples(st.just("cast"), st.integers(0, 3), hostile, st.just(False))
    act = st.tuples(st.sampled_from(room.VOTE_ACTIONS), st.sampled_from(room.ROUNDS))
    return st.lists(st.one_of(cast, cast, cast, bad, act), max_size=30)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stage=st.sampled_from(["post", "lr"]), data=st.data())
def test_any_sequence_of_votes_counts_as_the_model_says(make_store: StoreFactory, stage: str, data) -> None:
    store = make_store(max_rooms=10_000)
    code, key = store.create()
    people = [store.join(code) for _ in range(4)]
    if stage != "post":
        store.set_stage(code, key, stage)
    model, ids = Model(), QUESTIONS[stage].ids
    for op in data.draw(_ops(stage)):
        reason = model.apply(op)
        if op[0] == "cast":
            call: Callable[[], object] = lambda op=op: store.cast(code, people[op[1]], stage, op[2])  # noqa: E731
        else:
            call = lambda op=op: store.vote(code, key, stage, op[0], op[1])  # noqa: E731
        if reason is None:
            call()
        else:
            _refused(reason, call)
        poll = store.poll(code, stage)
        assert (poll.round, poll.open, poll.skipped, poll.revealed) == (
            model.round,
            model.open,
            model.skipped,
            model.revealed,
        )
        assert poll.voted == (len(model.ballots[0]), len(model.ballots[1]))
        if model.revealed:
            assert poll.counts == tuple(
                tuple(sum(c in b for b in model.ballots[r].values()) for c in ids) for r in range(2)
            )
        else:
            assert poll.counts is None
        for who, p in enumerate(people):
            mine = model.ballots[model.round - 1].get(who, ()) if model.round else ()
            assert store.ballot(code, p, stage) == tuple(c for c in ids if c in mine)


# --- the Redis store: bounded, expiring keys, untrusted data ---------------------------------


def test_redis_votes_are_bounded_expire_with_the_room_and_parse_as_untrusted(redis_url: str, redis_client) -> None:
    store = RedisStore(redis_url)
    try:
        code, key = store.create()
        people = [store.join(code) for _ in range(5)]
        store.vote(code, key, "post", "open")
        for _ in range(3):  # changes replace a ballot, never add one
            for i, p in enumerate(people):
                store.cast(code, p, "post", QUESTIONS["post"].ids[i % 6])
        votes, poll = f"lucky5:room:{code}:votes", f"lucky5:room:{code}:poll"
        assert redis_client.hlen(votes) == 5 and redis_client.hlen(poll) <= 2 + 2 * (1 + 6)
        for k in (votes, poll):
            assert 0 < redis_client.ttl(k) <= room.ROOM_TTL_SECONDS
            redis_client.expire(k, 30)
        store.wall(code)  # activity renews the votes with the rest of the room
        assert redis_client.ttl(votes) > 30 and redis_client.ttl(poll) > 30
        assert all(b.decode().isascii() for b in redis_client.hvals(votes))  # plain ids, never pickles
        redis_client.hset(votes, f"post:1:{people[0]}", "<b>x</b>")
        _refused("unavailable", lambda: store.ballot(code, people[0], "post"))
        redis_client.hset(poll, "post:state", "9 9 9 9")
        _refused("unavailable", lambda: store.poll(code, "post"))
        redis_client.hset(poll, "post:state", "1 0 0 1")
        redis_client.hset(poll, "post:1:n", "-3")
        _refused("unavailable", lambda: store.poll(code, "post"))
    finally:
        store.close()


def test_two_redis_stores_share_the_votes(redis_url: str, redis_client) -> None:
    wall, phones = RedisStore(redis_url), RedisStore(redis_url)
    try:
        code, key = wall.create()
        p = phones.join(code)
        wall.vote(code, key, "post", "open")
        phones.cast(code, p, "post", "2-3")
        assert wall.poll(code, "post").voted == (1, 0) and phones.ballot(code, p, "post") == ("2-3",)
    finally:
        wall.close()
        phones.close()
