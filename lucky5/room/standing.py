"""What a light phone is told about its room: the stage it trains, and where the room stands.

A phone that trains in its browser (``lucky5/static/train.js``) needs the stage's settings, and, to show
where its run stands, the room's medians and spread. ``standing`` computes all of it from a ``Wall`` once per
change of the room, and every phone of the room reads the same answer: it is the same for all of them, and
bounded (about 1 kB as JSON) however many runs the room holds. Which runs settled or blew up, and the
medians, are ``wall``'s rules. It carries the stage's question too (``question_info``); the state of its vote
(``asked``) is read apart, more often, and never says what anyone voted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..theory import stability
from .codes import full
from .questions import Question, question_for
from .seats import locked, removed
from .stages import STAGE_NAMES, STAGES, Stage
from .votes import Poll, train_waits
from .wall import Wall, counts_by_lr, median_curve

QUANTILES = 21  # the spread of b and ‖w‖: values at 0 %, 5 %, ..., 100 % of the settled runs
DIGITS = 7  # significant digits kept of each number sent (float32 runs carry about 7)
MAX_REMOVED_SENT = 200  # removed seeds told to every phone (each removal is a press of the presenter's)
PHONE_SETTINGS = ("optimizer", "lr", "epochs", "momentum", "dampening", "nesterov", "weight_decay", "batch_size")


def stage_info(stage: Stage) -> dict[str, Any]:
    """The stage as a phone trains it: name, number (from 1), title, epochs, the learning rates offered (empty:
    the stage's own), ``config``, the ``Config`` fields the JavaScript run reads (the seed is the phone's), and
    theory's word on blowing up: the stability ``limit`` of the learning rate (None where theory claims none)
    and ``hint``, what to try instead (``lucky5.theory.stability``)."""
    base = stage.base
    verdict = stability(base)
    config = {name: getattr(base, name) for name in PHONE_SETTINGS}
    config["target"] = base.target
    return {
        "name": stage.name,
        "number": STAGE_NAMES.index(stage.name) + 1,
        "title": stage.title,
        "epochs": base.epochs,
        "lrs": list(stage.lrs),
        "config": config,
        "limit": None if verdict.limit is None else _round(verdict.limit),
        "hint": verdict.hint,
    }


def question_info(question: Question) -> dict[str, Any]:
    """The question as a phone asks it: ``text``, ``choices`` as [id, text] pairs, ``most`` choices per vote
    and ``alone``, the id of a choice that rules out the others (None)."""
    return {
        "text": question.text,
        "choices": [[c.id, c.text] for c in question.choices],
        "most": question.most,
        "alone": question.alone,
    }


def asked(poll: Poll) -> dict[str, Any]:
    """The state of a stage's vote as phones are told it: ``stage``, ``round`` (0: not opened yet), ``open``,
    ``skipped``, ``revealed``, and ``train``: why Train waits (``votes.train_waits``), None when it is open.
    Not how many voted nor what: that changes with every vote, and phones do not need it."""
    return {"stage": poll.stage, "round": poll.round, "open": poll.open, "skipped": poll.skipped,
            "revealed": poll.revealed, "train": train_waits(poll)}  # fmt: skip


def quantiles(values: Sequence[float], n: int = QUANTILES) -> list[float]:
    """``n`` evenly spaced quantiles of ``values``, from the smallest to the largest (linear interpolation
    between order statistics, as ``numpy.quantile``'s default); empty for no values."""
    xs = sorted(values)
    if not xs:
        return []
    out = []
    for i in range(n):
        at = i * (len(xs) - 1) / (n - 1)
        lo = int(at)
        hi = min(lo + 1, len(xs) - 1)
        out.append(xs[lo] + (xs[hi] - xs[lo]) * (at - lo))
    return out


def _round(x: float) -> float:
    return float(f"{x:.{DIGITS}g}")


def standing(wall: Wall) -> dict[str, Any]:
    """What every phone of the room is told: the stage (``stage_info``), how many joined, trained and blew up,
    the medians of b and ‖w‖ over the runs that settled (None while none did) with their quantiles, the median
    loss curve (``median_curve``: at most 60 points), in a stage that offers learning rates, per rate
    (lr, settled, blew up), the stage's ``question`` (``question_info``), and the room's doors: ``locked``,
    seats taken of ``capacity``, the ``removed`` seeds."""
    stage = STAGES[wall.stage]
    settled = wall.settled
    m = wall.medians
    curve = median_curve(wall.runs)
    return {
        "stage": stage_info(stage),
        "joined": wall.participants,
        "trained": len(wall.runs),
        "blew_up": len(wall.runs) - len(settled),
        "medians": None if m is None else {"b": _round(m.b), "w_norm": _round(m.w_norm), "runs": m.runs},
        "b": [_round(x) for x in quantiles([r.b for r in settled])],
        "w_norm": [_round(x) for x in quantiles([r.w_norm for r in settled])],
        "curve": None if curve is None else {"steps": list(curve[0]), "losses": [_round(y) for y in curve[1]]},
        "by_lr": [list(row) for row in counts_by_lr(wall.runs, stage.lrs)],
        "question": question_info(question_for(stage.name)),
        # The doors (``seats``): a phone says so when the room is locked or full, or its own seed was removed.
        "locked": wall.locked,
        "seated": wall.seated,
        "capacity": wall.capacity,
        "removed": list(wall.removed[:MAX_REMOVED_SENT]),
        "closed": door(wall),
        "removed_says": str(removed()),
    }


def door(wall: Wall) -> str | None:
    """What a phone that has not trained reads while it may not take a seat: the room locked or full; else None."""
    if wall.locked:
        return str(locked())
    return str(full(wall.capacity)) if wall.seated >= wall.capacity else None
