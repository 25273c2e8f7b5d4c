"""How heavy the page's animation is, and whether it really plays in the browser alone.

    python -m bench.animation [--seconds 4]

For the default run and a 20,000-epoch run it serves the page (``streamlit run``, loopback),
opens it in headless Chromium through a byte-counting relay and prints a table of:

- frames in the figure and the Play button's nominal frame rate;
- what the first load sends over the websocket: payload bytes as the page receives them,
  the bytes on the wire (after permessage-deflate, if ``server.enableWebsocketCompression``
  is on), and the largest message (the one carrying the figure) raw and gzip-compressed;
- the figure as Plotly holds it in the browser (data, layout, frames), as JSON raw and gzipped; for the
  lesson (page/lesson.py) also its four charts and its captions together;
- during playback: websocket messages (must be 0) and the frames per second Plotly draws.

It measures; it asserts nothing (``tests/browser`` does). Numbers depend on the machine: compare
runs made on the same one. ``LUCKY5_PAGE=/path/page.py`` measures another page.
"""

from __future__ import annotations

import argparse
import gzip

from bench.browser import (
    FIGURE_JSON_JS,
    FRAME_COUNT_JS,
    PLAY,
    PLAY_DURATION_JS,
    fps,
    launch_chromium,
    open_page,
    press,
    probe,
    reset_probe,
    settle,
    wait_for_run,
)
from bench.harness import StreamlitServer, WireCounter

RUNS = {"default": "", "epochs=20000": "?epochs=20000"}
LOAD_TIMEOUT_S = 180

# The lesson (page/lesson.py) plays four charts on one timeline, with its frames' captions in the control bar:
# everything it sends, as Plotly holds it (typed arrays written out) plus the captions' JSON.
LESSON_JSON_JS = """
() => {
  const root = document.querySelector('.st-key-lesson');
  if (!root) return null;
  const charts = [...root.querySelectorAll('.js-plotly-plot')].map(gd => JSON.stringify(
    {data: gd.data, layout: gd.layout, frames: (gd._transitionData || {})._frames || []},
    (k, v) => ArrayBuffer.isView(v) ? Array.from(v) : v));
  const data = root.querySelector('script.lesson-data');
  return {charts, captions: data ? data.textContent : ''};
}
"""
# ms per frame of the lesson's chosen speed (its speed menu)
LESSON_SPEED_JS = "() => Number(document.querySelector('.st-key-lesson select.lesson-speed')?.value) || null"


def kb(n: int) -> str:
    return f"{n / 1000:,.1f} kB"


def measure(browser, server_port: int, query: str, seconds: float) -> dict[str, str]:
    """One page load and one playback; the table's column for this run."""
    wire = WireCounter(server_port)
    page, ws = open_page(browser, wire.url + query)
    try:
        wait_for_run(page, LOAD_TIMEOUT_S)
        settle(page, ws)
        figure = page.evaluate(FIGURE_JSON_JS).encode()
        frames = page.evaluate(FRAME_COUNT_JS)
        duration = page.evaluate(LESSON_SPEED_JS) or page.evaluate(PLAY_DURATION_JS)
        lesson = page.evaluate(LESSON_JSON_JS)
        row = {
            "frames": f"{frames:,}",
            "nominal fps (Play button)": f"{1000 / duration:.1f}" if duration else "-",
            "load: ws messages received": f"{ws.received:,}",
            "load: ws payload received": kb(ws.received_bytes),
            "load: ws bytes on the wire": kb(wire.ws_bytes),
            "load: permessage-deflate": {True: "on", False: "off", None: "?"}[wire.compressed],
            "largest ws message": kb(len(ws.largest)),
            "largest ws message, gzip": kb(len(gzip.compress(ws.largest, 6))),
            "figure JSON in browser": kb(len(figure)),
            "figure JSON in browser, gzip": kb(len(gzip.compress(figure, 6))),
        }
        if lesson:
            parts = [c.encode() for c in lesson["charts"]] + [lesson["captions"].encode()]
            row |= {
                "lesson: charts": f"{len(lesson['charts'])}",
                "lesson: charts + captions JSON": kb(sum(map(len, parts))),
                "lesson: charts + captions, gzip": kb(sum(len(gzip.compress(b, 6)) for b in parts)),
            }

        ws.reset()
        wire.reset()
        reset_probe(page)
        press(page, PLAY)
        page.wait_for_timeout(seconds * 1000)
        seen = probe(page)
        row |= {
            "playback: ws messages (sent+recv)": f"{ws.total}",
            "playback: ws bytes on the wire": f"{wire.ws_bytes:,} B",
            "playback: fps (plotly_animatingframe)": f"{fps(seen['frameTimes']):.1f}",
            "playback: chart changes seen per s": f"{seen['changes'] / seconds:.1f}",
        }
        return row
    finally:
        page.context.close()
        wire.close()


def table(columns: dict[str, dict[str, str]]) -> str:
    names = list(columns)
    metrics = list(next(iter(columns.values())))
    left = max(map(len, metrics))
    widths = [max(len(n), *(len(columns[n][m]) for m in metrics)) for n in names]
    lines = [" " * left + "  " + "  ".join(n.rjust(w) for n, w in zip(names, widths, strict=True))]
    lines += [
        m.ljust(left) + "  " + "  ".join(columns[n][m].rjust(w) for n, w in zip(names, widths, strict=True))
        for m in metrics
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=4, help="how long to watch playback (default 4)")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    with StreamlitServer() as server, sync_playwright() as p:
        browser = launch_chromium(p)
        print(f"page: {server.script}")
        columns = {name: measure(browser, server.port, query, args.seconds) for name, query in RUNS.items()}
        browser.close()
    print(table(columns))


if __name__ == "__main__":
    main()
