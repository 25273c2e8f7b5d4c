"""Speed of ``lucky5.step.explain_step`` at the last step of a long run, against ``lucky5.train`` of the same run.

    python -m bench.step                  # 20,000 epochs, k = 19,999, 5 turns
    python -m bench.step --epochs 2000 --repeats 3

``explain_step(config, k)`` trains k steps with the engine's loop and takes step k in the open, so it should
cost about one ``train(config)``; the page needs it within about half a second at k = 19,999. Both are timed
in this process, in turns (the order reversed every other turn), on one torch thread as the page runs;
the best wall time of each (the least disturbed) and their ratio are printed, with the medians beside them.
The garbage collector is frozen after a warm-up, as the page does, so that a full collection landing in one
of the timed calls does not decide the ratio.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable

import torch

from lucky5 import Config, train
from lucky5.step import explain_step


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=20_000, help="epochs of the run (default 20,000)")
    parser.add_argument("--repeats", type=int, default=5, help="turns per measurement (default 5)")
    parser.add_argument("--optimizer", default="sgd", help="optimizer of the run (default sgd: the post's)")
    args = parser.parse_args(argv)

    torch.set_num_threads(1)
    config = Config(epochs=args.epochs, optimizer=args.optimizer)
    k = config.epochs - 1
    explain_step(config.replace(epochs=50), 49)  # warm up: the first optimizer of a process imports parts of torch
    train(config.replace(epochs=50))
    gc.collect()
    gc.freeze()

    fns = {"train": lambda: train(config), "explain_step": lambda: explain_step(config, k)}
    times: dict[str, list[float]] = {name: [] for name in fns}
    for r in range(args.repeats):
        names = list(fns) if r % 2 == 0 else list(fns)[::-1]
        for name in names:
            times[name].append(timed(fns[name]))

    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), {args.repeats} interleaved turns")
    print(f"{config.optimizer} run of {config.epochs:,} epochs; explain_step at k = {k:,}")
    for name, ts in times.items():
        print(f"  {name:<13} best {min(ts) * 1000:8.1f} ms   median {statistics.median(ts) * 1000:8.1f} ms")
    best = min(times["explain_step"]) / min(times["train"])
    median = statistics.median(times["explain_step"]) / statistics.median(times["train"])
    print(f"  explain_step / train: {best:.2f}x (best), {median:.2f}x (median)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
