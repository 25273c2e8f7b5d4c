"""A short Redis outage is not a dead end, in a real browser, with a real redis-server stopped and started again.

The wall, a phone on Streamlit's phone page and a light phone (``/j/CODE``, 390×844) are open when Redis stops
mid-stage. Both phones press Train and the presenter
presses the next stage while it is away: every page keeps what it showed (the code, the QR code, the stage
buttons, the Train button, the phone's own run), says where it can be seen that the room's store is not
answering and that it tries again, and once Redis is back (kept on disk: ``--appendonly yes``, as the README advises for
a talk) they carry on by themselves, with no reload: the press went through and the phone follows. A Redis
that comes back *empty* (``--save '' --appendonly no``) lost the room, and both pages say so, naming the
restart, not idle hours.

A run trained during the outage is sent again until the store answers; if the presenter's press reached the
store first, the room has moved on and the phone is told to train again (either order is right).

Oracles: what the pages show (headings, counts, the code) against the room's own state as a separate Redis
client reads it.
"""

from __future__ import annotations

import re
import time

import pytest
import redis
from playwright.sync_api import expect

from bench.browser import PHONE, seen
from bench.harness import StreamlitServer, free_port, redis_server
from lucky5.room import STAGES
from tests.browser.test_light_phone import skip_question

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCREEN = {"width": 1280, "height": 720}
LOAD_MS = 90_000  # the first page of a fresh server imports torch
SAY_MS = 30_000  # a page notices the outage at its next call: a press, a Train, the wall's 2 s refresh
BACK_MS = 60_000  # retries are at most 8 s apart; the phone polls its stage every 4 s
OUTAGE_S = 10.0
KEEP = ("--appendonly", "yes", "--appendfsync", "always")  # the README's Redis for a talk
NOT_ANSWERING = "The room's store is not answering"
LIGHT = {"width": 390, "height": 844}  # the light phone, as a hall holds it


def assert_seen(locator) -> None:
    """The message is where it must be seen: inside the viewport and on top at its centre."""
    box = seen(locator)
    assert box["inside"] and box["onTop"], box


def stage_title(name: str) -> str:
    return f"Stage {list(STAGES).index(name) + 1}: {STAGES[name].title}"


def stage_heading(page, name: str):
    return page.get_by_role("heading", name=stage_title(name))


def test_a_wall_and_a_phone_ride_out_a_redis_outage_and_a_lost_room_says_why(chromium, tmp_path) -> None:
    port = free_port()
    kept = redis_server(port=port, args=(*KEEP, "--dir", str(tmp_path)))
    url = kept.__enter__()
    try:
        with StreamlitServer(env={"LUCKY5_REDIS_URL": url}) as server:
            wall = chromium.new_context(viewport=SCREEN).new_page()
            wall.goto(server.url + "?room=new")
            expect(wall).to_have_url(re.compile(r"\?room=[A-Z2-9]{6}$"), timeout=LOAD_MS)
            code = wall.url.rsplit("=", 1)[1]
            code_box = wall.get_by_text(code).first  # the code in huge type
            qr = wall.get_by_role("img", name=f"QR code of the link that joins room {code}")
            expect(qr).to_be_visible(timeout=LOAD_MS)
            patience = wall.get_by_role("button", name=f"2. {STAGES['patience'].title}")
            expect(patience).to_be_visible(timeout=LOAD_MS)
            phone = chromium.new_context(viewport=PHONE).new_page()
            phone.goto(server.url + f"?join={code}")
            train = phone.get_by_role("button", name="Train")
            expect(train).to_be_visible(timeout=LOAD_MS)
            light = chromium.new_context(viewport=LIGHT).new_page()
            light.goto(server.url + f"j/{code}")
            expect(light.locator("#stage-title")).to_have_text(stage_title("post"), timeout=LOAD_MS)
            expect(wall.get_by_text(re.compile(r"^2 joined"))).to_be_visible(timeout=SAY_MS)
            skip_question(wall)  # no vote here: Train opens on both phones
            expect(train).to_be_enabled(timeout=SAY_MS)
            expect(light.locator("#train")).to_be_enabled(timeout=SAY_MS)

            kept.__exit__(None, None, None)  # Redis stops mid-stage (its rooms on disk)
            stopped = time.monotonic()
            light.locator("#train").click()
            patience.click()
            train.click()
            for page in (wall, phone):
                expect(page.get_by_text(NOT_ANSWERING)).to_be_visible(timeout=SAY_MS)
                expect(page.get_by_text("tries again by itself")).to_be_visible()
            assert_seen(wall.get_by_text(NOT_ANSWERING))
            # The light phone keeps its stage, its Train button and its own run, and sends the run again by itself.
            status = light.locator("#status")
            expect(status).to_contain_text(NOT_ANSWERING, timeout=SAY_MS)
            expect(status).to_contain_text(re.compile(r"sending it again in \d+ s|tries again by itself"))
            assert_seen(status)
            expect(light.locator("#mine")).to_contain_text("Your b is")
            expect(light.locator("#stage-title")).to_have_text(stage_title("post"))
            expect(light.locator("#code")).to_have_text(code)
            assert_seen(light.locator("#train"))
            # Both keep what they showed: the code, the QR code and the buttons; the phone its own run.
            expect(code_box).to_be_visible()
            expect(qr).to_be_visible()
            expect(patience).to_be_visible()
            expect(stage_heading(wall, "post")).to_be_visible()
            expect(wall.get_by_text("waits for it")).to_be_visible()  # the press is not forgotten
            expect(train).to_be_visible()
            expect(phone.get_by_text(re.compile(r"^Your b is"))).to_be_visible(timeout=SAY_MS)
            assert wall.locator('[data-testid="stException"]').count() == 0
            light.wait_for_timeout(3000)  # at least one more try while the store is still away
            expect(status).to_contain_text(NOT_ANSWERING)
            wall.wait_for_timeout(max(0.0, OUTAGE_S - (time.monotonic() - stopped)) * 1000)

            back = redis_server(port=port, args=(*KEEP, "--dir", str(tmp_path)))
            back.__enter__()
            try:
                # No reload: the press went through and the phone followed the room to stage 2.
                expect(stage_heading(wall, "patience")).to_be_visible(timeout=BACK_MS)
                expect(wall.get_by_text(NOT_ANSWERING)).to_have_count(0, timeout=BACK_MS)
                highlighted = wall.locator('[data-testid="stBaseButton-primary"]', has_text=STAGES["patience"].title)
                expect(highlighted).to_be_visible(timeout=BACK_MS)  # the buttons show the room's stage
                client = redis.Redis.from_url(url)
                assert client.hget(f"lucky5:room:{code}:meta", "stage") == b"patience"
                client.close()
                expect(phone.get_by_text(STAGES["patience"].title).first).to_be_visible(timeout=BACK_MS)
                expect(phone.get_by_text(NOT_ANSWERING)).to_have_count(0, timeout=BACK_MS)
                skip_question(wall)  # stage 2's question, skipped: Train opens again
                expect(phone.get_by_role("button", name="Train")).to_be_enabled(timeout=BACK_MS)
                phone.get_by_role("button", name="Train").click()  # nothing stuck: it trains for stage 2
                # The light phone followed too, and stopped saying the store is away; it trains for stage 2.
                expect(light.locator("#stage-title")).to_have_text(stage_title("patience"), timeout=BACK_MS)
                expect(status).not_to_contain_text(NOT_ANSWERING, timeout=BACK_MS)
                expect(light.locator("#train")).to_be_enabled(timeout=BACK_MS)
                light.locator("#train").click()
                expect(status).to_have_text("Your run is on the wall.", timeout=BACK_MS)
                expect(wall.get_by_text(re.compile(r"^2 joined · 2 trained"))).to_be_visible(timeout=BACK_MS)
            finally:
                back.__exit__(None, None, None)

            # A Redis that comes back empty lost the room: both pages say so, and why.
            with redis_server(port=port):
                expect(status).to_contain_text(f"Room {code} was lost", timeout=BACK_MS)
                expect(status).to_contain_text("restarted")
                assert_seen(status)
                for page in (wall, phone):
                    lost = page.get_by_text(f"Room {code} was lost")
                    expect(lost).to_be_visible(timeout=BACK_MS)
                    expect(lost).to_contain_text("restarted")
                    assert "rooms close after" not in lost.inner_text()  # not blamed on idle hours
    finally:
        kept.__exit__(None, None, None)
