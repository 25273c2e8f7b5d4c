"""Predict, reveal, vote again, in a real browser: a presenter's wall and three 390×844 light phones vote on
every stage's question before they train.

One phone changes its vote, one reloads in between and still shows its vote; the wall says "3 voted" and never
the distribution until Reveal, then the counts (read from the chart Chromium drew, against the votes this test
cast: the oracle); in the first stage a second vote is revealed beside the first; a vote after the close is
refused with the server's message. Geometry is Chromium's (bounding boxes and ``document.elementFromPoint``),
clicks are real, phones in the light and the dark colour scheme; axe-core checks the open question on a phone and
the reveal on the wall, in both schemes. Screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]  # ships no type hints
from playwright.sync_api import expect

from bench.browser import DESKTOP, geometry, move_to_stage
from lucky5.figures.wall import WALL_FONT
from lucky5.room import QUESTIONS, STAGE_NAMES, STAGES
from lucky5.room.votes import PREDICT_FIRST, VOTE_FIRST
from tests.browser.test_light_phone import HITS_JS, LOAD_MS, PHONE_390, WALL_MS, open_phone, train_on

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCHEMES = ("light", "dark", "light")
BLOCKING = ("serious", "critical")  # axe's impacts that fail the test; the others are advice
PANEL = ".st-key-vote_panel"
CLOSED = "Voting is closed: this change was not counted."  # the late phone had voted before
# Per stage, each phone's vote as choice ids; the first phone's first vote is changed to its second.
VOTES = {
    "post": (["lt1"], ["1-2"], ["ge4.9"]),
    "patience": (["no"], ["yes"], ["yes"]),
    "lr": (["0.4"], ["0.25", "0.3", "0.4"], ["none"]),
}
CHANGED = {"post": ["1-2"], "patience": ["yes"], "lr": ["0.3", "0.4"]}
AGAIN = (["1-2"], ["1-2"], ["2-3"])  # the second vote of the first stage
PHONE_LRS = (0.1, 0.25, 0.4)

VOTE_BARS_JS = """
() => {
  const plot = document.querySelector('.st-key-vote_panel .js-plotly-plot');
  if (!plot || !plot._fullData) return null;
  return plot._fullData.filter(t => t.type === 'bar' && t.xaxis === 'x').map(t => [t.name, Array.from(t.x)]);
}
"""
# The wall's size when each stage's votes are revealed: the chart must come whole into view at both.
REVEAL_AT = ({"width": 1280, "height": 720}, {"width": 1920, "height": 1080}, {"width": 1280, "height": 720})
REVEAL_FONTS_JS = """
() => {
  const plot = document.querySelector('.st-key-vote_reveal .js-plotly-plot');
  const sizes = selector => [...plot.querySelectorAll(selector)].map(e => parseFloat(getComputedStyle(e).fontSize));
  return {ticks: sizes('.xtick text, .ytick text'), legend: sizes('.legendtext')};
}
"""
VOTE_ROWS_JS = """
() => [...document.querySelectorAll('.st-key-vote_panel .js-plotly-plot .yaxislayer-above .ytick text')]
  .map(t => [t.getBoundingClientRect().top, t.textContent]).sort((a, b) => a[0] - b[0]).map(r => r[1])
"""


def label(stage: str, choice: str) -> str:
    return next(c.text for c in QUESTIONS[stage].choices if c.id == choice)


def assert_reachable(phone, selector: str) -> None:
    """``selector`` inside the 390×844 viewport and the element at its centre (a real tap would hit it)."""
    phone.locator(selector).first.evaluate("e => e.scrollIntoView({block: 'center'})")  # as a thumb scrolls to it
    phone.wait_for_timeout(100)
    box = phone.evaluate(HITS_JS, selector)
    assert box["inside"] and box["hit"], f"{selector}: {box!r}"
    assert box["width"] <= PHONE_390["width"], box


def assert_accessible(page, what: str) -> None:
    """axe-core finds no serious or critical violation on ``page`` as it is now."""
    violations = Axe().run(page).response["violations"]
    blocking = [f"{v['id']} ({v['impact']}, {len(v['nodes'])} nodes)" for v in violations if v["impact"] in BLOCKING]
    assert not blocking, f"axe on {what}: {blocking}"


# Each choice as the person sees it: its value, ticked, disabled, and the mark drawn after it ("none" or "✓ sent").
MARKS_JS = """
() => [...document.querySelectorAll('#ask-choices label')].map(l => {
  const i = l.querySelector('input');
  return {value: i.value, checked: i.checked, disabled: i.disabled,
          sent: getComputedStyle(l.querySelector('span'), '::after').content.includes('sent'),
          border: getComputedStyle(l.querySelector('span')).borderTopStyle};
})
"""


def sent_marks(phone) -> list[str]:
    """The choices that carry the "✓ sent" mark."""
    return [m["value"] for m in phone.evaluate(MARKS_JS) if m["sent"]]


def assert_closed(phone, stage: str, counted: list[str]) -> None:
    """Voting is closed on ``phone``: every choice and Send disabled, the counted vote ticked and marked sent."""
    expect(phone.locator("#send-vote")).to_be_disabled(timeout=WALL_MS)
    expect(phone.locator("#send-vote")).to_have_text("Voting closed")
    marks = phone.evaluate(MARKS_JS)
    assert all(m["disabled"] for m in marks), marks
    assert sorted(m["value"] for m in marks if m["checked"]) == sorted(counted), marks
    assert sorted(m["value"] for m in marks if m["sent"]) == sorted(counted), marks


def vote(phone, stage: str, choices: list[str]) -> None:
    """Tap each choice that is not as wanted (a checked box not in ``choices`` too), then Send; wait for the echo.
    Before Send the taps are a draft: the status says "not sent yet" and no new pick carries the "sent" mark."""
    before = sent_marks(phone)
    for choice in QUESTIONS[stage].ids:
        option = phone.locator("#ask-choices label", has_text=re.compile(f"^{re.escape(label(stage, choice))}$"))
        if option.locator("input").is_checked() != (choice in choices):
            option.click()
    expect(phone.locator("#ask-status")).to_contain_text("is not sent yet")
    assert sent_marks(phone) == before  # tapped is not sent: the mark stays on the counted vote
    drafts = [m for m in phone.evaluate(MARKS_JS) if m["checked"] and not m["sent"]]
    assert drafts and all(m["border"] == "dashed" for m in drafts), drafts
    phone.locator("#send-vote").click()
    said = "Your vote: " + ", ".join(label(stage, c) for c in QUESTIONS[stage].ids if c in choices) + "."
    again = re.escape("Second vote, after a discussion. ")
    expect(phone.locator("#ask-status")).to_have_text(re.compile(f"^({again})?{re.escape(said)}"), timeout=WALL_MS)
    assert sorted(sent_marks(phone)) == sorted(choices)
    expect(phone.locator("#send-vote")).to_have_text("Vote sent")


def tally(stage: str, votes) -> list[int]:
    return [sum(c in v for v in votes) for c in QUESTIONS[stage].ids]


def wall_bars(wall) -> dict[str, list[int]]:
    bars = wall.evaluate(VOTE_BARS_JS)
    assert bars is not None, "no chart in the vote panel"
    return {name: [int(y) for y in ys] for name, ys in bars}


def press(wall, name: str) -> None:
    wall.get_by_role("button", name=name, exact=True).click()


SCROLL_PAST_CODE_JS = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  main.scrollBy({top: document.querySelector('.lucky5-room-code').getBoundingClientRect().bottom + 10});
}"""


def assert_back_at_the_top(wall) -> None:
    """A new stage opens at the wall's top: the code and the QR code in view and on top (bounded wait)."""
    boxes: list = []
    for _ in range(40):
        boxes = [geometry(wall, s) for s in (".lucky5-room-code", '[data-testid="stImage"] img')]
        if all(b is not None and b["inside"] and b["onTop"] for b in boxes):
            return
        wall.wait_for_timeout(250)
    pytest.fail(f"the new stage did not open at the wall's top: {boxes}")


def double_press(wall, name: str) -> None:
    """Two real clicks at the centre of button ``name``, the second after the page redrew from the first."""
    box = wall.get_by_role("button", name=name, exact=True).bounding_box()
    assert box is not None, name
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    wall.mouse.click(x, y)
    wall.wait_for_timeout(600)
    wall.mouse.click(x, y)
    wall.wait_for_timeout(600)


def assert_reveal_in_view(wall, size: dict) -> None:
    """After Reveal the chart comes whole into the wall's view (``size``), on top at its centre, with its tick
    labels and legend at the wall's projector size."""
    box: dict | None = None
    for _ in range(40):  # bounded: Plotly draws, then the page scrolls it into view
        box = geometry(wall, ".st-key-vote_reveal .js-plotly-plot")
        if box is not None and box["inside"] and box["onTop"]:
            break
        wall.wait_for_timeout(250)
    assert box is not None and box["inside"] and box["onTop"], (size, box)
    assert (box["vw"], box["vh"]) == (size["width"], size["height"]) and box["height"] >= 200, box
    fonts = wall.evaluate(REVEAL_FONTS_JS)
    assert fonts["ticks"] and fonts["legend"], fonts
    assert min(fonts["ticks"] + fonts["legend"]) >= WALL_FONT, fonts


def test_three_phones_predict_then_the_wall_reveals_and_asks_again(visit, chromium, page_server, screenshots):
    wall, _ = visit("?room=new", DESKTOP)
    code_box = wall.locator(".lucky5-room-code")
    expect(code_box).to_have_text(re.compile(r"^[A-Z2-9]{6}$"), timeout=LOAD_MS)
    code = code_box.inner_text()
    phones = [open_phone(chromium, page_server.url + f"j/{code}", scheme) for scheme in SCHEMES]
    for phone, _ in phones:
        expect(phone.locator("#seed")).to_have_text(re.compile(r"^\d+$"), timeout=WALL_MS)
    panel = wall.locator(PANEL)
    for i, stage in enumerate(STAGE_NAMES):
        if i:
            # As the reveal left it: scrolled down to its chart, the code above the screen, the stage buttons on it
            wall.evaluate(SCROLL_PAST_CODE_JS)
            move_to_stage(wall, i + 1, STAGES[stage].title)  # runs on the wall: it asks, and is told yes
            assert_back_at_the_top(wall)
        question = QUESTIONS[stage]
        expect(panel.get_by_text("Voting has not opened")).to_be_visible(timeout=WALL_MS)
        for phone, _ in phones:  # the question shows before Train, its vote not open yet
            expect(phone.locator("#ask-text")).to_have_text(question.text, timeout=WALL_MS)
            expect(phone.locator("#ask-status")).to_have_text(re.compile("the presenter opens the vote"))
            expect(phone.locator("#train")).to_be_disabled()  # no outcome on the wall before anyone predicts
            expect(phone.locator("#status")).to_have_text(PREDICT_FIRST)
        press(wall, "Open the vote")
        for phone, _ in phones:
            expect(phone.locator("#ask-status")).to_have_text(re.compile("^Voting is open"), timeout=WALL_MS)
            expect(phone.locator("#train")).to_be_disabled()  # predict first, then train
            expect(phone.locator("#status")).to_have_text(VOTE_FIRST)
            for selector in ("#ask-text", "#ask-choices label", "#ask-choices label:last-child", "#send-vote"):
                assert_reachable(phone, selector)
        if i == 0:
            for (phone, _), name in zip(phones[:2], ("light", "dark"), strict=True):
                phone.screenshot(path=screenshots / f"room-vote-phone-390-{name}.png")
                assert_accessible(phone, f"a {name} phone's open question")
        for (phone, _), choices in zip(phones, VOTES[stage], strict=True):
            vote(phone, stage, choices)
        expect(panel.get_by_text(re.compile(r"^1 voted$|^2 voted$|^3 voted$"))).to_be_visible(timeout=WALL_MS)
        changer, _ = phones[0]
        vote(changer, stage, CHANGED[stage])  # a changed vote is still one vote
        reloaded, _ = phones[1]
        reloaded.reload()  # a dropped tab: the same participant, its vote shown again and still counted
        mine = ", ".join(label(stage, c) for c in VOTES[stage][1])
        expect(reloaded.locator("#ask-status")).to_have_text(
            re.compile(f"^Your vote: {re.escape(mine)}\\."), timeout=WALL_MS
        )
        assert sorted(
            reloaded.locator("#ask-choices input:checked").evaluate_all("es => es.map(e => e.value)")
        ) == sorted(VOTES[stage][1])
        expect(panel.get_by_text("3 voted", exact=True)).to_be_visible(timeout=WALL_MS)
        assert panel.locator(".js-plotly-plot").count() == 0  # before Reveal: how many, never what
        if i == 0:
            wall.screenshot(path=screenshots / "room-vote-wall-before-reveal-light.png")
        late, _ = phones[2]
        # A phone that has not heard of the close yet (its event stream is cut) sends a change after it.
        late.route("**/events", lambda route: route.abort())
        late.reload()
        expect(late.locator("#send-vote")).to_have_text("Vote sent", timeout=WALL_MS)
        heard, _ = phones[0]
        draft = next(c for c in QUESTIONS[stage].ids if c not in CHANGED[stage])  # tapped, never sent
        heard.locator("#ask-choices label", has_text=re.compile(f"^{re.escape(label(stage, draft))}$")).click()
        expect(heard.locator("#ask-status")).to_contain_text("is not sent yet")
        if i == 0:  # a stressed speaker's double press: the second lands on the same, now disabled, button
            double_press(wall, "Close voting")
        else:
            press(wall, "Close voting")
        expect(heard.locator("#ask-status")).to_have_text(re.compile("Voting is closed"), timeout=WALL_MS)
        assert_closed(heard, stage, CHANGED[stage])  # a tapped-but-unsent pick gives way to the counted vote
        if i == 0:
            heard.screenshot(path=screenshots / "room-vote-phone-390-closed-light.png")
        other = next(c for c in QUESTIONS[stage].ids if c not in VOTES[stage][2])
        late.locator("#ask-choices label", has_text=re.compile(f"^{re.escape(label(stage, other))}$")).click()
        expect(late.locator("#ask-status")).to_contain_text("is not sent yet")
        if i == 0:
            late.screenshot(path=screenshots / "room-vote-phone-390-draft-light.png")
        late.locator("#send-vote").click()
        stays = ", ".join(label(stage, c) for c in QUESTIONS[stage].ids if c in VOTES[stage][2])
        expect(late.locator("#ask-status")).to_have_text(f"{CLOSED} Your vote stays: {stays}.", timeout=WALL_MS)
        assert_closed(late, stage, VOTES[stage][2])  # the choices show the vote that counts, not the late one
        late.unroute("**/events")
        expect(late.locator("#ask-status")).to_have_text(re.compile("^Your vote: .*Voting is closed"), timeout=WALL_MS)
        expect(panel.get_by_text("3 voted · voting closed", exact=True)).to_be_visible(timeout=WALL_MS)
        cast = [CHANGED[stage], VOTES[stage][1], VOTES[stage][2]]
        for (phone, _), lr in zip(phones, PHONE_LRS, strict=True):
            train_on(phone, stage, lr if STAGES[stage].lrs else None)
        expect(wall.get_by_text(re.compile(r"^3 joined · 3 trained in this stage"))).to_be_visible(timeout=WALL_MS)
        if i == 0:  # ask again: a second vote, revealed beside the first
            press(wall, "Ask again")
            for (phone, _), choices in zip(phones, AGAIN, strict=True):
                expect(phone.locator("#ask-status")).to_have_text(
                    re.compile("^Second vote, after a discussion. Voting is open"), timeout=WALL_MS
                )
                vote(phone, stage, choices)
            expect(panel.get_by_text("3 voted", exact=True)).to_be_visible(timeout=WALL_MS)
            assert panel.locator(".js-plotly-plot").count() == 0
            expect(wall.get_by_role("button", name="Reveal the votes", exact=True)).to_be_disabled()  # close first
            press(wall, "Close voting")
            expect(panel.get_by_text("3 voted · voting closed", exact=True)).to_be_visible(timeout=WALL_MS)
        wall.set_viewport_size(REVEAL_AT[i])  # as projected: the chart must come into view by itself
        press(wall, "Reveal the votes")
        expect(panel.locator(".js-plotly-plot")).to_be_visible(timeout=LOAD_MS)  # Plotly's first chart: slow
        assert_reveal_in_view(wall, REVEAL_AT[i])
        if i < 2:
            size = f"{REVEAL_AT[i]['width']}x{REVEAL_AT[i]['height']}"
            wall.screenshot(path=screenshots / f"room-vote-wall-reveal-{size}.png")
        wall.set_viewport_size(DESKTOP)
        expected = {"first vote": tally(stage, cast)} | ({"second vote": tally(stage, AGAIN)} if i == 0 else {})
        assert wall_bars(wall) == expected
        rows = wall.evaluate(VOTE_ROWS_JS)  # as drawn, top to bottom: a row per choice, "0.01" and "none" alike
        assert [re.sub(r"[\s★]", "", r) for r in rows] == [re.sub(r"\s", "", c.text) for c in question.choices]
        expect(panel.get_by_text(re.compile(r"^Theory: the stability limit is lr ≈"))).to_be_visible()
        if i == 0:
            expect(panel.get_by_text(re.compile(r"after 200 epochs, b is 1\.7\d* ± 0\.1"))).to_be_visible()
            panel.screenshot(path=screenshots / "room-vote-wall-reveal-light.png")
            assert_accessible(wall, "the light wall's reveal")
            dark, _ = visit(f"?room={code}", DESKTOP, color_scheme="dark")
            expect(dark.locator(PANEL).locator(".js-plotly-plot")).to_be_visible(timeout=LOAD_MS)
            assert wall_bars(dark) == expected
            dark.locator(PANEL).screenshot(path=screenshots / "room-vote-wall-reveal-dark.png")
            assert_accessible(dark, "the dark wall's reveal")
            dark.context.close()
        for phone, _ in phones:
            expect(phone.locator("#ask-status")).to_have_text(re.compile("The votes are on the wall"), timeout=WALL_MS)
        for (phone, _), counted in zip(phones, AGAIN if i == 0 else cast, strict=True):  # the last vote counts
            assert_closed(phone, stage, counted)
    for scheme in ("light", "dark"):
        late_joiner(chromium, page_server.url + f"j/{code}", scheme, screenshots)
    refused = [e for e in phones[2][1] if "409 (Conflict)" in e]
    assert len(refused) == len(STAGE_NAMES)  # Chromium logs each refused late vote's status
    cut = [e for e in phones[2][1] if "ERR_FAILED" in e or "EventSource" in e]  # the cut event stream's tries
    for phone, errors in phones:
        assert not [e for e in errors if e not in refused + cut], errors
        phone.context.close()


def late_joiner(chromium, url: str, scheme: str, screenshots) -> None:
    """A phone that joins in the learning-rate stage after the reveal: the prediction and the learning rate for
    Train are told apart by their headings and their controls, and Train is reachable (scrolled to, on top)."""
    phone, errors = open_phone(chromium, url, scheme)
    expect(phone.locator("#ask legend")).to_have_text(re.compile(r"^Your prediction:\s*Which learning rates"))
    expect(phone.locator("#lrs legend")).to_have_text("Your learning rate for Train")
    expect(phone.locator("#train")).to_be_enabled(timeout=WALL_MS)
    expect(phone.locator("#send-vote")).to_be_disabled()
    style = """s => { const c = getComputedStyle(s); return [c.backgroundColor, c.borderTopStyle,
      getComputedStyle(s, '::before').content]; }"""
    rate = phone.locator("#rates input:checked + span").evaluate(style)
    choice = phone.locator("#ask-choices span").first.evaluate(style)
    assert rate != choice and "☐" in choice[2] and rate[2] in ("none", "normal"), (rate, choice)
    phone.screenshot(path=screenshots / f"room-vote-phone-390-late-lr-{scheme}.png", full_page=True)
    for selector in ("#ask-choices label:last-child", "#rates label:last-child", "#train"):
        assert_reachable(phone, selector)
    assert not errors, errors
    phone.context.close()


def test_a_skipped_question_is_not_asked(visit, chromium, page_server):
    wall, _ = visit("?room=new", DESKTOP)
    code_box = wall.locator(".lucky5-room-code")
    expect(code_box).to_have_text(re.compile(r"^[A-Z2-9]{6}$"), timeout=LOAD_MS)
    phone, errors = open_phone(chromium, page_server.url + f"j/{code_box.inner_text()}", "dark")
    expect(phone.locator("#ask-text")).to_have_text(QUESTIONS["post"].text, timeout=WALL_MS)
    expect(phone.locator("#train")).to_be_disabled()  # until the question is voted on or skipped
    press(wall, "Skip the question")
    expect(wall.locator(PANEL).get_by_text("Question skipped", exact=True)).to_be_visible(timeout=WALL_MS)
    expect(phone.locator("#ask")).to_be_hidden(timeout=WALL_MS)
    expect(phone.locator("#train")).to_be_enabled()
    expect(phone.locator("#status")).to_have_text("Press Train to train your own network.")
    assert not errors, errors
    phone.context.close()
