"""Tests for lucky5.metrics: the post's test loop, checked against plain arithmetic and torchmetrics."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch
from torch import nn
from torchmetrics import MeanAbsoluteError, MeanSquaredError

from lucky5 import Config, train
from lucky5.metrics import Evaluation, evaluate


@pytest.fixture(scope="module")
def layer() -> nn.Linear:
    return train(Config()).trained.module()  # the post's 200 steps: near 5 on average, not exactly 5


def _by_hand(layer: nn.Linear, inputs: torch.Tensor) -> torch.Tensor:
    """x·w + b in float64, without calling the layer."""
    return inputs.double() @ layer.weight.detach().double().reshape(-1) + float(layer.bias.detach())


def test_per_input_errors_are_plain_arithmetic(layer: nn.Linear) -> None:
    ev = evaluate(layer, 5.0, n=25, seed=3)
    assert ev.inputs.shape == (25, 10) and ev.n == 25
    pred = _by_hand(layer, ev.inputs)
    assert torch.allclose(ev.predictions.double(), pred, atol=1e-5)
    assert torch.allclose(ev.squared_errors.double(), (pred - 5.0) ** 2, rtol=1e-5, atol=1e-6)
    assert torch.allclose(ev.absolute_errors.double(), (pred - 5.0).abs(), atol=1e-5)


def test_inputs_are_the_posts_draws_from_a_private_generator(layer: nn.Linear) -> None:
    ev = evaluate(layer, 5.0, n=10, seed=42)
    g = torch.Generator().manual_seed(42)
    one_at_a_time = torch.cat([torch.rand(1, 10, generator=g) for _ in range(10)])  # as the post draws
    assert torch.equal(ev.inputs, one_at_a_time)


def test_running_values_are_cumulative_means(layer: nn.Linear) -> None:
    ev = evaluate(layer, 5.0, n=50, seed=1)
    pred = _by_hand(layer, ev.inputs)
    k = torch.arange(1, 51, dtype=torch.float64)
    assert torch.allclose(ev.running_mse.double(), ((pred - 5) ** 2).cumsum(0) / k, rtol=1e-5)
    assert torch.allclose(ev.running_mae.double(), (pred - 5).abs().cumsum(0) / k, rtol=1e-5)


def test_aggregate_equals_torchmetrics_on_all_inputs_at_once(layer: nn.Linear) -> None:
    ev = evaluate(layer, 5.0, n=40, seed=8)
    target = torch.full((40,), 5.0)
    assert ev.mse == pytest.approx(float(MeanSquaredError()(ev.predictions, target)), rel=1e-6)
    assert ev.mae == pytest.approx(float(MeanAbsoluteError()(ev.predictions, target)), rel=1e-6)
    assert ev.mse == float(ev.running_mse[-1]) and ev.mae == float(ev.running_mae[-1])


def test_the_posts_pattern_prints_per_input_values_while_state_accumulates(layer: nn.Linear) -> None:
    # The post's test_model(), ten times with the same two metric objects:
    #     mse = mse_metric(prediction, target_result); print(f"MSE: {mse}, MAE: {mae}")
    ev = evaluate(layer, 5.0, n=10, seed=0)
    mse_metric, mae_metric = MeanSquaredError(), MeanAbsoluteError()
    target = torch.tensor([[5.0]])
    for k in range(10):
        prediction = ev.predictions[k].reshape(1, 1)  # the post's loaded_model(input_vector), shape (1, 1)
        printed_mse, printed_mae = mse_metric(prediction, target), mae_metric(prediction, target)
        # What the post printed: this pair's error only ...
        assert float(printed_mse) == pytest.approx(float(ev.squared_errors[k]), rel=1e-5, abs=1e-7)
        assert float(printed_mae) == pytest.approx(float(ev.absolute_errors[k]), rel=1e-5, abs=1e-7)
        # ... while the objects silently hold the running value, which compute() would reveal.
        assert float(mse_metric.compute()) == pytest.approx(float(ev.running_mse[k]), rel=1e-5)
        assert float(mae_metric.compute()) == pytest.approx(float(ev.running_mae[k]), rel=1e-5)


def test_same_seed_same_evaluation_other_seed_other_inputs(layer: nn.Linear) -> None:
    a, b, c = evaluate(layer, 5.0, seed=7), evaluate(layer, 5.0, seed=7), evaluate(layer, 5.0, seed=8)
    assert torch.equal(a.inputs, b.inputs) and torch.equal(a.running_mse, b.running_mse) and a.mae == b.mae
    assert not torch.equal(a.inputs, c.inputs)


def test_global_rng_and_layer_are_untouched(layer: nn.Linear) -> None:
    before = torch.get_rng_state()
    params = [p.detach().clone() for p in layer.parameters()]
    evaluate(layer, 5.0, n=20, seed=5)
    assert torch.equal(torch.get_rng_state(), before)
    assert all(torch.equal(p, q) for p, q in zip(layer.parameters(), params, strict=True))
    assert all(p.grad is None for p in layer.parameters())


def test_rows_are_a_table_of_the_fields(layer: nn.Linear) -> None:
    ev = evaluate(layer, 5.0, n=4, seed=2)
    rows = ev.rows()
    assert [r["input #"] for r in rows] == [1, 2, 3, 4]
    assert list(rows[0]) == [
        "input #",
        "prediction",
        "target",
        "squared error",
        "absolute error",
        "running MSE",
        "running MAE",
    ]
    for k, r in enumerate(rows):
        assert r["target"] == 5.0 and r["prediction"] == float(ev.predictions[k])
        assert r["squared error"] == float(ev.squared_errors[k]) and r["running MAE"] == float(ev.running_mae[k])
        assert all(type(v) in (int, float) for v in r.values())


def test_evaluation_is_frozen(layer: nn.Linear) -> None:
    ev = evaluate(layer, 5.0, n=2)
    assert isinstance(ev, Evaluation)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ev.mse = 0.0  # type: ignore[misc]


def test_a_perfect_layer_has_zero_error() -> None:
    perfect = nn.Linear(10, 1)
    with torch.no_grad():
        perfect.weight.zero_()
        perfect.bias.fill_(5.0)
    ev = evaluate(perfect, 5.0, n=5)
    assert ev.mse == 0.0 and ev.mae == 0.0 and torch.all(ev.running_mse == 0)


@pytest.mark.parametrize("n", [0, -1, 10_001, 2.5, True, "10"])
def test_bad_n_is_refused_by_name(layer: nn.Linear, n: object) -> None:
    with pytest.raises(ValueError, match=r"^n="):
        evaluate(layer, 5.0, n=n)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"layer": nn.Linear(3, 1)}, "layer"),
        ({"seed": -1}, "seed"),
        ({"target": float("nan")}, "target"),
    ],
)
def test_other_bad_arguments_are_refused_by_name(layer: nn.Linear, kwargs: dict, field: str) -> None:
    args = {"layer": layer, "target": 5.0, **kwargs}
    with pytest.raises(ValueError, match=f"^{field}="):
        evaluate(**args)


def test_a_diverged_layer_gets_a_finite_mse_when_its_errors_are_finite():
    """Outputs near 3e19 are finite in float32 but their squares are not: the errors are taken in float64."""
    layer = torch.nn.Linear(10, 1)
    with torch.no_grad():
        layer.weight.fill_(6e18)
        layer.bias.zero_()
    result = evaluate(layer, 5.0, n=10, seed=0)
    assert torch.isfinite(result.predictions).all()
    expected = (result.predictions - 5.0).square().mean()  # the oracle: plain float64 arithmetic
    assert math.isfinite(result.mse) and result.mse == pytest.approx(float(expected), rel=1e-12)
    assert float(result.predictions.float().square().max()) == math.inf  # float32 would have said inf
