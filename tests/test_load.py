"""CI-sized load and isolation tests of the real page, through Streamlit's own websocket protocol.

A module-scoped fixture runs ``streamlit run app.py`` (headless, a free loopback port, stopped at
teardown) and warms it up with one session; the tests then open sessions with ``bench/stclient.py``
as a browser would, and every page's ``Run fingerprint:`` must equal ``lucky5.train(config)
.fingerprint()`` computed in this process. A second small server runs a probe page that checks the
client itself: exceptions, the message cache (``ref_hash``) and widget state.

Not here: timings and memory bars (``python bench/load.py`` measures those with 100 sessions);
a real browser (``tests/browser``).
"""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetState

from bench import load, stclient

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 60.0  # seconds any one session may take; a healthy run takes a fraction of that

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def oracle() -> load.Oracle:
    return load.lucky5_oracle()


@pytest.fixture(scope="module")
def app_port(oracle: load.Oracle):
    with load.serve(ROOT / "app.py") as server:
        warm = asyncio.run(load.load(server.port, 1, lambda i: None, {"": oracle("")}, 90.0))[0]
        assert warm.failure is None, f"the page does not render: {warm.failure}\n{server.log_tail()}"
        yield server.port


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

    async def first_run() -> stclient.RunResult:
        async with stclient.Session(app_port, timeout=TIMEOUT) as session:
            return await session.run(load.config_query(seed=7))

    run = asyncio.run(first_run())
    assert run.ok and run.fingerprint == oracle(load.config_query(seed=7))
    assert load.check(run, oracle(load.config_query(seed=8))) == (
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

    async def scenario(port: int) -> list[stclient.RunResult]:
        async with stclient.Session(port, timeout=TIMEOUT) as session:
            runs = [await session.run(""), await session.run("a=1")]
            session.set_widget(WidgetState(id=session.widget_ids()["Seed"], double_array_value={"data": [7]}))
            runs.append(await session.run("boom=1"))
            return runs

    with load.serve(script, cwd=tmp_path) as server:
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
