"""Drive a Streamlit page in headless Chromium through Playwright: open it, wait for a run, watch the chart.

Shared by ``tests/browser`` and the browser benches; the server, the wire counter and the fingerprint
parser come from ``bench.harness``. It knows the page's contract (Plotly charts with frames,
"Play"/"Pause" buttons, a ``Run fingerprint: <12 hex>`` text) but nothing about
lucky5's internals, and it asserts nothing: tests decide what is right, benches only measure.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.harness import FINGERPRINT_PATTERN, fingerprint

CHROMIUM = Path("/usr/bin/chromium")  # Debian's; `playwright install` cannot download browsers here
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    # Without these Chromium keeps calling home, and spams refused connections on a closed network.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
FIRST_LOAD_S = 60  # torch import and the first training happen before the first chart
CHART = '[data-testid="stPlotlyChart"] .js-plotly-plot'
LESSON_BUTTONS = ".st-key-lesson .lesson-bar button"  # the lesson's control bar (page/lesson.py): real buttons
# The chart's buttons, with or without a symbol in front ("▶ Play" or "Play").
PLAY = re.compile(r"^\W*Play\s*$")
PAUSE = re.compile(r"^\W*Pause\s*$")
DESKTOP = {"width": 1400, "height": 2400}  # tall: Streamlit scrolls an inner container, not the page
PHONE = {"width": 390, "height": 2400}


def launch_chromium(playwright: Any):
    """Debian's headless Chromium through Playwright; a clear error if it is not installed."""
    if not CHROMIUM.exists():
        raise FileNotFoundError(
            f"{CHROMIUM} is missing: install it with `apt-get install chromium` "
            "(Playwright cannot download its own browsers on this network)"
        )
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


# Plotly's graph div of the animated chart: the first one with frames, else the first chart.
FIND_GD = """
  const gds = [...document.querySelectorAll('.js-plotly-plot')];
  const gd = gds.find(g => ((g._transitionData || {})._frames || []).length) || gds[0];
"""


def _with_gd(body: str) -> str:
    """A JavaScript function whose body sees ``gd``, the animated chart's graph div (or undefined)."""
    return "() => {" + FIND_GD + body + "}"


# Runs in the page before Streamlit's scripts. Once per animation frame it reads Plotly's graph div
# (cheaply: current frame name and slider step) and counts changes; it also counts Plotly's own
# `plotly_animatingframe` events with their times. The page never knows it is there.
PROBE_JS = """
(() => {
  if (window.top !== window) return;
  const p = window.__lucky5 = {changes: 0, frames: 0, frameTimes: [], last: null, gd: null};
  const tick = () => {
    requestAnimationFrame(tick);
    const gd = (FIND_CHART)();
    if (!gd || !gd._fullLayout) return;
    if (p.gd !== gd && typeof gd.on === 'function') {
      p.gd = gd;
      gd.on('plotly_animatingframe', () => {
        p.frames++;
        p.frameTimes.push(performance.now());
        if (p.frameTimes.length > 2000) p.frameTimes.shift();
      });
    }
    const slider = (gd._fullLayout.sliders || [])[0];
    const key = String(gd._fullLayout._currentFrame) + '|' + (slider ? slider.active : '');
    if (p.last !== null && key !== p.last) p.changes++;
    p.last = key;
  };
  requestAnimationFrame(tick);
})();
""".replace("FIND_CHART", _with_gd("return gd;"))

# The chart's state in full: slider step, current frame and a digest of every trace's arrays.
STATE_JS = _with_gd("""
  if (!gd || !gd._fullLayout) return null;
  const slider = (gd._fullLayout.sliders || [])[0];
  const digest = (gd.data || []).map(t => ['x', 'y', 'z'].map(k => {
    const a = t[k];
    if (!a || typeof a.length !== 'number' || typeof a === 'string') return '';
    let sum = 0;
    for (let i = 0; i < a.length; i++) { const v = +a[i]; if (Number.isFinite(v)) sum += v * (1 + (i % 7)); }
    return a.length + ':' + sum.toPrecision(12);
  }).join(',')).join(';');
  return {active: slider ? slider.active : null, frame: gd._fullLayout._currentFrame ?? null, data: digest};
""")

FRAME_COUNT_JS = _with_gd("return ((gd._transitionData || {})._frames || []).length;")

# What Plotly holds: the figure with its frames, typed arrays written out as lists.
FIGURE_JSON_JS = _with_gd("""
  const frames = (gd._transitionData || {})._frames || [];
  return JSON.stringify({data: gd.data, layout: gd.layout, frames},
                        (k, v) => ArrayBuffer.isView(v) ? Array.from(v) : v);
""")

# The Play button's nominal frame duration (ms), if it says one.
PLAY_DURATION_JS = _with_gd("""
  for (const menu of gd.layout.updatemenus || []) for (const b of menu.buttons || []) {
    if (!/^\\W*Play\\s*$/.test(b.label || '')) continue;
    const frame = ((b.args || [])[1] || {}).frame;
    return frame && frame.duration != null ? frame.duration : null;
  }
  return null;
""")

# Where the page is on its way to showing a run (innerText skips hidden text).
RUN_STATUS_JS = _with_gd("""
  const exception = document.querySelector('[data-testid="stException"]');
  return {
    chart: !!(gd && gd._fullLayout && gd.closest('[data-testid="stPlotlyChart"]')
              && gd.getBoundingClientRect().width > 0),
    fingerprint: /FINGERPRINT/.test(document.body.innerText),
    finished: document.querySelector('[data-testid="stApp"]')?.getAttribute('data-test-script-state') === 'notRunning',
    exception: exception ? exception.innerText.slice(0, 3000) : null,
  };
""").replace("FINGERPRINT", FINGERPRINT_PATTERN)


@dataclass
class WebSocketLog:
    """Counts the page's websocket messages (Streamlit's one connection) in both directions.

    Playwright delivers these events only while a Playwright call is waiting, so wait with
    ``page.wait_for_timeout`` (never ``time.sleep``) before reading the counters.
    """

    sent: int = 0
    received: int = 0
    received_bytes: int = 0  # payload bytes as the page sees them: after any permessage-deflate
    largest: bytes = b""  # the biggest message received (on first load: the one carrying the figure)
    recent: list[str] = field(default_factory=list)  # the first few messages since reset, for failure messages
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def attach(self, page: Any) -> None:
        page.on("websocket", self._on_websocket)

    def _on_websocket(self, ws: Any) -> None:
        ws.on("framesent", self._on_sent)
        ws.on("framereceived", self._on_received)

    def _on_sent(self, payload: str | bytes) -> None:
        data = payload.encode() if isinstance(payload, str) else bytes(payload)
        with self._lock:
            self.sent += 1
            self._note("sent", data)

    def _on_received(self, payload: str | bytes) -> None:
        data = payload.encode() if isinstance(payload, str) else bytes(payload)
        with self._lock:
            self.received += 1
            self.received_bytes += len(data)
            if len(data) > len(self.largest):
                self.largest = data
            self._note("received", data)

    def _note(self, direction: str, data: bytes) -> None:
        if len(self.recent) < 5:
            self.recent.append(f"{direction} {len(data)} B {data[:48]!r}")

    @property
    def total(self) -> int:
        return self.sent + self.received

    def reset(self) -> None:
        with self._lock:
            self.sent = self.received = self.received_bytes = 0
            self.largest = b""
            self.recent = []


def open_page(browser: Any, url: str, viewport: dict | None = None, **context_options: Any) -> tuple[Any, WebSocketLog]:
    """A fresh context and page with the probe and a websocket log attached, already navigated to ``url``.

    ``context_options`` go to Playwright's ``browser.new_context`` (``color_scheme="dark"``, ...).
    """
    context = browser.new_context(viewport=viewport or DESKTOP, **context_options)
    page = context.new_page()
    page.add_init_script(PROBE_JS)
    ws = WebSocketLog()
    ws.attach(page)
    page.goto(url)
    return page, ws


class PageError(AssertionError):
    """The page showed an exception box (``[data-testid="stException"]``)."""


def wait_for_run(page: Any, timeout_s: float = FIRST_LOAD_S) -> None:
    """Wait until the chart is drawn, the fingerprint shown and the script has finished running.

    Raises ``PageError`` with the exception's text as soon as the page shows one, and
    ``TimeoutError`` naming what is still missing after ``timeout_s``.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        status = page.evaluate(RUN_STATUS_JS)
        if status["exception"]:
            raise PageError("the page shows an exception:\n" + status["exception"])
        missing = [name for name in ("chart", "fingerprint", "finished") if not status[name]]
        if not missing:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"no run shown after {timeout_s:.0f} s; missing: {', '.join(missing)}")
        page.wait_for_timeout(200)


def settle(page: Any, ws: WebSocketLog, quiet_s: float = 1.5, timeout_s: float = 30) -> bool:
    """Wait until no websocket message has flowed for ``quiet_s``; False if that never happened."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        before = ws.total
        page.wait_for_timeout(quiet_s * 1000)
        if ws.total == before:
            return True
    return False


def chart_state(page: Any) -> dict | None:
    """Slider step, current frame name and a digest of the traces' data (None before the chart exists)."""
    return page.evaluate(STATE_JS)


def probe(page: Any) -> dict:
    """The probe's counters: ``changes`` of the chart's frame/slider seen by requestAnimationFrame,
    ``frames`` and ``frameTimes`` (ms) of Plotly's ``plotly_animatingframe`` events."""
    return page.evaluate(
        "() => ({changes: window.__lucky5.changes, frames: window.__lucky5.frames, "
        "frameTimes: window.__lucky5.frameTimes.slice()})"
    )


def reset_probe(page: Any) -> None:
    page.evaluate("() => { const p = window.__lucky5; p.changes = 0; p.frames = 0; p.frameTimes = []; }")


# Where an element is and whether it is what a person sees there: its box, the viewport, ``inside`` (wholly inside
# the viewport, not empty) and ``onTop`` (document.elementFromPoint at its centre is the element or inside it).
GEOMETRY_JS = """
(selector) => {
  const e = document.querySelector(selector);
  if (!e) return null;
  const r = e.getBoundingClientRect();
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return {top: r.top, left: r.left, bottom: r.bottom, right: r.right, width: r.width, height: r.height,
          vw: window.innerWidth, vh: window.innerHeight,
          inside: r.width > 0 && r.height > 0 && r.top >= 0 && r.left >= 0
                  && r.bottom <= window.innerHeight && r.right <= window.innerWidth,
          onTop: !!hit && (hit === e || e.contains(hit)),
          hit: hit ? hit.tagName.toLowerCase() + '.' + [...hit.classList].slice(0, 3).join('.') : null};
}
"""


def geometry(page: Any, selector: str) -> dict | None:
    """``GEOMETRY_JS`` for the first element matching ``selector`` (None if there is none)."""
    return page.evaluate(GEOMETRY_JS, selector)


ELEMENT_GEOMETRY_JS = GEOMETRY_JS.replace("(selector) => {\n  const e = document.querySelector(selector);", "(e) => {")


def seen(locator: Any) -> dict:
    """``GEOMETRY_JS`` for the first element of a Playwright locator (e.g. found by its text)."""
    return locator.first.evaluate(ELEMENT_GEOMETRY_JS)


def tap(locator: Any) -> None:
    """Click ``locator`` as a person does: scroll it into view first, let the scroll end, then click.

    Playwright's own click scrolls and clicks in one frame; the scroll event then arrives after the click, and a
    Streamlit selectbox closes its list on that scroll, so the list a person would see never stays open.
    """
    locator.scroll_into_view_if_needed()
    locator.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
    locator.click()


def press(page: Any, label: str | re.Pattern) -> None:
    """Click the animation's button by its visible text, e.g. ``PLAY``: the lesson's own control bar where the
    page shows the lesson (``LESSON_BUTTONS``), else the chart's updatemenu buttons (Plotly draws them in SVG)."""
    lesson = page.locator(LESSON_BUTTONS, has_text=label)
    if lesson.count():
        lesson.first.click()
    else:
        page.locator(f"{CHART} .updatemenu-button", has_text=label).first.click()


def fps(frame_times: list[float]) -> float:
    """Frames per second from event times in ms (0 if fewer than two)."""
    if len(frame_times) < 2 or frame_times[-1] <= frame_times[0]:
        return 0.0
    return (len(frame_times) - 1) * 1000 / (frame_times[-1] - frame_times[0])


def page_fingerprint(page: Any) -> str | None:
    """The run fingerprint the page shows (``bench.harness.fingerprint`` of its visible text)."""
    return fingerprint(page.locator("body").inner_text())


# Chromium's "Slow 3G" as the keynote-hall bar states it: 400 ms latency, 400 kbit/s each way.
SLOW_3G = {"offline": False, "latency": 400, "downloadThroughput": 400_000 / 8, "uploadThroughput": 400_000 / 8}


@dataclass
class NetworkLog:
    """Chromium's own network log of one page (DevTools protocol): every response's bytes on the wire.

    ``bytes`` per request is ``Network.loadingFinished``'s ``encodedDataLength``: what crossed the network,
    headers included, after any content-encoding; ``encodings`` what each response was encoded with.
    Websocket payloads are counted apart (``ws_bytes``, as the page receives them: after any deflate).
    Attach it before the page navigates (``open_logged``); ``throttle`` emulates a slow network.
    """

    bytes: dict[str, int] = field(default_factory=dict)  # request id -> encoded bytes (finished responses)
    streaming: dict[str, int] = field(default_factory=dict)  # request id -> encoded bytes received so far
    urls: dict[str, str] = field(default_factory=dict)
    encodings: dict[str, str] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    ws_bytes: int = 0
    cdp: Any = None

    def attach(self, page: Any) -> None:
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("Network.enable")
        self.cdp.on("Network.responseReceived", self._response)
        self.cdp.on("Network.loadingFinished", self._finished)
        self.cdp.on("Network.loadingFailed", lambda e: self.failed.append(self.urls.get(e["requestId"], "?")))
        self.cdp.on("Network.requestWillBeSent", lambda e: self.urls.__setitem__(e["requestId"], e["request"]["url"]))
        self.cdp.on("Network.webSocketFrameReceived", self._frame)
        self.cdp.on("Network.dataReceived", self._data)

    def throttle(self, conditions: dict | None = None) -> None:
        self.cdp.send("Network.emulateNetworkConditions", conditions or SLOW_3G)

    def _response(self, event: dict) -> None:
        headers = {k.lower(): v for k, v in event["response"].get("headers", {}).items()}
        rid = event["requestId"]
        self.encodings[rid] = headers.get("content-encoding", "")
        self.streaming[rid] = self.streaming.get(rid, 0) + int(event["response"].get("encodedDataLength", 0))

    def _finished(self, event: dict) -> None:
        self.bytes[event["requestId"]] = int(event.get("encodedDataLength", 0))

    def _data(self, event: dict) -> None:
        rid = event["requestId"]
        self.streaming[rid] = self.streaming.get(rid, 0) + int(event.get("encodedDataLength", 0))

    def _frame(self, event: dict) -> None:
        self.ws_bytes += len(event["response"].get("payloadData", ""))

    @property
    def total(self) -> int:
        """Bytes of every HTTP response: finished ones whole, open ones (an event stream) as received so far;
        websocket frames not included."""
        return sum(self.bytes.values()) + sum(n for rid, n in self.streaming.items() if rid not in self.bytes)

    def largest(self, n: int = 8) -> list[tuple[str, int, str]]:
        """The ``n`` largest responses: (url, bytes, content-encoding)."""
        rows = sorted(self.bytes.items(), key=lambda kv: -kv[1])[:n]
        return [(self.urls.get(rid, "?"), size, self.encodings.get(rid, "")) for rid, size in rows]


def open_logged(
    browser: Any, url: str, viewport: dict | None = None, throttle: dict | None = None, **context_options: Any
) -> tuple[Any, WebSocketLog, NetworkLog]:
    """``open_page`` with a ``NetworkLog`` attached before navigating (and the network throttled if asked)."""
    context = browser.new_context(viewport=viewport or DESKTOP, **context_options)
    page = context.new_page()
    page.add_init_script(PROBE_JS)
    ws, net = WebSocketLog(), NetworkLog()
    ws.attach(page)
    net.attach(page)
    if throttle:
        net.throttle(throttle)
    page.goto(url)
    return page, ws, net


def move_to_stage(wall: Any, number: int, title: str, timeout_ms: float = 20_000) -> None:
    """The presenter clicks stage ``number``'s button (its text "N. title") and, when the wall asks because runs
    would leave it, "Yes, move on to stage N"; returns once the wall's heading names the stage."""
    wall.get_by_role("button", name=f"{number}. {title}", exact=True).click(timeout=timeout_ms)
    heading = wall.get_by_role("heading", name=f"Stage {number}: {title}")
    yes = wall.get_by_role("button", name=f"Yes, move on to stage {number}", exact=True)
    deadline = time.monotonic() + timeout_ms / 1000
    while time.monotonic() < deadline:  # bounded: one of the two shows within a rerun
        if yes.count():
            yes.click(timeout=timeout_ms)
            break
        if heading.count() and heading.first.is_visible():
            break
        wall.wait_for_timeout(100)
    heading.first.wait_for(state="visible", timeout=timeout_ms)
