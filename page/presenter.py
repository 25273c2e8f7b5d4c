"""Presenter mode (``?present=1``) and embedding (``?embed=true``, or any iframe given that link).

Presenter mode: the scene bar stays at the top of the screen (``page.scenes``); under it the stage fills the rest
of it: the scene's sentences, large, and its picture (``page.pictures``), with the audience link's QR code beside
it where the scene asks for it (``Scene.audience``; and before the talk). Nothing the scene needs lies below the
fold of a 1280×720 screen; on a 1920×1080 one everything grows. Entering a scene plays its animation, as a link to
it does, unless the viewer asked for reduced motion (then Play waits for a press). Keys: Space plays and pauses,
← and → step one frame; PageDown and PageUp are the bar's Next and Back. Embedded: the scene's picture, large,
and nothing else to scroll.

Not here: the scenes' content (``lucky5.scenes``), the figures (``lucky5.figures``), the layout's numbers
(``presenter.css``) and the keys' script (``presenter.js``).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from lucky5 import story
from lucky5.engine import History
from lucky5.scenes import SCENE, title_for

from . import pictures, scenes
from . import state as page_state
from .qr import qr
from .room.links import loopback_warning
from .state import PRESENT_ON
from .text import literal

_HERE = Path(__file__).parent
PRESENT_CSS = "<style>" + (_HERE / "presenter.css").read_text(encoding="utf-8") + "</style>"
KEYS_JS = (_HERE / "presenter.js").read_text(encoding="utf-8")
EMBED_CSS = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stHeader"] { display: none; }
[data-testid="stElementContainer"]:has(> [data-testid="stHtml"] > script:only-child) { display: none; }
[data-testid="stMainBlockContainer"] { padding: 0.5rem 1rem 0 1rem !important; max-width: 100% !important; }
:has(> .st-key-stage) { height: calc(100vh - 4.25rem); }
.st-key-stage [data-testid="stLayoutWrapper"], .st-key-stage [data-testid="stVerticalBlock"],
.st-key-stage [class*="st-key-stage_chart"] { height: 100%; min-height: 0; }
</style>"""
# Press the new chart's own Play button (Plotly animates in the browser) once the page has finished its run and
# the chart has kept its size for a moment: a chart resized while it plays can keep its old axes. Then watch it:
# on a busy machine a press can come to nothing (Streamlit redraws the chart, a resize stops the loop), so while
# it has not played to its end and nobody has pressed a key or clicked since, press again, for up to WATCH_MS.
# Once it plays the chart is marked (data-lucky5-autoplay="playing") for whoever checks. Nothing plays by itself
# for a viewer who asked for reduced motion. A new script for every chart key and scene entry, so Streamlit runs it.
AUTOPLAY_JS = """
(function () {  // ENTRY
  const WATCH_MS = 8000, POLL_MS = 200, TRIES = 300;
  const touched = {at: -Infinity};  // the viewer's last key or click: their Pause is never undone
  const mark = () => { touched.at = performance.now(); };
  ['keydown', 'pointerdown'].forEach((t) => window.addEventListener(t, mark, {capture: true, passive: true}));
  const chart = () => document.querySelector('.st-key-KEY .js-plotly-plot');
  const idle = () => document.querySelector('[data-testid="stApp"]')?.getAttribute('data-test-script-state')
      === 'notRunning';
  const playing = (gd) => !!(gd._transitionData && gd._transitionData._animationRaf);
  const frames = (gd) => ((gd._transitionData || {})._frames || []).length;
  const done = () => ['keydown', 'pointerdown'].forEach((t) => window.removeEventListener(t, mark, true));
  (function tryPlay(n, last, pressedAt) {
    const gd = chart();
    const drawn = idle() && gd && gd._fullLayout;
    if (!PLAY || window.matchMedia('(prefers-reduced-motion: reduce)').matches || n <= 0) { done(); return; }
    const again = () => setTimeout(() => tryPlay(n - 1, size, pressedAt), POLL_MS);
    const ready = drawn && frames(gd);
    const size = ready ? [gd.offsetWidth, gd.offsetHeight, gd._fullLayout.width, gd._fullLayout.height].join() : null;
    if (pressedAt !== null) {  // pressed: is it playing, or has it played to the end?
      const at = ready ? ((gd.layout.sliders || [])[0] || {}).active || 0 : 0;
      if (ready && playing(gd)) gd.setAttribute('data-lucky5-autoplay', 'playing');
      const finished = ready && !playing(gd) && at >= frames(gd) - 1;
      if (finished || touched.at > pressedAt || performance.now() - pressedAt > WATCH_MS) { done(); return; }
      if (!ready || playing(gd)) { again(); return; }
    }
    const btn = size && size === last
        && [...gd.querySelectorAll('.updatemenu-button')].find((b) => b.textContent.trim() === 'Play');
    if (!btn) { again(); return; }
    if (pressedAt === null) pressedAt = performance.now();
    btn.dispatchEvent(new MouseEvent('click', {bubbles: true}));
    again();
  })(TRIES, null, null);
})();
"""


def requested() -> bool:
    """Presenter mode asked for by the link (read before the page config, which collapses the sidebar)."""
    return str(st.query_params.get("present", "")).lower() in PRESENT_ON


def embedded() -> bool:
    """True inside an iframe whose link has ``embed=true`` (Streamlit's own flag, ``st.context.is_embedded``)."""
    return bool(st.context.is_embedded)


def style() -> None:
    st.html(PRESENT_CSS)


def scripts(key: str | None, play: bool) -> None:
    """The keys and the projector scale (installed once per tab) and, when ``key`` names a chart and ``play`` is
    set, its autoplay (``AUTOPLAY_JS``), in one script element, which ``presenter.css`` keeps from taking a row of
    the page."""
    chart = ""
    if key:
        chart = AUTOPLAY_JS.replace("KEY", key).replace("ENTRY", str(scenes.entries()))
        chart = chart.replace("PLAY", "true" if play else "false")
    st.html(f"<script>{KEYS_JS}{chart}</script>", unsafe_allow_javascript=True)


def stage(history: History, x: tuple[float, ...]) -> None:
    """The scene's sentences and picture filling the screen under the bar, the QR code beside the picture where
    the scene shows it; the audience link as text below, for the speaker."""
    state = page_state.get()
    scene = SCENE.get(state.scene or 0)
    link = page_state.share_link(state)
    warning = loopback_warning(link)
    with st.container(key="stage"):
        scenes.text(history, x)
        with st.container(key="stage_picture"):
            if scene is None or scene.audience:
                picture, side = st.columns([4, 1], gap="medium")
                qr(
                    link,
                    8,
                    width="stretch",
                    alt="QR code of the link to this scene",
                    caption="⚠ Phones cannot open this link: see below" if warning else "Scan to follow along",
                    where=side,
                )
            else:
                picture = st.container()
            with picture:
                key = pictures.draw(scene, history, x)
    st.code(link, language=None, wrap_lines=True)  # below the stage: the QR code is what the room uses
    if warning is not None:  # said beside the QR code too, where the speaker checks it before the talk
        st.warning(warning)
    scripts(key, play=scene is None or scene.animated)


def embed(history: History, x: tuple[float, ...]) -> None:
    """The whole page inside a slide: one title line and the scene's picture, large; an animation plays."""
    st.html(EMBED_CSS)
    scene = SCENE.get(page_state.get().scene or 0)
    title = f"Scene {scene.number} · {title_for(scene, history.config)}" if scene else story.title(history.config)
    st.markdown(f"**{literal(title)}**")
    with st.container(key="stage"):
        key = pictures.draw(scene, history, x)
    scripts(key, play=scene is None or scene.animated)
