"""Speed of ``lucky5.train`` against the blog post's plain PyTorch loop, in one process.

    python -m bench.engine                     # full: 200 / 2,000 / 20,000 epochs, K = 4 / 16 / 64 runs
    python -m bench.engine --quick             # smoke test in well under a minute (bars only indicative)
    python -m bench.engine --json /tmp/engine.json

Measured:
- steps/s of the post's loop (``nn.Linear(10, 1)``, ``SGD(lr=0.01, momentum=0.1)``, ``MSELoss``,
  one fresh ``torch.rand(1, 10)`` per step, zero_grad / forward / backward / step, nothing recorded)
  and of ``lucky5.train(Config(epochs=N))``, which records every step, and their ratio;
- the wall time of ``train_many(config, seeds=range(K))`` relative to one ``train`` at the
  largest epoch count;
- the same ratio as the first, per optimizer (the torch.optim class with Config's defaults);
- the wall time of ``train`` on a rule in the inputs (``Config.rule``: a linear one and one with a
  product) against the same run on the lucky number, and, for information, with noise on the targets
  (one ``torch.randn`` per step from the run's noise generator).

Noise: this machine's cores are shared. Each measurement is repeated in turns, baseline and
candidate interleaved (their order reversed every other turn), and the best wall time (the least
disturbed, ``time.perf_counter``) is used for the ratios and the bars; the ratio of median wall
times and of best CPU times (``time.process_time``, which other processes' load barely touches)
are shown next to it. torch runs on one thread (``--threads``), as the page does, so CPU time
is close to wall time on an idle machine.

Bars (exit status 1 when one fails): at 20,000 epochs ``lucky5.train`` >= 3x the post's loop
(the goal is 10x), 16 seeded runs in one ``train_many`` <= 1.5x the wall time of one run, and a
rule's run <= 1.2x the lucky number's.
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from lucky5 import Config, train, train_many
from lucky5.config import OPTIMIZERS

SPEED_BAR, SPEED_GOAL, MANY_BAR, MANY_K, RULE_BAR = 3.0, 10.0, 1.5, 16, 1.2
RULES = {"linear rule": "5 + 3*x1 - 2*x7", "product rule": "4 + 2*x1*x2"}


def torch_optimizer(c: Config, params) -> torch.optim.Optimizer:
    """What a reader would write for these settings (the post's line is the SGD one)."""
    if c.optimizer == "sgd":
        return torch.optim.SGD(params, lr=c.lr, momentum=c.momentum)
    if c.optimizer == "adam":
        return torch.optim.Adam(params, lr=c.lr, betas=c.betas, eps=c.eps)
    if c.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=c.lr, betas=c.betas, eps=c.eps)
    if c.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=c.lr, alpha=c.alpha, eps=c.eps, momentum=c.momentum)
    return torch.optim.Adagrad(params, lr=c.lr, lr_decay=c.lr_decay, eps=c.eps)


def post_loop(c: Config) -> None:
    """The blog post's training loop, as written there (nothing recorded)."""
    torch.manual_seed(c.seed)
    model = nn.Linear(10, 1)
    optimizer = torch_optimizer(c, model.parameters())
    loss_fn = nn.MSELoss()
    target = torch.tensor([[c.target]])
    for _ in range(c.epochs):
        x = torch.rand(size=(1, 10))
        optimizer.zero_grad()
        output = model(x)
        loss = loss_fn(output, target)
        loss.backward()
        optimizer.step()


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, this process's CPU seconds) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def interleaved(fns: list[Callable[[], object]], repeats: int) -> list[list[tuple[float, float]]]:
    """``repeats`` timings of each function, in turns, the order reversed every other turn."""
    times: list[list[tuple[float, float]]] = [[] for _ in fns]
    for r in range(repeats):
        order = list(range(len(fns)))
        for i in order if r % 2 == 0 else order[::-1]:
            times[i].append(timed(fns[i]))
    return times


def best(times: list[tuple[float, float]]) -> tuple[float, float]:
    return min(t[0] for t in times), min(t[1] for t in times)


def median_wall(times: list[tuple[float, float]]) -> float:
    return statistics.median(t[0] for t in times)


def speed_rows(configs: list[tuple[str, Config]], repeats: int) -> list[dict]:
    rows = []
    for label, c in configs:
        base, cand = interleaved([functools.partial(post_loop, c), functools.partial(train, c)], repeats)
        (base_wall, base_cpu), (cand_wall, cand_cpu) = best(base), best(cand)
        r = dict(
            label=label,
            epochs=c.epochs,
            post_steps_per_s=c.epochs / base_wall,
            lucky5_steps_per_s=c.epochs / cand_wall,
            ratio=base_wall / cand_wall,
            ratio_median=median_wall(base) / median_wall(cand),
            ratio_cpu=base_cpu / cand_cpu,
        )
        rows.append(r)
        print(
            f"  {label:<14} {c.epochs:>7,} {r['post_steps_per_s']:>12,.0f} {r['lucky5_steps_per_s']:>12,.0f}"
            f" {r['ratio']:>8.1f}x {r['ratio_median']:>8.1f}x {r['ratio_cpu']:>8.1f}x",
            flush=True,
        )
    return rows


def many_rows(epochs: int, ks: list[int], repeats: int) -> list[dict]:
    """K runs against one run; the one-run baseline is pooled over all turns (its best is the least disturbed)."""
    c = Config(epochs=epochs)
    fns: list[Callable[[], object]] = [lambda: train(c)]
    fns += [functools.partial(train_many, c, seeds=range(k)) for k in ks]
    one, *many = interleaved(fns, repeats)
    one_wall, one_cpu = best(one)
    rows = []
    for k, times in zip(ks, many, strict=True):
        k_wall, k_cpu = best(times)
        r = dict(
            k=k,
            epochs=epochs,
            one_run_s=one_wall,
            k_runs_s=k_wall,
            ratio=k_wall / one_wall,
            ratio_median=median_wall(times) / median_wall(one),
            ratio_cpu=k_cpu / one_cpu,
        )
        rows.append(r)
        print(
            f"  K={k:<4} {epochs:>7,} {r['one_run_s']:>10.3f} {r['k_runs_s']:>10.3f}"
            f" {r['ratio']:>8.2f}x {r['ratio_median']:>8.2f}x {r['ratio_cpu']:>8.2f}x",
            flush=True,
        )
    return rows


def rule_rows(epochs: int, repeats: int) -> list[dict]:
    """Each rule's run (and the linear rule with noise) against the lucky number's run, same settings."""
    lucky = Config(epochs=epochs)
    cases = [(label, lucky.replace(rule=rule)) for label, rule in RULES.items()]
    cases.append(("linear + noise", lucky.replace(rule=RULES["linear rule"], noise=0.5)))
    fns: list[Callable[[], object]] = [functools.partial(train, lucky)]
    fns += [functools.partial(train, c) for _, c in cases]
    base, *others = interleaved(fns, repeats)
    base_wall, base_cpu = best(base)
    rows = []
    for (label, _), times in zip(cases, others, strict=True):
        wall, cpu = best(times)
        r = dict(
            label=label,
            epochs=epochs,
            lucky_s=base_wall,
            rule_s=wall,
            ratio=wall / base_wall,
            ratio_median=median_wall(times) / median_wall(base),
            ratio_cpu=cpu / base_cpu,
        )
        rows.append(r)
        print(
            f"  {label:<16} {epochs:>7,} {r['lucky_s']:>10.3f} {r['rule_s']:>10.3f}"
            f" {r['ratio']:>8.2f}x {r['ratio_median']:>8.2f}x {r['ratio_cpu']:>8.2f}x",
            flush=True,
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, bars only indicative")
    parser.add_argument("--repeats", type=int, default=None, help="turns per measurement (default 3, quick 1)")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1, as the page)")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers to this file")
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    repeats = args.repeats or (1 if args.quick else 3)
    sizes = [200, 2_000] if args.quick else [200, 2_000, 20_000]
    ks = [MANY_K] if args.quick else [4, MANY_K, 64]
    per_optimizer_epochs = 200 if args.quick else 2_000
    big = sizes[-1]

    many_repeats = 2 * repeats + 1  # K-run turns are short: more of them
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); ratios of the best wall time of")
    print(f"{repeats} interleaved turns ({many_repeats} for K runs), then of medians, then of best CPU time")
    post_loop(Config(epochs=50))  # warm up both paths
    train(Config(epochs=50))
    train_many(Config(epochs=50), seeds=range(4))

    head = (
        f"  {'setting':<14} {'epochs':>7} {'post steps/s':>12} {'lucky5 st/s':>12}"
        f" {'ratio':>9} {'median':>9} {'cpu':>9}"
    )
    print("\nThe post's loop against lucky5.train (recording every step), SGD(lr=0.01, momentum=0.1), batch 1")
    print(head)
    speed = speed_rows([("post settings", Config(epochs=n)) for n in sizes], repeats)

    print(f"\nK seeded runs in one train_many against one train, {big:,} epochs")
    print(f"  {'runs':<6} {'epochs':>7} {'one run s':>10} {'K runs s':>10} {'K / one':>9} {'median':>9} {'cpu':>9}")
    many = many_rows(big, ks, many_repeats)

    print(f"\nPer optimizer (torch.optim defaults of Config, lr 0.01), {per_optimizer_epochs:,} epochs")
    print(head)
    per_opt = speed_rows([(o, Config(optimizer=o, epochs=per_optimizer_epochs)) for o in OPTIMIZERS], repeats)

    print(f"\nA rule in the inputs against the lucky number, lucky5.train, {big:,} epochs (same process)")
    print(f"  {'target':<16} {'epochs':>7} {'lucky s':>10} {'rule s':>10} {'rule/lucky':>9} {'median':>9} {'cpu':>9}")
    rules = rule_rows(big, many_repeats)

    at_big = next(r for r in speed if r["epochs"] == big)
    k_row = next(r for r in many if r["k"] == MANY_K)
    speed_ok = at_big["ratio"] >= SPEED_BAR
    many_ok = k_row["ratio"] <= MANY_BAR
    worst_rule = max((r for r in rules if r["label"] in RULES), key=lambda r: r["ratio"])
    rule_ok = worst_rule["ratio"] <= RULE_BAR
    note = " (quick: indicative only; the bars are set at 20,000 epochs)" if args.quick else ""
    print(f"\nBars{note}:")
    goal = "goal met" if at_big["ratio"] >= SPEED_GOAL else f"goal {SPEED_GOAL:g}x not yet"
    verdict = "PASS" if speed_ok else "FAIL"
    print(
        f"  {verdict}  lucky5.train at {big:,} epochs: {at_big['ratio']:.1f}x the post's loop"
        f" (bar >= {SPEED_BAR:g}x; {goal})"
    )
    print(
        f"  {'PASS' if many_ok else 'FAIL'}  {MANY_K} runs at {big:,} epochs: {k_row['ratio']:.2f}x one run"
        f" (bar <= {MANY_BAR:g}x)"
    )
    print(
        f"  {'PASS' if rule_ok else 'FAIL'}  a rule's run at {big:,} epochs: {worst_rule['ratio']:.2f}x the lucky"
        f" number's ({worst_rule['label']}, the slower rule; bar <= {RULE_BAR:g}x)"
    )
    if args.json:
        report = dict(
            torch=torch.__version__,
            threads=torch.get_num_threads(),
            repeats=repeats,
            quick=args.quick,
            speed=speed,
            many=many,
            per_optimizer=per_opt,
            rules=rules,
            bars=dict(speed=speed_ok, many=many_ok, rule=rule_ok),
        )
        args.json.write_text(json.dumps(report, indent=2))
    return 0 if speed_ok and many_ok and rule_ok else 1


if __name__ == "__main__":
    sys.exit(main())
