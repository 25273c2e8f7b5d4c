"""The light phone: a room's join link ``/j/CODE``, served by Streamlit's own server as routes of ``st.App``.

A phone in a hall is not a Streamlit session. It loads one small page (``phone.html``, with the run in
JavaScript, ``lucky5/static/train.js``, inlined; sent gzip-compressed, compressed once), joins, follows the
room through one server-sent-event stream, trains in the browser and sends its run's ``Summary``:

- ``GET  /j/CODE``: the page (the same bytes for every room: the code is read from the address);
- ``POST /j/CODE/join`` ``{"me": id}``: joins, idempotently. The phone draws its own participant id and keeps
  it, so a reload, a rescan, a reconnect or a retried join is the same participant, counted once. Answers
  ``{"me", "seed", "standing", "ballot"}`` (``ballot``: its vote on the stage's question, [] if none);
- ``GET  /j/CODE/events``: the room's standing (``lucky5.room.standing``) now and at every change, one event
  shared by all phones of the room (``hub``); ``GET /j/CODE/standing`` answers it once (browsers without SSE);
- ``POST /j/CODE/run`` ``{"me": id, "summary": {...}}``: puts the run on the wall; ``checker`` replays it in
  the background and takes it off again if it is not what its seed gives;
- ``POST /j/CODE/vote`` ``{"me": id, "stage": name, "choices": [ids]}``: casts or changes its vote on the
  stage's question while the presenter keeps voting open (``lucky5.room.votes``); answers ``{"ballot"}``;
- ``GET  /j/ping``: "ok", for the wall to check that this route is reachable (else it offers ``?join=CODE``);
  ``GET /j/checks``: this process's check counts.

Refusals are JSON ``{"error": message, "reason": ...}`` with a 4xx status; every body is parsed totally.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from lucky5.room import JOINS, RUNS, STAGES, MemoryStore, RoomError, Summary, normalize_code, participant_seed
from lucky5.room import shared_store as store
from lucky5.room.codes import check_participant
from lucky5.room.limits import address
from lucky5.room.votes import train_waits

from .checker import Checker
from .compress import accepts_gzip
from .hub import Hub

HERE = Path(__file__).resolve().parent
TRAIN_JS = HERE.parent.parent / "lucky5" / "static" / "train.js"
MAX_BODY = 8192  # bytes of a request body: a Summary is at most 4 kB of JSON
STATUS = {
    "bad_code": 404,
    "unknown": 404,
    "full": 409,
    "kept": 409,
    "locked": 409,
    "removed": 409,
    "wrong_stage": 409,
    "slow_down": 429,
    "busy": 503,
    "unavailable": 503,
    "vote_closed": 409,
    "vote_first": 409,
}

T = TypeVar("T")
hub = Hub(store)
checker = Checker(store)


@cache
def page_bytes() -> tuple[bytes, bytes]:
    """The phone's page (train.js inlined) and its gzip, made once per process."""
    script = TRAIN_JS.read_text(encoding="utf-8").replace("</", "<\\/")  # nothing in it may close the <script>
    html = (HERE / "phone.html").read_text(encoding="utf-8").replace("/*TRAIN_JS*/", script).encode()
    return html, gzip.compress(html, 9, mtime=0)


async def in_store(call: Callable[[], T]) -> T:
    """``call`` on the store: at once for rooms in this process's memory (a lock held for microseconds), in a
    worker thread for Redis (a network round trip would block every phone of this server)."""
    if isinstance(store(), MemoryStore):
        return call()
    return await to_thread.run_sync(call)


def refusal(err: RoomError) -> JSONResponse:
    body: dict[str, Any] = {"error": str(err), "reason": err.reason}
    headers = {}
    if err.retry_after is not None:
        body["retry_after"] = err.retry_after
        headers["Retry-After"] = str(err.retry_after)
    return JSONResponse(body, status_code=STATUS.get(err.reason, 400), headers=headers)


def client(request: Request) -> str:
    """The client's address, as uvicorn reports it: the peer's own, or the one ``X-Forwarded-For`` names when the
    peer is a proxy uvicorn trusts (``FORWARDED_ALLOW_IPS``; README, "Limits per address")."""
    return address(request.client.host if request.client else None)


def bad_request(why: str) -> JSONResponse:
    return JSONResponse({"error": why, "reason": "bad_request"}, status_code=400)


async def read_json(request: Request) -> dict[str, Any] | None:
    """The request's JSON object, or None for anything else (too long, not UTF-8, not JSON, not an object)."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return None
    try:
        data = json.loads(body.decode("utf-8"), parse_constant=lambda _: None, parse_int=_number)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _number(text: str) -> int | float:
    """A JSON whole number: JavaScript writes every number below 1e21 without an exponent (a blown-up b of
    1.3e20 arrives as 21 digits), and all its numbers are doubles: long ones are read as floats."""
    return int(text) if len(text) <= 18 else float(text)


async def phone_page(request: Request) -> Response:
    html, packed = page_bytes()
    headers = {"Cache-Control": "no-cache", "Referrer-Policy": "no-referrer", "Vary": "Accept-Encoding"}
    if accepts_gzip(request.scope.get("headers", [])):
        return Response(packed, media_type="text/html", headers={**headers, "Content-Encoding": "gzip"})
    return Response(html, media_type="text/html", headers=headers)


async def join(request: Request) -> Response:
    data = await read_json(request)
    if data is None:
        return bad_request("Send a JSON object.")
    try:
        code = normalize_code(request.path_params["code"])
        me = data.get("me")
        who = client(request)
        participant = await in_store(lambda: _join(code, me, who))
        standing = await hub.feed(code).first()
        if standing is None or "error" in standing:
            return JSONResponse(standing or {"error": "The room is not answering.", "reason": "unavailable"}, 503)
        stage = standing["stage"]["name"]
        ballot = await in_store(lambda: store().ballot(code, participant, stage))
    except RoomError as err:
        return refusal(err)
    seed = participant_seed(participant)
    return JSONResponse({"me": participant, "seed": seed, "standing": standing, "ballot": list(ballot)})


async def events(request: Request) -> Response:
    try:
        feed = hub.feed(normalize_code(request.path_params["code"]))
    except RoomError as err:
        return refusal(err)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}  # nginx must not hold events back
    return StreamingResponse(feed.stream(), media_type="text/event-stream", headers=headers)


async def standing(request: Request) -> Response:
    try:
        state = await hub.feed(normalize_code(request.path_params["code"])).first()
    except RoomError as err:
        return refusal(err)
    return JSONResponse(state or {"error": "The room is not answering.", "reason": "unavailable"})


async def run(request: Request) -> Response:
    data = await read_json(request)
    if data is None or not isinstance(data.get("summary"), dict):
        return bad_request("Send a JSON object with your run's summary.")
    try:
        code = normalize_code(request.path_params["code"])
        me = data.get("me")
        summary = Summary.from_json(json.dumps(data["summary"]))
        if not isinstance(me, str):
            raise RoomError("unknown_participant", "This phone is not in the room: join again.")
        stage = await in_store(lambda: _submit(code, me, summary))
    except RoomError as err:
        return refusal(err)
    checker.add(code, me, summary, stage)
    return JSONResponse({"ok": True})


def _join(code: str, me: Any, who: str) -> str:
    """One join from address ``who`` (``JOINS``: a hall behind one address gets in at once), with the phone's id."""
    store().limit(JOINS, who)
    return store().join(code, again=me, adopt=True)


def _submit(code: str, participant: str, summary: Summary) -> str:
    """Submit (``RUNS`` per participant of the room), and name the stage it was accepted for (the stage its
    settings fit: stages differ in epochs). Refused (``vote_first``) while Train waits for the stage's vote
    (``train_waits``): the phone's page holds Train back, and a script may not put a run on the wall early,
    where the room would see an outcome before it predicts it."""
    store().limit(RUNS, f"{code}:{participant[:40]}")
    check_participant(participant)  # a malformed id is told so before anything about the room
    waits = train_waits(store().poll(code, store().pulse(code).stage))
    if waits is not None:
        raise RoomError("vote_first", waits)
    store().submit(code, participant, summary)
    return next(s.name for s in STAGES.values() if s.problem(summary) is None)


async def vote(request: Request) -> Response:
    data = await read_json(request)
    if data is None:
        return bad_request("Send a JSON object with your vote.")
    me, stage, choices = data.get("me"), data.get("stage"), data.get("choices")
    if not isinstance(me, str) or not isinstance(stage, str):
        return bad_request("Send your participant id and the stage you vote on.")
    try:
        code = normalize_code(request.path_params["code"])
        ballot = await in_store(lambda: store().cast(code, me, stage, choices))
    except RoomError as err:
        return refusal(err)
    return JSONResponse({"ballot": list(ballot)})


async def ping(request: Request) -> Response:
    return PlainTextResponse("ok", headers={"Cache-Control": "no-store", "Access-Control-Allow-Origin": "*"})


async def checks(request: Request) -> Response:
    return JSONResponse(checker.stats(), headers={"Cache-Control": "no-store"})


def routes() -> list[Route]:
    """The light phone's routes (literal paths first: ``ping`` is not a room code)."""
    return [
        Route("/j/ping", ping),
        Route("/j/checks", checks),
        Route("/j/{code}", phone_page),
        Route("/j/{code}/join", join, methods=["POST"]),
        Route("/j/{code}/events", events),
        Route("/j/{code}/standing", standing),
        Route("/j/{code}/run", run, methods=["POST"]),
        Route("/j/{code}/vote", vote, methods=["POST"]),
    ]
