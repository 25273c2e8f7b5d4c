"""page/state.py through the page (AppTest): settings survive hidden widgets, and the URL follows the run.

Streamlit drops the value of a keyed widget in any run where the widget is not drawn; the page keeps
every setting in its own state instead. These tests switch optimizers back and forth (each switch hides
the other optimizer's settings), and compare the run shown at once with the core's own training of the Config
the viewer set up: the fingerprint is the oracle.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from lucky5 import Config, to_query, train
from lucky5.config import OPTIMIZER_FIELDS, OPTIMIZERS, SETTING
from tests.helpers import as_read, fingerprint, no_errors, page, widget

# Non-default, valid values of every optimizer setting, checkboxes included (per optimizer: some rules
# couple settings, e.g. Nesterov needs dampening 0, so SGD gets two sets).
OWN_VALUES: list[tuple[str, dict]] = [
    ("sgd", {"momentum": 0.5, "nesterov": True, "weight_decay": 0.01}),
    ("sgd", {"momentum": 0.3, "dampening": 0.25}),
    ("adam", {"betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.02, "amsgrad": True}),
    ("adamw", {"betas": (0.7, 0.95), "eps": 1e-5, "weight_decay": 0.03, "amsgrad": True}),
    ("rmsprop", {"alpha": 0.9, "eps": 1e-6, "momentum": 0.3, "centered": True, "weight_decay": 0.01}),
    ("adagrad", {"lr_decay": 0.01, "eps": 1e-6, "weight_decay": 0.01}),
]


def set_setting(at: AppTest, name: str, value) -> None:
    if SETTING[name].widget == "checkbox":
        widget(at, "checkbox", f"w_{name}").set_value(value)
    elif SETTING[name].widget == "pair":
        widget(at, "number_input", f"w_{name}_0").set_value(value[0])
        widget(at, "number_input", f"w_{name}_1").set_value(value[1])
    elif SETTING[name].widget == "select":
        at.selectbox(key=f"w_{name}").set_value(value)
    else:
        widget(at, "number_input", f"w_{name}").set_value(value)


def shown_setting(at: AppTest, name: str):
    if SETTING[name].widget == "checkbox":
        return widget(at, "checkbox", f"w_{name}").value
    if SETTING[name].widget == "pair":
        return (widget(at, "number_input", f"w_{name}_0").value, widget(at, "number_input", f"w_{name}_1").value)
    return widget(at, "number_input", f"w_{name}").value


def test_the_reported_example_momentum_survives_adam_and_back():
    at = page()
    at.selectbox(key="w_optimizer").set_value("adam").run()
    at.selectbox(key="w_optimizer").set_value("sgd").run()
    assert widget(at, "number_input", "w_momentum").value == 0.1
    at.selectbox(key="w_optimizer").set_value("adam").run()
    assert shown_setting(at, "betas") == (0.9, 0.999) and widget(at, "number_input", "w_eps").value == 1e-8
    at.selectbox(key="w_optimizer").set_value("sgd").run()
    at.run()
    no_errors(at)
    assert not at.error, [e.value for e in at.error]
    assert fingerprint(at) == train(Config()).fingerprint()  # still the blog post's run
    assert dict(at.query_params) == {}  # and its link says so: nothing differs from the defaults


ROUND_TRIPS = [(o, values, via) for o, values in OWN_VALUES for via in OPTIMIZERS if via != o]


@pytest.mark.parametrize(
    "optimizer, values, via", ROUND_TRIPS, ids=[f"{o}-{'-'.join(v)}-via-{via}" for o, v, via in ROUND_TRIPS]
)
def test_every_setting_survives_a_round_trip_through_another_optimizer_and_trains(optimizer, values, via):
    at = page(epochs=30)
    at.selectbox(key="w_optimizer").set_value(optimizer).run()
    assert set(values) <= set(OPTIMIZER_FIELDS[optimizer])
    for name, value in values.items():
        set_setting(at, name, value)
    at.run()
    at.selectbox(key="w_optimizer").set_value(via).run()  # hides (some of) the settings just typed
    at.selectbox(key="w_optimizer").set_value(optimizer).run()
    for name, value in values.items():
        assert shown_setting(at, name) == pytest.approx(value), name
    at.run()
    no_errors(at)
    expected = Config(epochs=30, optimizer=optimizer, **values)
    assert fingerprint(at) == train(expected).fingerprint()
    assert at.session_state.state.run == expected


def test_settings_an_optimizer_does_not_read_are_kept_while_hidden_and_apply_again():
    at = page()
    widget(at, "number_input", "w_momentum").set_value(0.7).run()  # SGD's momentum: applies at once
    assert at.session_state.state.run == Config(momentum=0.7)
    at.selectbox(key="w_optimizer").set_value("adam").run()
    assert at.session_state.state.run == Config(optimizer="adam")  # Adam does not read momentum
    assert fingerprint(at) == train(Config(optimizer="adam")).fingerprint()
    at.selectbox(key="w_optimizer").set_value("sgd").run()
    assert widget(at, "number_input", "w_momentum").value == 0.7  # the last value typed, kept while hidden
    assert at.session_state.state.run == Config(momentum=0.7)


def test_a_link_that_already_describes_the_run_is_not_rewritten():
    # Streamlit adds a browser-history entry for every query-string change: rewriting an old long link
    # to its short form on arrival would make the first Back show the same run again.
    at = page(seed=0, lr=0.01, momentum=0.1)
    assert dict(at.query_params) == {"seed": "0", "lr": "0.01", "momentum": "0.1"}
    assert fingerprint(at) == train(Config()).fingerprint()
    at.number_input(key="w_seed").set_value(4)
    at.run()  # a new run is a new entry, and the link is the short one
    no_errors(at)
    assert dict(at.query_params) == to_query(Config(seed=4)) == {"seed": "4"}


def test_a_link_with_a_bad_value_opens_the_default_and_says_so_without_markup():
    at = page(lr="![](http://127.0.0.1:9/p.png)")
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 1
    assert "\\!\\[\\]\\(http\\:" in warnings[0]  # every punctuation mark escaped: shown, not rendered
    assert as_read(warnings[0]).startswith(
        "From the link: Ignored lr='![](http://127.0.0.1:9/p.png)' (expected a number"
    )
    assert fingerprint(at) == train(Config()).fingerprint()


def test_the_sidebar_is_always_the_run_on_screen_or_says_why_not_beside_the_setting():
    def refused(at: AppTest) -> list[str]:
        return [e.value for e in at.sidebar.error if "cannot train" in e.value]

    at = page(optimizer="adam", momentum="0.5")  # momentum is not Adam's: still the run on screen
    assert not refused(at) and not at.sidebar.info
    at.number_input(key="w_lr").set_value(0.02).run()
    assert at.session_state.state.run == Config(optimizer="adam", lr=0.02)  # as the sidebar shows it
    assert fingerprint(at) == train(Config(optimizer="adam", lr=0.02)).fingerprint()
    at.number_input(key="w_lr").set_value(-0.02).run()  # Config refuses it: said beside it, the last run stays
    assert len(refused(at)) == 1 and "lr" in refused(at)[0]
    assert at.session_state.state.run.lr == 0.02
    at.number_input(key="w_epochs").set_value(300).run()  # the draft still cannot train: nothing changes
    assert at.session_state.state.run == Config(optimizer="adam", lr=0.02)
    at.number_input(key="w_lr").set_value(0.05).run()  # trainable again: every setting typed meanwhile applies
    assert not refused(at)
    assert fingerprint(at) == train(Config(optimizer="adam", lr=0.05, epochs=300)).fingerprint()
