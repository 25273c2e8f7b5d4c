"""Issue 5: bad input of every kind gets a clear message, never a traceback, and the last good run stays.

Table-driven AppTest cases, one table per way in: the typed input vector, the sidebar controls,
the URL, the checkpoint upload, the blog-post test count and the Compare section. Each case checks:

- no exception on the page (``at.exception`` is empty: Streamlit would show a traceback);
- a message (error or warning) that names what is wrong, at most ``MAX_MESSAGE`` characters
  (a 1 MB input must not come back as a 1 MB message);
- a run is still on the page (the "Run fingerprint" caption), and where the bad input should not
  change the run, it is the run shown before.

Out-of-range widget values pushed past a number_input's bounds (possible from a crafted websocket
message, not from the browser's own widget) never reach the script: Streamlit 1.67 replaces them
with the widget's default before the script runs, so the page cannot name them. Those cases only
check that nothing breaks and the run stays.
"""

from __future__ import annotations

import functools
import io
import json
import os
import pickle
import struct
import tempfile
import zlib
from pathlib import Path

import pytest
import torch
from safetensors.torch import save as st_save
from streamlit.testing.v1 import AppTest
from torch import nn

from lucky5 import Config, checkpoint, train
from lucky5.config import FIELD_NAMES
from tests.helpers import as_read, fingerprint, lucky5_file, no_errors, page, shown_number, texts, widget

MAX_MESSAGE = 1_000  # characters: a message names the problem, it does not echo a megabyte back
MB = 1_000_000
# Python's own words leaking into a message meant for a person.
JARGON = ("invalid literal", "could not convert", "base 10", "set_int_max_str_digits", "Traceback", "Error:")


# --- helpers ---------------------------------------------------------------------------------------------------------


def messages(at: AppTest) -> list[str]:
    """Errors and warnings as a person reads them."""
    return texts(at, "error") + texts(at, "warning")


def assert_says(at: AppTest, *words: str) -> None:
    """A message names the problem: every word appears (a word may list alternatives as 'a|b')."""
    no_errors(at)
    found = messages(at)
    text = " ".join(found).lower()
    for word in words:
        assert any(alt.lower() in text for alt in word.split("|")), (word, [m[:300] for m in found])
    too_long = [len(m) for m in found if len(m) > MAX_MESSAGE]
    assert not too_long, f"messages of {too_long} characters"


def refusals(at: AppTest) -> list[str]:
    """The sidebar's 'cannot train' messages, as a person reads them (each sits under its setting)."""
    return [as_read(e.value) for e in at.sidebar.error if "cannot train" in e.value]


def shown_run(at: AppTest) -> Config:
    """The run the page shows, checked: its fingerprint is the core's own training of it."""
    run = at.session_state.state.run
    assert fingerprint(at) == train(run).fingerprint()
    return run


def prediction(at: AppTest) -> str:
    return next(m.value for m in at.metric if m.label == "Prediction for your input")


def post_table_rows(at: AppTest) -> int:
    return len(next(d.value for d in at.dataframe if "running MSE" in d.value.columns))


@functools.cache
def default_fingerprint() -> str:
    return train(Config()).fingerprint()


# --- 1. the typed input vector ---------------------------------------------------------------------------------------

TEN = " ".join(["0.5"] * 10)

BAD_TYPED = [
    ("three-numbers", "1,2,3", ("10", "found 3")),
    ("eleven-numbers", ", ".join(["0"] * 11), ("found 11",)),
    ("words", "one two three four five six seven eight nine ten", ("not a number",)),
    ("nan", "nan " + " ".join(["0"] * 9), ("finite",)),
    ("inf", "inf " + " ".join(["0"] * 9), ("finite",)),
    ("minus-inf", " ".join(["0"] * 9) + " -inf", ("number 10", "finite")),
    ("1e308", "1e308 " + " ".join(["0"] * 9), ("1,000,000",)),
    ("1e999-overflows-to-inf", "1e999 " + " ".join(["0"] * 9), ("number 1",)),
    ("empty", "", ("found 0",)),
    ("only-spaces", "     ", ("found 0",)),
    ("only-separators", ",,, ;; , ;", ("found 0",)),
    ("arabic-indic-digits", "١,٢,٣,٤,٥,٦,٧,٨,٩,٠", ("digits",)),
    ("persian-digits", "۱ ۲ ۳ ۴ ۵ ۶ ۷ ۸ ۹ ۰", ("digits",)),
    ("devanagari-digits", "१ २ ३ ४ ५ ६ ७ ८ ९ ०", ("digits",)),
    ("full-width-digits", "１,２,３,４,５,６,７,８,９,０", ("digits",)),
    ("superscripts", "¹ ² ³ ⁴ ⁵ ⁶ ⁷ ⁸ ⁹ ⁰", ("digits",)),
    ("hex", "0x1, 0, 0, 0, 0, 0, 0, 0, 0, 0", ("not a number", "0x1")),
    ("100kB-one-token", "1" * 100_000, ("found 1",)),
    ("100kB-many-numbers", "0.5, " * 20_000, ("exactly 10",)),
    ("ten-10kB-numbers", " ".join(["9" * 10_000] * 10), ("number 1",)),
    # A comma always separates numbers (the label says so): "1,000" among spaced numbers is refused, with why.
    ("thousands-separator", "1,000 " + " ".join(["0.5"] * 9), ("'1,000'", "write 0.5, not 0,5, and 1000, not 1,000")),
    ("decimal-commas", " ".join(["0,5"] * 10), ("'0,5'", "write 0.5, not 0,5")),
    # Commas followed by spaces separate, yet one sits between digits: refused, not read as 2, 5, 3, ...
    ("decimal-comma-and-comma-space", "2,5, " + ", ".join(["3"] * 9), ("'2,5'", "write 0.5, not 0,5")),
    ("leading-junk", "x=0 " + " ".join(["0"] * 9), ("character 2", "'='")),
    ("trailing-junk", TEN + "abc", ("number 10", "not a number")),
    ("python-list", "[" + ", ".join(["0.5"] * 10) + "]", ("character 1", "'['")),
    ("double-minus", "--1 " + " ".join(["0"] * 9), ("not a number",)),
    ("unicode-minus", "−1 " + " ".join(["0"] * 9), ("digits",)),
    ("no-break-spaces", "\u00a0".join(["0.5"] * 10), ("digits",)),
    ("control-characters", "\x00\x1b[31m " + TEN, ("character 1",)),
]


@pytest.fixture(scope="module")
def typed_page() -> AppTest:
    at = page()
    no_errors(at)
    return at


@pytest.mark.parametrize("text, words", [c[1:] for c in BAD_TYPED], ids=[c[0] for c in BAD_TYPED])
def test_bad_typed_input_is_named_and_the_last_good_input_stays(typed_page, text, words):
    at = typed_page
    at.text_input(key="x_text").set_value(TEN).run()
    before_fp, before_pred, before_x = fingerprint(at), prediction(at), at.session_state.state.input
    at.text_input(key="x_text").set_value(text).run()
    assert_says(at, "showing the last good input", *words)
    assert fingerprint(at) == before_fp
    assert prediction(at) == before_pred
    assert at.session_state.state.input == before_x


GOOD_ODD_TYPED = [
    ("negative-zero", "-0 " * 10, [0.0] * 10),
    ("leading-trailing-separators", " ;, " + ", ".join(["0.25"] * 10) + " ,; ", [0.25] * 10),
    ("tabs-and-newlines", "\t".join(["0.1"] * 5) + "\n" + "\n".join(["0.2"] * 5), [0.1] * 5 + [0.2] * 5),
    ("subnormal", " ".join(["1e-320"] * 10), [1e-320] * 10),
    ("exactly-one-million", " ".join(["1e6"] + ["0"] * 9), [1e6] + [0.0] * 9),
]


@pytest.mark.parametrize("text, x", [c[1:] for c in GOOD_ODD_TYPED], ids=[c[0] for c in GOOD_ODD_TYPED])
def test_odd_but_valid_typed_input_is_taken(typed_page, text, x):
    at = typed_page
    at.text_input(key="x_text").set_value(text).run()
    no_errors(at)
    assert not any("last good input" in e.value for e in at.error)
    assert list(at.session_state.state.input) == x
    history = train(Config())
    expected = float(history.weights[-1].double() @ torch.tensor(x, dtype=torch.float64) + float(history.biases[-1]))
    assert shown_number(prediction(at)) == pytest.approx(expected, rel=1e-3)
    assert fingerprint(at) == default_fingerprint()


# --- 2. the sidebar controls at their extremes -----------------------------------------------------------------------


def set_controls(at: AppTest, settings: dict) -> None:
    """Set sidebar widgets from Config field names (optimizer first, so its own settings appear)."""
    if "optimizer" in settings:
        widget(at, "selectbox", "w_optimizer").set_value(settings["optimizer"])
        at.run()
    for name, value in settings.items():
        if name == "optimizer":
            continue
        if name == "betas":
            widget(at, "number_input", "w_betas_0").set_value(value[0])
            widget(at, "number_input", "w_betas_1").set_value(value[1])
        elif isinstance(value, bool):
            widget(at, "checkbox", f"w_{name}").set_value(value)
        else:
            widget(at, "number_input", f"w_{name}").set_value(value)
    at.run()


# (id, settings, words a divergence message must contain). Each is a legal widget value; setting it must show
# exactly that run at once (no button), and a run that diverges must say so and name the cause.
SIDEBAR_EXTREMES = [
    ("epochs-1", {"epochs": 1}, ()),
    ("lr-min-1e-5", {"lr": 1e-5}, ()),
    ("lr-max-10-diverges", {"lr": 10.0}, ("learning rate",)),
    ("batch-1024", {"batch_size": 1024}, ()),
    ("target-1e19-ok", {"target": 1e19}, ()),
    ("target-plus-1e30", {"target": 1e30}, ("target|lucky number",)),
    ("target-minus-1e30", {"target": -1e30}, ("target|lucky number",)),
    ("target-1e308", {"target": 1e308}, ("target|lucky number",)),
    ("seed-0", {"seed": 0}, ()),
    ("seed-2**32-1", {"seed": 2**32 - 1}, ()),
    ("momentum-1", {"momentum": 1.0}, ("momentum",)),
    ("momentum-100", {"momentum": 100.0}, ("momentum",)),
    ("weight-decay-100", {"weight_decay": 100.0}, ("weight decay",)),
    ("dampening-1", {"dampening": 1.0}, ()),
    ("adam-eps-1e-12", {"optimizer": "adam", "eps": 1e-12}, ()),
    ("adam-eps-1", {"optimizer": "adam", "eps": 1.0}, ()),
    ("adam-betas-0", {"optimizer": "adam", "betas": (0.0, 0.0)}, ()),
    ("adam-betas-max", {"optimizer": "adam", "betas": (0.9999, 0.99999)}, ()),
    ("adam-lr-10", {"optimizer": "adam", "lr": 10.0}, ()),
    ("rmsprop-momentum-100", {"optimizer": "rmsprop", "momentum": 100.0}, ("momentum",)),
    ("rmsprop-alpha-0-eps-1e-12", {"optimizer": "rmsprop", "alpha": 0.0, "eps": 1e-12}, ()),
    ("adagrad-lr-decay-100", {"optimizer": "adagrad", "lr_decay": 100.0}, ()),
]


@pytest.mark.parametrize("settings, words", [c[1:] for c in SIDEBAR_EXTREMES], ids=[c[0] for c in SIDEBAR_EXTREMES])
def test_sidebar_extremes_train_at_once_or_are_refused_in_words(settings, words):
    at = page()
    before = fingerprint(at)
    set_controls(at, settings)
    no_errors(at)
    try:
        config = Config(**settings)
    except ValueError:
        config = None
    if config is None:  # the page refuses the setting beside it and keeps the last run
        assert refusals(at)
        assert_says(at, *(words or ("cannot train",)))
        assert fingerprint(at) == before
        return
    assert not refusals(at)
    history = train(config)
    assert fingerprint(at) == history.fingerprint()
    if history.diverged_at is not None:
        assert_says(at, "diverged", *words)


@pytest.mark.slow
def test_sidebar_epochs_at_the_maximum_trains_the_full_run():
    at = page()
    set_controls(at, {"epochs": 100_000})
    no_errors(at)
    assert fingerprint(at) == train(Config(epochs=100_000)).fingerprint()
    assert "100,000 epochs" in next(c.value for c in at.caption if c.value.startswith("Run fingerprint"))


SIDEBAR_REFUSED = [
    ("nesterov-momentum-0", {"momentum": 0.0, "nesterov": True}, ("nesterov", "momentum")),
    ("nesterov-dampening", {"dampening": 0.5, "nesterov": True}, ("nesterov", "dampening")),
]


@pytest.mark.parametrize("settings, words", [c[1:] for c in SIDEBAR_REFUSED], ids=[c[0] for c in SIDEBAR_REFUSED])
def test_sidebar_settings_that_cannot_train_are_named_beside_the_setting(settings, words):
    at = page()
    set_controls(at, settings)
    assert_says(at, "cannot train", *words)
    assert len(refusals(at)) == 1 and "nesterov" in refusals(at)[0]  # in the sidebar, under the refused setting
    assert not shown_run(at).nesterov  # the page shows the last settings that could train
    widget(at, "checkbox", "w_nesterov").set_value(False).run()  # undo: the draft trains again at once
    assert not refusals(at)
    assert shown_run(at) == Config(**{k: v for k, v in settings.items() if k != "nesterov"})


def test_new_seed_with_settings_that_cannot_train_says_why():
    """The 🎲 New seed button is still there when the settings are refused; clicking it must not crash."""
    at = page()
    set_controls(at, {"momentum": 0.0, "nesterov": True})
    before = fingerprint(at)
    next(b for b in at.sidebar.button if "New seed" in b.label).click()
    at.run()
    assert_says(at, "nesterov")
    assert fingerprint(at) == before


# Values past a widget's bounds (crafted websocket messages): Streamlit swaps in the widget default.
BEYOND_BOUNDS = [
    ("lr-100", {"lr": 100.0}),
    ("lr-0", {"lr": 0.0}),
    ("lr-negative", {"lr": -1.0}),
    ("epochs-0", {"epochs": 0}),
    ("epochs-1e9", {"epochs": 10**9}),
    ("batch-0", {"batch_size": 0}),
    ("batch-1e6", {"batch_size": 10**6}),
    ("seed-negative", {"seed": -1}),
    ("seed-2**63", {"seed": 2**63}),
    ("momentum-negative", {"momentum": -1.0}),
    ("momentum-1000", {"momentum": 1000.0}),
    ("dampening-2", {"dampening": 2.0}),
    ("target-inf", {"target": float("inf")}),
    ("target-nan", {"target": float("nan")}),
    ("adam-eps-0", {"optimizer": "adam", "eps": 0.0}),
    ("adam-beta1-1", {"optimizer": "adam", "betas": (1.0, 0.999)}),
    ("adam-beta2-1.5", {"optimizer": "adam", "betas": (0.9, 1.5)}),
]


@pytest.mark.parametrize("settings", [c[1] for c in BEYOND_BOUNDS], ids=[c[0] for c in BEYOND_BOUNDS])
def test_values_past_a_widget_bound_break_nothing(settings):
    at = page()
    set_controls(at, settings)
    no_errors(at)
    run = shown_run(at)  # whatever was taken (Streamlit may swap in a widget's default), the page shows exactly it
    if refusals(at):  # refused beside the setting: the page shows the last settings that could train
        assert any(getattr(run, name) != value for name, value in settings.items())


# --- 3. tampered URL parameters --------------------------------------------------------------------------------------

# Streamlit drops a whole query string over 524,288 characters (it logs "Ignoring query string"), so the
# biggest value that reaches the page is a little under that; a 1 MB link is checked on its own below.
BIG = 400_000
HUGE = "9" * BIG

# (id, query, words the notice must contain, the Config the page must then show)
BAD_URLS = [
    ("epochs-word", {"epochs": "abc"}, ("epochs",), {}),
    ("epochs-empty", {"epochs": ""}, ("epochs",), {}),
    ("epochs-0", {"epochs": "0"}, ("epochs",), {}),
    ("epochs-over-max", {"epochs": "100001"}, ("epochs", "100,000"), {}),
    ("epochs-negative", {"epochs": "-5"}, ("epochs",), {}),
    ("epochs-float", {"epochs": "5.0"}, ("epochs",), {}),
    ("epochs-exponent", {"epochs": "1e3"}, ("epochs",), {}),
    ("epochs-400kB", {"epochs": HUGE}, ("epochs",), {}),
    ("epochs-control-chars", {"epochs": "\x00\x1b[2J"}, ("epochs",), {}),
    ("epochs-repeated-last-bad", {"epochs": ["100", "abc"]}, ("epochs",), {}),
    ("epochs-repeated-both-good", {"epochs": ["100", "150"]}, ("epochs",), {"epochs": 150}),
    ("optimizer-unknown", {"optimizer": "sgdx"}, ("optimizer", "adam"), {}),
    ("optimizer-empty", {"optimizer": ""}, ("optimizer",), {}),
    ("optimizer-sql", {"optimizer": "adam'; DROP TABLE runs;--"}, ("optimizer",), {}),
    ("optimizer-400kB", {"optimizer": "a" * BIG}, ("optimizer",), {}),
    ("optimizer-rtl-override", {"optimizer": "\u202emadA"}, ("optimizer",), {}),
    ("lr-0", {"lr": "0"}, ("lr", "above 0"), {}),
    ("lr-negative", {"lr": "-0.01"}, ("lr",), {}),
    ("lr-over-max", {"lr": "10.5"}, ("lr", "10"), {}),
    ("lr-nan", {"lr": "nan"}, ("lr",), {}),
    ("lr-inf", {"lr": "inf"}, ("lr",), {}),
    ("lr-underflows-to-0", {"lr": "1e-400"}, ("lr",), {}),
    ("lr-hex-float", {"lr": "0x1p-3"}, ("lr",), {}),
    ("lr-percent-junk", {"lr": "%ZZ%00%ff"}, ("lr",), {}),
    ("lr-400kB-junk", {"lr": "a" * BIG}, ("lr",), {}),
    ("target-inf", {"target": "inf"}, ("target",), {}),
    ("target-minus-inf", {"target": "-inf"}, ("target",), {}),
    ("target-nan", {"target": "nan"}, ("target",), {}),
    ("target-1e309", {"target": "1e309"}, ("target",), {}),
    ("batch-0", {"batch_size": "0"}, ("batch_size",), {}),
    ("batch-over-max", {"batch_size": "1025"}, ("batch_size", "1,024"), {}),
    ("batch-float", {"batch_size": "2.5"}, ("batch_size",), {}),
    ("seed-negative", {"seed": "-1"}, ("seed",), {}),
    ("seed-2**63", {"seed": "9223372036854775808"}, ("seed",), {}),
    ("seed-hex", {"seed": "0x10"}, ("seed",), {}),
    ("seed-5000-digits", {"seed": "9" * 5000}, ("seed",), {}),
    ("seed-400kB", {"seed": HUGE}, ("seed",), {}),
    ("momentum-negative", {"momentum": "-0.1"}, ("momentum",), {}),
    ("momentum-nan", {"momentum": "nan"}, ("momentum",), {}),
    ("momentum-1e999", {"momentum": "1e999"}, ("momentum",), {}),
    ("dampening-over-1", {"dampening": "1.5"}, ("dampening",), {}),
    ("nesterov-maybe", {"nesterov": "maybe"}, ("nesterov",), {}),
    ("nesterov-empty", {"nesterov": ""}, ("nesterov",), {}),
    ("nesterov-momentum-0", {"nesterov": "1", "momentum": "0"}, ("momentum",), {"nesterov": True}),
    ("nesterov-dampening", {"nesterov": "1", "dampening": "0.5"}, ("dampening",), {"nesterov": True}),
    ("weight-decay-negative", {"weight_decay": "-1"}, ("weight_decay",), {}),
    ("weight-decay-inf", {"weight_decay": "inf"}, ("weight_decay",), {}),
    ("betas-one-number", {"optimizer": "adam", "betas": "0.9"}, ("betas",), {"optimizer": "adam"}),
    ("betas-1", {"optimizer": "adam", "betas": "1,0.999"}, ("betas",), {"optimizer": "adam"}),
    ("betas-words", {"optimizer": "adam", "betas": "a,b"}, ("betas",), {"optimizer": "adam"}),
    ("betas-three", {"optimizer": "adam", "betas": "0.9,0.999,0.5"}, ("betas",), {"optimizer": "adam"}),
    ("betas-nan", {"optimizer": "adam", "betas": "nan,0.5"}, ("betas",), {"optimizer": "adam"}),
    ("eps-0", {"optimizer": "adam", "eps": "0"}, ("eps",), {"optimizer": "adam"}),
    ("eps-2", {"optimizer": "adam", "eps": "2"}, ("eps",), {"optimizer": "adam"}),
    ("amsgrad-2", {"optimizer": "adam", "amsgrad": "2"}, ("amsgrad",), {"optimizer": "adam"}),
    ("alpha-1.5", {"optimizer": "rmsprop", "alpha": "1.5"}, ("alpha",), {"optimizer": "rmsprop"}),
    ("centered-sure", {"optimizer": "rmsprop", "centered": "sure"}, ("centered",), {"optimizer": "rmsprop"}),
    ("lr-decay-negative", {"optimizer": "adagrad", "lr_decay": "-1"}, ("lr_decay",), {"optimizer": "adagrad"}),
    ("unknown-name", {"foo": "1"}, ("foo",), {}),
    ("unknown-case", {"EPOCHS": "10"}, ("EPOCHS",), {}),
    ("unknown-100kB-name", {"n" * 100_000: "1"}, ("unknown",), {}),
    ("unknown-control-name", {"\x00evil": "1"}, ("unknown",), {}),
    ("x-words", {"x": "abc"}, ("x",), {}),
    ("x-three", {"x": "1,2,3"}, ("x", "found 3"), {}),
    ("x-nan", {"x": ",".join(["nan"] * 10)}, ("x", "finite"), {}),
    ("x-arabic-digits", {"x": "١,٢,٣,٤,٥,٦,٧,٨,٩,٠"}, ("x", "digits"), {}),
    ("x-400kB", {"x": "0 " * (BIG // 2)}, ("x",), {}),
    ("x-repeated-last-bad", {"x": [",".join(["0.5"] * 10), "junk"]}, ("x",), {}),
    ("present-junk", {"present": "junk"}, ("present",), {}),
    # Legal Config values that the page must still survive and explain.
    ("momentum-2", {"momentum": "2"}, ("momentum",), {"momentum": 2.0}),
    ("target-1e30", {"target": "1e30"}, ("target|lucky number",), {"target": 1e30}),
    ("target-1e308", {"target": "1e308"}, ("target|lucky number",), {"target": 1e308}),
]


@pytest.mark.parametrize("query, words, expected", [c[1:] for c in BAD_URLS], ids=[c[0] for c in BAD_URLS])
def test_tampered_url_gives_a_notice_and_a_clean_run(query, words, expected):
    at = page(**query)
    assert_says(at, *words)
    try:
        config = Config(**expected)
    except ValueError:  # the page may refuse a legal-but-absurd value outright: then the default run
        config = Config()
    assert fingerprint(at) in {train(config).fingerprint(), default_fingerprint()}
    # The address bar is rewritten to the run on screen: no junk survives in the link.
    assert set(at.query_params) <= {*FIELD_NAMES, "x", "present"}
    for name, value in query.items():
        if name in at.query_params and name in FIELD_NAMES and not expected.get(name):
            assert at.query_params[name] != value, name


# Values Config accepts but the sidebar's widgets cannot hold: the page must say so, or the sidebar must
# hold the run's value, so that the next change in the sidebar starts from the run on screen.
OUTSIDE_WIDGET_RANGE = [
    ("seed-2**63-1", {"seed": str(2**63 - 1)}, "seed"),
    ("seed-2**53+7", {"seed": str(2**53 + 7)}, "seed"),
    ("lr-1e-6", {"lr": "1e-6"}, "lr"),
    ("momentum-1000", {"momentum": "1000"}, "momentum"),
    ("weight-decay-1000", {"weight_decay": "1000"}, "weight_decay"),
    ("adagrad-lr-decay-1e6", {"optimizer": "adagrad", "lr_decay": "1e6"}, "lr_decay"),
    ("adam-beta1-0.99999", {"optimizer": "adam", "betas": "0.99999,0.999"}, "betas"),
    ("adam-beta2-0.999999", {"optimizer": "adam", "betas": "0.9,0.999999"}, "betas"),
    ("adam-eps-1e-15", {"optimizer": "adam", "eps": "1e-15"}, "eps"),
]


@pytest.mark.parametrize(
    "query, field", [c[1:] for c in OUTSIDE_WIDGET_RANGE], ids=[c[0] for c in OUTSIDE_WIDGET_RANGE]
)
def test_a_link_outside_the_sidebar_ranges_is_named_or_kept_by_the_sidebar(query, field):
    at = page(**query)
    no_errors(at)
    if any(field in w.value for w in at.warning):  # refused with a notice: fine
        return
    run_value = getattr(at.session_state.state.run, field)
    if field == "betas":
        held = (widget(at, "number_input", "w_betas_0").value, widget(at, "number_input", "w_betas_1").value)
    else:
        held = widget(at, "number_input", f"w_{field}").value
    assert held == run_value, f"the run has {field}={run_value!r}, the sidebar silently shows {held!r}"
    epochs = at.session_state.state.run.epochs + 1
    widget(at, "number_input", "w_epochs").set_value(epochs).run()  # another change applies on top of the link's
    no_errors(at)
    assert getattr(shown_run(at), field) == run_value, f"the sidebar silently changed {field}"
    assert at.session_state.state.run.epochs == epochs


# torch's CPU generator keeps only the low 32 bits of a seed: seed 2**32 + s is the run of seed s.
@pytest.mark.parametrize(
    "seed, alias",
    [(2**32, 0), (2**32 + 5, 5), (2**53 - 1, 2**53 - 1 - 2**32)],
    ids=["2**32-is-0", "2**32+5-is-5", "2**53-1"],
)
def test_a_seed_beyond_32_bits_is_refused_or_its_own_run(seed, alias):
    at = page(seed=str(seed))
    no_errors(at)
    if any("seed" in w.value for w in at.warning):
        return
    assert fingerprint(at) != train(Config(seed=alias)).fingerprint(), f"seed {seed} silently runs seed {alias}"


def test_a_link_over_streamlits_query_limit_opens_the_default_run():
    """A 1 MB query string never reaches the script (Streamlit drops it whole): the page just opens."""
    at = page(lr="a" * MB, epochs="9" * 1000)
    no_errors(at)
    assert fingerprint(at) == default_fingerprint()
    assert len(next(c.value for c in at.code)) < 1000  # the share link: nothing of the 1 MB in it


# One root cause, checked on its own: a notice that quotes Python's exception text.
PLAIN_WORDS = [
    ("epochs-float", {"epochs": "5.0"}),
    ("lr-word", {"lr": "abc"}),
    ("seed-empty", {"seed": ""}),
    ("seed-5000-digits", {"seed": "9" * 5000}),
    ("betas-words", {"optimizer": "adam", "betas": "a,b"}),
]


@pytest.mark.parametrize("query", [c[1] for c in PLAIN_WORDS], ids=[c[0] for c in PLAIN_WORDS])
def test_url_notices_are_in_plain_words(query):
    at = page(**query)
    no_errors(at)
    found = " ".join(messages(at))
    assert found
    assert not [j for j in JARGON if j.lower() in found.lower()], found[:500]


# --- 4. uploads ------------------------------------------------------------------------------------------------------


def _lucky5(weight=None, bias=None, metadata=None, **tensors) -> bytes:
    weight = torch.zeros(1, 10) if weight is None else weight
    bias = torch.full((1,), 5.0) if bias is None else bias
    return lucky5_file({"weight": weight, "bias": bias, **tensors}, **(metadata or {}))


def _torch_save(obj, **kwargs) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer, **kwargs)
    return buffer.getvalue()


class _Evil:
    """A pickle whose loading would create MARKER."""

    marker = Path(tempfile.gettempdir()) / f"lucky5-adversarial-pwned-{os.getpid()}"

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", raw)
        + chunk(b"IEND", b"")
    )


def _good() -> bytes:
    return checkpoint.to_bytes(train(Config(epochs=30)))


BAD_UPLOADS = [
    ("pickle-with-reduce", "evil.pth", lambda: pickle.dumps(_Evil()), ("pickle",)),
    ("torch-save-linear", "layer.pth", lambda: _torch_save(nn.Linear(10, 1)), ("pickle",)),
    (
        "torch-save-legacy",
        "layer_old.pth",
        lambda: _torch_save(nn.Linear(10, 1), _use_new_zipfile_serialization=False),
        ("pickle",),
    ),
    ("torch-save-state-dict", "state.pt", lambda: _torch_save(nn.Linear(10, 1).state_dict()), ("pickle",)),
    ("truncated", "cut.safetensors", lambda: _good()[: len(_good()) // 2], ("truncated",)),
    ("cut-after-length", "cut8.safetensors", lambda: _good()[:8], ("truncated",)),
    ("huge-2MB", "huge.safetensors", lambda: _good() + b"\0" * (2 * MB), ("1 MB",)),
    ("header-length-bomb", "bomb.safetensors", lambda: struct.pack("<Q", MB) + b"{", ("truncated",)),
    ("header-not-json", "junk.safetensors", lambda: struct.pack("<Q", 10) + b"{not json!", ("damaged",)),
    ("wrong-weight-shape", "shape.safetensors", lambda: _lucky5(weight=torch.zeros(2, 10)), ("shape", "weight")),
    ("wrong-bias-shape", "bias.safetensors", lambda: _lucky5(bias=torch.zeros(3)), ("shape", "bias")),
    (
        "float64-weights",
        "f64.safetensors",
        lambda: _lucky5(weight=torch.zeros(1, 10, dtype=torch.float64)),
        ("dtype|float32",),
    ),
    ("nan-weights", "nan.safetensors", lambda: _lucky5(weight=torch.full((1, 10), float("nan"))), ("non-finite",)),
    ("inf-bias", "inf.safetensors", lambda: _lucky5(bias=torch.full((1,), float("inf"))), ("non-finite",)),
    ("extra-tensor", "extra.safetensors", lambda: _lucky5(extra=torch.zeros(1)), ("unexpected", "extra")),
    (
        "missing-bias",
        "nobias.safetensors",
        lambda: st_save({"weight": torch.zeros(1, 10)}, metadata={"format": "lucky5", "version": "1"}),
        ("missing",),
    ),
    ("newer-version", "v2.safetensors", lambda: _lucky5(metadata={"version": "2"}), ("version",)),
    ("empty", "empty.safetensors", lambda: b"", ("empty",)),
    ("png", "picture.png", _png, ("not a safetensors",)),
    ("json", "run.json", lambda: json.dumps({"weight": [0] * 10, "bias": 5}).encode(), ("safetensors",)),
    ("tiny-json", "tiny.json", lambda: b"{}", ("too short",)),
    ("text", "notes.txt", lambda: b"hello, this is not a checkpoint at all", ("safetensors",)),
    (
        "other-tool-safetensors",
        "other.safetensors",
        lambda: st_save({"a": torch.zeros(2), "b": torch.ones(3)}, metadata={"producer": "another tool"}),
        ("not a lucky5 checkpoint", "'a', 'b'"),
    ),
    (
        "other-tool-no-metadata",
        "plain.safetensors",
        lambda: st_save({"weight": torch.zeros(1, 10), "bias": torch.zeros(1)}),
        ("not a lucky5 checkpoint",),
    ),
]


@pytest.fixture(scope="module")
def upload_page() -> AppTest:
    _Evil.marker.unlink(missing_ok=True)
    at = page()
    no_errors(at)
    yield at
    assert not _Evil.marker.exists(), "a pickle upload ran code"


@pytest.mark.parametrize("name, make, words", [c[1:] for c in BAD_UPLOADS], ids=[c[0] for c in BAD_UPLOADS])
def test_bad_upload_is_refused_in_words_and_the_run_stays(upload_page, name, make, words):
    at = upload_page
    before = fingerprint(at)
    at.file_uploader[0].set_value((name, make(), "application/octet-stream")).run()
    assert_says(at, f"refused {name!r}", *words)
    assert not [s for s in at.success if name in s.value]
    assert fingerprint(at) == before
    assert not _Evil.marker.exists()


# Files lucky5 can read, with something wrong in their settings: loaded, with a notice naming it.
ODD_UPLOADS = [
    (
        "tampered-config",
        "t.safetensors",
        lambda: _lucky5(metadata={"config": json.dumps({"epochs": "1e9"})}),
        ("epochs",),
    ),
    ("unreadable-config", "u.safetensors", lambda: _lucky5(metadata={"config": "{not json"}), ("config",)),
    (
        "config-unknown-field",
        "f.safetensors",
        lambda: _lucky5(metadata={"config": json.dumps({"evil": "1"})}),
        ("evil",),
    ),
    (
        "config-target-1e308",
        "big.safetensors",
        lambda: _lucky5(metadata={"config": json.dumps({"target": "1e308"})}),
        ("target|lucky number",),
    ),
]


@pytest.mark.parametrize("name, make, words", [c[1:] for c in ODD_UPLOADS], ids=[c[0] for c in ODD_UPLOADS])
def test_upload_with_odd_settings_is_explained(upload_page, name, make, words):
    at = upload_page
    before = fingerprint(at)
    at.file_uploader[0].set_value((name, make(), "application/octet-stream")).run()
    assert_says(at, *words)
    assert fingerprint(at) == before


# --- 5. the blog-post test count and the Compare section ---------------------------------------------------------


@pytest.fixture(scope="module")
def compare_page() -> AppTest:
    at = page()
    at.toggle(key="show_seeds").set_value(True)
    at.toggle(key="show_race").set_value(True)
    at.run()
    no_errors(at)
    return at


@pytest.mark.parametrize(
    "n, rows",
    [(1, 1), (1000, 1000), (0, None), (10**6, None), (-5, None)],
    ids=["n-1", "n-max-1000", "n-0-past-bound", "n-1e6-past-bound", "n-negative-past-bound"],
)
def test_post_test_count_extremes(compare_page, n, rows):
    at = compare_page
    before = fingerprint(at)
    at.number_input(key="n_tests").set_value(n).run()
    no_errors(at)
    got = post_table_rows(at)
    if rows is None:  # past the widget's bounds: Streamlit keeps a legal count
        assert 1 <= got <= 1000
    else:
        assert got == rows
    assert fingerprint(at) == before


BAD_RACES = [
    ("junk", "fast slow", ("learning rate",)),
    ("too-many", " ".join(["0.01"] * 9), ("1 to 8",)),
    ("zero", "0, 0.01", ("above 0",)),
    ("negative", "-0.1 0.01", ("above 0",)),
    ("over-max", "0.01 11", ("at most 10",)),
    ("empty", "", ("1 to 8",)),
    ("nan", "nan", ("learning rate",)),
    ("inf", "inf", ("learning rate",)),
    ("underflow-to-0", "1e-400", ("above 0",)),
    ("arabic-digits", "٠٫١ ١", ("learning rate",)),
    ("full-width", "０.１", ("learning rate",)),
    ("100kB-junk", "a" * 100_000, ("learning rate",)),
    # Decimal commas: a 0 before the comma means 0,001 is a small number, never a thousand.
    ("decimal-commas", "0,001 0,01 0,05 0,2", ("'0,001'", "write 0.5, not 0,5.")),
]


@pytest.mark.parametrize("text, words", [c[1:] for c in BAD_RACES], ids=[c[0] for c in BAD_RACES])
def test_bad_race_learning_rates_are_named(compare_page, text, words):
    at = compare_page
    before = fingerprint(at)
    at.text_input(key="race_lrs").set_value(text).run()
    assert_says(at, *words)
    assert not [j for j in JARGON if j.lower() in " ".join(e.value for e in at.error).lower()]
    assert fingerprint(at) == before


@pytest.mark.parametrize("text", ["10 0.01 1e-5", "0.5, 10", "1e-5"], ids=["with-lr-10", "all-diverge", "min"])
def test_race_with_diverging_or_tiny_rates_draws_without_error(compare_page, text):
    at = compare_page
    at.text_input(key="race_lrs").set_value(text).run()
    no_errors(at)
    assert not any("learning rates" in e.value for e in at.error)
    race = [c for c in at.get("plotly_chart") if "race" in (c.proto.id or "")]
    assert race and "NaN" not in race[0].proto.spec and "Infinity" not in race[0].proto.spec


@pytest.mark.parametrize("k", [2, 32, 1000, 0], ids=["k-2", "k-32", "k-1000-past-bound", "k-0-past-bound"])
def test_seed_spread_extremes(compare_page, k):
    at = compare_page
    at.slider(key="k_seeds").set_value(k).run()
    no_errors(at)
    assert 2 <= at.slider(key="k_seeds").value <= 32


@pytest.mark.parametrize("query", [{"lr": "10"}, {"target": "1e30"}], ids=["diverged-run", "zero-epoch-run"])
def test_compare_and_test_loop_survive_a_diverged_run(query):
    at = page(**query)
    at.toggle(key="show_seeds").set_value(True)
    at.toggle(key="show_race").set_value(True)
    at.run()
    no_errors(at)
    assert_says(at, "diverged")
    for element in at.get("plotly_chart"):
        assert "NaN" not in element.proto.spec and "Infinity" not in element.proto.spec, element.proto.id
