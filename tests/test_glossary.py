"""lucky5.glossary: one plain meaning per term, found in the texts that use it.

The oracle for "which terms need a meaning" is the issue's own list of words a newcomer could not explain
(written out here), and the page's text itself (tests/test_app.py reads it through AppTest).
"""

from __future__ import annotations

import pytest

from lucky5 import Config, glossary
from lucky5.cli import main
from lucky5.step import explain_step, sections, table, update_rule
from tests.oracle import OPTIMIZER_CASES

# Words a first-time reader met without a meaning (the list), each as the page wrote it.
NEWCOMER = {
    "‖w‖": "Size of the weights ‖w‖",
    "Σw": "0.5·Σw + b",
    "u = Σw/√10": "the plane of u = Σw/√10 and b",
    "contour lines ×10 apart ": "contour lines ×10 apart · purple: run",
    "eigenvalue": "nine eigenvalues at 1/6",
    "time constant": "a time constant of ≈ 1,920 epochs",
    "disagreement": "The disagreement ‖w − mean(w)‖²/12",
    "momentum buffer": "the momentum buffer before and after",
    "dampening": "buf ← μ·buf + (1 − τ)·g",
    "momentum": "buf ← μ·buf + (1 − τ)·g",
    "gradient": "∂L/∂wᵢ = 2(ŷ − t)·xᵢ",
    "float32": "recomputed in float32",
    "hex digits": "12 hex digits",
    "expected loss": "The expected loss over random inputs",
    "U(0, 1)": "one fresh random input x ~ U(0, 1)^10",
    "checkpoint": "Test a checkpoint: load a .safetensors file",
    # What a fresh reader still could not explain once every term above had its meaning:
    "/12": "From theory: (0.5·Σw + b − t)² + ‖w‖²/12.",
    "/120": "the valley term (Σw)²/120 = 0.342",
    "mean(w)": "The disagreement ‖w − mean(w)‖²/12",
    "1/6": "shrinks by e every ≈ 3 epochs (eigenvalue 1/6)",
    "noise": "Noise σ",
    "torchmetrics": "MSE 0.01, MAE 0.1 (torchmetrics)",
    ".safetensors": "Trained layer (.safetensors)",
    # What a second fresh reader still could not explain:
    "variance": "which leaves a variance of 0.0278",
    "by e": "shrinks by e every ≈ 961 epochs",
    "MSE": "Over all 10 inputs: MSE 0.22, MAE 0.4",
    "log scale": "Loss (log scale)",
    "least-squares fit": "the rule's least-squares fit",
    "Nesterov": "Nesterov",
    "weight decay": "Weight decay",
    "dampening ": "buf ← μ·buf + (1 − τ)·g",
    "learning rate": "θ ← θ − lr·buf",
    "gradient ": "g is the gradient ∂L/∂θ itself",
    ".grad": "what loss.backward() leaves in .grad",
    "loss.backward()": "the loss, `loss.backward()` and `optimizer.step()`",
    "optimizer.step()": "the loss, `loss.backward()` and `optimizer.step()`",
    "torch.Generator": "Seeds this run's own torch.Generator: the initialisation, then every input.",
    "initialisation": "Seeds this run's own torch.Generator: the initialisation, then every input.",
    "batch size": "Optimizer steps; each sees batch_size fresh random inputs.",
    "|weight|": "edge width = |weight| · blue: w > 0",
    # What a third fresh reader still could not explain:
    "Σ wᵢxᵢ + b": "Σ wᵢxᵢ + b",
    "U(0, 1) ": "x ~ U(0,1)^10",
    "running MSE": "running MSE",
    "prediction for your input": "Prediction for your input",
    "average answer": "on average the layer answers 0.5·Σw + b = −0.127",
    "contour lines ×10 apart": "grey: equal loss, ×10 apart",
    "θ": "θ = [w, b]",
    "Δθ": "Δθ",
    "chain rule": "The chain rule through (ŷ − t)²",
    "fast error": "The fast error (0.5·Σw + b − t)² = 0.0113.",
    "valley term": "The valley term (Σw)²/120 = 0.342.",
    # What a newcomer could not read in the step's update rules (the arrows, the Greek letters beside μ and τ):
    "←": "buf ← μ·buf + (1 − τ)·g",
    "→": "ŷ: 0.686913 → 1.08737   (t = 5)",
    "|ŷ − t|": "closer to the target (|ŷ − t| 4.31309 → 3.91263).",
    "weight decay ": "g ← ∂L/∂θ + λ·θ",
    "ε": "lr = 0.1, β₁ = 0.9, β₂ = 0.999, ε = 1e-08, t = 3",
    "β₁ᵗ": "dividing by 1 − β₁ᵗ and 1 − β₂ᵗ undoes that start's pull toward 0.",
    "√": "θ ← θ − lr_t·g / (√s + ε)",
    "α": "v ← α·v + (1 − α)·g²",
    "η": "lr_t = lr / (1 + (t − 1)·η) = 0.490196",
}


@pytest.mark.parametrize("name, text", NEWCOMER.items(), ids=list(NEWCOMER))
def test_every_word_a_newcomer_met_has_a_meaning_found_in_the_text_that_uses_it(name, text):
    found = [t.name for t in glossary.terms_in([text])]
    assert name.strip() in found, found
    assert glossary.meaning(name.strip())


def test_the_meanings_a_newcomer_leaned_on_say_their_own_hard_words():
    """A meaning that uses a word (variance, direction, e) must say it there: a popover lists the terms of the
    page's text, not of the meanings."""
    assert "average of (x − 0.5)²" in glossary.meaning("/12")
    assert "one way of changing the 11 numbers" in glossary.meaning("eigenvalue")
    assert "e ≈ 2.718" in glossary.meaning("by e") and "(by e)" in glossary.meaning("time constant")
    assert "10⁻⁶ = 0.000001" in glossary.meaning("log scale")
    assert glossary.meaning("MSE").startswith("Mean squared error")


def test_a_list_of_meanings_explains_the_words_its_meanings_use_too():
    listed = glossary.explained(["the sum Σw"])  # Σw's meaning says "weights": the list says what they are
    assert [t.name for t in listed] == ["Σw", "weights"]
    everything = glossary.explained(["the optimum"])
    assert "least-squares fit" in [t.name for t in everything]
    for term in everything:
        assert set(glossary.terms_in([term.meaning])) <= set(everything), term.name


def test_each_meaning_is_one_plain_line_and_each_spelling_names_one_term():
    spellings = [s for t in glossary.TERMS for s in t.spellings]
    assert len(spellings) == len(set(spellings)), "a spelling names two terms"
    for term in glossary.TERMS:
        assert "\n" not in term.meaning and term.meaning.endswith("."), term.name
        assert 20 <= len(term.meaning) <= 160, (term.name, len(term.meaning))
        assert not any(c in term.meaning for c in "*_`$"), f"{term.name}: Markdown in a meaning"


def test_terms_are_found_as_whole_words_in_order_of_first_appearance_plurals_and_capitals_too():
    texts = ["Loss per epoch", "the valley's time constant is 1,920 epochs", "Seeds: 8", "a lossless flag"]
    assert [t.name for t in glossary.terms_in(texts)] == ["loss", "epoch", "valley", "time constant", "seed"]
    assert glossary.terms_in(["b = 5, w = 0.3, x"]) == ()  # one-letter names are not searched; 0.3 is not 0
    assert glossary.terms_in(["w = 0, b = 5"]) == (glossary.TERM["optimum"],)
    assert glossary.terms_in(["pseudoseed", "epochal"]) == ()


def test_the_sidebars_help_says_no_jargon_it_does_not_explain():
    """A fresh reader met "Gaussian", "standard deviation", "L2 penalty" and AdamW's "decoupled" in the
    settings' help; each help is now in plain words, and every term it uses has a meaning."""
    from lucky5.config import SETTINGS

    jargon = ("Gaussian", "standard deviation", "L2", "decoupled", "penalty")
    for setting in SETTINGS:
        assert not any(word.lower() in setting.help.lower() for word in jargon), (setting.name, setting.help)
    assert "noise" in [t.name for t in glossary.terms_in(["Noise σ"])]


def test_contour_lines_are_not_called_rings_and_say_they_are_cut_off():
    """The valley's contour lines are drawn as open curves (long ovals cut by the picture): "rings" misled."""
    assert not any("ring" in s for t in glossary.TERMS for s in t.spellings)
    assert "cut off" in glossary.meaning("contour lines ×10 apart")


def test_a_sign_no_term_covers_is_reported_with_where_it_stands():
    """The oracle: signs written out by hand, and whether a term's spelling spans them in the text."""
    assert glossary.unexplained("the valley term (Σw)²/120 and u = Σw/√10") == []
    assert glossary.unexplained("Σ wᵢxᵢ + b and ‖w − mean(w)‖²/12") == []
    assert glossary.unexplained("a plain sentence with 5 and 0.5") == []
    assert glossary.unexplained("∇f = 0") == ["∇f = 0"]
    assert glossary.unexplained("Σ over k of the rest") == [
        "Σ over k of the "
    ]  # the sign and 15 characters either side
    assert glossary.unexplained("the ratio v/17 here") == ["the ratio v/17 here"]


def test_the_third_readers_words_now_say_what_they_are_not():
    """The fresh reader mixed up what sounds alike: the running MSE and the expected loss, the average answer and
    the prediction for your input. Each meaning says how it differs from the other."""
    assert "expected loss" in glossary.meaning("running MSE") and "wobbles" in glossary.meaning("running MSE")
    assert "average answer" in glossary.meaning("prediction for your input")
    assert "every x = 0.5" in glossary.meaning("average answer")
    assert "Σ means add up" in glossary.meaning("Σ wᵢxᵢ + b")
    assert "height lines on a map" in glossary.meaning("contour lines ×10 apart")
    assert glossary.meaning("equal loss") == glossary.meaning("contour lines")


def test_an_unknown_term_is_a_key_error_naming_it():
    with pytest.raises(KeyError, match="'entropy'"):
        glossary.meaning("entropy")
    assert glossary.meaning("τ") == glossary.meaning("dampening")  # an alias means what its term means


def test_the_command_line_prints_every_meaning(capsys):
    assert main(["--words"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [f"{t.name}: {t.meaning}" for t in glossary.TERMS]


@pytest.mark.parametrize("case", OPTIMIZER_CASES, ids=list(OPTIMIZER_CASES))
def test_every_sign_the_step_panel_writes_has_a_meaning(case):
    """The step's update rules wrote ←, λ, ε, α, η, √ and β₁ᵗ (where t counts steps, not the target), and the
    step's Words panel explained none of them. The oracle: the panel's own texts (its titles and notes, each
    formula in plain text, each table column, what page/step.py lists), read sign by sign."""
    step = explain_step(Config(epochs=5, **OPTIMIZER_CASES[case]), 2)
    rule = update_rule(step)
    parts = sections(step, rule)
    texts = [f"{s.title}. {s.note}" for s in parts] + [e.text for s in parts for e in s.equations]
    texts += [name for s in parts if s.table is not None for name in table(step, s.table, rule)]
    assert any("←" in t for t in texts)  # the update is written as an update
    assert [sign for text in texts for sign in glossary.unexplained(text)] == []


@pytest.mark.parametrize("name", ["x₁…x₁₀", "loss", "disagreement", "valley", "lucky number"])
def test_the_meanings_a_rules_page_shows_hold_for_a_rule_too(name):
    """A reader of a hidden rule was told the inputs are unrelated to the target, the loss is measured from the
    lucky number and the disagreement is 0 when the weights are all equal: each is false for a rule. These
    meanings name both cases."""
    meaning = glossary.TERM[name].meaning
    assert "rule" in meaning, meaning
    assert "unrelated to the target" not in meaning and "− lucky number" not in meaning, meaning


@pytest.mark.parametrize(("text", "name"), [("x ~ U(0, 1)^10", "U(0, 1)"), ("σ² = 0.25", "noise")])
def test_the_story_s_and_the_noise_s_signs_are_explained(text, name):
    """A reader could not say what "~" in "x ~ U(0, 1)^10" or the square in "σ² = 0.25" meant."""
    (term,) = glossary.terms_in([text])
    assert term.name == name
    assert ("~" in term.meaning) if "~" in text else ("σ²" in term.meaning), term.meaning
