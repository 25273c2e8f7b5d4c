"""The lesson's first screen in a real browser: everything a learner watches in view together, time running
forward, a voice for screen readers, and nothing that moves by itself for a viewer who asked for less motion.

Geometry is what Chromium lays out (the element inside the first viewport, and ``document.elementFromPoint`` at
its centre hitting it), at 1440×900, 1280×720 and 1920×1080 with the sidebar open and at 390×844, in both colour
schemes.
The oracle for "nothing after the current epoch" is the run itself, trained here with ``lucky5.train``: every
drawn point of the valley's path must be one of its rows up to the epoch on screen. Screenshots go to
artifacts/screenshots/ (lesson-*.png).
"""

from __future__ import annotations

import math
import re

import pytest
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]  # ships no type hints
from playwright.sync_api import expect

from bench.browser import LESSON_BUTTONS, PAUSE, PLAY, geometry, settle, wait_for_run
from lucky5 import Config, train

pytestmark = pytest.mark.browser

SIZES = {
    "1440x900": {"width": 1440, "height": 900},
    "1280x720": {"width": 1280, "height": 720},
    "1920x1080": {"width": 1920, "height": 1080},
    "390x844": {"width": 390, "height": 844},
}
LESSON = ".st-key-lesson"
NETWORK = ".st-key-lesson_network .js-plotly-plot"
CONTROLS = ".st-key-lesson .lesson-bar"
PLAY_BUTTON = '.st-key-lesson [data-lesson="play"]'
CHARTS = {name: f".st-key-chart_{name} .js-plotly-plot" for name in ("loss", "valley", "prediction")}
EPOCHS = ".st-key-lesson_epochs"
FIRST_LOAD_S = 180  # a fresh server compresses Streamlit's scripts on their first request, and trains
SPEAK_EVERY_S = 2

# Every chart of the lesson drawn, and its player installed.
READY_JS = f"""
() => {{
  const gds = [...document.querySelectorAll('{LESSON} .js-plotly-plot')];
  return gds.length === 4 && gds.every(g => g._fullLayout && (g._transitionData || {{}})._frames?.length)
         && !!window.__lucky5Lesson && !!window.Plotly;
}}
"""
STATE_JS = "() => window.__lucky5Lesson.state()"

# For the loss and the prediction at the epoch on screen: the curtain's left edge and reach, whether it is painted
# over every curve (later in the SVG) in the plot's own background, and the marker's epoch. For the valley: every
# point of the path drawn (its line wider than 0), and where the marker is.
SHOWN_JS = f"""
() => {{
  const root = document.querySelector('{LESSON}');
  const out = {{}};
  for (const name of ['loss', 'prediction']) {{
    const gd = root.querySelector('.st-key-chart_' + name + ' .js-plotly-plot');
    const fl = gd._fullLayout;
    const groups = [...gd.querySelectorAll('.scatterlayer g.trace')];
    const named = (n) => groups.findIndex(g => g.__data__ && g.__data__[0] && g.__data__[0].trace.name === n);
    const curtainAt = named('not yet');
    if (curtainAt < 0 || !groups[curtainAt].querySelector('path.js-fill')) return null;  // being drawn again
    const curtain = gd._fullData.find(t => t.name === 'not yet');
    const curves = gd._fullData.filter(t => t.name !== 'not yet' && t.mode === 'lines');
    const fill = getComputedStyle(groups[curtainAt].querySelector('path.js-fill'));
    const yRange = fl.yaxis.range.map(v => fl.yaxis.type === 'log' ? Math.pow(10, v) : v);
    out[name] = {{
      left: curtain.x[0], right: Math.min(curtain.x[1], curtain.x[2]),
      low: Math.min(...curtain.y), high: Math.max(...curtain.y), yRange, xEnd: fl.xaxis.range[1],
      lastX: Math.max(...curves.flatMap(t => Array.from(t.x).filter(v => v !== null))),
      above: curves.every(t => named(t.name) < curtainAt),
      fill: fill.fill, fillOpacity: fill.fillOpacity,
      background: gd.querySelector('rect.bg') ? getComputedStyle(gd.querySelector('rect.bg')).fill  // plot area
                  : getComputedStyle(gd.querySelector('svg.main-svg')).backgroundColor,  // or the paper itself
      now: gd._fullData[gd._fullData.length - 1].x[0],
    }};
  }}
  const gd = root.querySelector('.st-key-chart_valley .js-plotly-plot');
  const path = gd._fullData.filter(t => t.name === "the run's path" && t.line.width > 0);
  out.valley = {{
    points: path.flatMap(t => Array.from(t.x).map((u, i) => [u, t.y[i]])).filter(([u]) => u !== null),
    now: [gd._fullData[gd._fullData.length - 1].x[0], gd._fullData[gd._fullData.length - 1].y[0]],
  }};
  return out;
}}
"""


def open_lesson(visit, query: str = "", viewport: dict | None = None, **options):
    page, ws = visit(query, viewport=viewport or SIZES["1280x720"], **options)
    wait_for_run(page, FIRST_LOAD_S)
    page.wait_for_function(READY_JS, timeout=30_000)
    settle(page, ws)
    return page, ws


def assert_seen(page, selector: str, what: str, where: str) -> None:
    box = geometry(page, selector)
    assert box is not None, f"{what} is missing ({where})"
    assert box["inside"], f"{what} is not inside the first viewport ({where}): {box}"
    assert box["onTop"], f"{what} is covered at its centre by {box['hit']} ({where})"


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", list(SIZES))
def test_the_first_screen_is_the_lesson(visit, screenshots, size, scheme):
    page, _ = open_lesson(visit, viewport=SIZES[size], color_scheme=scheme)
    where = f"{size}, {scheme}"
    page.screenshot(path=screenshots / f"lesson-{size}-{scheme}.png")
    for selector, what in ((NETWORK, "the network"), (CONTROLS, "the controls"), (PLAY_BUTTON, "Play")):
        assert_seen(page, selector, what, where)
    if size == "390x844":  # a phone: one chart at a time, chosen by its tab
        assert_seen(page, CHARTS["loss"], "the loss chart", where)
        # ... and what to watch for: a learner who presses Play first knows what to look for
        assert_seen(page, f"{LESSON}_story", "the story's sentence", where)
        for name in ("valley", "prediction"):
            page.get_by_role("tab", name=name.capitalize()).click()
            expect(page.get_by_role("tab", name=name.capitalize())).to_have_attribute("aria-selected", "true")
            page.wait_for_function(
                "(s) => { const b = document.querySelector(s).getBoundingClientRect();"
                " return b.left >= 0 && b.right <= window.innerWidth; }",
                arg=CHARTS[name],
            )
            assert_seen(page, CHARTS[name], f"the {name} chart", where)
    else:
        for name, selector in CHARTS.items():
            assert_seen(page, selector, f"the {name} chart", where)
        assert_seen(page, f"{LESSON} h1", "the title", where)
        assert_seen(page, EPOCHS, "the epochs' choice", where)
        controls, epochs = geometry(page, CONTROLS), geometry(page, EPOCHS)
        assert abs((controls["top"] + controls["bottom"]) - (epochs["top"] + epochs["bottom"])) / 2 < 40, (
            "the epochs' choice is not beside the controls"
        )
    ticks = page.locator(f"{LESSON} .lesson-ticks span").all_inner_texts()
    assert ticks == ["0", "50", "100", "150", "200"], ticks  # round numbers, never a barcode


def check_forward(page, run, where: str) -> int:
    """Assert that nothing after the epoch on screen is drawn; returns that epoch."""
    epoch = page.evaluate(STATE_JS)["epoch"]
    shown = page.wait_for_function(SHOWN_JS).json_value()
    for name in ("loss", "prediction"):
        c = shown[name]
        assert c["left"] == epoch and c["now"] == epoch, f"{name} at epoch {epoch} ({where}): {c}"
        assert c["right"] >= max(c["lastX"], c["xEnd"]), f"the {name} curtain stops short ({where}): {c}"
        assert c["low"] <= min(c["yRange"]) and c["high"] >= max(c["yRange"]), f"{name} curtain height: {c}"
        assert c["above"], f"a {name} curve is painted over its curtain ({where})"
        assert (c["fill"], float(c["fillOpacity"])) == (c["background"], 1.0), f"{name} curtain shows: {c}"
    rows = [(u, b) for u, b in zip(run["u"][: epoch + 1], run["b"][: epoch + 1], strict=True)]
    for u, b in shown["valley"]["points"]:
        nearest = min(math.dist((u, b), row) for row in rows)
        assert nearest < 1e-4, f"the valley shows ({u}, {b}), no point of epochs 0..{epoch} ({where})"
    u_now, b_now = shown["valley"]["now"]
    assert math.dist((u_now, b_now), rows[epoch]) < 1e-4
    return epoch


@pytest.fixture(scope="module")
def post_run() -> dict:
    h = train(Config())
    w, b = h.weights.double(), h.biases.double()
    return {"u": (w.sum(-1) / math.sqrt(10)).tolist(), "b": b.tolist()}


def test_time_runs_forward_after_play_scrubbing_and_a_step_back(visit, post_run):
    page, _ = open_lesson(visit)
    assert check_forward(page, post_run, "before Play") == 0
    page.locator(LESSON_BUTTONS, has_text=PLAY).click()
    page.wait_for_function(f"() => ({STATE_JS})().epoch >= 40", timeout=15_000)
    page.locator(LESSON_BUTTONS, has_text=PAUSE).click()
    played = check_forward(page, post_run, "after Play and Pause")
    assert played >= 40 and not page.evaluate(STATE_JS)["playing"]

    slider = page.locator(f"{LESSON} .lesson-slider")
    box = slider.bounding_box()
    assert box
    page.mouse.click(box["x"] + 0.1 * box["width"], box["y"] + box["height"] / 2)  # scrub back with the mouse
    page.wait_for_function(f"(e) => ({STATE_JS})().epoch < e", arg=played)
    scrubbed = check_forward(page, post_run, "after scrubbing back")

    page.get_by_role("button", name="One epoch back").click()
    page.wait_for_function(f"(e) => ({STATE_JS})().epoch === e - 1", arg=scrubbed)
    check_forward(page, post_run, "after one step back")


def test_keys_play_pause_and_step(visit):
    page, _ = open_lesson(visit)
    play = page.locator(PLAY_BUTTON)
    play.focus()
    page.keyboard.press("Space")
    page.wait_for_function(f"() => ({STATE_JS})().playing", timeout=5_000)
    page.keyboard.press("Space")  # the same button, now Pause
    page.wait_for_function(f"() => !({STATE_JS})().playing", timeout=5_000)
    at = page.evaluate(STATE_JS)["epoch"]
    page.locator(f"{LESSON} .lesson-slider").focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"(e) => ({STATE_JS})().epoch === e + 1", arg=at)
    expect(page.locator(f"{LESSON} .lesson-counter")).to_have_text(f"Epoch {at + 1} of 200")


def test_keys_work_from_the_page_itself(visit):
    page, _ = open_lesson(visit)
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }")
    assert page.evaluate("() => document.activeElement === document.body")
    page.keyboard.press("Space")
    page.wait_for_function(f"() => ({STATE_JS})().playing", timeout=5_000)
    page.keyboard.press("Space")
    page.wait_for_function(f"() => !({STATE_JS})().playing", timeout=5_000)
    assert page.evaluate("() => window.scrollY") == 0, "Space scrolled the page"
    at = page.evaluate(STATE_JS)["epoch"]
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"(e) => ({STATE_JS})().epoch === e + 2", arg=at)
    page.keyboard.press("ArrowLeft")  # (the pause may have come at epoch 0, where a step back stays)
    page.wait_for_function(f"(e) => ({STATE_JS})().epoch === e + 1", arg=at)
    expect(page.locator(PLAY_BUTTON)).to_have_attribute("aria-keyshortcuts", "Space")


def test_playback_sends_nothing_and_the_voice_speaks_at_most_every_2_seconds(visit):
    page, ws = open_lesson(visit)
    page.evaluate(
        """() => { window.__spoken = [];
        new MutationObserver(() => window.__spoken.push([performance.now(),
            document.querySelector('.lesson-live').textContent]))
          .observe(document.querySelector('.lesson-live'), {childList: true, characterData: true, subtree: true}); }"""
    )
    ws.reset()
    page.locator(LESSON_BUTTONS, has_text=PLAY).click()
    page.wait_for_function(f"() => !({STATE_JS})().playing && ({STATE_JS})().epoch === 200", timeout=30_000)
    page.wait_for_timeout(1000)  # the last words, said once it stops
    assert (ws.sent, ws.received) == (0, 0), f"playback talked to the server: {ws.recent}"
    spoken = page.evaluate("() => window.__spoken")
    assert len(spoken) >= 3, spoken  # it spoke while playing, not only at the end
    times = [t for t, _ in spoken]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps[:-1]) >= SPEAK_EVERY_S * 1000 - 100, f"spoke more often than every {SPEAK_EVERY_S} s: {gaps}"
    assert re.match(r"Epoch 200 of 200\. ", spoken[-1][1]), spoken[-1]
    assert all(re.match(r"Epoch [\d,]+ of 200\. \S", text) for _, text in spoken), spoken


SLIDE = (
    "<!DOCTYPE html><html><body style='margin:0'><iframe id='demo' src='{url}?scene=4&embed=true' "
    "width='1280' height='720' style='border:0'></iframe></body></html>"
)
STAGE_ACTIVE_JS = """() => { const gd = document.querySelector('[data-testid="stPlotlyChart"] .js-plotly-plot');
  return gd && gd.layout && gd.layout.sliders ? [gd.layout.sliders[0].active || 0, !!gd._transitionData._animationRaf]
                                              : null; }"""


@pytest.mark.parametrize("where", ["page", "presenter", "embedded"])
def test_with_reduced_motion_nothing_plays_by_itself(visit, page_server, chromium, tmp_path, where):
    if where == "page":
        page, _ = open_lesson(visit, reduced_motion="reduce")
        first = page.evaluate(STATE_JS)
        page.wait_for_timeout(3000)
        assert page.evaluate(STATE_JS) == first == {"frame": 0, "playing": False, "epoch": 0}
        assert page.locator(f"{LESSON} .lesson-slider").input_value() == "0"
        return
    if where == "presenter":
        page, ws = visit("?present=1", viewport=SIZES["1280x720"], reduced_motion="reduce")
        wait_for_run(page, FIRST_LOAD_S)
        frame = page
    else:
        slide = tmp_path / "slide.html"
        slide.write_text(SLIDE.format(url=page_server.url), encoding="utf-8")
        context = chromium.new_context(viewport={"width": 1280, "height": 720}, reduced_motion="reduce")
        page = context.new_page()
        page.goto(slide.as_uri())
        page.wait_for_function("() => document.getElementById('demo').contentWindow !== null")
        frame = None
        for _ in range(300):
            frame = next((f for f in page.frames if f.url.startswith(page_server.url)), None)
            if frame and frame.evaluate(STAGE_ACTIVE_JS) is not None:
                break
            page.wait_for_timeout(200)
        assert frame is not None
    try:
        frame.wait_for_function(f"() => ({STAGE_ACTIVE_JS})() !== null", timeout=90_000)
        page.wait_for_timeout(3000)
        assert frame.evaluate(STAGE_ACTIVE_JS) == [0, False], f"the {where} chart moved by itself"
    finally:
        if where == "embedded":
            page.context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_serious_or_critical_violation_on_a_phone(visit, scheme):
    page, _ = open_lesson(visit, viewport=SIZES["390x844"], color_scheme=scheme)
    violations = Axe().run(page).response["violations"]
    for v in violations:
        print(f"axe [{scheme}, phone] {v['id']} ({v['impact']}): {len(v['nodes'])} nodes")
    blocking = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not blocking, [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in blocking]


# Per chart: the top of its x axis's tick labels and the centre of its lowest y tick label, from the SVG as drawn;
# and the x tick labels a learner cannot read: outside the first viewport, outside the chart's own box (cut off),
# or covered at their centre by something that is not the chart.
AXES_JS = f"""
() => {{
  const out = {{}};
  for (const name of ['loss', 'prediction', 'valley']) {{
    const gd = document.querySelector('{LESSON} .st-key-chart_' + name + ' .js-plotly-plot');
    const own = document.querySelector('{LESSON} .st-key-chart_' + name).getBoundingClientRect();
    const box = (el) => el.getBoundingClientRect();
    const xt = [...gd.querySelectorAll('.xaxislayer-above .xtick text')].filter(t => t.textContent);
    const xs = xt.map(box);
    const ys = [...gd.querySelectorAll('.yaxislayer-above .ytick text')].filter(t => t.textContent).map(box);
    if (!xs.length || !ys.length) {{ out[name] = null; continue; }}
    const unseen = xt.filter((t, i) => {{
      const b = xs[i], cx = (b.left + b.right) / 2, cy = (b.top + b.bottom) / 2;
      if (b.top < 0 || b.bottom > innerHeight || b.left < 0 || b.right > innerWidth) return true;
      if (b.top < own.top - 1 || b.bottom > own.bottom + 1) return true;
      const hit = document.elementFromPoint(cx, cy);
      return !hit || !gd.contains(hit);
    }}).map(t => t.textContent);
    out[name] = {{
      xLabelsTop: Math.min(...xs.map(b => b.top)),
      lowestYTick: Math.max(...ys.map(b => (b.top + b.bottom) / 2)),
      unseen,
    }};
  }}
  return out;
}}
"""


def assert_axes_below(page, where: str) -> None:
    # A person reads the chart once Plotly has finished laying it out: a resize (the page fitting the charts to
    # the screen) draws in passes, and a measure taken between two of them can be a pixel off. So the check is
    # repeated for up to two seconds; a chart whose axis stays inside its plot still fails.
    for attempt in range(10):
        try:
            _check_axes(page.evaluate(AXES_JS), where)
            return
        except AssertionError:
            if attempt == 9:
                raise
            page.wait_for_timeout(200)


def _check_axes(axes: dict, where: str) -> None:
    for name, a in axes.items():
        assert a is not None, f"the {name} chart has no tick labels ({where})"
        assert a["xLabelsTop"] > a["lowestYTick"], f"the {name} chart's x axis is inside its plot ({where}): {a}"
        assert not a["unseen"], f"the {name} chart's x tick labels {a['unseen']} cannot be read ({where}): {a}"


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", ["1440x900", "1280x720"])
def test_every_chart_keeps_its_x_axis_below_its_plot_while_playing(visit, screenshots, size, scheme):
    page, _ = open_lesson(visit, viewport=SIZES[size], color_scheme=scheme)
    page.screenshot(path=screenshots / f"lesson-axes-{size}-{scheme}.png")
    assert_axes_below(page, f"{size} {scheme}, before Play")
    page.locator(LESSON_BUTTONS, has_text=PLAY).click()
    for epoch in (40, 120, 200):
        page.wait_for_function(f"(e) => ({STATE_JS})().epoch >= e", arg=epoch, timeout=30_000)
        assert_axes_below(page, f"{size} {scheme}, playing, epoch {epoch}")
    page.wait_for_timeout(500)
    assert_axes_below(page, f"{size} {scheme}, after Play")


@pytest.mark.parametrize(("size", "scheme"), [("1440x900", "light"), ("1280x720", "dark")])
def test_a_diverged_run_says_why_and_where_it_stopped_on_the_first_screen(visit, screenshots, size, scheme):
    run = train(Config(lr=5.0))  # the oracle: where this run stops
    assert run.diverged_at is not None
    page, _ = open_lesson(visit, "?lr=5", viewport=SIZES[size], color_scheme=scheme)
    page.screenshot(path=screenshots / f"lesson-diverged-{size}-{scheme}.png")
    where = f"{size} {scheme}, lr 5"
    why = f"{LESSON} [data-testid='stAlert']"
    assert_seen(page, why, "why the run diverged", where)
    for name, selector in CHARTS.items():  # the message takes its room from the charts, not from the screen
        assert_seen(page, selector, f"the {name} chart", where)
    expect(page.locator(why)).to_contain_text(f"Diverged at epoch {run.diverged_at:,}")
    stopped = f"of {run.config.epochs:,}, diverged at {run.steps:,}"
    expect(page.locator(f"{LESSON} .lesson-counter")).to_have_text(f"Epoch 0 of {stopped.removeprefix('of ')}")
    page.locator(f'{LESSON} [data-lesson="forward"]').click()
    expect(page.locator(f"{LESSON} .lesson-counter")).to_have_text(re.compile(r"Epoch [1-9]\d* " + re.escape(stopped)))
    expect(page.locator(f"{LESSON} .lesson-slider")).to_have_attribute("aria-valuetext", re.compile(re.escape(stopped)))
