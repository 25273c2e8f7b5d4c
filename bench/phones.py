"""Light phones under load: a hall of phones on the short join link ``/j/CODE``, over real HTTP.

Called by ``python -m bench.room --light`` (see there for the options). Each phone does what the phone's page
does in a browser (``page/server/phone.html``), with plain HTTP/1.1 over asyncio streams:

1. ``GET /j/CODE`` (the page, gzip accepted), ``POST /j/CODE/join`` with the id the phone drew, and
   ``GET /j/CODE/events``: one server-sent-event stream it keeps open, reading every event;
2. stage 1: once its stream says Train is open (the presenter closed the stage's vote or skipped its
   question, ``lucky5.room.votes.train_waits``), it trains (the browser's JavaScript; here a pause of
   ``train_seconds`` per stage, since the bench's two cores must not stand in for a thousand phones: the
   summaries are trained before the crowd, with ``train_many``, from the ids the phones will draw) and
   ``POST /j/CODE/run``; its time is from opening the join link to the answer of that POST ("your run is on
   the wall");
3. the presenter moves to stage 2: each phone's stream must bring the new stage (its lag, from the moment
   the presenter's click left, is an upper bound); each phone then trains again after a random pause within
   ``spread`` and posts its stage-2 run (its time: from pressing Train to the answer);
4. afterwards the bench waits until every server has checked every run (``GET /j/checks``).

A phone that cannot connect, gets an error, or times out is a failure with its phase, never a crash. Only
loopback addresses are used; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import random
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.harness import HOST
from lucky5.room import QUESTIONS, STAGES, participant_seed, summarize

MAX_HEADER_LINES = 100


class HttpError(RuntimeError):
    pass


class Http:
    """One keep-alive HTTP/1.1 connection to a loopback server, as a browser holds one per origin."""

    def __init__(self, port: int, timeout: float) -> None:
        self.port, self.timeout = port, timeout
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None or self._writer.is_closing():
            self._reader, self._writer = await asyncio.open_connection(HOST, self.port, limit=1 << 20)
        return self._reader, self._writer

    async def send(self, method: str, path: str, body: bytes | None = None) -> asyncio.StreamReader:
        reader, writer = await self._connect()
        head = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{self.port}", "Accept-Encoding: gzip"]
        if body is not None:
            head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + (body or b""))
        await writer.drain()
        return reader

    async def request(self, method: str, path: str, data: Any = None) -> tuple[int, bytes]:
        """(status, body, decompressed) of one request; the body must have a Content-Length or be chunked.

        A kept-alive connection the server closed while idle (uvicorn closes them after a few seconds) is
        opened again once, as a browser does.
        """
        reused = self._writer is not None and not self._writer.is_closing()
        try:
            return await self._request(method, path, data)
        except (HttpError, ConnectionError, asyncio.IncompleteReadError):
            if not reused:
                raise
            await self.close()
            self._reader = self._writer = None
            return await self._request(method, path, data)

    async def _request(self, method: str, path: str, data: Any) -> tuple[int, bytes]:
        body = None if data is None else json.dumps(data).encode()
        reader = await self.send(method, path, body)
        status, headers = await read_head(reader)
        if "content-length" in headers:
            payload = await reader.readexactly(int(headers["content-length"]))
        else:
            payload = b"".join([chunk async for chunk in chunks(reader)])
        if headers.get("content-encoding") == "gzip":
            payload = gzip.decompress(payload)
        return status, payload

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(Exception):
                await self._writer.wait_closed()


async def read_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    line = await reader.readline()
    if not line:
        raise HttpError("the server closed the connection")
    status = int(line.split()[1])
    headers: dict[str, str] = {}
    for _ in range(MAX_HEADER_LINES):
        line = await reader.readline()
        if line in (b"\r\n", b""):
            return status, headers
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    raise HttpError("too many header lines")


async def chunks(reader: asyncio.StreamReader):
    """The chunks of a chunked body, until its last (empty) chunk."""
    while True:
        size = int((await reader.readline()).split(b";")[0], 16)
        if size == 0:
            await reader.readline()
            return
        data = await reader.readexactly(size)
        await reader.readexactly(2)
        yield data


@dataclass
class LightPhone:
    """One phone of the crowd: its id, seed and runs, and what happened to it."""

    index: int
    me: str
    port: int
    runs: dict[str, str] = field(default_factory=dict)  # stage -> its Summary as JSON (trained beforehand)
    phase: str = "connect"
    failure: str | None = None
    joined_s: float | None = None  # from opening the link to its seed on screen
    first_s: float | None = None  # stage 1: from opening the link to its run on the wall
    second_s: float | None = None  # stage 2: from pressing Train to its run on the wall
    posted_at: list[float] = field(default_factory=list)  # perf_counter of each run's accepted POST
    voted_s: list[float] = field(default_factory=list)  # with votes: each stage's vote POST, sent to accepted
    events: list[tuple[float, str]] = field(default_factory=list)  # (perf_counter, stage) of each event
    # Per stage, set once an event said that Train is open (``lucky5.room.votes.train_waits``): the vote on the
    # stage's question was closed or skipped. The phone trains only then, as the light phone's page does.
    train_open: dict[str, asyncio.Event] = field(default_factory=dict)

    @property
    def seed(self) -> int:
        return participant_seed(self.me)

    def stage_seen_at(self, stage: str) -> float | None:
        return next((t for t, s in self.events if s == stage), None)

    def may_train(self, stage: str) -> asyncio.Event:
        return self.train_open.setdefault(stage, asyncio.Event())


def make_phones(n: int, ports: Sequence[int], stages: Sequence[str], batch: int = 32) -> list[LightPhone]:
    """``n`` phones with the ids they will draw (spread over ``ports`` in turn) and their runs, trained now."""
    from lucky5 import train_many

    phones = [LightPhone(i, secrets.token_urlsafe(16), ports[i % len(ports)]) for i in range(n)]
    for stage in stages:
        config = STAGES[stage].config(0)
        for start in range(0, n, batch):
            group = phones[start : start + batch]
            for phone, history in zip(group, train_many(config, seeds=[p.seed for p in group]), strict=True):
                phone.runs[stage] = summarize(history).to_json().decode()
    return phones


async def _listen(phone: LightPhone, code: str, timeout: float, first: asyncio.Event, stop: asyncio.Event) -> None:
    """The phone's event stream: every event's stage, with its arrival time, until ``stop``."""
    http = Http(phone.port, timeout)
    try:
        reader = await http.send("GET", f"/j/{code}/events")
        status, _ = await read_head(reader)
        if status != 200:
            raise HttpError(f"events: HTTP {status}")
        buffer = b""
        async for chunk in chunks(reader):
            buffer += chunk
            while b"\n\n" in buffer:
                event, buffer = buffer.split(b"\n\n", 1)
                if event.startswith(b"data: "):
                    data = json.loads(event[6:])
                    stage = data.get("stage", {}).get("name", "error")
                    phone.events.append((time.perf_counter(), stage))
                    vote = data.get("vote") or {}
                    if vote.get("stage") == stage and vote.get("train", "") is None:
                        phone.may_train(stage).set()
                    first.set()
            if stop.is_set():
                return
    finally:
        first.set()
        await http.close()


async def _post_run(http: Http, phone: LightPhone, code: str, stage: str) -> None:
    status, body = await http.request(
        "POST", f"/j/{code}/run", {"me": phone.me, "summary": json.loads(phone.runs[stage])}
    )
    if status != 200:
        raise HttpError(f"run: HTTP {status} {body[:120]!r}")
    phone.posted_at.append(time.perf_counter())


@dataclass
class Voting:
    """With votes (``bench.room --vote``): per stage, set when the presenter opened its vote and when they closed
    it. Every phone votes once the vote is open and trains only after the close, as the light phone does."""

    opened: dict[str, asyncio.Event] = field(default_factory=dict)
    closed: dict[str, asyncio.Event] = field(default_factory=dict)

    @classmethod
    def stages(cls, names: Sequence[str]) -> Voting:
        return cls({n: asyncio.Event() for n in names}, {n: asyncio.Event() for n in names})


async def _vote(http: Http, phone: LightPhone, code: str, stage: str, voting: Voting) -> float:
    """Wait for the vote, cast one of the question's choices (by the phone's index), wait for the close; returns
    perf_counter at the close: the moment the phone's Train button opens."""
    await voting.opened[stage].wait()
    ids = QUESTIONS[stage].ids
    sent = time.perf_counter()
    body = {"me": phone.me, "stage": stage, "choices": [ids[phone.index % len(ids)]]}
    status, answer = await http.request("POST", f"/j/{code}/vote", body)
    if status != 200:
        raise HttpError(f"vote: HTTP {status} {answer[:120]!r}")
    phone.voted_s.append(time.perf_counter() - sent)
    await voting.closed[stage].wait()
    return time.perf_counter()


async def phone_life(
    phone: LightPhone,
    code: str,
    delay: float,
    train_s: dict[str, float],
    timeout: float,
    moved: asyncio.Event,
    second_delay: float,
    stop: asyncio.Event,
    voting: Voting | None = None,
) -> LightPhone:
    """One phone from opening the link to its stage-2 run; failures are recorded, never raised. With ``voting``,
    it votes before each stage's training, and stage 1's time counts from the vote's close (its Train button)."""
    await asyncio.sleep(delay)
    http, first, listener = Http(phone.port, timeout), asyncio.Event(), None
    try:
        async with asyncio.timeout(timeout):
            started = time.perf_counter()
            status, page = await http.request("GET", f"/j/{code}")
            if status != 200 or b"lucky5.Run" not in page:
                raise HttpError(f"page: HTTP {status}")
            phone.phase = "join"
            status, body = await http.request("POST", f"/j/{code}/join", {"me": phone.me})
            joined = json.loads(body)
            if status != 200 or joined.get("me") != phone.me or joined.get("seed") != phone.seed:
                raise HttpError(f"join: HTTP {status} {body[:120]!r}")
            phone.joined_s = time.perf_counter() - started
            phone.phase = "events"
            listener = asyncio.ensure_future(_listen(phone, code, timeout, first, stop))
            await first.wait()
            if not phone.events:
                raise HttpError("the event stream ended before its first event")
            if voting is not None:
                phone.phase = "vote 1"
                started = max(started, await _vote(http, phone, code, "post", voting))
            phone.phase = "wait for Train 1"
            await phone.may_train("post").wait()  # the presenter closed the vote or skipped the question
            phone.phase = "train 1"
            await asyncio.sleep(train_s["post"])
            await _post_run(http, phone, code, "post")
            phone.first_s = time.perf_counter() - started
        phone.phase = "wait for stage 2"
        await asyncio.wait_for(moved.wait(), 4 * timeout)
        if voting is not None:
            phone.phase = "vote 2"
            async with asyncio.timeout(4 * timeout):
                await _vote(http, phone, code, "patience", voting)
        await asyncio.sleep(second_delay)
        async with asyncio.timeout(timeout):
            phone.phase = "wait for Train 2"
            await phone.may_train("patience").wait()
            phone.phase = "train 2"
            pressed = time.perf_counter()
            await asyncio.sleep(train_s["patience"])
            await _post_run(http, phone, code, "patience")
            phone.second_s = time.perf_counter() - pressed
            phone.phase = "done"
    except TimeoutError:
        phone.failure = "timed out"
    except Exception as err:  # every way a phone can fail is a finding to report
        phone.failure = f"{type(err).__name__}: {str(err)[:160]}"
    finally:
        await http.close()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), 8 * timeout)  # the stream stays open until the crowd is done
    if listener is not None:
        listener.cancel()
        with contextlib.suppress(BaseException):
            await listener
    return phone


def arrivals(n: int, spread: float, rng: random.Random) -> list[float]:
    return sorted(rng.uniform(0, spread) for _ in range(n))


# ---------------------------------------------------------------- the crowd and its report


@dataclass
class LightReport:
    participants: int
    replicas: int
    redis: bool
    phones: list[LightPhone]
    wall_after_last_run: dict[str, float | None]  # stage -> s from the last accepted POST to a wall counting all
    stage_lags: list[float]  # per phone that saw it: s from the presenter's click to the new stage's event
    checked_after_s: float | None  # s from the last accepted POST until every server had checked every run
    checks: list[dict[str, Any]]  # each server's /j/checks at the end
    cpu_seconds: list[float]  # per server, during the crowds (checks included)
    rss_peak_mb: list[float]  # per server: its largest process
    rss_by_process: list[dict[str, float]]  # per server: each process's peak (the server, its checker)
    cpu_by_process: list[dict[str, float]]  # per server: each process's CPU seconds during the crowds
    load: tuple[float, float]  # the machine's 1-minute load average at the start and at the end
    client_cpu_seconds: float  # this bench's own process during the crowds: its phones share the servers' cores
    voted: dict[str, int | None] = field(default_factory=dict)  # with votes: stage -> "N voted" on the wall

    @property
    def failures(self) -> list[LightPhone]:
        return [p for p in self.phones if p.failure is not None]


async def wait_for_checks(ports: Sequence[int], expected: int, timeout: float) -> tuple[list[dict], float]:
    """Poll every server's ``/j/checks`` until all runs are checked; (their last answers, perf_counter then)."""
    deadline = time.perf_counter() + timeout
    answers: list[dict] = []
    while time.perf_counter() < deadline:
        answers = []
        for port in ports:
            http = Http(port, 30)
            try:
                status, body = await http.request("GET", "/j/checks")
                answers.append(json.loads(body) if status == 200 else {})
            finally:
                await http.close()
        if sum(a.get("checked", 0) for a in answers) >= expected and all(a.get("pending") == 0 for a in answers):
            break
        await asyncio.sleep(0.25)
    return answers, time.perf_counter()


class PeakPerProcess:
    """The peak RSS of each process of a server's tree (the server, its checker process), sampled in a thread,
    and the tree's CPU seconds over the block. The bar is per process: a tree's sum would add the checker's."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        import threading

        self.pid, self.interval = pid, interval
        self.peaks: dict[str, float] = {}  # "server" / "checker" (or the command) -> MB
        self.cpu: dict[str, float] = {}  # the same names -> CPU seconds over the block (processes alive at its end)
        self.cpu_seconds = 0.0
        self._first_cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakPerProcess:
        from bench.harness import tree_cpu_seconds

        self._cpu = tree_cpu_seconds(self.pid)
        self._sample_once()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        from bench.harness import tree_cpu_seconds

        self._stop.set()
        self._thread.join(timeout=5)
        self._sample_once()
        self.cpu_seconds = tree_cpu_seconds(self.pid) - self._cpu

    def _sample_once(self) -> None:
        import psutil  # type: ignore[import-untyped]

        try:
            root = psutil.Process(self.pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            return
        for proc in procs:
            try:
                name = "server" if proc.pid == self.pid else "checker" if "lucky5.room.check" in " ".join(
                    proc.cmdline()) else proc.name()  # fmt: skip
                self.peaks[name] = max(self.peaks.get(name, 0.0), proc.memory_info().rss / 2**20)
                times = proc.cpu_times()
                used = times.user + times.system
                self._first_cpu.setdefault(proc.pid, used)
                self.cpu[name] = used - self._first_cpu[proc.pid]
            except psutil.Error:
                continue

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample_once()
