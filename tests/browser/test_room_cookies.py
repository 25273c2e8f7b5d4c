"""A presenter whose browser refuses this site's cookies is told why, in a real browser that refuses them.

The presenter's key outlives a session only in an HttpOnly cookie (``page.server.present``). A browser that
blocks the site's cookies used to lose it on the way into a new room: the wall showed "You are watching this
room's wall" and no stage buttons, with no word of why. Now the tab that created the room keeps its buttons and
says that the presenter view needs cookies for this site; after a reload (a new session, no key) it says the
same, in both themes, and a browser that keeps cookies never sees that message.

The refusing browser is Chromium with the site setting "block cookies" in its profile (Preferences:
``profile.default_content_setting_values.cookies = 2``): it neither keeps nor sends the server's cookies and
ignores a script's. Oracles: Chromium's own cookie jar, the room's state from the server's standing route.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from bench.browser import CHROMIUM, CHROMIUM_ARGS, geometry
from bench.harness import http_get
from lucky5.room import STAGES

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCREEN = {"width": 1280, "height": 720}  # a projector
LOAD_MS = 90_000  # the first page of a fresh server imports torch
NEEDS = "The presenter view needs cookies for this site"
WARNING = ".st-key-no_cookies"
PATIENCE = f"Stage 2: {STAGES['patience'].title}"


def refusing_browser(chromium, profile):
    """Chromium with a profile that blocks every site's cookies, as a person sets it in the site settings."""
    (profile / "Default").mkdir(parents=True)
    blocked = {"profile": {"default_content_setting_values": {"cookies": 2}}}
    (profile / "Default" / "Preferences").write_text(json.dumps(blocked))
    return chromium.browser_type.launch_persistent_context(
        str(profile), executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True, viewport=SCREEN
    )


def seen_on_top(page, selector: str) -> dict | None:
    """The element's geometry once it is inside the viewport and on top at its centre (bounded: a rerun may be
    redrawing the panel)."""
    box = None
    for _ in range(20):
        box = geometry(page, selector)
        if box is not None and box["inside"] and box["onTop"]:
            break
        page.wait_for_timeout(500)
    return box


def test_a_browser_that_refuses_cookies_is_told_the_presenter_view_needs_them(
    chromium, page_server, screenshots, tmp_path
) -> None:
    context = refusing_browser(chromium, tmp_path / "profile")
    try:
        wall = context.new_page()
        wall.goto(page_server.url + "?room=new")
        code_box = wall.locator(".lucky5-room-code")
        expect(code_box).to_have_text(re.compile(r"^[A-Z2-9]{6}$"), timeout=LOAD_MS)
        code = code_box.inner_text()
        # The tab that made the room keeps its key in its session, shows the room's own address, and says why
        # its buttons will not survive a reload.
        expect(wall).to_have_url(page_server.url + f"?room={code}", timeout=LOAD_MS)
        message = wall.locator(WARNING)
        expect(message).to_contain_text(NEEDS, timeout=LOAD_MS)
        expect(message).to_contain_text("keeps its stage buttons only until it is reloaded")
        box = seen_on_top(wall, WARNING)
        assert box is not None and box["inside"] and box["onTop"], json.dumps(box)
        wall.screenshot(path=str(screenshots / "room_cookies_refused_light.png"))
        stage = wall.get_by_role("button", name=f"2. {STAGES['patience'].title}")
        stage.click()
        expect(wall.get_by_role("heading", name=PATIENCE)).to_be_visible(timeout=LOAD_MS)
        status, body = http_get(page_server.url + f"j/{code}/standing")
        assert status == 200 and json.loads(body)["stage"]["name"] == "patience", body[:300]
        assert not context.cookies()  # the browser really kept nothing

        # A reload is a new session with no key: it only watches the room, and says why, in the dark theme too.
        wall.emulate_media(color_scheme="dark")
        wall.reload()
        expect(code_box).to_have_text(code, timeout=LOAD_MS)
        expect(message).to_contain_text(NEEDS, timeout=LOAD_MS)
        expect(message).to_contain_text("only watches the room")
        expect(wall.get_by_role("heading", name=PATIENCE)).to_be_visible(timeout=LOAD_MS)
        expect(stage).to_have_count(0)
        box = seen_on_top(wall, WARNING)
        assert box is not None and box["inside"] and box["onTop"], json.dumps(box)
        wall.screenshot(path=str(screenshots / "room_cookies_refused_dark.png"))
        assert wall.locator('[data-testid="stException"]').count() == 0
    finally:
        context.close()

    # A browser that keeps cookies, watching the same room, is not told it refuses them.
    viewer = chromium.new_context(viewport=SCREEN).new_page()
    viewer.goto(page_server.url + f"?room={code}")
    expect(viewer.get_by_text("You are watching this room's wall")).to_be_visible(timeout=LOAD_MS)
    viewer.wait_for_timeout(2000)  # the check is a script that tries three times in 1.5 s: give it time to run
    why = viewer.evaluate("[document.body.className, document.cookie]")
    assert viewer.locator(WARNING).evaluate("e => getComputedStyle(e).display") == "none", why
    viewer.context.close()
