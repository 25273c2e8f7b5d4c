"""lucky5.glossary: one plain meaning per term, found in the texts that use it.

The oracle for "which terms need a meaning" is the issue's own list of words a newcomer could not explain
(written out here), and the page's text itself (tests/test_app.py reads it through AppTest).
"""

from __future__ import annotations

import pytest

from lucky5 import glossary
from lucky5.cli import main

# Words a first-time reader met without a meaning (the list), each as the page wrote it.
NEWCOMER = {
    "‖w‖": "Size of the weights ‖w‖",
    "Σw": "0.5·Σw + b",
    "u = Σw/√10": "the plane of u = Σw/√10 and b",
    "contour lines ×10 apart": "contour lines ×10 apart · purple: run",
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
}


@pytest.mark.parametrize("name, text", NEWCOMER.items(), ids=list(NEWCOMER))
def test_every_word_a_newcomer_met_has_a_meaning_found_in_the_text_that_uses_it(name, text):
    found = [t.name for t in glossary.terms_in([text])]
    assert name.strip() in found, found
    assert glossary.meaning(name.strip())


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


def test_an_unknown_term_is_a_key_error_naming_it():
    with pytest.raises(KeyError, match="'entropy'"):
        glossary.meaning("entropy")
    assert glossary.meaning("τ") == glossary.meaning("dampening")  # an alias means what its term means


def test_the_command_line_prints_every_meaning(capsys):
    assert main(["--words"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [f"{t.name}: {t.meaning}" for t in glossary.TERMS]
