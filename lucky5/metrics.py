"""The blog post's test loop, with torchmetrics, made reproducible and explicit about what it prints.

The post tests its trained layer ten times: draw a random input, predict, print prediction and
target, and call one ``MeanSquaredError`` and one ``MeanAbsoluteError`` object on the pair. Because
the same objects are called every time, their state accumulates: calling a metric returns the
error of *this* pair (what the post printed), while ``compute()`` would return the error of *all
pairs so far*. ``evaluate`` records both, side by side, plus the aggregate over all inputs.

This module draws its inputs from a private ``torch.Generator`` (never the global RNG), does not
train, and knows nothing about a UI.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torchmetrics import MeanAbsoluteError, MeanSquaredError, MetricCollection

from .engine import IN_FEATURES, make_generator
from .layer import Layer
from .rules import Rule

MAX_INPUTS = 10_000


@dataclass(frozen=True)
class Evaluation:
    """n test inputs, the layer's predictions, and the errors as the post's loop sees them.

    "Per-input" fields describe one (prediction, target) pair each; "running" fields are what the
    accumulating metric objects hold after inputs 1..k, i.e. the cumulative means of the per-input
    errors; ``mse``/``mae`` are the aggregates over all n (equal to the last running values).
    """

    target: float  # the lucky number (with a rule: the rule's mean target over these inputs)
    seed: int  # the private generator's seed: same seed, same inputs
    inputs: torch.Tensor  # (n, 10) test inputs x ~ U(0, 1)^10
    predictions: torch.Tensor  # (n,) float64: the layer's float32 output for each input, widened exactly
    squared_errors: torch.Tensor  # (n,) per input: (prediction − target)², what the post printed as "MSE"
    absolute_errors: torch.Tensor  # (n,) per input: |prediction − target|, printed as "MAE"
    running_mse: torch.Tensor  # (n,) after input k: mean squared error of inputs 1..k
    running_mae: torch.Tensor  # (n,) after input k: mean absolute error of inputs 1..k (errors are float64)
    mse: float  # aggregate over all n inputs
    mae: float  # aggregate over all n inputs
    targets: torch.Tensor | None = None  # (n,) float64 per input, when a rule gives each input its own target

    @property
    def n(self) -> int:
        return int(self.predictions.shape[0])

    def rows(self) -> list[dict[str, Any]]:
        """One dict per input, in order, with plain Python numbers: ready for a table."""
        targets = self.targets.tolist() if self.targets is not None else [self.target] * self.n
        columns = zip(
            targets,
            self.predictions.tolist(),
            self.squared_errors.tolist(),
            self.absolute_errors.tolist(),
            self.running_mse.tolist(),
            self.running_mae.tolist(),
            strict=True,
        )
        return [
            {
                "input #": k,
                "prediction": pred,
                "target": target,
                "squared error": se,
                "absolute error": ae,
                "running MSE": rmse,
                "running MAE": rmae,
            }
            for k, (target, pred, se, ae, rmse, rmae) in enumerate(columns, start=1)
        ]


def _check(layer: Layer | nn.Linear, target: float, n: int, seed: int) -> None:
    """Raise ValueError naming the field, as Config does."""
    linear = isinstance(layer, nn.Linear) and layer.in_features == IN_FEATURES and layer.out_features == 1
    if not (linear or isinstance(layer, Layer)):
        raise ValueError(f"layer={layer!r} is not allowed: a Layer or an nn.Linear(10, 1)")
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_INPUTS:
        raise ValueError(f"n={n!r} is not allowed: a whole number from 1 to {MAX_INPUTS:,}")
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**63:
        raise ValueError(f"seed={seed!r} is not allowed: a whole number from 0 to 2**63 - 1")
    if not isinstance(target, (int, float)) or isinstance(target, bool) or not math.isfinite(target):
        raise ValueError(f"target={target!r} is not allowed: any finite number")
    if abs(target) > torch.finfo(torch.float32).max:
        raise ValueError(f"target={target!r} is not allowed: the layer computes in float32, which ends at ±3.4e38")


def evaluate(
    layer: Layer | nn.Linear, target: float, n: int = 10, seed: int = 0, rule: Rule | None = None
) -> Evaluation:
    """Test ``layer`` on n fresh random inputs the way the post does, recording every number.

    A ``Layer`` is tested as its ``module()``: the post's float32 ``nn.Linear`` forward pass. Inputs come
    from a private generator seeded with ``seed``: one ``torch.rand(n, 10)`` draw gives the same numbers as
    the post's n draws of ``torch.rand(1, 10)``. The layer is not changed. With a ``rule`` each input's
    target is the rule's value there (``Rule.evaluate`` in float32, widened: the target the layer was
    trained toward, without noise) and ``target`` is ignored.

    Raises:
        ValueError: ``layer`` is not a Layer or an nn.Linear(10, 1), or ``target``, ``n`` or ``seed`` is
            out of range (the message names which).
    """
    _check(layer, target, n, seed)
    if isinstance(layer, Layer):
        layer = layer.module()
    inputs = torch.rand(n, IN_FEATURES, generator=make_generator(seed))
    with torch.no_grad():  # testing only: no graph, and the layer's parameters stay untouched
        outputs = layer(inputs.to(layer.weight.dtype)).reshape(n)
    # The errors are taken in float64: a diverged layer's float32 outputs (about 3e19) are finite, but their
    # squares overflow float32 (3.4e38), and an "MSE inf" would misreport a finite number.
    predictions = outputs.double()
    if rule is not None:
        wanted = rule.evaluate(inputs).double()
    else:
        wanted = torch.full((n,), float(target), dtype=torch.float64)

    # One collection for the whole loop, fed one pair at a time: exactly the post's accumulation.
    collection = MetricCollection({"mse": MeanSquaredError(), "mae": MeanAbsoluteError()}).set_dtype(torch.float64)
    running = torch.empty(n, 2, dtype=torch.float64)
    for k in range(n):
        # update + compute, not collection(pred, target): calling it (forward) would also return
        # the per-input value, which plain arithmetic below gives without a second metric pass.
        collection.update(predictions[k : k + 1], wanted[k : k + 1])
        now = collection.compute()
        running[k, 0], running[k, 1] = now["mse"], now["mae"]

    diff = predictions - wanted
    return Evaluation(
        target=float(target) if rule is None else float(wanted.mean()),
        seed=seed,
        inputs=inputs,
        predictions=predictions,
        squared_errors=diff.square(),
        absolute_errors=diff.abs(),
        running_mse=running[:, 0].clone(),
        running_mae=running[:, 1].clone(),
        mse=float(running[-1, 0]),
        mae=float(running[-1, 1]),
        targets=wanted if rule is not None else None,
    )
