"""Tests of lucky5.room.questions and theory.spread_after: the stages' questions, the check of a vote, what the
room's runs and the theory answer.

Oracles: the expected b after some epochs and its spread are checked against a plain PyTorch loop over many
seeds (Monte Carlo: nn.Linear's own initialisation, torch.optim.SGD, fresh torch.rand inputs per step, sharing
no code with the theory); the answers of the room's runs against plain Python counts over real runs.
"""

from __future__ import annotations

import math
import statistics

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from lucky5 import theory, train_many
from lucky5.room import (
    QUESTIONS,
    STAGES,
    BiasQuestion,
    BlowUpQuestion,
    Choice,
    ReachQuestion,
    RoomError,
    Summary,
    question_for,
    summarize,
)

# --- questions as data -----------------------------------------------------------------------


def test_every_stage_opens_with_one_question_of_short_safe_ids() -> None:
    assert tuple(QUESTIONS) == tuple(STAGES)
    for name, q in QUESTIONS.items():
        assert q.stage == name and question_for(name) is q and "?" in q.text
        assert len(set(q.ids)) == len(q.ids) >= 2 and 1 <= q.most <= len(q.ids)
        for c in q.choices:
            assert c.text and 0 < len(c.id) <= 16 and c.id.isascii() and not set(c.id) & set(": \t")
    # the learning-rate question offers exactly the stage's learning rates, several per vote, then "none", alone
    lr = QUESTIONS["lr"]
    assert [float(i) for i in lr.ids[:-1]] == list(STAGES["lr"].lrs) and lr.multiple
    assert lr.ids[-1] == lr.alone == "none" and lr.most == len(lr.ids) - 1
    assert not QUESTIONS["post"].multiple and QUESTIONS["patience"].ids == ("yes", "no")


def test_a_vote_is_checked_and_put_in_the_choices_order() -> None:
    lr = QUESTIONS["lr"]
    assert lr.check(["0.4", "0.01"]) == ("0.01", "0.4")
    assert lr.check("0.25") == ("0.25",) and lr.check(tuple(lr.ids[:-1])) == lr.ids[:-1]
    assert lr.check(["none"]) == ("none",)
    assert QUESTIONS["patience"].check(["no"]) == ("no",)


HOSTILE_VOTES = {
    "none": None,
    "empty list": [],
    "empty text": "",
    "unknown id": "maybe",
    "an id's text": "Yes, every run",
    "bytes": b"yes",
    "number": 0.25,
    "dict": {"yes": 1},
    "set": {"yes"},
    "repeated": ["yes", "yes"],
    "two on a single choice": ["yes", "no"],
    "nested": [["yes"]],
    "huge text": "y" * 100_000,
    "markup": "<b>yes</b>",
    "bool": True,
}


@pytest.mark.parametrize("vote", HOSTILE_VOTES.values(), ids=HOSTILE_VOTES.keys())
def test_anything_but_the_questions_choices_is_refused_with_a_reason(vote: object) -> None:
    with pytest.raises(RoomError) as err:
        QUESTIONS["patience"].check(vote)
    assert err.value.reason == "bad_vote" and "<b>" not in str(err.value) and len(str(err.value)) < 200


def test_a_multiple_choice_vote_refuses_more_than_its_choices() -> None:
    lr = QUESTIONS["lr"]
    for vote in (list(lr.ids[:-1]) + ["0.4"], ["0.4", "0.4"], ["0.4", "1"], ["none", "0.4"], ["0.01", "none"]):
        with pytest.raises(RoomError) as err:
            lr.check(vote)
        assert err.value.reason == "bad_vote"


_ANY = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20) | st.binary(max_size=8),
    lambda inner: st.lists(inner, max_size=10) | st.tuples(inner, inner) | st.dictionaries(st.text(), inner),
    max_leaves=12,
)


@given(st.sampled_from(list(QUESTIONS)), _ANY | st.lists(st.sampled_from(QUESTIONS["lr"].ids + ("x",)), max_size=10))
def test_the_check_of_a_vote_is_total(stage: str, vote: object) -> None:
    q = QUESTIONS[stage]
    try:
        got = q.check(vote)
    except RoomError as err:
        assert err.reason == "bad_vote"
        return
    picked = [vote] if isinstance(vote, str) else list(vote)  # type: ignore[call-overload]
    assert sorted(got) == sorted(picked) and 1 <= len(got) <= q.most and set(got) <= set(q.ids)
    assert q.alone not in got or len(got) == 1


# --- what the room's runs did ----------------------------------------------------------------


@pytest.fixture(scope="module")
def post_runs() -> list[Summary]:
    """48 real runs of the first stage (seeds 0..47, trained in one batch)."""
    return [summarize(h) for h in train_many(STAGES["post"].config(seed=0), seeds=range(48))]


def test_the_bias_question_bins_the_rooms_real_runs(post_runs: list[Summary]) -> None:
    q = QUESTIONS["post"]
    assert isinstance(q, BiasQuestion)
    lows = (-math.inf, *q.edges)
    highs = (*q.edges, math.inf)
    expected = [sum(lo <= r.b < hi for r in post_runs) for lo, hi in zip(lows, highs, strict=True)]
    out = q.outcome(post_runs)
    assert out.counts == tuple(expected) and out.runs == 48 and out.totals == (48,) * len(q.ids)
    median = statistics.median(r.b for r in post_runs)
    [bin_] = [i for i, lo, hi in zip(q.ids, lows, highs, strict=True) if lo <= median < hi]
    assert out.happened == {bin_}
    # runs of another stage are not counted; no runs, nothing happened
    assert q.outcome([*post_runs, _run("lr", 0.4, 4.0)]).counts == out.counts
    assert q.outcome([]).happened == frozenset() and q.outcome([]).counts == (0,) * len(q.ids)


def _run(stage: str, lr: float, b: float, diverged: bool = False, rising: bool = False) -> Summary:
    epochs = STAGES[stage].base.epochs
    if diverged:
        return Summary(1, "sgd", lr, epochs, 1.0, b, 1.0, 3, (1, 3), (1.0, 2.0))
    losses = (1.0, 2.0) if rising else (20.0, 0.1)
    return Summary(1, "sgd", lr, epochs, losses[-1], b, 0.1, None, (1, epochs), losses)


def test_the_reach_question_says_yes_only_when_every_run_reached() -> None:
    q = QUESTIONS["patience"]
    close = [_run("patience", 0.01, 5 + d) for d in (-0.049, 0.0, 0.03)]
    assert q.outcome(close).happened == {"yes"} and q.outcome(close).counts == (3, 0)
    missed = [*close, _run("patience", 0.01, 4.94)]
    assert q.outcome(missed).happened == {"no"} and q.outcome(missed).counts == (3, 1)
    # a run that blew up never reached, whatever its last b
    assert q.outcome([*close, _run("patience", 0.01, 5.0, rising=True)]).happened == {"no"}
    assert q.outcome([]).happened == frozenset()


def test_the_blow_up_question_counts_per_learning_rate() -> None:
    q = QUESTIONS["lr"]
    runs = [
        _run("lr", 0.4, 1e30, diverged=True),
        _run("lr", 0.4, 3.0, rising=True),
        _run("lr", 0.25, 1e9, diverged=True),
        _run("lr", 0.25, 5.0),
        _run("lr", 0.25, 5.0),
        _run("lr", 0.01, 3.7),
    ]
    out = q.outcome(runs)
    by_id = dict(zip(q.ids, zip(out.counts, out.totals, strict=True), strict=True))
    assert by_id["0.4"] == (2, 2) and by_id["0.25"] == (1, 3) and by_id["0.01"] == (0, 1) and by_id["0.3"] == (0, 0)
    assert out.happened == {"0.4"} and out.runs == 6 and by_id["none"] == (0, 0)
    # no rate where most blew up: "none" is what happened; no run read: nothing happened yet
    assert q.outcome(runs[2:]).happened == {"none"} and q.outcome([]).happened == frozenset()


# --- what theory says ------------------------------------------------------------------------


def _monte_carlo_b(runs: int, epochs: int, lr: float, momentum: float, nesterov: bool, batch: int) -> torch.Tensor:
    """The bias of ``runs`` independent post-style runs after ``epochs``: plain PyTorch, one neuron per row.

    nn.Linear(10, runs) initialises each row exactly as nn.Linear(10, 1) does (the same fan-in); each run
    gets its own fresh inputs; summing the runs' losses gives each row its own mean-squared-error gradient,
    and torch.optim.SGD's update is elementwise, so the rows are independent runs.
    """
    gen = torch.Generator().manual_seed(20261206)
    torch.manual_seed(11)  # nn.Linear's initialisation draws from the global generator
    layer = torch.nn.Linear(10, runs)
    opt = torch.optim.SGD(layer.parameters(), lr=lr, momentum=momentum, nesterov=nesterov)
    for _ in range(epochs):
        x = torch.rand(runs, batch, 10, generator=gen)
        pred = (x * layer.weight[:, None, :]).sum(-1) + layer.bias[:, None]
        loss = ((pred - 5.0) ** 2).mean(1).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return layer.bias.detach().double()


@pytest.mark.parametrize(
    ("epochs", "lr", "momentum", "nesterov", "batch"),
    [(200, 0.01, 0.1, False, 1), (60, 0.1, 0.5, True, 4), (150, 0.15, 0.0, False, 1)],
    ids=["the-post", "nesterov-batch-4", "near-the-edge"],
)
def test_the_expected_b_and_its_spread_match_many_seeds(
    epochs: int, lr: float, momentum: float, nesterov: bool, batch: int
) -> None:
    n = 2048
    b = _monte_carlo_b(n, epochs, lr, momentum, nesterov, batch)
    spread = theory.spread_after(epochs, lr, batch, momentum, nesterov=nesterov)
    mean, std = float(b.mean()), float(b.std())
    # 4 standard errors: the mean's σ/√n; the standard deviation's about σ·√((κ − 1)/(4n)), κ its kurtosis
    kurtosis = float(((b - b.mean()) ** 4).mean() / b.var() ** 2)
    assert abs(mean - spread.bias_mean) < 4 * std / math.sqrt(n)
    assert abs(std - spread.bias_std) < 4 * std * math.sqrt((kurtosis - 1) / (4 * n))


def test_the_spread_starts_at_the_initialisation_and_follows_the_first_step() -> None:
    start = theory.spread_after(0, 0.01, 1, 0.1)
    assert start.bias_mean == 0.0 and start.bias_std == pytest.approx(1 / math.sqrt(30), rel=1e-12)
    assert torch.allclose(start.covariance, torch.eye(11, dtype=torch.float64) / 30)
    # one step from w, b with mean 0: b₁ = b₀ − 2·lr·(w·x + b₀ − t), so E[b₁] = 2·lr·t exactly
    assert theory.spread_after(1, 0.01, 1, 0.1).bias_mean == pytest.approx(2 * 0.01 * 5.0, rel=1e-12)
    with pytest.raises(ValueError):
        theory.spread_after(-1, 0.01)


def test_the_bias_question_quotes_the_theory_and_it_matches_the_engines_runs(post_runs: list[Summary]) -> None:
    expected = QUESTIONS["post"].theory()
    spread = theory.spread_after(200, 0.01, 1, 0.1)
    assert (expected.b_mean, expected.b_std) == (spread.bias_mean, spread.bias_std)
    assert expected.limit == theory.sgd_critical_lr(1, 0.1)
    assert expected.choices == {QUESTIONS["post"].bin_of(spread.bias_mean)}  # type: ignore[attr-defined]
    # the engine's 48 real runs agree with the theory within 4 standard errors
    bs = [r.b for r in post_runs]
    assert abs(statistics.fmean(bs) - spread.bias_mean) < 4 * spread.bias_std / math.sqrt(len(bs))


def test_theory_answers_the_reach_and_the_blow_up_questions() -> None:
    patience = QUESTIONS["patience"].theory()
    assert patience.choices == {"yes"} and abs(patience.b_mean - 5) < 1e-3  # type: ignore[operator]
    # the same question after the post's 200 epochs: every run misses by far
    early = ReachQuestion("post", "?", QUESTIONS["patience"].choices, tolerance=0.05).theory()
    assert early.choices == {"no"}
    lr = QUESTIONS["lr"].theory()
    limit = theory.sgd_critical_lr(1, 0.1)
    assert lr.choices == {i for i in QUESTIONS["lr"].ids[:-1] if float(i) > limit} == {"0.25", "0.3", "0.4"}
    # with rates all below the limit, theory says none will blow up
    slow = BlowUpQuestion("lr", "?", (Choice("0.01", "0.01"), Choice("none", "none")), alone="none")
    assert slow.theory().choices == {"none"}
    assert lr.b_mean is None and lr.limit == limit
