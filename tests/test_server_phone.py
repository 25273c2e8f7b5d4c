"""The light phone's routes (page.server.phone) on the real ``streamlit run app.py`` server, over HTTP.

A room is created as a presenter's browser does (``?room=new`` through Streamlit's websocket protocol,
``bench.room.open_room``); phones are plain HTTP requests, as the phone's page sends them. Oracles:
``lucky5.train`` for the runs, ``participant_seed`` for the seeds, and the room's own counts.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import json
import queue
import threading
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from bench.harness import StreamlitServer
from bench.room import open_room, press, skip_question
from lucky5.engine import train
from lucky5.room import QUESTIONS, STAGES, participant_seed, summarize
from lucky5.room.votes import PREDICT_FIRST, VOTE_FIRST

pytestmark = pytest.mark.slow
ALICE, BOB = "alice-phone-id-00000001"[:22], "bob-phone-id-000000001x"[:22]


def call(server: StreamlitServer, path: str, body: Any = None, raw: bytes | None = None) -> tuple[int, Any]:
    """(status, parsed JSON) of a GET, or of a POST when ``body`` or ``raw`` is given."""
    data = raw if raw is not None else None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(server.url + path.lstrip("/"), data=data, method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def told_vote(server: StreamlitServer, room: str, is_open: bool) -> dict[str, Any]:
    """The vote as the room's feed tells phones, once it says ``open`` is ``is_open`` (or after 5 s): the feed
    reads the store every ``hub.TICK`` s, so a press shows there a moment later, not at once."""
    deadline = time.monotonic() + 5
    while (told := call(server, f"j/{room}/standing")[1]["vote"])["open"] is not is_open:
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    return told


@pytest.fixture(scope="module")
def code(page_server: StreamlitServer) -> str:
    async def make() -> str:
        presenter, made = await open_room(page_server.port)
        await presenter.close()
        return made

    return asyncio.run(make())


def test_the_page_is_one_small_compressed_file_the_same_for_every_room(page_server: StreamlitServer, code: str):
    pages = []
    for path in (f"j/{code}", "j/ABCDEF", f"j/{code.lower()}"):
        request = urllib.request.Request(page_server.url + path, headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.headers["Content-Encoding"] == "gzip"
            pages.append(response.read())
    assert pages[0] == pages[1] == pages[2] and len(pages[0]) < 20_000
    html = gzip.decompress(pages[0]).decode()
    assert "lucky5.Run" in html and "/*TRAIN_JS*/" not in html  # the run in JavaScript, inlined
    assert html.count("</script>") == 2  # train.js's text cannot close its own script element
    plain = urllib.request.urlopen(page_server.url + f"j/{code}", timeout=30).read()
    assert plain.decode() == html


def test_joining_is_idempotent_with_the_phones_own_id(page_server: StreamlitServer, code: str) -> None:
    for _ in range(3):  # a retried join, a reload, a rescan
        status, joined = call(page_server, f"j/{code}/join", {"me": ALICE})
        assert status == 200 and joined["me"] == ALICE and joined["seed"] == participant_seed(ALICE)
    assert joined["standing"]["stage"]["name"] == "post"
    status, fresh = call(page_server, f"j/{code.lower()}/join", {"me": "<b>not an id</b>"})
    assert status == 200 and fresh["me"] != ALICE and len(fresh["me"]) == 22
    status, again = call(page_server, f"j/{code}/join", {"me": ALICE})
    assert again["standing"]["joined"] in (1, 2)  # the feed may not have read the second join yet
    deadline = time.monotonic() + 5
    while call(page_server, f"j/{code}/standing")[1]["joined"] != 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert call(page_server, f"j/{code}/standing")[1]["joined"] == 2


@pytest.mark.parametrize(
    ("path", "raw", "status", "reason"),
    [
        ("j/ABC/join", b"{}", 404, "bad_code"),
        ("j/ABCDEF/join", b"{}", 404, "unknown"),
        ("j/{code}/join", b"not json", 400, "bad_request"),
        ("j/{code}/join", b"[1, 2]", 400, "bad_request"),
        ("j/{code}/join", b'{"me": "' + b"x" * 9000 + b'"}', 400, "bad_request"),
        ("j/{code}/join", b"\xff\xfe", 400, "bad_request"),
        ("j/{code}/run", b'{"me": "x", "summary": {"seed": 1}}', 400, "bad_summary"),
        ("j/{code}/run", b'{"me": "Z", "summary": SUMMARY}', 400, "unknown_participant"),  # not an id
    ],
)
def test_refusals_are_json_with_a_reason(page_server: StreamlitServer, code: str, path, raw, status, reason) -> None:
    summary = summarize(train(STAGES["post"].config(seed=1))).to_json()
    got_status, body = call(page_server, path.format(code=code), raw=raw.replace(b"SUMMARY", summary))
    assert (got_status, body["reason"]) == (status, reason), body
    assert isinstance(body["error"], str) and "Traceback" not in body["error"]


def test_an_honest_run_stays_on_the_wall_and_a_forged_one_is_taken_off(page_server: StreamlitServer) -> None:
    honest = summarize(train(STAGES["post"].config(participant_seed(ALICE))))
    bob_run = summarize(train(STAGES["post"].config(participant_seed(BOB))))
    forged = dataclasses.replace(bob_run, b=5.0)  # Bob says his layer learned the lucky number exactly

    async def make() -> str:
        presenter, made = await open_room(page_server.port)
        try:
            # Predict first: before the presenter opens the vote or skips the question, no run goes on the wall
            assert call(page_server, f"j/{made}/join", {"me": ALICE})[0] == 200
            status, body = call(page_server, f"j/{made}/run", {"me": ALICE, "summary": json.loads(honest.to_json())})
            assert (status, body) == (409, {"error": PREDICT_FIRST, "reason": "vote_first"})
            assert call(page_server, f"j/{made}/standing")[1]["trained"] == 0
            await skip_question(presenter, made)
        finally:
            await presenter.close()
        return made

    room = asyncio.run(make())
    before = call(page_server, "j/checks")[1]
    for me, run in ((ALICE, honest), (BOB, forged)):
        assert call(page_server, f"j/{room}/join", {"me": me})[0] == 200
        status, sent = call(page_server, f"j/{room}/run", {"me": me, "summary": json.loads(run.to_json())})
        assert (status, sent) == (200, {"ok": True})  # both go on the wall at once: the check comes after
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        checks = call(page_server, "j/checks")[1]
        if checks["checked"] >= before["checked"] + 2 and checks["pending"] == 0:
            break
        time.sleep(0.25)
    assert checks["dropped"] == before["dropped"] + 1
    deadline = time.monotonic() + 5
    while call(page_server, f"j/{room}/standing")[1]["trained"] != 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    standing = call(page_server, f"j/{room}/standing")[1]
    assert standing["trained"] == 1 and standing["medians"]["b"] == pytest.approx(honest.b, rel=1e-6)


def _read_events(url: str, out: queue.Queue, stop: threading.Event) -> None:
    with urllib.request.urlopen(url, timeout=30) as response:
        while not stop.is_set():
            line = response.readline()
            if not line:
                return
            if line.startswith(b"data: "):
                out.put((time.monotonic(), json.loads(line[6:])))


def test_every_phone_hears_a_stage_change_within_a_second(page_server: StreamlitServer) -> None:
    async def scenario() -> list[float]:
        presenter, room = await open_room(page_server.port)
        streams: list[queue.Queue] = [queue.Queue() for _ in range(5)]
        stop = threading.Event()
        for q in streams:
            url = page_server.url + f"j/{room}/events"
            threading.Thread(target=_read_events, args=(url, q, stop), daemon=True).start()
        for q in streams:
            _, first = await asyncio.to_thread(q.get, True, 30)
            assert first["stage"]["name"] == "post"
        press(presenter, f"2. {STAGES['patience'].title}")
        pressed = time.monotonic()  # the store changes after this, during the run: lags below are upper bounds
        moved = await presenter.run(f"room={room}")
        assert moved.ok, moved.problem()
        lags = []
        for q in streams:
            while True:
                at, event = await asyncio.to_thread(q.get, True, 30)
                if event.get("stage", {}).get("name") == "patience":
                    lags.append(at - pressed)
                    break
        stop.set()
        await presenter.close()
        return lags

    lags = asyncio.run(scenario())
    assert max(lags) <= 1.0, lags


def test_a_phone_votes_while_the_vote_is_open_and_only_then(page_server: StreamlitServer) -> None:
    async def presenter_presses(presenter, room: str, label: str) -> None:
        press(presenter, label)
        result = await presenter.run(f"room={room}")
        assert result.ok, result.problem()

    async def scenario() -> None:
        presenter, room = await open_room(page_server.port)
        try:
            for me in (ALICE, BOB):
                assert call(page_server, f"j/{room}/join", {"me": me})[0] == 200
            status, body = call(page_server, f"j/{room}/vote", {"me": ALICE, "stage": "post", "choices": ["1-2"]})
            assert (status, body["reason"]) == (409, "vote_closed") and "not opened" in body["error"]
            assert call(page_server, f"j/{room}/standing")[1]["vote"]["train"] == PREDICT_FIRST  # predict first
            await presenter_presses(presenter, room, "Open the vote")
            for choices in (["lt1"], ["1-2"]):  # a changed vote
                assert call(page_server, f"j/{room}/vote", {"me": ALICE, "stage": "post", "choices": choices}) == (
                    200,
                    {"ballot": choices},
                )
            hostile = [["<b>x</b>"], "1-2 2-3", ["1-2", "2-3"], [], None, {"1-2": 1}, ["x" * 5000]]
            for choices in hostile:
                status, body = call(page_server, f"j/{room}/vote", {"me": BOB, "stage": "post", "choices": choices})
                assert (status, body["reason"]) == (400, "bad_vote") and "<b>" not in body["error"], choices
            for raw in (b"not json", b'{"me": 1, "stage": "post"}', b'{"me": "' + BOB.encode() + b'"}'):
                assert call(page_server, f"j/{room}/vote", raw=raw)[1]["reason"] == "bad_request"
            # a phone whose join ran out comes back by voting, as a join would let it in; a malformed id never
            assert call(page_server, f"j/{room}/vote", {"me": "Z" * 22, "stage": "post", "choices": ["1-2"]}) == (
                200,
                {"ballot": ["1-2"]},
            )
            status, body = call(page_server, f"j/{room}/vote", {"me": "<b>", "stage": "post", "choices": ["1-2"]})
            assert (status, body["reason"]) == (400, "unknown_participant"), (status, body)
            # a reload: the join answers the phone's own vote; the event says the vote is open, not how it stands
            assert told_vote(page_server, room, True)["round"] == 1
            status, joined = call(page_server, f"j/{room}/join", {"me": ALICE})
            assert joined["ballot"] == ["1-2"] and call(page_server, f"j/{room}/join", {"me": BOB})[1]["ballot"] == []
            assert joined["standing"]["question"]["text"] == QUESTIONS["post"].text
            assert joined["standing"]["vote"] == {
                "stage": "post", "round": 1, "open": True, "skipped": False, "revealed": False,
                "train": VOTE_FIRST,
            }  # fmt: skip
            await presenter_presses(presenter, room, "Close voting")
            status, body = call(page_server, f"j/{room}/vote", {"me": BOB, "stage": "post", "choices": ["1-2"]})
            assert (status, body) == (
                409,
                {"error": "Voting is closed: your vote was not counted.", "reason": "vote_closed"},
            )
            told = told_vote(page_server, room, False)
            assert told["open"] is False and told["train"] is None  # closed: the phones' Train opens
        finally:
            await presenter.close()

    asyncio.run(scenario())
