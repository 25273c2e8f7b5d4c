"""A projector laptop's Wi-Fi blip: the wall's connection gone for 130 s, then back, in a real browser.

The wall reaches the server through a loopback relay that the test cuts (every open connection closed, new ones
refused) and restores on the same port, as a laptop that drops off the hall's Wi-Fi and rejoins it. 130 s is
longer than Streamlit keeps a disconnected session (``server.disconnectedSessionTTL``, 120 s by default): the
wall comes back in a new session that runs the query the page was loaded with. It must show the same code, the
same stage and its stage buttons (the key from its HttpOnly cookie), with no reload, while a phone that joined
before the blip (directly, with ``embed=true``) trains in the same room and its run reaches the wall (its join, not
trained, ran out during the blip: the run lets it in again).

In the same 130 s, a second wall does the same on rooms kept in a real redis-server shared by two replicas, as
behind a hall's load balancer: it reaches replica A through its own relay, and while it is cut replica A is
stopped and the relay sends it on to replica B. The wall comes back on B to the same room, stage and buttons,
and a light phone that joined on B before the blip trains and reaches it.

Oracle: the room's own state as the server's ``/j/CODE/standing`` reports it (a separate Redis client for the
replicas' room).
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading

import pytest
from playwright.sync_api import expect

from bench.browser import geometry
from bench.harness import HOST, StreamlitServer, http_get, redis_server
from lucky5.room import STAGES
from tests.browser.test_light_phone import skip_question

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCREEN = {"width": 1280, "height": 720}  # a projector
PHONE = {"width": 390, "height": 844}
LOAD_MS = 90_000  # the first page of a fresh server imports torch
BACK_MS = 90_000  # Streamlit's frontend retries its connection with a growing pause
BLIP_S = 130
PATIENCE = f"Stage 2: {STAGES['patience'].title}"


class Blip:
    """A loopback TCP relay to ``target_port`` that can be cut (open connections closed, new ones refused) and
    restored on the same port: the browser's view of a Wi-Fi blip."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener = socket.create_server((HOST, 0))
        self.port = int(self._listener.getsockname()[1])
        self.url = f"http://{HOST}:{self.port}/"
        threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
                upstream = socket.create_connection((HOST, self.target_port), timeout=10)
            except OSError:
                return  # cut
            upstream.settimeout(None)
            with self._lock:
                self._open += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self._listener.close()
        with self._lock:
            for s in self._open:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            self._open.clear()

    def restore(self) -> None:
        self._listener = socket.create_server((HOST, self.port))
        threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()


def standing(server_url: str, code: str) -> dict:
    status, body = http_get(server_url + f"j/{code}/standing")
    assert status == 200, (status, body[:300])
    return json.loads(body)


def open_wall(chromium, url: str):
    """A presenter's new room at ``url`` (through a relay), moved to stage 2: (wall, its code)."""
    wall = chromium.new_context(viewport=SCREEN).new_page()
    wall.goto(url + "?room=new")
    code_box = wall.locator(".lucky5-room-code")
    expect(code_box).to_have_text(re.compile(r"^[A-Z2-9]{6}$"), timeout=LOAD_MS)
    wall.get_by_role("button", name=f"2. {STAGES['patience'].title}").click()
    expect(wall.get_by_role("heading", name=PATIENCE)).to_be_visible(timeout=LOAD_MS)
    skip_question(wall)  # Train opens once the stage's question is voted on or skipped
    return wall, code_box.inner_text()


def assert_back(wall, code: str) -> None:
    """The wall shows room ``code`` at stage 2 with its buttons (stage 2 highlighted, on top), never reloaded."""
    expect(wall.locator(".lucky5-room-code")).to_have_text(code, timeout=BACK_MS)
    expect(wall.get_by_role("heading", name=PATIENCE)).to_be_visible(timeout=BACK_MS)
    stage = wall.get_by_role("button", name=f"2. {STAGES['patience'].title}")
    expect(stage).to_have_attribute("data-testid", "stBaseButton-primary", timeout=BACK_MS)  # the key's cookie
    # Not "1 joined" here: a join that has not trained is held two minutes (``seats.JOIN_HOLD_SECONDS``), shorter
    # than the blip; the phone is let in again by its run, which the caller then sees counted.
    assert wall.evaluate("window.lucky5BeforeBlip === true")  # never reloaded
    for _ in range(20):  # bounded: the wall's refresh may be redrawing the panel at this moment
        box = geometry(wall, ".st-key-stage_patience button")
        if box is not None and box["inside"] and box["onTop"]:
            break
        wall.wait_for_timeout(500)
    assert box is not None and box["inside"] and box["onTop"], json.dumps(box)


def test_a_wall_whose_wifi_drops_for_130_s_comes_back_to_its_room_with_its_buttons(chromium, page_server) -> None:
    blip = Blip(page_server.port)
    kept = redis_server()
    replicas: list[StreamlitServer] = []
    shared: Blip | None = None
    try:
        env = {"LUCKY5_REDIS_URL": kept.__enter__()}
        replicas += [StreamlitServer(env=env).__enter__(), StreamlitServer(env=env).__enter__()]
        shared = Blip(replicas[0].port)
        wall_r, code_r = open_wall(chromium, shared.url)
        light = chromium.new_context(viewport=PHONE).new_page()
        light.goto(replicas[1].url + f"j/{code_r}")  # joins on the other replica: one room in Redis
        expect(light.locator("#stage-title")).to_have_text(PATIENCE, timeout=LOAD_MS)
        expect(wall_r.get_by_text(re.compile(r"^1 joined"))).to_be_visible(timeout=LOAD_MS)

        wall = chromium.new_context(viewport=SCREEN).new_page()
        wall.goto(blip.url + "?room=new&embed=true")
        expect(wall).to_have_url(re.compile(r"\?room=[A-Z2-9]{6}&embed=true$"), timeout=LOAD_MS)
        code_box = wall.locator(".lucky5-room-code")
        expect(code_box).to_have_text(re.compile(r"^[A-Z2-9]{6}$"), timeout=LOAD_MS)
        code = code_box.inner_text()
        stage = wall.get_by_role("button", name=f"2. {STAGES['patience'].title}")
        expect(stage).to_be_visible(timeout=LOAD_MS)
        stage.click()
        expect(wall.get_by_role("heading", name=PATIENCE)).to_be_visible(timeout=LOAD_MS)
        skip_question(wall)

        phone = chromium.new_context(viewport=PHONE).new_page()
        phone.goto(page_server.url + f"?join={code}&embed=true")
        expect(phone.get_by_role("heading", name=f"Room {code}")).to_be_visible(timeout=LOAD_MS)
        # Joining writes the phone's id into the address and keeps Streamlit's embed flag there.
        expect(phone).to_have_url(re.compile(rf"\?join={code}&me=[^&]+&embed=true$"), timeout=LOAD_MS)
        expect(wall.get_by_text(re.compile(r"^1 joined"))).to_be_visible(timeout=LOAD_MS)

        for page in (wall, wall_r):
            page.evaluate("window.lucky5BeforeBlip = true")  # a reload would lose it
        blip.cut()
        shared.cut()
        replicas[0].stop()  # replica A goes away meanwhile; the hall's balancer sends the wall on to B
        wall.wait_for_timeout(BLIP_S * 1000)
        assert standing(page_server.url, code)["stage"]["name"] == "patience"  # the room did not move meanwhile
        shared.target_port = replicas[1].port
        blip.restore()
        shared.restore()
        assert_back(wall_r, code_r)  # on replica B, from Redis: the same room, its stage and its buttons
        assert wall_r.url.endswith(f"?room={code_r}")
        light.locator("#train").click()
        expect(wall_r.get_by_text(re.compile(r"^1 joined · 1 trained in this stage"))).to_be_visible(timeout=LOAD_MS)
        assert standing(replicas[1].url, code_r)["stage"]["name"] == "patience"

        # No reload: the page reconnects by itself, in a new session, to the same room, stage and buttons.
        assert_back(wall, code)
        assert wall.url.endswith(f"?room={code}&embed=true")

        # The phone is still in that room: its run, trained now, reaches the wall that came back.
        phone.get_by_role("button", name="Train", exact=True).click()
        expect(phone.get_by_text(re.compile(r"^Your b is"))).to_be_visible(timeout=LOAD_MS)
        expect(wall.get_by_text(re.compile(r"^1 joined · 1 trained in this stage"))).to_be_visible(timeout=LOAD_MS)
        assert standing(page_server.url, code)["stage"]["name"] == "patience"
        for page in (wall, phone, wall_r):
            assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        for relay in (blip, shared):
            if relay is not None:
                relay.cut()
        for server in replicas:
            server.stop()
        kept.__exit__(None, None, None)
