"""Outside text shown literally: the one helper every notice, error and message with such text goes through.

Streamlit renders Markdown in ``st.warning``, ``st.error``, ``st.success``, ``st.markdown``, captions and
labels, including its own ``:red[...]`` colours, ``:material/...:`` icons and ``$...$`` maths. Text from a
link, from inside a file or from a file's name must never become a link, an image, emphasis or maths there,
so it passes through ``literal`` first. Text the page writes itself may use Markdown as it likes.
"""

from __future__ import annotations

import string

# CommonMark lets any ASCII punctuation character be escaped with a backslash, which makes it plain text:
# that covers Markdown, inline HTML ('<'), Streamlit's directives (':' and '[') and maths ('$').
_ESCAPES = {ord(c): "\\" + c for c in string.punctuation}
# Line breaks and other control characters would start new blocks (headings, lists, code): spaces instead.
_ESCAPES.update({c: " " for c in range(32)})
_ESCAPES[0x7F] = " "


def literal(text: object, limit: int = 300) -> str:
    """``text`` as Markdown that displays exactly its characters, cut to ``limit`` characters first."""
    shown = str(text)
    if len(shown) > limit:
        shown = shown[: limit - 1] + "…"
    return shown.translate(_ESCAPES)
