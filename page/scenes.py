"""The scene bar: the talk's scene on screen (``?scene=N``), its number and title with Back and Next, kept in view
while the page scrolls (``scenes.css``); and the scene's sentences.

In presenter mode Back and Next answer PageUp and PageDown, what a presentation clicker sends, and a scene opens
at the top of the page (its picture is on the stage, ``page.presenter``). Outside it the scenes are a guided tour
a learner starts and ends here, and a scene opens at the page's own panel for it, just below the bar. A scene's
settings, picture and sentences are ``lucky5.scenes``'s; this module draws the bar and the sentences and moves
between scenes.
"""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from lucky5 import Config, figures, story
from lucky5.config import SETTING
from lucky5.engine import History
from lucky5.scenes import SCENE, SCENES, Scene, sentences, title_for

from . import runtime, step
from . import state as page_state
from .room.links import loopback_warning
from .text import literal

SHOWN = "scene_shown"  # session-state key: the scene drawn last, to notice when one is entered
ENTRIES = "scene_entries"  # how many scenes this session entered (makes each entry's scripts new, so they run)

# Where a scene opens in the guided tour: its page panel (by the anchor Streamlit gives its header), or the top.
# In presenter mode every scene opens at the top: its picture is on the stage.
ANCHORS = {"why": "#why-not-exactly-5", "step": "#inside-one-step"}
_HERE = Path(__file__).parent
BAR_CSS = (_HERE / "scenes.css").read_text(encoding="utf-8")
FOCUS_JS = """<script>
(function focus(n) {  // ENTRY
  const main = document.querySelector('[data-testid="stMain"]');
  const bar = document.querySelector('.st-key-scene_bar');
  const target = SELECTOR ? document.querySelector(SELECTOR) : null;
  if (!main || !bar || (SELECTOR && !target)) { if (n > 0) setTimeout(() => focus(n - 1), 250); return; }
  // The bar stays at the top (sticky): the target goes just below it, not under it.
  const sticky = bar.parentElement.closest('[data-testid="stMainBlockContainer"] > * > *') || bar;
  const below = parseFloat(getComputedStyle(sticky).top || '0') + sticky.offsetHeight + 8;
  const place = () => main.scrollTo({top: target ? main.scrollTop + target.getBoundingClientRect().top - below : 0});
  place();
  setTimeout(place, 700);  // once more after the panels above it have drawn
})(40);
</script>"""


def entries() -> int:
    """How many scenes this session has entered: changes exactly when a scene is entered."""
    return int(st.session_state.get(ENTRIES, 0))


def go(number: int | None) -> None:
    """Open scene ``number`` with its own settings and the seed's own input (a callback); None ends the tour."""
    state = page_state.get()
    state.scene = number
    if number is not None:
        state.x = None
        page_state.start_run(SCENE[number].config)


def step_by(delta: int) -> None:
    """Move ``delta`` scenes from the scene this session is on now (a callback), never past the first or the last.

    Relative, not "go to N + 1": a second press of Next that comes before the page has redrawn clicks the bar drawn
    for the scene before, and must still move on one more. A press that would leave the talk does nothing."""
    current = page_state.get().scene or 0
    target = min(max(current + delta, 1), len(SCENES))
    if target != current:
        go(target)


def bar(history: History, x: tuple[float, ...], slot: DeltaGenerator | None = None) -> None:
    """The scene bar: the scene's number and title with Back and Next, kept at the top of the screen while the
    page scrolls (``scenes.css``). Before the talk (presenter mode) it offers the talk's start; outside presenter
    mode, without a scene, the tour's start (a button that does not follow the page), in ``slot`` if given
    (beside the lesson's title)."""
    state = page_state.get()
    scene = SCENE.get(state.scene) if state.scene else None
    if scene is None:
        st.session_state[SHOWN] = None
        if not state.present:
            (slot or st).button(
                f"Take the guided tour ({len(SCENES)} scenes) ▶", on_click=go, args=(1,), key="scene_next"
            )
            return
        _style()
        with st.container(key="scene_bar"):
            head, nav = st.columns([5, 2], vertical_alignment="center")
            head.markdown(f"#### {literal(story.title(history.config))}")
            with nav.container(key="scene_nav", horizontal=True, horizontal_alignment="right"):
                st.button("Start the talk ▶", on_click=step_by, args=(1,), shortcut="PageDown", key="scene_next")
        return
    entered = st.session_state.get(SHOWN) != scene.number
    if entered:
        st.session_state[SHOWN] = scene.number
        st.session_state[ENTRIES] = entries() + 1
        if scene.epoch is not None and history.steps:
            st.session_state[step.KEY] = min(scene.epoch, history.steps - 1)
    _style()
    with st.container(key="scene_bar"):
        _title_and_buttons(scene, title_for(scene, history.config), state.present)
    if entered:
        anchor = None if state.present else ANCHORS.get(scene.focus)
        script = FOCUS_JS.replace("SELECTOR", json.dumps(anchor)).replace("ENTRY", str(entries()))
        st.html(script, unsafe_allow_javascript=True)


def _style() -> None:
    # The theme's page colour (measured under Streamlit's themes, as the charts' plot background): the bar hides
    # what scrolls under it.
    background = figures.palette(runtime.theme()).background
    st.html(f"<style>{BAR_CSS.replace('BACKGROUND', background)}</style>")


def _title_and_buttons(scene: Scene, title: str, present: bool) -> None:
    head, nav = st.columns([5, 2], vertical_alignment="center")
    head.markdown(f"#### Scene {scene.number} of {len(SCENES)} · {literal(title)}")
    with nav.container(key="scene_nav", horizontal=True, horizontal_alignment="right"):
        # In presenter mode a clicker's PageUp and PageDown press these buttons.
        st.button(
            "◀ Back",
            on_click=step_by,
            args=(-1,),
            disabled=scene.number == 1,
            key="scene_back",
            shortcut="PageUp" if present else None,
        )
        st.button(
            "Next ▶",
            on_click=step_by,
            args=(1,),
            disabled=scene.number == len(SCENES),
            key="scene_next",
            type="primary",
            shortcut="PageDown" if present else None,
        )
        if not present:
            st.button("End the tour", on_click=go, args=(None,), key="scene_end", type="tertiary")


def changed_settings(history: History, scene: Scene) -> list[str]:
    """The settings, other than the seed, in which ``history``'s run is not ``scene``'s (a rule, another lr ...):
    then the scene's story, told for its own settings, does not describe the run."""
    return [
        f.name
        for f in fields(Config)
        if f.name != "seed" and getattr(history.config, f.name) != getattr(scene.config, f.name)
    ]


def text(history: History, x: tuple[float, ...]) -> None:
    """The scene's two or three sentences with ``history``'s numbers; for a run whose settings are not the
    scene's (any seed is), why they are not told and the way back. Nothing without a scene."""
    state = page_state.get()
    scene = SCENE.get(state.scene) if state.scene else None
    if scene is None:
        return
    changed = changed_settings(history, scene)
    with st.container(key="scene_text"):
        if changed:  # the story is told for the scene's own settings (any seed): say so rather than tell it wrong
            st.markdown(
                f"This run is not the scene's: {', '.join(SETTING[n].label.lower() for n in changed)} changed, so "
                "the scene's story does not describe it."
            )
            st.button("Back to the scene's settings", on_click=go, args=(scene.number,), key="scene_reset")
        else:
            # A room is never asked to scan a code its phones cannot open: it is told what to do instead.
            unreachable = loopback_warning(page_state.share_link(state), markdown=False)
            told = sentences(scene, history, x, unreachable=unreachable, coded=state.present)  # tour: no code
            st.markdown(" ".join(literal(s, limit=600) for s in told))
