"""A wall that loses its server comes back to the same room, in a real browser, with no reload.

A projector laptop's Wi-Fi blip long enough for the server to drop the session, or a replica restarted behind
the hall's load balancer, both end the same way: the page reconnects and Streamlit runs a new session with the
query the page was *loaded* with. The room's rooms live in Redis; the server is stopped and started again on
the same port, as a restarted replica is; the wall must show the same code and keep its stage buttons.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from bench.harness import StreamlitServer, redis_server
from lucky5.room import STAGES

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCREEN = {"width": 1280, "height": 720}
LOAD_MS = 90_000  # the first page of a fresh server imports torch
BACK_MS = 120_000  # Streamlit's frontend retries its connection with a growing pause
LOADED_JS = "() => performance.getEntriesByType('navigation').map(e => e.name)"


def test_a_restarted_server_brings_the_wall_back_to_its_own_room(chromium):
    with redis_server() as url:
        env = {"LUCKY5_REDIS_URL": url}
        first = StreamlitServer(env=env).__enter__()
        try:
            context = chromium.new_context(viewport=SCREEN)
            wall = context.new_page()
            wall.goto(first.url + "?room=new")
            code_box = wall.locator(".lucky5-room-code")
            expect(code_box).to_have_text(re.compile(r"^[A-Z2-9]{6}$"), timeout=LOAD_MS)
            expect(wall).to_have_url(re.compile(r"\?room=[A-Z2-9]{6}$"), timeout=LOAD_MS)
            code = code_box.inner_text()
            # The browser loaded the room's own address (not just showed it): what a new session will run.
            assert any(name.endswith(f"?room={code}") for name in wall.evaluate(LOADED_JS)), wall.evaluate(LOADED_JS)
            stage = wall.get_by_role("button", name=f"2. {STAGES['patience'].title}")
            expect(stage).to_be_visible(timeout=LOAD_MS)
            stage.click()
            expect(wall.get_by_role("heading", name=f"Stage 2: {STAGES['patience'].title}")).to_be_visible(
                timeout=LOAD_MS
            )
            first.stop()  # the replica goes away; the page shows it lost the connection
            second = StreamlitServer(env=env, port=first.port).__enter__()
            try:
                # No reload: the page reconnects by itself and shows the same room, its stage and its buttons.
                expect(wall.get_by_role("heading", name=f"Stage 2: {STAGES['patience'].title}")).to_be_visible(
                    timeout=BACK_MS
                )
                expect(code_box).to_have_text(code, timeout=BACK_MS)
                expect(stage).to_be_visible(timeout=BACK_MS)  # the key came back from the cookie, not the address
                assert "key=" not in wall.url
                assert wall.locator('[data-testid="stException"]').count() == 0
            finally:
                second.stop()
        finally:
            first.stop()
