"""The light phone (``/j/CODE``) in a real browser: a presenter's wall and three 390 px phones go through all
three stages; a phone's first load on a slow network; the wall's fallback when the short link is unreachable.

The phones train in the browser (``lucky5/static/train.js``): what they show is checked against
``lucky5.train`` for the seed they show. Geometry is Chromium's (bounding boxes and
``document.elementFromPoint``), clicks and key presses are real, in the light and the dark colour scheme.
Screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

import re
import time

import pytest
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]  # ships no type hints
from playwright.sync_api import expect

from bench.browser import DESKTOP, NetworkLog
from lucky5.engine import train
from lucky5.room import STAGE_NAMES, STAGES

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LOAD_MS = 90_000  # the wall's first page of a fresh server imports torch
WALL_MS = 20_000  # the wall refreshes itself every 2 s
FOLLOW_MS = 2_000  # a phone shows the presenter's new stage within this (the event stream: within about 0.5 s)
PHONE_390 = {"width": 390, "height": 844}
PHONE_LRS = (0.1, 0.25, 0.4)
SCHEMES = ("light", "dark", "light")
BLOCKING_IMPACTS = ("serious", "critical")
FIRST_LOAD_BYTES = 100_000
SLOW_3G_SECONDS = 5.0

HITS_JS = """
(selector) => {
  const e = document.querySelector(selector);
  const r = e.getBoundingClientRect();
  const x = r.left + r.width / 2, y = r.top + r.height / 2;
  return {inside: r.left >= 0 && r.top >= 0 && r.right <= innerWidth && r.bottom <= innerHeight,
          hit: e.contains(document.elementFromPoint(x, y)), width: document.documentElement.scrollWidth};
}
"""


def open_phone(chromium, url: str, scheme: str):
    """A phone: its own browser context (its own storage), 390 px wide; console errors collected."""
    context = chromium.new_context(viewport=PHONE_390, color_scheme=scheme)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    return page, errors


SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")


def shown_number(text: str) -> float:
    """A number as the phone writes it: '1.73', '12,345' or '-1.306×10¹⁶'."""
    mantissa, _, power = text.replace(",", "").partition("×10")
    return float(mantissa) * 10 ** int(power.translate(SUPERSCRIPTS) or 0)


def seed_of(phone) -> int:
    return int(phone.locator("#seed").inner_text())


def assert_train_button_is_reachable(phone) -> None:
    box = phone.evaluate(HITS_JS, "#train")
    assert box["inside"] and box["hit"], box
    assert box["width"] <= PHONE_390["width"], box


def train_on(phone, stage: str, lr: float | None) -> str:
    """Choose the rate (a real click), press Train (a real key press), wait for the result; returns its text."""
    title = f"Stage {STAGE_NAMES.index(stage) + 1}: {STAGES[stage].title}"
    expect(phone.locator("#stage-title")).to_have_text(title, timeout=FOLLOW_MS)
    if lr is not None:
        choice = phone.locator("#rates label", has_text=re.compile(rf"^{re.escape(str(lr))}$"))
        choice.click()
        expect(choice.locator("input")).to_be_checked()
    phone.locator("#train").focus()
    phone.keyboard.press("Enter")
    mine = phone.locator("#mine")
    expect(mine).to_have_text(re.compile(r"^Your b is"), timeout=WALL_MS)
    expect(phone.locator("#status")).to_have_text("Your run is on the wall.", timeout=WALL_MS)
    return mine.inner_text()


def test_a_presenter_and_three_light_phones_go_through_every_stage(visit, chromium, page_server, screenshots):
    wall, _ = visit("?room=new", DESKTOP)
    code_box = wall.locator(".lucky5-room-code")
    expect(code_box).to_have_text(re.compile(r"^[A-Z2-9]{6}$"), timeout=LOAD_MS)
    code = code_box.inner_text()
    # The short link answered the wall's probe: its QR code and link are shown, the fallback's are not.
    light = wall.locator(".st-key-join_light")
    expect(light).to_be_visible(timeout=WALL_MS)
    expect(light.get_by_text(page_server.url + f"j/{code}", exact=True)).to_be_visible()
    expect(wall.locator(".st-key-join_fallback")).to_be_hidden()

    url = page_server.url + f"j/{code}"
    phones = [open_phone(chromium, url, scheme) for scheme in SCHEMES]
    for phone, _ in phones:
        expect(phone.locator("#seed")).to_have_text(re.compile(r"^\d+$"), timeout=WALL_MS)
        assert_train_button_is_reachable(phone)
    expect(wall.get_by_text(re.compile(r"^3 joined · 0 trained"))).to_be_visible(timeout=WALL_MS)

    for i, stage in enumerate(STAGE_NAMES):
        if i:
            wall.get_by_role("button", name=f"{i + 1}. {STAGES[stage].title}").click()
        for (phone, _), lr in zip(phones, PHONE_LRS, strict=True):
            chosen = lr if STAGES[stage].lrs else None
            shown = train_on(phone, stage, chosen)
            expected = train(STAGES[stage].config(seed_of(phone), chosen)).final_bias
            b = re.match(r"Your b is (\S+) ", shown)
            assert b and shown_number(b[1]) == pytest.approx(expected, rel=1e-3), (shown, expected)
        expect(wall.get_by_text(re.compile(r"^3 joined · 3 trained in this stage"))).to_be_visible(timeout=WALL_MS)
        for phone, _ in phones:  # every phone hears of the others' runs: the room's medians
            expect(phone.locator("#counts")).to_have_text(re.compile(r"3 runs trained in this stage"), timeout=5000)
            expect(phone.locator("#room")).to_have_text(re.compile(r"^The room's median b is"), timeout=5000)
        if i == 0:
            reloaded, _ = phones[0]
            seed, result = seed_of(reloaded), reloaded.locator("#mine").inner_text()
            reloaded.reload()  # a mobile browser dropping the tab: the same participant, its run shown again
            expect(reloaded.locator("#seed")).to_have_text(str(seed), timeout=WALL_MS)
            expect(reloaded.locator("#mine")).to_have_text(result)
            wall.wait_for_timeout(2500)
            expect(wall.get_by_text(re.compile(r"^3 joined · 3 trained in this stage"))).to_be_visible()

    # The learning-rate stage: the 0.4 phone blew up, and says so with theory's advice.
    blown, _ = phones[2]
    expect(blown.locator("#blown")).to_have_text(re.compile(r"^Your run blew up"))
    expect(blown.locator("#at-lr")).to_have_text(re.compile(r"^At learning rate 0\.4, 1 of 1 runs"))
    for (phone, errors), scheme in zip(phones, SCHEMES, strict=True):
        assert_train_button_is_reachable(phone) if phone.evaluate("scrollY") == 0 else None
        violations = Axe().run(phone).response["violations"]
        blocking = [f"{v['id']} ({v['impact']})" for v in violations if v["impact"] in BLOCKING_IMPACTS]
        assert not blocking, f"axe on a {scheme} phone: {blocking}"
        assert not errors, errors
    for (phone, _), name in ((phones[0], "light"), (phones[1], "dark")):
        phone.screenshot(path=screenshots / f"room-light-phone-390-{name}.png", full_page=True)
    for phone, _ in phones:
        phone.context.close()


def test_a_phones_first_load_is_small_and_quick_on_slow_3g(visit, chromium, page_server, screenshots):
    wall, _ = visit("?room=new", DESKTOP)
    code_box = wall.locator(".lucky5-room-code")
    expect(code_box).to_have_text(re.compile(r"^[A-Z2-9]{6}$"), timeout=LOAD_MS)
    context = chromium.new_context(viewport=PHONE_390)
    phone = context.new_page()
    net = NetworkLog()
    net.attach(phone)
    net.throttle()  # Chromium's Slow 3G as the bar states it: 400 ms latency, 400 kbit/s
    started = time.monotonic()
    phone.goto(page_server.url + f"j/{code_box.inner_text()}")
    expect(phone.locator("#seed")).to_have_text(re.compile(r"^\d+$"), timeout=30_000)
    phone.locator("#train").click()
    expect(phone.locator("#mine")).to_have_text(re.compile(r"^Your b is"), timeout=30_000)
    seconds = time.monotonic() - started
    loaded = net.total
    expect(phone.locator("#status")).to_have_text("Your run is on the wall.", timeout=30_000)
    print(f"\nfirst load on Slow 3G: {loaded:,} bytes, own result after {seconds:.2f} s")
    assert loaded <= FIRST_LOAD_BYTES, net.largest()
    assert seconds < SLOW_3G_SECONDS
    context.close()


def test_the_wall_falls_back_to_the_streamlit_phone_when_the_short_link_is_unreachable(visit, chromium):
    context = chromium.new_context(viewport=DESKTOP)
    wall = context.new_page()
    # A proxy that forwards only Streamlit's own paths: the short link answers with something else.
    wall.route(re.compile(r".*/j/ping$"), lambda route: route.fulfill(status=404, body="Not Found"))
    base, _ = visit("", DESKTOP)  # only for the server's address
    wall.goto(base.url.split("?")[0] + "?room=new")
    code_box = wall.locator(".lucky5-room-code")
    expect(code_box).to_have_text(re.compile(r"^[A-Z2-9]{6}$"), timeout=LOAD_MS)
    fallback = wall.locator(".st-key-join_fallback")
    expect(fallback).to_be_visible(timeout=WALL_MS)
    expect(fallback.get_by_text(re.compile(r"does not answer through this address"))).to_be_visible()
    expect(fallback.get_by_text(re.compile(rf"\?join={code_box.inner_text()}$"))).to_be_visible()
    expect(wall.locator(".st-key-join_light")).to_be_hidden()
    context.close()
