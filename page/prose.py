"""A panel's running text with as few page elements as its look allows: adjacent paragraphs and equations as one.

Every element costs a rerun the same whatever it holds (a message built, hashed, queued and sent), so a panel
that writes a bold title, two equations and a paragraph as four elements pays four times for what one Markdown
element shows alike: ``st.latex`` is Markdown's own ``$$`` display maths, and paragraphs keep their spacing.
Captions stay elements of their own (their smaller, fainter type is the caption element's), and so does
anything else; ``Prose`` writes the pending text out before them.

    text = Prose()
    text.markdown("**1. The inputs**")
    text.latex("L = (y - t)^2")
    text.caption("Ten fresh random numbers.")  # the title and the equation as one element, then the caption
    st.dataframe(...)  # after text.flush()
    text.flush()
"""

from __future__ import annotations

import streamlit as st

# Apart, an equation sat 1rem (the gap between elements) plus its own 1rem margin below what came before it;
# inside one element its margin would collapse into the paragraph's. Drawn by the panel that uses ``latex``.
CSS = "<style>.stMarkdown .katex-display:not(:first-child) { margin-top: 2rem; }</style>"


class Prose:
    """Markdown and display equations gathered until something else is drawn (``flush``, ``caption``)."""

    def __init__(self) -> None:
        self._pending: list[str] = []

    def markdown(self, body: str) -> None:
        """A Markdown block (the page's own text, or outside text already passed through ``text.literal``)."""
        self._pending.append(body)

    def latex(self, body: str) -> None:
        """A display equation, as ``st.latex`` writes it: ``$$`` on lines of their own around the LaTeX."""
        self._pending.append(f"$$\n{body}\n$$")

    def caption(self, body: str) -> None:
        """The pending text, then ``st.caption(body)``."""
        self.flush()
        st.caption(body)

    def flush(self) -> None:
        """Draw the pending blocks as one ``st.markdown`` (blank lines between them: each stays its own block)."""
        if self._pending:
            st.markdown("\n\n".join(self._pending))
            self._pending = []
