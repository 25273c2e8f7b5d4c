"""The page, driven by Streamlit's AppTest: every control, the URL, bad input, and the figure's JSON.

AppTest runs app.py in this process without a browser (no JavaScript): what it checks is
what the server sends. The real-browser suite in tests/browser checks what a person sees.
"""

from __future__ import annotations

import io
import json
import math
import pickle
import re

import pandas as pd
import pyarrow as pa
import pytest
import segno
import torch
from streamlit.testing.v1 import AppTest

from lucky5 import Config, checkpoint, glossary, story, theory, to_query, train
from page.sidebar import MORE_KEY
from tests.helpers import fingerprint, no_errors, open_folds, page, shown_number, texts, widget


def every_panel(at: AppTest) -> AppTest:
    """The page with every panel in one animation shown (a toggle below the lesson)."""
    at.toggle(key="show_all").set_value(True).run()
    return at


def chart(at: AppTest, key: str = "animation") -> dict:
    for element in at.get("plotly_chart"):
        spec = json.loads(element.proto.spec)
        if element.proto.id and key in element.proto.id or spec.get("layout", {}).get("uirevision") == key:
            return spec
    raise AssertionError(f"no chart {key!r}")


def qr_codes(at: AppTest) -> list[str]:
    """The data URIs of the QR images on the page; each must carry alt text."""
    images = [img for e in at.get("image") for img in e.proto.imgs]
    assert all(img.alt.startswith("QR code") for img in images), [img.alt for img in images]
    return [img.url for img in images]


@pytest.fixture(scope="module")
def default_page() -> AppTest:
    return every_panel(page())


def test_default_page_shows_the_post_run(default_page):
    at = default_page
    no_errors(at)
    assert fingerprint(at) == train(Config()).fingerprint()
    assert not at.error
    assert dict(at.query_params) == {}  # the blog post's run: nothing differs from the defaults


def test_animation_figure_has_frames_controls_and_the_expected_traces(default_page):
    spec = chart(default_page)
    frames = spec["frames"]
    assert 2 <= len(frames) <= 300
    assert len(frames) == Config().epochs + 1  # 200 epochs: every step is a frame
    names = [t.get("name", "") for t in spec["data"]]
    assert any("expected loss" in n for n in names)
    assert any("loss on that epoch" in n for n in names)
    assert "weights" in names and "bias" in names
    assert any("optimum" in n for n in names)
    assert any("prediction" in n for n in names)
    labels = [b["label"] for b in spec["layout"]["updatemenus"][0]["buttons"]]
    assert "Play" in labels and "Pause" in labels and len(labels) >= 4  # speeds
    assert len(spec["layout"]["sliders"][0]["steps"]) == len(frames)
    assert spec["layout"]["yaxis"]["type"] == "log"
    # The last frame shows the trained parameters.
    history = train(Config())
    # The last frame shows the trained parameters (bars are line segments 0 -> value, None-separated).
    last = frames[-1]["data"]
    weights = next(d for d in last if len(d.get("y", [])) == 30)["y"][1::3]
    assert weights == pytest.approx(history.weights[-1].tolist(), rel=1e-4)
    bias = next(d for d in last if len(d.get("y", [])) == 3)["y"][1]
    assert bias == pytest.approx(float(history.biases[-1]), rel=1e-4)


def test_long_runs_are_subsampled_to_300_frames():
    at = every_panel(page(epochs=5000, seed=1))
    no_errors(at)
    spec = chart(at)
    assert 250 <= len(spec["frames"]) <= 300
    assert int(spec["frames"][-1]["name"]) == 5000
    assert len(json.dumps(spec)) < 600_000


def test_url_parameters_choose_the_run():
    query = {"epochs": 120, "seed": 3, "optimizer": "adam", "lr": 0.05, "target": 7, "batch_size": 4}
    at = page(**query)
    no_errors(at)
    config = Config(epochs=120, seed=3, optimizer="adam", lr=0.05, target=7.0, batch_size=4)
    assert fingerprint(at) == train(config).fingerprint()
    assert widget(at, "number_input", "w_lr").value == pytest.approx(0.05)
    assert widget(at, "selectbox", "w_optimizer").value == "adam"


@pytest.mark.parametrize(
    "query, word",
    [
        ({"lr": "abc"}, "lr"),
        ({"epochs": "-5"}, "epochs"),
        ({"epochs": "1e9"}, "epochs"),
        ({"lr": "nan"}, "lr"),
        ({"optimizer": "sgdx"}, "optimizer"),
        ({"nesterov": "1", "momentum": "0"}, "momentum"),
        ({"bogus": "1"}, "bogus"),
        ({"x": "1,2,3"}, "x"),
        ({"batch_size": "99999"}, "batch_size"),
        ({"seed": "-1"}, "seed"),
    ],
)
def test_tampered_url_parameters_give_a_notice_and_the_default(query, word):
    at = page(**query)
    no_errors(at)
    warnings = " ".join(texts(at, "warning"))
    assert word in warnings
    assert fingerprint(at)  # a run is still shown


def test_each_control_applies_at_once_without_a_button():
    at = open_folds(page(), MORE_KEY, "sgd_settings")  # the folded settings, opened as a learner would
    widget(at, "number_input", "w_target").set_value(3.0)
    widget(at, "number_input", "w_epochs").set_value(150)
    widget(at, "number_input", "w_lr").set_value(0.02)
    widget(at, "number_input", "w_batch_size").set_value(2)
    widget(at, "number_input", "w_seed").set_value(9)
    at.run()
    widget(at, "number_input", "w_momentum").set_value(0.5)
    widget(at, "checkbox", "w_nesterov").check()
    widget(at, "number_input", "w_weight_decay").set_value(0.01)
    at.run()
    no_errors(at)
    assert not [b for b in at.sidebar.button if "Train" in b.label]  # nothing left to press
    expected = Config(
        target=3.0, epochs=150, lr=0.02, batch_size=2, seed=9, momentum=0.5, nesterov=True, weight_decay=0.01
    )
    assert fingerprint(at) == train(expected).fingerprint()
    assert dict(at.query_params) == to_query(expected)  # the link now opens exactly this run


def folded(at: AppTest) -> tuple[bool, set[str]]:
    """Whether the sidebar's folded run settings are open, and the keys of the widgets drawn inside them."""
    box = next(e for e in at.sidebar.expander if e.label == "Rule, noise and batch size")
    return box.proto.expanded, {w.key for kind in ("number_input", "text_input") for w in getattr(box, kind)}


def test_the_main_settings_come_first_and_the_lesser_ones_fold_until_they_matter():
    at = page()
    main = {w.key for w in at.sidebar.number_input} | {w.key for w in at.sidebar.selectbox}
    assert folded(at) == (False, set())  # closed, it sends its title alone
    assert {"w_epochs", "w_optimizer", "w_lr", "w_seed", "w_target"} <= main
    open_folds(at, MORE_KEY)  # the learner opens it: its settings are drawn, with the run's values
    assert folded(at) == (True, {"w_rule", "w_noise", "w_batch_size"})
    assert widget(at, "number_input", "w_noise").value == 0.0
    at = page(noise=0.5)  # a link that sets one of them opens the fold: no setting that differs is hidden
    assert folded(at)[0] and widget(at, "number_input", "w_noise").value == 0.5
    widget(at, "number_input", "w_noise").set_value(0.0)
    at.run()  # back to the default: it stays open under the learner's hands
    assert folded(at)[0] and dict(at.query_params) == {}
    at.session_state[MORE_KEY] = False  # the learner folds it again: it stays folded, its value kept
    at.run()
    assert folded(at) == (False, set()) and dict(at.query_params) == {}
    widget(at, "number_input", "w_epochs").set_value(300)
    at.run()
    assert not folded(at)[0]


def test_a_preset_that_changes_a_folded_setting_opens_the_fold_the_learner_closed():
    at = page()
    assert not folded(at)[0]
    at.sidebar.selectbox(key="preset").set_value("Big batches: less noise")
    at.run()
    no_errors(at)
    assert folded(at)[0] and widget(at, "number_input", "w_batch_size").value == 64


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "rmsprop", "adagrad"])
def test_each_optimizer_shows_its_own_settings_and_trains(optimizer):
    at = page()
    widget(at, "selectbox", "w_optimizer").set_value(optimizer)
    at.run()
    assert not {w.key for w in at.sidebar.number_input} & {"w_eps", "w_alpha", "w_lr_decay"}  # folded: not drawn
    open_folds(at, f"{optimizer}_settings")
    keys = {w.key for w in at.sidebar.number_input} | {w.key for w in at.sidebar.checkbox}
    if optimizer in ("adam", "adamw"):
        assert {"w_betas_0", "w_betas_1", "w_eps", "w_amsgrad"} <= keys and "w_momentum" not in keys
    if optimizer == "rmsprop":
        assert {"w_alpha", "w_centered", "w_momentum"} <= keys
    if optimizer == "adagrad":
        assert "w_lr_decay" in keys and "w_momentum" not in keys
    no_errors(at)
    assert fingerprint(at) == train(Config(optimizer=optimizer)).fingerprint()


def test_preset_too_fast_reports_divergence_and_draws_only_finite_numbers():
    at = page()
    widget(at, "selectbox", "preset").set_value("Too fast: it diverges")
    every_panel(at.run())
    no_errors(at)
    errors = " ".join(texts(at, "error"))
    assert "Diverged at epoch" in errors and "learning rate below" in errors
    for element in at.get("plotly_chart"):  # every chart, the lesson's too
        assert "NaN" not in element.proto.spec and "Infinity" not in element.proto.spec
    history = train(Config(lr=0.5))
    assert history.diverged_at is not None
    assert f"{history.diverged_at:,}" in errors


def test_presets_blog_post_and_adam():
    at = page(seed=4)
    widget(at, "selectbox", "preset").set_value("Adam")
    at.run()
    no_errors(at)
    assert fingerprint(at) == train(Config(seed=4, optimizer="adam", lr=0.05, epochs=2000)).fingerprint()
    widget(at, "selectbox", "preset").set_value("The blog post")
    at.run()
    assert fingerprint(at) == train(Config(seed=4)).fingerprint()


def test_new_seed_button_trains_a_new_seed():
    at = page()
    before = fingerprint(at)
    next(b for b in at.sidebar.button if "New seed" in b.label).click()
    at.run()
    no_errors(at)
    seed = int(at.session_state.state.run.seed)
    assert fingerprint(at) == train(Config(seed=seed)).fingerprint()
    assert seed == 0 or fingerprint(at) != before


def _prediction(at: AppTest) -> float:
    return float(next(m for m in at.metric if m.label == "Prediction for your input").value)


def test_typed_input_gives_the_layer_prediction():
    at = page()
    at.text_input(key="x_text").set_value("0 0 0 0 0 0 0 0 0 0").run()
    no_errors(at)
    history = train(Config())
    assert _prediction(at) == pytest.approx(float(history.biases[-1]), rel=1e-3)
    x = [0.1 * i for i in range(10)]
    at.text_input(key="x_text").set_value(",".join(str(v) for v in x)).run()
    expected = float(history.weights[-1].double() @ torch.tensor(x, dtype=torch.float64) + float(history.biases[-1]))
    assert _prediction(at) == pytest.approx(expected, rel=1e-3)
    assert at.query_params["x"] is not None


def test_input_outside_the_unit_cube_is_flagged_not_refused():
    at = page()
    at.text_input(key="x_text").set_value("2, 0, 0, 0, 0, 0, 0, 0, 0, -1").run()
    no_errors(at)
    assert any("outside [0, 1]" in w for w in texts(at, "warning"))
    assert not any("Showing the last good input" in e for e in texts(at, "error"))


@pytest.mark.parametrize(
    "text",
    [
        "1,2,3",
        "one two three four five six seven eight nine ten",
        "nan,0,0,0,0,0,0,0,0,0",
        "inf 0 0 0 0 0 0 0 0 0",
        "1e308,0,0,0,0,0,0,0,0,0",
        "",
        "١,٢,٣,٤,٥,٦,٧,٨,٩,٠",
        "0,0,0,0,0,0,0,0,0,0,0",
        "0x1, 0,0,0,0,0,0,0,0,0",
        ";;;;",
        "1e999 0 0 0 0 0 0 0 0 0",
    ],
)
def test_bad_typed_input_keeps_the_last_good_one(text):
    at = page()
    good = _prediction(at)
    at.text_input(key="x_text").set_value(text).run()
    no_errors(at)
    assert any("Showing the last good input" in e for e in texts(at, "error"))
    assert _prediction(at) == good
    assert fingerprint(at)


def test_randomise_gives_ten_new_numbers():
    at = page()
    before = at.text_input(key="x_text").value
    next(b for b in at.button if "Randomise" in b.label).click()
    at.run()
    no_errors(at)
    after = at.text_input(key="x_text").value
    values = [float(v) for v in after.split(",")]
    assert len(values) == 10 and all(0 <= v <= 1 for v in values)
    assert after != before


def _post_table(at: AppTest):
    return next(d.value for d in at.dataframe if "running MSE" in d.value.columns)


def test_the_post_test_loop_table():
    at = page()
    table = _post_table(at)
    assert len(table) == 10
    assert (table["target"] == 5.0).all()
    at.number_input(key="n_tests").set_value(25).run()
    no_errors(at)
    table = _post_table(at)
    assert len(table) == 25
    # The running MSE after the last input is the aggregate over all of them.
    assert table["running MSE"].iloc[-1] == pytest.approx(((table["prediction"] - 5.0) ** 2).mean(), rel=1e-4)
    assert any("MSE" in m and "MAE" in m for m in texts(at, "markdown"))


def test_the_post_test_loop_scores_a_rule_against_the_rule():
    """With a rule, each test input's target is the rule's value there (a fresh reader saw the column say 5 on
    every row, and a layer that had learned 1 + 2·x₃ scored MSE 9.9 against the lucky number)."""
    config = Config(rule="1 + 2*x3", epochs=2000)
    at = page(**to_query(config))
    no_errors(at)
    table = _post_table(at)
    inputs = torch.rand(10, 10, generator=torch.Generator().manual_seed(config.seed))  # the test's own draw
    expected = (1 + 2 * inputs[:, 2]).double()
    assert table["target"].tolist() == pytest.approx(expected.tolist(), abs=1e-6)
    trained = train(config).trained
    errors = table["prediction"] - table["target"]
    assert trained.bias == pytest.approx(1, abs=0.2)  # the layer learned the rule, so its test error is small
    assert (errors**2).mean() < 0.05


def test_why_not_five_numbers_and_the_patience_button():
    at = page()
    text = " ".join(texts(at, "markdown"))
    history = train(Config())
    assert f"{float(history.weights[-1].double().norm()):.3g}" in text
    assert f"expected loss over random inputs is **{float(theory.expected_losses(history)[-1]):.3g}**" in text
    next(b for b in at.button if b.label.startswith("Train 20,000 epochs")).click()
    at.run()
    no_errors(at)
    long = train(Config(epochs=20_000))
    assert fingerprint(at) == long.fingerprint()
    assert abs(float(long.biases[-1]) - 5) < 0.1


def test_why_the_valley_term_rises_is_said_once_with_every_panel_shown(default_page):
    rise = story.valley_rise(train(Config()))
    assert rise is not None  # the blog post's run: its valley term rises first
    said = [t for kind in ("markdown", "caption") for t in texts(default_page, kind)]
    assert sum(t.count(rise) for t in said) == 1, "the paragraph is said once, under Why not exactly 5"
    assert any(rise in t for t in texts(default_page, "markdown"))


def test_checkpoint_upload_accepts_a_good_file_and_refuses_bad_ones(tmp_path):
    at = page()
    good = checkpoint.to_bytes(train(Config(epochs=30)))
    uploader = at.file_uploader[0]
    uploader.set_value(("good.safetensors", good, "application/octet-stream")).run()
    no_errors(at)
    assert any("Loaded 'good.safetensors'" in s for s in texts(at, "success"))

    class Evil:
        def __reduce__(self):
            return (open, (str(tmp_path / "pwned"), "w"))

    bad_files = {
        "evil.safetensors": pickle.dumps(Evil()),
        "empty.safetensors": b"",
        "truncated.safetensors": good[: len(good) // 2],
        "huge.safetensors": good + b" " * (1 << 20),
        "notes.txt": b"hello, this is not a checkpoint",
    }
    for name, data in bad_files.items():
        at.file_uploader[0].set_value((name, data, "application/octet-stream")).run()
        no_errors(at)
        assert any(f"Refused {name!r}" in e for e in texts(at, "error")), name
        assert fingerprint(at)
    assert not (tmp_path / "pwned").exists()


def test_cached_rerun_serves_the_same_run():
    at = page(seed=5, epochs=80)
    first = fingerprint(at)
    at.run()
    assert fingerprint(at) == first
    again = page(seed=5, epochs=80)
    assert fingerprint(again) == first


def test_url_follows_the_run_at_once():
    at = page()
    widget(at, "number_input", "w_seed").set_value(12)
    at.run()
    params = {k: at.query_params[k] for k in at.query_params}
    params = {k: v[-1] if isinstance(v, list) else v for k, v in params.items()}
    assert params["seed"] == "12"
    for name, value in to_query(Config(seed=12)).items():
        assert params[name] == value
    assert "x" not in params  # the input was not changed: the link stays short
    at.text_input(key="x_text").set_value(", ".join(["0.5"] * 10)).run()
    assert at.query_params["x"] in (",".join(["0.5"] * 10), [",".join(["0.5"] * 10)])  # commas only: short
    assert at.code[0].value.endswith("?seed=12&x=" + ",".join(["0.5"] * 10))  # the share link keeps them unescaped


def test_frames_table_is_the_text_alternative_of_the_animation():
    at = every_panel(page())
    at.toggle(key="show_table").set_value(True).run()
    no_errors(at)
    table = next(d.value for d in at.dataframe if "expected loss" in d.value.columns)
    history = train(Config())
    assert len(table) == len(chart(at)["frames"])
    assert table["bias"].iloc[-1] == pytest.approx(float(history.biases[-1]))
    assert table["w10"].iloc[0] == pytest.approx(float(history.weights[0, 9]))


def test_compare_seed_spread_and_learning_rate_race():
    at = page(epochs=100)
    at.toggle(key="show_seeds").set_value(True).run()
    at.slider(key="k_seeds").set_value(4).run()
    no_errors(at)
    spec = json.loads(next(e.proto.spec for e in at.get("plotly_chart") if "Where the runs end" in e.proto.spec))
    ends = next(t for t in spec["data"] if t.get("name") == "end of each run")
    solo = [train(Config(epochs=100, seed=s)) for s in range(4)]
    assert ends["y"] == pytest.approx([float(h.biases[-1]) for h in solo], abs=1e-5)
    at.toggle(key="show_race").set_value(True).run()
    at.text_input(key="race_lrs").set_value("0.01, 0.05, 0.6").run()
    no_errors(at)
    race = json.loads(next(e.proto.spec for e in at.get("plotly_chart") if "Race" in e.proto.spec))
    names = [t["name"] for t in race["data"]]
    assert names[0] == "lr 0.01 · below the limit" and "above the limit · blew up at epoch" in names[2]


def test_ledger_lists_runs_and_replays_one():
    at = page(epochs=60)
    widget(at, "number_input", "w_seed").set_value(8)
    at.run()
    assert fingerprint(at) == train(Config(epochs=60, seed=8)).fingerprint()
    ledger = next(d.value for d in at.dataframe if "distance to optimum" in d.value.columns)
    assert list(ledger["seed"]) == [8, 0]
    at.selectbox(key="replay_pick").set_value(1).run()
    next(b for b in at.button if b.label == "Replay").click()
    at.run()
    no_errors(at)
    assert fingerprint(at) == train(Config(epochs=60, seed=0)).fingerprint()


def test_the_ledger_names_optimizers_as_the_page_does_and_says_what_the_distance_is():
    at = page(epochs=60, optimizer="adam", lr=0.05)
    widget(at, "selectbox", "w_optimizer").set_value("rmsprop").run()
    ledger = next(d for d in at.dataframe if "distance to optimum" in d.value.columns)
    assert list(ledger.value["optimizer"]) == ["RMSprop", "Adam"]  # as the sidebar writes them, not "rmsprop"
    meaning = json.loads(ledger.proto.columns)["distance to optimum"]["help"]
    assert "11 numbers" in meaning and "lucky number" in meaning and meaning == glossary.meaning("distance to optimum")
    assert any(c.value == f"Distance to optimum: {meaning}" for c in at.caption)  # shown, not only on hover
    # the distance it defines: the core's, from the trained layer to w = 0, b = 5
    h = train(Config(epochs=60, optimizer="rmsprop", lr=0.05))
    oracle = math.sqrt(float(h.weights[-1].double().square().sum()) + (float(h.biases[-1]) - 5) ** 2)
    assert ledger.value["distance to optimum"].iloc[0] == pytest.approx(oracle, rel=1e-6)
    assert [o.startswith("#0 RMSprop") for o in at.selectbox(key="replay_pick").options] == [True, False]


@pytest.mark.parametrize("query", [{"epochs": "60"}, {"epochs": "3000", "lr": "0.2"}])
def test_every_table_prints_its_decimals_in_the_pages_e_notation(query):
    """Streamlit would print 5e-12 as 0.000000000005; every float column is given the page's %g format."""
    at = page(**query)
    at.toggle(key="show_race").set_value(True).run()
    tables = list(at.dataframe)
    assert len(tables) >= 4  # inside one step (two), the post's test loop, the ledger
    for d in tables:
        formats = json.loads(d.proto.columns or "{}")
        floats = [c for c in d.value.columns if d.value[c].dtype.kind == "f"]
        assert floats, list(d.value.columns)
        shown = displayed(d)
        for name in floats:
            if shown is not None and name in shown.columns:  # written cell by cell (near the lucky number)
                for value, text in zip(d.value[name], shown[name], strict=True):
                    assert float(text.replace("−", "-")) == pytest.approx(value, rel=1e-5), (name, value, text)
                continue
            assert formats[name]["type_config"]["format"] == "%.6g", (name, formats.get(name))
    tiny = next(d for d in tables if "squared error" in d.value.columns).value["squared error"]
    assert (tiny < 1e-4).any() or query["epochs"] == "60"  # the 3,000-epoch run's errors need e-notation


def displayed(table) -> pd.DataFrame | None:
    """The cells a table shows as text where the page wrote them itself (a pandas Styler), else None."""
    styler = table.proto.arrow_data.styler
    if not styler.display_values:
        return None
    return pa.ipc.open_stream(io.BytesIO(styler.display_values)).read_all().to_pandas()


def test_at_20000_epochs_no_table_cell_that_differs_from_the_lucky_number_reads_as_it():
    at = page(epochs=20_000)
    at.toggle(key="show_all").set_value(True).run()
    at.toggle(key="show_table").set_value(True).run()
    no_errors(at)
    checked = 0
    for d, column in ((d, c) for d in at.dataframe for c in ("prediction", "bias") if c in d.value.columns):
        shown = displayed(d)
        assert shown is not None, column
        for true, text in zip(d.value[column], shown[column], strict=True):
            if true == true and true != 5.0:  # not NaN, and not the lucky number itself
                assert float(text.replace("−", "-")) != 5.0, (column, true, text)
                checked += 1
    assert checked > 100  # the post's 10 test inputs and the frames' biases


def test_share_link_reproduces_the_run_and_has_a_qr_code():
    at = page(seed=6, epochs=90)
    link = at.code[0].value
    assert link.endswith("?epochs=90&seed=6")  # only what differs from the blog post; no input unless changed
    assert not qr_codes(at)  # the QR code is made on request
    at.toggle(key="show_qr").set_value(True).run()
    assert qr_codes(at) == [segno.make(link, error="m").png_data_uri(scale=8, border=2)]


def test_presenter_mode_autoplays_and_shows_the_qr_code_first():
    at = page(present=1, seed=2)
    no_errors(at)
    scripts = [e.proto.body for e in at.get("html")]
    assert any("updatemenu-button" in s and "click" in s for s in scripts), "no autoplay"
    assert any("font-size" in s for s in scripts), "no large type"
    assert "present=1" not in at.code[0].value  # the audience gets the normal page
    assert at.query_params["present"] in ("1", ["1"])
    assert qr_codes(at), "no QR code in presenter mode"


def test_presenter_mode_at_a_loopback_address_warns_that_phones_cannot_open_its_qr_code():
    """AppTest reports no address, so the page builds its links on http://localhost:8501/: the stage, its QR
    code's caption and the offline downloads all say what the wall says, from the one rule."""
    from page.room.links import loopback_warning

    at = page(scene=1, present=1)
    no_errors(at)
    warning = loopback_warning(at.code[0].value)
    assert warning and "Phones cannot open localhost" in warning
    assert [w.value for w in at.warning] == [warning]
    captions = [c.value for c in at.caption]
    assert any(c.startswith("⚠ The talk's QR codes and links will point to") and warning in c for c in captions)
    (qr,) = [img for e in at.get("image") for img in e.proto.imgs]
    assert qr.caption.startswith("⚠ Phones cannot open this link")
    assert loopback_warning("https://lucky5.example/?scene=1") is None
    # The scene's own sentences never ask the room to scan that code: they say what to do instead.
    told = next(m for m in texts(at, "markdown") if "nn.Linear(10, 1) learns" in m)
    assert "scan" not in told.lower() and "Phones cannot open" in told, told


def test_a_new_url_in_the_same_session_shows_its_run():
    at = page(seed=1, epochs=50)
    assert fingerprint(at) == train(Config(seed=1, epochs=50)).fingerprint()
    at.query_params.clear()
    at.query_params["seed"] = "2"
    at.query_params["epochs"] = "70"
    at.run()
    no_errors(at)
    assert fingerprint(at) == train(Config(seed=2, epochs=70)).fingerprint()
    assert widget(at, "number_input", "w_seed").value == 2


NON_DEFAULT = {
    "epochs": 123,
    "optimizer": "rmsprop",
    "lr": 0.003,
    "target": -2.5,
    "batch_size": 3,
    "seed": 77,
    "momentum": 0.3,
    "dampening": 0.2,
    "nesterov": True,
    "weight_decay": 0.01,
    "betas": (0.8, 0.95),
    "eps": 1e-6,
    "amsgrad": True,
    "alpha": 0.9,
    "centered": True,
    "lr_decay": 0.1,
}


@pytest.mark.parametrize("name", sorted(NON_DEFAULT))
def test_every_field_round_trips_through_the_page_url(name):
    changes = {name: NON_DEFAULT[name]}
    if name == "nesterov":
        changes["momentum"] = 0.5  # torch requires momentum for Nesterov
    config = Config(**{"epochs": 60, **changes})
    at = page(**to_query(config))
    no_errors(at)
    assert not at.warning, [w.value for w in at.warning]
    assert at.session_state.state.run == config
    assert fingerprint(at) == train(config).fingerprint()
    shown = {k: (v[-1] if isinstance(v, list) else v) for k, v in at.query_params.items()}
    assert {k: shown[k] for k in to_query(config)} == to_query(config)


def test_the_learning_rate_steps_walk_a_1_2_5_ladder_and_stay_above_zero():
    at = page()
    box = widget(at, "number_input", "w_lr")
    assert box.format == "%g"  # 0.01, not 0.010000
    seen = []
    for _ in range(4):
        widget(at, "number_input", "w_lr").decrement().run()
        seen.append(at.session_state.state.run.lr)
    assert seen == [0.005, 0.002, 0.001, 0.0005]
    seen = []
    for _ in range(7):
        widget(at, "number_input", "w_lr").increment().run()
        seen.append(at.session_state.state.run.lr)
    assert seen == [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1]
    no_errors(at)
    assert not at.sidebar.error
    assert fingerprint(at) == train(Config(lr=0.1)).fingerprint()
    assert at.query_params["lr"] in ("0.1", ["0.1"])


@pytest.mark.parametrize("query", [{"lr": "0.5"}, {"lr": "0.5", "epochs": "2000"}, {"momentum": "1.5"}])
def test_nothing_shown_for_a_diverged_run_is_inf_or_nan(query):
    """Displayed aggregates are float64: every weight of the lr 0.5 run is finite while its float32 norm is inf."""
    at = page(**query)
    no_errors(at)
    history = train(Config(**{k: type(getattr(Config(), k))(v) for k, v in query.items()}))
    assert history.diverged_at is not None
    assert torch.isfinite(history.weights[-1]).all()
    shown = [m.value for m in at.metric] + texts(at, "markdown") + texts(at, "caption") + texts(at, "error")
    for text in shown:
        assert not re.search(r"\b(inf|nan)\b", text, re.IGNORECASE), text
    norm = float(history.weights[-1].double().norm())  # ‖w‖, finite, written as the page writes numbers (×10ⁿ)
    assert shown_number(at.metric[2].value) == pytest.approx(float(f"{norm:.3g}")) and "e+" not in at.metric[2].value
    ledger = at.dataframe[-1].value  # this session's runs: the distance to the optimum is finite too
    assert ledger["distance to optimum"].map(math.isfinite).all()


def test_a_scene_with_changed_settings_says_its_story_does_not_apply():
    at = page(scene=1, present=1, lr=0.5)
    no_errors(at)
    text = " ".join(texts(at, "markdown"))
    assert "This run is not the scene's: learning rate changed" in text
    assert "close to 5, but not 5" not in text  # scene 1's story, which a diverged run would contradict
    next(b for b in at.button if b.label == "Back to the scene's settings").click()
    at.run()
    assert fingerprint(at) == train(Config()).fingerprint()
    assert "close to 5" in " ".join(texts(at, "markdown"))
    seeded = page(scene=1, seed=3)  # another seed is still the scene: its story is told with that run's numbers
    assert "This run is not the scene's" not in " ".join(texts(seeded, "markdown"))
