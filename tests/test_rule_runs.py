"""Training on a rule in the inputs and on noisy targets: the engine, the step, the script, the CLI and the
test loop, each against the blog post's plain loop with the targets written out in this file.

The oracle's targets are this file's own PyTorch expressions of the rules (not ``lucky5.rules``), and its
noise is the documented contract written out: a generator seeded with (seed + 0x9E3779B9) mod 2³², one
``torch.randn(B, 1)`` per step, after the step's inputs.
"""

from __future__ import annotations

import pytest
import torch

from lucky5 import Config, cli, explain_step, metrics, train, train_many
from lucky5.engine import History
from lucky5.narration import number
from tests.oracle import OPTIMIZER_CASES, post_loop
from tests.test_engine import assert_close_runs, assert_matches

# Each rule with this file's own expression of it (a (B, 10) batch to (B, 1) targets).
RULES = {
    "5 + 3*x1 - 2*x7": lambda x: 5.0 + 3.0 * x[:, 0:1] - 2.0 * x[:, 6:7],
    "4 + 2*x1*x2": lambda x: 4.0 + 2.0 * x[:, 0:1] * x[:, 1:2],
    "-x1 + 0.5*x2^2": lambda x: -x[:, 0:1] + 0.5 * x[:, 1:2] * x[:, 1:2],
    "5 + x3^2": lambda x: 5.0 + x[:, 2:3] * x[:, 2:3],
}


def oracle_targets(config: Config, rule=None):
    """The targets of a run as the documented contract says: the rule's value, plus σ·ε from the noise stream."""
    noise = torch.Generator().manual_seed((config.seed + 0x9E3779B9) % 2**32)

    def targets(x: torch.Tensor) -> torch.Tensor:
        t = rule(x) if rule is not None else torch.full((x.shape[0], 1), config.target)
        if config.noise > 0:
            t = t + config.noise * torch.randn(x.shape[0], 1, generator=noise)
        return t

    return targets


def test_a_rule_trains_exactly_as_the_posts_loop_with_the_rules_targets():
    for seed, (text, rule) in enumerate(RULES.items()):
        config = Config(rule=text, seed=seed, epochs=300)
        assert_matches(train(config), post_loop(config, targets=oracle_targets(config, rule)), exact=True)


def test_noise_trains_exactly_as_the_posts_loop_with_its_own_stream():
    for config, rule in [
        (Config(rule="5 + 3*x1 - 2*x7", noise=0.5, seed=3, epochs=300), RULES["5 + 3*x1 - 2*x7"]),
        (Config(noise=0.25, target=-2.0, seed=1, epochs=300), None),  # noise on the lucky number
        (Config(rule="4 + 2*x1*x2", noise=1.0, epochs=150, **OPTIMIZER_CASES["adam"]), RULES["4 + 2*x1*x2"]),
    ]:
        assert_matches(train(config), post_loop(config, targets=oracle_targets(config, rule)), exact=True)


def test_across_chunks_and_batches():
    config = Config(rule="5 + 3*x1 - 2*x7", noise=0.3, epochs=2_100, seed=2)  # more than one chunk
    oracle = post_loop(config, targets=oracle_targets(config, RULES["5 + 3*x1 - 2*x7"]))
    assert_matches(train(config), oracle, exact=True)
    # batches of 3 and of 20 (20 noise numbers per step take torch's vectorised normal draw)
    for batch in (3, 20):
        config = Config(rule="-x1 + 0.5*x2^2", noise=0.5, epochs=200, batch_size=batch, seed=4)
        oracle = post_loop(config, targets=oracle_targets(config, RULES["-x1 + 0.5*x2^2"]))
        assert_matches(train(config), oracle, exact=False)


def test_a_constant_rule_is_the_lucky_number_bit_for_bit():
    # The rule "5" takes the per-chunk target path; the lucky number 5 the one 0-d target: same bits.
    for changes in ({}, dict(batch_size=4, optimizer="adam", lr=0.05)):
        lucky = train(Config(epochs=500, seed=6, **changes))
        ruled = train(Config(epochs=500, seed=6, rule="5", **changes))
        assert lucky.fingerprint() == ruled.fingerprint()
        assert torch.equal(lucky.losses, ruled.losses) and torch.equal(lucky.weights, ruled.weights)


def test_the_inputs_stay_the_same_with_and_without_noise():
    base = Config(rule="5 + 3*x1 - 2*x7", epochs=50, seed=9)
    for k in (0, 17, 49):
        quiet, noisy = explain_step(base, k), explain_step(base.replace(noise=0.5), k)
        assert torch.equal(quiet.x, noisy.x)
        assert not torch.equal(quiet.targets, noisy.targets)


def test_noise_leaves_the_global_rng_alone():
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    train(Config(rule="4 + 2*x1*x2", noise=0.5, epochs=100))
    assert torch.equal(torch.random.get_rng_state(), before)


def test_many_seeds_with_a_rule_and_noise_each_equal_their_solo_run():
    config = Config(rule="4 + 2*x1*x2", noise=0.5, epochs=400)
    many = train_many(config, seeds=range(6))
    for seed, history in zip(range(6), many, strict=True):
        assert_close_runs(history, train(config.replace(seed=seed)))
    assert len({h.fingerprint() for h in many}) == 6
    for lr, history in zip([0.01, 0.05], train_many(config, lrs=[0.01, 0.05]), strict=True):
        assert_close_runs(history, train(config.replace(lr=lr)))


def test_settings_that_differ_give_runs_that_differ():
    runs: list[History] = [
        train(Config(epochs=200)),
        train(Config(epochs=200, rule="5 + 3*x1 - 2*x7")),
        train(Config(epochs=200, rule="5 + 3*x1 - 2*x7", noise=0.5)),
        train(Config(epochs=200, rule="5 + 3*x1 - 2*x7", noise=0.5, seed=1)),
        train(Config(epochs=200, noise=0.5)),
    ]
    assert len({h.fingerprint() for h in runs}) == len(runs)


def test_explain_step_shows_the_steps_own_target():
    for text, rule in [("5 + 3*x1 - 2*x7", RULES["5 + 3*x1 - 2*x7"]), ("4 + 2*x1*x2", RULES["4 + 2*x1*x2"])]:
        for batch in (1, 3):
            config = Config(rule=text, noise=0.5, epochs=30, seed=5, batch_size=batch)
            watched = post_loop(config, watch={0, 12, 29}, targets=oracle_targets(config, rule))["watched"]
            for k, want in watched.items():
                step = explain_step(config, k)
                assert torch.equal(step.x, want["x"])
                assert torch.equal(step.targets, want["target"])
                assert step.loss == want["loss"] if batch == 1 else abs(step.loss - want["loss"]) < 1e-5
                torch.testing.assert_close(step.params_after, want["params_after"], rtol=0, atol=1e-6)


def test_explain_step_describes_the_rule_and_the_noise():
    from lucky5.step import describe

    one = describe(explain_step(Config(rule="5 + 3*x1 - 2*x7", noise=0.5, epochs=10), 4))
    assert "target t = 5 + 3*x1 - 2*x7 plus noise of σ = 0.5" in one
    assert "the target is the rule 5 + 3*x1 - 2*x7 of them" in one
    assert "the rule 5 + 3*x1 - 2*x7 at these inputs" in one and "plus noise σ·ε" in one
    assert "carry no information" not in one
    batch = describe(explain_step(Config(rule="4 + 2*x1*x2", epochs=10, batch_size=3), 4), rows=True)
    assert "(ŷ_r − t_r)²" in batch and "each row's own target t_r" in batch and "t = " in batch
    lucky = describe(explain_step(Config(epochs=10), 4))
    assert "carry no information about the target" in lucky and "t_r" not in lucky


def test_the_cli_trains_a_rule_and_refuses_a_bad_one(capsys):
    assert cli.main(["--rule", "5 + 3*x1 - 2*x7", "--noise", "0.1", "--epochs", "300", "--tests", "3"]) == 0
    out = capsys.readouterr().out
    assert "towards the rule 5 + 3*x1 - 2*x7 with noise σ = 0.1" in out
    assert "its own weights and bias are the optimum (w = [3, 0, 0, 0, 0, 0, -2, 0, 0, 0], b = 5)" in out
    assert "The floor no model goes below: the noise σ² = 0.01" in out
    assert cli.main(["--rule", "4 + 2*x1*x2", "--epochs", "300", "--tests", "3"]) == 0
    product = capsys.readouterr().out
    # A deeper network with a non-linearity can fit the product: the floor is one neuron's, never "no layer"'s.
    assert f"One neuron's floor, {number(1 / 36)}: the part of the rule it cannot fit" in product
    assert "no layer" not in product.lower() and "no model" not in product.lower()
    try:
        cli.main(["--rule", "x1*x2*x3"])
    except SystemExit as exit:
        assert exit.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("python -m lucky5: error: rule='x1*x2*x3' is not allowed: at character 7")


def test_the_test_loop_compares_with_the_rules_value_at_each_input():
    history = train(Config(rule="4 + 2*x1*x2", epochs=300))
    result = metrics.evaluate(history.trained, 5.0, n=20, seed=3, rule=Config(rule="4 + 2*x1*x2").target_rule)
    x = torch.rand(20, 10, generator=torch.Generator().manual_seed(3))
    want = (4.0 + 2.0 * x[:, 0] * x[:, 1]).double()
    assert result.targets is not None and torch.equal(result.targets, want)
    assert [row["target"] for row in result.rows()] == want.tolist()
    assert abs(result.mse - float((result.predictions - want).square().mean())) < 1e-12


def test_the_offline_copy_tells_a_rules_story_with_theorys_numbers():
    from lucky5 import export, theory
    from lucky5.story import story as story_of

    x = torch.full((10,), 0.5)
    history = train(Config(rule="4 + 2*x1*x2", noise=0.3, epochs=300))
    rows = dict(export.key_numbers(history, x))
    assert rows["Rule (target)"] == "4 + 2*x1*x2" and rows["Noise on every target σ"] == "0.3"
    floor = 1 / 36 + 0.09  # what one neuron cannot fit of x1·x2 (the shared notes' 1/36), plus σ²
    label = "… one neuron's floor: the part of the rule it cannot fit plus the noise σ², which no model removes"
    assert float(rows[label]) == pytest.approx(floor, rel=1e-3)
    assert not any("no layer" in name for name in rows)
    story = " ".join(story_of(history, x))
    assert "so it cannot compute x1 times x2" in story and "w = [1, 1, 0, 0, 0, 0, 0, 0, 0, 0] and b = 3.5" in story
    assert "say nothing about" not in story and "σ² = 0.09" in story
    assert float(theory.expected_losses(history)[-1]) > floor
    linear = " ".join(story_of(train(Config(rule="5 + 3*x1 - 2*x7", epochs=100)), x))
    assert "The rule is itself a layer" in linear and "cannot" not in linear
    assert "<title>lucky5: a layer learns 4 + 2*x1*x2 (with noise σ = 0.3)</title>" in export.html(history, x)


def test_a_rules_summary_numbers_are_measured_from_the_rules_own_weights():
    """Export rows and "Why not exactly the rule?" measure a rule run from its weights a (3 on x1, −2 on x7 on
    paper), never from w = 0, and its three parts are written in the rule's own terms (w − a, c), not t."""
    from lucky5 import export, figures, theory

    x = torch.full((10,), 0.5)
    history = train(Config(rule="5 + 3*x1 - 2*x7", epochs=5_000))
    a = torch.zeros(10, dtype=torch.float64)
    a[0], a[6] = 3.0, -2.0  # the rule's weights, read off the rule by hand
    w = history.trained.weight.double()
    on_paper = float((w - a).norm())
    assert abs(on_paper - float(w.norm())) > 1  # the two distances differ: the check can tell them apart
    assert theory.why_not_five(history).weight_error == pytest.approx(on_paper, rel=1e-9)
    rows = dict(export.key_numbers(history, x))
    assert "Size of the weights ‖w‖" not in rows
    assert float(rows["Distance to the best weights ‖w − a‖"]) == pytest.approx(on_paper, rel=1e-3)
    parts = [name for name in rows if name.startswith("… ")]
    assert parts[:3] == [f"… {n}" for n in figures.RULE_TERM_NAMES]
    assert not any("Σw + b − t" in n for n in rows) and "(0.5·Σ(w − a) + b − c)²" in parts[0]
    lucky = dict(export.key_numbers(train(Config(epochs=50)), x))
    assert [n for n in lucky if n.startswith("… ")] == [f"… {n}" for n in figures.TERM_NAMES]
    assert "Size of the weights ‖w‖" in lucky


def test_the_loss_parts_legend_of_a_rule_run_writes_the_rules_terms():
    from lucky5 import figures

    history = train(Config(rule="4 + 2*x1*x2", epochs=100))
    spec = figures.animation(history, torch.full((10,), 0.5), panels=("terms",))
    names = [t.get("name") for t in spec["data"]]
    assert all(n in names for n in figures.RULE_TERM_NAMES), names
    assert not any(n in names for n in figures.TERM_NAMES)
