"""Your own data on the first screen, as the server sends it (AppTest, no browser; uploads are driven in a real
browser by tests/browser/test_own_data.py).

Oracles: ``lucky5.train`` on the same rows (the run fingerprint), ``lucky5.theory.empirical`` (the stability limit
and the least-squares fit the verdict states) and the sample's own rule, 2 + 4·x2 − x3, which least squares recovers
within its noise (σ = 0.1 on 200 rows).
"""

from __future__ import annotations

import json
import re

import pytest

from lucky5 import Config, theory, train
from lucky5.data import from_rule, read_csv, sample_csv
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
    assert any("This link carries the settings only, not your file" in c for c in texts(at, "caption"))
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


def _chart(at, title: str) -> dict:
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    return next(c for c in charts if c["layout"]["title"]["text"].startswith(title))


def test_a_data_run_has_its_own_loss_chart_with_the_floor_drawn_and_labelled():
    at = _own_data()
    sample = read_csv(sample_csv())
    run, fit = train(Config(), data=sample), theory.data_fit(sample)
    chart = _chart(at, "Loss (log scale)")
    assert chart["layout"]["yaxis"]["type"] == "log"
    grey, blue = chart["data"]
    assert grey["y"][-1] == pytest.approx(float(run.losses[-1]), rel=1e-4)  # the last epoch's own sampled row
    mse = theory.data_expected_loss(sample, run.trained.weight, run.trained.bias)
    assert blue["x"][-1] == run.steps and blue["y"][-1] == pytest.approx(mse, rel=1e-4)  # over every row
    (floor,) = chart["layout"]["shapes"]
    assert (
        floor["y0"] == floor["y1"] == pytest.approx(fit.floor)
        and floor["label"]["text"] == f"floor {number(fit.floor)}"
    )


def test_standardising_is_said_in_plain_words():
    said = " ".join(texts(_own_data(), "caption"))
    assert "every column has mean 0 and standard deviation 1" in said
    assert "the change in y for one standard deviation more of that column" in said
    assert "b becomes the mean of y" in said and "one rate suits every column" in said


def test_a_run_far_above_the_floor_is_told_how_many_epochs_theory_suggests_and_gets_there():
    at = _own_data()
    sample = read_csv(sample_csv())
    short = train(Config(), data=sample)
    outlook = theory.data_outlook(
        short.config, sample, theory.data_expected_loss(sample, short.trained.weight, short.trained.bias), 200
    )
    assert outlook.epochs is not None
    advice = next(i for i in texts(at, "info") if "train longer" in i)
    assert f"about **{outlook.epochs:,} epochs** (this run had 200)" in advice
    assert f"every ≈ {outlook.tau:,.0f} epochs at lr 0.01" in advice
    next(b for b in at.button if b.key == "own_data_longer").click().run()
    no_errors(at)
    assert fingerprint(at) == train(Config(epochs=outlook.epochs), data=sample).fingerprint()
    assert not any("train longer" in i for i in texts(at, "info"))  # now within the tolerance: no advice


def test_the_distance_to_theory_s_end_says_what_it_is():
    metric = next(m for m in _own_data().metric if m.label == "Distance to theory's end")
    assert (
        "where theory says SGD ends on your data" in metric.proto.help
        and "0 means the run is there" in metric.proto.help
    )


def test_numbers_within_float32_rounding_of_zero_are_written_0():
    """An exact rule's float32 targets leave least-squares weights of about 10⁻⁹ where the rule has none."""
    exact = from_rule("2 + 4*x2", 10_000, seed=0, width=3)
    fit = theory.data_fit(exact)
    assert 0 < abs(float(fit.weight[0])) < 1e-6 and 0 < fit.floor < 1e-12  # what the page must not show
    at = _own_data()
    at.session_state["own_data"] = page_data._own(exact, "exact.csv")
    at.run()
    no_errors(at)
    verdict = next(m for m in texts(at, "markdown") if m.startswith("For your data"))
    assert "x1: 0, x2: 4, x3: 0, and b = 2;" in verdict, verdict
    assert "cannot beat on your data is **0**" in verdict and "×10" not in verdict


def test_the_lucky_number_s_time_constant_writes_the_learning_rate_as_the_page_does():
    said = " ".join(texts(page(lr="0.00002"), "markdown"))
    assert "At lr 2×10⁻⁵ what is left of the slide" in said and "e-05" not in said


def test_a_column_named_b_is_never_read_as_the_bias():
    """Columns a, b, c: the verdict and the bias card name the layer's bias apart from column b."""
    at = page()
    rows = "a,b,c,y\n" + "".join(f"{i % 3},{i % 5},{i % 7},{1 + 2 * (i % 3) - 3 * (i % 5)}\n" for i in range(40))
    at.session_state["own_data"] = page_data._own(read_csv(rows.encode()), "abc.csv")
    widget(at, "selectbox", "task_kind").set_value("data").run()
    no_errors(at)
    verdict = next(m for m in texts(at, "markdown") if m.startswith("For your data"))
    assert "and b = " not in verdict and "b (the layer's bias, not column 'b') = " in verdict, verdict
    labels = [m.label for m in at.metric]
    assert "Bias b" not in labels and "Bias b (the layer's bias, not column 'b')" in labels, labels
