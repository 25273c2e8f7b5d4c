"""A hall behind one address against scripts from the same address: the real server, over real HTTP and
Streamlit's websocket, with the rooms in memory and in a real ``redis-server``.

1. A script joins 1,000 times from 127.0.0.1 without training; then 20 phones from the same address open the
   short link, join and send their runs (``bench.phones``: what ``page/server/phone.html`` does, with runs
   trained by ``train_many`` for the ids they drew). Every phone gets in and its run is on the wall: joins hold
   no seat (``lucky5.room.seats``) and the limit per address lets a hall in (``lucky5.room.JOINS``).
2. A script opens ``?room=new`` 50 times; then a new speaker from the same address gets a room within a
   minute: new rooms are limited per address (``lucky5.room.ROOMS``), so the script's burst made at most ten.

Loopback only; every loop is bounded in count and time. The numbers measured (joins a second, the speaker's
wait) are printed for the record (``pytest -s``), never asserted: timings belong to the benches.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from bench.harness import StreamlitServer
from bench.phones import Http, LightPhone, make_phones
from bench.room import WallSession, open_room, room_code, skip_question
from lucky5.room import ROOMS

SCRIPTED_JOINS = 1_000
CONNECTIONS = 20  # the script's keep-alive connections
PHONES = 20
SCRIPTED_ROOMS = 50
SPEAKER_WAIT = 60.0  # s: the done-when bar
TIMEOUT = 240.0  # s for each test's whole scenario


@pytest.fixture(scope="module", params=["memory", "redis"])
def hall(request: pytest.FixtureRequest) -> Iterator[StreamlitServer]:
    """A server of its own (the limits per address are fresh), its rooms in memory or in a real Redis."""
    env = {}
    if request.param == "redis":
        env["LUCKY5_REDIS_URL"] = request.getfixturevalue("redis_url")
    with StreamlitServer(env=env) as server:
        yield server


async def _scripted_joins(port: int, code: str) -> tuple[Counter[int], float]:
    """``SCRIPTED_JOINS`` joins with fresh ids over ``CONNECTIONS`` connections, as fast as they go: the
    statuses and the joins a second."""
    statuses: Counter[int] = Counter()
    left = iter(range(SCRIPTED_JOINS))

    async def script() -> None:
        http = Http(port, 30.0)
        try:
            for _ in left:
                status, _ = await http.request("POST", f"/j/{code}/join", {"me": secrets.token_urlsafe(16)})
                statuses[status] += 1
        finally:
            await http.close()

    started = time.perf_counter()
    await asyncio.gather(*(script() for _ in range(CONNECTIONS)))
    return statuses, SCRIPTED_JOINS / (time.perf_counter() - started)


async def _phone(phone: LightPhone, code: str) -> str | None:
    """One phone: the page, the join with its own id, its run. None when its run is on the wall, else why not."""
    http = Http(phone.port, 30.0)
    try:
        status, page = await http.request("GET", f"/j/{code}")
        if status != 200 or b"lucky5.Run" not in page:
            return f"page: HTTP {status}"
        status, body = await http.request("POST", f"/j/{code}/join", {"me": phone.me})
        if status != 200 or json.loads(body).get("seed") != phone.seed:
            return f"join: HTTP {status} {body[:160]!r}"
        status, body = await http.request(
            "POST", f"/j/{code}/run", {"me": phone.me, "summary": json.loads(phone.runs["post"])}
        )
        return None if status == 200 else f"run: HTTP {status} {body[:160]!r}"
    finally:
        await http.close()


async def _standing(port: int, code: str, trained: int, within: float = 20.0) -> dict:
    """The room's standing as phones hear it, once it counts ``trained`` runs (or after ``within`` seconds): it
    is read again at most every second (``page.server.hub``)."""
    http = Http(port, 30.0)
    try:
        deadline = time.perf_counter() + within
        while True:
            _, body = await http.request("GET", f"/j/{code}/standing")
            standing = json.loads(body)
            if standing.get("trained") == trained or time.perf_counter() > deadline:
                return standing
            await asyncio.sleep(0.5)
    finally:
        await http.close()


def test_a_thousand_scripted_joins_leave_every_seat_to_the_phones_that_train(hall: StreamlitServer) -> None:
    phones = make_phones(PHONES, [hall.port], ["post"])

    async def scenario() -> tuple[float, dict]:
        presenter, code = await open_room(hall.port)
        try:
            statuses, rate = await _scripted_joins(hall.port, code)
            assert statuses == Counter({200: SCRIPTED_JOINS}), statuses  # a hall's rate from one address gets in
            await skip_question(presenter, code)  # Train opens without a vote (``train_waits``)
            failures = await asyncio.gather(*(_phone(p, code) for p in phones))
            assert failures == [None] * PHONES, [f for f in failures if f]
            return rate, await _standing(hall.port, code, trained=PHONES)
        finally:
            await presenter.close()

    rate, standing = asyncio.run(asyncio.wait_for(scenario(), TIMEOUT))
    assert standing["trained"] == PHONES and standing["seated"] == PHONES  # every phone's run, and no script's
    assert standing["joined"] >= PHONES and standing["closed"] is None
    print(f"\n{SCRIPTED_JOINS:,} scripted joins from 127.0.0.1 at {rate:.0f} a second; {PHONES} phones trained")


def test_fifty_scripted_rooms_then_a_new_speaker_gets_one_within_a_minute(hall: StreamlitServer) -> None:
    async def open_new() -> tuple[str | None, list[str]]:
        session = WallSession(hall.port, timeout=60.0)
        await session.connect()
        try:
            shown = await session.run("room=new")
            return room_code(shown.texts), shown.texts
        finally:
            await session.close()

    async def scenario() -> tuple[int, int, float]:
        made = refused = 0
        for _ in range(SCRIPTED_ROOMS // 10):  # ten tabs at a time
            for code, texts in await asyncio.gather(*(open_new() for _ in range(10))):
                if code is not None:
                    made += 1
                elif any("Too many new rooms from here" in t for t in texts):
                    refused += 1
        started = time.perf_counter()
        while time.perf_counter() - started < SPEAKER_WAIT:
            try:
                presenter, _ = await open_room(hall.port, timeout=30.0)
            except RuntimeError:
                await asyncio.sleep(2.0)  # the speaker reads "try again in N s" and does
                continue
            await presenter.close()
            return made, refused, time.perf_counter() - started
        pytest.fail(f"no room for the new speaker within {SPEAKER_WAIT:.0f} s")

    made, refused, waited = asyncio.run(asyncio.wait_for(scenario(), TIMEOUT))
    assert made + refused == SCRIPTED_ROOMS  # every tab got a room or was told to slow down, nothing else
    assert 1 <= made <= ROOMS.burst + 2  # the script's burst, plus what refilled while it ran
    assert waited < SPEAKER_WAIT
    print(f"\n{SCRIPTED_ROOMS} scripted ?room=new: {made} rooms, {refused} refused; the speaker waited {waited:.1f} s")
