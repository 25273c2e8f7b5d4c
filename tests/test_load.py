"""CI-sized load and isolation tests of the real page, through Streamlit's own websocket protocol.

The page served by ``tests/conftest.py`` is warmed up with one session; the tests then open sessions
with ``bench.harness.Session`` as a browser would, and every page's ``Run fingerprint:`` must equal
``lucky5.train(config).fingerprint()`` computed in this process. A second small server runs a probe page
that checks the client itself: exceptions, the message cache (``ref_hash``) and widget state; a third
serves the benches' minimal page, whose fingerprint the load bench predicts.

Not here: timings and memory bars (``python -m bench.load`` measures those with 100 sessions);
a real browser (``tests/browser``).
"""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.proto.Common_pb2 import DoubleArray
from streamlit.proto.WidgetStates_pb2 import WidgetState

from bench import load
from bench.harness import (
    RunResult,
    Session,
    StreamlitServer,
    fingerprint,
    http_get,
    minimal_fingerprint,
    write_minimal_page,
)

TIMEOUT = 60.0  # seconds any one session may take; a healthy run takes a fraction of that

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def app_port(page_server: StreamlitServer, oracle: load.Oracle) -> Iterator[int]:
    warm = asyncio.run(load.load(page_server.port, 1, lambda i: None, {"": oracle("")}, 90.0))[0]
    assert warm.failure is None, f"the page does not render: {warm.failure}\n{page_server.log_tail()}"
    yield page_server.port


def test_ten_sessions_at_once_half_retraining(app_port: int, oracle: load.Oracle) -> None:
    queries = [""] + [q for q in map(load.retrain_query, range(10)) if q is not None]
    expected = {q: oracle(q) for q in queries}
    assert len(set(expected.values())) == 6  # five distinct retrains, each unlike the default run

    outcomes = asyncio.run(load.load(app_port, 10, load.retrain_query, expected, TIMEOUT))

    assert [(o.index, o.phase, o.failure) for o in outcomes if o.failure] == []
    assert all(o.first_seconds is not None for o in outcomes)
    assert sum(o.retrain_seconds is not None for o in outcomes) == 5


def test_eight_sessions_each_see_only_their_own_run(app_port: int, oracle: load.Oracle) -> None:
    assert asyncio.run(load.isolation(app_port, oracle, TIMEOUT)) == []


def test_a_session_reports_a_bad_fingerprint(app_port: int, oracle: load.Oracle) -> None:
    """The check is not vacuous: the page's fingerprint is read, and a wrong expectation is caught."""

    async def first_run() -> RunResult:
        async with Session(app_port, timeout=TIMEOUT) as session:
            return await session.run(load.config_query(seed=7))

    run = asyncio.run(first_run())
    assert run.ok and run.fingerprint == oracle(load.config_query(seed=7))
    assert run.problem(oracle(load.config_query(seed=7))) is None
    assert run.problem(oracle(load.config_query(seed=8))) == (
        f"fingerprint {run.fingerprint} != solo run {oracle(load.config_query(seed=8))}"
    )


PROBE_PAGE = """
    import streamlit as st

    st.title("probe")
    st.markdown("x" * 20_000)  # above global.minCachedMessageSize: cacheable, sent by reference on reruns
    st.caption(f"Run fingerprint: {'ab' * 6}")
    seed = st.slider("Seed", 0, 10, 3, key="seed")
    st.write(f"slider at {seed}")
    if st.query_params.get("boom"):
        raise ValueError("boom!")
"""


def test_client_protocol_on_a_probe_page(tmp_path: Path) -> None:
    script = tmp_path / "probe_page.py"
    script.write_text(textwrap.dedent(PROBE_PAGE))

    async def scenario(port: int) -> list[RunResult]:
        async with Session(port, timeout=TIMEOUT) as session:
            runs = [await session.run(""), await session.run("a=1")]
            session.set_widget(WidgetState(id=session.widget_ids()["Seed"], double_array_value=DoubleArray(data=[7])))
            runs.append(await session.run("boom=1"))
            return runs

    with StreamlitServer(script, cwd=tmp_path) as server:
        first, second, third = asyncio.run(scenario(server.port))

    assert first.ok and first.fingerprint == "ab" * 6 and "slider at 3" in first.texts
    assert first.cache_hits == 0 and second.cache_hits == 1  # the big markdown came back as a ref_hash
    assert second.bytes < first.bytes / 5 and second.texts == first.texts
    assert "slider at 7" in third.texts  # the widget state reached the script
    assert not third.ok and third.exceptions == ["ValueError: boom!"]
    assert third.problem() == "page shows an exception: ValueError: boom!"


def test_percentile_is_nearest_rank() -> None:
    values = list(range(1, 101))
    assert (load.percentile(values, 50), load.percentile(values, 95), load.percentile([], 95)) == (50, 95, None)


def test_minimal_page_shows_the_fingerprint_the_benches_predict(tmp_path: Path) -> None:
    """The load bench judges the minimal page by ``minimal_fingerprint``; a wrong prediction would fail it."""
    script = write_minimal_page(tmp_path)

    async def scenario(port: int) -> list[RunResult]:
        async with Session(port, timeout=TIMEOUT) as session:
            return [await session.run(""), await session.run("seed=1001")]

    with StreamlitServer(script) as server:
        bare, seeded = asyncio.run(scenario(server.port))
        assert http_get(server.url + "_stcore/health") == (200, b"ok")

    assert bare.problem(minimal_fingerprint("")) is None
    assert seeded.problem(minimal_fingerprint("seed=1001")) is None
    assert minimal_fingerprint("") != minimal_fingerprint("seed=1001")


def test_fingerprint_parser_wants_exactly_one_value() -> None:
    assert fingerprint("Run fingerprint: `0123456789ab` · 200 epochs") == "0123456789ab"
    assert fingerprint(["Run fingerprint: 0123456789ab", "again: Run fingerprint: 0123456789ab"]) == "0123456789ab"
    assert fingerprint(["Run fingerprint: 0123456789ab", "Run fingerprint: ba9876543210"]) is None
    assert fingerprint("Run fingerprint: 0123456789abc") is None  # 13 digits: not a fingerprint
    assert fingerprint("no run here") is None


def test_http_get_is_for_loopback_only() -> None:
    with pytest.raises(ValueError, match="loopback"):
        http_get("http://example.invalid/")
