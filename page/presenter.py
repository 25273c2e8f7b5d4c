"""Presenter mode (``?present=1``): large type, the sidebar collapsed, and the animation playing on its own."""

from __future__ import annotations

import streamlit as st

from .state import PRESENT_ON

PRESENT_CSS = """<style>
html, .stMarkdown p, .stMarkdown li { font-size: 1.35rem !important; }
h1 { font-size: 3rem !important; }
[data-testid="stMetricValue"] { font-size: 2.6rem !important; }
</style>"""

# Press the chart's own Play button once it is on screen (Plotly animates in the browser).
AUTOPLAY_JS = """<script>
(function tryPlay(n) {
  const btn = [...document.querySelectorAll('[data-testid="stPlotlyChart"] .updatemenu-button')]
      .find(b => b.textContent.trim() === 'Play');
  if (btn) { btn.dispatchEvent(new MouseEvent('click', {bubbles: true})); }
  else if (n > 0) { setTimeout(() => tryPlay(n - 1), 250); }
})(120);
</script>"""


def requested() -> bool:
    """Presenter mode asked for by the link (read before the page config, which collapses the sidebar)."""
    return str(st.query_params.get("present", "")).lower() in PRESENT_ON


def style() -> None:
    st.html(PRESENT_CSS)


def autoplay() -> None:
    st.html(AUTOPLAY_JS, unsafe_allow_javascript=True)
