"""Tests for lucky5.theory: every formula against an independent computation.

Independent means: Monte-Carlo averages over seeded random inputs (tolerances from their standard
errors), autograd derivatives of the expected loss, explicit gradient-descent runs, or real training
with lucky5.train. No expected value here is copied from the implementation.
"""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from lucky5 import Config, theory, train, train_many
from lucky5.theory.claims import _stall_epochs
from lucky5.theory.mean_square import _second_moment_step

N_MC = 1_000_000
Z_SCORE = 5.0  # a correct formula fails a 5-sigma check about once in 1.7 million


@pytest.fixture(scope="module")
def inputs() -> torch.Tensor:
    """10^6 inputs x ~ U(0, 1)^10 in float64, from a private seeded generator."""
    return torch.rand(N_MC, 10, generator=torch.Generator().manual_seed(1234), dtype=torch.float64)


def _mean_and_se(samples: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Monte-Carlo mean over dim 0 and its standard error."""
    return samples.mean(0), samples.std(0) / math.sqrt(samples.shape[0])


def _outer_mean_and_se(s: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean of the outer products s_k s_kᵀ over rows k, and its standard error, without storing them."""
    n = s.shape[0]
    mean = s.T @ s / n
    mean_sq = s.square().T @ s.square() / n  # E[(s_i s_j)²]
    return mean, ((mean_sq - mean.square()).clamp(min=0) * n / (n - 1) / n).sqrt()


def _random_layers(k: int, seed: int) -> list[tuple[torch.Tensor, float, float]]:
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(k):
        w = (torch.rand(10, generator=g, dtype=torch.float64) - 0.5) * 4
        b = float(torch.rand(1, generator=g) * 10 - 5)
        t = float(torch.rand(1, generator=g) * 20 - 10)
        out.append((w, b, t))
    return out


def _autograd_hessian(target: float = 5.0) -> torch.Tensor:
    def loss(p: torch.Tensor) -> torch.Tensor:
        return theory.expected_loss(p[:10], p[10], target)

    return torch.autograd.functional.hessian(loss, torch.zeros(11, dtype=torch.float64))


# --- expected loss ----------------------------------------------------------------------


@pytest.mark.parametrize("k", range(4))
def test_expected_loss_matches_monte_carlo(inputs: torch.Tensor, k: int) -> None:
    w, b, t = _random_layers(4, seed=7)[k]
    mean, se = _mean_and_se((inputs @ w + b - t).square())
    assert abs(float(theory.expected_loss(w, b, t)) - float(mean)) < Z_SCORE * float(se)


def test_expected_loss_at_post_initialisation_matches_monte_carlo(inputs: torch.Tensor) -> None:
    # The post's own starting point: nn.Linear's default initialisation, target 5.
    h = train(Config(epochs=1))
    w, b = h.weights[0].double(), float(h.biases[0])
    mean, se = _mean_and_se((inputs @ w + b - 5.0).square())
    assert abs(float(theory.expected_loss(w, b, 5.0)) - float(mean)) < Z_SCORE * float(se)


def test_mean_error_and_spread_are_mean_and_std_of_the_prediction(inputs: torch.Tensor) -> None:
    for w, b, t in _random_layers(3, seed=11):
        pred = inputs @ w + b
        mean, se = _mean_and_se(pred)
        assert abs(float(theory.mean_error(w, b, t)) - (float(mean) - t)) < Z_SCORE * float(se)
        # The standard deviation of a sample std is about std / sqrt(2N) for near-normal data.
        std = float(pred.std())
        assert abs(float(theory.prediction_spread(w)) - std) < Z_SCORE * std / math.sqrt(2 * N_MC) * 2


def test_expected_loss_is_vectorised_and_float64() -> None:
    g = torch.Generator().manual_seed(3)
    w = torch.randn(3, 4, 10, generator=g)  # float32 in, float64 out
    b = torch.randn(3, 4, generator=g)
    got = theory.expected_loss(w, b, 2.5)
    assert got.shape == (3, 4) and got.dtype == torch.float64
    for i in range(3):
        for j in range(4):
            one = theory.expected_loss(w[i, j], float(b[i, j]), 2.5)
            assert torch.allclose(got[i, j], one, rtol=1e-12, atol=0)


def test_optimum_has_zero_loss_and_zero_gradient() -> None:
    w0, b0 = theory.optimum(5.0)
    assert w0.shape == (10,) and torch.all(w0 == 0) and b0 == 5.0
    p = torch.cat([w0, torch.tensor([b0], dtype=torch.float64)]).requires_grad_()
    loss = theory.expected_loss(p[:10], p[10], 5.0)
    (grad,) = torch.autograd.grad(loss, p)
    assert float(loss.detach()) == 0.0 and torch.all(grad == 0)
    # and every step away from it costs something (the Hessian is positive definite)
    g = torch.Generator().manual_seed(5)
    for _ in range(20):
        d = torch.randn(11, generator=g, dtype=torch.float64) * 1e-3
        assert float(theory.expected_loss(w0 + d[:10], b0 + d[10], 5.0)) > 0


# --- curvature --------------------------------------------------------------------------


def test_hessian_matches_autograd_and_monte_carlo(inputs: torch.Tensor) -> None:
    h = theory.hessian()
    assert h.shape == (11, 11) and h.dtype == torch.float64
    assert torch.allclose(h, _autograd_hessian(), rtol=0, atol=1e-12)
    z = torch.cat([inputs, torch.ones(N_MC, 1, dtype=torch.float64)], 1)
    mean, se = _outer_mean_and_se(z)
    assert torch.all((h - 2 * mean).abs() <= Z_SCORE * 2 * se + 1e-15)


def test_eigenvalues_match_monte_carlo_and_the_2x2_block(inputs: torch.Tensor) -> None:
    ev = theory.eigenvalues()
    assert torch.allclose(ev, torch.linalg.eigvalsh(_autograd_hessian()), rtol=1e-12, atol=1e-12)
    z = torch.cat([inputs, torch.ones(N_MC, 1, dtype=torch.float64)], 1)
    mc = torch.linalg.eigvalsh(2 * z.T @ z / N_MC)
    assert torch.allclose(ev, mc, rtol=0.02, atol=0)
    # nine at 1/6, and the two ends are the block 2·[[1/12 + 10/4, √10/2], [√10/2, 1]]
    assert torch.allclose(ev[1:10], torch.full((9,), 1 / 6, dtype=torch.float64), rtol=1e-12)
    r = math.sqrt(10) / 2
    block = 2 * torch.tensor([[1 / 12 + 10 / 4, r], [r, 1.0]], dtype=torch.float64)
    slow, fast = torch.linalg.eigvalsh(block).tolist()
    assert theory.slow_eigenvalue() == pytest.approx(slow, rel=1e-12)
    assert theory.fast_eigenvalue() == pytest.approx(fast, rel=1e-12)
    assert 7.1 < fast < 7.13 and 0.046 < slow < 0.048


def test_directions_are_unit_eigenvectors() -> None:
    h = _autograd_hessian()
    pairs = [(theory.fast_direction(), theory.fast_eigenvalue()), (theory.slow_direction(), theory.slow_eigenvalue())]
    for v, lam in pairs:
        assert float(v.norm()) == pytest.approx(1.0, rel=1e-12)
        assert torch.allclose(h @ v, lam * v, atol=1e-12)
    # the slow direction barely changes the mean prediction: it is the valley floor
    slow = theory.slow_direction()
    assert abs(0.5 * float(slow[:10].sum()) + float(slow[10])) < 0.03


# --- learning-rate limits by explicit gradient descent on the expected loss ----------------


def _heavy_ball(start: torch.Tensor, lr: float, momentum: float, steps: int) -> torch.Tensor:
    """Distance to the optimum after each step of torch.optim.SGD's update on the expected loss.

    The gradient is H·error with H from autograd (exact: the loss is quadratic).
    """
    h = _autograd_hessian()
    e, v = start.clone(), torch.zeros_like(start)
    out = torch.empty(steps + 1, dtype=torch.float64)
    out[0] = e.norm()
    for k in range(steps):
        v = momentum * v + h @ e
        e = e - lr * v
        out[k + 1] = e.norm()
    return out


def _start() -> torch.Tensor:
    return torch.rand(11, generator=torch.Generator().manual_seed(9), dtype=torch.float64) - 0.5


@pytest.mark.parametrize("momentum", [0.0, 0.1, 0.5])
def test_critical_lr_separates_convergence_from_divergence(momentum: float) -> None:
    lr = theory.critical_lr(momentum)
    below = _heavy_ball(_start(), 0.98 * lr, momentum, 3000)
    above = _heavy_ball(_start(), 1.02 * lr, momentum, 3000)
    assert below[-1] < 1e-6 * below[0]
    assert above[-1] > 1e3 * above[0]


def test_critical_lr_values_and_edges() -> None:
    assert theory.critical_lr() == pytest.approx(0.281, abs=1e-3)
    assert theory.critical_lr(1.0) == 0.0 and theory.sgd_critical_lr(1, 1.5) == 0.0
    with pytest.raises(ValueError, match="momentum"):
        theory.critical_lr(-0.1)


def _measured_time_constant(dist: torch.Tensor, a: int, b: int, window: int) -> float:
    """Time constant from the decay of the envelope (max over a window, for oscillating runs)."""
    env_a, env_b = float(dist[a : a + window].max()), float(dist[b : b + window].max())
    return (b - a) / math.log(env_a / env_b)


@pytest.mark.parametrize(
    "lr, momentum, a, b",
    # the last case oscillates (complex roots, period ≈ 130 steps): a long span keeps the
    # envelope's sampling error small
    [(0.01, 0.1, 6000, 12000), (0.1, 0.5, 600, 1200), (0.1, 0.9, 200, 2000)],
)
def test_slow_time_constant_matches_long_gradient_descent(lr: float, momentum: float, a: int, b: int) -> None:
    # From a generic start the slow direction outlives the others, so late decay measures it.
    dist = _heavy_ball(_start(), lr, momentum, b + 150)
    measured = _measured_time_constant(dist, a, b, window=150)
    assert theory.slow_time_constant(lr, momentum) == pytest.approx(measured, rel=0.01)


def test_slow_time_constant_of_the_post_settings() -> None:
    assert theory.slow_time_constant(0.01, 0.1) == pytest.approx(1920, rel=0.01)


@pytest.mark.parametrize("lr, momentum", [(0.01, 0.1), (0.2, 0.0), (0.05, 0.9)])
def test_fast_time_constant_matches_gradient_descent_along_the_fast_eigenvector(lr: float, momentum: float) -> None:
    start = torch.linalg.eigh(_autograd_hessian()).eigenvectors[:, -1]  # independent of theory
    tau = theory.fast_time_constant(lr, momentum)
    # A long span for the oscillating (m = 0.9) case, but not so long that rounding errors along
    # slower directions (≈ 1e-16 of the start) catch up with the decaying fast part.
    a, b = int(3 * tau), int(28 * tau)
    dist = _heavy_ball(start, lr, momentum, b + 60)
    assert tau == pytest.approx(_measured_time_constant(dist, a, b, window=60), rel=0.01)


def test_time_constant_is_infinite_beyond_the_critical_lr() -> None:
    assert theory.fast_time_constant(1.01 * theory.critical_lr(0.1), 0.1) == math.inf


# --- stochastic SGD: the honest divergence limit ------------------------------------------


def test_sgd_critical_lr_lies_below_the_noise_free_limit_and_approaches_it() -> None:
    for m in (0.0, 0.1, 0.5, 0.9):
        limits = [theory.sgd_critical_lr(b, m) for b in (1, 2, 4, 16, 1024)]
        assert all(0 < x < theory.critical_lr(m) for x in limits)
        assert limits == sorted(limits)  # bigger batches, less noise, larger steps
        assert limits[-1] == pytest.approx(theory.critical_lr(m), rel=2e-3)
        assert theory.mean_square_growth(limits[0], 1, m) == pytest.approx(1.0, abs=1e-8)


def _runs(batch: int, momentum: float, lr: float) -> list:
    return train_many(Config(epochs=2000, lr=lr, momentum=momentum, batch_size=batch), seeds=list(range(8)))


@pytest.mark.parametrize("batch, momentum", [(1, 0.1), (1, 0.0), (1, 0.5), (4, 0.1)])
def test_sgd_critical_lr_predicts_real_training(batch: int, momentum: float) -> None:
    lr = theory.sgd_critical_lr(batch, momentum)
    for h in _runs(batch, momentum, 0.9 * lr):  # just below: every run settles
        dist = theory.distances_to_optimum(h)
        assert h.diverged_at is None and dist[-1] < 1e-3 * dist[0]
    assert all(h.diverged_at is not None for h in _runs(batch, momentum, 1.25 * lr))


def test_post_settings_blow_up_below_the_noise_free_limit() -> None:
    # The reason sgd_critical_lr exists: at the post's batch 1 and momentum 0.1, runs diverge at
    # learning rates that plain gradient descent on the expected loss would handle.
    lr = 1.25 * theory.sgd_critical_lr(1, 0.1)
    assert lr < theory.critical_lr(0.1)
    assert all(h.diverged_at is not None for h in _runs(1, 0.1, lr))


def test_sgd_critical_lr_with_heavy_momentum() -> None:
    # With m = 0.9 the blow-up is slower (it may not overflow in 2,000 steps) but just as real.
    lr = theory.sgd_critical_lr(1, 0.9)
    assert lr < theory.critical_lr(0.9) / 5
    for h in _runs(1, 0.9, 0.9 * lr):
        dist = theory.distances_to_optimum(h)
        assert dist[-1] < 1e-3 * dist[0]
    for h in _runs(1, 0.9, 1.5 * lr):
        assert h.diverged_at is not None or theory.distances_to_optimum(h)[-1] > 1e6


def test_second_moment_step_matches_monte_carlo() -> None:
    # One step of the map behind mean_square_growth, against simulated batches (private helper:
    # it carries the derivation, so it gets its own check).
    lr, m, batch, n = 0.2, 0.1, 2, 400_000
    g = torch.Generator().manual_seed(21)
    s = torch.randn(22, generator=g, dtype=torch.float64)
    e, v = s[:11], s[11:]
    x = torch.rand(n, batch, 10, generator=g, dtype=torch.float64)
    z = torch.cat([x, torch.ones(n, batch, 1, dtype=torch.float64)], -1)
    grad = 2 / batch * (z * (z @ e).unsqueeze(-1)).sum(1)  # H·e for each simulated batch
    v_new = m * v + grad
    s_new = torch.cat([e - lr * v_new, v_new], 1)
    mean, se = _outer_mean_and_se(s_new)
    predicted = _second_moment_step(torch.outer(s, s).unsqueeze(0), lr, m, batch)[0]
    assert torch.all((predicted - mean).abs() <= Z_SCORE * se + 1e-12)


def test_symmetry_reduction_keeps_the_spectral_radius() -> None:
    # mean_square_growth works in 20 permutation-symmetric dimensions; the full map has 484.
    lr, m, batch = 0.15, 0.3, 1
    units = torch.eye(484, dtype=torch.float64).reshape(484, 22, 22)
    full = _second_moment_step(units, lr, m, batch).reshape(484, 484).T
    radius = float(torch.linalg.eigvals(full).abs().max())
    assert theory.mean_square_growth(lr, batch, m) == pytest.approx(radius, rel=1e-9)


# --- views of real runs -------------------------------------------------------------------


@pytest.fixture(scope="module")
def long_runs() -> list:
    return train_many(Config(epochs=20_000), seeds=[0, 1, 2])


def test_post_settings_reach_the_optimum_in_20000_steps(long_runs: list) -> None:
    for h in long_runs:
        assert h.diverged_at is None
        assert abs(float(h.biases[-1]) - 5.0) < 0.1
        assert float(h.weights[-1].abs().max()) < 0.05


def test_step_losses_scatter_around_the_expected_loss(long_runs: list) -> None:
    # Each step's input is independent of the parameters it meets, so E[loss_k] = E[L](θ_k):
    # the mean of (loss − expected loss) over many steps is zero within its standard error.
    for h in long_runs:
        diff = h.losses[:5000].double() - theory.expected_losses(h)[:5000]
        mean, se = _mean_and_se(diff)
        assert abs(float(mean)) < Z_SCORE * float(se)


def test_history_views() -> None:
    h = train(Config(epochs=300, seed=4))
    t = h.config.target
    w, b = h.weights.double(), h.biases.double()
    for f in (theory.expected_losses, theory.mean_errors, theory.weight_norms, theory.bias_errors):
        assert f(h).shape == (301,) and f(h).dtype == torch.float64
    assert torch.allclose(theory.weight_norms(h), torch.linalg.vector_norm(w, dim=1))
    assert torch.allclose(theory.bias_errors(h), (b - t).abs())
    assert torch.allclose(theory.mean_errors(h), w.mean(1) * 5 + b - t)
    error = torch.cat([w, (b - t)[:, None]], 1)
    assert torch.allclose(theory.distances_to_optimum(h), torch.linalg.vector_norm(error, dim=1))
    rows = torch.stack([theory.expected_loss(w[i], float(b[i]), t) for i in range(301)])
    assert torch.allclose(theory.expected_losses(h), rows)
    # the fast quantity is settled long before the slow one
    assert abs(float(theory.mean_errors(h)[-1])) < 0.1 * abs(float(theory.mean_errors(h)[0]))
    assert float(theory.bias_errors(h)[-1]) > 2.0


def test_modes_split_the_distance_and_the_loss() -> None:
    h = train(Config(epochs=300, seed=2))
    md = theory.modes(h)
    dist = theory.distances_to_optimum(h)
    assert torch.allclose(md.fast.square() + md.slow.square() + md.other.square(), dist.square())
    loss = 0.5 * (theory.fast_eigenvalue() * md.fast.square() + theory.slow_eigenvalue() * md.slow.square())
    loss = loss + 0.5 / 6 * md.other.square()
    assert torch.allclose(loss, theory.expected_losses(h))
    # after 300 steps the fast part is gone and the slow part carries almost all the distance
    assert abs(float(md.fast[-1])) < 0.01 * float(dist[-1]) < float(md.slow[-1].abs())


# --- the loss split into three terms, and the valley plane --------------------------------


def _direct_terms(w: list[float], b: float, t: float) -> tuple[float, float, float]:
    """The three terms from their definitions, in plain Python floats (math.fsum)."""
    total = math.fsum(w)
    mean = total / len(w)
    return (0.5 * total + b - t) ** 2, total**2 / 120, math.fsum((v - mean) ** 2 for v in w) / 12


@pytest.mark.parametrize("seed, target", [(4, 5.0), (9, -3.5)])
def test_loss_terms_match_their_definitions_and_sum_to_the_expected_loss(seed: int, target: float) -> None:
    h = train(Config(epochs=400, seed=seed, target=target))
    terms = theory.loss_terms(h)
    assert terms.shape == (401, 3) and terms.dtype == torch.float64
    assert torch.allclose(terms.sum(-1), theory.expected_losses(h), rtol=1e-12, atol=1e-15)
    for i in (0, 1, 37, 400):
        want = _direct_terms(h.weights[i].double().tolist(), float(h.biases[i]), target)
        assert terms[i].tolist() == pytest.approx(want, rel=1e-12, abs=1e-15)
    assert len(theory.LOSS_TERM_NAMES) == 3
    # the fast error is the first to go: at the start it dominates, after 400 epochs it does not
    assert int(terms[0].argmax()) == 0 and float(terms[-1, 0]) < float(terms[-1, 1:].max())


def test_loss_terms_sum_matches_monte_carlo(inputs: torch.Tensor) -> None:
    h = train(Config(epochs=50, seed=1))
    w, b = h.weights[-1].double(), float(h.biases[-1])
    mean, se = _mean_and_se((inputs @ w + b - 5.0).square())
    assert abs(float(theory.loss_terms(h)[-1].sum()) - float(mean)) < Z_SCORE * float(se)


def test_valley_coordinates_and_the_ellipse() -> None:
    h = train(Config(epochs=300, seed=3))
    uv = theory.valley_coordinates(h)
    assert uv.shape == (301, 2) and uv.dtype == torch.float64
    w, b = h.weights.double(), h.biases.double()
    assert torch.allclose(uv[:, 0] * math.sqrt(10), w.sum(1), rtol=1e-12)
    assert torch.equal(uv[:, 1], b)
    # fast error + valley term is the expected loss of the layer with every weight equal to mean(w)
    u, bias = uv[:, 0], uv[:, 1]
    ellipse = (u * math.sqrt(10) / 2 + bias - 5.0).square() + u.square() / 12
    flat_w = w.mean(1, keepdim=True).expand(-1, 10)
    assert torch.allclose(ellipse, theory.expected_loss(flat_w, b, 5.0), rtol=1e-12)
    assert torch.allclose(ellipse, theory.loss_terms(h)[:, :2].sum(-1), rtol=1e-12)


# --- every torch.optim.SGD option: dampening, Nesterov, weight decay -------------------------


def _direct_expected_loss(p: torch.Tensor, target: float) -> torch.Tensor:
    """(0.5·Σw + b − t)² + ‖w‖²/12 written out here (Monte Carlo checks it above), not theory's."""
    return (0.5 * p[:10].sum() + p[10] - target) ** 2 + p[:10].square().sum() / 12


def _torch_sgd_on_expected_loss(
    steps: int, target: float = 5.0, start: torch.Tensor | None = None, **sgd: float | bool
) -> torch.Tensor:
    """torch.optim.SGD itself, in float64, on the expected loss: the parameters after every step (steps + 1, 11)."""
    if start is None:
        start = torch.rand(11, generator=torch.Generator().manual_seed(9), dtype=torch.float64) - 0.5
    p = start.clone().requires_grad_()
    opt = torch.optim.SGD([p], **sgd)  # type: ignore[arg-type]
    out = torch.empty(steps + 1, 11, dtype=torch.float64)
    out[0] = p.detach()
    for k in range(steps):
        opt.zero_grad()
        _direct_expected_loss(p, target).backward()
        opt.step()
        out[k + 1] = p.detach()
    return out


def _autograd_regularized_optimum(target: float, wd: float) -> torch.Tensor:
    """Minimiser of E[L] + (wd/2)·‖θ‖² by one Newton step from 0 (exact: the objective is quadratic)."""

    def objective(p: torch.Tensor) -> torch.Tensor:
        return _direct_expected_loss(p, target) + wd / 2 * p.square().sum()

    zero = torch.zeros(11, dtype=torch.float64)
    h = torch.autograd.functional.hessian(objective, zero)
    g = torch.autograd.functional.jacobian(objective, zero)
    return -torch.linalg.solve(h, g)


SGD_OPTIONS = [
    dict(momentum=0.5, nesterov=True),
    dict(momentum=0.9, nesterov=True),
    dict(momentum=0.5, dampening=0.5),
    dict(momentum=0.1, dampening=0.9),
    dict(momentum=0.1, weight_decay=0.5),
    dict(momentum=0.5, nesterov=True, weight_decay=2.0),
    dict(momentum=0.0, weight_decay=1.0),
]


@pytest.mark.parametrize("wd, target", [(0.0, 5.0), (0.5, 5.0), (2.0, -3.0), (1e-3, 5.0), (100.0, 7.0)])
def test_regularized_optimum_solves_the_weight_decay_problem(wd: float, target: float) -> None:
    w, b = theory.regularized_optimum(target, wd)
    want = _autograd_regularized_optimum(target, wd)
    assert torch.allclose(torch.cat([w, torch.tensor([b], dtype=torch.float64)]), want, rtol=1e-10, atol=1e-12)
    c = Config(weight_decay=wd, target=target)
    best = theory.optimum_for(c)
    assert torch.equal(best.weight, w) and best.bias == b and (best.note is None) == (wd == 0)
    with pytest.raises(ValueError, match="weight_decay"):
        theory.regularized_optimum(5.0, -1.0)


@pytest.mark.parametrize("options", SGD_OPTIONS)
def test_critical_lr_of_every_sgd_option_matches_torch_sgd(options: dict) -> None:
    limit = theory.critical_lr(**options)
    wd = options.get("weight_decay", 0.0)
    best = _autograd_regularized_optimum(5.0, wd)
    below = (_torch_sgd_on_expected_loss(3000, lr=0.98 * limit, **options) - best).norm(dim=1)
    above = (_torch_sgd_on_expected_loss(3000, lr=1.02 * limit, **options) - best).norm(dim=1)
    assert below[-1] < 1e-6 * below[0]
    assert above[-1] > 1e3 * above[0]


@pytest.mark.parametrize("options", SGD_OPTIONS)
def test_slow_time_constant_of_every_sgd_option_matches_torch_sgd(options: dict) -> None:
    lr = 0.3 * theory.critical_lr(**options)
    tau = theory.slow_time_constant(lr, **options)
    wd = options.get("weight_decay", 0.0)
    best = _autograd_regularized_optimum(5.0, wd)
    # Start on the slowest eigenvector of the curvature with weight decay (from eigh, not from theory):
    # with weight decay the valley is no longer much slower than the other directions.
    curvature = _autograd_hessian() + wd * torch.eye(11, dtype=torch.float64)
    start = best + torch.linalg.eigh(curvature).eigenvectors[:, 0]
    # Late enough that the second root of a Nesterov pair (close to the first) has died out.
    a, b, window = int(8 * tau), int(25 * tau), max(30, int(2 * tau))
    dist = (_torch_sgd_on_expected_loss(b + window, start=start, lr=lr, **options) - best).norm(dim=1)
    assert tau == pytest.approx(_measured_time_constant(dist, a, b, window=window), rel=0.01)


def test_dampening_one_stops_training_where_the_theory_says() -> None:
    for momentum in (0.1, 0.5):
        c = Config(epochs=5000, momentum=momentum, dampening=1.0, seed=3)
        h = train(c)
        # buf_k = m^k·g_0: the layer ends at θ_0 − lr·g_0/(1 − m), whatever the later gradients say
        g0 = torch.cat([h.grad_weights[0], h.grad_biases[:1]]).double()
        start = torch.cat([h.weights[0], h.biases[:1]]).double()
        end = torch.cat([h.weights[-1], h.biases[-1:]]).double()
        assert torch.allclose(end, start - c.lr * g0 / (1 - momentum), atol=1e-5)
        stop = math.ceil(_stall_epochs(momentum)) + 10
        assert torch.equal(h.weights[stop], h.weights[-1]) and torch.equal(h.biases[stop], h.biases[-1])
        assert theory.stability(c).verdict == theory.STOPS and theory.stability(c).limit is None
        tau, why = theory.time_constant_for(c)
        assert tau is None and why is not None and "no gradient enters the momentum buffer" in why
        assert theory.critical_lr(momentum, dampening=1.0) == math.inf
        assert theory.mean_square_growth(0.1, 1, momentum, dampening=1.0) == 1.0
        five = theory.why_not_five(h)
        assert five.time_constant is None and all(o.startswith("not predicted") for o in five.outlook)


def test_dampening_without_momentum_changes_nothing() -> None:
    plain, damped = Config(momentum=0.0, epochs=300), Config(momentum=0.0, dampening=1.0, epochs=300)
    assert train(plain).fingerprint() == train(damped).fingerprint()  # torch keeps no buffer at m = 0
    assert theory.time_constant_for(damped)[0] == theory.time_constant_for(plain)[0]
    assert theory.stability(damped).limit == theory.stability(plain).limit
    assert "does nothing without momentum" in (theory.stability(damped).note or "")


def test_dampening_time_constant_matches_real_training() -> None:
    # The parameters' average over inputs decays at the noise-free rate; averaging 16 seeds'
    # slow coordinates estimates it.
    c = Config(epochs=2600, lr=0.05, momentum=0.5, dampening=0.5)
    slow = torch.stack([theory.modes(h).slow for h in train_many(c, seeds=range(16))]).mean(0)
    measured = 1500 / math.log(float(slow[1000] / slow[2500]))
    tau, note = theory.time_constant_for(c)
    assert tau == pytest.approx(measured, rel=0.05) and note is None


@pytest.mark.parametrize(
    "lr, m, batch, options", [(0.2, 0.1, 2, dict(weight_decay=0.7)), (0.1, 0.6, 1, dict(nesterov=True))]
)
def test_second_moment_step_with_weight_decay_and_nesterov_matches_monte_carlo(
    lr: float, m: float, batch: int, options: dict
) -> None:
    n, wd, nesterov = 200_000, options.get("weight_decay", 0.0), options.get("nesterov", False)
    g = torch.Generator().manual_seed(22)
    s = torch.randn(22, generator=g, dtype=torch.float64)
    e, v = s[:11], s[11:]
    x = torch.rand(n, batch, 10, generator=g, dtype=torch.float64)
    z = torch.cat([x, torch.ones(n, batch, 1, dtype=torch.float64)], -1)
    grad = 2 / batch * (z * (z @ e).unsqueeze(-1)).sum(1) + wd * e  # torch adds wd·θ; at θ* it cancels
    v_new = m * v + grad
    e_new = e - lr * (grad + m * v_new) if nesterov else e - lr * v_new
    mean, se = _outer_mean_and_se(torch.cat([e_new, v_new], 1))
    predicted = _second_moment_step(torch.outer(s, s).unsqueeze(0), lr, m, batch, wd, nesterov)[0]
    assert torch.all((predicted - mean).abs() <= Z_SCORE * se + 1e-12)


def test_symmetry_reduction_keeps_the_spectral_radius_with_every_option() -> None:
    units = torch.eye(484, dtype=torch.float64).reshape(484, 22, 22)
    for lr, m, wd, nesterov in [(0.1, 0.5, 0.3, True), (0.05, 0.2, 2.0, False)]:
        full = _second_moment_step(units, lr, m, 1, wd, nesterov).reshape(484, 484).T
        radius = float(torch.linalg.eigvals(full).abs().max())
        got = theory.mean_square_growth(lr, 1, m, nesterov=nesterov, weight_decay=wd)
        assert got == pytest.approx(radius, rel=1e-9)


@pytest.mark.parametrize(
    "settings",
    [
        dict(momentum=0.5, nesterov=True),
        dict(momentum=0.1, weight_decay=0.5),
        dict(momentum=0.5, dampening=0.5),
        dict(momentum=0.0, weight_decay=2.0, batch_size=4),
    ],
)
def test_stability_limit_of_every_sgd_option_predicts_real_training(settings: dict) -> None:
    gauge = theory.stability(Config(**settings))
    assert gauge.limit is not None and gauge.limit < theory.critical_lr(
        settings["momentum"], **{k: v for k, v in settings.items() if k not in ("momentum", "batch_size")}
    )
    below = train_many(Config(epochs=2500, lr=0.9 * gauge.limit, **settings), seeds=list(range(8)))
    for h in below:  # just below: every run settles
        dist = theory.distances_to_optimum(h)
        assert h.diverged_at is None
        if settings.get("weight_decay"):
            # SGD then jitters around θ* (a noise floor, larger near the limit) without growing
            earlier, later = dist[1250:1875].square().mean(), dist[1875:].square().mean()
            assert float(later) < 3 * float(earlier)
        else:
            assert dist[-1] < 1e-3 * dist[0]
    above = train_many(Config(epochs=2500, lr=1.25 * gauge.limit, **settings), seeds=list(range(8)))
    assert all(h.diverged_at is not None for h in above)
    assert theory.stability(Config(lr=1.25 * gauge.limit, **settings)).verdict == theory.DIVERGES


def test_weight_decay_run_settles_at_the_derived_optimum() -> None:
    c = Config(epochs=4000, lr=0.05, weight_decay=0.5)
    runs = train_many(c, seeds=list(range(8)))
    late_w = torch.stack([h.weights[2000:].double() for h in runs])
    late_b = torch.stack([h.biases[2000:].double() for h in runs])
    want = _autograd_regularized_optimum(5.0, 0.5)
    assert torch.allclose(late_w.mean((0, 1)), want[:10], atol=0.03)
    assert float(late_b.mean()) == pytest.approx(float(want[10]), abs=0.03)
    # and far from the optimum without weight decay, (0, 5)
    assert float(want[10]) < 2.0
    five = theory.why_not_five(runs[0])
    assert five.optimum_bias == pytest.approx(float(want[10]), rel=1e-12) and five.optimum_loss > 0.1
    assert five.distance_to_optimum < 0.6 and five.optimum_note and "weight decay" in five.optimum_note


# --- per-Config verdicts for the settings SGD's formulas do not cover ------------------------


def test_a_target_whose_square_overflows_float32_is_called_out() -> None:
    huge, large = Config(target=2e19, epochs=50), Config(target=1e19, epochs=50)
    assert train(huge).diverged_at == 0 and train(large).diverged_at is None
    gauge = theory.stability(huge)
    assert gauge.verdict == theory.DIVERGES and gauge.limit is None and "float32" in (gauge.note or "")
    assert "overflows float32" in gauge.hint
    assert theory.time_constant_for(huge)[0] is None
    assert theory.stability(large).verdict == theory.STABLE and "large" in (theory.stability(large).note or "")


def test_momentum_of_one_or_more() -> None:
    for c in (Config(momentum=1.0, epochs=20_000), Config(momentum=1.2, dampening=1.0, epochs=2_000)):
        assert theory.stability(c).verdict == theory.DIVERGES and theory.stability(c).limit is None
        assert all(h.diverged_at is not None for h in train_many(c, seeds=[0, 1]))
        assert theory.time_constant_for(c)[0] is None and "momentum" in theory.stability(c).hint
    # momentum 1 with dampening 1 repeats the first step: a straight line that stays finite
    drift = Config(momentum=1.0, dampening=1.0, epochs=500)
    assert theory.stability(drift).verdict == theory.NEVER_SETTLES
    h = train(drift)
    steps = torch.diff(torch.cat([h.weights, h.biases[:, None]], 1).double(), dim=0)
    assert h.diverged_at is None and torch.allclose(steps, steps[:1].expand_as(steps), atol=1e-4)
    rms = Config(optimizer="rmsprop", momentum=1.0)
    assert theory.stability(rms).verdict == theory.NEVER_SETTLES


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "rmsprop", "adagrad"])
def test_other_optimizers_get_no_sgd_claims(optimizer: str) -> None:
    c = Config(optimizer=optimizer, momentum=0.0 if optimizer == "rmsprop" else 0.1)
    gauge = theory.stability(c)
    assert gauge.verdict == theory.WITHHELD and gauge.limit is None and gauge.ratio is None
    assert "rescales each step" in (gauge.note or "")
    for mode in theory.TIME_CONSTANT_MODES:
        tau, why = theory.time_constant_for(c, mode)
        assert tau is None and why and "rescales each step" in why
    five = theory.why_not_five(train(c))
    assert five.time_constant is None and all("rescales each step" in o for o in five.outlook)


def test_adamw_weight_decay_keeps_the_reference_optimum_and_says_so() -> None:
    best = theory.optimum_for(Config(optimizer="adamw", weight_decay=0.1))
    assert torch.all(best.weight == 0) and best.bias == 5.0 and best.note and "AdamW" in best.note
    other = theory.optimum_for(Config(optimizer="adam", weight_decay=0.1))
    assert other.bias == theory.regularized_optimum(5.0, 0.1)[1]


def test_stability_verdicts_follow_the_ratio() -> None:
    limit = theory.sgd_critical_lr(1, 0.1)
    for factor, verdict in [(0.2, theory.STABLE), (0.7, theory.NEAR_EDGE), (1.1, theory.DIVERGES)]:
        gauge = theory.stability(Config(lr=factor * limit))
        assert gauge.verdict == verdict and gauge.ratio == pytest.approx(factor, rel=1e-12)
        assert gauge.limit == limit and gauge.hint == (
            f"try a learning rate below ≈ {0.8 * limit:.2g} (80 % of the stability limit ≈ {limit:.3g})"
        )
    assert theory.time_constant_for(Config(lr=1.1 * limit))[0] is None
    assert set(theory.VERDICTS) >= {theory.STABLE, theory.STOPS, theory.WITHHELD}


def test_time_constant_for_near_the_edge_notes_the_slower_mean_square() -> None:
    limit = theory.sgd_critical_lr(1, 0.1)
    tau, note = theory.time_constant_for(Config(lr=0.95 * limit))
    assert tau == theory.slow_time_constant(0.95 * limit, 0.1) and note and "mean-square" in note
    assert theory.time_constant_for(Config())[1] is None
    with pytest.raises(ValueError, match="mode"):
        theory.time_constant_for(Config(), "medium")


def test_near_the_edge_a_typical_run_lies_between_the_two_time_constants() -> None:
    # At 0.95× the limit the noise-free time constant (≈ 90 epochs) describes the average over
    # inputs; a typical run (median over 64 seeds of log distance²) is slower, but by Jensen's
    # inequality no slower than the mean-square time constant (≈ 154). Epochs 300–1100 stay
    # above float32's resolution of b near 5.
    c = Config(epochs=1100, lr=0.95 * theory.sgd_critical_lr(1, 0.1))
    sq = torch.stack([theory.distances_to_optimum(h).square() for h in train_many(c, seeds=range(64))])
    log_sq = sq.log().median(0).values
    measured = 2 * 800 / float(log_sq[300] - log_sq[1100])
    slow, rms = theory.slow_time_constant(c.lr, 0.1), theory.mean_square_time_constant(c.lr, 1, 0.1)
    assert 1.1 * slow < measured < 1.05 * rms
    far = Config(lr=0.2 * theory.sgd_critical_lr(1, 0.1))  # far from the edge the two agree
    assert theory.mean_square_time_constant(far.lr, 1, 0.1) == pytest.approx(
        theory.slow_time_constant(far.lr, 0.1), rel=0.02
    )


# --- the "Why not exactly 5?" numbers -------------------------------------------------------


def test_why_not_five_matches_the_history_in_float64() -> None:
    h = train(Config(epochs=300, seed=5))
    five = theory.why_not_five(h)
    w, b = h.weights[-1].double(), float(h.biases[-1])
    assert five.mean_error == pytest.approx(0.5 * float(w.sum()) + b - 5.0, rel=1e-12)
    assert five.weight_norm == pytest.approx(math.sqrt(math.fsum(v * v for v in w.tolist())), rel=1e-12)
    assert five.bias_error == abs(b - 5.0)
    assert five.terms == pytest.approx(tuple(theory.loss_terms(h)[-1].tolist()), rel=1e-12)
    assert math.fsum(five.terms) == pytest.approx(five.expected_loss, rel=1e-12)
    assert five.dominant == theory.LOSS_TERM_NAMES[max(range(3), key=lambda i: five.terms[i])]
    assert five.optimum_loss == 0 and five.optimum_terms == (0.0, 0.0, 0.0) and five.optimum_note is None
    assert five.distance_to_optimum == pytest.approx(float(theory.distances_to_optimum(h)[-1]), rel=1e-12)
    assert five.time_constant == theory.slow_time_constant(0.01, 0.1)
    assert five.epochs_per_time_constant == pytest.approx(300 / five.time_constant)
    assert five.epochs_run == 300 and five.diverged_at is None


@pytest.mark.parametrize(
    "settings",
    [dict(lr=0.5), dict(lr=1.0, seed=3), dict(momentum=1.0, epochs=20_000), dict(target=3e19), dict(lr=10.0)],
)
def test_why_not_five_of_diverged_runs_is_finite(settings: dict) -> None:
    h = train(Config(**{"epochs": 2000, **settings}))
    assert h.diverged_at is not None
    five = theory.why_not_five(h)
    numbers = [v for v in vars(five).values() if isinstance(v, float)] + [*five.terms, *five.optimum_terms]
    assert all(math.isfinite(v) for v in numbers)
    assert five.time_constant is None and five.time_constant_note and "diverged" in five.time_constant_note
    assert math.isfinite(float(theory.distances_to_optimum(h)[-1]))
    assert torch.isfinite(theory.loss_terms(h)).all() and torch.isfinite(theory.expected_losses(h)).all()


def test_float32_norm_overflows_where_the_float64_views_do_not() -> None:
    # The preset lr = 0.5 diverges with finite weights whose float32 norm is inf.
    h = train(Config(lr=0.5))
    assert h.diverged_at is not None and torch.isfinite(h.weights[-1]).all()
    assert torch.isinf(h.weights[-1].norm())  # seed 0: weights ≈ 1e19, their squares pass float32's limit
    five = theory.why_not_five(h)
    assert five.weight_norm == pytest.approx(math.sqrt(math.fsum(v * v for v in h.weights[-1].double().tolist())))
    assert math.isfinite(five.distance_to_optimum) and math.isfinite(float(theory.weight_norms(h)[-1]))
    # A history at float32's largest finite values, built by hand
    big = torch.full((2, 10), 3e38)
    fake = dataclasses.replace(h, weights=big, biases=torch.full((2,), -3e38))
    for view in (theory.weight_norms, theory.distances_to_optimum, theory.expected_losses, theory.mean_errors):
        assert torch.isfinite(view(fake)).all()
    assert torch.isfinite(theory.loss_terms(fake)).all() and torch.isfinite(theory.valley_coordinates(fake)).all()
    assert math.isfinite(theory.why_not_five(fake).weight_norm)


def test_the_outlook_claims_hold_in_real_training() -> None:
    # The valley term shrinks by e every ≈ τ/2 epochs (τ the slow time constant), and once past
    # their own time constants the fast error and the disagreement shrink with it.
    runs = train_many(Config(epochs=8000), seeds=list(range(8)))
    tau = theory.slow_time_constant(0.01, 0.1)
    terms = torch.stack([theory.loss_terms(h) for h in runs])  # (8, 8001, 3)
    a, b = 3000, 8000
    valley = float((terms[:, b, 1].log() - terms[:, a, 1].log()).median())
    assert valley == pytest.approx(-2 * (b - a) / tau, rel=0.1)
    for col in (0, 2):  # the other two terms stay a similar fraction of the valley term
        ratio = terms[:, :, col] / terms[:, :, 1]
        drift = float((ratio[:, b].log() - ratio[:, a].log()).median())
        assert abs(drift) < 0.25 * abs(valley)
    five = theory.why_not_five(runs[0])
    assert "already settled" in five.outlook[0] and "past its own time constant" in five.outlook[2]
    assert f"{tau / 2:,.0f}" in five.outlook[1]
    early = theory.why_not_five(train(Config(epochs=200)))
    assert f"{theory.other_time_constant(0.01, 0.1) / 2:,.0f}" in early.outlook[2]
