"""The stages of a talk (``STAGES``): data shared by the page and the tests, each fixing some ``Config`` fields.

A room keeps the runs of its *current* stage only. Changing the stage clears them, and a run trained for
another stage is refused with a reason naming the current one (``Stage.problem``, ``wrong_stage``), so the
wall never mixes stages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ..config import DEFAULT, Config
from .codes import RoomError, refuse
from .summary import Summary


@dataclass(frozen=True)
class Stage:
    """One step of the talk: which ``Config`` fields it fixes, and what a participant may choose.

    ``overrides`` are Config fields set for everyone (the rest keep the blog post's defaults);
    ``lrs`` are the learning rates a participant picks from (empty: the stage's own lr). Every
    participant always brings their own seed.
    """

    name: str
    title: str
    overrides: Mapping[str, Any]
    lrs: tuple[float, ...] = ()

    @property
    def base(self) -> Config:
        """The stage's Config before a participant's own seed and learning rate."""
        return DEFAULT.replace(**self.overrides)

    def config(self, seed: int, lr: float | None = None) -> Config:
        """A participant's Config for this stage.

        Raises:
            RoomError: ``bad_lr`` for a learning rate this stage does not offer;
                ``bad_summary`` for an invalid seed (message from ``Config``).
        """
        changes: dict[str, Any] = {"seed": seed}
        if lr is not None:
            if lr not in (self.lrs or (self.base.lr,)):
                offered = ", ".join(f"{x:g}" for x in self.lrs) if self.lrs else f"only {self.base.lr:g}"
                raise RoomError("bad_lr", f"The learning rate {lr!r} is not offered in this stage ({offered}).")
            changes["lr"] = lr
        try:
            return self.base.replace(**changes)
        except ValueError as err:
            raise RoomError("bad_summary", str(err)) from None

    @property
    def keeps_first(self) -> bool:
        """Whether each participant's first run of this stage stays on the wall (a later one is refused,
        ``first_run_kept``): where phones pick their own learning rate, the room maps every rate tried, and a
        phone that blew up and trained again at a safer rate would take its blow-up off the map before the
        reveal. Elsewhere a new run replaces the old one."""
        return bool(self.lrs)

    def problem(self, summary: Summary) -> str | None:
        """Why ``summary`` was not trained for this stage, or None when it was."""
        base = self.base
        if summary.epochs != base.epochs or summary.optimizer != base.optimizer:
            return f"this run has {summary.epochs:,} epochs of {summary.optimizer}"
        if self.lrs and summary.lr not in self.lrs:
            return f"the learning rate {summary.lr:g} is not one this stage offers"
        if not self.lrs and summary.lr != base.lr:
            return f"this stage trains at learning rate {base.lr:g}, not {summary.lr:g}"
        return None


# The learning-rate stage brackets the stability edge of the post's SGD (batch 1, momentum 0.1):
# theory.sgd_critical_lr(1, 0.1) ≈ 0.224 and theory.critical_lr(0.1) ≈ 0.309. Over 2,000 epochs
# runs at 0.2 settle on 5, at 0.25 most blow up to huge values and some overflow, at 0.3 all overflow.
STAGES: Mapping[str, Stage] = MappingProxyType(
    {
        "post": Stage("post", "The blog post: 200 epochs, your own seed", MappingProxyType({"epochs": 200})),
        "patience": Stage("patience", "Patience: 20,000 epochs", MappingProxyType({"epochs": 20_000})),
        "lr": Stage(
            "lr",
            "Pick your learning rate",
            MappingProxyType({"epochs": 2_000}),
            lrs=(0.01, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4),
        ),
    }
)
STAGE_NAMES: tuple[str, ...] = tuple(STAGES)
FIRST_STAGE = STAGE_NAMES[0]


def check_stage(stage: object) -> Stage:
    """The Stage named ``stage``; raises RoomError (``bad_stage``) for anything else."""
    if isinstance(stage, str) and stage in STAGES:
        return STAGES[stage]
    refuse("bad_stage", "Unknown stage; the stages are " + ", ".join(STAGE_NAMES) + ".")


def wrong_stage(stage: Stage, why: str) -> RoomError:
    """The refusal of a run trained for another stage than ``stage``, the room's current one."""
    return RoomError("wrong_stage", f"The room has moved on to '{stage.title}' and {why}: train again.")
