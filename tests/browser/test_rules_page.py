"""A rule on the first screen, in a real browser: chosen with real clicks, trained, and its weights read on the
network drawing; a rule one neuron cannot learn says how much it cannot fit; a refused rule shows the parser's
words. Geometry (inside the viewport, and ``document.elementFromPoint`` at the centre hitting it) at 1440×900
and 390×844 in both colour schemes. Screenshots go to artifacts/screenshots/ (rules-*.png).

Oracles: ``lucky5.train`` (the run's fingerprint and its trained weights), ``lucky5.theory.least_squares`` (the
variance one neuron cannot fit, 1/36 for 4 + 2·x₁·x₂) and ``lucky5.rules.parse_rule`` (the refusal's words).
"""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]  # ships no type hints
from playwright.sync_api import expect

from bench.browser import GEOMETRY_JS, geometry, settle, tap, wait_for_run
from lucky5 import Config, theory, train
from lucky5.narration import number
from lucky5.rules import RuleError, parse_rule

pytestmark = pytest.mark.browser

SIZES = {"1440x900": {"width": 1440, "height": 900}, "390x844": {"width": 390, "height": 844}}
KIND = "What the network must learn"  # the comboboxes' names, as a screen reader reads them
RULE = "The rule"
NETWORK = ".st-key-lesson_network .js-plotly-plot"
HIDDEN = "5 + 3*x1 - 2*x7"
FIRST_LOAD_S = 180
# bench.browser's geometry, for an element located by its role and name rather than by a selector.
ELEMENT_GEOMETRY_JS = GEOMETRY_JS.replace("const e = document.querySelector(selector);", "const e = selector;")
assert ELEMENT_GEOMETRY_JS != GEOMETRY_JS
# The weights written on the network's edges at the frame on screen, as the drawing shows them (SVG text).
WEIGHT_LABELS_JS = f"""
() => {{
  const gd = document.querySelector('{NETWORK}');
  const group = [...gd.querySelectorAll('.scatterlayer g.trace')]
    .find(g => g.__data__ && g.__data__[0] && g.__data__[0].trace.name === 'weights');
  return group ? [...group.querySelectorAll('text')].map(t => t.textContent) : null;
}}
"""


def fingerprint_shown(page, expected: str, timeout_s: float = 120) -> None:
    expect(page.get_by_text(re.compile(f"Run fingerprint:\\s*{expected}"))).to_be_visible(timeout=timeout_s * 1000)
    wait_for_run(page)


def assert_seen(page, selector: str, what: str, where: str) -> None:
    box = geometry(page, selector)
    _assert_box(box, what, where)


def assert_reachable(locator, what: str, where: str) -> None:
    """``assert_seen`` for a located element: inside the viewport and on top at its centre."""
    locator.scroll_into_view_if_needed()
    _assert_box(locator.evaluate(ELEMENT_GEOMETRY_JS), what, where)


def _assert_box(box, what: str, where: str) -> None:
    assert box is not None, f"{what} is missing ({where})"
    assert box["inside"], f"{what} is not inside the viewport ({where}): {box}"
    assert box["onTop"], f"{what} is covered at its centre by {box['hit']} ({where})"


def choose(page, kind: str) -> None:
    """Open the first screen's choice with a click and click ``kind``, as a learner does."""
    tap(page.get_by_role("combobox", name=KIND, exact=True))
    page.get_by_role("option", name=kind, exact=True).click()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", list(SIZES))
def test_a_hidden_rule_is_chosen_on_the_first_screen(visit, screenshots, size, scheme):
    page, ws = visit(viewport=SIZES[size], color_scheme=scheme)
    wait_for_run(page, FIRST_LOAD_S)
    settle(page, ws)
    where = f"{size}, {scheme}"
    # On a laptop the choice is on the first screen, under the sentence that says what is learned; on a phone the
    # first screen is the network, the controls and a chart, and the choice follows (scrolled to).
    kind = page.get_by_role("combobox", name=KIND, exact=True)
    if size == "390x844":
        assert_reachable(kind, "the choice of what to learn", where)
    else:
        _assert_box(kind.evaluate(ELEMENT_GEOMETRY_JS), "the choice of what to learn", f"{where}, not scrolled")
    choose(page, "A hidden rule")
    fingerprint_shown(page, train(Config(rule=HIDDEN)).fingerprint())
    expect(page.locator(".st-key-lesson h1")).to_have_text("lucky5: a network figures out a hidden rule")
    expect(page).to_have_url(re.compile(r"[?&]rule=5"), timeout=30_000)
    rule_box = page.get_by_role("combobox", name=RULE, exact=True)
    assert_reachable(rule_box, "the rule's choice", where)
    expect(rule_box).to_have_value(f"y = {HIDDEN}")
    page.screenshot(path=screenshots / f"rules-{size}-{scheme}.png")


@pytest.mark.parametrize("size", ["1280x720", "1440x900"])
def test_every_box_of_the_choice_and_every_chart_are_on_a_laptops_first_screen(visit, screenshots, size):
    """The fullest choice (the kind, the rule typed, the noise) sits in one row in the first viewport, and the
    network and the charts still fit under it, with the loss chart's floor line labelled (theory's σ² + 1/36)."""
    viewport = {"1280x720": {"width": 1280, "height": 720}, **SIZES}[size]
    page, ws = visit("?rule=4%20%2B%202*x1*x2&noise=0.5", viewport=viewport)
    wait_for_run(page, FIRST_LOAD_S)
    settle(page, ws)
    where = f"{size}, light, not scrolled"
    boxes = {
        "the choice of what to learn": page.get_by_role("combobox", name=KIND, exact=True),
        "the rule's choice": page.get_by_role("combobox", name=RULE, exact=True),
        "the typed rule": page.get_by_role("textbox", name="Your rule: y ="),
        "the noise": page.get_by_role("spinbutton", name="Noise σ on every target", exact=True),
    }
    for what, locator in boxes.items():
        _assert_box(locator.evaluate(ELEMENT_GEOMETRY_JS), what, where)
    for name in ("network", "loss", "prediction", "valley"):
        assert_seen(page, f".st-key-{'lesson_' if name == 'network' else 'chart_'}{name} .js-plotly-plot", name, where)
    floor = theory.least_squares(Config(rule="4 + 2*x1*x2", noise=0.5)).floor
    expect(page.locator(".st-key-chart_loss")).to_contain_text(f"floor {number(floor)}")
    page.screenshot(path=screenshots / f"rules-first-screen-{size}.png")


def test_a_chosen_rules_weights_are_read_on_the_network_after_20000_epochs(visit, screenshots):
    page, ws = visit(viewport=SIZES["1440x900"])
    wait_for_run(page, FIRST_LOAD_S)
    settle(page, ws)
    choose(page, "A hidden rule")
    fingerprint_shown(page, train(Config(rule=HIDDEN)).fingerprint())
    page.locator(".st-key-lesson_epochs button", has_text="20,000").click()
    run = train(Config(rule=HIDDEN, epochs=20_000))
    fingerprint_shown(page, run.fingerprint(), timeout_s=180)
    page.wait_for_function("() => !!window.__lucky5Lesson", timeout=30_000)
    slider = page.locator(".st-key-lesson .lesson-slider")
    slider.focus()
    slider.press("End")  # a real key press: the last frame, epoch 20,000
    expect(page.locator(".st-key-lesson .lesson-counter")).to_have_text("Epoch 20,000 of 20,000")
    labels = page.wait_for_function(WEIGHT_LABELS_JS).json_value()
    trained = run.trained.weight.tolist()
    assert labels == [number(w, 2) for w in trained]  # the drawing writes the trained weights
    w1, w7 = (float(labels[i].replace("−", "-")) for i in (0, 6))  # on the edges from x₁ and x₇
    assert w1 == pytest.approx(3, abs=0.05) and w7 == pytest.approx(-2, abs=0.05)
    assert all(abs(w) < 0.05 for i, w in enumerate(trained) if i not in (0, 6))
    assert_seen(page, NETWORK, "the network", "1440x900, light")
    page.screenshot(path=screenshots / "rules-20000-epochs.png")


def test_a_rule_one_neuron_cannot_learn_says_how_much_it_cannot_fit(visit, screenshots):
    page, ws = visit(viewport=SIZES["1440x900"], color_scheme="dark")
    wait_for_run(page, FIRST_LOAD_S)
    settle(page, ws)
    choose(page, "A rule one neuron cannot learn")
    config = Config(rule="4 + 2*x1*x2")
    fingerprint_shown(page, train(config).fingerprint())
    unfit = theory.least_squares(config).unfit
    assert unfit == pytest.approx(1 / 36)  # E[(2x₁x₂ − x₁ − x₂ + 0.5)²], on paper
    story = page.locator(".st-key-lesson_story")
    expect(story).to_contain_text(f"a variance of {number(unfit)} stays that it cannot fit")
    assert_seen(page, ".st-key-lesson_story", "the sentence", "1440x900, dark")
    why = page.get_by_text(re.compile(f"even its best layer .* leaves a variance of {re.escape(number(unfit))} it"))
    why.scroll_into_view_if_needed()
    expect(why).to_be_visible()
    page.screenshot(path=screenshots / "rules-cannot-learn.png")


def test_a_typed_rule_that_is_refused_shows_the_parsers_words(visit):
    page, ws = visit(viewport=SIZES["390x844"])
    wait_for_run(page, FIRST_LOAD_S)
    settle(page, ws)
    choose(page, "A hidden rule")
    fingerprint_shown(page, train(Config(rule=HIDDEN)).fingerprint())
    tap(page.get_by_role("combobox", name=RULE, exact=True))
    page.get_by_role("option", name="Type your own rule", exact=True).click()
    box = page.get_by_role("textbox", name="Your rule: y =")
    box.scroll_into_view_if_needed()
    box.fill("")
    bad = "1 + exp(x1)"
    box.press_sequentially(bad)
    box.press("Enter")
    with pytest.raises(RuleError) as refused:
        parse_rule(bad)
    error = page.locator(".st-key-lesson_task [data-testid='stAlert']")
    expect(error).to_contain_text(str(refused.value))
    assert_reachable(error, "the refusal", "390x844, light")
    fingerprint_shown(page, train(Config(rule=HIDDEN)).fingerprint())  # the last run that could train stays


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_serious_or_critical_violation_with_a_noisy_rule_chosen(visit, scheme):
    """Every box of the choice on screen (the kind, the rule, the noise), and the prediction's two target lines."""
    page, ws = visit("?rule=4%20%2B%202*x1*x2&noise=0.5", viewport=SIZES["1440x900"], color_scheme=scheme)
    wait_for_run(page, FIRST_LOAD_S)
    settle(page, ws)
    expect(page.get_by_role("spinbutton", name="Noise σ on every target", exact=True)).to_have_value("0.5")
    violations = Axe().run(page).response["violations"]
    blocking = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not blocking, [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in blocking]


# Each lesson chart's title and subtitle, the valley's optimum star and its u axis title, as the browser laid them
# out: rectangles in the viewport's pixels, and what ``document.elementFromPoint`` finds at each title line's centre.
CHART_TEXT_JS = """
(gd) => {
  const rect = (e) => { const r = e.getBoundingClientRect();
    return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width, height: r.height}; };
  const chart = rect(gd);
  const s = gd._fullLayout._size;  // the plot area, in the chart's own pixels
  const plot = {left: chart.left + s.l, right: chart.left + s.l + s.w,
                top: chart.top + s.t, bottom: chart.top + s.t + s.h};
  const title = gd.querySelector('.g-gtitle text');
  const lines = title ? [...title.querySelectorAll('tspan.line')].map(rect) : [];
  const hits = lines.map((r) => {
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return !!hit && gd.contains(hit);
  });
  const traces = [...gd.querySelectorAll('.scatterlayer g.trace')];
  const star = traces.find((g) => g.__data__ && g.__data__[0] && g.__data__[0].trace.name === 'optimum');
  const point = star ? star.querySelector('path.point') : null;
  const xtitle = gd.querySelector('.g-xtitle text');
  const ticks = [...gd.querySelectorAll('.xtick text, .ytick text')].filter((t) => t.textContent).map(rect);
  return {chart, plot, title: title ? rect(title) : null, text: title ? title.textContent : '', lines, hits,
          star: point ? rect(point) : null, xtitle: xtitle ? rect(xtitle) : null, ticks};
}
"""
LESSON_CHARTS = {
    "network": ".st-key-lesson_network",
    **{n: f".st-key-chart_{n}" for n in ("loss", "prediction", "valley")},
}
ALL_SIZES = {
    "1280x720": {"width": 1280, "height": 720},
    "1440x900": SIZES["1440x900"],
    "1920x1080": {"width": 1920, "height": 1080},
    "390x844": SIZES["390x844"],
}


def _within(inner: dict, outer: dict, slack: float = 0.5) -> bool:
    return (
        inner["left"] >= outer["left"] - slack
        and inner["right"] <= outer["right"] + slack
        and inner["top"] >= outer["top"] - slack
        and inner["bottom"] <= outer["bottom"] + slack
    )


def _overlap(a: dict, b: dict) -> bool:
    return a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]


@pytest.mark.parametrize("size", list(ALL_SIZES))
def test_every_lesson_charts_subtitle_star_and_axis_title_are_whole_for_a_product_rule(visit, screenshots, size):
    """A fresh reader saw "dotted grey: the optim…" and "dotted: one neu…" cut at 1280×720, the valley's
    "u = Σw/√10" on its 0 tick and the optimum's star cut at the valley's top. With every reference drawn (a
    product rule with noise: the best weights, one neuron's best, the floor), each title line lies inside its
    chart and nothing covers it; the star's marker lies inside the valley's plot area; no axis title overlaps a
    tick label (u is named in the subtitle)."""
    page, ws = visit("?rule=4%20%2B%202*x1*x2&noise=0.5", viewport=ALL_SIZES[size])
    wait_for_run(page, FIRST_LOAD_S)
    settle(page, ws)
    for name, key in LESSON_CHARTS.items():
        where = f"{name}, {size}"
        chart = page.locator(f"{key} .js-plotly-plot")
        chart.scroll_into_view_if_needed()
        page.wait_for_timeout(300)  # a phone's strip scrolls sideways to the chart
        if size == "390x844" and name != "network":
            page.locator(f".lesson-tabs [data-chart='{name}']").click()
            page.wait_for_timeout(800)
        got = chart.evaluate(CHART_TEXT_JS)
        assert got["title"] is not None and len(got["lines"]) >= 2, (where, got["text"])
        for line, on_top in zip(got["lines"], got["hits"], strict=True):
            assert _within(line, got["chart"]), f"a title line is cut ({where}): {got['text']!r} {line} {got['chart']}"
            assert on_top, f"a title line is covered ({where}): {got['text']!r}"
        if name == "valley":
            assert got["star"] is not None, where
            star = got["star"]
            assert _within(star, got["plot"], slack=1), f"the star leaves the plot area ({where}): {star} {got['plot']}"
            clashes = [t for t in got["ticks"] if got["xtitle"] and _overlap(got["xtitle"], t)]
            assert not clashes, f"the u axis title overlaps tick labels ({where}): {got['xtitle']} {clashes}"
        assert "u = Σw/√10" in got["text"] or name != "valley"
    page.screenshot(path=screenshots / f"rules-subtitles-{size}.png")


def test_the_screen_readers_voice_describes_the_run_now_shown_after_the_rule_changes(visit):
    """The live region kept the replaced run's sentence after a switch of rule; it must say the new run's first
    frame (the page's caption for it: ``lucky5.narration`` on the new run, trained here)."""
    from lucky5.figures.frames import frame_steps
    from lucky5.narration import narrate

    page, ws = visit(viewport=SIZES["1440x900"])
    wait_for_run(page, FIRST_LOAD_S)
    settle(page, ws)
    choose(page, "A hidden rule")
    fingerprint_shown(page, train(Config(rule=HIDDEN)).fingerprint())
    page.wait_for_function("() => !!window.__lucky5Lesson", timeout=30_000)
    play = page.locator('.st-key-lesson [data-lesson="play"]')
    play.click()
    page.wait_for_timeout(1_500)
    play.click()  # pause: the voice says where it stopped
    live = page.locator(".st-key-lesson .lesson-live")
    expect(live).to_have_text(re.compile(r"^Epoch [\d,]+ of 200\. "), timeout=10_000)
    before = live.text_content()
    choose(page, "A rule one neuron cannot learn")
    product = train(Config(rule="4 + 2*x1*x2"))
    fingerprint_shown(page, product.fingerprint())
    said = f"Epoch 0 of 200. {narrate(product, frame_steps(product.steps)).captions[0]}"
    assert said != before
    expect(live).to_have_text(said, timeout=10_000)


@pytest.mark.parametrize("size", list(SIZES))
def test_a_rule_typed_into_the_rule_box_and_entered_trains_or_is_refused_beside_it(visit, size):
    """Typing into the first screen's "The rule" box and pressing Enter is a rule typed: a valid one trains
    (the fingerprint of ``train`` on it), an invalid one shows the parser's words and keeps the last rule."""
    page, ws = visit(viewport=SIZES[size], color_scheme="dark")
    wait_for_run(page, FIRST_LOAD_S)
    settle(page, ws)
    choose(page, "A hidden rule")
    fingerprint_shown(page, train(Config(rule=HIDDEN)).fingerprint())
    typed = "4 + 2*x1*x2 + x3"
    box = page.get_by_role("combobox", name=RULE, exact=True)
    tap(box)
    page.keyboard.type(typed)
    page.keyboard.press("Enter")
    fingerprint_shown(page, train(Config(rule=typed)).fingerprint())
    bad = "blah blah"
    tap(page.get_by_role("combobox", name=RULE, exact=True))
    page.keyboard.type(bad)
    page.keyboard.press("Enter")
    with pytest.raises(RuleError) as refused:
        parse_rule(bad)
    error = page.locator(".st-key-lesson_task [data-testid='stAlert']")
    expect(error).to_contain_text(str(refused.value))
    expect(error).to_contain_text(f"y = {Config(rule=typed).rule}")  # the rule kept (as Config writes it), said so
    assert_reachable(error, "the refusal", f"{size}, dark")
    fingerprint_shown(page, train(Config(rule=typed)).fingerprint())
