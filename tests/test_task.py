"""What the network must learn (``lucky5.task``): the four kinds read from a Config and chosen back, the target
and the best answer for one input, and the first screen's words.

Oracles: the rules evaluated by hand at the input, and the fit of 4 + 2·x₁·x₂ worked out on paper (w₁ = w₂ = 1,
b = 3.5, 1/36 left over), checked here also against a least-squares fit of 200,000 drawn samples.
"""

from __future__ import annotations

import pytest
import torch

from lucky5 import Config, task, theory, train

X = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]


@pytest.mark.parametrize(
    ("config", "kind"),
    [
        (Config(), task.LUCKY),
        (Config(rule="5 + 3*x1 - 2*x7"), task.HIDDEN),
        (Config(rule="5 + 3*x1 - 2*x7", noise=0.5), task.NOISY),
        (Config(noise=1.0), task.NOISY),
        (Config(rule="4 + 2*x1*x2"), task.NONLINEAR),
        (Config(rule="5 + x3^2"), task.NONLINEAR),
    ],
)
def test_every_config_is_one_kind_and_choosing_its_kind_keeps_it(config, kind):
    assert task.kind_of(config) == kind
    assert task.choose(config, kind) == config


def test_choosing_a_kind_gives_a_config_of_that_kind_and_keeps_the_rest():
    start = Config(epochs=2_000, seed=3, rule="4 + 2*x1*x2")
    for kind in task.KINDS:
        chosen = task.choose(start, kind)
        assert task.kind_of(chosen) == kind
        assert (chosen.epochs, chosen.seed) == (2_000, 3)
    assert task.choose(start, task.NOISY).rule == start.rule  # any rule can carry noise
    assert task.choose(start, task.HIDDEN).rule == task.EXAMPLES[task.HIDDEN][0]
    with pytest.raises(KeyError):
        task.choose(start, "magic")


def test_every_example_is_of_its_kind():
    for kind, rules in task.EXAMPLES.items():
        for rule in rules:
            config = Config(rule=rule, noise=task.NOISE if kind == task.NOISY else 0.0)
            assert task.kind_of(config) == kind
            assert config.rule == rule  # already canonical: the box and the link show the same text


def test_the_target_and_the_best_answer_for_one_input():
    assert task.target_at(Config(target=7.0), X) == 7.0
    assert task.target_at(Config(rule="5 + 3*x1 - 2*x7"), X) == pytest.approx(5 + 3 * 0.1 - 2 * 0.7)
    assert task.best_at(Config(rule="5 + 3*x1 - 2*x7"), X) == pytest.approx(5 + 3 * 0.1 - 2 * 0.7)
    nonlinear = Config(rule="4 + 2*x1*x2")
    assert task.target_at(nonlinear, X) == pytest.approx(4 + 2 * 0.1 * 0.2)
    assert task.best_at(nonlinear, X) == pytest.approx(3.5 + 0.1 + 0.2)


def test_the_best_answer_matches_a_least_squares_fit_of_samples():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(200_000, 10, generator=g, dtype=torch.float64)
    y = 4 + 2 * x[:, 0] * x[:, 1]
    z = torch.cat([x, torch.ones(len(x), 1, dtype=torch.float64)], 1)
    theta = torch.linalg.lstsq(z, y[:, None]).solution.flatten()
    fitted = float(theta[:10] @ torch.tensor(X, dtype=torch.float64) + theta[10])
    assert task.best_at(Config(rule="4 + 2*x1*x2"), X) == pytest.approx(fitted, abs=1e-2)


def test_the_headline_names_the_target_and_the_best_layer():
    assert task.headline(Config()).title == "lucky5: a network learns the number 5"
    assert "**w = 0, b = 5**" in task.headline(Config()).sentence
    hidden = task.headline(Config(rule="5 + 3*x1 - 2*x7"))
    assert "`y = 5 + 3*x1 - 2*x7`" in hidden.sentence  # in a code span: its * is no emphasis
    assert "w₁ = 3, w₇ = −2, b = 5" in hidden.sentence
    nonlinear = task.headline(Config(rule="4 + 2*x1*x2"))
    assert "cannot" in nonlinear.title and "w₁ = 1, w₂ = 1, b = 3.5" in nonlinear.sentence
    assert f"**{1 / 36:.3g}**" in nonlinear.sentence
    noisy = task.headline(Config(rule="5 + 3*x1 - 2*x7", noise=0.5))
    assert "σ² = 0.25" in noisy.sentence
    assert "every wᵢ = 0, b = 5" in task.headline(Config(noise=1.0)).sentence


def test_why_words_say_what_no_layer_removes_with_theorys_numbers():
    plain = task.why_words(theory.why_not_five(train(Config(epochs=50))))
    assert plain.title == "Why not exactly 5?" and plain.floor == () and (plain.w, plain.t) == ("w", "t")
    nonlinear = task.why_words(theory.why_not_five(train(Config(rule="4 + 2*x1*x2", epochs=50))))
    assert nonlinear.title == "Why not exactly the rule?" and nonlinear.w == "(w − a)"
    assert f"variance of {1 / 36:.3g}" in nonlinear.floor[0]  # E[(2x₁x₂ − x₁ − x₂ + 0.5)²] = 1/36, on paper
    # A network with a non-linearity can fit the product: the floor is one neuron's, and a and c are defined.
    assert nonlinear.floor[-1] == f"One neuron's floor, {1 / 36:.3g}: the part of the rule it cannot fit."
    assert nonlinear.floor_total == pytest.approx(1 / 36)
    assert nonlinear.symbols.startswith("Here a = (a₁, …, a₁₀) and c are the weights and the bias of the best layer")
    assert "w₁ = 1, w₂ = 1, b = 3.5" in nonlinear.symbols and "least-squares fit" in nonlinear.symbols
    assert plain.symbols == "" and plain.floor_total == 0
    linear = task.why_words(theory.why_not_five(train(Config(rule="5 + 3*x1 - 2*x7", epochs=50))))
    assert "w₁ = 3, w₇ = −2, b = 5 (the rule's own)" in linear.symbols and linear.floor == ()
    noisy = Config(rule="5 + 3*x1 - 2*x7", noise=0.5, epochs=50)
    said = task.why_words(theory.why_not_five(train(noisy)))
    jitter, _ = theory.stationary_excess(noisy)
    assert jitter is not None
    assert any("σ² = 0.25" in s for s in said.floor)
    assert said.floor[-1] == "The floor no model goes below: the noise σ² = 0.25."
    assert any(f"about {jitter.excess - jitter.optimum_excess:.3g} more" in s for s in said.floor)


@pytest.mark.parametrize(
    ("unfit", "noise", "words"),
    [
        (0.0, 0.0, ""),
        (0.0, 0.25, "the floor no model goes below: the noise σ² = 0.25"),
        (1 / 36, 0.0, "one neuron's floor, 0.0278: the part of the rule it cannot fit"),
        (
            1 / 36,
            0.25,
            "one neuron's floor, 0.278: the part of the rule it cannot fit (0.0278) plus the noise σ² = 0.25, which "
            "no model removes",
        ),
    ],
)
def test_the_floor_is_one_neurons_where_a_rule_is_unfit_and_every_models_only_for_the_noise(unfit, noise, words):
    assert task.floor_text(unfit, noise) == words
    bare = task.floor_text(unfit, noise, numbers=False)
    assert not any(ch in "0123456789" for ch in bare) and bool(bare) == bool(words)  # the words alone, for a label


def test_a_noisy_run_at_the_floor_is_told_it_is_there_not_that_it_is_not_there_yet():
    """With noise SGD never comes within 1 % of the optimum; at theory's floor plus its stationary jitter the
    caption says it has arrived, with those two numbers, and a run still sliding (200 epochs) is told it is not."""
    from lucky5.narration import narrate, number

    config = Config(rule="5 + 3*x1 - 2*x7", noise=0.5, epochs=20_000)
    history = train(config)
    jitter, _ = theory.stationary_excess(config)
    assert jitter is not None
    expected = float(theory.expected_losses(history)[-1])
    assert expected - 0.25 < 3 * jitter.excess  # the oracle's own point: the run sits on the floor
    last = narrate(history, [history.steps]).captions[-1]
    assert "not there yet" not in last and last.startswith("There:")
    assert f"the floor one neuron cannot go below, {number(0.25)}, plus SGD's jitter (≈ {number(jitter.excess)}" in last
    short = train(config.replace(epochs=200))
    assert "not there yet" in narrate(short, [short.steps]).captions[-1]
