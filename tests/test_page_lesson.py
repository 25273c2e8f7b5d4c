"""The lesson as the server sends it (AppTest, no browser): four charts on one timeline, the frames' captions for
the page's player, the epochs one click away, and headline numbers that lead with the expected loss.

Oracles: ``lucky5.train`` (the run), the expected loss written out from its closed form, and the frames' epochs
read back from the charts themselves. What only a browser shows (layout, playing) is tests/browser/test_first_screen.py.
"""

from __future__ import annotations

import json
import re

import pytest

from lucky5 import Config, train
from tests.helpers import fingerprint, no_errors, page

LESSON_CHARTS = ("chart_network", "chart_loss", "chart_prediction", "chart_valley")


def lesson_charts(at) -> dict[str, dict]:
    found = {}
    for element in at.get("plotly_chart"):
        for key in LESSON_CHARTS:
            if element.proto.id and key in element.proto.id:
                found[key] = json.loads(element.proto.spec)
    return found


def lesson_data(at) -> dict:
    for element in at.get("html"):
        body = element.proto.body
        if 'class="lesson-data"' in body:
            return json.loads(
                re.search(r'<script type="application/json" class="lesson-data">(.*?)</script>', body, re.S)[1]
            )
    raise AssertionError("no lesson data on the page")


@pytest.fixture(scope="module")
def default_page():
    return page()


def test_the_lesson_sends_four_charts_on_one_timeline(default_page):
    at = default_page
    no_errors(at)
    charts = lesson_charts(at)
    assert set(charts) == set(LESSON_CHARTS)
    names = {key: [f["name"] for f in spec["frames"]] for key, spec in charts.items()}
    assert len({tuple(n) for n in names.values()}) == 1  # the same frames everywhere
    data = lesson_data(at)
    assert [str(e) for e in data["epochs"]] == names["chart_loss"] == [str(e) for e in range(201)]
    assert len(data["captions"]) == len(data["epochs"])
    assert data["captions"][0].startswith("A random start")
    assert not any(u.get("updatemenus") for u in (s["layout"] for s in charts.values()))  # the page's own controls


def test_headline_numbers_lead_with_the_expected_loss(default_page):
    at = default_page
    history = train(Config())
    w, b = history.weights[-1].double(), float(history.biases[-1])
    expected = (0.5 * float(w.sum()) + b - 5) ** 2 + float(w.square().sum()) / 12
    labels = [m.label for m in at.metric]
    assert labels[0] == "Expected loss" and "Final loss" not in labels
    assert float(at.metric[0].value) == pytest.approx(expected, rel=5e-3)
    one = [c.value for c in at.caption if "one random input" in c.value]
    assert one and f"{float(history.losses[-1]):.3g}" in one[0]  # labelled as one sample


def test_a_number_near_the_lucky_number_keeps_its_digits():
    at = page(epochs=20_000)
    no_errors(at)
    history = train(Config(epochs=20_000))
    bias = next(m.value for m in at.metric if m.label == "Bias b")
    trained = float(history.biases[-1])
    assert abs(trained - 5) < 1e-3 and bias != "5" and float(bias) == pytest.approx(trained, abs=1e-4)


def test_the_epochs_are_one_click_away(default_page):
    at = default_page
    choice = next(w for w in at.button_group if w.key == "lesson_epochs_choice")
    assert choice.value == 200
    choice.set_value(20_000).run()
    no_errors(at)
    assert fingerprint(at) == train(Config(epochs=20_000)).fingerprint()
    assert lesson_data(at)["epochs"][-1] == 20_000
    assert next(w for w in at.number_input if w.key == "w_epochs").value == 20_000  # the sidebar follows
