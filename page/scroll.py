"""Bring an element into view once, just below Streamlit's header: the one scroll the page makes by itself.

Streamlit scrolls an inner container (``stMain``), not the document. The script waits (bounded) for the element,
scrolls it to the top of the view, and places it again while late content above it settles; once the reader
has scrolled it leaves the page where the reader put it. No smooth scrolling: nothing moves for a reader who
asked for reduced motion, and an instant jump is what every reader gets.
"""

from __future__ import annotations

import json

import streamlit as st

_JS = """<script>
(function place(n) {  // NONCE
  const main = document.querySelector('[data-testid="stMain"]');
  const target = document.querySelector(SELECTOR);
  if (!main || !target) { if (n > 0) setTimeout(() => place(n - 1), 100); return; }
  const header = document.querySelector('[data-testid="stHeader"]');
  const below = (header ? header.getBoundingClientRect().bottom : 0) + 8;
  let left = null;  // where this script last put the page
  const go = () => {
    if (left !== null && Math.abs(main.scrollTop - left) > 2) return;  // moved by someone else: theirs now
    main.scrollTo({top: main.scrollTop + target.getBoundingClientRect().top - below});
    left = main.scrollTop;
  };
  go();
  for (const ms of [300, 900, 1800]) setTimeout(go, ms);
})(40);
</script>"""


def into_view(selector: str, nonce: int) -> None:
    """Scroll the first element matching the CSS ``selector`` (our own constant, never outside text) to just below
    the header. ``nonce`` makes each request a new script, so that Streamlit runs it again."""
    script = _JS.replace("SELECTOR", json.dumps(selector)).replace("NONCE", str(int(nonce)))
    st.html(script, unsafe_allow_javascript=True)


_TOP_JS = """<script>
(function top(n) {  // NONCE
  const main = document.querySelector('[data-testid="stMain"]');
  if (!main) { if (n > 0) setTimeout(() => top(n - 1), 100); return; }
  main.scrollTo({top: 0});
})(40);
</script>"""


def to_top(nonce: int) -> None:
    """Scroll the page back to its top (instantly, as ``into_view``); ``nonce`` makes each request a new script."""
    st.html(_TOP_JS.replace("NONCE", str(int(nonce))), unsafe_allow_javascript=True)
