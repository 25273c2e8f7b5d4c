"""Training on a data set (``train(config, data=...)``) and the theory of it (``lucky5.theory.empirical``).

Oracles: the post's plain loop on the same rows (``tests/oracle.data_loop``), least squares by
``torch.linalg.lstsq``, the Hessian by autograd, the closed-form stability limit of U(0, 1) inputs, and
real runs on data built from rules.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from lucky5 import Config
from lucky5.data import Data, from_rule, read_csv
from lucky5.engine import init_parameters, make_generator, train, train_many
from lucky5.narration import share_of
from lucky5.step import explain_step
from lucky5.theory import (
    DIVERGES,
    NEAR_EDGE,
    WITHHELD,
    data_collinear,
    data_critical_lr,
    data_eigenvalues,
    data_expected_loss,
    data_fit,
    data_valley,
    sgd_critical_lr,
    stability,
)
from tests.oracle import data_loop

F64 = torch.float64


def params(history) -> torch.Tensor:
    return torch.cat([history.weights, history.biases.unsqueeze(1)], 1)


# --- the engine draws rows with the run's own generator, as the plain loop does ---------------------


def test_a_run_on_data_is_the_plain_loop_on_the_same_rows_bit_for_bit():
    """Batch 1, across a chunk boundary of the engine's draws (2,000 steps), with the post's momentum."""
    data = from_rule("1 + 2*x1 - x3", 500, seed=7, width=4)
    config = Config(epochs=2_100, seed=3, lr=0.05)
    expected = data_loop(config, data.inputs(), data.target)["params"]
    assert torch.equal(params(train(config, data=data)), expected)


def test_batches_and_nesterov_follow_the_plain_loop():
    data = from_rule("4 + 2*x1*x2", 300, seed=1, width=2)
    config = Config(epochs=300, batch_size=5, seed=11, lr=0.05, momentum=0.5, nesterov=True)
    expected = data_loop(config, data.inputs(), data.target)["params"]
    torch.testing.assert_close(params(train(config, data=data)), expected, rtol=1e-5, atol=1e-5)


def test_runs_are_reproducible_and_the_fingerprint_names_the_data():
    data = from_rule("2 + 4*x2", 1000, seed=0, width=3)
    config = Config(epochs=300)
    one, two = train(config, data=data), train(config, data=data)
    assert torch.equal(params(one), params(two)) and one.fingerprint() == two.fingerprint()
    assert one.fingerprint() == one.trained.fingerprint(data.digest) != one.trained.fingerprint()
    standardized = train(config, data=data.standardized())
    assert standardized.fingerprint() != one.fingerprint()
    plain = train(config)  # no data: the fingerprint is the parameters' alone, as before
    assert plain.data is None and plain.fingerprint() == plain.trained.fingerprint()
    many = train_many(config, seeds=[0, 5], data=data)
    torch.testing.assert_close(params(many[0]), params(one))
    assert many[1].fingerprint() == train(config.replace(seed=5), data=data).fingerprint()


def test_a_rule_and_data_cannot_both_give_the_target():
    with pytest.raises(ValueError, match="own targets"):
        train(Config(rule="1 + x1"), data=from_rule("1 + x1", 10, seed=0))


def test_unused_inputs_keep_their_initial_weights():
    data = from_rule("1 + 3*x2", 200, seed=2, width=2)
    history = train(Config(epochs=500, seed=4), data=data)
    start = init_parameters(make_generator(4))
    assert torch.equal(history.weights[-1, 2:], start[2:10])
    assert not torch.equal(history.weights[-1, :2], start[:2])


# --- the Done-when numbers of a data set's theory --------------------------------------------------


def test_data_from_a_linear_rule_recovers_the_rule():
    """10,000 rows of 2 + 4*x2: after 20,000 epochs every weight and the bias within 0.05 of the rule's."""
    data = from_rule("2 + 4*x2", 10_000, seed=0)
    rule = torch.zeros(10, dtype=F64)
    rule[1] = 4.0
    for history in train_many(Config(epochs=20_000), seeds=range(4), data=data):
        layer = history.trained
        assert (layer.weight.to(F64) - rule).abs().max() < 0.05
        assert abs(layer.bias - 2.0) < 0.05


def test_data_from_a_product_rule_ends_at_its_least_squares_fit():
    """4 + 2*x1*x2, 10,000 rows: runs end within 0.1 of the data's least-squares fit (lstsq's), whose floor is
    about the 1/36 one neuron cannot fit on U(0, 1) inputs."""
    data = from_rule("4 + 2*x1*x2", 10_000, seed=1)
    fit = data_fit(data)
    z = torch.cat([data.inputs().to(F64), torch.ones(data.rows, 1, dtype=F64)], 1)
    oracle = torch.linalg.lstsq(z, data.target.to(F64).unsqueeze(1)).solution.squeeze(1)
    torch.testing.assert_close(fit.theta, oracle, rtol=0, atol=1e-8)
    assert fit.rank == 11
    assert fit.floor == pytest.approx(1 / 36, rel=0.1)
    assert fit.floor == pytest.approx(data_expected_loss(data, fit.weight, fit.bias), rel=1e-9)
    for history in train_many(Config(epochs=20_000), seeds=range(4), data=data):
        assert history.trained.distance_to(fit) < 0.1


def test_collinear_and_constant_columns_end_at_the_minimum_norm_fit_plus_the_untouched_start():
    """x3 = 2·x1 and x4 = 1 (the bias's twin): SGD ends at θ_mn + (I − P)θ₀; θ_mn is lstsq's minimum norm."""
    g = torch.Generator().manual_seed(5)
    u = torch.rand(2_000, 2, generator=g, dtype=F64)
    x = torch.stack([u[:, 0], u[:, 1], 2 * u[:, 0], torch.ones(2_000, dtype=F64)], 1)
    data = Data.of(x, 1 + 3 * u[:, 0] - u[:, 1])
    z = torch.cat([data.inputs().to(F64), torch.ones(data.rows, 1, dtype=F64)], 1)
    min_norm = torch.linalg.lstsq(z, data.target.to(F64).unsqueeze(1), driver="gelsd").solution.squeeze(1)
    fit = data_fit(data)
    assert fit.rank == 3
    torch.testing.assert_close(fit.theta, min_norm, rtol=0, atol=1e-4)
    config = Config(epochs=20_000, seed=2)
    start = init_parameters(make_generator(config.seed)).to(F64)
    reached = data_fit(data, start=start)
    assert train(config, data=data).trained.distance_to(reached) < 0.05
    assert reached.floor == pytest.approx(0, abs=1e-9)  # the rule is linear in the columns: it fits


def test_the_hessian_eigenvalues_are_autograd_s():
    data = from_rule("1 + x1 - x2", 3_000, seed=3, width=5, scales=[3, 1, 0.5, 2, 1, 1, 1, 1, 1, 1])
    x, y = data.inputs().to(F64), data.target.to(F64)

    def loss(theta: torch.Tensor) -> torch.Tensor:
        return (x @ theta[:10] + theta[10] - y).square().mean()

    hessian = torch.autograd.functional.hessian(loss, torch.zeros(11, dtype=F64))
    torch.testing.assert_close(data_eigenvalues(data), torch.linalg.eigvalsh(hessian), rtol=1e-9, atol=1e-9)


def test_the_limit_on_uniform_rows_is_the_closed_form_limit_of_uniform_inputs():
    """10,000 rows of U(0, 1)^10: the rows' moments are near the distribution's, and so is the limit."""
    data = from_rule("5", 10_000, seed=0)
    for batch, momentum in ((1, 0.1), (4, 0.5)):
        expected = sgd_critical_lr(batch, momentum)
        assert data_critical_lr(data, batch, momentum) == pytest.approx(expected, rel=0.01)


def test_the_limit_for_unscaled_columns_separates_settling_from_diverging_runs():
    """A column on [2, 10] beside columns on [0, 1] and [0, 0.1]: the limit is far below the noise-free one
    (the rows' fourth moments), and at 0.9× it all 8 runs settle, at 1.25× all 8 blow up."""
    g = torch.Generator().manual_seed(0)
    u = torch.rand(2_000, 3, generator=g, dtype=F64)
    x = torch.stack([2 + 8 * u[:, 0], u[:, 1], 0.1 * u[:, 2]], 1)
    data = Data.of(x, 1 + 0.5 * x[:, 0] - 2 * x[:, 1] + 3 * x[:, 2])
    limit = data_critical_lr(data, momentum=0.1)
    noise_free = 2 * 1.1 / float(data_eigenvalues(data)[-1])
    assert 1.25 * limit < noise_free  # the averaged (noise-free) theory would call 1.25× stable
    config = Config(epochs=8_000)
    for history in train_many(config, seeds=range(8), lrs=[0.9 * limit] * 8, data=data):
        assert history.diverged_at is None
        assert history.losses[-1_000:].mean() < history.losses[:100].mean() / 10
    for history in train_many(config, seeds=range(8), lrs=[1.25 * limit] * 8, data=data):
        grew = history.losses[-1_000:].mean() > 1e6 * history.losses[:100].mean()
        assert history.diverged_at is not None or grew


def test_the_valley_is_the_two_slowest_directions_the_rows_span():
    """Eigenvectors of autograd's Hessian with its two smallest eigenvalues that are not 0 (3 unused inputs)."""
    data = from_rule("2 - x1 + x2", 2_000, seed=4, width=7, scales=[1, 1, 1, 1, 1, 1, 5, 1, 1, 1])
    x, y = data.inputs().to(F64), data.target.to(F64)

    def loss(theta: torch.Tensor) -> torch.Tensor:
        return (x @ theta[:10] + theta[10] - y).square().mean()

    hessian = torch.autograd.functional.hessian(loss, torch.zeros(11, dtype=F64))
    values = torch.linalg.eigvalsh(hessian)
    slow, plane = data_valley(data)
    torch.testing.assert_close(slow, values[3:5], rtol=1e-9, atol=1e-12)  # 3 zeros: x8, x9, x10
    torch.testing.assert_close(hessian @ plane, plane * slow, rtol=1e-7, atol=1e-9)
    torch.testing.assert_close(plane.T @ plane, torch.eye(2, dtype=F64), rtol=0, atol=1e-12)
    assert not plane[7:10].any()


def test_explain_step_on_data_shows_the_rows_the_run_picked():
    """The step's rows are data rows, and its gradient is autograd's of their loss at the step's parameters."""
    data = from_rule("1 + 2*x1", 50, seed=6, width=2)
    config = Config(epochs=40, batch_size=3, noise=0.1)
    shown = explain_step(config, 17, data=data)
    rows = data.inputs()
    assert all(any(torch.equal(r, row) for row in rows) for r in shown.x)
    theta = shown.params_before.clone().requires_grad_(True)
    loss = (shown.x @ theta[:10] + theta[10] - shown.targets).square().mean()
    loss.backward()
    torch.testing.assert_close(shown.grad, theta.grad, rtol=1e-5, atol=1e-6)
    history = train(config, data=data)
    assert shown.loss == float(history.losses[17])
    assert torch.equal(shown.params_after, params(history)[18])


def test_the_stability_gauge_on_data_uses_the_data_s_limit():
    uniform = from_rule("5", 10_000, seed=0)
    config = Config(lr=0.2)
    on_data, closed_form = stability(config, uniform), stability(config)
    assert on_data.limit == pytest.approx(closed_form.limit, rel=0.01)
    assert on_data.verdict == closed_form.verdict == NEAR_EDGE
    unscaled = from_rule("1 + x1", 2_000, seed=1, width=2, scales=[10, 1, 1, 1, 1, 1, 1, 1, 1, 1])
    gauge = stability(config, unscaled)
    assert gauge.limit == data_critical_lr(unscaled, 1, 0.1) and gauge.verdict == DIVERGES
    assert stability(Config(optimizer="adam"), unscaled).verdict == WITHHELD
    huge = Data.of(torch.ones(3, 1), torch.tensor([1.0, 2.0, 3e19]))
    assert "your data's largest target 3e+19" in stability(Config(), huge).note


def _unscaled_csv(rows: int = 500) -> bytes:
    """A file a learner writes: area, price_k in 1,000-9,000 and year 1950-2020, y = 0.001·area + 0.0005·price_k + 1.
    Large but independent columns: one least-squares fit, with year's weight 0."""
    g = torch.Generator().manual_seed(24)
    area = (1000 + 8000 * torch.rand(rows, generator=g, dtype=F64)).round(decimals=1)
    price = (1000 + 8000 * torch.rand(rows, generator=g, dtype=F64)).round(decimals=1)
    year = torch.randint(1950, 2021, (rows,), generator=g)
    columns = zip(area.tolist(), price.tolist(), year.tolist(), strict=True)
    lines = [f"{a!r},{p!r},{t},{0.001 * a + 0.0005 * p + 1!r}" for a, p, t in columns]
    return ("area,price_k,year,y\n" + "\n".join(lines) + "\n").encode()


def test_large_unscaled_columns_are_not_collinear_and_fit_as_lstsq_does():
    """Rank is decided on centred, scaled columns: values in the thousands keep full rank (no warning), and the fit
    equals numpy's float64 lstsq on the same numbers within 1e-6 relative."""
    data = read_csv(_unscaled_csv())
    fit = data_fit(data)
    z = np.c_[data.features.double().numpy(), np.ones(data.rows)]
    oracle = np.linalg.lstsq(z, data.target.double().numpy(), rcond=None)[0]
    assert fit.rank == data.width + 1  # unique on the used inputs (the unused ones are zeros, outside the span)
    assert data_collinear(data) == ()
    got = np.r_[fit.weight[: data.width].numpy(), fit.bias]
    assert np.linalg.norm(got - oracle) <= 1e-6 * np.linalg.norm(oracle)


def test_a_column_equal_to_another_plus_a_constant_is_named_as_collinear():
    """x2 = x1 + 0.1 exactly in the file (float32 rounds it, a little): the fit is not unique, x1 and x2 are
    named and x3, independent, is not."""
    g = torch.Generator().manual_seed(3)
    x1, x3 = torch.rand(300, generator=g, dtype=F64).tolist(), torch.rand(300, generator=g, dtype=F64).tolist()
    rows = [f"{a!r},{a + 0.1!r},{c!r},{2 * a - c!r}" for a, c in zip(x1, x3, strict=True)]
    data = read_csv(("x1,x2,x3,y\n" + "\n".join(rows) + "\n").encode())
    assert data_fit(data).rank == data.width
    assert data_collinear(data) == ("x1", "x2")


def test_divergence_advice_on_unscaled_data_is_the_datas_limit_and_standardising():
    """lr 0.01 on columns in the thousands diverges; the advice names the data's own limit (not the lucky number's,
    ``sgd_critical_lr``) and Standardise, and following it (0.8 × the limit) trains without diverging."""
    data = read_csv(_unscaled_csv())
    gauge = stability(Config(lr=0.01), data)
    limit = data_critical_lr(data, momentum=0.1)
    assert gauge.limit == pytest.approx(limit, rel=1e-12)
    assert f"{0.8 * limit:.2g}" in gauge.hint and "Standardise" in gauge.hint
    assert f"{sgd_critical_lr(1, 0.1):.3g}" not in gauge.hint
    assert train(Config(lr=0.01, epochs=200), data=data).diverged_at is not None
    advised = float(re.search(r"below ≈ (\S+) ", gauge.hint).group(1))
    assert train(Config(lr=advised, epochs=2_000), data=data).diverged_at is None
    small = stability(Config(lr=5.0), from_rule("2*x1", 500, seed=1))  # columns in [0, 1]: no standardising advice
    assert "Standardise" not in small.hint and "your data's stability limit" in small.hint


def test_a_share_far_above_the_whole_is_written_as_times():
    assert share_of(0.92, "the limit") == "92% of the limit"
    assert share_of(9.5, "the limit") == "950% of the limit"
    assert share_of(22.3, "the limit") == "about 22 times the limit"  # not "about 2×10¹ times"
    assert share_of(999.2, "the limit") == "about 999 times the limit"
    assert share_of(928_798.95, "the limit") == "about 9×10⁵ times the limit"
