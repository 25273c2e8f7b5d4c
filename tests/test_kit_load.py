"""The presenter kit costs once: 20 sessions that ask for it at the same moment get the same zip, the server
builds it once, and it stays under 600 MB (``bench.kit`` against a server of its own, so that nothing else it
served counts).

"Builds once" is read from CPU: 20 builds would cost about 20 times one build. The test's bar is far from both
(``ONCE_BAR``), so a loaded CI machine's noise cannot fail it; the performance claim itself, the burst within
1.2 times one build, is the bench's (``python -m bench.kit``), which prints the ratio."""

from __future__ import annotations

import asyncio

import pytest

from bench import kit as bench
from bench.harness import StreamlitServer

pytestmark = pytest.mark.slow

# One build serves all 20 (a ratio near 1, the bench holds it to 1.2); a build per request would be
# near 20. Far from both.
ONCE_BAR = 4.0


def test_twenty_concurrent_kit_requests_cost_one_build_and_stay_under_600_mb() -> None:
    with StreamlitServer() as server:
        report = asyncio.run(bench.measure(server.port, server.pid, 20))
    print(
        f"one build {report.one_cpu_s:.2f} s CPU; 20 at once {report.burst_cpu_s:.2f} s ({report.ratio:.2f}x); "
        f"RSS {report.rss_before_mb:.0f} -> {report.peak_rss_mb:.0f} MB; kit {report.kit_bytes:,} bytes"
    )
    assert report.peak_rss_mb <= bench.MAX_RSS_MB, f"peak RSS {report.peak_rss_mb:.0f} MB"
    assert report.ratio <= ONCE_BAR, f"20 at once cost {report.ratio:.2f}x one build's CPU: built more than once?"
