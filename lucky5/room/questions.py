"""The question each stage opens with (``QUESTIONS``): data beside the stages, and how each is answered.

Predicting before a demonstration makes students markedly more likely to observe it correctly (Crouch et al.
2004; Miller et al. 2013), so every stage asks one multiple-choice question before anyone trains. A question
is data: its text, its choices (short ids and plain text) and how many choices one vote may hold. It also
answers itself twice, so that the reveal can show the votes beside both:

- ``outcome(runs)``: what the room's runs actually did (``Outcome``), read with the wall's rules
  (``wall.blew_up``, ``wall.medians``);
- ``theory()``: what theory says (``Expected``), from ``lucky5.theory``: the stage's stability limit, and the
  mean and spread of b over seeds after the stage's epochs (``theory.spread_after``, exact).

A vote is checked by ``Question.check``, a total check of untrusted input: only ids from the question's list,
each once, at least one and at most ``most``, and an ``alone`` choice ("none") only by itself; anything else is a
``RoomError`` with a reason.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from .. import theory
from ..narration import number
from .codes import MAX_PARTICIPANTS, refuse
from .stages import STAGES, Stage
from .summary import Summary
from .wall import blew_up, counts_by_lr, medians

_MAX_ID_CHARS = 16  # choice ids are short: a longer text is refused before it is compared


@dataclass(frozen=True)
class Choice:
    """One answer a participant may pick: ``id`` (short, ASCII, no spaces or colons) and ``text`` (plain)."""

    id: str
    text: str


@dataclass(frozen=True)
class Outcome:
    """What the room's runs did, against one question's choices (each tuple in the choices' order).

    ``runs`` counts the runs read (those trained for the question's stage); ``counts[i]`` is how many runs
    landed in choice i (a bin, yes or no) or, for the learning rates, blew up at it, out of ``totals[i]``
    runs; ``happened`` holds the ids of the choices that are true of the room (empty: no run says yet).
    """

    runs: int
    counts: tuple[int, ...]
    totals: tuple[int, ...]
    happened: frozenset[str]


@dataclass(frozen=True)
class Expected:
    """What theory says for one question: ``choices``, the ids it predicts (empty: it does not decide);
    ``limit``, the stage's stability limit (``theory.stability``; a learning rate, None when withheld);
    ``b_mean`` and ``b_std``, E[b] and its spread over seeds after the stage's epochs (None for a stage where
    each participant picks a learning rate); ``note``, one plain sentence saying why."""

    choices: frozenset[str]
    limit: float | None
    b_mean: float | None
    b_std: float | None
    note: str


@dataclass(frozen=True)
class Question:
    """One stage's multiple-choice question: ``text``, ``choices`` and at most ``most`` choices per vote;
    ``alone``, the id of a choice that rules out every other ("none"), or None.

    Subclasses say how the room's runs and the theory answer it (``outcome``, ``theory``).
    """

    stage: str
    text: str
    choices: tuple[Choice, ...]
    most: int = 1
    alone: str | None = None

    @property
    def ids(self) -> tuple[str, ...]:
        """The choices' ids, in order."""
        return tuple(c.id for c in self.choices)

    @property
    def multiple(self) -> bool:
        """Whether one vote may hold several choices."""
        return self.most > 1

    @property
    def stage_info(self) -> Stage:
        """The Stage this question opens."""
        return STAGES[self.stage]

    def check(self, vote: object) -> tuple[str, ...]:
        """A vote as untrusted input (one id, or a list or tuple of ids), checked: the ids in the choices' order.

        Raises:
            RoomError: ``bad_vote``, naming what is allowed (the input is never echoed): not text, an id not
                in the list, an id twice, no choice, or more than ``most``.
        """
        allowed = ", ".join(self.ids)
        picked = (vote,) if isinstance(vote, str) else vote
        if not isinstance(picked, (list, tuple)) or not picked:
            refuse("bad_vote", f"Pick {self._how_many()} of: {allowed}.")
        if len(picked) > self.most:
            refuse("bad_vote", f"At most {self.most} choice{'s' if self.most > 1 else ''} per vote.")
        if not all(isinstance(p, str) and len(p) <= _MAX_ID_CHARS and p in self.ids for p in picked):
            refuse("bad_vote", f"That is not one of this question's choices ({allowed}).")
        if len(set(picked)) != len(picked):
            refuse("bad_vote", "Each choice counts once: a choice was repeated.")
        if self.alone in picked and len(picked) > 1:
            refuse("bad_vote", f"'{self.alone}' cannot be chosen with another choice.")
        return tuple(i for i in self.ids if i in picked)

    def _how_many(self) -> str:
        return f"1 to {self.most}" if self.multiple else "one"

    def _runs(self, runs: Sequence[Summary]) -> list[Summary]:
        """The runs trained for this question's stage (a wall holds only those; this keeps it so)."""
        stage = self.stage_info
        return [r for r in runs if stage.problem(r) is None]

    def outcome(self, runs: Sequence[Summary]) -> Outcome:
        """What ``runs`` (a room's summaries) did, against this question's choices."""
        raise NotImplementedError

    def theory(self) -> Expected:
        """What theory says about this question (computed once per question)."""
        return _expected(self)

    def _theory(self) -> Expected:
        raise NotImplementedError


@dataclass(frozen=True)
class BiasQuestion(Question):
    """Where will b be after the stage's epochs? Bins of b with ``edges`` e₁ < … < e_k between them:
    choice 0 is b < e₁, choice i is eᵢ <= b < eᵢ₊₁, the last is b >= e_k."""

    edges: tuple[float, ...] = ()

    def bin_of(self, b: float) -> str:
        """The id of the bin holding ``b``."""
        return self.ids[sum(b >= e for e in self.edges)]

    def outcome(self, runs: Sequence[Summary]) -> Outcome:
        """Each run's b in its bin; ``happened`` is the bin of the room's median b (over the settled runs)."""
        mine = self._runs(runs)
        counts = [0] * len(self.choices)
        for r in mine:
            counts[self.ids.index(self.bin_of(r.b))] += 1
        middle = medians(mine)
        happened = frozenset() if middle is None else frozenset({self.bin_of(middle.b)})
        return Outcome(len(mine), tuple(counts), (len(mine),) * len(counts), happened)

    def _theory(self) -> Expected:
        c = self.stage_info.base
        spread = theory.spread_after(c.epochs, c.lr, c.batch_size, c.momentum, nesterov=c.nesterov, target=c.target)
        mean, std = spread.bias_mean, spread.bias_std
        note = f"The runs are still crawling along the long valley toward b = {number(c.target)}."
        return Expected(frozenset({self.bin_of(mean)}), _limit(self.stage_info), mean, std, note)


@dataclass(frozen=True)
class ReachQuestion(Question):
    """Will every run's b end within ``tolerance`` of the target? Choices ``yes`` and ``no``."""

    tolerance: float = 0.05

    def reached(self, run: Summary) -> bool:
        """The run settled and its b is within ``tolerance`` of the stage's target."""
        return not blew_up(run) and abs(run.b - self.stage_info.base.target) < self.tolerance

    def outcome(self, runs: Sequence[Summary]) -> Outcome:
        """Runs that reached (``yes``) and did not (``no``); ``happened`` is ``yes`` when all did."""
        mine = self._runs(runs)
        yes = sum(self.reached(r) for r in mine)
        happened = frozenset() if not mine else frozenset({"yes" if yes == len(mine) else "no"})
        return Outcome(len(mine), (yes, len(mine) - yes), (len(mine), len(mine)), happened)

    def _theory(self) -> Expected:
        """From E[b] and its spread σ (``spread_after``), two bounds on the chance p that a run misses.

        Markov on the second moment: p <= E[(b − t)²]/tol². Cantelli (one-sided Chebyshev): when
        E[b] + kσ = t − tol with k > 0, p >= P(b <= E[b] + kσ) >= k²/(1 + k²) (likewise above t).
        Theory says ``yes`` when the first bound makes a miss unlikely in a full room
        (``MAX_PARTICIPANTS``·p <= 1 %), ``no`` when the second gives each run an even chance to miss.
        """
        c = self.stage_info.base
        spread = theory.spread_after(c.epochs, c.lr, c.batch_size, c.momentum, nesterov=c.nesterov, target=c.target)
        mean, std, tol = spread.bias_mean, spread.bias_std, self.tolerance
        miss_at_most = ((mean - c.target) ** 2 + std**2) / tol**2
        gap = abs(mean - c.target) - tol  # how far the average run stays outside the band
        k = gap / std if std > 0 else (math.inf if gap > 0 else 0.0)
        miss_at_least = 1.0 if math.isinf(k) else (k * k / (1 + k * k) if k > 0 else 0.0)
        limit = _limit(self.stage_info)
        band = f"±{tol:g} of {number(c.target)}"
        if MAX_PARTICIPANTS * miss_at_most <= 0.01:
            return Expected(frozenset({"yes"}), limit, mean, std, f"Yes: the spread is far inside {band}.")
        if miss_at_least >= 0.5:
            return Expected(frozenset({"no"}), limit, mean, std, f"No: the average run ends outside {band}.")
        return Expected(frozenset(), limit, mean, std, f"Too close to call: the spread reaches the edge of {band}.")


@dataclass(frozen=True)
class BlowUpQuestion(Question):
    """Which of the stage's learning rates will blow up? One choice per learning rate (``f"{lr:g}"``), then
    ``NONE`` ("none of them"), chosen alone."""

    def outcome(self, runs: Sequence[Summary]) -> Outcome:
        """Per learning rate, its runs that blew up out of its runs; ``happened``: those where most did, or
        ``NONE`` when runs were read and at no rate did most blow up. ``NONE`` counts no run (0 of 0): it is
        said of the room, not of a run."""
        mine = self._runs(runs)
        rows = counts_by_lr(mine, self.stage_info.lrs)
        happened = frozenset(f"{lr:g}" for lr, fine, bad in rows if bad > fine)
        if mine and not happened:
            happened = frozenset({NONE})
        counts = tuple(bad for _, _, bad in rows) + (0,)
        return Outcome(len(mine), counts, tuple(f + b for _, f, b in rows) + (0,), happened)

    def _theory(self) -> Expected:
        """The learning rates whose stability verdict (``theory.stability``) is divergence: above the limit
        E[‖error‖²] grows (``theory.sgd_critical_lr``), a statement about averages that real runs follow."""
        stage = self.stage_info
        rates = [i for i in self.ids if i != self.alone]
        bad = frozenset(
            i for i in rates if theory.stability(stage.config(seed=0, lr=float(i))).verdict == theory.DIVERGES
        )
        limit = _limit(stage, max(stage.lrs))
        note = (
            "Theory withholds the limit for these settings."
            if limit is None
            else "Above the stability limit the error grows step by step: every rate above it blows up."
        )
        return Expected(bad or frozenset({NONE}), limit, None, None, note)


def _limit(stage: Stage, lr: float | None = None) -> float | None:
    """The stage's stability limit (``theory.stability``), None when theory withholds it."""
    return theory.stability(stage.config(seed=0, lr=lr)).limit


@functools.lru_cache(maxsize=16)
def _expected(question: Question) -> Expected:
    """``question._theory()``, once: the questions are fixed data and the theory is deterministic."""
    return question._theory()


def _bins(edges: tuple[float, ...]) -> tuple[Choice, ...]:
    """Choices for the bins between ``edges``, with plain texts ("below 1", "1 to 2", …, "4.9 or more")."""
    texts = [f"below {edges[0]:g}"]
    texts += [f"{a:g} to {b:g}" for a, b in zip(edges, edges[1:], strict=False)]
    texts.append(f"{edges[-1]:g} or more (about 5)")
    ids = ["lt" + f"{edges[0]:g}"] + [f"{a:g}-{b:g}" for a, b in zip(edges, edges[1:], strict=False)]
    ids.append("ge" + f"{edges[-1]:g}")
    return tuple(Choice(i, t) for i, t in zip(ids, texts, strict=True))


_POST_EDGES = (1.0, 2.0, 3.0, 4.0, 4.9)
_LRS = STAGES["lr"].lrs
NONE = "none"  # the learning-rate question's "none of them will blow up"

# One question per stage, in the stages' order (``tests/test_room_votes.py`` checks that every stage has one).
QUESTIONS: Mapping[str, Question] = MappingProxyType(
    {
        "post": BiasQuestion(
            "post",
            "The layer starts near b = 0 and the lucky number is 5. After 200 epochs, where will b be?",
            _bins(_POST_EDGES),
            edges=_POST_EDGES,
        ),
        "patience": ReachQuestion(
            "patience",
            "After 20,000 epochs, will every run's b be within 0.05 of 5?",
            (Choice("yes", "Yes, every run"), Choice("no", "No, some runs will miss")),
            tolerance=0.05,
        ),
        "lr": BlowUpQuestion(
            "lr",
            "Which learning rates will blow up within 2,000 epochs? Pick every one you expect, or none.",
            tuple(Choice(f"{lr:g}", f"{lr:g}") for lr in _LRS) + (Choice(NONE, "none of them"),),
            most=len(_LRS),
            alone=NONE,
        ),
    }
)


def question_for(stage: str) -> Question:
    """The question of ``stage`` (a name in ``STAGES``; ``check_stage`` it first)."""
    return QUESTIONS[stage]
