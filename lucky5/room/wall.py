"""What a room's wall shows (``Wall``) and the rules it reads the runs by, each written once.

A run *blew up* when it overflowed or its loss ended higher than it started (``blew_up``); every other run
*settled* (``settled_runs``). The room's medians (``medians``, ``median_curve``) are taken over the settled
runs only: a run that blew up would drag them. The presenter's wall, its charts (``lucky5.figures``) and a
participant's phone all count and summarise the runs with these functions.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from .codes import MAX_PARTICIPANTS
from .summary import Summary


def blew_up(run: Summary) -> bool:
    """The run overflowed, or its loss ended higher than it started (the mean of its last curve bin against
    its first)."""
    return run.diverged or (bool(run.curve_losses) and run.curve_losses[-1] > run.curve_losses[0])


def settled_runs(runs: Sequence[Summary]) -> tuple[Summary, ...]:
    """The runs that did not blow up, in their order. Each has a loss curve: a run that did not diverge
    finished all its epochs, and its curve ends at the last one (``Summary`` checks it)."""
    return tuple(r for r in runs if not blew_up(r))


class Medians(NamedTuple):
    """The room's medians over its settled runs: the final bias ``b`` and ‖w‖ (floats), of ``runs`` runs."""

    b: float
    w_norm: float
    runs: int


def medians(runs: Sequence[Summary]) -> Medians | None:
    """The medians of b and ‖w‖ over the runs that settled (``statistics.median``); None if none settled."""
    settled = settled_runs(runs)
    if not settled:
        return None
    return Medians(
        b=statistics.median(r.b for r in settled),
        w_norm=statistics.median(r.w_norm for r in settled),
        runs=len(settled),
    )


def median_curve(runs: Sequence[Summary]) -> tuple[tuple[int, ...], list[float]] | None:
    """The median loss curve of the runs that settled: (steps, median loss at each), None if none settled.

    The steps are the first settled run's; the median is over the settled runs with the same steps (every
    settled run of one stage has the same epochs, hence the same ``curve_edges``).
    """
    settled = settled_runs(runs)
    if not settled:
        return None
    steps = settled[0].curve_steps
    same = [r for r in settled if r.curve_steps == steps]
    return steps, [statistics.median(r.curve_losses[i] for r in same) for i in range(len(steps))]


def counts_by_lr(runs: Sequence[Summary], lrs: Sequence[float]) -> list[tuple[float, int, int]]:
    """Per learning rate of ``lrs``: (lr, runs that settled, runs that blew up)."""
    out = []
    for lr in lrs:
        at = [r for r in runs if r.lr == lr]
        bad = sum(blew_up(r) for r in at)
        out.append((lr, len(at) - bad, bad))
    return out


class Pulse(NamedTuple):
    """A room at a glance, read cheaply and often: its stage, how many joined, how many trained in this
    stage, and ``version``, which grows with every change of the stage or of the runs (a run sent, replaced
    or removed). Equal pulses of one room: nothing a wall or a phone shows has changed but the joins."""

    stage: str
    participants: int
    trained: int
    version: int


@dataclass(frozen=True)
class Wall:
    """What the presenter's wall shows: the room's current stage and its runs.

    ``participants`` counts everyone who joined (trained, or joined within ``seats.JOIN_HOLD_SECONDS``);
    ``runs`` holds one Summary per participant who submitted in this stage (their latest), in no particular
    order, without ids. ``invalid`` counts stored runs that did not parse (only a RedisStore can hold such data).
    The doors (``seats``): ``seated`` people hold a seat (they trained) of ``capacity``; ``locked`` rooms take no
    one new; ``removed`` are the seeds whose runs the presenter took off the wall.
    """

    stage: str
    participants: int
    runs: tuple[Summary, ...]
    invalid: int = 0
    seated: int = 0
    capacity: int = MAX_PARTICIPANTS
    locked: bool = False
    removed: tuple[int, ...] = ()

    @property
    def settled(self) -> tuple[Summary, ...]:
        """The runs that settled (``settled_runs``)."""
        return settled_runs(self.runs)

    @property
    def blown_up(self) -> int:
        """How many runs blew up (``blew_up``)."""
        return len(self.runs) - len(self.settled)

    @property
    def medians(self) -> Medians | None:
        """The medians of b and ‖w‖ over the settled runs (``medians``)."""
        return medians(self.runs)
