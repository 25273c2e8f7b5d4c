"""The whole talk offline, in a real browser: talk.html downloaded from the page's own button, opened from file://
with every other request aborted, walked with a clicker's PageDown to the last scene and PageUp back at 1280x720,
in the light and the dark theme.

For every scene: its title, Back/Next and its picture lie inside the window and are what
``document.elementFromPoint`` finds at their centres; an animated scene's chart plays by itself (its slider moves
within 3 s, no key pressed); scene 3's board shows ``explain_step``'s numbers; no console error and no request
leaves the file. With reduced motion asked for, nothing plays until Space. axe-core finds no serious or critical
violation on a chart scene, on scene 3's board and in the speaker's view (#notes=1). Screenshots of each scene go to
artifacts/screenshots/ (and, when it exists, the project's shared shots folder for this work).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]  # ships no type hints

from bench.browser import wait_for_run
from lucky5 import explain_step, figures, train
from lucky5.scenes import SCENE, SCENES
from lucky5.talk import talk_html
from tests.helpers import board_numbers

pytestmark = pytest.mark.browser

SCREEN = {"width": 1280, "height": 720}
SHARED_SHOTS = Path("/work/coord/shots/19")  # where a reviewer of this work looks; used only if it exists
SHOWN = "section.scene:not([hidden])"
GEOMETRY_JS = """
(selector) => {
  const e = document.querySelector(selector);
  if (!e) return {missing: true};
  const r = e.getBoundingClientRect();
  const inside = r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth && r.height > 0;
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return {inside, hits: !!hit && (hit === e || e.contains(hit)), top: r.top, bottom: r.bottom, height: r.height};
}
"""
CHART = f"{SHOWN} .chart.js-plotly-plot"  # Plotly draws into the .chart box itself
ACTIVE_JS = f"() => {{ const gd = document.querySelector('{CHART}'); return gd && gd.layout.sliders[0].active; }}"
PLAYING_JS = (
    f"() => {{ const gd = document.querySelector('{CHART}');"
    " return !!(gd && gd._transitionData && gd._transitionData._animationRaf); }"
)


def download_talk(visit, folder: Path, scheme: str) -> Path:
    """talk.html as the page's button gives it, in the browser's colour scheme."""
    page, _ = visit("", accept_downloads=True, color_scheme=scheme)
    wait_for_run(page)
    button = page.get_by_role("button", name="The talk as one HTML file")
    button.scroll_into_view_if_needed()
    with page.expect_download(timeout=240_000) as info:
        button.click()
    saved = folder / f"talk-{scheme}.html"
    info.value.save_as(saved)
    print(f"talk.html ({scheme}): {saved.stat().st_size:,} bytes")
    return saved


def offline(chromium, **options):
    """A browser context in which every request that is not for a file is aborted (and listed)."""
    context = chromium.new_context(viewport=SCREEN, **options)
    outside: list[str] = []

    def block(route) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", block)
    return context, outside


def shown(page, number: int) -> None:
    page.wait_for_function(
        f"() => location.hash.startsWith('#scene={number}')"
        f" && document.querySelector('{SHOWN}')?.dataset.scene === '{number}'",
        timeout=10_000,
    )
    title = page.locator(f"{SHOWN} h1")
    scene = SCENE[number]
    assert title.inner_text() == f"Scene {number} of {len(SCENES)} · {scene.title}"


def on_screen(page, selector: str) -> None:
    box = page.evaluate(GEOMETRY_JS, selector)
    assert box.get("inside") and box.get("hits"), f"{selector} is not on screen and on top at 1280x720: {box}"


def check_scene(page, number: int) -> None:
    shown(page, number)
    on_screen(page, f"{SHOWN} h1")
    on_screen(page, f"{SHOWN} button.next" if number < len(SCENES) else f"{SHOWN} button[data-move='-1']")
    scene = SCENE[number]
    if scene.focus == "step":
        on_screen(page, f"{SHOWN} .board")
        step = explain_step(scene.config, scene.epoch)
        text = page.locator(f"{SHOWN} .board").inner_text()
        numbers = board_numbers(text)
        assert numbers == {  # explain_step's numbers, to the 3 significant digits a hall reads
            "prediction": float(f"{float(step.prediction[0]):.3g}"),
            "loss": float(f"{step.loss:.3g}"),
            "grad_bias": float(f"{float(step.grad[10]):.3g}"),
        }
        for b in (float(step.params_before[10]), float(step.params_after[10])):
            assert f"{b:.3g}" in text.replace("−", "-"), f"b = {b:.3g} is not on the board"
        return
    page.wait_for_function(f"() => !!document.querySelector('{CHART}')?._fullLayout", timeout=15_000)
    on_screen(page, CHART)
    if scene.animated:  # the scenes that play: the slider moves by itself within 3 s
        start = page.evaluate(ACTIVE_JS)
        page.wait_for_function(f"() => ({ACTIVE_JS})() !== {start}", timeout=3_000)
    if scene.audience:  # where the room scans the link
        on_screen(page, f"{SHOWN} .qr [role=img]")
        # The page that built this file is at 127.0.0.1, which phones cannot open: the file says so beside the
        # code and never asks the room to scan it.
        lead = page.locator(f"{SHOWN} p.lead").inner_text()
        assert "scan" not in lead.lower() and re.search(r"phones can(not)? open", lead, re.IGNORECASE), lead
        on_screen(page, f"{SHOWN} .qr .warning")
        assert "Phones cannot open 127.0.0.1" in page.locator(f"{SHOWN} .qr .warning").inner_text()
        assert "top left" not in lead  # the file has no settings of its own


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_talk_plays_offline_with_a_clickers_keys(visit, chromium, tmp_path, screenshots, scheme):
    saved = download_talk(visit, tmp_path, scheme)
    context, outside = offline(chromium, color_scheme=scheme)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(saved.as_uri())
        numbers = [s.number for s in SCENES]
        for number in numbers:
            check_scene(page, number)
            shot = screenshots / f"talk-offline-{scheme}-scene{number}-1280x720.png"
            page.screenshot(path=shot)
            if SHARED_SHOTS.is_dir():
                shutil.copy(shot, SHARED_SHOTS / shot.name)
            if number != numbers[-1]:
                page.keyboard.press("PageDown")
        page.keyboard.press("PageDown")  # past the last scene: nothing happens
        shown(page, numbers[-1])
        for number in reversed(numbers[:-1]):
            page.keyboard.press("PageUp")
            check_scene(page, number)
        assert outside == [], f"the offline talk asked the network for {outside[:5]}"
        assert errors == [], errors[:5]
    finally:
        context.close()


def test_with_reduced_motion_nothing_plays_until_space(visit, chromium, tmp_path):
    saved = download_talk(visit, tmp_path, "light")
    context, outside = offline(chromium, reduced_motion="reduce")
    try:
        page = context.new_page()
        page.goto(saved.as_uri() + "#scene=4")
        shown(page, 4)
        page.wait_for_function(f"() => !!document.querySelector('{CHART}')?._fullLayout", timeout=15_000)
        page.wait_for_timeout(1500)
        assert not page.evaluate(PLAYING_JS) and page.evaluate(ACTIVE_JS) == 0, "it played by itself"
        on_screen(page, f"{CHART} .updatemenu-button")  # Play is there to press
        page.keyboard.press("Space")
        page.wait_for_function(f"() => ({ACTIVE_JS})() > 0", timeout=5_000)
        page.keyboard.press("Space")
        page.wait_for_function(f"() => !({PLAYING_JS})()", timeout=5_000)
        paused = page.evaluate(ACTIVE_JS)
        page.keyboard.press("ArrowRight")
        page.wait_for_function(f"() => ({ACTIVE_JS})() === {paused + 1}", timeout=5_000)
        page.keyboard.press("ArrowLeft")
        page.wait_for_function(f"() => ({ACTIVE_JS})() === {paused}", timeout=5_000)
        assert outside == []
    finally:
        context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_serious_or_critical_violation_in_the_offline_talk(chromium, tmp_path, scheme):
    trained: dict = {}
    runs = {s.number: trained.setdefault(s.config, train(s.config)) for s in SCENES}
    saved = tmp_path / f"talk-{scheme}.html"
    saved.write_text(talk_html(runs, theme=scheme, links={1: "https://lucky5.example.app/?scene=1"}), "utf-8")
    context, outside = offline(chromium, color_scheme=scheme)
    try:
        for where in ("#scene=1", "#scene=3", "#scene=4&notes=1"):
            page = context.new_page()
            page.goto(saved.as_uri() + where)
            shown(page, int(where[7]))
            page.wait_for_timeout(1000)
            violations = Axe().run(page).response["violations"]
            blocking = [f"{v['id']} ({v['impact']})" for v in violations if v["impact"] in ("serious", "critical")]
            assert not blocking, f"{scheme} {where}: {blocking}"
            page.close()
        assert outside == []
    finally:
        context.close()


PHONE_JS = """
([chart, title]) => {
  const gd = document.querySelector(chart), h1 = document.querySelector(title);
  const r = gd.getBoundingClientRect(), t = h1.getBoundingClientRect();
  const at = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  const curtains = gd._fullData.filter((d) => d.name === 'not yet').map((d) => d.x[0]);
  return {chart: {left: r.left, right: r.right, top: r.top, bottom: r.bottom, hit: !!at && gd.contains(at)},
          titleLines: Math.round(t.height / parseFloat(getComputedStyle(h1).lineHeight)),
          texts: [...gd.querySelectorAll('.xtick text, .slider-rail, .updatemenu-button, .annotation')]
            .map((e) => e.getBoundingClientRect()).filter((b) => b.width > 0)
            .map((b) => [b.left, b.right]),
          qr: document.querySelector('section.scene:not([hidden]) .qr')?.getBoundingClientRect().top ?? null,
          background: getComputedStyle(document.body).backgroundColor,
          active: gd.layout.sliders[0].active,
          epoch: Number(gd.layout.sliders[0].steps[gd.layout.sliders[0].active].label.replace(/,/g, '')),
          curtains};
}
"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_on_a_phone_the_offline_talk_fits_follows_the_colour_scheme_and_time_runs_forward(
    chromium, tmp_path, screenshots, scheme
):
    """A light-built file opened on a 390x844 phone in either scheme: the title in at most two lines, the chart
    whole inside the screen's width (every tick label, the slider and its buttons) and on top at its centre, the QR
    code under it, the page in the viewer's scheme; nothing after the frame's epoch drawn (reduced motion keeps it
    still, the arrow steps)."""
    trained: dict = {}
    runs = {s.number: trained.setdefault(s.config, train(s.config)) for s in SCENES}
    saved = tmp_path / "talk.html"
    saved.write_text(talk_html(runs, theme="light", links={1: "https://lucky5.example.app/?scene=1"}), "utf-8")
    context, outside = offline(chromium, color_scheme=scheme, reduced_motion="reduce")
    try:
        page = context.new_page()
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(saved.as_uri() + "#scene=1")
        shown(page, 1)
        page.wait_for_function(f"() => !!document.querySelector('{CHART}')?._fullLayout", timeout=15_000)
        seen = page.evaluate(PHONE_JS, [CHART, f"{SHOWN} h1"])
        assert seen["titleLines"] <= 2, seen["titleLines"]
        chart = seen["chart"]
        assert 0 <= chart["left"] and chart["right"] <= 390 and chart["hit"], chart
        assert all(0 <= left and right <= 390 for left, right in seen["texts"]), seen["texts"]
        assert seen["qr"] is not None and seen["qr"] >= chart["bottom"] - 1, (seen["qr"], chart)
        expected = figures.palette(scheme).background.lstrip("#")
        assert as_rgb(seen["background"]) == tuple(int(expected[i : i + 2], 16) for i in (0, 2, 4))
        assert seen["active"] == 0 and seen["curtains"] and set(seen["curtains"]) == {0}, seen["curtains"]
        page.keyboard.press("ArrowRight")
        page.wait_for_function(f"() => ({ACTIVE_JS})() === 1", timeout=5_000)
        later = page.evaluate(PHONE_JS, [CHART, f"{SHOWN} h1"])
        assert set(later["curtains"]) == {later["epoch"]} and later["epoch"] > 0, later["curtains"]
        page.screenshot(path=screenshots / f"talk-offline-{scheme}-scene1-390x844.png")
        assert outside == []
    finally:
        context.close()


def as_rgb(css: str) -> tuple[int, ...]:
    return tuple(int(v) for v in css[css.index("(") + 1 : css.index(")")].split(",")[:3])
