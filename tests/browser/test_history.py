"""Back and Forward in a real browser: opening a lucky5 link adds exactly one history entry.

Streamlit adds a browser-history entry whenever the page writes its query string, so a page that
rewrote its link on arrival (``?seed=0`` to the shorter empty query) made the first Back show the same
run again. The page writes the URL only when the run changes; these tests press Back as a visitor would.
"""

from __future__ import annotations

from typing import Any

import pytest

from bench.browser import open_page, settle, wait_for_run

pytestmark = pytest.mark.browser

ARRIVED_FROM = "data:text/html,<title>before</title><p>the page a visitor came from</p>"


def arrive(chromium: Any, url: str) -> tuple[Any, Any, int]:
    """The page opened from another one; also the history length before it (a new tab may count about:blank)."""
    page, ws = open_page(chromium, ARRIVED_FROM)
    before = page.evaluate("history.length")
    page.goto(url)
    wait_for_run(page)
    settle(page, ws)
    return page, ws, before


@pytest.mark.parametrize("query", ["?seed=0", "?seed=0&lr=0.01&momentum=0.1", "", "?epochs=300&seed=2"])
def test_the_first_back_leaves_the_page(page_server, chromium, query):
    page, _, before = arrive(chromium, page_server.url + query)
    assert page.evaluate("history.length") == before + 1, "opening the link added a history entry of its own"
    page.go_back()
    page.wait_for_load_state()
    assert page.url.startswith("data:text/html"), page.url


def test_a_new_run_is_a_new_entry_and_back_returns_to_the_last_run(page_server, chromium):
    page, ws, before = arrive(chromium, page_server.url + "?epochs=300")
    page.get_by_role("spinbutton", name="Seed").fill("5")
    page.get_by_role("spinbutton", name="Seed").press("Enter")  # applies at once: no button
    page.wait_for_function("() => location.search.includes('seed=5')")
    wait_for_run(page)
    settle(page, ws)
    assert "seed=5" in page.url and page.evaluate("history.length") == before + 2
    page.go_back()
    page.wait_for_function("() => !location.search.includes('seed=5')")
    wait_for_run(page)
    settle(page, ws)
    assert page.url.endswith("?epochs=300")
