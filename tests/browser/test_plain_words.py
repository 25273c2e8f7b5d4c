"""Plain words in a real browser: the lucky number as set in the title and the intro, the run's story and the
meaning of every word of the first screen one click away, and keys that raise no error in the console.

Oracles: the query's own number (42), ``lucky5.story.story`` of the run trained here (the story the offline file
tells), ``lucky5.glossary`` for the words' meanings. Geometry is Chromium's, at 1440×900 in both colour schemes;
screenshots go to artifacts/screenshots/ (words-*.png).
"""

from __future__ import annotations

import re

import pytest
import torch
from playwright.sync_api import expect

from bench.browser import LESSON_BUTTONS, PLAY, geometry, page_fingerprint, settle, tap, wait_for_run
from lucky5 import Config, glossary, story, train
from lucky5.inputs import default_input

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1440, "height": 900}
FIRST_LOAD_S = 180  # a fresh server compresses Streamlit's scripts on their first request, and trains
TITLE = ".st-key-lesson_title h1"
INTRO = ".st-key-lesson_story"
WORDS = ".st-key-words_lesson summary"
WORDS_BODY = '.st-key-words_lesson [data-testid="stExpanderDetails"]'


def ours(stack: str | None) -> bool:
    """An uncaught error to count: any but "reading 'length' of undefined" thrown in Streamlit's own chart
    component (its top frames are in Streamlit's PlotlyChart bundle). That one comes, now and then, from Streamlit
    redrawing a chart while Plotly still holds the old one; the reader sees nothing of it."""
    text = stack or ""
    frames = [line for line in text.splitlines() if line.strip().startswith("at ")]
    upstream = "reading 'length'" in text and bool(frames) and "/static/js/PlotlyChart." in frames[0]
    return not upstream


def open_page(visit, query: str = "", **options):
    page, ws = visit(query, viewport=LAPTOP, **options)
    errors: list[str] = []  # the console's errors, uncaught exceptions and promise rejections included
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}\n{e.stack}") if ours(e.stack) else None)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    wait_for_run(page, FIRST_LOAD_S)
    settle(page, ws)
    return page, errors


def assert_seen(page, selector: str, what: str) -> None:
    box = geometry(page, selector)
    assert box is not None, f"{what} is missing"
    assert box["inside"], f"{what} is not inside the viewport: {box}"
    assert box["onTop"], f"{what} is covered at its centre by {box['hit']}"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_title_and_the_intro_say_the_lucky_number_as_set(visit, screenshots, scheme):
    page, errors = open_page(visit, "?target=42", color_scheme=scheme)
    expect(page.locator(TITLE)).to_have_text("lucky5: a network learns the number 42")
    intro = page.locator(INTRO).inner_text()
    assert "b = 42" in intro, intro
    assert_seen(page, TITLE, "the title")
    assert_seen(page, INTRO, "the intro")
    body = page.locator('[data-testid="stMain"]').inner_text()
    for five in ("the number 5", "b = 5", "exactly 5", "lucky number 5"):
        assert five not in body, five
    page.screenshot(path=screenshots / f"words-target42-{scheme}.png")
    assert not errors, errors


def test_the_first_screen_tells_the_runs_story_and_explains_its_words(visit, screenshots):
    page, errors = open_page(visit)
    history = train(Config())
    told = story.story(history, torch.tensor(default_input(history.config.seed), dtype=torch.float64))

    story_title = page.locator(".st-key-run_story summary")
    expect(story_title).to_have_count(1)
    assert_seen(page, ".st-key-run_story summary", "the story's title")
    details = page.locator(".st-key-lesson details[open]")
    expect(details).to_have_count(0)
    closed = " ".join(page.locator(".st-key-run_story").inner_text().split())
    assert closed.endswith("This run's story, start to end") and told[0][:40] not in closed, closed  # title alone
    story_title.focus()  # opened from the keyboard, as a reader who tabs to it: Space opens it, never plays
    page.keyboard.press("Space")
    expect(details).to_have_count(1)
    expect(page.locator(LESSON_BUTTONS, has_text=PLAY)).to_have_count(1)  # not "Pause": the animation stays still
    expect(details).to_contain_text(" ".join(told[-1].split())[:60], timeout=30_000)  # written once opened
    shown = " ".join(details.inner_text().split())
    for paragraph in told:  # the offline file's story, word for word, to its last word
        assert " ".join(paragraph.split()) in shown, paragraph
    page.screenshot(path=screenshots / "words-story-1440x900.png")

    page.locator(WORDS).first.scroll_into_view_if_needed()  # below the open story, as a reader scrolls to it
    assert_seen(page, WORDS, "the first screen's Words")
    page.locator(WORDS).first.click()
    panel = page.locator(WORDS_BODY)
    expect(panel.locator("li").first).to_be_visible(timeout=30_000)  # the meanings, written once it is opened
    listed = " ".join(panel.inner_text().split())
    for name in ("expected loss", "epoch", "valley", "Σw", "Σ wᵢxᵢ + b", "contour lines ×10 apart"):
        term = glossary.terms_in([name])[0]
        assert " ".join(term.meaning.split()) in listed, name
    box = panel.bounding_box()
    assert box is not None and box["y"] >= 0 and box["x"] >= 0 and box["x"] + box["width"] <= LAPTOP["width"]
    page.screenshot(path=screenshots / "words-panel-1440x900.png")
    assert not errors, errors


def test_space_and_arrows_on_the_page_raise_no_console_error(visit):
    page, errors = open_page(visit)
    page.locator(TITLE).click()  # focus on the page itself, as a reader who clicked its text
    for key in ("Space", "ArrowRight", "ArrowLeft", "Space", "ArrowLeft"):
        page.keyboard.press(key)
        page.wait_for_timeout(150)
    play = page.locator('.st-key-lesson [data-lesson="play"]')
    play.focus()
    page.keyboard.press("Space")  # play
    page.wait_for_timeout(600)
    page.keyboard.press("Space")  # pause: each pause used to leave an uncaught "undefined"
    slider = page.locator(".st-key-lesson .lesson-slider")
    slider.focus()
    for key in ("ArrowRight", "ArrowRight", "ArrowLeft"):
        page.keyboard.press(key)
        page.wait_for_timeout(150)
    page.wait_for_timeout(800)
    assert re.fullmatch(r"Epoch \d+ of 200", page.locator(".st-key-lesson .lesson-counter").inner_text())
    assert not errors, errors


SIDEBAR_ALERT = '[data-testid="stSidebar"] [data-testid="stAlert"]'
STABILITY_HELP = '.st-key-stability button[aria-label^="Help"]'


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_letters_in_the_learning_rate_box_are_refused_in_words_and_the_run_stays(visit, screenshots, scheme):
    """A letter typed into the Learning rate box used to train lr 0.005 without a word (the emptied box arrived as
    0, which the ladder's − read as a step down)."""
    page, errors = open_page(visit, color_scheme=scheme)
    before = page_fingerprint(page)
    box = page.get_by_role("spinbutton", name="Learning rate")
    tap(box)
    box.press("Control+a")
    box.press_sequentially("abc")
    box.press("Enter")
    said = page.locator(SIDEBAR_ALERT).filter(has_text="Learning rate takes a number")
    expect(said).to_be_visible(timeout=30_000)
    wait_for_run(page)
    assert_seen(page, SIDEBAR_ALERT, "the learning rate's refusal")
    expect(box).to_have_value("0.01")
    assert page_fingerprint(page) == before and "lr=" not in page.url  # the blog post's run, still
    page.screenshot(path=screenshots / f"words-lr-letters-{scheme}.png")
    box.fill("0.02")  # a number trains at once, and the refusal goes
    box.press("Enter")
    expect(said).to_have_count(0, timeout=30_000)
    expect(page).to_have_url(re.compile(r"lr=0\.02"), timeout=30_000)
    assert not errors, errors


def test_the_stability_line_has_its_help_icon_with_the_plain_meaning(visit, screenshots):
    page, errors = open_page(visit)
    assert_seen(page, STABILITY_HELP, "the stability line's (?)")
    page.locator(STABILITY_HELP).hover()
    tip = page.locator('[data-testid="stTooltipContent"]')
    expect(tip).to_be_visible(timeout=10_000)
    assert " ".join(glossary.meaning("stability limit").split()) in " ".join(tip.inner_text().split())
    page.screenshot(path=screenshots / "words-stability-help-1440x900.png")
    assert not errors, errors


def test_a_huge_lucky_numbers_ticks_are_whole_and_written_like_the_title(visit, screenshots):
    """With ?target=1e12 the prediction's and the valley's tick labels lost their first digits at the chart's left
    edge ("0.8×10¹²" read ".8×10¹²"), and a subtitle wrote 1e+12 beside a title's 1×10¹²."""
    page, errors = open_page(visit, "?target=1e12")
    expect(page.locator(TITLE)).to_have_text("lucky5: a network learns the number 1×10¹²")
    for name in ("prediction", "valley"):
        chart = page.locator(f".st-key-chart_{name} .js-plotly-plot").first
        frame = chart.bounding_box()
        assert frame is not None, name
        ticks = chart.locator(".ytick text")
        assert ticks.count() >= 2, name
        for i in range(ticks.count()):
            box = ticks.nth(i).bounding_box()
            assert box is not None and box["x"] >= frame["x"] - 0.5, (name, ticks.nth(i).text_content(), box, frame)
    body = page.locator(".st-key-lesson").inner_text()
    assert "e+12" not in body and "1×10¹²" in body
    page.screenshot(path=screenshots / "words-target-1e12-1440x900.png")
    assert not errors, errors


PHONE = {"width": 390, "height": 844}
# Boxes (x, y, width, height) of what the valley writes under its plot and of the run's dot, in CSS px.
VALLEY_BOXES_JS = """
() => {
  const gd = document.querySelector('.st-key-chart_valley .js-plotly-plot');
  const box = (e) => {
    const r = e.getBoundingClientRect();
    return {text: e.textContent, x: r.x, y: r.y, w: r.width, h: r.height};
  };
  const name = [...gd.querySelectorAll('.annotation')].find(a => a.textContent.includes('Σw/√10'));
  const dots = [...gd.querySelectorAll('.scatterlayer .trace')].pop().querySelectorAll('path.point');
  return {name: name && box(name), ticks: [...gd.querySelectorAll('.xtick text, .ytick text')].map(box),
          dots: [...dots].map(box)};
}
"""


def overlap(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]
    )


@pytest.mark.parametrize(("size", "scheme"), [("1440x900", "light"), ("390x844", "dark")])
def test_the_drawing_and_the_cards_say_their_moment_and_nothing_overlaps(visit, screenshots, size, scheme):
    """A newcomer saw the drawing at epoch 0 beside cards of the run's end with nothing saying so, the valley's axis
    name on its start dot (a phone), and the test table's toolbar over the "+" of its number box."""
    page, errors = open_page(visit, color_scheme=scheme)
    page.set_viewport_size(LAPTOP if size == "1440x900" else PHONE)
    network = page.locator(".st-key-lesson_network .js-plotly-plot")
    expect(network).to_contain_text("epoch 0 of 200")
    expect(page.get_by_text("The run's end, after 200 epochs")).to_have_count(1)

    tab = page.locator(".st-key-lesson_tabs button", has_text="Valley")
    if tab.is_visible():  # a phone shows one chart at a time
        tab.click()
    page.locator(".st-key-chart_valley").scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    boxes = page.evaluate(VALLEY_BOXES_JS)
    assert boxes["dots"], boxes
    for other in boxes["ticks"] + boxes["dots"] if boxes["name"] is not None else []:  # u named under its axis
        assert not overlap(boxes["name"], other), (boxes["name"], other)
    for tick in boxes["ticks"]:  # the run's start dot stays clear of the axes' numbers
        assert not any(overlap(dot, tick) for dot in boxes["dots"]), (tick, boxes["dots"])
    page.screenshot(path=screenshots / f"words-valley-{size}-{scheme}.png")

    box = page.locator(".st-key-n_tests")
    box.scroll_into_view_if_needed()
    table = page.locator('[data-testid="stDataFrame"]').filter(has_text="squared error").first
    table.hover()  # the toolbar shows while the pointer is over the table
    plus = box.locator('[data-testid="stNumberInputStepUp"]')
    toolbar = page.locator('[data-testid="stElementToolbar"]').first
    expect(toolbar).to_be_visible()
    p, t = plus.bounding_box(), toolbar.bounding_box()
    assert p is not None and t is not None
    assert not overlap(
        {"x": p["x"], "y": p["y"], "w": p["width"], "h": p["height"]},
        {"x": t["x"], "y": t["y"], "w": t["width"], "h": t["height"]},
    ), (p, t)
    assert_seen(page, '.st-key-n_tests [data-testid="stNumberInputStepUp"]', "the test box's +")
    page.screenshot(path=screenshots / f"words-test-box-{size}-{scheme}.png")
    plus.click()  # and it works: 11 inputs
    expect(box.locator("input")).to_have_value("11", timeout=30_000)
    assert not errors, errors


# What the first screen's Words panel explains, each a place a reader reads a term: the caption under the drawing
# (0.5·Σw + b), the drawing (Σ wᵢxᵢ + b, |weight|) and, on a laptop, the valley chart (u = Σw/√10, its marks).
EXPLAINED = {
    "the caption": ".st-key-lesson .lesson-caption",
    "the network drawing": ".st-key-lesson_network .js-plotly-plot",
    "the valley chart": ".st-key-chart_valley .js-plotly-plot",
}


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", ["1440x900", "390x844"])
def test_the_words_panel_open_covers_none_of_the_terms_it_explains(visit, screenshots, size, scheme):
    """A reader opened "Words" and it floated over the charts whose words it explained (a popover). It is a panel in
    the page's flow now: open, every text it explains is still what a person sees at its centre."""
    page, errors = open_page(visit, color_scheme=scheme)
    page.set_viewport_size(LAPTOP if size == "1440x900" else PHONE)
    words = page.locator(WORDS).first
    words.scroll_into_view_if_needed()
    assert_seen(page, WORDS, "the Words panel's title")
    words.click()
    panel = page.locator(WORDS_BODY)
    expect(panel.locator("li").first).to_be_visible(timeout=30_000)  # the meanings, written once it is opened
    listed = " ".join(panel.inner_text().split())
    assert " ".join(glossary.meaning("Σ wᵢxᵢ + b").split()) in listed
    first = panel.locator("li").first
    first.scroll_into_view_if_needed()
    box = first.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"], box
    page.screenshot(path=screenshots / f"words-panel-open-{size}-{scheme}.png")
    for what, selector in EXPLAINED.items():
        if size == "390x844" and "valley" in what:
            continue  # a phone shows one chart at a time, the loss first
        page.locator(selector).first.scroll_into_view_if_needed()
        page.wait_for_timeout(200)
        box = geometry(page, selector)
        assert box is not None and box["onTop"], f"{what} is covered at its centre by {box and box['hit']}"
    expect(panel).to_be_visible()  # still open: reading the terms did not close their meanings
    assert not errors, errors
