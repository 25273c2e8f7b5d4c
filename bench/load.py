"""Load and isolation benchmark of the lucky5 page, against a real ``streamlit run`` server.

    python -m bench.load --sessions 100 --timeout 120          # load: lucky5 page, then a minimal page
    python -m bench.load --mode isolation                      # 8 concurrent sessions, each sees its own run
    python -m bench.load --mode all --json /tmp/load.json      # both, and the numbers as JSON

Load: the server (``streamlit run app.py --server.port P --server.address 127.0.0.1
--server.headless true``, on a free loopback port) is started, warmed up by one session (the
cold start is measured elsewhere, in a browser), and then N sessions connect at once through
``bench.harness.Session`` (Streamlit's own websocket protocol). Each loads the bare URL (default settings: the
same run for everyone, so mostly cache hits); every second session then retrains with its own
seed (a rerun with the query string ``seed=1000+i``), as a reader who changes a setting. Sessions
stay connected until all are done, so the server holds N live sessions at its peak. A session
fails when it cannot connect, is dropped, times out, shows an exception, or shows a
``Run fingerprint:`` that differs from ``lucky5.train(config).fingerprint()`` computed here.
Then the same load runs against ``bench.harness.MINIMAL_PAGE`` (written to a temporary file, served from
the same working directory so the same ``.streamlit/config.toml`` applies), which renders a title, its
query parameters and a fingerprint of them for each session. Reported: failures with reasons,
p50/p95 of the time to a fully rendered first run (connect start to ``script_finished``) and of
the retrain (rerun request to ``script_finished``), the server's peak RSS (its process tree, sampled
with psutil) and CPU seconds over the load, and the bars:
0 failures, p95 within 2x the minimal page's, peak RSS <= 600 MB. Exit status 1 when a bar fails.

Isolation: 8 sessions with different settings (seeds, learning rates, optimizers, epochs, batch
sizes) load at once and each must show exactly its solo result; then half of them rerun with new
settings while the other half rerun with their own, twice with the roles swapped, and every
session must show its own run each time.

What it is not: a browser (no JavaScript, no chart rendering, no static files; see ``bench.harness``),
nor a cold-start measurement. Client and server share this machine's cores, so absolute times
include the client's own work; the ratios against the minimal page are what carry over.
Every loop here is bounded in count and in time; only loopback addresses are used.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import parse_qsl

from bench.harness import (
    REPO,
    ResourceSampler,
    Session,
    StreamlitServer,
    add_server_option,
    minimal_fingerprint,
    query_string,
    server_options,
    write_minimal_page,
)

RSS_BAR_MB = 600.0
P95_BAR_RATIO = 2.0


# ---------------------------------------------------------------- what each page should show

Oracle = Callable[[str], str]  # query string -> the fingerprint the page must show


def lucky5_oracle() -> Oracle:
    """The fingerprint of ``lucky5.train(config)`` for the config a query string names, memoised."""
    from lucky5 import from_query, train

    memo: dict[str, str] = {}

    def oracle(query: str) -> str:
        if query not in memo:
            config, notices = from_query(dict(parse_qsl(query)), extra=("present", "x"))
            if notices:
                raise ValueError(f"the bench made a bad query {query!r}: {notices}")
            memo[query] = train(config).fingerprint()
        return memo[query]

    return oracle


def config_query(**changes: object) -> str:
    """The query string of a lucky5 Config with these changes from the defaults."""
    from lucky5 import Config, to_query

    return query_string(to_query(Config().replace(**changes)))


# ---------------------------------------------------------------- the load


@dataclass
class Outcome:
    """One session of a load run."""

    index: int
    phase: str = "connect"  # where it is, or where it failed
    failure: str | None = None
    first_seconds: float | None = None
    retrain_seconds: float | None = None
    bytes: int = 0


async def _session(
    port: int,
    index: int,
    first: str,
    retrain: str | None,
    oracle: dict[str, str],
    timeout: float,
    done: asyncio.Barrier,
) -> Outcome:
    """One reader: open the page, maybe change a setting, stay until everyone is done; ``timeout`` bounds it all."""
    outcome = Outcome(index)
    session = Session(port, timeout=timeout)
    try:
        async with asyncio.timeout(timeout):
            await session.connect()
            outcome.phase = "first run"
            run = await session.run(first)
            outcome.bytes += run.bytes
            outcome.failure = run.problem(oracle[first])
            outcome.first_seconds = run.seconds
            if retrain is not None and outcome.failure is None:
                outcome.phase = "retrain"
                run = await session.run(retrain)
                outcome.bytes += run.bytes
                outcome.failure = run.problem(oracle[retrain])
                outcome.retrain_seconds = run.seconds
            if outcome.failure is None:
                outcome.phase = "done"
    except TimeoutError:
        outcome.failure = "timed out"
    except Exception as err:  # every way a session can fail is a finding to report, not a crash
        outcome.failure = f"{type(err).__name__}: {str(err)[:160]}"
    finally:
        with contextlib.suppress(TimeoutError, asyncio.BrokenBarrierError):
            await asyncio.wait_for(done.wait(), timeout)  # keep the tab open until every session is done
        with contextlib.suppress(Exception):
            await asyncio.wait_for(session.close(), 10)
    return outcome


async def load(
    port: int, sessions: int, retrain: Callable[[int], str | None], oracle: dict[str, str], timeout: float
) -> list[Outcome]:
    """N sessions at once: each loads the bare URL, then reruns with ``retrain(i)`` when it is not None."""
    done = asyncio.Barrier(sessions)
    tasks = [_session(port, i, "", retrain(i), oracle, timeout, done) for i in range(sessions)]
    return list(await asyncio.gather(*tasks))


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


@dataclass
class LoadReport:
    page: str
    sessions: int
    retrains: int
    failures: int
    reasons: dict[str, int]
    first_p50: float | None
    first_p95: float | None
    first_max: float | None
    retrain_p50: float | None
    retrain_p95: float | None
    wall_seconds: float
    warmup_seconds: float
    rss_idle_mb: float
    rss_peak_mb: float
    server_cpu_seconds: float
    client_cpu_seconds: float
    mb_received: float
    load_average: float  # the machine's 1-minute load average as the load started


def retrain_query(i: int) -> str | None:
    """What session i of a load reruns with: every second session its own seed, 1000 + i."""
    return config_query(seed=1000 + i) if i % 2 == 1 else None


def run_load(
    page: str, script: Path, sessions: int, timeout: float, oracle: Oracle, options: Sequence[str] = ()
) -> LoadReport:
    """Start a server for ``script``, warm it up with one session, run the load, stop the server."""
    queries = [""] + [q for q in map(retrain_query, range(sessions)) if q is not None]
    expected = {q: oracle(q) for q in queries}  # computed before the load, so it costs the load nothing
    with StreamlitServer(script, options=options) as server:
        warm = asyncio.run(load(server.port, 1, lambda i: None, expected, max(timeout, 90.0)))[0]
        if warm.failure:
            raise RuntimeError(f"{page}: the warm-up session failed: {warm.failure}\n{server.log_tail()}")
        client_cpu = time.process_time()
        started = time.perf_counter()
        with ResourceSampler(server.pid) as resources:
            load_average = os.getloadavg()[0]
            outcomes = asyncio.run(load(server.port, sessions, retrain_query, expected, timeout))
        wall = time.perf_counter() - started
        client_cpu = time.process_time() - client_cpu
        if not server.running():
            print(f"{page}: the server exited during the load:\n{server.log_tail()}", file=sys.stderr)
    firsts = [o.first_seconds for o in outcomes if o.first_seconds is not None and o.failure is None]
    retrains = [o.retrain_seconds for o in outcomes if o.retrain_seconds is not None and o.failure is None]
    failed = [o for o in outcomes if o.failure]
    reasons = Counter(f"{o.phase}: {o.failure}" for o in failed)
    return LoadReport(
        page=page,
        sessions=sessions,
        retrains=len(queries) - 1,
        failures=len(failed),
        reasons=dict(reasons.most_common(10)),
        first_p50=percentile(firsts, 50),
        first_p95=percentile(firsts, 95),
        first_max=max(firsts, default=None),
        retrain_p50=percentile(retrains, 50),
        retrain_p95=percentile(retrains, 95),
        wall_seconds=wall,
        warmup_seconds=warm.first_seconds or 0.0,
        rss_idle_mb=resources.rss_before_mb,
        rss_peak_mb=resources.peak_rss_mb,
        server_cpu_seconds=resources.cpu_seconds,
        client_cpu_seconds=client_cpu,
        mb_received=sum(o.bytes for o in outcomes) / 1e6,
        load_average=load_average,
    )


# ---------------------------------------------------------------- isolation

# Eight different runs; more epochs make trainings last long enough to overlap on the server.
ISOLATION_SETTINGS: list[dict] = [
    dict(seed=11),
    dict(seed=12, lr=0.05, epochs=1000),
    dict(seed=13, optimizer="adam", lr=0.1, epochs=2000),
    dict(seed=14, optimizer="adamw", lr=0.05, weight_decay=0.01, epochs=3000),
    dict(seed=15, optimizer="rmsprop", lr=0.01, epochs=1500),
    dict(seed=16, optimizer="adagrad", lr=0.5, epochs=2500),
    dict(seed=17, optimizer="sgd", lr=0.005, momentum=0.9, nesterov=True, epochs=4000),
    dict(seed=18, lr=0.02, batch_size=8, epochs=1200),
]


def _changed(settings: dict, round_: int) -> dict:
    """The settings a session moves to in a rerun round: another seed and learning rate."""
    return {**settings, "seed": settings["seed"] + 100 * round_, "lr": settings.get("lr", 0.01) * (1 + round_ / 2)}


async def isolation(port: int, oracle: Oracle, timeout: float = 60.0) -> list[str]:
    """Problems found (empty: every session always saw exactly its own solo run).

    Round 0: 8 sessions load 8 different runs at once. Round 1: at once, the even sessions rerun
    with new settings while the odd ones rerun with their own. Round 2: the other way round.
    """
    settings = ISOLATION_SETTINGS
    rounds = [
        [config_query(**s) for s in settings],
        [config_query(**(_changed(s, 1) if i % 2 == 0 else s)) for i, s in enumerate(settings)],
        [config_query(**(_changed(s, 2) if i % 2 == 1 else _changed(s, 1))) for i, s in enumerate(settings)],
    ]
    expected = {q: oracle(q) for queries in rounds for q in queries}
    problems: list[str] = []
    sessions = [Session(port, timeout=timeout) for _ in settings]
    try:
        await asyncio.wait_for(asyncio.gather(*(s.connect() for s in sessions)), timeout)
        for number, queries in enumerate(rounds):
            requests = (s.run(q) for s, q in zip(sessions, queries, strict=True))
            runs = await asyncio.wait_for(asyncio.gather(*requests), timeout)
            for i, (run, query) in enumerate(zip(runs, queries, strict=True)):
                problem = run.problem(expected[query])
                if problem:
                    problems.append(f"round {number}, session {i} ({query}): {problem}")
    finally:
        await asyncio.gather(*(s.close() for s in sessions), return_exceptions=True)
    return problems


# ---------------------------------------------------------------- report


def _s(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} s"


def print_report(r: LoadReport) -> None:
    print(f"\n{r.page}: {r.sessions} sessions at once, {r.retrains} of them retrain; wall {r.wall_seconds:.1f} s")
    print(f"  warm-up session (not counted): {_s(r.warmup_seconds)}; machine load average {r.load_average:.1f}")
    print(f"  failures: {r.failures}")
    for reason, count in r.reasons.items():
        print(f"    {count:4d} x {reason}")
    print(f"  first run, fully rendered: p50 {_s(r.first_p50)}, p95 {_s(r.first_p95)}, max {_s(r.first_max)}")
    print(f"  retrain:                   p50 {_s(r.retrain_p50)}, p95 {_s(r.retrain_p95)}")
    print(
        f"  server: RSS {r.rss_idle_mb:.0f} MB before, peak {r.rss_peak_mb:.0f} MB sampled; "
        f"CPU {r.server_cpu_seconds:.1f} s over the load"
    )
    print(f"  client (this process): CPU {r.client_cpu_seconds:.1f} s; received {r.mb_received:.2f} MB")


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def bars(app: LoadReport, minimal: LoadReport | None) -> list[tuple[bool, str]]:
    out = [(app.failures == 0, f"0 failures ({app.failures} of {app.sessions})")]
    if minimal is not None:
        ratio = _ratio(app.first_p95, minimal.first_p95)
        shown = "n/a" if ratio is None else f"{ratio:.2f}x: {_s(app.first_p95)} vs {_s(minimal.first_p95)}"
        text = f"p95 first run within {P95_BAR_RATIO:g}x the minimal page's ({shown})"
        out.append((ratio is not None and ratio <= P95_BAR_RATIO, text))
    peak = app.rss_peak_mb
    out.append((peak <= RSS_BAR_MB, f"peak RSS <= {RSS_BAR_MB:.0f} MB ({peak:.0f} MB)"))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=100, help="sessions at once (default 100)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds a session may take in all (default 120)")
    parser.add_argument("--mode", choices=("load", "isolation", "all"), default="load")
    parser.add_argument("--app", type=Path, default=REPO / "app.py", help="the page to load (default app.py)")
    parser.add_argument("--no-minimal", action="store_true", help="skip the minimal page (and the p95 bar)")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    add_server_option(parser)
    args = parser.parse_args(argv)
    options = server_options(args)
    if not 1 <= args.sessions <= 1000 or not 0 < args.timeout <= 3600:
        parser.error("--sessions must be 1..1000 and --timeout 0..3600")

    oracle = lucky5_oracle()
    results: dict = {}
    ok = True
    if args.mode in ("load", "all"):
        app = run_load(f"lucky5 page ({args.app.name})", args.app, args.sessions, args.timeout, oracle, options)
        print_report(app)
        minimal = None
        if not args.no_minimal:
            with tempfile.TemporaryDirectory(prefix="lucky5-bench-") as folder:
                script = write_minimal_page(Path(folder))
                minimal = run_load("minimal page", script, args.sessions, args.timeout, minimal_fingerprint, options)
            print_report(minimal)
            if minimal.failures:
                print("  note: the minimal page failed too; the comparison says little about lucky5")
            print("\nlucky5 / minimal:")
            for name, a, b in [
                ("p95 first run", app.first_p95, minimal.first_p95),
                ("p95 retrain", app.retrain_p95, minimal.retrain_p95),
                ("peak RSS", app.rss_peak_mb, minimal.rss_peak_mb),
                ("server CPU", app.server_cpu_seconds, minimal.server_cpu_seconds),
            ]:
                ratio = _ratio(a, b)
                print(f"  {name:14s} {'n/a' if ratio is None else f'{ratio:.2f}x'}")
        print("\nbars:")
        for passed, text in bars(app, minimal):
            ok &= passed
            print(f"  {'PASS' if passed else 'FAIL'}  {text}")
        results["load"] = {"lucky5": asdict(app), "minimal": asdict(minimal) if minimal else None}
    if args.mode in ("isolation", "all"):
        with StreamlitServer(args.app, options=options) as server:
            started = time.perf_counter()
            problems = asyncio.run(isolation(server.port, oracle, timeout=args.timeout))
            seconds = time.perf_counter() - started
        ok &= not problems
        print(f"\nisolation ({len(ISOLATION_SETTINGS)} sessions, 3 rounds, {seconds:.1f} s):")
        print(f"  {'PASS' if not problems else 'FAIL'}  every session showed exactly its own solo run")
        for problem in problems:
            print(f"    {problem}")
        results["isolation"] = {"problems": problems, "seconds": seconds}
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
