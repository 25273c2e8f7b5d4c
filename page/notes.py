"""The speaker's view (``?scene=N&present=1&notes=1``) and the link between it and the projector's window.

On the speaker's laptop: the scene bar (so the speaker can move on from here too), the scene's notes (what to
say, what to point at, the question to ask the room; ``lucky5.notes``), a timer and the next scene's title, and
no chart. The projector's window (``present=1`` without ``notes``) shows none of it.

Open in one browser, the two windows keep to one scene: each runs ``follow.js`` of ``lucky5.talk`` (the offline
talk runs the same file), and a scene the viewer moves to in one window is opened in the other by putting the
scene in its address and letting Streamlit rerun the page for it, as Back and Forward do.
"""

from __future__ import annotations

import json
from pathlib import Path

import streamlit as st

from lucky5.engine import History
from lucky5.notes import next_title, notes_for
from lucky5.scenes import SCENE
from lucky5.talk import asset

from . import scenes
from . import state as page_state
from .text import literal

# go(n) for follow.js: scene n's address (the scene alone, with this window's mode), then the popstate event that
# makes Streamlit rerun the page for the address it now shows (what the browser's Back and Forward do).
GO_JS = """(n) => {
  const now = new URLSearchParams(location.search);
  const next = new URLSearchParams();
  if (n > 0) next.set('scene', String(n));
  for (const k of ['present', 'notes']) { if (now.get(k)) next.set(k, now.get(k)); }
  history.pushState(null, '', location.pathname + '?' + next.toString());
  window.dispatchEvent(new PopStateEvent('popstate'));
}"""
CLICKER_JS = (Path(__file__).parent / "clicker.js").read_text(encoding="utf-8")
RUNS = "notes_runs"  # session-state key: a count that makes each run's script new, so that the browser runs it


def _script(body: str, before: str = "") -> None:
    """``body`` as a script that runs in this run (after the HTML ``before``, the page's own text)."""
    # Streamlit leaves an element alone when it is sent unchanged, and a script runs only when inserted: the
    # count makes every run's copy new, so the window reports every scene it shows.
    st.session_state[RUNS] = st.session_state.get(RUNS, 0) + 1
    st.html(f"{before}<script>{body}\n// {st.session_state[RUNS]}</script>", unsafe_allow_javascript=True)


def follow() -> None:
    """Keep this window (the projector's or the speaker's) on the scene the other one moves to, and the reverse;
    a clicker's PageDown and PageUp press this window's Next and Back (``clicker.js``)."""
    state = page_state.get()
    role = "notes" if state.notes else "projector"
    call = f"window.lucky5Follow.shown({state.scene or 0}, {json.dumps(role)}, {GO_JS});"
    # The scene this window has finished drawing (its scripts run after its charts): what a test waits for before
    # it presses the next key, as a speaker waits to see the scene.
    call += f"\ndocument.documentElement.dataset.lucky5Shown = '{state.scene or 0}';"
    call += "\nwindow.lucky5Clicker.ran();"  # a press waiting for this run's answer may go now
    _script(asset("follow.js") + "\n" + CLICKER_JS + "\n" + call)


NOTES_CSS = """<style>
.st-key-speaker_notes p, .st-key-speaker_notes li { font-size: 1.2rem; }
.st-key-speaker_notes h5 { font-size: 1.3rem; padding: 0.2rem 0; }
/* The buttons' key names (PageUp, PageDown) stay for the speaker, in the button's own text colour. */
[data-testid="stButton"] kbd { color: inherit !important; opacity: 1 !important; }
</style>"""
CLOCK = (
    '<p style="font-size: 2rem; font-variant-numeric: tabular-nums; margin: 0">'
    '<output data-lucky5-clock aria-label="Time since the talk started, and in this scene"></output> '
    '<button type="button" data-lucky5-restart style="font-size: 1rem">Restart the clock</button></p>'
)


def view(history: History, x: tuple[float, ...]) -> None:
    """Under the scene bar: the clocks and the next scene's title, then the notes for the scene on screen."""
    state = page_state.get()
    scene = SCENE.get(state.scene or 0)
    st.html(NOTES_CSS)
    with st.container(key="speaker_notes"):
        clock, coming = st.columns([3, 2], vertical_alignment="center")
        with clock:
            start = f"window.lucky5Clock.scene({state.scene or 0}); window.lucky5Clock.run('[data-lucky5-clock]');"
            _script(asset("clock.js") + "\n" + start, before=CLOCK)
        after = next_title(state.scene, history.config)
        coming.markdown(f"**Next:** {literal(after)}" if after else "**This is the last scene.**")
        if scene is None:
            st.markdown("**Before the talk.** Press Start (or PageDown) here or in the projector's window.")
            return
        if scenes.changed_settings(history, scene):  # the notes tell the scene's story, not this run's
            st.markdown(
                "**The notes are not shown**: they are written for the scene's own settings, and this run's differ "
                "(above). Go back to the scene's settings to see them."
            )
            return
        notes = notes_for(scene, history, x)
        say, point, ask = st.columns(3)
        say.markdown("##### Say\n" + "\n".join(f"- {literal(s, limit=600)}" for s in notes.say))
        point.markdown("##### Point at\n" + "\n".join(f"- {literal(s, limit=600)}" for s in notes.point))
        ask.markdown(f"##### Ask the room\n{literal(notes.ask, limit=600)}")
