"""A room under load: a presenter's wall refreshing while a crowd of phones joins and trains.

Run from the repository root: ``python -m bench.room`` (100 participants; ``--participants 20`` for CI,
``--redis`` to share the room through a real redis-server as replicas do).

``--light`` measures the light phone instead (the short link ``/j/CODE``, real HTTP and the event stream;
``bench.phones``): ``python -m bench.room --light --participants 1000 --spread 10 [--replicas 2]``, stages 1
and 2, with ``--replicas 2`` two servers sharing one redis-server (phones alternate between them, as a load
balancer with sticky sessions spreads them). ``--vote`` adds the stages' questions: the crowd runs twice in one
process, first without votes (the baseline), then with the presenter opening each stage's vote before anyone
trains, every phone voting, and the presenter closing the vote once all did (stage 1's time then counts from
the close, when the phones' Train opens; the baseline's presenter skips each stage's question instead, since
Train waits for the vote or the skip); the ratios to the baseline are printed, and the wall must count every
vote. Bars: 0 failures, p95 ≤ 3 s from opening the link to the run on
the wall, the wall counting all within 3 s of the last run, every phone seeing the stage change within 1 s,
peak RSS ≤ 600 MB per process; reported too: server CPU per phone and the time until every run is checked.

One ``streamlit run app.py`` serves, in order:

1. the room: a presenter opens ``?room=new`` and its wall refreshes itself as a browser's would (the
   ``st.fragment`` auto-rerun, every interval the server asked for); N participants open ``?join=CODE``
   within ``--spread`` seconds, press Train, and wait for their own result; time from connect to the
   result ("Your b is ...");
2. the wall alone: CPU of the server per wall refresh once the crowd is gone (the wall shows N runs);
3. the plain page under the same crowd: N sessions open ``?seed=S`` (each its own seed, so each trains one
   200-epoch run, as a phone does) within ``--spread`` seconds; time from connect to the rendered run.

The room goes first so that the peak RSS measured during it is its own (a process keeps the memory it
once used); the plain page's peak is reported beside it.

Reported: failures, both p95s and their ratio, the time until the first wall refresh that counts all N
(see ``WallTiming``: exact from the last submission with ``--redis``, else bounded by the last result and the
last Train sent, and judged on the upper bound), server CPU per wall refresh, peak RSS. Every participant's
shown b is checked afterwards against ``lucky5.train`` for the seed its page showed. Exit code 1 when a bar is missed.

The client is ``bench.harness``'s websocket client; ``WallSession`` adds the fragment rerun a browser sends
for ``st.fragment(run_every=...)``. Nothing here is a test: tests decide what is right, this measures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import resource
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

from bench.harness import (
    FINISHED_FRAGMENT,
    FINISHED_OK,
    MAX_MESSAGES_PER_RUN,
    ResourceSampler,
    RunResult,
    Session,
    StreamlitServer,
    add_server_option,
    quiet_cpu,
    redis_server,
    server_options,
)
from bench.load import percentile
from bench.phones import LightReport, PeakPerProcess, Voting, arrivals, make_phones, phone_life, wait_for_checks

BARS = {"failures": 0, "wall_seconds": 3.0, "p95_ratio": 1.5, "rss_mb": 600.0}
COUNTS = re.compile(r"([\d,]+) joined · ([\d,]+) trained in this stage")
SEED = re.compile(r"Your seed is \W*(\d+)")
RESULT = re.compile(r"Your b is \W*([-+0-9.eE]+)")
CODE = re.compile(r'class="lucky5-room-code"[^>]*>([A-Z2-9]{6})<')


# ---------------------------------------------------------------- reading the room pages


def _first(pattern: re.Pattern[str], texts: Sequence[str]) -> re.Match[str] | None:
    return next((m for m in map(pattern.search, texts) if m), None)


def wall_counts(texts: Sequence[str]) -> tuple[int, int] | None:
    """(joined, trained in this stage) from the wall's count line, or None when it is not shown."""
    m = _first(COUNTS, texts)
    return (int(m.group(1).replace(",", "")), int(m.group(2).replace(",", ""))) if m else None


def room_code(texts: Sequence[str]) -> str | None:
    """The room code the presenter's page shows in huge type."""
    m = _first(CODE, texts)
    return m.group(1) if m else None


def shown_seed(texts: Sequence[str]) -> int | None:
    m = _first(SEED, texts)
    return int(m.group(1)) if m else None


def shown_b(texts: Sequence[str]) -> str | None:
    """The participant's b as the page prints it (3 significant digits)."""
    m = _first(RESULT, texts)
    return m.group(1) if m else None


class WallSession(Session):
    """A ``Session`` that also reruns a fragment as the browser does for ``st.fragment(run_every=...)``.

    ``fragments`` maps the id of each fragment the page asked to rerun on a timer to its interval (s).
    """

    def __init__(self, port: int, timeout: float = 60.0) -> None:
        super().__init__(port, timeout=timeout)
        self.fragments: dict[str, float] = {}

    def _resolve(self, msg: ForwardMsg, result: RunResult) -> ForwardMsg:
        msg = super()._resolve(msg, result)
        if msg.WhichOneof("type") == "auto_rerun":
            self.fragments[msg.auto_rerun.fragment_id] = msg.auto_rerun.interval
        return msg

    async def refresh(self, query_string: str, timeout: float | None = None) -> RunResult:
        """One auto-rerun of the page's (first) timed fragment; ``texts`` are what that fragment drew."""
        if self._ws is None or not self.fragments:
            raise RuntimeError("not connected, or the page has no timed fragment")
        request = self._rerun_request(query_string)
        request.rerun_script.fragment_id = next(iter(self.fragments))
        request.rerun_script.is_auto_rerun = True
        result = RunResult(query_string=query_string)
        started = time.perf_counter()
        await self._ws.send(request.SerializeToString())
        await asyncio.wait_for(self._collect_fragment(result), timeout or self.timeout)
        result.seconds = time.perf_counter() - started
        return result

    async def _collect_fragment(self, result: RunResult) -> None:
        assert self._ws is not None
        for _ in range(MAX_MESSAGES_PER_RUN):
            msg = ForwardMsg()
            msg.ParseFromString(await self._ws.recv(decode=False))
            result.messages += 1
            msg = self._resolve(msg, result)
            kind = msg.WhichOneof("type")
            if kind == "new_session":
                self._run_id = msg.metadata.run.script_run_id
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                self._page[tuple(msg.metadata.delta_path)] = (self._run_id, msg.delta.new_element)
            elif kind == "script_finished":
                ok = msg.script_finished in (FINISHED_FRAGMENT, FINISHED_OK)
                result.status = (
                    "FINISHED_SUCCESSFULLY" if ok else ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished)
                )
                # What this fragment run drew (the rest of the page keeps what the last full run drew).
                for path in sorted(self._page):
                    run_id, element = self._page[path]
                    element_kind = element.WhichOneof("type")
                    if run_id != self._run_id or element_kind is None:
                        continue
                    if element_kind == "exception":
                        result.exceptions.append(f"{element.exception.type}: {element.exception.message}")
                    elif element_kind in ("markdown", "heading", "alert", "text"):
                        result.texts.append(getattr(element, element_kind).body)
                return
        raise RuntimeError("no script_finished for the fragment run")


def press(session: Session, label: str) -> None:
    """Click the button labelled ``label`` on the next run (as a trigger, the way the frontend sends it)."""
    ids = session.widget_ids()
    if label not in ids:
        raise LookupError(f"no button {label!r} on the page (widgets: {sorted(ids)[:8]})")
    session.set_widget(WidgetState(id=ids[label], trigger_value=True))


async def move_on(presenter: WallSession, code: str, stage: str, timeout: float = 120.0) -> float:
    """The presenter moves the room to ``stage`` with its button, and confirms when the page asks (runs on the
    wall: "Yes, move on to stage N", ``page.room.stages``). Returns when the move was pressed (perf_counter)."""
    from lucky5.room import STAGES

    number = list(STAGES).index(stage) + 1
    press(presenter, f"{number}. {STAGES[stage].title}")
    pressed_at = time.perf_counter()
    result = await presenter.run(f"room={code}", timeout)
    presenter.clear_widget(presenter.widget_ids()[f"{number}. {STAGES[stage].title}"])
    yes = f"Yes, move on to stage {number}"
    if result.ok and yes in presenter.widget_ids():
        press(presenter, yes)
        pressed_at = time.perf_counter()
        widget = presenter.widget_ids()[yes]
        result = await presenter.run(f"room={code}", timeout)
        presenter.clear_widget(widget)
    if not result.ok:
        raise RuntimeError(f"the presenter could not change the stage: {result.problem()}")
    return pressed_at


async def skip_question(presenter: WallSession, code: str, timeout: float = 120.0) -> None:
    """The presenter skips the current stage's question: the phones' Train opens without a vote
    (``lucky5.room.votes.train_waits``), as in a talk that shows the runs without asking first."""
    press(presenter, "Skip the question")
    pressed = presenter.widget_ids()["Skip the question"]
    result = await presenter.run(f"room={code}", timeout)
    presenter.clear_widget(pressed)  # else every later rerun, the wall's refreshes too, would press it again
    if not result.ok:
        raise RuntimeError(f"the presenter could not skip the question: {result.problem()}")


async def open_room(port: int, timeout: float = 120.0) -> tuple[WallSession, str]:
    """A presenter's tab on ``?room=new``: the connected session and the room's code."""
    presenter = WallSession(port, timeout=timeout)
    await presenter.connect()
    first = await presenter.run("room=new")
    code = room_code(first.texts)
    if not first.ok or code is None:
        await presenter.close()
        raise RuntimeError(f"the presenter's page did not open a room: {first.problem()} {first.texts[:4]}")
    return presenter, code


@dataclass
class Phone:
    """One participant of a load run."""

    index: int
    phase: str = "connect"
    failure: str | None = None
    seconds: float | None = None  # from connect to its own result on screen
    pressed_at: float | None = None  # perf_counter when it sent Train (its submission comes after)
    finished_at: float | None = None  # perf_counter when its result arrived (its submission came before)
    seed: int | None = None
    b: str | None = None
    texts: list[str] = field(default_factory=list)
    ready: asyncio.Event = field(default_factory=asyncio.Event)  # set once it has its result or has failed


async def join_and_train(port: int, code: str, phone: Phone, timeout: float) -> Session:
    """Open ``?join=CODE``, press Train, wait for the result; fills ``phone``; returns the open session."""
    session = Session(port, timeout=timeout)
    started = time.perf_counter()
    await session.connect()
    phone.phase = "join"
    joined = await session.run(f"join={code}")
    phone.seed = shown_seed(joined.texts)
    if (problem := joined.problem()) or phone.seed is None:
        raise RuntimeError(problem or f"no seed shown: {joined.texts[:3]}")
    phone.phase = "train"
    press(session, "Train")
    phone.pressed_at = time.perf_counter()
    trained = await session.run(f"join={code}")
    phone.b, phone.texts = shown_b(trained.texts), trained.texts
    if (problem := trained.problem()) or phone.b is None:
        raise RuntimeError(problem or f"no result shown: {trained.texts[:4]}")
    phone.finished_at = time.perf_counter()
    phone.seconds = phone.finished_at - started
    phone.phase = "done"
    return session


# ---------------------------------------------------------------- the crowds


async def _phone(port: int, code: str, phone: Phone, delay: float, timeout: float, done: asyncio.Event) -> Phone:
    await asyncio.sleep(delay)
    session: Session | None = None
    try:
        async with asyncio.timeout(timeout):
            session = await join_and_train(port, code, phone, timeout)
    except TimeoutError:
        phone.failure = "timed out"
    except Exception as err:  # every way a phone can fail is a finding to report
        phone.failure = f"{type(err).__name__}: {str(err)[:160]}"
    finally:
        phone.ready.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), 2 * timeout)  # a phone stays on the page until the crowd is done
        if session is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(session.close(), 10)
    return phone


async def _plain(port: int, phone: Phone, delay: float, timeout: float, done: asyncio.Event) -> Phone:
    await asyncio.sleep(delay)
    session = Session(port, timeout=timeout)
    try:
        async with asyncio.timeout(timeout):
            await session.connect()
            run = await session.run(f"seed={phone.seed}")
            phone.failure = run.problem()
            if phone.failure is None and run.fingerprint is None:
                phone.failure = "no run fingerprint on the page"
            phone.seconds = run.seconds
    except TimeoutError:
        phone.failure = "timed out"
    except Exception as err:
        phone.failure = f"{type(err).__name__}: {str(err)[:160]}"
    finally:
        phone.ready.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), 2 * timeout)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(session.close(), 10)
    return phone


def _delays(n: int, spread: float, rng: random.Random) -> list[float]:
    return sorted(rng.uniform(0, spread) for _ in range(n))


async def plain_crowd(port: int, n: int, spread: float, timeout: float, rng: random.Random) -> list[Phone]:
    """``n`` sessions open the plain page, each with its own seed, arriving within ``spread`` s."""
    done = asyncio.Event()
    phones = [Phone(i, seed=rng.randrange(10_000, 2**32)) for i in range(n)]
    delays = _delays(n, spread, rng)
    tasks = [asyncio.ensure_future(_plain(port, p, d, timeout, done)) for p, d in zip(phones, delays, strict=True)]
    await asyncio.gather(*(p.ready.wait() for p in phones))
    done.set()
    return list(await asyncio.gather(*tasks))


@dataclass
class WallTiming:
    """When the wall counted everyone, against when the last run could have been submitted.

    A phone's submission happens after it sends Train and before its result arrives, so the time from the
    last submission to a complete wall lies between ``after_last_result`` and ``after_last_train``.
    ``after_last_submission`` is exact: the bench watches the shared store itself (Redis runs only).
    """

    after_last_train: float | None = None
    after_last_result: float | None = None
    after_last_submission: float | None = None

    @property
    def judged(self) -> float | None:
        """The exact time when it is known, else the upper bound."""
        return self.after_last_submission if self.after_last_submission is not None else self.after_last_train


@dataclass
class RoomReport:
    participants: int
    failures: int
    reasons: dict[str, int]
    p50: float | None
    p95: float | None
    plain_failures: int
    plain_p50: float | None
    plain_p95: float | None
    wall: WallTiming
    wall_refreshes: int
    wall_refresh_p95: float | None  # s from a refresh request to its finish, during the crowd
    cpu_per_refresh_ms: float | None
    cpu_per_phone_poll_ms: float | None
    phone_poll_seconds: float  # the interval of a phone's timed fragment, as the server asked for it
    rss_idle_mb: float
    rss_peak_mb: float  # while the room's crowd and wall ran
    plain_rss_peak_mb: float  # while the plain page's crowd ran, after the room's
    wrong_b: int
    redis: bool


def _watch_runs(url: str, code: str, n: int, stop: threading.Event, out: list[float]) -> None:
    """Poll the room's runs in Redis every 10 ms; append the moment there are ``n`` of them."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        while not stop.is_set():
            if client.hlen(f"lucky5:room:{code}:runs") >= n:  # the key layout of lucky5.room.RedisStore
                out.append(time.perf_counter())
                return
            stop.wait(0.01)
    finally:
        client.close()


async def room_crowd(
    port: int, pid: int, n: int, spread: float, timeout: float, rng: random.Random, redis_url: str | None
) -> tuple[list[Phone], WallTiming, list[float], tuple[float, float, float]]:
    """The presenter's wall refreshing while ``n`` phones join and train; then the wall alone.

    The wall is refreshed at a fixed rate, as the browser's timer does (a refresh that is due while the last
    one runs is sent when it finishes). Returns the phones, the wall's timing, the refreshes' durations, and
    the server CPU ms per refresh of the wall alone and per stage poll of one phone.
    """
    presenter, code = await open_room(port, timeout)
    await skip_question(presenter, code, timeout)  # no vote here: Train opens for the crowd at once
    interval = next(iter(presenter.fragments.values()), 2.0)
    done, stop = asyncio.Event(), asyncio.Event()
    counted: list[tuple[float, int, int]] = []  # (perf_counter, joined, trained) per refresh
    durations: list[float] = []
    submitted: list[float] = []
    watching = threading.Event()
    if redis_url is not None:
        threading.Thread(target=_watch_runs, args=(redis_url, code, n, watching, submitted), daemon=True).start()

    async def wall() -> None:
        next_at = time.perf_counter() + interval
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), max(0.0, next_at - time.perf_counter()))
            next_at = max(next_at + interval, time.perf_counter())
            result = await presenter.refresh(f"room={code}", timeout)
            durations.append(result.seconds)
            counts = wall_counts(result.texts)
            if counts is not None:
                counted.append((time.perf_counter(), *counts))
                if counts[1] >= n:
                    return

    walls = asyncio.ensure_future(wall())
    phones = [Phone(i) for i in range(n)]
    delays = _delays(n, spread, rng)
    tasks = [
        asyncio.ensure_future(_phone(port, code, p, d, timeout, done)) for p, d in zip(phones, delays, strict=True)
    ]
    await asyncio.gather(*(p.ready.wait() for p in phones))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(walls), timeout=max(10.0, 5 * interval))
    stop.set()
    watching.set()
    done.set()
    await asyncio.gather(*tasks)
    with contextlib.suppress(Exception):
        await asyncio.wait_for(walls, timeout)
    timing = WallTiming()
    complete = next((t for t, _, trained in counted if trained >= n), None)
    pressed = [p.pressed_at for p in phones if p.pressed_at is not None]
    results = [p.finished_at for p in phones if p.finished_at is not None]
    if complete is not None and pressed and results:
        timing.after_last_train = complete - max(pressed)
        timing.after_last_result = complete - max(results)
        if submitted:
            timing.after_last_submission = complete - submitted[0]
    # The wall alone: the crowd is gone, the wall shows n runs and refreshes on its timer.
    await asyncio.sleep(1.0)
    before = await quiet_cpu(pid)
    refreshes = 20
    for _ in range(refreshes):
        await presenter.refresh(f"room={code}", timeout)
    after = await quiet_cpu(pid)
    await presenter.close()
    # A phone's own timed fragment (it follows the presenter's stage), alone in the same way.
    follower = WallSession(port, timeout=timeout)
    await follower.connect()
    await follower.run(f"join={code}")
    polled = await quiet_cpu(pid)
    for _ in range(refreshes):
        await follower.refresh(f"join={code}", timeout)
    polled = await quiet_cpu(pid) - polled
    poll_interval = next(iter(follower.fragments.values()), 0.0)
    await follower.close()
    cpu = ((after - before) / refreshes * 1000, polled / refreshes * 1000, poll_interval)
    return phones, timing, durations, cpu


# ---------------------------------------------------------------- the run


def check_results(phones: Sequence[Phone]) -> int:
    """How many phones showed a b that ``lucky5.train`` of their stage and seed does not give."""
    from lucky5 import train
    from lucky5.room import STAGES

    wrong = 0
    for phone in phones:
        if phone.failure is None and phone.seed is not None:
            b = train(STAGES["post"].config(phone.seed)).trained.bias
            wrong += phone.b != f"{b:.3g}"
    return wrong


def run_bench(n: int, spread: float, timeout: float, use_redis: bool, options: Sequence[str], seed: int) -> RoomReport:
    rng = random.Random(seed)
    with contextlib.ExitStack() as stack:
        redis_url = stack.enter_context(redis_server()) if use_redis else None
        env = {"LUCKY5_REDIS_URL": redis_url or ""}
        server = stack.enter_context(StreamlitServer(options=options, env=env))

        async def warm() -> None:  # the first run of each page pays for imports and the first caches
            async with Session(server.port, timeout=max(timeout, 120)) as s:
                problem = (await s.run("seed=1")).problem()
            presenter, code = await open_room(server.port, max(timeout, 120))
            await skip_question(presenter, code, max(timeout, 120))
            await presenter.close()
            phone = Phone(-1)
            session = await join_and_train(server.port, code, phone, max(timeout, 120))
            await session.close()
            if problem:
                raise RuntimeError(f"warm-up of the plain page failed: {problem}")

        asyncio.run(warm())
        # The room first, so that its peak RSS is its own; the plain crowd follows on the same server.
        with ResourceSampler(server.pid) as resources:
            phones, timing, durations, cpu_ms = asyncio.run(
                room_crowd(server.port, server.pid, n, spread, timeout, rng, redis_url)
            )
        with ResourceSampler(server.pid) as plain_resources:
            plain = asyncio.run(plain_crowd(server.port, n, spread, timeout, rng))
        if not server.running():
            print(f"the server exited during the bench:\n{server.log_tail()}", file=sys.stderr)
    failed = [p for p in phones if p.failure]
    reasons: dict[str, int] = {}
    for p in failed:
        reasons[f"{p.phase}: {p.failure}"] = reasons.get(f"{p.phase}: {p.failure}", 0) + 1
    ok = [p.seconds for p in phones if p.failure is None and p.seconds is not None]
    plain_ok = [p.seconds for p in plain if p.failure is None and p.seconds is not None]
    return RoomReport(
        participants=n,
        failures=len(failed),
        reasons=dict(sorted(reasons.items(), key=lambda kv: -kv[1])[:8]),
        p50=percentile(ok, 50),
        p95=percentile(ok, 95),
        plain_failures=sum(1 for p in plain if p.failure),
        plain_p50=percentile(plain_ok, 50),
        plain_p95=percentile(plain_ok, 95),
        wall=timing,
        wall_refreshes=len(durations),
        wall_refresh_p95=percentile(durations, 95),
        cpu_per_refresh_ms=cpu_ms[0],
        cpu_per_phone_poll_ms=cpu_ms[1],
        phone_poll_seconds=cpu_ms[2],
        rss_idle_mb=resources.rss_before_mb,
        rss_peak_mb=resources.peak_rss_mb,
        plain_rss_peak_mb=plain_resources.peak_rss_mb,
        wrong_b=check_results(phones),
        redis=use_redis,
    )


def _s(value: float | None, unit: str = "s") -> str:
    return "—" if value is None else f"{value:.2f} {unit}"


def bars(r: RoomReport) -> list[tuple[bool, str]]:
    ratio = r.p95 / r.plain_p95 if r.p95 is not None and r.plain_p95 else None
    w = r.wall
    how = "after the last submission" if w.after_last_submission is not None else "after the last Train was sent"
    return [
        (r.failures + r.plain_failures + r.wrong_b == 0, f"failures {r.failures} (plain page {r.plain_failures}), "
         f"wrong b shown {r.wrong_b}: bar 0"),
        (w.judged is not None and w.judged <= BARS["wall_seconds"],
         f"wall counts all {r.participants} {_s(w.judged)} {how}: bar ≤ 3 s"),
        (ratio is not None and ratio <= BARS["p95_ratio"],
         f"p95 join → own result {_s(r.p95)} against the plain page's {_s(r.plain_p95)}: "
         f"{'—' if ratio is None else f'{ratio:.2f}×'}, bar ≤ 1.5×"),
        (r.rss_peak_mb <= BARS["rss_mb"], f"peak RSS with the room's crowd {r.rss_peak_mb:.0f} MB: bar ≤ 600 MB"),
    ]  # fmt: skip


def print_report(r: RoomReport) -> None:
    store = "Redis (a real redis-server)" if r.redis else "memory (one process)"
    print(f"room bench: {r.participants} participants, store: {store}")
    print(f"  participants: p50 {_s(r.p50)}, p95 {_s(r.p95)} from connect to their own result; failures {r.failures}")
    print(f"  plain page (?seed=S, own seed each): p50 {_s(r.plain_p50)}, p95 {_s(r.plain_p95)}; "
          f"failures {r.plain_failures}")  # fmt: skip
    for reason, count in r.reasons.items():
        print(f"    {count} × {reason}")
    w = r.wall
    print(
        f"  wall: {r.wall_refreshes} refreshes during the crowd (p95 {_s(r.wall_refresh_p95)}); it counted all "
        f"{_s(w.after_last_result)} after the last result, {_s(w.after_last_train)} after the last Train was sent"
        + (f", {_s(w.after_last_submission)} after the last submission" if w.after_last_submission is not None else "")
    )
    print(f"  server CPU per refresh of the wall alone ({r.participants} runs): {_s(r.cpu_per_refresh_ms, 'ms')}")
    if r.cpu_per_phone_poll_ms is not None and r.phone_poll_seconds > 0:
        share = r.cpu_per_phone_poll_ms / 1000 * r.participants / r.phone_poll_seconds
        print(
            f"  server CPU per stage poll of a phone: {_s(r.cpu_per_phone_poll_ms, 'ms')} "
            f"({r.participants} phones every {r.phone_poll_seconds:g} s: {share:.0%} of a core)"
        )
    print(
        f"  server RSS: {r.rss_idle_mb:.0f} MB before the crowds, peak {r.rss_peak_mb:.0f} MB with the room's crowd, "
        f"{r.plain_rss_peak_mb:.0f} MB with the plain page's crowd after it"
    )
    for ok, text in bars(r):
        print(f"  [{'ok' if ok else 'MISSED'}] {text}")


# ---------------------------------------------------------------- light phones


LIGHT_BARS = {"p95_seconds": 3.0, "wall_seconds": 3.0, "stage_lag_seconds": 1.0, "rss_mb": 600.0}
# What a phone's browser takes to train each stage (train.js; a mid-range phone is a few times slower than
# headless Chromium on this machine); the bench waits this long instead of training on its own cores.
TRAIN_SECONDS = {"post": 0.05, "patience": 0.5}


def raise_open_files() -> int:
    """Raise this process's open-file limit to its hard limit (the servers started later inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


async def _count_until(presenter: WallSession, code: str, n: int, stop: asyncio.Event, timeout: float) -> list:
    """Refresh the wall on its timer until it counts ``n`` runs or ``stop``; [(perf_counter, joined, trained)]."""
    interval = next(iter(presenter.fragments.values()), 2.0)
    counted: list[tuple[float, int, int]] = []
    next_at = time.perf_counter() + interval
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), max(0.0, next_at - time.perf_counter()))
        next_at = max(next_at + interval, time.perf_counter())
        result = await presenter.refresh(f"room={code}", timeout)
        counts = wall_counts(result.texts)
        if counts is not None:
            counted.append((time.perf_counter(), *counts))
            if counts[1] >= n:
                break
    return counted


VOTED = re.compile(r"([\d,]+) voted · voting closed")


async def _presenter_votes(presenter: WallSession, code: str, stage: str, phones: list, voting: Voting, index: int,
                           timeout: float) -> int | None:  # fmt: skip
    """Open ``stage``'s vote, wait until every phone voted (or failed), close it: how many voted, by the wall."""
    for label in ("Open the vote", "Close voting"):
        press(presenter, label)
        pressed = presenter.widget_ids()[label]
        result = await presenter.run(f"room={code}", timeout)
        presenter.clear_widget(pressed)  # else every later rerun, the wall's refreshes too, would press it again
        if not result.ok:
            raise RuntimeError(f"the presenter could not press {label!r}: {result.problem()}")
        if label == "Close voting":
            voting.closed[stage].set()
            m = _first(VOTED, result.texts)
            return int(m.group(1).replace(",", "")) if m else None
        voting.opened[stage].set()
        deadline = time.perf_counter() + 4 * timeout
        while time.perf_counter() < deadline:
            if all(p.failure is not None or len(p.voted_s) > index for p in phones):
                break
            await asyncio.sleep(0.1)
    return None


async def light_crowd(ports: Sequence[int], phones: list, spread: float, timeout: float, rng: random.Random,
                      voting: Voting | None = None) -> dict:  # fmt: skip
    """Stage 1 (phones arrive within ``spread`` s, join and train), the stage change, stage 2; the wall counts.
    With ``voting``, each stage's vote is opened before and closed after every phone voted, before training."""

    n = len(phones)
    before, _ = await wait_for_checks(ports, 0, timeout)  # the servers' counts so far (warm-up runs)
    presenter, code = await open_room(ports[0], timeout)
    moved, stop, counted_stop = asyncio.Event(), asyncio.Event(), asyncio.Event()
    delays = arrivals(n, spread, rng)
    second = [rng.uniform(0, spread) for _ in range(n)]
    tasks = [
        asyncio.ensure_future(phone_life(p, code, d, TRAIN_SECONDS, timeout, moved, s2, stop, voting))
        for p, d, s2 in zip(phones, delays, second, strict=True)
    ]
    walls: dict[str, float | None] = {}
    voted: dict[str, int | None] = {}
    for stage in ("post", "patience"):
        if voting is not None:
            voted[stage] = await _presenter_votes(presenter, code, stage, phones, voting, len(voted), timeout)
        elif stage == "post":  # the baseline asks nothing: Train opens once the question is skipped
            await skip_question(presenter, code, timeout)
        counting = asyncio.ensure_future(_count_until(presenter, code, n, counted_stop, timeout))
        deadline = time.perf_counter() + spread + 2 * timeout
        index = 0 if stage == "post" else 1
        while time.perf_counter() < deadline:  # until every phone posted this stage's run or failed
            if all(p.failure is not None or len(p.posted_at) > index for p in phones):
                break
            await asyncio.sleep(0.1)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(counting), 15)
        counted_stop.set()
        counted = await counting
        counted_stop.clear()
        posted = [p.posted_at[index] for p in phones if len(p.posted_at) > index]
        complete = next((t for t, _, trained in counted if trained >= n), None)
        walls[stage] = complete - max(posted) if complete is not None and posted else None
        if stage == "post":
            pressed = await move_on(presenter, code, "patience", timeout)
            if voting is None:
                await skip_question(presenter, code, timeout)
            moved.set()
    posted_all = [t for p in phones for t in p.posted_at]
    already = sum(c.get("checked", 0) for c in before)
    checks, checked_at = await wait_for_checks(ports, already + len(posted_all), 10 * timeout)
    for c, b in zip(checks, before, strict=True):  # this crowd's own counts
        for key in ("received", "checked", "dropped", "skipped"):
            c[key] = c.get(key, 0) - b.get(key, 0)
    stop.set()
    await asyncio.gather(*tasks)
    await presenter.close()
    lags = [t - pressed for p in phones if (t := p.stage_seen_at("patience")) is not None]
    for p in phones:
        if p.failure is None and p.stage_seen_at("patience") is None:
            p.failure, p.phase = "its event stream never brought stage 2", "stage change"
    return {"walls": walls, "lags": lags, "checks": checks, "voted": voted,
            "checked_after": checked_at - max(posted_all) if posted_all else None}  # fmt: skip


def run_light(n: int, spread: float, timeout: float, replicas: int, use_redis: bool, options, seed: int,
              vote: bool = False) -> list[LightReport]:  # fmt: skip
    """The light crowd's report; with ``vote``, two: the baseline, then the same crowd voting (one process)."""
    rng = random.Random(seed)
    files = raise_open_files()
    with contextlib.ExitStack() as stack:
        redis_url = stack.enter_context(redis_server()) if use_redis or replicas > 1 else None
        env = {"LUCKY5_REDIS_URL": redis_url or ""}
        servers = [StreamlitServer(options=options, env=env).start() for _ in range(replicas)]
        for server in servers:
            stack.callback(server.stop)
        for server in servers:
            server.wait_healthy()
        ports = [s.port for s in servers]
        print(f"open-file limit {files:,}; training {n} phones' runs of stages 1 and 2 before the crowd ...")
        warm = make_phones(replicas, ports, ("post", "patience"))
        crowds = [make_phones(n, ports, ("post", "patience")) for _ in range(2 if vote else 1)]
        print("warming up the servers (imports, the first room, the first check) ...")
        asyncio.run(light_crowd(ports, warm, 1.0, max(timeout, 120), rng))
        reports = []
        for i, phones in enumerate(crowds):
            voting = i == 1
            reports.append(_measured(servers, ports, phones, spread, timeout, rng, voting, redis_url is not None))
        for server in servers:
            if not server.running():
                print(f"a server exited during the bench:\n{server.log_tail()}", file=sys.stderr)
    return reports


def _measured(servers, ports, phones, spread: float, timeout: float, rng, voting: bool, redis: bool) -> LightReport:
    """One crowd, measured: the servers' peak RSS and CPU, the machine's load, this client's CPU."""
    samplers = [PeakPerProcess(s.pid) for s in servers]
    load_start = os.getloadavg()[0]
    for sampler in samplers:
        sampler.__enter__()
    try:
        client_cpu = time.process_time()
        plan = (lambda: Voting.stages(("post", "patience"))) if voting else (lambda: None)

        async def crowd() -> dict:
            return await light_crowd(ports, phones, spread, timeout, rng, plan())  # events made in this loop

        out = asyncio.run(crowd())
        client_cpu = time.process_time() - client_cpu
    finally:
        for sampler in samplers:
            sampler.__exit__(None, None, None)
    return LightReport(
        participants=len(phones),
        replicas=len(servers),
        redis=redis,
        phones=phones,
        wall_after_last_run=out["walls"],
        stage_lags=out["lags"],
        checked_after_s=out["checked_after"],
        checks=out["checks"],
        cpu_seconds=[s.cpu_seconds for s in samplers],
        rss_peak_mb=[max(s.peaks.values()) for s in samplers],
        rss_by_process=[dict(s.peaks) for s in samplers],
        cpu_by_process=[dict(s.cpu) for s in samplers],
        load=(load_start, os.getloadavg()[0]),
        client_cpu_seconds=client_cpu,
        voted=out["voted"],
    )


def light_bars(r: LightReport) -> list[tuple[bool, str]]:
    ok = [p for p in r.phones if p.failure is None]
    p95_1 = percentile([p.first_s for p in ok if p.first_s is not None], 95)
    p95_2 = percentile([p.second_s for p in ok if p.second_s is not None], 95)
    lag = max(r.stage_lags) if r.stage_lags else None
    walls = [w for w in r.wall_after_last_run.values()]
    wall = None if any(w is None for w in walls) else max(w for w in walls if w is not None)
    votes = [
        (r.voted.get(stage) == sum(len(p.voted_s) > i for p in r.phones),
         f"stage {i + 1}: the wall counts {r.voted.get(stage)} voted of {r.participants} phones: bar all who voted")
        for i, stage in enumerate(r.voted)
    ]  # fmt: skip
    return votes + [
        (not r.failures, f"failures {len(r.failures)} of {r.participants}: bar 0"),
        (p95_1 is not None and p95_1 <= LIGHT_BARS["p95_seconds"],
         f"stage 1: p95 from opening the link to the run on the wall {_s(p95_1)}: bar ≤ 3 s"),
        (p95_2 is not None and p95_2 <= LIGHT_BARS["p95_seconds"],
         f"stage 2: p95 from pressing Train to the run on the wall {_s(p95_2)}: bar ≤ 3 s"),
        (wall is not None and wall <= LIGHT_BARS["wall_seconds"],
         f"the wall counts all {r.participants} {_s(wall)} after the last run (worst stage): bar ≤ 3 s"),
        (lag is not None and lag <= LIGHT_BARS["stage_lag_seconds"] and len(r.stage_lags) == r.participants,
         f"every phone sees the stage change: {len(r.stage_lags)} of {r.participants}, the last after "
         f"{_s(lag)}: bar ≤ 1 s"),
        (max(r.rss_peak_mb) <= LIGHT_BARS["rss_mb"],
         "peak RSS per process " + "; ".join(", ".join(f"{k} {m:.0f} MB" for k, m in p.items())
                                             for p in r.rss_by_process) + ": bar ≤ 600 MB"),
    ]  # fmt: skip


def print_light(r: LightReport) -> None:
    store = f"{r.replicas} servers sharing one redis-server" if r.replicas > 1 else (
        "one server, Redis" if r.redis else "one server, memory")  # fmt: skip
    print(f"light phones: {r.participants} on /j/CODE, {store}" + (", voting before each stage" if r.voted else ""))
    ok = [p for p in r.phones if p.failure is None]
    joined = [p.joined_s for p in ok if p.joined_s is not None]
    first = [p.first_s for p in ok if p.first_s is not None]
    second = [p.second_s for p in ok if p.second_s is not None]
    print(f"  joined (seed shown): p50 {_s(percentile(joined, 50))}, p95 {_s(percentile(joined, 95))}")
    print(f"  stage 1, link → run on the wall: p50 {_s(percentile(first, 50))}, p95 {_s(percentile(first, 95))}")
    print(f"  stage 2, Train → run on the wall: p50 {_s(percentile(second, 50))}, p95 {_s(percentile(second, 95))}")
    if r.voted:
        sent = [v for p in ok for v in p.voted_s]
        print(
            f"  votes ({len(sent):,}), sent → accepted: p50 {_s(percentile(sent, 50))}, p95 {_s(percentile(sent, 95))}"
        )
    reasons: dict[str, int] = {}
    for p in r.failures:
        reasons[f"{p.phase}: {p.failure}"] = reasons.get(f"{p.phase}: {p.failure}", 0) + 1
    for reason, count in sorted(reasons.items(), key=lambda kv: -kv[1])[:8]:
        print(f"    {count} × {reason}")
    lags = sorted(r.stage_lags)
    if lags:
        print(f"  stage change reached {len(lags)} phones: p50 {_s(percentile(lags, 50))}, last {_s(lags[-1])}")
    for stage, w in r.wall_after_last_run.items():
        print(f"  wall counted all {r.participants} runs of {stage} {_s(w)} after the last one was accepted")
    dropped = sum(c.get("dropped", 0) for c in r.checks)
    checked = sum(c.get("checked", 0) for c in r.checks)
    print(f"  checks: {checked:,} runs replayed, {dropped} dropped as false, all checked {_s(r.checked_after_s)} "
          "after the last run")  # fmt: skip
    served = sum(c.get("server", 0.0) for c in r.cpu_by_process)
    checking = sum(c.get("checker", 0.0) for c in r.cpu_by_process)
    print(
        f"  CPU: servers {served:.1f} s ({served / max(r.participants, 1) * 1000:.0f} ms per phone for two stages, "
        f"the wall's refreshes included), checker processes {checking:.1f} s "
        f"({checking / max(checked, 1) * 1000:.0f} ms per run replayed)"
    )
    print(
        f"  the machine's load average ({os.cpu_count()} cores): {r.load[0]:.1f} at the start, {r.load[1]:.1f} at "
        f"the end; this bench's own client (every phone, on the same cores) used {r.client_cpu_seconds:.1f} s of CPU"
    )
    for ok_bar, text in light_bars(r):
        print(f"  [{'ok' if ok_bar else 'MISSED'}] {text}")


def print_ratios(base: LightReport, voting: LightReport) -> None:
    """The voting crowd against the baseline, measured in the same process: p95s and server CPU per phone."""

    def p95(r: LightReport, attr: str) -> float | None:
        return percentile([v for p in r.phones if p.failure is None and (v := getattr(p, attr)) is not None], 95)

    print("voting against the baseline (same process, same crowd size):")
    for attr, what in (("first_s", "stage 1 p95 (voting: from the close)"), ("second_s", "stage 2 p95")):
        a, b = p95(base, attr), p95(voting, attr)
        print(f"  {what}: {_s(b)} vs {_s(a)}" + (f", ratio {b / a:.2f}" if a and b is not None else ""))
    a, b = sum(base.cpu_seconds), sum(voting.cpu_seconds)
    print(f"  server CPU: {b:.1f} s vs {a:.1f} s" + (f", ratio {b / a:.2f}" if a else ""))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=100)
    parser.add_argument("--spread", type=float, default=3.0, help="seconds over which the crowd arrives")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds one phone may take in all")
    parser.add_argument("--redis", action="store_true", help="share the room through a real redis-server")
    parser.add_argument("--seed", type=int, default=0, help="seeds the arrival times and the plain page's seeds")
    parser.add_argument("--light", action="store_true", help="light phones on /j/CODE (HTTP and the event stream)")
    parser.add_argument("--replicas", type=int, default=1, help="with --light: servers sharing one redis-server")
    parser.add_argument("--vote", action="store_true", help="with --light: a baseline crowd, then one voting first")
    add_server_option(parser)
    args = parser.parse_args(argv)
    if args.light:
        reports = run_light(
            args.participants,
            args.spread,
            args.timeout,
            args.replicas,
            args.redis,
            server_options(args),
            args.seed,
            vote=args.vote,
        )
        for light in reports:
            print_light(light)
        if len(reports) == 2:
            print_ratios(*reports)
        return 0 if all(ok for light in reports for ok, _ in light_bars(light)) else 1
    report = run_bench(args.participants, args.spread, args.timeout, args.redis, server_options(args), args.seed)
    print_report(report)
    return 0 if all(ok for ok, _ in bars(report)) else 1


if __name__ == "__main__":
    raise SystemExit(main())
