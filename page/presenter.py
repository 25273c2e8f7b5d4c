"""Presenter mode (``?present=1``) and embedding (``?embed=true``, or any iframe given that link).

Presenter mode: large type, the sidebar collapsed, the scene's chart at projector scale (every chart text
at least ``figures.PROJECTOR_FONT`` px) in one row of panels that fits a 1280×720 screen and also fits a
1920×1080 one, the audience link and its QR code beside it, the animation playing on its own, and the
keyboard: Space plays and pauses, ← and → step one frame; PageDown and PageUp are the scene bar's Next
and Back (``page.scenes``). Embedded: the chart of the link's run, large, and nothing else to scroll.

Not here: the scenes' content (``lucky5.scenes``) and the figure itself (``lucky5.figures``).
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st
import torch

from lucky5 import Config, figures, story
from lucky5.scenes import SCENE

from . import runtime
from . import state as page_state
from .panels import CHART_CONFIG
from .state import PRESENT_ON
from .text import literal

STAGE_PANELS = ("loss", "parameters")  # presenter mode without a scene: what the loss does and where w and b go
# px: the chart under the scene bar on a 1280×720 screen. The server cannot know the screen, and Streamlit
# redraws a chart at its figure's height, so the one height is chosen for the smaller of the two projectors.
STAGE_HEIGHT = 440
EMBED_HEIGHT = 640  # px: a 1280×720 slide holds the title line and this chart
ALT = (
    "Animation of training at projector scale: {panels}. Press Space to play or pause, the arrow keys to step. "
    "The page's normal mode has a table of the same numbers."
)

PRESENT_CSS = """<style>
html, .stMarkdown p, .stMarkdown li { font-size: 1.35rem !important; }
h1 { font-size: 3rem !important; }
[data-testid="stMetricValue"] { font-size: 2.6rem !important; }
/* The scene and its chart start at the top of the screen: Streamlit's roomy top padding would push it down. */
/* 84 px: below Streamlit's header, which the larger root font above makes about 81 px tall. */
[data-testid="stMainBlockContainer"] { padding-top: 84px !important; padding-bottom: 1rem !important; }
.st-key-scene_text p { font-size: 20px !important; line-height: 1.4; }  /* px: html's own size is raised above */
[data-testid="stButton"] kbd { display: none; }  /* the clicker's keys: the audience need not read them */
</style>"""

EMBED_CSS = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stHeader"] { display: none; }
[data-testid="stMainBlockContainer"] { padding: 0.5rem 1rem 0 1rem !important; max-width: 100% !important; }
</style>"""

# Press the chart's own Play button once it is on screen (Plotly animates in the browser); never when the viewer
# asked for less motion (prefers-reduced-motion): then the chart waits for its Play button, or the Space key.
AUTOPLAY_JS = """<script>
(function tryPlay(n) {
  if (window.matchMedia('(prefers-reduced-motion: reduce)').matches) return;
  const btn = [...document.querySelectorAll('[data-testid="stPlotlyChart"] .updatemenu-button')]
      .find(b => b.textContent.trim() === 'Play');
  if (btn) { btn.dispatchEvent(new MouseEvent('click', {bubbles: true})); }
  else if (n > 0) { setTimeout(() => tryPlay(n - 1), 250); }
})(120);
</script>"""

# Installed once per browser tab. The chart is the first Plotly chart of the page (the stage draws it first).
# Keys typed into a text box, a number box or a menu stay there. Plotly is the page's own global.
# Plotly rejects the promise of an animation that another one interrupts, with no reason, and its own Play
# and Pause buttons leave that rejection unhandled: the console showed "Uncaught (in promise) undefined" at
# every pause. So the keys call Plotly.animate with the buttons' own arguments and catch the rejection, and
# the one an interrupted button-started animation (the autoplay, a click on Play) leaves is marked handled.
KEYS_JS = r"""<script>
(function () {
  if (window.__lucky5Keys) return;
  window.__lucky5Keys = true;
  const chart = () => document.querySelector('[data-testid="stPlotlyChart"] .js-plotly-plot');
  const typing = (t) => t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)
                              || (t.getAttribute && t.getAttribute('role') === 'combobox'));
  const playing = (gd) => !!(gd._transitionData && gd._transitionData._animationRaf);
  let interrupted = -Infinity;  // when a key last stopped or replaced an animation
  window.addEventListener('unhandledrejection', (e) => {
    if (e.reason === undefined && performance.now() - interrupted < 2000) e.preventDefault();
  });
  const animate = (gd, frames, options) => {
    interrupted = performance.now();
    window.Plotly.animate(gd, frames, options).catch(() => {});
  };
  const button = (gd, label) => (gd.layout.updatemenus || []).flatMap((m) => m.buttons || [])
      .find((b) => String(b.label || '').replace(/^\W*/, '').trim() === label);
  const press = (gd, label) => {
    const b = button(gd, label);
    if (b && b.args) animate(gd, b.args[0], b.args[1]);
  };
  const step = (gd, by) => {
    const slider = (gd.layout.sliders || [])[0];
    if (!slider || !slider.steps || !slider.steps.length) return;
    if (playing(gd)) press(gd, 'Pause');
    const i = Math.max(0, Math.min(slider.steps.length - 1, (slider.active || 0) + by));
    const name = slider.steps[i].args[0][0];
    animate(gd, [name], {mode: 'immediate', frame: {duration: 0, redraw: false}, transition: {duration: 0}});
  };
  document.addEventListener('keydown', (e) => {
    if (e.altKey || e.ctrlKey || e.metaKey || typing(e.target)) return;
    const gd = chart();
    if (!gd || !gd.layout || !window.Plotly) return;
    if (e.key === ' ' || e.code === 'Space') {
      e.preventDefault();
      press(gd, playing(gd) ? 'Pause' : 'Play');
    } else if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
      e.preventDefault();
      step(gd, e.key === 'ArrowRight' ? 1 : -1);
    }
  }, true);
})();
</script>"""


def requested() -> bool:
    """Presenter mode asked for by the link (read before the page config, which collapses the sidebar)."""
    return str(st.query_params.get("present", "")).lower() in PRESENT_ON


def embedded() -> bool:
    """True inside an iframe whose link has ``embed=true`` (Streamlit's own flag, ``st.context.is_embedded``)."""
    return bool(st.context.is_embedded)


def style() -> None:
    st.html(PRESENT_CSS)


def autoplay() -> None:
    st.html(AUTOPLAY_JS, unsafe_allow_javascript=True)


@st.cache_resource(max_entries=32, show_spinner=False)
def _figure(
    config: Config, x: tuple[float, ...], theme: str, panels: tuple[str, ...], height: int
) -> runtime.FrozenFigure:
    spec = figures.animation(
        runtime.run(config),
        torch.tensor(x, dtype=torch.float64),
        theme=theme,
        projector=True,
        height=height,
        panels=panels,
        columns=2,
    )
    figure = runtime.FrozenFigure(spec)
    runtime.settle_gc()
    return figure


def _chart(config: Config, x: tuple[float, ...], panels: Sequence[str], height: int) -> None:
    st.plotly_chart(
        _figure(config, x, runtime.theme(), tuple(panels), height),
        key="animation",
        config=CHART_CONFIG,
        alt=ALT.format(panels=", ".join(panels)),
    )


def _panels() -> tuple[str, ...]:
    scene = SCENE.get(page_state.get().scene or 0)
    return scene.panels if scene else STAGE_PANELS


def stage(config: Config, x: tuple[float, ...]) -> None:
    """The chart at projector scale, and the audience link with its QR code: beside the chart before the talk
    and on its first scene (where the room scans it), below it on the others (where the chart needs the width)."""
    state = page_state.get()
    beside = state.scene in (None, 1)
    chart, side = st.columns([5, 1], gap="medium") if beside else (st.container(), st.columns([4, 1])[1])
    with chart:
        _chart(config, x, _panels(), STAGE_HEIGHT)
    link = page_state.share_link(state)
    side.image(
        runtime.qr_png(link, 8),
        width="stretch",
        alt="QR code of the link to this scene",
        caption="Scan to follow along",
    )
    st.code(link, language=None, wrap_lines=True)  # under the chart: the QR code is what the room uses
    autoplay()
    st.html(KEYS_JS, unsafe_allow_javascript=True)


def embed(config: Config, x: tuple[float, ...]) -> None:
    """The whole page inside a slide: one title line and the chart, large, playing by itself."""
    st.html(EMBED_CSS)
    scene = SCENE.get(page_state.get().scene or 0)
    title = f"Scene {scene.number} · {scene.title}" if scene else story.title(config)
    st.markdown(f"**{literal(title)}**")
    _chart(config, x, _panels(), EMBED_HEIGHT)
    autoplay()
