"""Cold start: seconds from ``streamlit run`` to the first fully rendered run in Chromium.

    python -m bench.coldstart [--repeat 3]

Times lucky5's page (``app.py``) beside ``bench.harness.MINIMAL_PAGE`` opened with ``?torch=1`` (it imports
torch and draws one line with Plotly), each in a fresh server process, in the
same run and alternating, so the ratio compares like with like on this machine. "Rendered"
means the chart is drawn, the ``Run fingerprint:`` text is visible and the script has finished.
Chromium is launched before the clock starts. It measures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from bench.browser import launch_chromium, wait_for_run
from bench.harness import StreamlitServer, page_script, write_minimal_page

TIMEOUT_S = 180


def cold_start(browser, script: Path, query: str = "") -> tuple[float, float]:
    """(seconds until /_stcore/health answers, seconds until the first run of ``?query`` is rendered)."""
    start = time.perf_counter()
    server = StreamlitServer(script).start()
    try:
        server.wait_healthy(TIMEOUT_S)
        healthy = time.perf_counter() - start
        context = browser.new_context()
        try:
            page = context.new_page()
            page.goto(server.url + query)
            wait_for_run(page, TIMEOUT_S)
            rendered = time.perf_counter() - start
        finally:
            context.close()
    finally:
        server.stop()
    return healthy, rendered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="cold starts of each page (default 3)")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        minimal = write_minimal_page(Path(tmp))
        pages = {"minimal torch page": (minimal, "?torch=1"), page_script().name: (page_script(), "")}
        browser = launch_chromium(p)
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in pages}
        for i in range(args.repeat):
            for name, (script, query) in pages.items():
                healthy, rendered = cold_start(browser, script, query)
                times[name].append((healthy, rendered))
                print(f"  run {i + 1}: {name:<20} healthy {healthy:6.2f} s   rendered {rendered:6.2f} s")
        browser.close()

    medians = {
        name: (statistics.median(h for h, _ in t), statistics.median(r for _, r in t)) for name, t in times.items()
    }
    print(f"\nmedian of {args.repeat}:")
    for name, (healthy, rendered) in medians.items():
        print(f"  {name:<20} healthy {healthy:6.2f} s   rendered {rendered:6.2f} s")
    (_, base), (_, app) = medians.values()
    print(f"  ratio {page_script().name} / minimal: {app / base:.2f}x")


if __name__ == "__main__":
    main()
