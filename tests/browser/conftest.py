"""Fixtures for the browser tests: the real page served by ``streamlit run``, and headless Chromium.

One server and one browser per test module (module scope: Playwright's sync API keeps an event loop
running while it is open, which would break later asyncio tests); every test gets fresh browser contexts.
These tests need Debian's Chromium at /usr/bin/chromium and fail (never skip) without it,
so a CI that lost its browser shows red. They do not test lucky5's numbers: tests/ does that.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.browser import CHROMIUM, StreamlitServer, launch_chromium, open_page  # noqa: E402

SCREENSHOTS = ROOT / "artifacts" / "screenshots"


@pytest.fixture(scope="module")
def server():
    """Base URL of ``streamlit run app.py`` on a free 127.0.0.1 port (stopped with its process group)."""
    with StreamlitServer() as s:
        yield s.url


@pytest.fixture(scope="module")
def chromium():
    """Headless Debian Chromium via Playwright's sync API."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: `apt-get install chromium` (CI installs it; "
            "Playwright cannot download browsers here)",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        yield browser
        browser.close()


@pytest.fixture
def visit(server, chromium):
    """``visit(query="", viewport=None) -> (page, websocket log)``: the page in a fresh context."""
    pages = []

    def _visit(query: str = "", viewport: dict | None = None):
        page, ws = open_page(chromium, server + query, viewport)
        pages.append(page)
        return page, ws

    yield _visit
    for page in pages:
        page.context.close()


@pytest.fixture(scope="module")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
