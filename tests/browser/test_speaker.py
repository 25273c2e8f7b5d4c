"""The speaker's window and the projector's, open in one browser as a speaker has them: a clicker's PageDown in
the projector's window takes the speaker's window to the same scene, and PageDown or PageUp in the speaker's
window takes the projector's along. The speaker's window shows the scene's notes, the clocks and the next scene's
title at 1280x720 (inside the window and on top, in both themes, with no serious or critical axe-core violation);
the projector's window never shows notes.
Screenshots of the speaker's view go to artifacts/screenshots/ (and the shared shots folder of this work).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]  # ships no type hints
from playwright.sync_api import expect

from lucky5 import train
from lucky5.notes import notes_for
from lucky5.scenes import SCENE

pytestmark = pytest.mark.browser

SCREEN = {"width": 1280, "height": 720}
SHARED_SHOTS = Path("/work/coord/shots/19")  # where a reviewer of this work looks; used only if it exists
BLOCKING = ("serious", "critical")  # axe-core's impacts that fail the test
FOLLOW_S = 60  # a loaded machine: the other window's rerun can take a while
IDLE_JS = "() => document.querySelector('[data-testid=\"stApp\"]')?.dataset.testScriptState === 'notRunning'"
GEOMETRY_JS = """
(e) => {
  const r = e.getBoundingClientRect();
  const inside = r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth && r.height > 0;
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return {inside, hits: !!hit && (hit === e || e.contains(hit)), top: r.top, bottom: r.bottom};
}
"""


def at_scene(page, number: int) -> None:
    """The window shows scene ``number``: its address says so and its title is there."""
    page.wait_for_function(
        f"() => new URLSearchParams(location.search).get('scene') === '{number}'", timeout=FOLLOW_S * 1000
    )
    expect(page.get_by_text(re.compile(rf"^Scene {number} of 6"))).to_be_visible(timeout=FOLLOW_S * 1000)
    # A key pressed while the page still runs or draws can be lost with it; a clicker's press comes after a look.
    page.wait_for_function(IDLE_JS, timeout=FOLLOW_S * 1000)
    drawn = f"() => document.documentElement.dataset.lucky5Shown === '{number}'"
    page.wait_for_function(drawn, timeout=FOLLOW_S * 1000)


def take(page) -> None:
    """Bring the window to the front, as a speaker's clicker finds it: no click first (a fresh page's first
    PageDown must move the talk; Streamlit's own shortcut let it through unanswered)."""
    page.bring_to_front()


def ask(number: int) -> str:
    return notes_for(SCENE[number], train(SCENE[number].config)).ask


def open_both(context, url: str):
    """The projector's window and then the speaker's, both on scene 1 (in one browser, as a speaker has them)."""
    projector = context.new_page()
    projector.goto(url + "?scene=1&present=1")
    at_scene(projector, 1)
    speaker = context.new_page()
    speaker.goto(url + "?scene=1&present=1&notes=1")
    at_scene(speaker, 1)
    return projector, speaker


def on_screen(page, locator) -> None:
    box = locator.evaluate(GEOMETRY_JS)
    assert box["inside"] and box["hits"], f"not on screen and on top at 1280x720: {box}"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_each_window_follows_the_others_scene(page_server, chromium, screenshots, scheme):
    context = chromium.new_context(viewport=SCREEN, color_scheme=scheme)
    try:
        projector, speaker = open_both(context, page_server.url)
        expect(speaker.get_by_text(ask(1))).to_be_visible(timeout=FOLLOW_S * 1000)

        take(projector)
        projector.keyboard.press("PageDown")  # the clicker, in the projector's window
        at_scene(projector, 2)
        at_scene(speaker, 2)
        expect(speaker.get_by_text(ask(2))).to_be_visible(timeout=FOLLOW_S * 1000)

        take(speaker)
        speaker.keyboard.press("PageDown")  # the speaker moves on from the laptop
        at_scene(speaker, 3)
        at_scene(projector, 3)
        expect(speaker.get_by_text(ask(3))).to_be_visible(timeout=FOLLOW_S * 1000)
        speaker.wait_for_timeout(1500)  # a clock tick
        clock = speaker.locator("[data-lucky5-clock]")
        assert re.fullmatch(r"talk \d+:\d\d · this scene \d+:\d\d", clock.inner_text()), clock.inner_text()
        for part in (clock, speaker.get_by_text("Ask the room"), speaker.get_by_text(re.compile(r"^Next:"))):
            on_screen(speaker, part)
        violations = Axe().run(speaker).response["violations"]
        blocking = [(v["id"], [n["target"] for n in v["nodes"]][:4]) for v in violations if v["impact"] in BLOCKING]
        assert not blocking, f"axe finds serious or critical violations in the speaker's view: {blocking}"
        shot = screenshots / f"speaker-view-{scheme}-scene3-1280x720.png"
        speaker.screenshot(path=shot)
        if SHARED_SHOTS.is_dir():
            shutil.copy(shot, SHARED_SHOTS / shot.name)

        speaker.keyboard.press("PageUp")
        at_scene(speaker, 2)
        at_scene(projector, 2)
        take(projector)
        projector.keyboard.press("PageUp")
        at_scene(projector, 1)
        at_scene(speaker, 1)

        # The projector's window stays clean: no notes, no clocks.
        assert projector.get_by_text("Ask the room").count() == 0
        assert projector.locator("[data-lucky5-clock]").count() == 0
        assert projector.get_by_text(ask(1)).count() == 0
    finally:
        context.close()


QUICK_MS = 150  # between two presses of a clicker pressed twice quickly: well before the page has redrawn


def settled_at(page, number: int, hold_ms: int = 2500) -> None:
    """The window reaches scene ``number`` and stays there (no late press, no bounce between the windows)."""
    at_scene(page, number)
    page.wait_for_timeout(hold_ms)
    at_scene(page, number)


def test_quick_presses_each_move_one_scene_never_past_the_last(page_server, chromium):
    last = len(SCENE)
    context = chromium.new_context(viewport=SCREEN)
    try:
        projector, speaker = open_both(context, page_server.url)

        take(projector)
        projector.keyboard.press("PageDown")
        projector.wait_for_timeout(QUICK_MS)
        projector.keyboard.press("PageDown")  # before the page has redrawn: it must count
        settled_at(projector, 3)
        settled_at(speaker, 3, hold_ms=0)

        take(speaker)
        for _ in range(last - 3 + 2):  # two presses more than there are scenes left
            speaker.keyboard.press("PageDown")
            speaker.wait_for_timeout(QUICK_MS)
        settled_at(speaker, last)
        settled_at(projector, last, hold_ms=0)

        take(projector)
        for _ in range(2):
            projector.keyboard.press("PageUp")
            projector.wait_for_timeout(QUICK_MS)
        settled_at(projector, last - 2)
        settled_at(speaker, last - 2, hold_ms=0)
    finally:
        context.close()
