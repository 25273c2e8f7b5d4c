"""What the light phone needs of lucky5.room: idempotent joins with the phone's own id, a cheap pulse, taking a
false run off the wall, what every phone is told (``standing``), and the check of a reported run (``replay``,
``mismatch``). Both stores run the same tests (a real redis-server for ``RedisStore``, as in test_room.py).

Oracles: ``lucky5.train`` (the replay must be its run, bit for bit), ``statistics.median`` and
``numpy.quantile`` (the standing), and the rules of ``lucky5.room.wall`` (which runs settled).
"""

from __future__ import annotations

import dataclasses
import json
import statistics

import numpy as np
import pytest

from lucky5.engine import train
from lucky5.room import (
    STAGES,
    Pulse,
    RoomError,
    Summary,
    mismatch,
    participant_seed,
    replay,
    settled_runs,
    stage_info,
    standing,
    summarize,
)
from lucky5.room.check import BATCH
from lucky5.room.standing import quantiles
from tests.conftest import StoreFactory

ME = "Phone-drew-this-id-0001"[:22]


@pytest.fixture(scope="module")
def runs() -> list[Summary]:
    """Six real runs of the first stage (seeds 0..5)."""
    return [summarize(train(STAGES["post"].config(seed=s))) for s in range(6)]


def test_a_phone_that_drew_its_own_id_joins_with_it_once(make_store: StoreFactory, runs: list[Summary]) -> None:
    store = make_store(max_participants=3)
    code, _ = store.create()
    assert store.join(code, again=ME, adopt=True) == ME
    assert store.join(code, again=ME, adopt=True) == ME  # a retried join, a reload: counted once
    assert store.pulse(code).participants == 1
    store.submit(code, ME, runs[0])
    assert store.join(code.lower(), again=ME, adopt=True) == ME and store.wall(code).runs == (runs[0],)
    # Without adopt an unknown id is not taken (the Streamlit page's rule); a mangled one never is.
    other = store.join(code, again="B" * 22)
    assert other != "B" * 22 and len(other) == 22
    mangled = store.join(code, again="../../etc/passwd", adopt=True)
    assert mangled != "../../etc/passwd" and len(mangled) == 22
    store.submit(code, other, runs[1])
    store.submit(code, mangled, runs[2])  # three seats taken by runs: the room is full
    with pytest.raises(RoomError) as full:
        store.join(code, again="C" * 22, adopt=True)
    assert full.value.reason == "full"
    assert store.join(code, again=ME, adopt=True) == ME  # a member gets back into a full room


def test_the_pulse_changes_with_the_stage_and_the_runs_and_is_not_activity(
    make_store: StoreFactory, runs: list[Summary]
) -> None:
    store = make_store()
    code, key = store.create()
    first = store.pulse(code)
    assert first == Pulse("post", 0, 0, first.version)
    store.join(code, again=ME, adopt=True)
    joined = store.pulse(code)
    assert (joined.participants, joined.version) == (1, first.version)  # a join is counted, not a version
    store.submit(code, ME, runs[0])
    sent = store.pulse(code)
    assert (sent.trained, sent.version > joined.version) == (1, True)
    store.submit(code, ME, runs[1])  # a run replaced: same count, new version
    replaced = store.pulse(code)
    assert replaced.trained == 1 and replaced.version > sent.version
    store.set_stage(code, key, "patience")
    moved = store.pulse(code)
    assert (moved.stage, moved.trained) == ("patience", 0) and moved.version > replaced.version
    store.set_stage(code, key, "patience")
    assert store.pulse(code) == moved  # the same stage again changes nothing
    with pytest.raises(RoomError) as unknown:
        store.pulse("ABCDEF" if code != "ABCDEF" else "BCDEFG")
    assert unknown.value.reason == "unknown"


def test_a_false_run_comes_off_the_wall_but_a_newer_run_stays(make_store: StoreFactory, runs: list[Summary]) -> None:
    store = make_store()
    code, _ = store.create()
    store.join(code, again=ME, adopt=True)
    store.submit(code, ME, runs[0])
    before = store.pulse(code).version
    assert store.remove_run(code, ME, runs[1]) is False  # not this participant's run: nothing happens
    assert store.wall(code).runs == (runs[0],) and store.pulse(code).version == before
    store.submit(code, ME, runs[1])  # sent again meanwhile: the check of the first run must not remove it
    assert store.remove_run(code, ME, runs[0]) is False and store.wall(code).runs == (runs[1],)
    assert store.remove_run(code, ME, runs[1]) is True
    assert store.wall(code).runs == () and store.pulse(code).version > before
    assert store.remove_run(code, "D" * 22, runs[1]) is False


def test_what_every_phone_is_told(make_store: StoreFactory, runs: list[Summary]) -> None:
    store = make_store()
    code, _ = store.create()
    blown = dataclasses.replace(runs[5], curve_losses=(1.0, *runs[5].curve_losses[1:-1], 9e9))  # loss grew
    for i, run in enumerate([*runs[:5], blown]):
        store.join(code, again=f"{i:022d}", adopt=True)
        store.submit(code, f"{i:022d}", run)
    told = standing(store.wall(code))
    assert told["stage"] == stage_info(STAGES["post"]) and told["stage"]["config"]["epochs"] == 200
    assert (told["joined"], told["trained"], told["blew_up"]) == (6, 6, 1)
    settled = settled_runs([*runs[:5], blown])
    assert len(settled) == 5
    assert told["medians"]["b"] == pytest.approx(statistics.median(r.b for r in settled), rel=1e-6)
    assert told["medians"]["runs"] == 5
    expected = np.quantile([r.b for r in settled], np.linspace(0, 1, 21))
    assert told["b"] == pytest.approx(list(expected), rel=1e-6)
    assert len(told["curve"]["steps"]) == len(runs[0].curve_steps) == len(told["curve"]["losses"])
    assert len(json.dumps(told)) < 3000  # bounded: the same size for 5 runs or 1,000


def test_standing_is_bounded_whatever_the_crowd() -> None:
    many = [
        Summary(i, "sgd", 0.01, 200, 0.5, 1 + i / 1000, 2.0, None, tuple(range(4, 201, 4))[-60:], (1.0,) * 50)
        for i in range(1000)
    ]
    from lucky5.room import Wall

    told = standing(Wall("post", 1000, tuple(many)))
    assert told["trained"] == 1000 and len(told["b"]) == 21 and len(json.dumps(told)) < 3000


def test_quantiles_match_numpy() -> None:
    rng = np.random.default_rng(3)
    for n in (1, 2, 5, 37):
        xs = list(rng.standard_normal(n))
        assert quantiles(xs) == pytest.approx(list(np.quantile(xs, np.linspace(0, 1, 21))))
    assert quantiles([]) == []


def test_a_replay_is_the_run_its_seed_gives() -> None:
    stage = STAGES["lr"]
    seeds = [participant_seed(f"{i:022d}") for i in range(BATCH + 3)]  # more than one batch
    reported = [
        summarize(train(stage.config(s, lr)))
        for s, lr in zip(seeds, [0.01, 0.25, 0.4] * 7, strict=False)  # settled and blown-up runs, three rates
    ]
    replayed = replay(stage, reported)
    assert replayed == reported  # bit for bit: the same float32 loop
    assert all(mismatch(r, p) is None for r, p in zip(reported, replayed, strict=True))
    assert any(r.diverged for r in reported) and not all(r.diverged for r in reported)


def test_a_forged_run_is_told_apart_from_its_replay(runs: list[Summary]) -> None:
    honest = runs[2]
    forged = {
        "a better b": dataclasses.replace(honest, b=5.0),
        "b off in the 5th digit": dataclasses.replace(honest, b=honest.b * (1 + 1e-4)),
        "a smaller ‖w‖": dataclasses.replace(honest, w_norm=honest.w_norm / 2),
        "another seed's run": dataclasses.replace(runs[3], seed=honest.seed),
        "a smoother curve": dataclasses.replace(honest, curve_losses=tuple(sorted(honest.curve_losses, reverse=True))),
        "a run that says it blew up": dataclasses.replace(
            honest, diverged_at=150, curve_steps=honest.curve_steps[:1] + (150,), curve_losses=(1.0, 2.0)
        ),
    }
    [replayed] = replay(STAGES["post"], [honest])
    assert mismatch(honest, replayed) is None
    for why, run in forged.items():
        assert mismatch(run, replayed) is not None, why


def test_the_checker_process_protocol_answers_every_run_in_order(runs: list[Summary]) -> None:
    from lucky5.room.check import serve

    forged = dataclasses.replace(runs[1], b=5.0)
    lines = [
        json.dumps({"stage": "post", "runs": [runs[0].to_json().decode(), forged.to_json().decode()]}),
        json.dumps({"stage": "final", "runs": [runs[0].to_json().decode()]}),  # no such stage
        json.dumps({"stage": "post", "runs": ["{not json"]}),
        "not even json",
    ]
    out: list[str] = []
    serve(lines, out.append)
    answers = [json.loads(line)["verdicts"] for line in out]
    assert answers[0][0] is None and "b differs" in answers[0][1]
    assert len(answers[1]) == 1 and answers[1][0].startswith("not checked")
    assert len(answers[2]) == 1 and answers[2][0].startswith("not checked")
    assert answers[3] == []
