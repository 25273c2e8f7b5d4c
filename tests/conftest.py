"""Fixtures shared by the tests that serve the real page: the server, what each run must show, and Chromium.

The server is ``streamlit run app.py`` (``bench.harness.StreamlitServer``: a free 127.0.0.1 port, stopped
with its process group at the end of the session); it starts only when a test asks for it.

The browser tests (``tests/browser``) get one headless Chromium per test module (module scope: Playwright's
sync API keeps an event loop running while it is open, which would break later asyncio tests) and fresh
browser contexts per test. They need Debian's Chromium at /usr/bin/chromium and fail (never skip) without
it, so a CI that lost its browser shows red.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.browser import CHROMIUM, launch_chromium, open_page
from bench.harness import REDIS_SERVER, REPO, StreamlitServer, redis_server
from bench.load import Oracle, lucky5_oracle
from lucky5.room import MemoryStore, RedisStore

SCREENSHOTS = REPO / "artifacts" / "screenshots"
Visit = Callable[..., tuple[Any, Any]]
StoreFactory = Callable[..., MemoryStore | RedisStore]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
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
def visit(page_server: StreamlitServer, chromium: Any) -> Iterator[Visit]:
    """``visit(query="", viewport=None, **context_options) -> (page, websocket log)``: the page in a fresh context.

    ``context_options`` go to Playwright's ``new_context`` (e.g. ``color_scheme="dark"``, ``accept_downloads``).
    """
    pages = []

    def _visit(query: str = "", viewport: dict | None = None, **context_options: Any) -> tuple[Any, Any]:
        page, ws = open_page(chromium, page_server.url + query, viewport, **context_options)
        pages.append(page)
        return page, ws

    yield _visit
    for page in pages:
        page.context.close()


@pytest.fixture(scope="module")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture(scope="session")
def page_server() -> Iterator[StreamlitServer]:
    """The page under test (``bench.harness.page_script``) served for the whole test session."""
    with StreamlitServer() as server:
        yield server


@pytest.fixture(scope="session")
def oracle() -> Oracle:
    """Query string -> the fingerprint of ``lucky5.train`` for the settings it names (memoised)."""
    return lucky5_oracle()


# --- rooms: a real redis-server and both stores (tests/test_room*.py) ---------------------------


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """A real redis-server on a free 127.0.0.1 port, no persistence (``bench.harness.redis_server``).

    A missing server fails the test with the install command, never skips it, so a CI that lost it shows red.
    """
    if not REDIS_SERVER.exists():
        pytest.fail(
            f"{REDIS_SERVER} is missing: `apt-get install redis-server` (CI installs it); "
            "the shared-room tests need a real Redis",
            pytrace=False,
        )
    with redis_server() as url:
        yield url


@pytest.fixture
def redis_client(redis_url: str):
    """A raw client on the test server, with an empty database before each test."""
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture(params=["memory", "redis"])
def make_store(request: pytest.FixtureRequest) -> Iterator[StoreFactory]:
    """``make_store(**caps)``: a fresh store of each kind (the Redis database is emptied first)."""
    made: list[RedisStore] = []
    if request.param == "memory":
        yield lambda **kw: MemoryStore(**kw)
        return
    url = request.getfixturevalue("redis_url")
    request.getfixturevalue("redis_client")  # empties the database

    def factory(**kw) -> RedisStore:
        store = RedisStore(url, **kw)
        made.append(store)
        return store

    yield factory
    for store in made:
        store.close()
