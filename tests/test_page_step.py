"""The "Inside one step" panel (``page.step``) in Streamlit's AppTest: the epoch picker at its bounds, on a
diverged run and across runs, and every number it shows against ``lucky5.step.explain_step`` called here.

The panel runs alone in a tiny script (the page wires it in elsewhere): the script trains the Config kept in
session state and draws ``inside_one_step`` for it. AppTest renders nothing (no JavaScript): these tests
check what the server sends.
"""

from __future__ import annotations

import math
import re

import pytest
import torch
from streamlit.testing.v1 import AppTest

from lucky5 import Config, train
from lucky5.step import PARAMETER_LABELS, Step, batch_rows, explain_step, forward_table, sections, update_table
from tests.helpers import TIMEOUT, no_errors


def panel_script() -> None:
    import streamlit as st

    from lucky5 import Config
    from page import runtime
    from page.step import inside_one_step

    inside_one_step(runtime.run(Config(**st.session_state.get("settings", {}))))


def panel(**settings) -> AppTest:
    at = AppTest.from_function(panel_script, default_timeout=TIMEOUT)
    at.session_state["settings"] = settings
    return at.run()


def picker(at: AppTest):
    return at.number_input(key="step_k")


def assert_shows(at: AppTest, step: Step) -> None:
    """Every equation and table on the panel is this step's, number for number."""
    no_errors(at)
    # Display equations ride in the panel's Markdown elements, as ``st.latex`` writes them ($$ on lines of their own).
    shown = [eq for e in at.markdown for eq in re.findall(r"^\$\$\n(.*?)\n\$\$$", e.value, re.S | re.M)]
    assert shown == [eq.latex for s in sections(step) for eq in s.equations]
    tables = [t.value for t in at.dataframe]
    expected = [forward_table(step), update_table(step)]
    if step.batch_size > 1:
        expected.insert(0, batch_rows(step))
    assert len(tables) == len(expected)
    for frame, columns in zip(tables, expected, strict=True):
        shown = [("x" if name == "x̄" else name) for name in frame.columns]
        assert shown == list(columns)
        for name, value in zip(frame.columns, columns.values(), strict=True):
            # float32 widened to float64 is exact: the table holds the very numbers
            assert torch.equal(torch.tensor(frame[name].to_numpy()), value.double()), name
    if step.batch_size == 1:
        assert list(tables[0].index) == list(PARAMETER_LABELS)


@pytest.fixture(scope="module")
def post_run() -> AppTest:
    return panel()


def test_the_posts_run_opens_on_an_early_epoch(post_run):
    at = post_run
    k = picker(at)
    assert (k.value, k.min, k.max) == (1, 0, Config().epochs - 1)
    assert not at.sidebar.number_input  # in the main area
    assert_shows(at, explain_step(Config(), 1))
    assert not at.warning and not at.error


@pytest.mark.parametrize("epoch", [0, 199])
def test_the_picker_at_its_bounds(post_run, epoch):
    at = post_run
    picker(at).set_value(epoch).run()
    assert picker(at).value == epoch
    assert_shows(at, explain_step(Config(), epoch))


def test_a_diverged_run_offers_only_its_finite_epochs():
    config = Config(lr=0.5)
    d = train(config).diverged_at
    assert d is not None and d > 1, "the setting must diverge after a few finite steps"
    at = panel(lr=0.5)
    k = picker(at)
    assert (k.min, k.max) == (0, d - 1)
    assert any(f"diverged at epoch {d}" in w.value for w in at.warning)
    assert_shows(at, explain_step(config, 1))
    k.set_value(d - 1).run()
    step = explain_step(config, d - 1)
    assert_shows(at, step)
    assert math.isfinite(step.loss) and torch.isfinite(step.params_after).all()


def test_a_run_that_diverges_at_once_says_so_without_a_picker():
    at = panel(lr=10.0, target=1e30)
    assert not at.exception
    assert not at.number_input
    assert any("very first epoch" in i.value for i in at.info)


def test_a_larger_batch_shows_the_mean_and_the_rows_on_request():
    at = panel(batch_size=4, epochs=30, optimizer="adam", lr=0.1)
    assert_shows(at, explain_step(Config(batch_size=4, epochs=30, optimizer="adam", lr=0.1), 1))
    assert [e.label for e in _own(at.expander)] == ["All 4 rows of the batch"]
    assert "x̄" in at.dataframe[1].value.columns


def test_a_shorter_run_brings_a_kept_epoch_back_into_range():
    at = panel(epochs=300)
    picker(at).set_value(250).run()
    assert picker(at).value == 250
    at.session_state["settings"] = dict(epochs=100)
    at.run()
    k = picker(at)
    assert (k.value, k.max) == (1, 99)
    assert_shows(at, explain_step(Config(epochs=100), 1))


def _own(expanders) -> list:
    """The step panel's own expanders, without the Words panel every section of the page has (page/words.py)."""
    return [e for e in expanders if not e.label.endswith("what the terms here mean")]


def test_a_rerun_draws_the_same_panel_with_the_rows_still_in_their_expander():
    """A rerun of the same step replays what the first run drew (``page.step`` keeps it): the same equations and
    tables, and the batch's rows still folded inside their expander, not beside it."""
    config = dict(batch_size=3, epochs=20, lr=0.05)
    at = panel(**config)
    for _ in range(2):  # the first run draws the panel, the second replays it
        assert_shows(at, explain_step(Config(**config), 1))
        assert [len(e.dataframe) for e in _own(at.expander)] == [1]
        assert list(_own(at.expander)[0].dataframe[0].value.columns) == list(at.dataframe[0].value.columns)
        at.run()
