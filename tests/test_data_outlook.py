"""What a run on data is told after it ends (``lucky5.theory.empirical`` and ``claims.data_outlook``): its loss over
the rows at every epoch, the slowest time constant, how many epochs theory suggests, and which numbers are 0.

Oracles: the mean over every row computed directly, full-batch SGD (``torch.optim.SGD`` on the whole data set, the
noise-free mean of sampled rows) measured step by step, real runs of the suggested length, and the float32
rounding of targets drawn from an exact rule.
"""

from __future__ import annotations

import math

import pytest
import torch

from lucky5 import Config
from lucky5.data import from_rule, read_csv, sample_csv
from lucky5.engine import train
from lucky5.theory import (
    data_expected_loss,
    data_expected_losses,
    data_fit,
    data_outlook,
    data_time_constant,
    data_valley,
    data_zeroed,
    data_zeroed_loss,
)

F64 = torch.float64


@pytest.fixture(scope="module")
def sample():
    return read_csv(sample_csv())


def test_the_loss_at_every_epoch_is_the_mean_over_every_row(sample):
    history = train(Config(epochs=300, noise=0.2), data=sample)
    losses = data_expected_losses(sample, history.weights, history.biases, noise=0.2)
    x, y = sample.inputs().to(F64), sample.target.to(F64)
    for k in (0, 1, 57, 300):
        direct = float((x @ history.weights[k].to(F64) + float(history.biases[k]) - y).square().mean()) + 0.04
        assert float(losses[k]) == pytest.approx(direct, rel=1e-9)
    trained = history.trained
    assert float(losses[-1]) == pytest.approx(data_expected_loss(sample, trained.weight, trained.bias) + 0.04)
    assert losses.shape == (301,)


@pytest.mark.parametrize(("lr", "momentum", "nesterov"), [(0.05, 0.0, False), (0.02, 0.1, False), (0.01, 0.5, True)])
def test_the_slowest_time_constant_is_how_fast_full_batch_sgd_shrinks_the_slowest_error(lr, momentum, nesterov):
    """Full-batch SGD from the fit plus a step along the valley's slowest direction: the error shrinks by e every
    τ steps (measured over the last hundreds of steps, once the other directions are gone)."""
    data = from_rule("1 + 2*x1 - x2", 400, seed=2, width=3, scales=(1.0, 3.0, 0.5) + (1.0,) * 7)
    tau = data_time_constant(data, lr, momentum, nesterov=nesterov)
    fit = data_fit(data)
    slow = data_valley(data)[1][:, 0]
    theta = torch.nn.Parameter(fit.theta + slow)
    opt = torch.optim.SGD([theta], lr=lr, momentum=momentum, nesterov=nesterov)
    z = torch.cat([data.inputs().to(F64), torch.ones(data.rows, 1, dtype=F64)], 1)
    y = data.target.to(F64)
    errors = []
    for _ in range(int(3 * tau) + 400):
        opt.zero_grad()
        (z @ theta - y).square().mean().backward()
        opt.step()
        errors.append(float((theta.detach() - fit.theta) @ slow))
    measured = -400 / math.log(abs(errors[-1] / errors[-401]))
    assert measured == pytest.approx(tau, rel=0.02)


def test_more_epochs_are_suggested_when_far_above_the_floor_and_a_run_that_long_gets_there(sample):
    short = train(Config(), data=sample)
    end = data_expected_loss(sample, short.trained.weight, short.trained.bias)
    outlook = data_outlook(short.config, sample, end, short.steps)
    assert outlook.above and not outlook.jitter and outlook.epochs is not None and outlook.epochs > short.steps
    assert outlook.excess > 10 * outlook.tolerance
    long = train(Config(epochs=outlook.epochs), data=sample)  # a real run of the suggested length
    assert data_expected_loss(sample, long.trained.weight, long.trained.bias) - outlook.floor < outlook.tolerance
    there = data_outlook(long.config, sample, data_expected_loss(sample, long.trained.weight, long.trained.bias), 1)
    assert not there.above and there.epochs is None


def test_a_run_held_above_the_floor_by_jitter_is_not_told_to_train_longer(sample):
    """Near the stability limit SGD jitters far from the fit however long it runs: more epochs are not the fix."""
    ends = []
    for epochs in (2_000, 20_000):  # ten times longer, still as far above: the oracle that more epochs do not help
        config = Config(epochs=epochs, lr=0.44, seed=1)
        history = train(config, data=sample)
        ends.append(data_expected_loss(sample, history.trained.weight, history.trained.bias))
        outlook = data_outlook(config, sample, ends[-1], history.steps)
        assert outlook.above and outlook.jitter and outlook.epochs is None
    assert ends[1] - outlook.floor > 2 * outlook.tolerance
    end = ends[1]
    adam = data_outlook(Config(optimizer="adam"), sample, end, 200)  # no time constant claimed
    assert adam.above and adam.tau is None and adam.epochs is None and not adam.jitter


def test_numbers_within_float32_rounding_of_zero_are_zero_and_real_ones_are_kept():
    exact = from_rule("2 + 4*x2", 10_000, seed=0, width=3)
    fit = data_fit(exact)
    assert 0 < float(fit.weight[0].abs()) < 1e-6  # the float32 targets' rounding, fitted
    zeroed = data_zeroed(exact, fit.theta)
    assert zeroed[0] == 0 and zeroed[2] == 0 and zeroed[1] == fit.theta[1] and zeroed[-1] == fit.theta[-1]
    assert 0 < fit.floor < 1e-12 and data_zeroed_loss(exact, fit.floor) == 0
    noisy = from_rule("2 + 4*x2 + 0.001*x1", 10_000, seed=0, width=3)  # a small weight that is real
    kept = data_zeroed(noisy, data_fit(noisy).theta)
    assert float(kept[0]) == pytest.approx(0.001, rel=0.05)
    assert data_zeroed_loss(noisy, 1e-6) == 1e-6
