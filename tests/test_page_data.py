"""Your own data on the first screen, as the server sends it (AppTest, no browser; uploads are driven in a real
browser by tests/browser/test_own_data.py).

Oracles: ``lucky5.train`` on the same rows (the run fingerprint), ``lucky5.theory.empirical`` (the stability limit
and the least-squares fit the verdict states) and the sample's own rule, 2 + 4·x2 − x3, which least squares recovers
within its noise (σ = 0.1 on 200 rows).
"""

from __future__ import annotations

import re

import pytest

from lucky5 import Config, theory, train
from lucky5.data import read_csv, sample_csv
from lucky5.narration import number
from tests.helpers import fingerprint, no_errors, page, shown_number, texts, widget


def _own_data():
    at = page()
    widget(at, "selectbox", "task_kind").set_value("data").run()
    no_errors(at)
    return at


def test_choosing_your_own_data_trains_the_sample_until_a_file_is_uploaded():
    at = _own_data()
    sample = read_csv(sample_csv())
    assert fingerprint(at) == train(Config(), data=sample).fingerprint()
    assert at.title[0].value == "lucky5: one neuron learns your data"
    said = "\n".join(texts(at, "markdown"))
    assert "200 rows" in said and "3 feature columns" in said
    assert any("x₄…x₁₀" not in c and "other inputs are unused" in c for c in texts(at, "caption"))
    assert len(at.dataframe) == 1 and list(at.dataframe[0].value.columns) == ["x1", "x2", "x3", "y"]
    assert "rule" not in at.query_params  # the link carries the settings alone
    assert any("A link cannot carry a file" in c for c in texts(at, "caption"))
    assert not any("opens this exact run" in c for c in texts(at, "caption"))


def test_the_verdict_is_the_empirical_theory_of_the_rows():
    at = _own_data()
    sample = read_csv(sample_csv())
    verdict = next(m for m in texts(at, "markdown") if m.startswith("For your data"))
    found = re.search(r"settles below \*\*lr ≈ ([^*]+)\*\*;", verdict)
    assert found, verdict
    exact = theory.data_critical_lr(sample, momentum=0.1)
    assert shown_number(found.group(1)) == pytest.approx(exact, rel=5e-3)  # three digits shown
    assert "SGD with momentum 0.1" in verdict
    fit = theory.data_fit(sample)
    for name, w in zip(("x1", "x2", "x3"), fit.weight.tolist(), strict=False):
        assert f"{name}: {number(w)}" in verdict
    assert abs(fit.weight[1] - 4) < 0.1 and abs(fit.weight[2] + 1) < 0.1 and abs(fit.bias - 2) < 0.1
    assert f"cannot beat on your data is **{number(fit.floor)}**" in verdict


def test_standardising_trains_on_the_standardised_rows_and_a_rule_leaves_the_data():
    at = _own_data()
    widget(at, "toggle", "own_data_scaled_widget").set_value(True).run()
    no_errors(at)
    scaled = read_csv(sample_csv()).standardized()
    assert fingerprint(at) == train(Config(), data=scaled).fingerprint()
    widget(at, "selectbox", "task_kind").set_value("hidden").run()
    no_errors(at)
    assert fingerprint(at) == train(Config(rule="5 + 3*x1 - 2*x7")).fingerprint()
    assert "figures out a hidden rule" in at.title[0].value  # the lesson again, on uniform inputs
