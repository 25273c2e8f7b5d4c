"""The engine against independent oracles: the blog post's plain PyTorch loop, autograd,
the public ``optimizer.step()``, other threads and a fresh Python process.

Nothing here compares the engine with numbers copied from the engine. The oracle loop
(``tests/oracle.py``) is the post's script, generalised only by the Config's settings.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.optim.optimizer import register_optimizer_step_pre_hook

from lucky5 import Config, History, train, train_many
from lucky5.engine import _undecorated_step, init_parameters, make_generator, make_optimizer
from tests.oracle import CASE_IDS, OPTIMIZER_CASES, post_loop

REPO = Path(__file__).resolve().parents[1]

RECORDED = ("losses", "weights", "biases", "grad_weights", "grad_biases", "predictions")


def assert_matches(history: History, expected: dict, exact: bool, rtol: float = 0.0) -> None:
    for name in RECORDED:
        got, want = getattr(history, name), expected[name]
        if exact:
            assert torch.equal(got, want), f"{name}: max diff {(got - want).abs().max()}"
        else:
            torch.testing.assert_close(got, want, rtol=rtol, atol=1e-5, msg=lambda m, name=name: f"{name}: {m}")


def digest(h: History) -> str:
    """sha256 of the bytes of every tensor a History records."""
    data = b"".join(getattr(h, name).contiguous().numpy().tobytes() for name in RECORDED)
    return hashlib.sha256(data).hexdigest()


# --- the post's trajectory ------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 7])
@pytest.mark.parametrize("batch", [1, 3, 8])
@pytest.mark.parametrize("case", CASE_IDS)
def test_trajectory_equals_the_post_loop(case, batch, seed):
    config = Config(seed=seed, batch_size=batch, **OPTIMIZER_CASES[case])
    history = train(config)
    expected = post_loop(config)
    assert history.diverged_at is None and expected["diverged_at"] is None
    assert history.steps == config.epochs
    # batch 1: the closed-form gradient (2·(ŷ − t)·x) is autograd's to the last bit, so the
    # whole trajectory is bit-identical; for larger batches the 2/B factor rounds differently.
    assert_matches(history, expected, exact=batch == 1)


def test_post_defaults_are_bit_identical_across_chunks():
    config = Config(epochs=2_100, seed=3)  # more than one chunk of inputs
    assert_matches(train(config), post_loop(config), exact=True)


def test_big_batch_matches_across_chunks():
    config = Config(epochs=150, batch_size=1024, seed=5, optimizer="adam", lr=0.05)  # ~93 steps per chunk
    assert_matches(train(config), post_loop(config), exact=False)


# --- gradients and inputs -------------------------------------------------------------


def regenerated_inputs(config: Config, steps: int) -> tuple[torch.Tensor, list[torch.Tensor]]:
    g = make_generator(config.seed)
    init = init_parameters(g)
    return init, [torch.rand(config.batch_size, 10, generator=g) for _ in range(steps)]


@pytest.mark.parametrize("batch", [1, 4, 1024])
def test_private_generator_draws_what_the_global_one_would(batch):
    config = Config(seed=11, batch_size=batch)
    init, inputs = regenerated_inputs(config, 120)
    with torch.random.fork_rng():
        torch.manual_seed(config.seed)
        layer = nn.Linear(10, 1)
        expected = [torch.rand(batch, 10) for _ in range(120)]
    assert torch.equal(init, torch.cat([layer.weight.detach().reshape(10), layer.bias.detach()]))
    assert all(torch.equal(a, b) for a, b in zip(inputs, expected, strict=True))


@pytest.mark.parametrize(
    "case, batch", [("sgd-post", 1), ("adam", 1), ("rmsprop-centered-momentum", 3), ("adagrad", 8), ("sgd-post", 1024)]
)
def test_recorded_gradients_are_autograds(case, batch):
    config = Config(epochs=300 if batch < 1024 else 40, batch_size=batch, seed=2, **OPTIMIZER_CASES[case])
    history = train(config)
    init, inputs = regenerated_inputs(config, history.steps)
    assert torch.equal(init, torch.cat([history.weights[0], history.biases[:1]]))
    loss_fn = nn.MSELoss()
    target = torch.full((batch, 1), config.target)
    for i, x in enumerate(inputs):
        layer = nn.Linear(10, 1)
        with torch.no_grad():
            layer.weight.copy_(history.weights[i].reshape(1, 10))
            layer.bias.copy_(history.biases[i])
        prediction = layer(x)
        loss = loss_fn(prediction, target)
        loss.backward()
        got = (history.grad_weights[i], history.grad_biases[i], history.losses[i], history.predictions[i])
        want = (layer.weight.grad.reshape(10), layer.bias.grad[0], loss.detach(), prediction[0, 0].detach())
        for name, a, b in zip(("grad_weights", "grad_biases", "loss", "prediction"), got, want, strict=True):
            if batch == 1:
                assert torch.equal(a, b), (i, name, a, b)
            else:
                where = f"step {i} {name}"
                torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6, msg=lambda m, where=where: f"{where}: {m}")


# --- the undecorated step -------------------------------------------------------------


def _state_tensors(optimizer: torch.optim.Optimizer) -> list[torch.Tensor]:
    return [v for state in optimizer.state.values() for _, v in sorted(state.items()) if torch.is_tensor(v)]


@pytest.mark.parametrize("groups", [1, 3], ids=["shared-lr", "one-group-per-run"])
@pytest.mark.parametrize("case", CASE_IDS)
def test_undecorated_step_is_optimizer_step_bit_for_bit(case, groups):
    config = Config(**OPTIMIZER_CASES[case])
    g = torch.Generator().manual_seed(0)
    start = torch.rand(3, 11, generator=g)
    setups = []
    for _ in range(2):
        flat, grad = start.clone(), torch.zeros(3, 11)
        rows = [slice(None)] if groups == 1 else [0, 1, 2]
        params = [nn.Parameter(flat[r]) for r in rows]
        for p, r in zip(params, rows, strict=True):
            p.grad = grad[r]
        lrs = [config.lr] if groups == 1 else [config.lr, config.lr / 2, config.lr / 5]
        setups.append((flat, grad, make_optimizer(config, params, lrs)))
    (flat_a, grad_a, opt_a), (flat_b, grad_b, opt_b) = setups
    fast = _undecorated_step(opt_a)
    assert fast != opt_a.step, "the fast path was not taken, nothing would be tested"
    for i in range(300):
        fresh = torch.randn(3, 11, generator=g) * (1 + 10 * (i % 7 == 0))
        grad_a.copy_(fresh)
        grad_b.copy_(fresh)
        with torch.no_grad():
            fast()
        opt_b.step()  # the public, decorated step, as any training loop calls it
        assert torch.equal(flat_a, flat_b), f"step {i}"
    state_a, state_b = _state_tensors(opt_a), _state_tensors(opt_b)
    assert len(state_a) == len(state_b) > 0
    assert all(torch.equal(a, b) for a, b in zip(state_a, state_b, strict=True))


def test_undecorated_step_falls_back_when_hooks_are_registered():
    opt = make_optimizer(Config(), [nn.Parameter(torch.zeros(11))], [0.01])
    calls = []
    opt.register_step_pre_hook(lambda *args: calls.append(1))
    step = _undecorated_step(opt)
    assert step == opt.step
    opt.param_groups[0]["params"][0].grad = torch.ones(11)
    step()
    assert calls == [1]


def test_global_optimizer_hooks_still_run():
    calls = []
    handle = register_optimizer_step_pre_hook(lambda *args: calls.append(1))
    try:
        train(Config(epochs=5))
    finally:
        handle.remove()
    assert len(calls) == 5


# --- no global state ------------------------------------------------------------------


def test_global_rng_is_neither_read_nor_changed():
    config = Config(epochs=300, batch_size=3)
    torch.manual_seed(1)
    state = torch.get_rng_state()
    first = digest(train(config))
    train_many(config, seeds=range(4))
    train_many(config, lrs=[0.01, 0.02])
    assert torch.equal(state, torch.get_rng_state())
    torch.manual_seed(2)
    torch.rand(17)
    assert digest(train(config)) == first


THREAD_CONFIGS = [
    Config(epochs=4_000, seed=1),
    Config(epochs=4_000, seed=2, optimizer="adam", lr=0.1, batch_size=3),
    Config(epochs=4_000, seed=3, optimizer="rmsprop", centered=True),
    Config(epochs=4_000, seed=4, optimizer="adagrad", lr=0.5, batch_size=8),
    Config(epochs=4_000, seed=5, optimizer="sgd", nesterov=True, lr=0.05),
]


def test_identical_while_other_threads_train():
    solo = [digest(train(c)) for c in THREAD_CONFIGS]
    barrier = threading.Barrier(len(THREAD_CONFIGS))
    results: dict[int, str] = {}
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            barrier.wait()
            results[i] = digest(train(THREAD_CONFIGS[i]))
        except BaseException as err:  # reported below, not lost in the thread
            errors.append(err)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(THREAD_CONFIGS))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    assert [results[i] for i in range(len(THREAD_CONFIGS))] == solo


SUBPROCESS_CONFIGS = [
    dict(epochs=500),
    dict(epochs=500, seed=9, optimizer="adamw", lr=0.05, batch_size=3, amsgrad=True),
    dict(epochs=60, seed=4, batch_size=1024, optimizer="rmsprop"),
]
CHILD = """
import hashlib, json, sys, torch
torch.set_num_threads(1)  # another thread count must not change a bit
from lucky5 import Config, train
for kw in json.loads(sys.argv[1]):
    h = train(Config(**kw))
    names = ("losses", "weights", "biases", "grad_weights", "grad_biases", "predictions")
    data = b"".join(getattr(h, n).contiguous().numpy().tobytes() for n in names)
    print(hashlib.sha256(data).hexdigest(), h.fingerprint())
"""


def test_bit_identical_in_a_new_process():
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(SUBPROCESS_CONFIGS)],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
        check=True,
    ).stdout.split("\n")
    here = [f"{digest(h)} {h.fingerprint()}" for h in (train(Config(**kw)) for kw in SUBPROCESS_CONFIGS)]
    assert out[: len(here)] == here


# --- many runs at once ----------------------------------------------------------------


def assert_close_runs(got: History, want: History) -> None:
    assert got.config == want.config
    assert got.diverged_at == want.diverged_at
    for name in RECORDED:
        torch.testing.assert_close(getattr(got, name), getattr(want, name), rtol=0, atol=1e-5)


@pytest.mark.parametrize("case, batch", [("sgd-post", 1), ("adam", 3), ("rmsprop-centered-momentum", 1)])
def test_many_seeds_each_equal_their_solo_run(case, batch):
    config = Config(epochs=400, batch_size=batch, **OPTIMIZER_CASES[case])
    many = train_many(config, seeds=range(16))
    assert len(many) == 16
    for seed, history in zip(range(16), many, strict=True):
        assert_close_runs(history, train(config.replace(seed=seed)))
    assert len({h.fingerprint() for h in many}) == 16


@pytest.mark.parametrize("case", ["sgd-post", "adam", "adagrad"])
def test_many_learning_rates_each_equal_their_solo_run(case):
    config = Config(epochs=400, seed=3, **OPTIMIZER_CASES[case])
    lrs = [0.001, 0.01, 0.03, 0.1, 0.2]
    for lr, history in zip(lrs, train_many(config, lrs=lrs), strict=True):
        assert_close_runs(history, train(config.replace(lr=lr)))
    # seeds and learning rates pair up
    seeds, rates = [5, 6, 7], [0.02, 0.04, 0.08]
    for seed, lr, history in zip(seeds, rates, train_many(config, seeds=seeds, lrs=rates), strict=True):
        assert_close_runs(history, train(config.replace(seed=seed, lr=lr)))


@pytest.mark.parametrize(
    "kwargs",
    [dict(seeds=[1, 2, 3], lrs=[0.1, 0.2]), dict(seeds=[]), dict(lrs=[]), dict(lrs=[0.1, 0.0]), dict(seeds=[-1])],
)
def test_train_many_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        train_many(Config(epochs=5), **kwargs)


# --- divergence -----------------------------------------------------------------------


def assert_all_finite_and_consistent(h: History) -> None:
    n = h.steps
    assert h.losses.shape == (n,) and h.predictions.shape == (n,)
    assert h.weights.shape == (n + 1, 10) and h.biases.shape == (n + 1,)
    assert h.grad_weights.shape == (n, 10) and h.grad_biases.shape == (n,)
    for name in RECORDED:
        assert torch.isfinite(getattr(h, name)).all(), name


@pytest.mark.parametrize(
    "changes",
    [
        dict(lr=5.0),
        dict(lr=1.0, batch_size=8),
        dict(lr=0.25, epochs=5_000),  # diverges after 2,000 steps: in the second chunk of inputs
    ],
)
def test_divergence_stops_where_the_post_loop_does(changes):
    config = Config(**changes)
    history = train(config)
    expected = post_loop(config)
    assert isinstance(expected["diverged_at"], int), "the setting must really diverge"
    assert history.diverged_at == expected["diverged_at"]
    assert history.steps == history.diverged_at
    assert_all_finite_and_consistent(history)
    # batch 1 is bit-identical; otherwise rounding differences grow with the values themselves
    assert_matches(history, expected, exact=config.batch_size == 1, rtol=1e-4)


@pytest.mark.parametrize(
    "epochs",
    [200, 5_000],
)
def test_a_diverging_run_does_not_cut_the_others(epochs):
    config = Config(epochs=epochs)
    good, bad = train_many(config, lrs=[0.01, 5.0])
    assert bad.diverged_at is not None
    assert_all_finite_and_consistent(bad)
    assert good.diverged_at is None
    assert good.steps == epochs
    assert_close_runs(good, train(config))


# --- progress, shapes, layer, fingerprint ---------------------------------------------


@pytest.mark.parametrize("epochs, batch", [(200, 1), (5_000, 1), (300, 1024)])
def test_progress_counts_up_to_the_epochs(epochs, batch):
    calls: list[tuple[int, int]] = []
    train(Config(epochs=epochs, batch_size=batch), progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1] == (epochs, epochs)
    assert all(total == epochs for _, total in calls)
    done = [d for d, _ in calls]
    assert done == sorted(set(done)) and done[0] > 0


def test_progress_of_many_runs():
    calls: list[tuple[int, int]] = []
    train_many(Config(epochs=2_500), seeds=range(3), progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (2_500, 2_500) and [d for d, _ in calls] == sorted({d for d, _ in calls})


def test_shapes_of_one_step_with_the_biggest_batch():
    config = Config(epochs=1, batch_size=1024, seed=8)
    h = train(config)
    assert h.config == config and h.steps == 1 and h.diverged_at is None
    assert_all_finite_and_consistent(h)
    assert all(getattr(h, name).dtype == torch.float32 for name in RECORDED)
    assert_matches(h, post_loop(config), exact=False)
    assert h.seconds > 0


def test_layer_is_a_fresh_linear_with_the_final_parameters():
    h = train(Config(epochs=50, seed=6))
    layer = h.trained.module()
    assert isinstance(layer, nn.Linear) and (layer.in_features, layer.out_features) == (10, 1)
    assert torch.equal(layer.weight.detach(), h.weights[-1].reshape(1, 10))
    assert torch.equal(layer.bias.detach(), h.biases[-1:])
    assert h.trained.bias == float(h.biases[-1]) and torch.equal(h.trained.weight, h.weights[-1])
    x = torch.rand(4, 10, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(layer(x).detach(), x @ h.weights[-1].reshape(10, 1) + float(h.biases[-1]))
    assert layer.weight.requires_grad
    with torch.no_grad():
        layer.weight.zero_()
    assert h.weights[-1].abs().sum() > 0 and h.trained.module() is not layer  # never shared


def test_fingerprint_is_stable_and_tells_runs_apart():
    a, b = train(Config(seed=0)), train(Config(seed=0))
    assert a.fingerprint() == b.fingerprint()
    assert len(a.fingerprint()) == 12 and int(a.fingerprint(), 16) >= 0
    others = {train(Config(seed=s)).fingerprint() for s in range(1, 6)}
    assert a.fingerprint() not in others and len(others) == 5
    assert train(Config(lr=0.02)).fingerprint() != a.fingerprint()
