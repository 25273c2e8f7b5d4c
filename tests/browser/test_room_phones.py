"""A room in a real browser: a presenter's wall and three phones (390 px) go through all three stages.

What the pages hold is tested without a browser in tests/test_page_room.py; here what needs a browser: the
wall's own refresh (``st.fragment(run_every=...)`` is timed by the frontend), the address bar, phone width,
and screenshots of the wall and of a phone into artifacts/screenshots/.
"""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]  # ships no type hints
from playwright.sync_api import expect

from bench.browser import DESKTOP, PHONE, move_to_stage
from lucky5.room import STAGE_NAMES, STAGES
from lucky5.room.votes import PREDICT_FIRST
from tests.browser.test_light_phone import skip_question

pytestmark = [pytest.mark.browser, pytest.mark.slow]

EXCEPTION = '[data-testid="stException"]'
LOAD_MS = 90_000  # the first page of a fresh server imports torch and trains
STAGE_POLL_MS = 5_000  # longer than a phone's poll of the room's stage
WALL_MS = 20_000  # the wall refreshes itself every 2 s; a 20,000-epoch stage trains for a few seconds
PHONE_LRS = (0.1, 0.25, 0.4)
BLOCKING_IMPACTS = ("serious", "critical")  # axe-core impacts that fail the test, as in test_accessibility.py
PROJECTOR = {"width": 1920, "height": 1080}
CHART = '[data-testid="stPlotlyChart"]'
SCROLL_WIDTH_JS = """
() => Math.max(...[document.scrollingElement,
                   document.querySelector('[data-testid="stAppViewContainer"]'),
                   document.querySelector('[data-testid="stMain"]')]
                  .filter(Boolean).map(e => e.scrollWidth))
"""


def no_exception(page) -> None:
    boxes = page.locator(EXCEPTION)
    if boxes.count():
        pytest.fail("the page shows an exception:\n" + boxes.first.inner_text()[:2000], pytrace=False)


def train(phone, stage: str, lr: float | None) -> None:
    """Press Train until this phone shows its own result for ``stage`` (a first press may only show the new
    stage, when the presenter moved on since the phone's page was drawn). Train must have opened: the
    presenter closed the stage's vote or skipped its question."""
    title = STAGES[stage].title
    for _ in range(2):
        expect(phone.get_by_text(title, exact=True)).to_be_visible(timeout=LOAD_MS)
        if lr is not None:  # the title arrives before the radio in the same run: wait for the rate itself
            choice = phone.locator('[data-testid="stRadio"] label', has_text=re.compile(rf"^{re.escape(f'{lr:g}')}$"))
            expect(choice).to_be_visible(timeout=WALL_MS)
            choice.click()
            expect(choice.locator("input")).to_be_checked()
            phone.wait_for_timeout(500)
            expect(choice.locator("input")).to_be_checked()  # still this rate once the page has run again
        button = phone.get_by_role("button", name="Train", exact=True)
        expect(button).to_be_enabled(timeout=WALL_MS)  # the phone's timed fragment follows the presenter's skip
        button.click()
        result = phone.get_by_text(re.compile(r"^Your b is"))
        moved = phone.get_by_text(re.compile("has moved on"))
        expect(result.or_(moved).first).to_be_visible(timeout=WALL_MS)
        if result.count() and not moved.count():
            break
    expect(phone.get_by_text(re.compile(r"^Your b is"))).to_be_visible(timeout=WALL_MS)
    if lr is not None:  # the run the phone reports is the rate this phone chose
        expect(phone.get_by_text(f"At learning rate {lr:g},", exact=False)).to_be_visible()
    no_exception(phone)


def reload_keeps_the_participant(phone, wall) -> None:
    """A phone that reloads (as mobile browsers do with a tab left in the background) is the same participant:
    the same seed, its run shown again without a Train, and the wall still counts three."""
    seed = re.compile(r"Your seed is (\d+)")
    before = seed.search(phone.locator("body").inner_text())
    result = re.match(r"Your b is [^;]+;", phone.get_by_text(re.compile(r"^Your b is")).inner_text())
    assert before and result and re.search(r"[?&]me=[\w-]{22}", phone.url), phone.url
    phone.reload()
    mine = re.compile("^" + re.escape(result[0]))  # the room's median may have moved since
    expect(phone.get_by_text(re.compile(r"^Your b is"))).to_have_text(mine, timeout=LOAD_MS)
    after = seed.search(phone.locator("body").inner_text())
    assert after and after.group(1) == before.group(1)
    # Scanning the QR code again opens the bare join link in a new tab of the same browser: the same phone.
    rescan = phone.context.new_page()
    rescan.goto(phone.url.split("?")[0] + "?join=" + re.search(r"join=(\w+)", phone.url).group(1))
    expect(rescan.get_by_text(re.compile(r"^Your b is"))).to_have_text(mine, timeout=LOAD_MS)
    assert seed.search(rescan.locator("body").inner_text()).group(1) == before.group(1)
    rescan.close()
    wall.wait_for_timeout(3000)  # a refresh of the wall or more
    expect(wall.get_by_text(re.compile(r"^3 joined · 3 trained in this stage"))).to_be_visible(timeout=WALL_MS)


def test_a_presenter_and_three_phones_complete_all_three_stages(visit, screenshots):
    wall, _ = visit("?room=new", DESKTOP)
    code_box = wall.locator(".lucky5-room-code")
    expect(code_box).to_have_text(re.compile(r"^[A-Z2-9]{6}$"), timeout=LOAD_MS)
    code = code_box.inner_text()
    expect(wall).to_have_url(re.compile(rf"\?room={code}$"))  # the address bar carries the code, never the key
    expect(wall.get_by_text(re.compile(r"^0 joined"))).to_be_visible(timeout=WALL_MS)

    phones = [visit(f"?join={code}", PHONE)[0] for _ in PHONE_LRS]
    expect(wall.get_by_text(re.compile(r"^3 joined · 0 trained"))).to_be_visible(timeout=WALL_MS)
    for phone in phones:  # the stage's question first: predict, then see
        expect(phone.get_by_role("button", name="Train", exact=True)).to_be_disabled()
        expect(phone.get_by_text(PREDICT_FIRST, exact=True)).to_be_visible()

    for i, stage in enumerate(STAGE_NAMES):
        if i:
            move_to_stage(wall, i + 1, STAGES[stage].title, WALL_MS)  # runs on the wall: it asks, and is told yes
        skip_question(wall)  # no vote in this test (tests/browser/test_room_predict.py votes)
        for phone, lr in zip(phones, PHONE_LRS, strict=True):
            train(phone, stage, lr if STAGES[stage].lrs else None)
        # No reload and no click: the wall's fragment refreshes itself until it counts every phone's run.
        expect(wall.get_by_text(re.compile(r"^3 joined · 3 trained in this stage"))).to_be_visible(timeout=WALL_MS)
        no_exception(wall)
        if i == 0:
            reload_keeps_the_participant(phones[0], wall)

    # The learning-rate stage: one bar chart of settled/blew up per rate, and the count line says so.
    expect(wall.locator(CHART)).to_have_count(3)
    expect(wall.get_by_text(re.compile(r"lr 0\.4: 1 of 1"))).to_be_visible()
    wall.wait_for_timeout(1500)  # Plotly's transitions
    wall.screenshot(path=screenshots / "room-wall.png", full_page=True)
    # On a 1080p projector the hall sees how to join and the wall's first chart at once, without scrolling.
    wall.set_viewport_size(PROJECTOR)
    wall.wait_for_timeout(1500)
    qr = wall.locator(".st-key-join_light").get_by_role("img", name=re.compile("^QR code"))
    for seen in (code_box, qr, wall.locator(CHART).first):
        expect(seen).to_be_in_viewport(ratio=1)
    wall.screenshot(path=screenshots / "room-wall-1920x1080.png")

    phone = phones[-1]
    expect(phone.locator('[data-testid="stPlotlyChart"]')).to_have_count(1)
    width = phone.evaluate(SCROLL_WIDTH_JS)
    assert width <= PHONE["width"], f"the phone page is {width}px wide on a {PHONE['width']}px screen"
    phone.wait_for_timeout(1000)
    phone.screenshot(path=screenshots / "room-phone-390.png", full_page=True)

    # Both pages pass axe-core with no serious or critical violation, charts drawn.
    for shown in (wall, phone):
        violations = Axe().run(shown).response["violations"]
        blocking = [f"{v['id']} ({v['impact']})" for v in violations if v["impact"] in BLOCKING_IMPACTS]
        assert not blocking, f"axe on {shown.url}: {blocking}"

    # Back leaves the room in one press: the phone's id replaced its address, it did not add one to the history.
    other = phones[1]
    other.go_back()
    other.wait_for_timeout(STAGE_POLL_MS)
    assert "join=" not in other.url, other.url

    # A reload of the wall keeps the presenter's stage buttons (this browser kept the key) and the same room.
    wall.reload()
    expect(wall.get_by_role("button", name=f"1. {STAGES['post'].title}")).to_be_visible(timeout=LOAD_MS)
    expect(code_box).to_have_text(code)
    expect(wall).to_have_url(re.compile(rf"\?room={code}$"))
    # A wrong key in a link says so, but this browser's own key still drives the room.
    wrong = wall.context.new_page()  # another tab of the presenter's browser
    wrong.goto(wall.url.split("?")[0] + f"?room={code}&key={'A' * 32}")
    expect(wrong.get_by_text(f"That presenter link does not drive room {code}.")).to_be_visible(timeout=LOAD_MS)
    expect(wrong.get_by_role("button", name=f"1. {STAGES['post'].title}")).to_be_visible(timeout=WALL_MS)
    expect(wrong).to_have_url(re.compile(rf"\?room={code}$"))
    wrong.close()

    # The private link, on request only, brings a fresh tab back into the room and leaves its address bar.
    assert "key=" not in wall.content()
    wall.get_by_role("button", name=re.compile(r"^Show my private presenter link")).click()
    link = wall.locator('[data-testid="stCode"]', has_text="/p/").inner_text().strip()
    assert link.startswith(wall.url.split("?")[0] + "p/")  # a one-time token, no key (tests/browser/test_room_key.py)
    back, _ = visit(link.split("/", 3)[3], DESKTOP)
    expect(back.get_by_role("button", name=f"1. {STAGES['post'].title}")).to_be_visible(timeout=LOAD_MS)
    expect(back).to_have_url(re.compile(rf"\?room={code}$"))
    no_exception(back)
    back.go_back()  # the one-time link is not one Back away: the server's redirect replaced it
    back.wait_for_timeout(2000)
    assert "key=" not in back.url and "/p/" not in back.url, back.url

    # Back on the wall leaves it: ?room=new was replaced by the room's code, so no second room is started.
    wall.go_back()
    wall.wait_for_timeout(2000)
    assert "room=" not in wall.url, wall.url
