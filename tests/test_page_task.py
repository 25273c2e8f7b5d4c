"""The first screen's choice of what the network must learn, as the server sends it (AppTest, no browser).

Oracles: ``lucky5.train`` for the run a choice trains (its fingerprint), ``lucky5.rules.parse_rule`` for the
parser's own message, and the least-squares fit written out by hand for 4 + 2·x₁·x₂ (w₁ = w₂ = 1, b = 3.5, 1/36
left over: E[(2x₁x₂ − x₁ − x₂ + 0.5)²] with E[x] = 1/2, E[x²] = 1/3).
"""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from lucky5 import Config, train
from lucky5.narration import number
from lucky5.rules import RuleError, parse_rule
from tests.helpers import as_read, fingerprint, no_errors, page, texts, widget

HIDDEN = "5 + 3*x1 - 2*x7"


def _markdown(at) -> str:
    return "\n".join(texts(at, "markdown"))


def test_the_blog_post_is_the_default_choice_and_shows_no_rule_box():
    at = page()
    no_errors(at)
    assert widget(at, "selectbox", "task_kind").value == "lucky"
    assert not [w for w in at.text_input if w.key == "task_rule"]
    assert [w for w in at.selectbox if w.key == "task_example"] == []
    assert at.title[0].value == "lucky5: a network learns the number 5"


def test_choosing_a_hidden_rule_trains_it_at_once_and_says_its_weights():
    at = page()
    widget(at, "selectbox", "task_kind").set_value("hidden").run()
    no_errors(at)
    assert fingerprint(at) == train(Config(rule=HIDDEN)).fingerprint()
    assert at.query_params["rule"] in (HIDDEN, [HIDDEN])
    assert widget(at, "selectbox", "task_example").value == HIDDEN
    assert "figures out a hidden rule" in at.title[0].value
    assert "w₁ = 3, w₇ = −2, b = 5" in _markdown(at)
    assert widget(at, "text_input", "w_rule").value == HIDDEN  # the sidebar shows the same setting


def test_the_rule_boxs_help_shows_an_example_that_is_accepted_as_typed():
    """Help is Markdown: the example sits in code quotes, so every * in it reaches the reader, and it parses."""
    at = page()
    widget(at, "selectbox", "task_kind").set_value("hidden").run()
    [example] = re.findall(r"`([^`]+)`", widget(at, "selectbox", "task_example").help)
    parse_rule(example)  # raises RuleError if the help taught a rule the box refuses
    assert "*" in example


def test_a_rule_with_noise_and_a_rule_one_neuron_cannot_learn():
    at = page()
    widget(at, "selectbox", "task_kind").set_value("noisy").run()
    no_errors(at)
    assert fingerprint(at) == train(Config(rule=HIDDEN, noise=0.5)).fingerprint()
    assert "σ² = 0.25" in _markdown(at)
    widget(at, "selectbox", "task_kind").set_value("nonlinear").run()
    no_errors(at)
    assert fingerprint(at) == train(Config(rule="4 + 2*x1*x2")).fingerprint()
    said = _markdown(at)
    assert "w₁ = 1, w₂ = 1, b = 3.5" in said
    assert f"{1 / 36:.3g}" in said  # the variance one neuron cannot fit


def test_a_typed_rule_trains_and_a_refused_one_shows_the_parsers_words():
    at = page()
    widget(at, "selectbox", "task_kind").set_value("hidden").run()
    widget(at, "selectbox", "task_example").set_value("Type your own rule").run()
    box = widget(at, "text_input", "task_rule")
    box.set_value("2 + 4*x3").run()
    no_errors(at)
    assert fingerprint(at) == train(Config(rule="2 + 4*x3")).fingerprint()
    trained = fingerprint(at)
    bad = "1 + exp(x1)"
    widget(at, "text_input", "task_rule").set_value(bad).run()
    no_errors(at)
    with pytest.raises(RuleError) as refused:
        parse_rule(bad)
    errors = texts(at, "error")
    assert any(str(refused.value) in e and "at character 5" in e for e in errors), errors
    assert fingerprint(at) == trained  # the last run that could train stays
    assert widget(at, "text_input", "task_rule").value == bad  # kept, to be corrected


@pytest.mark.parametrize("bad", ["__import__('os')", "x1*x2*x3", "x11", "1/x1", "*" * 30])
def test_a_bad_rule_in_a_link_is_ignored_with_a_notice(bad):
    at = page(rule=bad)
    no_errors(at)
    assert fingerprint(at) == train(Config()).fingerprint()
    warnings = " ".join(as_read(w.value) for w in at.warning)
    assert "Ignored rule" in warnings and "expected" in warnings
    assert widget(at, "selectbox", "task_kind").value == "lucky"


def test_back_to_the_lucky_number_clears_rule_and_noise():
    at = page(rule=HIDDEN, noise="0.5")
    assert widget(at, "selectbox", "task_kind").value == "noisy"
    widget(at, "selectbox", "task_kind").set_value("lucky").run()
    no_errors(at)
    assert fingerprint(at) == train(Config()).fingerprint()
    assert "rule" not in dict(at.query_params) and "noise" not in dict(at.query_params)


def test_the_summary_and_inside_one_step_use_the_rule():
    """The prediction is compared with the rule at your input, and "Inside one step" names the step's target: the
    rule at that step's inputs, its * signs shown as typed (escaped Markdown, never emphasis)."""
    at = page(rule=HIDDEN)
    no_errors(at)
    x = [float(v) for v in widget(at, "text_input", "x_text").value.replace(",", " ").split()]
    rule_at_x = 5 + 3 * x[0] - 2 * x[6]
    prediction = next(m for m in at.metric if m.label == "Prediction for your input")
    assert f"The rule at your input is {number(rule_at_x, 4)}" in prediction.proto.help
    notes = [c.value for c in at.caption if "at these inputs" in c.value]
    assert notes and all(r"5 \+ 3\*x1 \- 2\*x7" in n for n in notes)


def test_the_rules_text_is_never_markup_wherever_the_page_quotes_it():
    """A rule's * would make italics: outside a code span the page shows it escaped (a caption once did not)."""
    at = page(rule=HIDDEN, epochs=20)
    no_errors(at)
    shown = [e.value for e in (*at.markdown, *at.caption)]  # the Markdown sent, before a browser reads it
    quoted = [re.sub(r"`[^`]*`", "", s) for s in shown if "x1" in s or "x₁" in s]
    assert quoted, "the page quotes the rule somewhere"
    assert not [s for s in quoted if "3*x1" in s], "a rule's * left as Markdown"


def paragraphs(at: AppTest) -> list[str]:
    """The Markdown paragraphs on the page in order, as read (adjacent ones may share an element)."""
    return [as_read(p) for s in texts(at, "markdown") for p in s.split("\n\n")]


def test_why_not_exactly_the_rule_defines_a_and_c_first_and_counts_its_terms():
    """Read as a learner reads it, top to bottom: a and c are defined before a formula uses them, and the sum has
    the floor and three terms, never "three terms" beside four; the floor is one neuron's, not every model's."""
    at = page(rule="4 + 2*x1*x2", noise="0.5", epochs=20)
    no_errors(at)
    said = paragraphs(at)
    start = next(i for i, s in enumerate(said) if "(0.5·Σ(w − a) + b − c)²" in s)
    defined = next(i for i, s in enumerate(said) if s.startswith("Here a = (a₁, …, a₁₀) and c are"))
    assert defined < start
    assert "w₁ = 1, w₂ = 1, b = 3.5" in said[defined]
    formula = said[start]
    assert f"+ {number(1 / 36 + 0.25)}: the floor (below) and three terms" in formula
    assert "three terms with" not in formula
    whole = " ".join(said)
    assert "One neuron's floor" in whole and "no layer removes" not in whole and "no nn.Linear" not in whole
    lucky = paragraphs(page(epochs=20))
    assert any("(0.5·Σw + b − t)²" in s and ": three terms, with" in s for s in lucky)
    assert not any(s.startswith("Here a = ") for s in lucky)


def test_the_lucky_number_is_greyed_out_with_the_reason_while_a_rule_is_the_target():
    at = page(rule=HIDDEN)
    no_errors(at)
    box = widget(at, "number_input", "w_target")
    assert box.disabled and "Not used now: the target is the rule" in as_read(box.help)
    assert any("Not used: the target is the rule y = 5 + 3*x1 - 2*x7." in as_read(c) for c in texts(at, "caption"))
    widget(at, "selectbox", "task_kind").set_value("lucky").run()
    assert not widget(at, "number_input", "w_target").disabled
    noisy = page(noise="0.5")  # the lucky number through noise: it is the target, so it stays live
    assert not widget(noisy, "number_input", "w_target").disabled


def test_emptying_the_typed_rule_is_refused_and_keeps_the_last_rule():
    """A cleared box never switches to the lucky number behind the learner's back: it says so and keeps the rule."""
    at = page(rule="2 + 4*x3")
    assert widget(at, "selectbox", "task_example").value == "Type your own rule"
    trained = fingerprint(at)
    widget(at, "text_input", "task_rule").set_value("").run()
    no_errors(at)
    assert fingerprint(at) == trained == train(Config(rule="2 + 4*x3")).fingerprint()
    assert widget(at, "selectbox", "task_kind").value == "hidden"
    errors = " ".join(as_read(e) for e in texts(at, "error"))
    assert "An empty rule is no rule" in errors and "keeps y = 2 + 4*x3" in errors
    widget(at, "text_input", "task_rule").set_value("1 + x2").run()  # typing a rule again clears the message
    assert fingerprint(at) == train(Config(rule="1 + x2")).fingerprint()
    assert not any("empty rule" in e for e in texts(at, "error"))
