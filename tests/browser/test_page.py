"""The page in a real browser: it renders a run, the animation plays in the browser alone, it fits a phone,
and presenter mode presents.

What a run contains is tested without a browser elsewhere; here only what needs JavaScript and layout:
Plotly's animation, websocket traffic, widths, the sidebar. Screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from bench.browser import (
    CHART,
    DESKTOP,
    LESSON_BUTTONS,
    PAUSE,
    PHONE,
    PLAY,
    chart_state,
    press,
    probe,
    reset_probe,
    settle,
    wait_for_run,
)

pytestmark = pytest.mark.browser

EXCEPTION = '[data-testid="stException"]'
PLAYING_S = 3  # how long playback is watched for websocket traffic

# The widest of the elements that could scroll sideways: the document and Streamlit's containers.
SCROLL_WIDTH_JS = """
() => Math.max(...[document.scrollingElement,
                   document.querySelector('[data-testid="stAppViewContainer"]'),
                   document.querySelector('[data-testid="stMain"]')]
                  .filter(Boolean).map(e => e.scrollWidth))
"""

# For a failure message: the elements sticking out furthest to the right.
WIDE_ELEMENTS_JS = """
(limit) => [...document.querySelectorAll('[data-testid="stMain"] *')]
  .map(e => [e.getBoundingClientRect().right, e])
  .filter(([r]) => r > limit).sort((a, b) => b[0] - a[0]).slice(0, 5)
  .map(([r, e]) => `${Math.round(r)}px ${e.tagName.toLowerCase()}` +
       `${e.dataset.testid ? '[data-testid=' + e.dataset.testid + ']' : ''}.${[...e.classList].slice(0, 2).join('.')}`)
"""

SIDEBAR_COLLAPSED_JS = """
() => {
  const s = document.querySelector('[data-testid="stSidebar"]');
  if (!s) return true;
  if (s.getAttribute('data-collapsed') === 'true' || s.getAttribute('aria-expanded') === 'false') return true;
  return s.getBoundingClientRect().right <= 1;
}
"""


def assert_no_exception(page) -> None:
    boxes = page.locator(EXCEPTION)
    if boxes.count():
        pytest.fail("the page shows an exception:\n" + boxes.first.inner_text()[:2000], pytrace=False)


def test_first_load_shows_a_run(visit, screenshots):
    page, ws = visit()
    wait_for_run(page)
    settle(page, ws)
    expect(page.locator('[data-testid="stPlotlyChart"]')).not_to_have_count(0)
    play = page.locator(LESSON_BUTTONS, has_text=PLAY)  # one Play/Pause button, which says what it will do
    expect(play).to_have_count(1)
    play.click()
    expect(page.locator(LESSON_BUTTONS, has_text=PAUSE)).to_have_count(1)
    expect(page.locator(f"{CHART} .updatemenu-button")).to_have_count(0)  # every panel in one chart: on request
    sidebar = page.locator('[data-testid="stSidebar"]')
    expect(sidebar.get_by_text("Every change trains at once")).to_be_visible()
    expect(sidebar.get_by_role("button", name="Train", exact=True)).to_have_count(0)  # settings apply at once
    assert_no_exception(page)
    page.screenshot(path=screenshots / "desktop.png")


def test_play_animates_in_the_browser_without_websocket_traffic(visit):
    page, ws = visit()
    wait_for_run(page)
    assert settle(page, ws), "the websocket never went quiet after the page loaded"
    ws.reset()
    reset_probe(page)

    press(page, PLAY)
    page.wait_for_function("() => window.__lucky5.changes >= 3", timeout=10_000)
    first = chart_state(page)
    page.wait_for_timeout(1000)
    second = chart_state(page)
    assert first != second, f"the chart did not change within 1 s of playback: {first}"
    page.wait_for_timeout(max(0, PLAYING_S - 1) * 1000)

    assert (ws.sent, ws.received) == (0, 0), (
        f"playback must not talk to the server: {ws.sent} websocket messages sent, {ws.received} received: {ws.recent}"
    )
    assert probe(page)["changes"] >= 3
    assert_no_exception(page)


def test_phone_width_has_no_horizontal_overflow(visit, screenshots):
    page, ws = visit(viewport=PHONE)
    wait_for_run(page)
    settle(page, ws)
    page.screenshot(path=screenshots / "phone.png")
    width = page.evaluate(SCROLL_WIDTH_JS)
    limit = PHONE["width"] + 1
    assert width <= limit, (
        f"the page is {width}px wide at a {PHONE['width']}px viewport; widest elements: "
        f"{page.evaluate(WIDE_ELEMENTS_JS, limit)}"
    )
    assert_no_exception(page)


def test_presenter_mode_collapses_the_sidebar_plays_and_shows_a_qr_code(visit, screenshots):
    page, ws = visit("?present=1", viewport=DESKTOP)
    wait_for_run(page)
    settle(page, ws)
    page.screenshot(path=screenshots / "present.png")

    assert page.evaluate(SIDEBAR_COLLAPSED_JS), "presenter mode must start with the sidebar collapsed"
    # Nothing was clicked: the probe has watched the chart since the document started.
    try:
        page.wait_for_function("() => window.__lucky5.changes >= 3", timeout=15_000)
    except Exception:
        pytest.fail(
            f"the animation did not play by itself in presenter mode: {probe(page)['changes']} changes "
            f"of frame or slider step seen",
            pytrace=False,
        )
    qr = page.locator('[data-testid="stMain"] img')
    expect(qr.first).to_be_visible()
    box = qr.first.bounding_box()
    assert box and min(box["width"], box["height"]) >= 64, f"the QR code is too small to scan: {box}"
    assert_no_exception(page)
