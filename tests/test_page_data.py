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
from page import data as page_data
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


def test_the_first_rows_show_the_numbers_as_the_file_wrote_them():
    """3596.1 is stored as float32 3596.10009765625; the table shows 3596.1, not the widened 3596.1001."""
    data = read_csv(b"area,price_k,y\n3596.1,1200.7,4.1961\n9000,0.3,10\n")
    shown = page_data._first_rows(data)
    assert shown.iloc[0].tolist() == [3596.1, 1200.7, 4.1961]
    assert shown.iloc[1].tolist() == [9000.0, 0.3, 10.0]
    assert float(data.features[0, 0]) != 3596.1  # float32 really did round it


def test_the_lucky_number_and_the_rule_are_disabled_with_a_reason_on_your_data():
    at = _own_data()
    for key in ("w_target", "w_rule"):
        kind = "number_input" if key == "w_target" else "text_input"
        box = widget(at, kind, key)
        assert box.disabled and "your data bring their own targets" in box.help
    assert sum("Not used: your data bring their own targets." in c for c in texts(at, "caption")) == 2
    assert not widget(at, "number_input", "w_noise").disabled  # noise and batch size still act on a data run
    widget(at, "selectbox", "task_kind").set_value("lucky").run()
    assert not widget(at, "number_input", "w_target").disabled and not widget(at, "text_input", "w_rule").disabled
