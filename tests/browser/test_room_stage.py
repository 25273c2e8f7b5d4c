"""The stage buttons always show the room's real stage, in a real browser: two presenters pressing at once.

Two browsers drive one room (the second through the one-time private link). Each presses another stage at
the same moment; the room ends at one of them, and both walls end highlighting that stage (the primary
button) under that stage's heading, without a reload: the wall's own refresh redraws the buttons when the
room moved on. Oracle: the room's stage as a third, watching browser's wall shows it.
"""

from __future__ import annotations

import json
import re
import time

import pytest
from playwright.sync_api import expect

from bench.browser import DESKTOP
from bench.harness import http_get
from lucky5.room import STAGE_NAMES, STAGES

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LOAD_MS = 90_000
FOLLOW_MS = 30_000  # the wall refreshes every 2 s
PRIMARY = '[data-testid="stBaseButton-primary"]'


def heading(page, name: str):
    return page.get_by_role("heading", name=f"Stage {STAGE_NAMES.index(name) + 1}: {STAGES[name].title}")


def test_two_presenters_pressing_at_once_both_end_on_the_rooms_stage(chromium, page_server) -> None:
    first = chromium.new_context(viewport=DESKTOP).new_page()
    first.goto(page_server.url + "?room=new")
    expect(first).to_have_url(re.compile(r"\?room=[A-Z2-9]{6}$"), timeout=LOAD_MS)
    code = first.url.rsplit("=", 1)[1]
    show = first.get_by_role("button", name=re.compile(r"^Show my private presenter link"))
    expect(show).to_be_visible(timeout=LOAD_MS)
    show.click()
    link = first.locator('[data-testid="stCode"]', has_text="/p/")
    expect(link).to_be_visible(timeout=LOAD_MS)
    second = chromium.new_context(viewport=DESKTOP).new_page()
    second.goto(link.inner_text().strip())
    expect(second).to_have_url(re.compile(rf"\?room={code}$"), timeout=LOAD_MS)
    watcher = chromium.new_context(viewport=DESKTOP).new_page()
    watcher.goto(page_server.url + f"?room={code}")
    for page in (first, second):
        expect(page.get_by_role("button", name=f"3. {STAGES['lr'].title}")).to_be_visible(timeout=LOAD_MS)
    expect(heading(watcher, "post")).to_be_visible(timeout=LOAD_MS)

    for _ in range(2):  # twice: once each way round
        a = first.get_by_role("button", name=f"2. {STAGES['patience'].title}")
        b = second.get_by_role("button", name=f"3. {STAGES['lr'].title}")
        a.click(no_wait_after=True)  # at once: neither page waits for its own run to end
        b.click(no_wait_after=True)
        # Until the room's stage (the server's own /j/CODE/standing) is what every button and heading shows.
        deadline, seen = time.monotonic() + FOLLOW_MS / 1000, None
        while time.monotonic() < deadline:
            stage = json.loads(http_get(page_server.url + f"j/{code}/standing")[1])["stage"]["name"]
            shown = [page.locator(PRIMARY).all_inner_texts() for page in (first, second)]
            titles = [heading(page, stage).count() for page in (first, second, watcher)]
            seen = (stage, shown, titles)
            if all(texts == [f"{STAGE_NAMES.index(stage) + 1}. {STAGES[stage].title}"] for texts in shown) and all(
                titles
            ):
                break
            first.wait_for_timeout(1000)
        else:
            pytest.fail(f"the walls never agreed with the room: {seen}")
        assert stage in ("patience", "lr")
        first, second = second, first
    for page in (first, second, watcher):
        page.context.close()
