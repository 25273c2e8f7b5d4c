"""Tests of lucky5.room: run summaries, room codes, stages, and both stores under a crowd.

The Redis tests run against a real ``redis-server`` (Debian's /usr/bin/redis-server, which CI
installs) started by a fixture on a free loopback port, without persistence, and always stopped.
Without it they fail, never skip, so a CI that lost its Redis shows red.

Oracles: a Summary's numbers are checked against the History they came from with plain Python
arithmetic (sums of ``tolist()`` values, ``math.sqrt`` of squares), not with the code under test.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import threading
import time
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.harness import free_port, redis_server
from lucky5 import Config, room, train, train_many
from lucky5.config import MAX_EPOCHS, MAX_SEED, OPTIMIZERS
from lucky5.room import (
    CODE_ALPHABET,
    MAX_CURVE_POINTS,
    MAX_SUMMARY_BYTES,
    STAGES,
    Medians,
    MemoryStore,
    RedisStore,
    RoomError,
    Summary,
    Wall,
    blew_up,
    codes,
    counts_by_lr,
    curve_edges,
    median_curve,
    medians,
    normalize_code,
    participant_seed,
    redis_store,
    settled_runs,
    store_from_env,
    summarize,
)
from tests.conftest import StoreFactory

CROWD = 300


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def crowd_runs() -> list[Summary]:
    """CROWD real runs of the first stage, seeds 0..CROWD-1, trained in one batch."""
    config = STAGES["post"].config(seed=0)
    return [summarize(h) for h in train_many(config, seeds=range(CROWD))]


@pytest.fixture(scope="module")
def post_run() -> Summary:
    return summarize(train(STAGES["post"].config(seed=7)))


def _patience_run(seed: int = 0) -> Summary:
    """A Summary that fits the patience stage, without training 20,000 epochs (the curve is made up)."""
    return Summary(seed, "sgd", 0.01, 20_000, 0.5, 4.9, 0.1, None, (1, 20_000), (20.0, 0.5))


# --- summaries ------------------------------------------------------------------------------


def _bin_means(losses: list[float], edges: list[int]) -> list[float]:
    return [math.fsum(losses[a:b]) / (b - a) for a, b in zip(edges, edges[1:], strict=False)]


@pytest.mark.parametrize("epochs", [1, 7, 60, 61, 200, 20_000])
def test_summary_matches_its_history(epochs: int) -> None:
    history = train(Config(epochs=epochs, seed=3))
    s = summarize(history)
    losses = history.losses.tolist()
    weights = history.weights[-1].tolist()
    assert (s.seed, s.optimizer, s.lr, s.epochs, s.diverged_at) == (3, "sgd", 0.01, epochs, None)
    assert s.b == history.biases[-1].item()
    assert s.w_norm == pytest.approx(math.sqrt(math.fsum(w * w for w in weights)), rel=1e-15)
    assert s.final_loss == losses[-1]
    assert len(s.curve_steps) == min(epochs, MAX_CURVE_POINTS) == len(s.curve_losses)
    assert s.curve_steps[-1] == epochs and list(s.curve_steps) == sorted(set(s.curve_steps))
    if epochs <= MAX_CURVE_POINTS:  # every step is its own point
        assert list(s.curve_steps) == list(range(1, epochs + 1))
        assert list(s.curve_losses) == losses
    edges = [0, *s.curve_steps]
    assert list(s.curve_losses) == pytest.approx(_bin_means(losses, edges), rel=1e-12)
    # the bins partition the run: widths times means give back the total loss
    total = math.fsum((b - a) * y for a, b, y in zip(edges, edges[1:], s.curve_losses, strict=False))
    assert total == pytest.approx(math.fsum(losses), rel=1e-12)
    assert len(s.to_json()) <= MAX_SUMMARY_BYTES
    assert Summary.from_json(s.to_json()) == s


def test_long_run_curve_is_log_spaced() -> None:
    """Early bins are single steps (the fast drop), late ones thousands of steps (the crawl)."""
    edges = curve_edges(20_000)
    widths = [b - a for a, b in zip(edges, edges[1:], strict=False)]
    assert len(widths) == MAX_CURVE_POINTS and sum(widths) == 20_000
    assert max(widths[:10]) <= 2 and min(widths[-5:]) > 1_000
    # log-spaced in the tail: each edge about 19,941^(1/60) ≈ 1.18 times the one before
    ratios = [b / a for a, b in zip(edges[40:], edges[41:], strict=False)]
    assert all(1.15 < r < 1.21 for r in ratios), ratios


def test_diverged_run_is_summarized_with_finite_numbers() -> None:
    history = train(STAGES["lr"].config(seed=1, lr=0.4))
    assert history.diverged_at is not None  # lr 0.4 is above theory.critical_lr(0.1) ≈ 0.309
    s = summarize(history)
    assert s.diverged and s.diverged_at == history.diverged_at == s.steps
    assert s.curve_steps[-1] == s.diverged_at and len(s.curve_steps) <= MAX_CURVE_POINTS
    assert s.final_loss is not None
    assert all(math.isfinite(v) for v in (*s.curve_losses, s.b, s.w_norm, s.final_loss))
    assert s.final_loss == history.losses[-1].item() and s.b == history.biases[-1].item()
    raw = s.to_json()
    assert len(raw) <= MAX_SUMMARY_BYTES and b"NaN" not in raw and b"Infinity" not in raw
    assert Summary.from_json(raw) == s
    assert STAGES["lr"].problem(s) is None


def test_a_run_that_never_finished_a_step_round_trips() -> None:
    s = Summary(5, "adam", 10.0, 3, None, 0.1, 0.2, 0, (), ())
    assert s.steps == 0 and Summary.from_json(s.to_json()) == s


def test_the_largest_summary_fits_in_4_kb() -> None:
    """Every field at its longest JSON form: the bound holds for any valid Summary."""
    long = -1.2345678901234567e-300
    s = Summary(
        seed=MAX_SEED,
        optimizer=max(OPTIMIZERS, key=len),
        lr=1.2345678901234567e-300,
        epochs=MAX_EPOCHS,
        final_loss=-long,
        b=long,
        w_norm=-long,
        diverged_at=MAX_EPOCHS - 1,
        curve_steps=tuple(range(MAX_EPOCHS - MAX_CURVE_POINTS, MAX_EPOCHS)),
        curve_losses=(-long,) * MAX_CURVE_POINTS,
    )
    assert len(repr(long)) == 24  # the longest repr of a float
    assert len(s.to_json()) <= MAX_SUMMARY_BYTES


_finite = st.floats(allow_nan=False, allow_infinity=False)
_nonneg = st.floats(min_value=0, allow_nan=False, allow_infinity=False)


@st.composite
def summaries(draw: st.DrawFn) -> Summary:
    epochs = draw(st.integers(1, MAX_EPOCHS))
    diverged = draw(st.none() | st.integers(0, epochs - 1))
    steps = epochs if diverged is None else diverged
    xs = sorted(draw(st.sets(st.integers(1, max(1, steps - 1)), max_size=MAX_CURVE_POINTS - 1))) if steps else []
    xs = [x for x in xs if x < steps] + ([steps] if steps else [])
    return Summary(
        seed=draw(st.integers(0, MAX_SEED)),
        optimizer=draw(st.sampled_from(OPTIMIZERS)),
        lr=draw(st.floats(min_value=1e-300, max_value=10.0)),
        epochs=epochs,
        final_loss=draw(_nonneg) if steps else None,
        b=draw(_finite),
        w_norm=draw(_nonneg),
        diverged_at=diverged,
        curve_steps=tuple(xs),
        curve_losses=tuple(draw(st.lists(_nonneg, min_size=len(xs), max_size=len(xs)))),
    )


@settings(max_examples=200, deadline=None)
@given(summaries())
def test_summary_json_round_trip(s: Summary) -> None:
    raw = s.to_json()
    assert len(raw) <= MAX_SUMMARY_BYTES
    assert Summary.from_json(raw) == s
    assert Summary.from_json(raw.decode()) == s


def _valid() -> dict:
    return json.loads(_patience_run().to_json())


def _with(**changes) -> bytes:
    return json.dumps({**_valid(), **changes}).encode()


HOSTILE = {
    "empty": b"",
    "not json": b"{seed: 1}",
    "invalid utf-8": b'{"seed": "\xff"}',
    "a list": b"[1, 2]",
    "a number": b"5",
    "nan": _with(b=float("nan")),
    "infinity": _with(w_norm=float("inf")),
    "1e999": _with(b=1).replace(b'"b": 1', b'"b": 1e999'),
    "huge int": _with(seed=1).replace(b'"seed": 1,', b'"seed": ' + b"9" * 3000 + b","),
    "int too big for a float": _with(b=10**400),
    "negative seed": _with(seed=-1),
    "seed too large": _with(seed=MAX_SEED + 1),
    "bool seed": _with(seed=True),
    "string lr": _with(lr="0.01"),
    "lr zero": _with(lr=0),
    "lr above max": _with(lr=11.0),
    "unknown optimizer": _with(optimizer="sgd<script>"),
    "lone surrogate": _with(optimizer="\ud800"),
    "optimizer as list": _with(optimizer=["sgd"]),
    "epochs zero": _with(epochs=0),
    "epochs float": _with(epochs=200.0),
    "diverged past the end": _with(diverged_at=20_000),
    "negative loss": _with(final_loss=-1.0),
    "null loss after steps": _with(final_loss=None),
    "negative norm": _with(w_norm=-0.1),
    "curve too long": _with(curve_steps=list(range(1, 62)), curve_losses=[0.0] * 61, epochs=61),
    "curve lengths differ": _with(curve_losses=[1.0]),
    "curve not increasing": _with(curve_steps=[20_000, 20_000], curve_losses=[1.0, 1.0]),
    "curve past the end": _with(curve_steps=[1, 20_001], curve_losses=[1.0, 1.0]),
    "curve not ending at the last step": _with(curve_steps=[1, 2], curve_losses=[1.0, 1.0]),
    "curve not a list": _with(curve_steps="1,20000"),
    "curve with strings": _with(curve_losses=["1", "2"]),
    "curve of nested lists": _with(curve_steps=[[1], [20_000]]),
    "missing key": json.dumps({k: v for k, v in _valid().items() if k != "b"}).encode(),
    "extra key": _with(label="**bold** [link](http://x)"),
    "duplicate key": _with().replace(b'{"seed": 0', b'{"seed": 0, "seed": 1'),
    "too large": _with(pad=" " * MAX_SUMMARY_BYTES),
    "deep nesting": b"[" * 2000 + b"]" * 2000,
    "deep nesting unclosed": b"[" * MAX_SUMMARY_BYTES,
}


@pytest.mark.parametrize("raw", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_summaries_are_refused_with_a_reason(raw: bytes) -> None:
    with pytest.raises(RoomError) as err:
        Summary.from_json(raw)
    assert err.value.reason == "bad_summary" and isinstance(err.value, ValueError)
    assert str(err.value).startswith("Not a run summary:") and len(str(err.value)) < 300


def test_hostile_text_and_types_are_refused() -> None:
    for raw in ("x" * (MAX_SUMMARY_BYTES + 1), None, 5, ["a"]):
        with pytest.raises(RoomError):
            Summary.from_json(raw)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_any_bytes_parse_or_are_refused(raw: bytes) -> None:
    try:
        Summary.from_json(raw)
    except RoomError as err:
        assert err.reason == "bad_summary"


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(_valid())), _json)
def test_any_field_value_parses_or_is_refused(name: str, value: object) -> None:
    try:
        raw = json.dumps({**_valid(), name: value}).encode()
    except ValueError:
        return
    try:
        s = Summary.from_json(raw)
    except RoomError as err:
        assert err.reason == "bad_summary"
    else:
        assert len(s.to_json()) <= MAX_SUMMARY_BYTES and Summary.from_json(s.to_json()) == s


# --- the wall's rules -----------------------------------------------------------------------


def _three_epochs(lr: float, b: float, w_norm: float, losses: tuple[float, ...], diverged_at: int | None = None):
    steps = tuple(range(1, len(losses) + 1))
    return Summary(1, "sgd", lr, 3, losses[-1], b, w_norm, diverged_at, steps, losses)


def test_the_walls_medians_and_counts_leave_out_the_runs_that_blew_up() -> None:
    calm = [
        _three_epochs(0.01, 4.0, 1.0, (9.0, 4.0, 1.0)),
        _three_epochs(0.01, 5.0, 3.0, (8.0, 2.0, 0.5)),
        _three_epochs(0.05, 4.5, 0.5, (16.0, 3.0, 2.0)),
    ]
    grew = _three_epochs(0.05, 100.0, 90.0, (1.0, 2.0, 3.0))  # finished, but its loss ended above its start
    overflowed = _three_epochs(0.05, 200.0, 80.0, (1.0, 50.0), diverged_at=2)
    runs = (calm[0], grew, calm[1], overflowed, calm[2])
    assert [blew_up(r) for r in runs] == [False, True, False, True, False]
    assert settled_runs(runs) == tuple(calm)
    # the middle of three, by hand: b of 4.0, 4.5, 5.0; ‖w‖ of 0.5, 1.0, 3.0; the loss at each step
    assert medians(runs) == Medians(b=4.5, w_norm=1.0, runs=3)
    assert median_curve(runs) == ((1, 2, 3), [9.0, 3.0, 1.0])
    assert counts_by_lr(runs, (0.01, 0.05, 0.1)) == [(0.01, 2, 0), (0.05, 1, 2), (0.1, 0, 0)]
    wall = Wall(stage="lr", participants=7, runs=runs)
    assert wall.settled == tuple(calm) and wall.blown_up == 2 and wall.medians == medians(runs)
    lost = Wall(stage="lr", participants=2, runs=(grew, overflowed))
    assert lost.settled == () and lost.blown_up == 2 and lost.medians is None and median_curve(lost.runs) is None


# --- codes and stages -----------------------------------------------------------------------


def test_codes_accept_lower_case_and_surrounding_spaces() -> None:
    assert normalize_code("  abc234 \n") == "ABC234"
    assert normalize_code("ZZ9988") == "ZZ9988"


@pytest.mark.parametrize(
    "text", ["", "ABC23", "ABC2345", "ABC 23", "ABCDE0", "ABCDEO", "ABCDE1", "ABCDEI", "ABC-23", "ÄBC234", "x" * 10_000]
)
def test_anything_else_is_not_a_code(text: str) -> None:
    with pytest.raises(RoomError) as err:
        normalize_code(text)
    assert err.value.reason == "bad_code" and "A room code is 6 characters" in str(err.value)
    assert "x" * 10 not in str(err.value)  # the input is not echoed


def test_non_text_is_not_a_code() -> None:
    with pytest.raises(RoomError, match="A room code"):
        normalize_code(None)


def test_codes_are_distinct_and_from_the_alphabet_keys_are_long() -> None:
    store = MemoryStore(max_rooms=3_000)
    made = [store.create() for _ in range(3_000)]
    codes = [c for c, _ in made]
    assert len(set(codes)) == len(codes)
    assert all(len(c) == 6 and set(c) <= set(CODE_ALPHABET) for c in codes)
    assert set(CODE_ALPHABET) == set("ABCDEFGHIJKLMNOPQRSTUVWXYZ23456789") - set("0O1I")
    # 3,000 codes use every character of the alphabet: they are drawn from all of it
    assert set("".join(codes)) == set(CODE_ALPHABET)
    keys = [k for _, k in made]
    assert len(set(keys)) == len(keys)
    assert all(len(base64.urlsafe_b64decode(k + "==")) * 8 >= 128 for k in keys)


def test_a_drawn_code_that_is_taken_is_drawn_again(monkeypatch: pytest.MonkeyPatch) -> None:
    store = MemoryStore()
    draws = iter("AAAAAA" + "AAAAAA" + "BBBBBB")
    monkeypatch.setattr(codes.secrets, "choice", lambda alphabet: next(draws))
    first, _ = store.create()
    second, _ = store.create()
    assert (first, second) == ("AAAAAA", "BBBBBB")


def test_stages_are_configs_the_page_and_tests_share() -> None:
    assert list(STAGES) == ["post", "patience", "lr"] and room.FIRST_STAGE == "post"
    post = STAGES["post"].config(seed=42)
    assert post == Config(seed=42)  # the blog post's settings, the participant's own seed
    assert STAGES["patience"].config(seed=1) == Config(epochs=20_000, seed=1)
    lr = STAGES["lr"]
    assert lr.config(seed=2, lr=0.25) == Config(epochs=2_000, seed=2, lr=0.25)
    assert min(lr.lrs) < room_theory_limit() < max(lr.lrs)
    with pytest.raises(RoomError) as err:
        lr.config(seed=2, lr=0.26)
    assert err.value.reason == "bad_lr"
    with pytest.raises(RoomError):
        STAGES["post"].config(seed=2, lr=0.3)
    assert STAGES["post"].config(seed=2, lr=0.01) == Config(seed=2)
    with pytest.raises(RoomError):
        STAGES["post"].config(seed=-1)


def room_theory_limit() -> float:
    from lucky5 import theory

    return theory.sgd_critical_lr(1, 0.1)


def test_a_run_fits_only_its_own_stage(post_run: Summary) -> None:
    assert STAGES["post"].problem(post_run) is None
    assert STAGES["patience"].problem(post_run) is not None
    assert STAGES["lr"].problem(post_run) is not None
    assert STAGES["patience"].problem(_patience_run()) is None
    with pytest.raises(RoomError) as err:
        room.check_stage("final")
    assert err.value.reason == "bad_stage"


# --- both stores ----------------------------------------------------------------------------


def test_a_room_from_create_to_wall(make_store: StoreFactory, post_run: Summary) -> None:
    store = make_store()
    code, key = store.create()
    wall = store.wall(code)
    assert (wall.stage, wall.participants, wall.runs) == ("post", 0, ())
    alice, bob = store.join(code), store.join(f"  {code.lower()} ")
    assert alice != bob and all(len(p) == 22 for p in (alice, bob))
    store.submit(code, alice, post_run)
    wall = store.wall(code)
    assert (wall.participants, wall.runs, wall.invalid) == (2, (post_run,), 0)
    # a participant who trains again replaces their run
    again = summarize(train(STAGES["post"].config(seed=8)))
    store.submit(code, alice, again)
    store.submit(code.lower(), bob, post_run)
    assert sorted(store.wall(code).runs, key=lambda s: s.seed) == [post_run, again]


def test_a_phone_that_joins_again_with_its_id_is_counted_once_and_keeps_its_run(
    make_store: StoreFactory, post_run: Summary
) -> None:
    store, roomy = make_store(max_participants=2), make_store()
    code, _ = store.create()
    other_code, _ = roomy.create()
    alice = store.join(code)
    store.submit(code, alice, post_run)
    assert store.join(code, again=alice) == alice  # a reload: the same participant, not a second one
    bob = store.join(code.lower(), again=None)
    store.submit(code, bob, post_run)  # two seats taken: the room is full
    assert store.join(code, again=bob) == bob  # the room is full, yet its own members get back in
    wall = store.wall(code)
    assert (wall.participants, wall.runs) == (2, (post_run, post_run))
    with pytest.raises(RoomError) as full:
        store.join(code, again="x" * 22)  # well-formed, never joined: a new participant, and there is no room
    assert full.value.reason == "full"
    # Ids that are not this room's join afresh: another room's member, mangled or hostile text.
    for stranger in (alice, "../../etc", "", "x" * 400, None):
        joined = roomy.join(other_code, again=stranger)
        assert joined != stranger and len(joined) == 22
    assert roomy.wall(other_code).participants == 5


def test_a_participants_seed_comes_from_their_id() -> None:
    store = MemoryStore()
    code, _ = store.create()
    ids = [store.join(code) for _ in range(64)]
    seeds = [participant_seed(p) for p in ids]
    assert seeds == [participant_seed(p) for p in ids]  # the same id, the same seed, in any process
    assert len(set(seeds)) == 64 and all(0 <= s <= MAX_SEED for s in seeds)
    # The oracle: the first four bytes of SHA-256 of the id, big-endian.
    assert participant_seed("A" * 22) == int(hashlib.sha256(b"A" * 22).hexdigest()[:8], 16)


def test_refusals_carry_their_reason(make_store: StoreFactory, post_run: Summary) -> None:
    store = make_store()
    code, key = store.create()
    other_code, other_key = store.create()
    someone = store.join(code)
    unknown = "ABCDEF" if code != "ABCDEF" and other_code != "ABCDEF" else "ABCDEG"
    cases: dict[str, list[Callable[[], object]]] = {
        "unknown": [lambda: store.join(unknown), lambda: store.wall(unknown), lambda: store.reset(unknown, key)],
        "bad_code": [lambda: store.join("ABC"), lambda: store.wall("0OOO11")],
        "unknown_participant": [
            # (a well-formed id that never joined takes a seat with its run: tests/test_room_seats.py)
            lambda: store.submit(code, "x" * 400, post_run),
            lambda: store.submit(code, None, post_run),  # type: ignore[arg-type]
            lambda: store.submit(code, "../../etc", post_run),
        ],
        "wrong_key": [
            lambda: store.set_stage(code, other_key, "patience"),
            lambda: store.set_stage(code, key[:-1], "patience"),
            lambda: store.set_stage(code, "", "patience"),
            lambda: store.set_stage(code, "é" * 32, "patience"),
            lambda: store.reset(code, None),  # type: ignore[arg-type]
            lambda: store.reset(code, key + "x" * 100),
        ],
        "bad_stage": [lambda: store.set_stage(code, key, "final"), lambda: store.set_stage(code, key, None)],  # type: ignore[arg-type]
        "wrong_stage": [lambda: store.submit(code, someone, _patience_run())],
        "bad_summary": [lambda: store.submit(code, someone, post_run.to_json())],  # type: ignore[arg-type]
    }
    for reason, calls in cases.items():
        for call in calls:
            with pytest.raises(RoomError) as err:
                call()
            assert err.value.reason == reason, (reason, str(err.value))
            assert str(err.value)
    wall = store.wall(code)
    assert (wall.stage, wall.participants, wall.runs) == ("post", 1, ())  # nothing changed


def test_a_room_lost_in_a_restart_of_the_store_is_told_apart_from_an_unknown_one(make_store: StoreFactory) -> None:
    before = time.time()
    store = make_store()
    started = store.started_at()
    assert started <= time.time() + 1  # the store's own clock: Redis's TIME less its uptime, or this process's
    code, _ = store.create()
    # A page that saw the room before the store started again: lost in the restart, said with the time.
    lost = room.gone(code, started - 120, started, started + 180)
    assert lost.reason == "lost" and code in str(lost) and "3 minutes ago" in str(lost)
    assert "restarted" in str(lost) and "rooms close after" not in str(lost)
    # Seen after the start (closed since), or never seen (a mistyped code): the usual refusal, naming idle hours.
    for seen in (started + 1, None):
        unknown = room.gone(code, seen, started, started + 180)
        assert unknown.reason == "unknown" and "idle hours" in str(unknown)
    assert before - 2 <= started or isinstance(store, room.RedisStore)  # a MemoryStore starts when it is made


def test_a_real_redis_restarted_without_persistence_loses_the_room_and_says_when() -> None:
    port = free_port()
    with redis_server(port=port) as url:
        store = RedisStore(url)
        code, _ = store.create()
        # Seen late in a second, and the restart within it: Redis's uptime counts whole seconds, and its start
        # must still come out after this sight of the room (it once came out up to a second before).
        time.sleep(0.75 - time.time() % 1 if time.time() % 1 < 0.75 else 1.75 - time.time() % 1)
        store.wall(code)
        seen = time.time()
    with redis_server(port=port):  # the README's old `--save '' --appendonly no`: back empty
        time.sleep(1.1 - time.time() % 1)  # asked early in the next second
        deadline = time.monotonic() + 20
        while True:  # the first call may meet a connection to the stopped server (``unavailable``)
            try:
                store.wall(code)
                pytest.fail("the room outlived a Redis that keeps nothing")
            except RoomError as refused:
                err = refused
            if err.reason != "unavailable" or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert err.reason == "unknown"
        started = store.started_at()
        assert seen < started <= time.time() + 1  # Redis started after the room was seen
        assert room.gone(code, seen, started, time.time()).reason == "lost"
        store.close()


def test_a_presenter_links_token_works_once_and_only_for_its_key(make_store: StoreFactory) -> None:
    store = make_store()
    code, key = store.create()
    _, other_key = store.create()
    with pytest.raises(RoomError) as err:
        store.issue_token(code, other_key)  # only the room's own key issues a link into it
    assert err.value.reason == "wrong_key"
    tokens = [store.issue_token(code, key) for _ in range(3)]
    assert len(set(tokens)) == 3 and all(len(t) == 32 and key not in t and code not in t for t in tokens)
    assert store.redeem_token(tokens[1]) == (code, key)
    for token, reason in ((tokens[1], "used_token"), ("A" * 32, "unknown_token"), ("<b>x</b>", "unknown_token")):
        with pytest.raises(RoomError) as err:
            store.redeem_token(token)
        assert err.value.reason == reason and "presenter link" in str(err.value)
    assert store.redeem_token(tokens[0]) == (code, key)  # the others still work, once each
    assert store.redeem_token(tokens[2]) == (code, key)


def test_only_one_of_many_browsers_racing_on_a_token_gets_the_key(make_store: StoreFactory) -> None:
    store = make_store()
    code, key = store.create()
    token = store.issue_token(code, key)
    got: list[object] = []
    start = threading.Barrier(8)

    def open_link() -> None:
        start.wait(timeout=10)
        try:
            got.append(store.redeem_token(token))
        except RoomError as err:
            got.append(err.reason)

    threads = [threading.Thread(target=open_link) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert sorted(map(str, got)) == sorted([str((code, key))] + ["used_token"] * 7)


def test_a_key_is_checked_with_a_read_alone(make_store: StoreFactory, post_run: Summary) -> None:
    store = make_store()
    code, key = store.create()
    other_code, other_key = store.create()
    store.submit(code, store.join(code), post_run)
    before = store.pulse(code)
    store.verify_key(code, key)
    for wrong in (other_key, key[:-1], "", None, key + "x"):
        with pytest.raises(RoomError) as err:
            store.verify_key(code, wrong)  # type: ignore[arg-type]
        assert err.value.reason == "wrong_key"
    with pytest.raises(RoomError) as err:
        store.verify_key("ABCDEF" if "ABCDEF" not in (code, other_code) else "ABCDEG", key)
    assert err.value.reason == "unknown"
    assert store.pulse(code) == before  # nothing written: the same stage, runs and version


def test_the_presenter_drives_the_stages(make_store: StoreFactory, post_run: Summary) -> None:
    store = make_store()
    code, key = store.create()
    p = store.join(code)
    store.submit(code, p, post_run)
    store.set_stage(code, key, "post")  # the same stage keeps its runs
    assert store.wall(code).runs == (post_run,)
    store.set_stage(code, key, "patience")  # a new stage starts empty
    wall = store.wall(code)
    assert (wall.stage, wall.participants, wall.runs) == ("patience", 1, ())
    with pytest.raises(RoomError, match="Patience") as err:  # a run trained for the old stage
        store.submit(code, p, post_run)
    assert err.value.reason == "wrong_stage"
    store.submit(code, p, _patience_run())
    assert store.wall(code).runs == (_patience_run(),)
    store.reset(code, key)  # back to the first stage, runs cleared, participants kept
    wall = store.wall(code)
    assert (wall.stage, wall.participants, wall.runs) == ("post", 1, ())
    store.submit(code, p, post_run)
    assert store.wall(code).runs == (post_run,)


def _at_once(n: int, work: Callable[[int], object]) -> list[object]:
    """Run work(0..n-1) in n threads released together; returns results or exceptions."""
    barrier = threading.Barrier(n)
    out: list[object] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            out[i] = work(i)
        except Exception as err:  # noqa: BLE001 - collected for the assertions
            out[i] = err

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return out


def test_a_crowd_joining_and_submitting_at_once_loses_nothing(
    make_store: StoreFactory, crowd_runs: list[Summary]
) -> None:
    store = make_store()
    code, _ = store.create()

    def phone(i: int) -> str:
        participant = store.join(code)
        store.submit(code, participant, crowd_runs[i])
        store.wall(code)  # the phone compares itself with the room, while others still join
        return participant

    out = _at_once(CROWD, phone)
    errors = [o for o in out if isinstance(o, Exception)]
    assert not errors, errors[:3]
    assert len(set(out)) == CROWD  # every participant id is distinct
    wall = store.wall(code)
    assert wall.participants == CROWD and len(wall.runs) == CROWD
    assert sorted(wall.runs, key=lambda s: s.seed) == crowd_runs


def test_a_full_room_refuses_more_even_when_they_arrive_together(make_store: StoreFactory) -> None:
    """Seats are taken by runs (``seats``): 60 phones that joined train at once, and exactly 5 get a seat."""
    store = make_store(max_participants=5)
    code, _ = store.create()
    run = _short_post_run()
    out = _at_once(60, lambda i: store.submit(code, store.join(code), run))
    seated = [o for o in out if o is None]
    refused = [o for o in out if isinstance(o, RoomError)]
    assert len(seated) == 5 and len(refused) == 55
    assert all(e.reason == "full" and "5 people" in str(e) for e in refused)
    wall = store.wall(code)
    assert (wall.seated, len(wall.runs)) == (5, 5)
    with pytest.raises(RoomError, match="full"):
        store.join(code)


def test_wrong_keys_from_a_crowd_change_nothing(make_store: StoreFactory) -> None:
    store = make_store()
    code, key = store.create()
    out = _at_once(50, lambda i: store.set_stage(code, codes.new_key(), "lr"))
    assert all(isinstance(o, RoomError) and o.reason == "wrong_key" for o in out)
    assert store.wall(code).stage == "post"
    store.set_stage(code, key, "lr")
    assert store.wall(code).stage == "lr"


# --- the in-memory store: expiry and the room cap, with an injected clock --------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def _seated(store: MemoryStore | RedisStore) -> str:
    """A new room where someone trained (a room in use: an empty one closes within minutes, ``seats``)."""
    code, _ = store.create()
    store.submit(code, store.join(code), _short_post_run())
    return code


def test_idle_rooms_expire_and_activity_keeps_them() -> None:
    clock = Clock()
    store = MemoryStore(clock=clock)
    code, key = store.create()
    p = store.join(code)
    store.submit(code, p, _short_post_run())
    clock.now += room.ROOM_TTL_SECONDS - 1
    store.wall(code)  # activity: the idle time starts again
    clock.now += room.ROOM_TTL_SECONDS - 1
    assert store.wall(code).participants == 1
    clock.now += room.ROOM_TTL_SECONDS
    for call in (lambda: store.wall(code), lambda: store.join(code), lambda: store.submit(code, p, _patience_run())):
        with pytest.raises(RoomError) as err:
            call()
        assert err.value.reason == "unknown" and "idle hours" in str(err.value)


def test_the_room_idle_longest_closes_first() -> None:
    clock = Clock()
    store = MemoryStore(clock=clock, max_rooms=3)
    codes = []
    for _ in range(3):
        codes.append(_seated(store))
        clock.now += room.MIN_IDLE_TO_CLOSE_SECONDS
    store.join(codes[0])  # the oldest room is in use; the second is now idle the longest
    clock.now += 10
    fourth, _ = store.create()
    for code in (codes[0], codes[2], fourth):
        store.wall(code)
    with pytest.raises(RoomError, match="no room"):
        store.wall(codes[1])


# --- the Redis store ------------------------------------------------------------------------


def test_two_redis_stores_share_a_room(redis_url: str, redis_client, crowd_runs: list[Summary]) -> None:
    """Two server processes' stores: one creates, the other joins and submits, the first sees it."""
    presenter, phones = RedisStore(redis_url), RedisStore(redis_url)
    try:
        code, key = presenter.create()
        people = [phones.join(code) for _ in range(3)]
        for p, run in zip(people, crowd_runs, strict=False):
            phones.submit(code, p, run)
        wall = presenter.wall(code)
        assert wall.participants == 3 and sorted(wall.runs, key=lambda s: s.seed) == crowd_runs[:3]
        presenter.set_stage(code, key, "patience")
        assert phones.wall(code).stage == "patience" and phones.wall(code).runs == ()
        with pytest.raises(RoomError) as err:
            phones.set_stage(code, key[::-1], "lr")
        assert err.value.reason == "wrong_key"
    finally:
        presenter.close()
        phones.close()


def test_redis_keys_are_namespaced_expire_and_activity_renews_them(redis_url: str, redis_client) -> None:
    store = RedisStore(redis_url)
    code, _ = store.create()
    p = store.join(code)
    store.submit(code, p, _short_post_run())
    keys = {k.decode() for k in redis_client.keys("*")}
    assert keys == {f"lucky5:room:{code}:{part}" for part in ("meta", "people", "runs", "seats")} | {"lucky5:rooms"}
    for k in keys:
        assert 0 < redis_client.ttl(k) <= room.ROOM_TTL_SECONDS
    for k in keys:
        redis_client.expire(k, 30)
    store.wall(code)  # activity renews every key of the room
    assert all(redis_client.ttl(k) > 30 for k in keys)
    # values are JSON and plain strings, never pickles
    assert Summary.from_json(redis_client.hget(f"lucky5:room:{code}:runs", p)) == _short_post_run()
    redis_client.delete(*[k for k in keys if k != "lucky5:rooms"])  # as Redis does when the TTL ends
    with pytest.raises(RoomError) as err:
        store.join(code)
    assert err.value.reason == "unknown"
    store.close()


def _short_post_run() -> Summary:
    return Summary(9, "sgd", 0.01, 200, 0.5, 1.7, 2.0, None, (1, 200), (20.0, 0.5))


def _is_open(store: MemoryStore, code: str) -> bool:
    try:
        store.wall(code)
    except RoomError:
        return False
    return True


def test_a_burst_of_new_rooms_never_closes_a_room_in_use() -> None:
    """Anyone can open ?room=new: at the cap, rooms used recently stay and creating is refused instead."""
    clock = Clock()
    store = MemoryStore(clock=clock, max_rooms=3)
    codes = [_seated(store) for _ in range(3)]
    clock.now += room.MIN_IDLE_TO_CLOSE_SECONDS - 1
    with pytest.raises(RoomError, match="in use") as err:
        store.create()
    assert err.value.reason == "busy"
    for code in codes:
        assert store.wall(code).participants == 1  # every room is still open
    clock.now += room.MIN_IDLE_TO_CLOSE_SECONDS - 1  # the walls read just now count as use
    with pytest.raises(RoomError, match="in use"):
        store.create()
    clock.now += 1  # now the first room has been idle long enough to make space
    store.create()
    assert sum(_is_open(store, code) for code in codes) == 2


def test_redis_refuses_a_new_room_while_every_room_is_in_use(redis_url: str, redis_client) -> None:
    store = RedisStore(redis_url, max_rooms=3)
    redis_client.flushdb()
    codes = [_seated(store) for _ in range(3)]
    with pytest.raises(RoomError) as err:
        store.create()
    assert err.value.reason == "busy"
    assert all(store.wall(code).stage == "post" for code in codes)
    assert redis_client.zcard("lucky5:rooms") == 3
    store.close()


def test_redis_closes_the_room_idle_longest(redis_url: str, redis_client, monkeypatch) -> None:
    monkeypatch.setattr(redis_store, "MIN_IDLE_TO_CLOSE_SECONDS", 0)  # Redis keeps real time: no half-hour wait here
    store = RedisStore(redis_url, max_rooms=3)
    codes = [_seated(store) for _ in range(3)]
    store.join(codes[0])
    fourth, _ = store.create()
    for code in (codes[0], codes[2], fourth):
        store.wall(code)
    with pytest.raises(RoomError, match="no room"):
        store.wall(codes[1])
    assert redis_client.keys(f"lucky5:room:{codes[1]}:*") == []
    assert redis_client.zcard("lucky5:rooms") == 3
    store.close()


def test_redis_data_is_parsed_as_untrusted(redis_url: str, redis_client, post_run: Summary) -> None:
    store = RedisStore(redis_url)
    code, key = store.create()
    p = store.join(code)
    store.submit(code, p, post_run)
    runs = f"lucky5:room:{code}:runs"
    redis_client.hset(runs, "forged1", b'{"seed": NaN}')
    redis_client.hset(runs, "forged2", b"\x80\x04\x95 a pickle")
    wall = store.wall(code)
    assert wall.runs == (post_run,) and wall.invalid == 2
    redis_client.hset(f"lucky5:room:{code}:meta", "stage", "<b>final</b>")
    with pytest.raises(RoomError) as err:
        store.wall(code)
    assert err.value.reason == "unavailable"
    store.close()


def test_an_unreachable_redis_is_a_clear_refusal() -> None:
    store = RedisStore(f"redis://127.0.0.1:{free_port()}/0")
    with pytest.raises(RoomError) as err:
        store.create()
    assert err.value.reason == "unavailable" and "not answering" in str(err.value)
    with pytest.raises(RoomError) as err:
        store.set_stage("ABCDEF", "k", "post")
    assert err.value.reason == "unavailable"


def test_store_from_env(redis_url: str, redis_client) -> None:
    assert isinstance(store_from_env({}), MemoryStore)
    assert isinstance(store_from_env({"LUCKY5_REDIS_URL": "  "}), MemoryStore)
    store = store_from_env({"LUCKY5_REDIS_URL": redis_url})
    assert isinstance(store, RedisStore)
    code, _ = store.create()
    assert store.wall(code).participants == 0
    store.close()
    with pytest.raises(RoomError) as err:
        store_from_env({"LUCKY5_REDIS_URL": "http://example.com"})
    assert err.value.reason == "unavailable"


def test_in_the_learning_rate_stage_a_phones_first_run_stays_on_the_wall(make_store: StoreFactory) -> None:
    """Phones pick their own rate there, and the room maps every rate tried: a phone that blew up and trains
    again at a safer rate must not take its blow-up off the map before the reveal. Its first run stays (sent
    again, as after a reload, it is taken); a different one is refused, saying why; other stages replace."""
    store = make_store()
    code, key = store.create()
    store.set_stage(code, key, "lr")
    alice, bob = store.join(code), store.join(code)
    stage = STAGES["lr"]
    assert stage.keeps_first and not STAGES["post"].keeps_first and not STAGES["patience"].keeps_first
    blew = summarize(train(stage.config(seed=participant_seed(alice), lr=0.4)))
    safer = summarize(train(stage.config(seed=participant_seed(alice), lr=0.05)))
    assert blew.diverged_at is not None and safer.diverged_at is None  # the oracle: the runs themselves
    store.submit(code, alice, blew)
    store.submit(code, alice, blew)  # the same run again (a reload resends it): taken
    with pytest.raises(RoomError) as refused:
        store.submit(code, alice, safer)
    assert refused.value.reason == "kept" and "stays" in str(refused.value)
    store.submit(code, bob, safer)
    assert sorted(store.wall(code).runs, key=lambda s: s.lr) == [safer, blew]
    store.set_stage(code, key, "post")  # elsewhere a participant's new run replaces the old one
    first, second = (summarize(train(STAGES["post"].config(seed=s))) for s in (1, 2))
    store.submit(code, alice, first)
    store.submit(code, alice, second)
    assert store.wall(code).runs == (second,)
