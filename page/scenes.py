"""The scene bar: the talk's scene on screen (``?scene=N``), its sentences, and Back and Next.

In presenter mode Back and Next answer PageUp and PageDown, what a presentation clicker sends. Outside it the
scenes are a guided tour a learner starts and ends here. A scene's settings, panels and sentences are
``lucky5.scenes``'s; this module draws them and moves between them.
"""

from __future__ import annotations

import json
from dataclasses import fields

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from lucky5 import Config, story
from lucky5.config import SETTING
from lucky5.engine import History
from lucky5.scenes import SCENE, SCENES, Scene, sentences

from . import state as page_state
from . import step
from .text import literal

SHOWN = "scene_shown"  # session-state key: the scene drawn last, to notice when one is entered
ENTRIES = "scene_entries"  # how many scenes this session entered (makes each focus script new, so it runs)

# The panels a scene can put in front, by the anchor Streamlit gives their headers; other scenes open at the bar
# itself (else a scene entered after a focused one would open scrolled down where that one left off).
ANCHORS = {"why": "#why-not-exactly-5", "step": "#inside-one-step"}
BAR = ".st-key-scene_bar"
FOCUS_JS = """<script>
(function focus(n) {
  const target = document.querySelector(SELECTOR);
  if (target) { target.scrollIntoView({block: 'start'}); }
  else if (n > 0) { setTimeout(() => focus(n - 1), 250); }
})(40);  // ENTRY
</script>"""


def go(number: int | None) -> None:
    """Open scene ``number`` with its own settings and the seed's own input (a callback); None ends the tour."""
    state = page_state.get()
    state.scene = number
    if number is not None:
        state.x = None
        page_state.start_run(SCENE[number].config)


def bar(history: History, x: tuple[float, ...], slot: DeltaGenerator | None = None) -> None:
    """Draw the scene on screen with ``history``'s numbers, or (outside presenter mode) the tour's start, in
    ``slot`` if given (beside the title)."""
    state = page_state.get()
    scene = SCENE.get(state.scene) if state.scene else None
    if scene is None:
        st.session_state[SHOWN] = None
        if state.present:
            st.markdown(f"#### {literal(story.title(history.config))}")
            st.button("Start the talk: scene 1 ▶", on_click=go, args=(1,), shortcut="PageDown", key="scene_next")
        else:
            (slot or st).button(
                f"Take the guided tour ({len(SCENES)} scenes) ▶", on_click=go, args=(1,), key="scene_next"
            )
        return
    entered = st.session_state.get(SHOWN) != scene.number
    if entered:
        st.session_state[SHOWN] = scene.number
        st.session_state[ENTRIES] = st.session_state.get(ENTRIES, 0) + 1
        if scene.epoch is not None and history.steps:
            st.session_state[step.KEY] = min(scene.epoch, history.steps - 1)
    with st.container(key="scene_bar"):
        _scene(scene, history, x, state)
    if entered:
        script = FOCUS_JS.replace("SELECTOR", json.dumps(ANCHORS.get(scene.focus or "", BAR)))
        st.html(script.replace("ENTRY", str(st.session_state[ENTRIES])), unsafe_allow_javascript=True)


def _scene(scene: Scene, history: History, x: tuple[float, ...], state: page_state.State) -> None:
    head, nav = st.columns([5, 2], vertical_alignment="center")
    head.markdown(f"#### Scene {scene.number} of {len(SCENES)} · {literal(scene.title)}")
    with nav.container(key="scene_nav", horizontal=True, horizontal_alignment="right"):
        # In presenter mode a clicker's PageUp and PageDown press these buttons.
        st.button(
            "◀ Back",
            on_click=go,
            args=(scene.number - 1,),
            disabled=scene.number == 1,
            key="scene_back",
            shortcut="PageUp" if state.present else None,
        )
        st.button(
            "Next ▶",
            on_click=go,
            args=(scene.number + 1,),
            disabled=scene.number == len(SCENES),
            key="scene_next",
            type="primary",
            shortcut="PageDown" if state.present else None,
        )
        if not state.present:
            st.button("End the tour", on_click=go, args=(None,), key="scene_end", type="tertiary")
    changed = [
        f.name
        for f in fields(Config)
        if f.name != "seed" and getattr(history.config, f.name) != getattr(scene.config, f.name)
    ]
    with st.container(key="scene_text"):
        if changed:  # the story is told for the scene's own settings (any seed): say so rather than tell it wrong
            st.markdown(
                f"This run is not the scene's: {', '.join(SETTING[n].label.lower() for n in changed)} changed, so "
                "the scene's story does not describe it."
            )
            st.button("Back to the scene's settings", on_click=go, args=(scene.number,), key="scene_reset")
        else:
            st.markdown(" ".join(literal(s, limit=600) for s in sentences(scene, history, x)))
