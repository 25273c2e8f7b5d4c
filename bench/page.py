"""Server time of one lucky5 page run, cached and uncached, against a minimal Streamlit page.

    python -m bench.page [--repeats 5] [--reruns 10] [--fresh 2] [--json PATH]

Two servers run side by side for the whole bench, each ``streamlit run`` on a free loopback port
from the repository root (so ``.streamlit/config.toml`` applies to both, websocket compression
included): lucky5's ``app.py`` and ``bench.harness.MINIMAL_PAGE`` (a title, its query parameters and a
fingerprint of them). A client speaks Streamlit's own websocket protocol to them (``bench.harness.Session``).
It measures:

1. **Cached rerun**: one lucky5 session, already warm (its default run trained and drawn), reruns
   the page ``--reruns`` times back to back with the URL the page itself set, or the bare URL if it
   set none (what a browser sends after a click). Per rerun: wall time from the rerun request to
   ``script_finished``, and the server's CPU seconds: the delta of the server's process tree's
   user+system CPU (psutil) over the block (read after the server has gone quiet, so Streamlit's
   post-run ``gc.collect`` is included) divided by the reruns. CPU is the truer "server time": wall
   includes the websocket transfer and this client's own parsing, on the same two cores.
2. **Uncached run**: a new session opens ``?seed=<new>`` (a seed no run of this server has used:
   a cache miss of the same size as the default run; a URL change is a page load, so it is a new
   session). Beside it, a new session opening the bare URL (a cache hit) separates the cost of a
   new session from the cost of training and drawing. The very first run of the fresh server
   process (imports included) is reported on its own.
3. The same as (1), and new sessions, for the minimal page, in the same rounds; the bar is
   **lucky5's cached rerun within 1x the minimal page's** (a click that changes nothing costs no more than
   a page of three lines), judged on CPU per rerun (the median of the per-round ratios; wall is printed too).
4. **The animation's bytes**, from the very first page load: the ``plotly_chart`` specs (figure
   JSON) of every element with animation frames (the lesson's four charts), summed, raw and each
   compressed with raw deflate
   (``zlib``, level 6) twice: with a 32 kB window (wbits 15) and with the window the server
   negotiated in ``Sec-WebSocket-Extensions`` (uvicorn's websockets: 4 kB, memLevel 5), which is
   how the server compresses each message (the stream also keeps its window across messages).
   Bar: **under 150 kB compressed**, on the larger of the two.
   Also the whole first page load: its messages' bytes as the page receives them (raw), and the
   bytes that actually crossed the socket, counted by a loopback relay the first session goes
   through (HTTP upgrade and websocket framing included).
5. Load average at start and end, versions, a table; ``--json`` writes every number.

Rounds alternate the order of the measurements, and every comparison is a ratio inside one round
of one process, because this machine is shared and noisy: trust the ratios and the CPU seconds
over the absolute wall times. Exit status: 0 when both bars pass, 1 when one fails, 2 when the
bench itself failed (the servers' log tails are printed).

What it is not: a browser (no JavaScript, no rendering, no static files), a load test
(``bench/load.py``) or a cold-start measurement (``bench/coldstart.py``). CPU seconds are
counted in clock ticks (10 ms), hence blocks of several runs. The server's idle CPU is measured
and printed, not subtracted. Only loopback addresses are used; every loop is bounded in count and
in time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.metadata
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import zlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.harness import (
    REPO,
    RecordingSession,
    RunResult,
    Session,
    StreamlitServer,
    WireCounter,
    add_server_option,
    quiet_cpu,
    server_options,
    tree_cpu_seconds,
    write_minimal_page,
)

RATIO_BAR = 1.0  # lucky5's cached rerun within this many times the minimal page's (server CPU)
FIGURE_BAR_BYTES = 150_000  # the animation's charts together, compressed
FIRST_RUN_TIMEOUT = 150.0  # seconds: the very first run imports torch and plotly
RUN_TIMEOUT = 60.0
FRESH_SEED_BASE = 900_001  # seeds FRESH_SEED_BASE + k: never the default's, never repeated in one bench


# ---------------------------------------------------------------- measuring the server


@dataclass
class Block:
    """Some runs of one kind, back to back: their walls, and the server CPU of the whole block."""

    walls: list[float]
    cpu_seconds: float
    messages: int
    raw_bytes: int


def check(run: RunResult, what: str, fingerprint: bool) -> None:
    problem = run.problem()
    if problem is None and fingerprint and run.fingerprint is None:
        problem = "no single 'Run fingerprint:' on the page"
    if problem:
        raise RuntimeError(f"{what} ({run.query_string or 'bare URL'}): {problem}")


async def block(pid: int, runs: Sequence[Callable[[], Awaitable[RunResult]]]) -> Block:
    """Run ``runs`` one after another; the server's CPU from quiet before to quiet after."""
    before = await quiet_cpu(pid)
    results = [await run() for run in runs]
    after = await quiet_cpu(pid)
    return Block(
        walls=[r.seconds for r in results],
        cpu_seconds=after - before,
        messages=round(statistics.median(r.messages for r in results)),
        raw_bytes=round(statistics.median(r.bytes for r in results)),
    )


async def fresh_session(port: int, query: str, what: str, fingerprint: bool) -> RunResult:
    """A new tab: connect, one run, close. Its ``seconds`` count from the run request (not the connect)."""
    session = Session(port, timeout=RUN_TIMEOUT)
    try:
        await session.connect()
        started = time.perf_counter()
        run = await session.run(query)
        run.seconds = time.perf_counter() - started
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(session.close(), 10)
    check(run, what, fingerprint)
    return run


async def rerun(session: Session, query: str, what: str, fingerprint: bool) -> RunResult:
    run = await session.run(query)
    check(run, what, fingerprint)
    return run


# ---------------------------------------------------------------- the bench


@dataclass
class Results:
    settings: dict
    versions: dict
    load_average_start: tuple[float, float, float]
    load_average_end: tuple[float, float, float] = (0.0, 0.0, 0.0)
    blocks: dict[str, list[dict]] = field(default_factory=dict)  # measurement -> one Block per round
    first_run: dict = field(default_factory=dict)
    figure: dict = field(default_factory=dict)
    idle_cpu_per_second: dict = field(default_factory=dict)
    summary: dict = field(default_factory=dict)
    bars: list[dict] = field(default_factory=list)


KINDS = {  # key -> label in the table
    "lucky5_rerun": "lucky5 cached rerun (same session)",
    "minimal_rerun": "minimal page rerun (same session)",
    "lucky5_uncached": "lucky5 uncached run (new session, new seed)",
    "lucky5_new_cached": "lucky5 new session, cached run (bare URL)",
    "minimal_new": "minimal page, new session",
}


async def idle_cpu(pid: int, seconds: float = 2.0) -> float:
    before = await quiet_cpu(pid)
    await asyncio.sleep(seconds)
    return (tree_cpu_seconds(pid) - before) / seconds


async def first_page_load(server: StreamlitServer, results: Results) -> str:
    """The very first run of the lucky5 process, through the wire counter; returns the URL the page set ("" if none)."""
    cpu_start = tree_cpu_seconds(server.pid)  # the process so far: interpreter, imports of the server, config
    with WireCounter(server.port) as relay:
        session = RecordingSession(relay.port, timeout=FIRST_RUN_TIMEOUT)
        try:
            await session.connect()
            extensions = session.extensions
            first = await session.run("")
            cpu_after = await quiet_cpu(server.pid)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(session.close(), 10)
        await asyncio.sleep(0.2)  # let the relay see the close
        wire = relay.ws_bytes
    check(first, "lucky5 first run", fingerprint=True)
    animated = [p for p in session.plotly if json.loads(p.spec).get("frames")]
    if not animated:
        raise RuntimeError(f"no plotly_chart with frames among {len(session.plotly)} charts")
    window = negotiated_window_bits(extensions)
    frames = len(json.loads(animated[0].spec)["frames"])
    results.first_run = {
        "wall_seconds": first.seconds,  # connect start to script_finished
        "server_cpu_before_seconds": cpu_start,
        "server_cpu_seconds": cpu_after - cpu_start,
        "messages": first.messages,
        "raw_bytes": first.bytes,
        "wire_bytes": wire,
        "websocket_extensions": extensions,
        "fingerprint": first.fingerprint,
        "page_url_query": session.query_string,  # None: the page did not change its URL
    }
    specs = [p.spec for p in animated]  # each its own message, compressed on its own (an upper bound)
    results.figure = {
        "frames": frames,
        "animated_charts": len(animated),
        "spec_bytes": sum(map(len, specs)),
        "spec_deflated_bytes": sum(deflated(s) for s in specs),
        # As the server compresses: websockets' permessage-deflate (uvicorn's) keeps a 2**window_bits window
        # and memLevel 5; a smaller window finds fewer repeats.
        "negotiated_window_bits": window,
        "spec_deflated_negotiated_bytes": sum(deflated(s, window, 5) for s in specs) if window else None,
        "message_bytes": sum(p.message_bytes for p in animated),
        "charts": len(session.plotly),
        "all_charts_spec_bytes": sum(len(p.spec) for p in session.plotly),
    }
    return session.query_string or ""  # a page that leaves its URL alone is rerun with the bare URL


def deflated(data: bytes, window_bits: int = 15, mem_level: int = 8) -> int:
    """Raw deflate (no zlib header or checksum), level 6: about permessage-deflate on one message."""
    compressor = zlib.compressobj(level=6, wbits=-window_bits, memLevel=mem_level)
    return len(compressor.compress(data) + compressor.flush())


def negotiated_window_bits(extensions: str) -> int | None:
    """``server_max_window_bits`` of a negotiated permessage-deflate (15 when not limited; None: no compression)."""
    for part in extensions.split(";"):
        name, _, value = part.strip().partition("=")
        if name == "server_max_window_bits" and value.strip().isdigit():
            return int(value)
    return 15 if "permessage-deflate" in extensions else None


async def bench(
    lucky5: StreamlitServer, minimal: StreamlitServer, results: Results, repeats: int, reruns: int, fresh: int
) -> None:
    page_query = await first_page_load(lucky5, results)

    # Warm: one session on each page, its first run and two reruns not counted.
    first_minimal = await fresh_session(minimal.port, "", "minimal first run", fingerprint=False)
    results.first_run["minimal_wall_seconds"] = first_minimal.seconds
    warm = Session(lucky5.port, timeout=RUN_TIMEOUT)
    small = Session(minimal.port, timeout=RUN_TIMEOUT)
    await warm.connect()
    await small.connect()
    try:
        default = await warm.run(page_query)
        check(default, "lucky5 warm-up", fingerprint=True)
        for _ in range(2):
            await rerun(warm, page_query, "lucky5 warm-up rerun", fingerprint=True)
            await rerun(small, "", "minimal warm-up rerun", fingerprint=False)
        for name, server in (("lucky5", lucky5), ("minimal", minimal)):
            results.idle_cpu_per_second[name] = await idle_cpu(server.pid)

        seeds = iter(range(FRESH_SEED_BASE, FRESH_SEED_BASE + repeats * fresh))
        seen: set[str] = {default.fingerprint or ""}

        async def uncached() -> RunResult:
            run = await fresh_session(lucky5.port, f"seed={next(seeds)}", "lucky5 uncached", fingerprint=True)
            if run.fingerprint in seen:
                raise RuntimeError(f"seed run {run.query_string} showed a fingerprint seen before: not a new run")
            seen.add(run.fingerprint or "")
            return run

        plans: dict[str, tuple[int, list[Callable[[], Awaitable[RunResult]]]]] = {
            "lucky5_rerun": (lucky5.pid, [lambda: rerun(warm, page_query, "lucky5 rerun", True)] * reruns),
            "minimal_rerun": (minimal.pid, [lambda: rerun(small, "", "minimal rerun", False)] * reruns),
            "lucky5_uncached": (lucky5.pid, [uncached] * fresh),
            "lucky5_new_cached": (lucky5.pid, [lambda: fresh_session(lucky5.port, "", "lucky5 new", True)] * fresh),
            "minimal_new": (minimal.pid, [lambda: fresh_session(minimal.port, "", "minimal new", False)] * fresh),
        }
        results.blocks = {kind: [] for kind in plans}
        for round_ in range(repeats):
            order = list(plans) if round_ % 2 == 0 else list(reversed(plans))  # alternate: ABCDE, EDCBA, ...
            for kind in order:
                pid, runs = plans[kind]
                measured = await block(pid, runs)
                results.blocks[kind].append(asdict(measured))
            print(f"  round {round_ + 1}/{repeats} done", flush=True)
    finally:
        for session in (warm, small):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(session.close(), 10)


# ---------------------------------------------------------------- summary and report


def summarise(results: Results) -> None:
    summary = {}
    for kind, blocks in results.blocks.items():
        cpu = [b["cpu_seconds"] / len(b["walls"]) for b in blocks]
        walls = [w for b in blocks for w in b["walls"]]
        summary[kind] = {
            "cpu_per_run_median": statistics.median(cpu),
            "cpu_per_run_best": min(cpu),
            "wall_median": statistics.median(walls),
            "wall_best": min(walls),
            "blocks": len(blocks),
            "runs": len(walls),
            "messages": blocks[0]["messages"],
            "raw_bytes": round(statistics.median(b["raw_bytes"] for b in blocks)),
        }
    pairs = list(zip(results.blocks["lucky5_rerun"], results.blocks["minimal_rerun"], strict=True))
    cpu_ratios = [
        (a["cpu_seconds"] / len(a["walls"])) / (b["cpu_seconds"] / len(b["walls"]))
        for a, b in pairs
        if b["cpu_seconds"] > 0
    ]
    wall_ratios = [statistics.median(a["walls"]) / statistics.median(b["walls"]) for a, b in pairs]
    lucky, small = summary["lucky5_rerun"], summary["minimal_rerun"]
    summary["ratio"] = {
        "cpu_median_of_rounds": statistics.median(cpu_ratios) if cpu_ratios else None,
        "cpu_best_vs_best": ratio_of(lucky["cpu_per_run_best"], small["cpu_per_run_best"]),
        "cpu_pooled": ratio_of(
            sum(b["cpu_seconds"] for b, _ in pairs) / summary["lucky5_rerun"]["runs"],
            sum(b["cpu_seconds"] for _, b in pairs) / summary["minimal_rerun"]["runs"],
        ),
        "wall_median_of_rounds": statistics.median(wall_ratios),
        "wall_best_vs_best": ratio_of(lucky["wall_best"], small["wall_best"]),
    }
    results.summary = summary
    ratio = summary["ratio"]["cpu_median_of_rounds"]
    compressed = max(results.figure["spec_deflated_bytes"], results.figure["spec_deflated_negotiated_bytes"] or 0)
    results.bars = [
        {
            "passed": ratio is not None and ratio <= RATIO_BAR,
            "text": f"cached rerun within {RATIO_BAR:g}x the minimal page (server CPU per rerun, median of "
            f"per-round ratios): {times(ratio)}",
        },
        {
            "passed": compressed < FIGURE_BAR_BYTES,
            "text": f"the animation's charts under {FIGURE_BAR_BYTES / 1000:g} kB compressed: {kb(compressed)} "
            "(the larger of the two estimates)",
        },
    ]


def ratio_of(a: float, b: float) -> float | None:
    return a / b if b else None


def times(ratio: float | None) -> str:
    return "n/a" if ratio is None else f"{ratio:.1f}x"


def kb(n: float) -> str:
    return f"{n / 1000:,.1f} kB"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f}"


def report(results: Results) -> None:
    v, s = results.versions, results.settings
    print(
        f"\nlucky5 page bench: Python {v['python']}, streamlit {v['streamlit']}, torch {v['torch']}, "
        f"plotly {v['plotly']}; {v['cpus']} CPUs"
    )
    print(
        f"load average (1, 5, 15 min): start {fmt_load(results.load_average_start)}, "
        f"end {fmt_load(results.load_average_end)}"
    )
    print(f"page {s['app']}; server options: {' '.join(s['server_options']) or 'none'} (both servers)")
    print(
        f"{s['repeats']} interleaved rounds; per round {s['reruns']} reruns per page and {s['fresh']} new "
        f"sessions per kind. Server idle CPU: lucky5 {results.idle_cpu_per_second['lucky5'] * 1000:.0f} ms/s, "
        f"minimal {results.idle_cpu_per_second['minimal'] * 1000:.0f} ms/s (not subtracted)\n"
    )
    head = f"{'measurement':45s} {'server CPU ms/run':>19s} {'wall ms/run':>15s} {'runs':>5s} {'msgs':>5s} {'raw':>9s}"
    print(head)
    print(f"{'':45s} {'median':>9s} {'best':>9s} {'median':>7s} {'best':>7s}")
    print("-" * len(head))
    for kind, label in KINDS.items():
        row = results.summary[kind]
        print(
            f"{label:45s} {ms(row['cpu_per_run_median']):>9s} {ms(row['cpu_per_run_best']):>9s} "
            f"{ms(row['wall_median']):>7s} {ms(row['wall_best']):>7s} {row['runs']:>5d} {row['messages']:>5d} "
            f"{kb(row['raw_bytes']):>9s}"
        )
    f = results.first_run
    print(
        f"{'lucky5 very first run of the process':45s} {ms(f['server_cpu_seconds']):>9s} {'':>9s} "
        f"{ms(f['wall_seconds']):>7s} {'':>7s} {1:>5d} {f['messages']:>5d} {kb(f['raw_bytes']):>9s}"
    )
    print(
        f"  (server CPU before that first run, from process start: {f['server_cpu_before_seconds']:.2f} s; "
        f"its wall counts from the connect; minimal page's first run: {ms(f['minimal_wall_seconds'])} ms wall)"
    )
    r = results.summary["ratio"]
    print("\nlucky5 cached rerun / minimal rerun:")
    print(
        f"  server CPU: {times(r['cpu_median_of_rounds'])} (median of rounds), {times(r['cpu_best_vs_best'])} "
        f"(best vs best), {times(r['cpu_pooled'])} (all rounds pooled)"
    )
    print(
        f"  wall:       {times(r['wall_median_of_rounds'])} (median of rounds), {times(r['wall_best_vs_best'])} "
        "(best vs best)"
    )
    g = results.figure
    print(
        f"\nthe animation: {g['animated_charts']} charts of {g['frames']} frames "
        f"({g['charts']} plotly charts on the page):"
    )
    negotiated = g["spec_deflated_negotiated_bytes"]
    print(f"  spec (figure JSON) raw {kb(g['spec_bytes'])}; its ForwardMsg raw {kb(g['message_bytes'])}")
    print(
        f"  raw deflate level 6: {kb(g['spec_deflated_bytes'])} with a 32 kB window (wbits 15); "
        + (
            f"{kb(negotiated)} with the negotiated {2 ** g['negotiated_window_bits'] // 1024} kB window"
            if negotiated
            else "no compression negotiated"
        )
    )
    print(
        f"first page load: {f['messages']} messages, {kb(f['raw_bytes'])} raw; on the socket "
        f"{kb(f['wire_bytes'])} (permessage-deflate negotiated: {f['websocket_extensions'] or 'no'})"
    )
    print("\nbars:")
    for bar in results.bars:
        print(f"  {'PASS' if bar['passed'] else 'FAIL'}  {bar['text']}")


def fmt_load(load: Sequence[float]) -> str:
    return " ".join(f"{x:.2f}" for x in load)


def versions() -> dict:
    out = {"python": platform.python_version(), "cpus": os.cpu_count()}
    for name in ("streamlit", "torch", "plotly"):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--reruns", type=int, default=10, help="reruns per page per round (default 10)")
    parser.add_argument("--fresh", type=int, default=2, help="new sessions per kind per round (default 2)")
    parser.add_argument("--json", type=Path, help="also write every number here")
    parser.add_argument("--app", type=Path, default=REPO / "app.py", help="the page to measure (default app.py)")
    add_server_option(parser)
    args = parser.parse_args(argv)
    options = server_options(args)
    if not (1 <= args.repeats <= 50 and 1 <= args.reruns <= 200 and 1 <= args.fresh <= 20):
        parser.error("--repeats must be 1..50, --reruns 1..200, --fresh 1..20")

    results = Results(
        settings={
            "repeats": args.repeats,
            "reruns": args.reruns,
            "fresh": args.fresh,
            "app": str(args.app),
            "server_options": args.server_option,
        },
        versions=versions(),
        load_average_start=os.getloadavg(),
    )
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="lucky5-page-") as folder, contextlib.ExitStack() as stack:
        script = write_minimal_page(Path(folder))
        servers: list[tuple[str, StreamlitServer]] = []
        try:
            lucky5 = stack.enter_context(StreamlitServer(args.app, options=options))
            servers.append(("lucky5", lucky5))
            minimal = stack.enter_context(StreamlitServer(script, options=options))
            servers.append(("minimal", minimal))
            budget = FIRST_RUN_TIMEOUT + args.repeats * (args.reruns * 2 + args.fresh * 3) * RUN_TIMEOUT
            asyncio.run(
                asyncio.wait_for(bench(lucky5, minimal, results, args.repeats, args.reruns, args.fresh), budget)
            )
        except Exception as err:  # report what broke and what the servers said, then fail
            print(f"\nbench failed: {type(err).__name__}: {err}", file=sys.stderr)
            for name, server in servers:
                state = "running" if server.running() else "exited"
                print(f"--- {name} server ({state}), log tail:\n{server.log_tail()}", file=sys.stderr)
            return 2
    results.load_average_end = os.getloadavg()
    summarise(results)
    report(results)
    print(f"\n(bench took {time.perf_counter() - started:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps(asdict(results), indent=2))
    return 0 if all(bar["passed"] for bar in results.bars) else 1


if __name__ == "__main__":
    sys.exit(main())
