"""``lucky5.step`` against independent oracles: the post's plain loop with autograd and the real optimizer
(``tests/oracle.py``), the update rules of torch.optim's documentation written out in float64 here, and the
engine's own History of the same run.
"""

from __future__ import annotations

import math

import pytest
import torch

from lucky5 import Config, train
from lucky5.step import (
    PARAMETER_LABELS,
    STATE_NAMES,
    UPDATE_RULES,
    Step,
    Table,
    batch_rows,
    describe,
    explain_step,
    forward_table,
    sections,
    table,
    update_rule,
    update_table,
    variant,
)
from tests.oracle import CASE_IDS, OPTIMIZER_CASES, post_loop

EPOCHS = 60
STEPS = (0, 1, EPOCHS // 2, EPOCHS - 1)  # the first, the second (state exists), a middle one and the last


def assert_step_equals(step: Step, want: dict, atol: float, rtol: float = 0.0) -> None:
    def close(name: str, got: torch.Tensor, expected: torch.Tensor) -> None:
        assert got.shape == expected.shape, (name, got.shape, expected.shape)
        torch.testing.assert_close(got, expected, atol=atol, rtol=rtol, msg=lambda m: f"{name}: {m}")

    # the inputs are the generator's numbers: equal at every batch size
    assert torch.equal(step.x, want["x"])
    close("prediction", step.prediction, want["prediction"])
    assert math.isclose(step.loss, want["loss"], abs_tol=atol, rel_tol=rtol), (step.loss, want["loss"])
    close("grad", step.grad, want["grad"])
    close("params_before", step.params_before, want["params_before"])
    close("params_after", step.params_after, want["params_after"])
    for when in ("before", "after"):
        got, expected = getattr(step, f"state_{when}"), want[f"state_{when}"]
        assert set(got) == set(expected), (when, set(got), set(expected))
        for name in got:
            close(f"state_{when}[{name}]", got[name], expected[name])
        assert getattr(step, f"step_{when}") == want[f"step_{when}"]


@pytest.mark.parametrize("case", CASE_IDS)
def test_every_number_equals_the_post_loop_at_batch_1(case):
    config = Config(epochs=EPOCHS, seed=4, **OPTIMIZER_CASES[case])
    oracle = post_loop(config, watch=STEPS)
    assert oracle["diverged_at"] is None
    for k in STEPS:
        step = explain_step(config, k)
        assert step.config == config and step.epoch == k
        assert_step_equals(step, oracle["watched"][k], atol=1e-6)


@pytest.mark.parametrize("batch", [3, 64])
@pytest.mark.parametrize("case", ["sgd-dampening-decay", "adam-amsgrad-decay", "rmsprop-centered-momentum", "adagrad"])
def test_every_number_equals_the_post_loop_at_larger_batches(case, batch):
    # the 2/B factor of the mean's gradient rounds differently from autograd's: float32 rounding only
    config = Config(epochs=40, seed=2, batch_size=batch, **OPTIMIZER_CASES[case])
    oracle = post_loop(config, watch=(0, 1, 39))
    for k in (0, 1, 39):
        assert_step_equals(explain_step(config, k), oracle["watched"][k], atol=1e-5, rtol=1e-5)


def test_a_step_deep_in_a_long_run_equals_the_post_loop():
    config = Config(epochs=4_500, seed=9)  # the engine draws inputs in chunks of 2,000 steps
    ks = (1_999, 2_000, 4_499)
    oracle = post_loop(config, watch=ks)
    for k in ks:
        assert_step_equals(explain_step(config, k), oracle["watched"][k], atol=1e-6)


@pytest.mark.parametrize("case", ["sgd-post", "adam", "rmsprop-centered-momentum"])
@pytest.mark.parametrize("batch", [1, 8])
def test_the_step_is_the_historys_step_bit_for_bit(case, batch):
    config = Config(epochs=300, batch_size=batch, seed=1, **OPTIMIZER_CASES[case])
    history = train(config)
    for k in (0, 7, 299):
        step = explain_step(config, k)
        assert torch.equal(step.params_before, torch.cat([history.weights[k], history.biases[k : k + 1]]))
        assert torch.equal(step.params_after, torch.cat([history.weights[k + 1], history.biases[k + 1 : k + 2]]))
        assert torch.equal(step.grad, torch.cat([history.grad_weights[k], history.grad_biases[k : k + 1]]))
        assert step.loss == float(history.losses[k])
        assert step.prediction[0] == history.predictions[k]
        assert step.x.shape == (batch, 10) and step.prediction.shape == (batch,)
        assert all(t.dtype == torch.float32 for t in (step.x, step.grad, step.params_before, step.params_after))
        assert set(step.state_after) <= set(STATE_NAMES)


# --- divergence and bad input ------------------------------------------------------------------------------


def test_a_diverged_run_names_the_epoch():
    config = Config(lr=0.5, epochs=200)
    history = train(config)
    d = history.diverged_at
    assert d is not None and d > 2, "the setting must diverge after a few finite steps"
    assert post_loop(config)["diverged_at"] == d
    last_finite = explain_step(config, d - 1)
    assert_step_equals(last_finite, post_loop(config, watch=[d - 1])["watched"][d - 1], atol=1e-6, rtol=1e-6)
    for k in (d, d + 1, 199):
        with pytest.raises(ValueError, match=f"diverged at epoch {d}") as err:
            explain_step(config, k)
        assert f"0 to {d - 1}" in str(err.value)


def test_a_run_that_diverges_on_its_first_step():
    config = Config(lr=10.0, target=1e30)
    assert train(config).diverged_at == 0
    with pytest.raises(ValueError, match="diverged at epoch 0.*no epoch"):
        explain_step(config, 0)


@pytest.mark.parametrize("k", [-1, 200, 10**30, 1.0, 2.5, True, "3", None, float("nan")])
def test_an_epoch_out_of_range_says_the_allowed_range(k):
    with pytest.raises(ValueError, match="from 0 to 199"):
        explain_step(Config(), k)


def test_not_a_config():
    with pytest.raises(TypeError, match="Config"):
        explain_step({"epochs": 10}, 0)  # type: ignore[arg-type]


def test_the_global_rng_is_neither_read_nor_changed():
    torch.manual_seed(123)
    state = torch.get_rng_state()
    first = explain_step(Config(epochs=50, batch_size=2), 30)
    assert torch.equal(torch.get_rng_state(), state)
    torch.rand(5)
    again = explain_step(Config(epochs=50, batch_size=2), 30)
    assert torch.equal(first.x, again.x) and torch.equal(first.params_after, again.params_after)


# --- the update rule: torch.optim's documented maths, written out here in float64 ------------------------------


def documented_update(c: Config, step: Step) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """The new state and parameters by the formulas of torch.optim's documentation (float64)."""
    f = {k: v.double() for k, v in step.state_before.items()}
    theta, g = step.params_before.double(), step.grad.double()
    zero = torch.zeros(11, dtype=torch.float64)
    t = (step.step_before or 0) + 1
    new: dict[str, torch.Tensor] = {}
    if c.weight_decay and c.optimizer != "adamw":
        g = g + c.weight_decay * theta
    if c.optimizer == "sgd":
        if c.momentum:
            buf = g if "momentum_buffer" not in f else c.momentum * f["momentum_buffer"] + (1 - c.dampening) * g
            new["momentum_buffer"] = buf
            g = g + c.momentum * buf if c.nesterov else buf
        return new, theta - c.lr * g
    if c.optimizer in ("adam", "adamw"):
        if c.optimizer == "adamw":
            theta = theta * (1 - c.lr * c.weight_decay)
        b1, b2 = c.betas
        m = b1 * f.get("exp_avg", zero) + (1 - b1) * g
        v = b2 * f.get("exp_avg_sq", zero) + (1 - b2) * g**2
        new.update(exp_avg=m, exp_avg_sq=v)
        if c.amsgrad:
            v = new["max_exp_avg_sq"] = torch.maximum(f.get("max_exp_avg_sq", zero), v)
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        return new, theta - c.lr * m_hat / (v_hat.sqrt() + c.eps)
    if c.optimizer == "rmsprop":
        v = new["square_avg"] = c.alpha * f.get("square_avg", zero) + (1 - c.alpha) * g**2
        if c.centered:
            g_avg = new["grad_avg"] = c.alpha * f.get("grad_avg", zero) + (1 - c.alpha) * g
            v = v - g_avg**2
        if c.momentum > 0:
            buf = new["momentum_buffer"] = c.momentum * f.get("momentum_buffer", zero) + g / (v.sqrt() + c.eps)
            return new, theta - c.lr * buf
        return new, theta - c.lr * g / (v.sqrt() + c.eps)
    s = new["sum"] = f.get("sum", zero) + g**2
    return new, theta - c.lr / (1 + (t - 1) * c.lr_decay) * g / (s.sqrt() + c.eps)


# The engine's cases, plus the two variants without momentum (the Config default has momentum 0.1).
RULE_CASES = {
    **OPTIMIZER_CASES,
    "sgd-plain": dict(momentum=0.0),
    "rmsprop-plain": dict(optimizer="rmsprop", momentum=0.0),
}


def test_the_rule_cases_reach_every_variant_of_the_table():
    assert {variant(Config(**settings)) for settings in RULE_CASES.values()} == set(UPDATE_RULES)


@pytest.mark.parametrize("case", list(RULE_CASES))
def test_the_rule_shown_is_the_update_torch_made(case):
    config = Config(epochs=EPOCHS, seed=4, **RULE_CASES[case])
    for k in STEPS:
        step = explain_step(config, k)
        state, theta = documented_update(config, step)
        assert set(state) == set(step.state_after)
        for name, value in state.items():
            torch.testing.assert_close(step.state_after[name].double(), value, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(step.params_after.double(), theta, rtol=1e-5, atol=1e-6)
        if step.step_after is not None:
            assert step.step_after == (step.step_before or 0) + 1 == k + 1

        rule = update_rule(step)
        assert rule.rules and all(r.text and r.latex for r in rule.rules)
        # every state vector the rule shows is the optimizer's own, before and after
        values = {label: v for r in rule.rules for label, v in r.values}
        assert torch.equal(values["θ after"], step.params_after)
        for symbol, name in SYMBOLS.items():
            if name in step.state_after and f"{symbol} after" in values:
                assert torch.equal(values[f"{symbol} after"], step.state_after[name])
                before = step.state_before.get(name, torch.zeros(11))
                if f"{symbol} before" in values:
                    assert torch.equal(values[f"{symbol} before"], before)
        assert all(v.shape == (11,) for v in values.values())
        assert {sym for sym, *_ in rule.constants} >= {"lr"}
        assert dict((sym, v) for sym, _, _, v in rule.constants)["lr"] == config.lr


SYMBOLS = {"buf": "momentum_buffer", "m": "exp_avg", "v": "exp_avg_sq", "v_max": "max_exp_avg_sq", "s": "sum"}


def test_the_first_sgd_step_starts_the_buffer_at_the_gradient():
    step = explain_step(Config(), 0)
    assert step.state_before == {} and torch.equal(step.state_after["momentum_buffer"], step.grad)
    texts = [r.text for r in update_rule(step).rules]
    assert texts == ["buf ← g", "θ ← θ − lr·buf"]
    later = [r.text for r in update_rule(explain_step(Config(), 1)).rules]
    assert later == ["buf ← μ·buf + (1 − τ)·g", "θ ← θ − lr·buf"]


# --- tables and text ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("batch", [1, 5])
def test_the_tables_add_up(batch):
    config = Config(epochs=30, batch_size=batch, optimizer="adam", lr=0.1)
    step = explain_step(config, 12)
    table = forward_table(step)
    assert list(table) == ["x", "θ", "θ·x", "∂L/∂θ"] and all(v.shape == (11,) for v in table.values())
    # the products add up to the mean prediction: the layer is linear
    assert math.isclose(float(table["θ·x"].double().sum()), float(step.prediction.double().mean()), abs_tol=1e-5)
    # ∂L/∂b = 2(mean ŷ − t), and at batch 1 ∂L/∂wᵢ = ∂L/∂b · xᵢ (the chain rule shown)
    assert math.isclose(float(step.grad[10]), 2 * (float(step.prediction.double().mean()) - 5), rel_tol=1e-5)
    if batch == 1:
        torch.testing.assert_close(step.grad[:10], step.grad[10] * step.x[0], rtol=1e-6, atol=1e-6)
    update = update_table(step)
    assert list(update)[0] == "θ before" and list(update)[-1] == "Δθ"
    torch.testing.assert_close(update["θ before"] + update["Δθ"], step.params_after)
    rows = batch_rows(step)
    assert all(v.shape == (batch,) for v in rows.values()) and len(rows) == 12
    torch.testing.assert_close(rows["(ŷ − t)²"].mean(), torch.tensor(step.loss))


@pytest.mark.parametrize("batch", [1, 3])
def test_each_section_names_the_table_that_follows_it(batch):
    step = explain_step(Config(epochs=10, batch_size=batch, optimizer="rmsprop", weight_decay=0.1), 4)
    rule = update_rule(step)
    kinds = {s.title.split(":")[0]: s.table for s in sections(step, rule)}
    assert kinds == {
        "The inputs": Table.BATCH if batch > 1 else None,
        "The prediction": None,
        "The loss": None,
        "The gradient": Table.FORWARD,
        "The update": Table.UPDATE,
        "The result": None,
    }
    expected = {Table.BATCH: batch_rows(step), Table.FORWARD: forward_table(step), Table.UPDATE: update_table(step)}
    for kind, columns in expected.items():
        got = table(step, kind, rule)
        assert list(got) == list(columns) and all(torch.equal(got[n], columns[n]) for n in columns), kind


@pytest.mark.parametrize("case", CASE_IDS)
def test_describe_writes_the_steps_own_numbers(case):
    config = Config(epochs=EPOCHS, seed=4, **OPTIMIZER_CASES[case])
    step = explain_step(config, 1)
    text = describe(step)
    assert text.startswith(f"Inside epoch 1 of {EPOCHS}")
    assert f"{step.loss:.6g}" in text
    assert f"{float(step.prediction[0]):.6g}" in text
    assert f"{float(step.prediction_after[0]):.6g}" in text
    assert all(f"{v:.6g}" in text for v in step.x[0].tolist())
    assert all(f"{v:.6g}" in text for v in step.params_after.tolist())
    assert all(r.text in text for r in update_rule(step).rules)
    assert all(label in text for label in PARAMETER_LABELS)
    assert "closer to" in text or "farther from" in text


def test_describe_at_a_larger_batch_shows_the_mean_and_rows_on_request():
    step = explain_step(Config(epochs=20, batch_size=4), 5)
    short, full = describe(step), describe(step, rows=True)
    mean = float(step.prediction.double().mean())
    assert "mean ŷ = b + Σ wᵢ·x̄ᵢ" in short and f"{mean:.6g}" in short
    assert all(f"{float(y):.6g}" in full for y in step.prediction) and "row by row" in full
    assert "row by row" not in short


def test_every_latex_line_is_balanced():
    for case in CASE_IDS:
        for batch in (1, 3):
            step = explain_step(Config(epochs=5, batch_size=batch, **OPTIMIZER_CASES[case]), 2)
            for section in sections(step):
                for eq in section.equations:
                    depth = 0
                    for ch in eq.latex.replace(r"\{", "").replace(r"\}", ""):
                        depth += {"{": 1, "}": -1}.get(ch, 0)
                        assert depth >= 0, eq.latex
                    assert depth == 0, eq.latex
                    assert "nan" not in eq.latex and "e-" not in eq.latex, eq.latex
