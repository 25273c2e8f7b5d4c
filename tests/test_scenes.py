"""The talk's scenes: what each sets, that every sentence is filled from the run and from theory (checked here
against independent oracles: the post's plain loop, a Hessian built in the test, hand arithmetic), the scenes'
pictures at projector scale (one step's arithmetic, the loss's three parts, the animation's controls), and the
scene's side of the URL (total parsing, short links that reopen exactly their run)."""

from __future__ import annotations

import cmath
import colorsys
import itertools
import math
import re
from urllib.parse import urlencode

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lucky5 import Config, explain_step, figures, from_query, train
from lucky5.config import DEFAULT, FIELD_NAMES
from lucky5.figures import PANELS, PROJECTOR_FONT
from lucky5.figures.frames import slider_ticks
from lucky5.inputs import default_input
from lucky5.scenes import (
    FOCUS,
    SCENE,
    SCENES,
    audience_facts,
    facts,
    scene_number,
    scene_params,
    scene_query,
    sentences,
    step_board,
    template_fields,
)
from tests.helpers import page, shown_number
from tests.oracle import post_loop

PAGE_PARAMS = ("present", "x", "scene")


@pytest.fixture(scope="module")
def runs() -> dict[int, object]:
    return {s.number: train(s.config) for s in SCENES}


def numbers_in(text: str) -> list[float]:
    """The numbers a reader sees in ``text`` (thousands separators and real minus signs understood)."""
    found = re.findall(r"[−-]?\d[\d,]*(?:\.\d+)?(?:e[−+-]?\d+)?", text)
    return [float(n.replace(",", "").replace("−", "-")) for n in found]


HALL = 3  # significant digits a hall reads from the back row: scene 3 writes no more


def close(value: float, shown: float, digits: int) -> bool:
    """``shown`` is ``value`` rounded to ``digits`` significant digits."""
    return math.isclose(value, shown, rel_tol=0.51 * 10 ** (1 - digits), abs_tol=1e-12)


def read_as(value: float, shown: str) -> bool:
    """``shown`` is ``value`` rounded to the digits it shows, and at most 5 of them: what a hall can read."""
    digits = len(shown.replace("−", "").replace("-", "").replace(".", "").lstrip("0"))
    return digits <= 5 and close(value, shown_number(shown), digits)


# --- what the scenes are ----------------------------------------------------------------------------------------


def test_six_scenes_in_the_order_of_the_story():
    assert [s.number for s in SCENES] == [1, 2, 3, 4, 5, 6]
    assert SCENE[1].config == DEFAULT  # the blog post itself
    assert SCENE[2].config == DEFAULT and SCENE[2].focus == "why"
    assert SCENE[3].config == DEFAULT and SCENE[3].focus == "step" and SCENE[3].epoch is not None
    assert SCENE[4].config == DEFAULT.replace(epochs=20_000)
    assert SCENE[5].config == DEFAULT.replace(lr=0.5)
    assert SCENE[6].config.optimizer == "adam"
    for s in SCENES:
        assert s.focus in FOCUS
        assert set(s.panels) <= set(PANELS) and len(s.panels) == 2
        assert 2 <= len(s.sentences) <= 3
        assert s.animated == (s.focus == "animation")
    assert [s.number for s in SCENES if s.animated] == [1, 4, 5, 6]
    # The audience scans the code where the room opens the page: the first scene and the last ("your turn").
    assert [s.number for s in SCENES if s.audience] == [1, 6]


def test_every_field_a_sentence_asks_for_is_filled_for_every_scene_and_odd_runs(runs):
    odd = [train(Config(target=1e30, epochs=3)), train(Config(optimizer="rmsprop", epochs=5)), train(Config(epochs=1))]
    assert odd[0].steps == 0  # diverged on its first epoch: nothing finite to quote
    for scene in SCENES:
        for history in [runs[scene.number], *odd]:
            known = facts(history) | audience_facts()
            assert template_fields(scene) <= set(known)
            for sentence in sentences(scene, history):
                assert "{" not in sentence and "}" not in sentence and "nan" not in sentence.lower()


# --- numbers from the run and from theory -----------------------------------------------------------------------


def test_scene_1_quotes_the_runs_prediction_and_bias(runs):
    history = runs[1]
    x = torch.tensor(default_input(0), dtype=torch.float64)
    w, b = history.weights[-1].double(), float(history.biases[-1])
    by_hand = float(w @ x) + b  # the layer's prediction, b + Σ wᵢxᵢ
    text = " ".join(sentences(SCENE[1], history))
    assert f"prediction for your input is {facts(history)['prediction']}" in text
    assert close(by_hand, shown_number(facts(history)["prediction"]), 4)
    assert read_as(b, facts(history)["bias"])
    loop = post_loop(SCENE[1].config)  # the blog post's own loop
    assert read_as(float(loop["biases"][-1]), facts(history)["bias"])


def _slow_time_constant_oracle(lr: float, momentum: float) -> float:
    """Heavy-ball SGD on the expected loss: Hessian 2·E[z zᵀ] with z = [x, 1], x ~ U(0, 1)^10 (built here).

    Along an eigenvector of eigenvalue λ the error obeys e' = (1 + m − lr·λ)·e − m·e_prev, so it shrinks by the
    larger root |r| of r² − (1 + m − lr·λ)r + m = 0 per step: by e every −1/ln|r| steps.
    """
    second = torch.full((11, 11), 0.25, dtype=torch.float64)
    second[:10, :10] += torch.eye(10, dtype=torch.float64) / 12
    second[10, :10] = second[:10, 10] = 0.5
    second[10, 10] = 1.0
    lam = float(torch.linalg.eigvalsh(2 * second)[0])
    a = 1 + momentum - lr * lam
    roots = [(a + s * cmath.sqrt(a * a - 4 * momentum)) / 2 for s in (1, -1)]
    return -1 / math.log(max(abs(r) for r in roots))


def test_scenes_2_and_4_quote_the_valley_time_constant_from_theory(runs):
    c = DEFAULT
    tau = _slow_time_constant_oracle(c.lr, c.momentum)
    for number in (2, 4):
        history = runs[number]
        text = " ".join(sentences(SCENE[number], history))
        assert f"≈ {tau:,.0f} epochs" in text, text
        shown = shown_number(facts(history)["fraction"])
        assert close(history.steps / tau, shown, 2)
    # Scene 2 names both: the distance's time constant and the loss's (its square's), half of it.
    why = " ".join(sentences(SCENE[2], runs[2]))
    assert f"the distance shrinks by e every ≈ {tau:,.0f} epochs" in why, why
    assert f"(and the loss, its square, every ≈ {tau / 2:,.0f} epochs)" in why, why
    # Scene 4 says what shrinks with that time constant: the distance to the best layer.
    patience = " ".join(sentences(SCENE[4], runs[4]))
    assert f"≈ {tau:,.0f} epochs (from theory) in which the distance to the best layer" in patience, patience


def test_scene_4_says_every_weight_is_below_a_bound_it_measured(runs):
    history = runs[4]
    bound = shown_number(facts(history)["max_weight"])
    largest = float(history.weights[-1].abs().max())
    assert largest < bound <= 1.1 * largest  # true and tight
    assert abs(float(history.biases[-1]) - 5) < 1e-3  # the point of the scene: b reaches 5
    assert read_as(float(history.biases[-1]), facts(history)["bias"])


def test_at_20000_epochs_no_quoted_number_that_differs_from_5_reads_as_5(runs):
    history = runs[4]
    x = torch.tensor(default_input(history.config.seed), dtype=torch.float64)
    known = facts(history, x)
    for name, true in (("bias", float(history.biases[-1])), ("prediction", float(history.trained.predict(x)))):
        assert true != 5.0 and float(known[name].replace("−", "-")) != 5.0, (name, true, known[name])
    assert facts(runs[6])["optimizer"] == "Adam" and known["optimizer"] == "SGD"  # as the sidebar names them


def test_scene_5_quotes_the_stability_limit_and_where_the_run_diverged(runs):
    history = runs[5]
    assert history.diverged_at is not None
    text = " ".join(sentences(SCENE[5], history))
    assert f"diverged at epoch {history.diverged_at:,}" in text
    limit = shown_number(facts(history)["limit"])
    # The limit is a limit: a hair below it the post's loop settles, well above it (lr 0.5) it blew up.
    assert 0.1 < limit < 0.5
    assert post_loop(SCENE[5].config)["diverged_at"] == history.diverged_at
    assert close(0.5 / limit, shown_number(facts(history)["ratio"]), 2)


def test_scene_3_quotes_one_step_as_the_posts_loop_computed_it(runs):
    history, k = runs[3], SCENE[3].epoch
    assert k is not None
    step = post_loop(SCENE[3].config, watch=[k])["watched"][k]
    known = facts(history)
    t = SCENE[3].config.target
    prediction = float(step["prediction"][0])
    assert close(prediction, float(known["step_prediction"].replace("−", "-")), HALL)
    assert close((prediction - t) ** 2, float(known["step_loss"]), HALL)  # MSE of one sample
    assert close(2 * (prediction - t), float(known["step_grad_bias"].replace("−", "-")), HALL)  # d/db (ŷ − t)²
    assert close(float(step["params_before"][10]), float(known["step_bias_before"]), HALL)
    assert close(float(step["params_after"][10]), float(known["step_bias_after"]), HALL)
    # The step is named as a reader counts (the post's loop's k-th pass is step k + 1), with its epoch index.
    text = " ".join(sentences(SCENE[3], history))
    assert max(significant_digits(text)) <= HALL, text
    assert f"step {k + 1} of {history.steps:,} (epoch {k}, counting from 0)" in text, text


def test_scene_6_makes_no_stability_claim_for_adam(runs):
    text = " ".join(sentences(SCENE[6], runs[6]))
    assert "no stability limit" in text
    assert read_as(float(runs[6].biases[-1]), facts(runs[6])["bias"])


# --- the scenes' pictures ---------------------------------------------------------------------------------------


def numbers_after(text: str, marker: str) -> list[float]:
    return numbers_in(text.split(marker, 1)[1])


@pytest.mark.parametrize("k", [0, 1, 57])
def test_the_step_board_shows_the_posts_own_numbers_for_that_step(k):
    """Every number on the step scene's board, checked against the blog post's loop stopped at step k."""
    config = SCENE[3].config
    seen = post_loop(config, watch=[k])["watched"][k]
    x, before, after = seen["x"][0].double(), seen["params_before"].double(), seen["params_after"].double()
    y, t = float(seen["prediction"][0]), config.target
    forward, gradient, update = step_board(explain_step(config, k))
    assert (forward.code, gradient.code, update.code) == ("model(x), loss_fn", "loss.backward()", "optimizer.step()")

    b, wx, shown_y = numbers_after(forward.lines[0], "Σ wᵢ·xᵢ =")  # ŷ = b + Σ wᵢ·xᵢ = b + (w·x) = ŷ
    assert close(float(before[10]), b, HALL) and close(float(before[:10] @ x), wx, HALL) and close(y, shown_y, HALL)
    assert close(seen["loss"], numbers_in(forward.lines[1])[-1], HALL)
    assert close((y - t) ** 2, numbers_in(forward.lines[1])[-1], HALL)  # one sample's squared error
    assert close(float(seen["grad"][10]), numbers_in(gradient.lines[0])[-1], HALL)  # ∂L/∂b
    assert close(2 * (y - t), numbers_in(gradient.lines[1])[-1], HALL)  # ∂L/∂wᵢ = 2(ŷ − t)·xᵢ
    assert numbers_in(update.lines[0]) == [config.lr, config.momentum, config.dampening]
    buffer, step = update.lines[1], update.lines[2]
    buf_after = float(seen["state_after"]["momentum_buffer"][10])
    if k == 0:  # torch starts the buffer at the first gradient
        assert buffer.startswith("buf ← g:") and close(buf_after, numbers_in(buffer)[-1], HALL)
    else:
        buf_before = float(seen["state_before"]["momentum_buffer"][10])
        shown_before, shown_after = numbers_in(buffer)[-2:]
        assert close(buf_before, shown_before, HALL) and close(buf_after, shown_after, HALL)
        assert close(config.momentum * buf_before + float(seen["grad"][10]), buf_after, 5)  # the rule, by hand
    assert step.startswith("θ ← θ − lr·buf:")
    assert close(float(before[10]), numbers_in(step)[-2], HALL) and close(float(after[10]), numbers_in(step)[-1], HALL)
    assert close(float(before[10]) - config.lr * buf_after, float(after[10]), 5)
    y_after = float(after[:10] @ x + after[10])  # the same input through the updated layer
    assert close(y_after, numbers_after(update.lines[-1], "→")[0], HALL)
    assert "−" in gradient.lines[0] and "-" not in " ".join(gradient.lines)  # real minus signs for a hall
    for line in (*forward.lines, *gradient.lines, *update.lines[1:]):  # update.lines[0]: the settings, as typed
        assert max(significant_digits(line)) <= HALL, line


def significant_digits(text: str) -> list[int]:
    """How many significant digits each decimal number in ``text`` is written with (0.0237 has 3)."""
    return [len(m.replace(".", "").lstrip("0")) for m in re.findall(r"(?<![\w.])\d+\.\d+", text)] or [0]


def test_the_step_board_writes_every_optimizers_update_for_b():
    for config in (Config(optimizer="adam", lr=0.05), Config(weight_decay=0.1), Config(optimizer="adagrad")):
        step = explain_step(config, 3)
        lines = step_board(step)[2].lines
        last = next(line for line in lines if line.startswith("θ ←"))
        shown = numbers_in(last.split("b ", 1)[1])
        assert close(float(step.params_before[10]), shown[0], HALL)
        assert close(float(step.params_after[10]), shown[1], HALL)


def by_hand_loss_parts(history) -> torch.Tensor:
    """The expected loss's three parts at every epoch, written out here: (0.5·Σw + b − t)², (Σw)²/120, and
    ‖w − mean w‖²/12 (for x ~ U(0, 1)¹⁰: mean 1/2, variance 1/12; the variance of w·x splits into the mean weight's
    part and the rest)."""
    w, b, t = history.weights.double(), history.biases.double(), history.config.target
    total = w.sum(-1)
    centred = w - w.mean(-1, keepdim=True)
    return torch.stack([(0.5 * total + b - t) ** 2, total**2 / 120, centred.square().sum(-1) / 12], -1)


def test_the_why_scene_draws_the_three_parts_of_the_loss_over_the_whole_run():
    history = train(SCENE[2].config)
    spec = figures.loss_parts(history, theme="dark").to_dict()
    by_name = {trace["name"]: trace for trace in spec["data"]}
    parts = by_hand_loss_parts(history)
    for j, start in enumerate(("fast error", "valley", "disagreement")):
        (trace,) = [tr for name, tr in by_name.items() if name.startswith(start)]
        epochs = list(trace["x"])
        assert epochs[0] == 0 and epochs[-1] == history.steps  # the whole run, drawn complete
        assert list(trace["y"]) == pytest.approx(parts[epochs, j].tolist(), rel=1e-4, abs=1e-12)
    (total,) = [tr for name, tr in by_name.items() if name.startswith("expected loss")]
    assert list(total["y"]) == pytest.approx(parts[list(total["x"])].sum(-1).tolist(), rel=1e-4)
    assert spec["layout"]["yaxis"]["type"] == "log" and spec["layout"]["showlegend"]
    assert min(size for _, size in font_sizes(spec)) >= PROJECTOR_FONT
    # Four lines a hall tells apart: four hues at least 30° apart (blue and sky blue would read as one).
    hues = [colorsys.rgb_to_hls(*(int(t["line"]["color"][i : i + 2], 16) / 255 for i in (1, 3, 5)))[0] * 360
            for t in spec["data"]]  # fmt: skip
    assert len(hues) == 4
    assert all(min(abs(a - b), 360 - abs(a - b)) >= 30 for a, b in itertools.combinations(hues, 2)), hues


def font_sizes(node, path=""):
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("font", "tickfont", "title_font") and isinstance(v, dict) and "size" in v:
                yield f"{path}.{k}", v["size"]
            yield from font_sizes(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from font_sizes(v, f"{path}[{i}]")


@pytest.mark.parametrize("number", [s.number for s in SCENES if s.animated])
def test_a_projectors_controls_sit_below_the_panels_and_the_valley_fits_its_path(number):
    history = train(SCENE[number].config)
    x = torch.tensor(default_input(0), dtype=torch.float64)
    spec = figures.animation(history, x, projector=True, height=520, panels=SCENE[number].panels, columns=2)
    layout = spec["layout"]
    (menu,) = layout["updatemenus"]
    (slider,) = layout["sliders"]
    # Under the plots (paper y = 0, hanging down), the buttons left of the slider's rail: no title can be under them.
    assert (menu["y"], menu["yanchor"], slider["y"], slider["yanchor"]) == (0, "top", 0, "top")
    assert slider["pad"]["l"] >= 4 * 60  # the four buttons at 18 px
    # Plotly's own step labels (every n-th step, n from the width) are not drawn; round ones are.
    assert slider["font"]["color"] == "rgba(0, 0, 0, 0)" and slider["ticklen"] == 0
    labels = [a for a in layout["annotations"] if a.get("yref") == "paper" and a.get("y") == 0]
    frames_at = [int(f["name"]) for f in spec["frames"]]
    ticks = slider_ticks(frames_at, 5)
    if ticks[-1][1] != frames_at[-1]:  # a run that stops early (scene 5 diverges): its last epoch is labelled too
        step = ticks[1][1] - ticks[0][1]
        ticks = [t for t in ticks if frames_at[-1] - t[1] >= step / 2] + [(len(frames_at) - 1, frames_at[-1])]
    assert [a["text"] for a in labels] == [f"{e:,}" for _, e in ticks] and len(ticks) >= 3
    assert labels[-1]["text"] == f"{history.steps:,}"  # the slider's end says where the run ends
    # Each under its step: x is the step's fraction of the slider, shifted by the buttons' room (pad.l).
    for (i, _), a in zip(ticks, labels, strict=True):
        f = i / (len(frames_at) - 1)
        assert a["x"] == f and a["xshift"] == pytest.approx(slider["pad"]["l"] + 10 - f * (slider["pad"]["l"] + 20))
    if "valley" in SCENE[number].panels:
        axes = [k for k, v in layout.items() if k.startswith("xaxis") and v.get("scaleanchor")]
        (x_name,) = axes
        y_name = "yaxis" + x_name.removeprefix("xaxis")
        # Equal scales kept by shrinking the valley's cell, never by widening its axes beyond the view box.
        assert layout[x_name]["constrain"] == layout[y_name]["constrain"] == "domain"


# --- the URL ----------------------------------------------------------------------------------------------------


@given(st.text(max_size=30))
@settings(max_examples=200, deadline=None)
def test_scene_number_is_total(raw):
    number, notice = scene_number(raw)
    assert number is None or number in SCENE
    if number is None and raw.strip():
        assert notice and repr(raw[:20]) in notice  # quotes at most 20 characters of the value
    if number is not None:
        assert notice is None and int(raw.strip()) == number


@pytest.mark.parametrize("raw", ["0", "7", "-1", "1.5", "¹", "٣", "abc", "999999999999"])
def test_scene_number_refuses_what_is_not_a_scene(raw):
    assert scene_number(raw)[0] is None


def test_a_scene_link_is_just_the_scene():
    for s in SCENES:
        assert scene_query(s.number, s.config) == {"scene": str(s.number)}
        assert len(urlencode(scene_query(s.number, s.config))) <= len("scene=6")
        config, notices = from_query(scene_params(s.number, {"scene": [str(s.number)]}), extra=PAGE_PARAMS)
        assert (config, notices) == (s.config, [])


def test_the_blog_posts_link_is_the_host_alone():
    from lucky5 import to_query

    assert to_query(DEFAULT) == {}  # so the audience link is at most len("?scene=1") after the host


changes = st.fixed_dictionaries(
    {},
    optional={
        "seed": st.integers(0, 2**32 - 1),
        "epochs": st.sampled_from([1, 200, 2_000, 20_000]),
        "lr": st.sampled_from([0.01, 0.05, 0.5, 1e-3]),
        "optimizer": st.sampled_from(["sgd", "adam"]),
        "momentum": st.sampled_from([0.0, 0.1, 0.9]),
    },
)


@given(st.sampled_from([s.number for s in SCENES]), changes)
@settings(max_examples=150, deadline=None)
def test_a_scene_link_reopens_exactly_its_run(number, change):
    config = DEFAULT.replace(**change)
    query = scene_query(number, config)
    params = {k: [v] for k, v in query.items()}
    reopened, notices = from_query(scene_params(number, params), extra=PAGE_PARAMS)
    assert (reopened, notices) == (config, [])
    # Only what differs from the scene is written.
    base = SCENE[number].config
    assert set(query) - {"scene"} == {k for k in FIELD_NAMES if getattr(config, k) != getattr(base, k)}


# --- the page (Streamlit's AppTest: what the server sends) ------------------------------------------------------


def test_the_page_opens_a_scene_with_its_sentences_and_next_moves_on():
    at = page(scene="4")
    assert not at.exception
    shown = " ".join(m.value for m in at.markdown).replace("\\", "")
    history = train(SCENE[4].config)
    for sentence in sentences(SCENE[4], history):
        assert sentence in shown
    assert at.code[0].value.endswith("?scene=4")
    next(b for b in at.button if b.key == "scene_next").click().run()
    assert at.query_params["scene"] in ("5", ["5"]) and at.code[0].value.endswith("?scene=5")
    assert not at.exception


@pytest.mark.parametrize("raw", ["9", "abc", "<b>1</b>"])
def test_a_bad_scene_in_a_link_opens_the_blog_post_and_says_so(raw):
    at = page(scene=raw)
    assert not at.exception
    warnings = [w.value.replace("\\", "") for w in at.warning]
    assert any(f"Ignored scene={raw!r}" in w for w in warnings), warnings
    assert at.code[0].value.endswith("/")  # the blog post's run: the bare address


def test_a_rule_runs_scene_titles_ask_about_the_rule_not_5():
    """Every title a rule run shows (the bar's, the speaker's "next") names no lucky number; the blog post's
    titles stay as they were."""
    from lucky5.notes import next_title
    from lucky5.scenes import title_for

    rule = Config(rule="4 + 2*x1*x2")
    for scene in SCENES:
        assert "5" not in title_for(scene, rule).replace("20,000", "")
        assert title_for(scene, DEFAULT) == scene.title
    assert title_for(SCENE[2], rule) == "Why not exactly the rule?"
    assert next_title(1, rule) == f"Scene 2 of {len(SCENES)} · Why not exactly the rule?"
    assert next_title(1) == f"Scene 2 of {len(SCENES)} · Why not exactly 5?"


# --- words for the room ------------------------------------------------------------------------------------------


def test_a_room_that_cannot_open_the_link_is_told_what_to_do_never_to_scan(runs):
    warning = "Phones cannot open 127.0.0.1: it is this computer's own address. Open the Network URL."
    for scene in (s for s in SCENES if s.audience):
        for offline in (False, True):
            reachable = " ".join(sentences(scene, runs[scene.number], offline=offline))
            blocked = " ".join(sentences(scene, runs[scene.number], unreachable=warning, offline=offline))
            assert "scan" in reachable.lower(), reachable
            assert "scan" not in blocked.lower(), blocked
    assert "Phones cannot open" in " ".join(sentences(SCENE[1], runs[1], unreachable=warning))


def test_the_guided_tour_shows_no_code_and_never_points_at_one(runs):
    """On the tour (no presenter mode) no QR code is drawn: no sentence asks to scan one or points at its note."""
    for number in (1, 6):
        told = " ".join(sentences(SCENE[number], runs[number], unreachable="Phones cannot open 127.0.0.1", coded=False))
        assert "scan" not in told.lower() and "the code" not in told, told
    assert "settings (top left)" in " ".join(sentences(SCENE[6], runs[6], coded=False))
    assert "Scan the code" in " ".join(sentences(SCENE[1], runs[1]))  # with a code on screen, it is asked


def test_the_offline_files_last_scene_sends_the_room_to_the_settings_it_has():
    live, offline = audience_facts()["your_turn"], audience_facts(offline=True)["your_turn"]
    assert "settings (top left)" in live  # the live page's sidebar
    assert "top left" not in offline and "on your phone" in offline  # the file has no sidebar: the phones do


def test_scene_2_gives_the_losss_time_constant_in_epochs_not_as_a_loss(runs):
    text = " ".join(sentences(SCENE[2], runs[2]))
    tau = facts(runs[2])["loss_time_constant"]
    assert f"every ≈ {tau} epochs" in text and f"loss ≈ {tau}" not in text, text
