"""Bytes on the wire of a page's first load, from Chromium's own network log.

    python -m bench.wire [--query "?scene=1"] [--slow-3g] [--repo DIR] [--json PATH]

Starts ``streamlit run app.py`` from ``--repo`` (this repository by default; point it at another checkout
to measure a "before"), opens the page in a fresh headless Chromium context (empty cache) with the
DevTools network log attached before navigating, waits until the run is drawn (chart, fingerprint, script
finished), lets the network go quiet, and prints:

- the HTTP bytes of the first load (``encodedDataLength`` of every response: headers included, after
  content-encoding), and how many of them were compressed;
- the websocket payload bytes the page received (after permessage-deflate: an upper bound of the wire);
- the time until the run was drawn, and the largest responses.

``--slow-3g`` emulates 400 ms latency and 400 kbit/s each way. Only loopback addresses are used; the
server is stopped at the end. It measures, it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from bench.browser import DESKTOP, SLOW_3G, launch_chromium, open_logged, wait_for_run
from bench.harness import REPO, StreamlitServer


def measure(url: str, slow: bool, timeout_s: float) -> dict:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            start = time.monotonic()
            page, ws, net = open_logged(browser, url, DESKTOP, throttle=SLOW_3G if slow else None)
            wait_for_run(page, timeout_s)
            drawn = time.monotonic() - start
            quiet, deadline = len(net.bytes), time.monotonic() + 30
            while time.monotonic() < deadline:  # late requests (fonts, the chart's bundle) finish
                page.wait_for_timeout(1500)
                if len(net.bytes) == quiet:
                    break
                quiet = len(net.bytes)
            compressed = sum(1 for rid in net.bytes if net.encodings.get(rid))
            return {
                "url": url,
                "http_bytes": net.total,
                "responses": len(net.bytes),
                "compressed_responses": compressed,
                "websocket_payload_bytes": ws.received_bytes,
                "seconds_to_run": round(drawn, 2),
                "largest": net.largest(8),
                "failed": net.failed,
            }
        finally:
            browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--query", default="", help="query string of the page, e.g. '?scene=1'")
    parser.add_argument("--slow-3g", action="store_true", help="emulate 400 ms latency and 400 kbit/s")
    parser.add_argument("--repo", type=Path, default=REPO, help="the checkout whose app.py is served")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with StreamlitServer(args.repo / "app.py", cwd=args.repo) as server:
        result = measure(server.url + args.query, args.slow_3g, args.timeout)
    print(f"first load of {result['url']} ({'Slow 3G' if args.slow_3g else 'loopback'}):")
    http, responses, compressed = result["http_bytes"], result["responses"], result["compressed_responses"]
    print(f"  HTTP: {http:,} bytes in {responses} responses, {compressed} compressed")
    print(f"  websocket payloads received: {result['websocket_payload_bytes']:,} bytes")
    print(f"  run drawn after {result['seconds_to_run']:.1f} s")
    for url, size, encoding in result["largest"]:
        print(f"  {size:>10,}  {encoding or '-':5}  {url[-90:]}")
    if result["failed"]:
        print("  failed:", result["failed"])
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
