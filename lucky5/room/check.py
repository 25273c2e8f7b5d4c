"""The server's check of a run a phone trained itself: replay it, and compare.

A phone trains its run in its browser (``lucky5/static/train.js``, equal to ``lucky5.train`` bit for bit
on x86-64) and sends only its ``Summary``. Anyone can send any Summary, so the server replays each one
from its seed and learning rate with ``train_many`` (``BATCH`` runs at once, at about the cost of one) and
takes off the wall every run whose numbers are not the replay's (``mismatch``). ``main`` does it in a process
of its own, at a lower priority (``serve``: one JSON line per batch each way), so that replays never hold the
server's interpreter while phones wait.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from collections.abc import Callable, Iterable, Sequence

import torch

from ..engine import train_many
from .stages import Stage, check_stage
from .summary import Summary, summarize

BATCH = 16  # runs replayed at once: about the time of one run, and a bounded record (≈ 30 MB at 20,000 epochs)
# Float32 rounding leaves an honest run bit for bit equal to its replay on the same CPU family; the tolerance
# covers another CPU's kernels summing in another order, not a changed digit of b.
REL_TOL = 1e-5
ABS_TOL = 1e-12


def replay(stage: Stage, runs: Sequence[Summary]) -> list[Summary]:
    """The Summary of ``lucky5.train`` for each run's seed (and learning rate) at ``stage``, in order.

    Runs at one learning rate share ``train_many`` batches of at most ``BATCH``.

    Raises:
        RoomError: ``bad_lr`` for a learning rate the stage does not offer (``Stage.config``).
    """
    out: dict[int, Summary] = {}
    by_lr: dict[float, list[int]] = {}
    for i, run in enumerate(runs):
        by_lr.setdefault(run.lr, []).append(i)
    for lr, indices in by_lr.items():
        for start in range(0, len(indices), BATCH):
            batch = indices[start : start + BATCH]
            config = stage.config(runs[batch[0]].seed, lr if stage.lrs else None)
            histories = train_many(config, seeds=[runs[i].seed for i in batch])
            out.update((i, summarize(h)) for i, h in zip(batch, histories, strict=True))
    return [out[i] for i in range(len(runs))]


def mismatch(reported: Summary, replayed: Summary) -> str | None:
    """Why ``reported`` is not the run ``replayed`` (its replay), or None when it is.

    Settings, the step it diverged at and the curve's steps must be equal; b, ‖w‖, the final loss and the
    curve's losses equal within ``REL_TOL`` (relative) or ``ABS_TOL``.
    """
    for name in ("seed", "optimizer", "lr", "epochs", "diverged_at", "curve_steps"):
        if getattr(reported, name) != getattr(replayed, name):
            return f"{name} differs from the replay"
    pairs = [("b", reported.b, replayed.b), ("w_norm", reported.w_norm, replayed.w_norm)]
    if (reported.final_loss is None) != (replayed.final_loss is None):
        return "final_loss differs from the replay"
    if reported.final_loss is not None and replayed.final_loss is not None:
        pairs.append(("final_loss", reported.final_loss, replayed.final_loss))
    pairs += [("curve_losses", a, b) for a, b in zip(reported.curve_losses, replayed.curve_losses, strict=True)]
    for name, a, b in pairs:
        if not math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL):
            return f"{name} differs from the replay ({a!r} against {b!r})"
    return None


def serve(lines: Iterable[str], write: Callable[[str], None]) -> None:
    """Check batches for another process: each line in is ``{"stage": name, "runs": [Summary JSON, ...]}``,
    each line out ``{"verdicts": [null or why, ...]}`` in the same order (a line that does not parse, or
    settings a stage does not offer, gets every run refused with the reason)."""
    for line in lines:
        try:
            job = json.loads(line)
            stage = check_stage(job["stage"])
            runs = [Summary.from_json(raw) for raw in job["runs"]]
            verdicts: list[str | None] = [mismatch(r, p) for r, p in zip(runs, replay(stage, runs), strict=True)]
        except (ValueError, KeyError, TypeError) as err:  # RoomError is a ValueError
            verdicts = [f"not checked: {type(err).__name__}"] * len(_runs_of(line))
        write(json.dumps({"verdicts": verdicts}) + "\n")


def _runs_of(line: str) -> list:
    try:
        runs = json.loads(line).get("runs", [])
    except (ValueError, AttributeError):
        return []
    return runs if isinstance(runs, list) else []


def main() -> None:
    """The checker process of a server (``page.server.checker``): ``serve`` on stdin and stdout until stdin
    ends (when the server does), at a lower priority than the server."""
    import sys

    with contextlib.suppress(OSError, AttributeError):
        os.nice(10)  # the server that started it answers phones first
    torch.set_num_threads(1)

    def write(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    serve(sys.stdin, write)
