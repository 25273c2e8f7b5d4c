"""The presenter kit costs once: 20 sessions that ask for it at the same moment cost the server no more CPU than
one build (within 1.2x), get the same zip, and the server stays under 600 MB (``bench.kit`` against a server of
its own, so that nothing else it served counts)."""

from __future__ import annotations

import asyncio

import pytest

from bench import kit as bench
from bench.harness import StreamlitServer

pytestmark = pytest.mark.slow


def test_twenty_concurrent_kit_requests_cost_one_build_and_stay_under_600_mb() -> None:
    with StreamlitServer() as server:
        report = asyncio.run(bench.measure(server.port, server.pid, 20))
    print(
        f"one build {report.one_cpu_s:.2f} s CPU; 20 at once {report.burst_cpu_s:.2f} s ({report.ratio:.2f}x); "
        f"RSS {report.rss_before_mb:.0f} -> {report.peak_rss_mb:.0f} MB; kit {report.kit_bytes:,} bytes"
    )
    failed = [text for passed, text in bench.bars(report) if not passed]
    assert not failed, failed
