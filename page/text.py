"""Outside text shown literally: the one helper every notice, error and message with such text goes through.

Streamlit renders Markdown in ``st.warning``, ``st.error``, ``st.success``, ``st.markdown``, captions and
labels, including its own ``:red[...]`` colours, ``:material/...:`` icons and ``$...$`` maths. Text from a
link, from inside a file or from a file's name must never become a link, an image, emphasis or maths there,
so it passes through ``literal`` first. Text the page writes itself may use Markdown as it likes.
"""

from __future__ import annotations

import re
import string

# CommonMark lets any ASCII punctuation character be escaped with a backslash, which makes it plain text:
# that covers Markdown, inline HTML ('<'), Streamlit's directives (':' and '[') and maths ('$').
_ESCAPES = {ord(c): "\\" + c for c in string.punctuation}
# Line breaks and other control characters would start new blocks (headings, lists, code): spaces instead.
_ESCAPES.update({c: " " for c in range(32)})
_ESCAPES[0x7F] = " "
# GitHub-flavoured Markdown also turns bare URLs and e-mail addresses into links, after escapes are read
# (it searches the text itself). A zero-width space inside "://", after "@" and after "www" breaks
# those patterns without changing what a reader sees.
_AUTOLINK = re.compile(r"(?i)(?<=:)(?=//)|(?<=@)|(?<=www)(?=\.)")
_ZERO_WIDTH_SPACE = "\u200b"


def literal(text: object, limit: int = 300) -> str:
    """``text`` as Markdown that displays exactly its characters, cut to ``limit`` characters first.

    Every ASCII punctuation mark is backslash-escaped (CommonMark makes it plain text), control characters
    become spaces, and a zero-width space keeps URLs and addresses from being linked.
    """
    shown = str(text)
    if len(shown) > limit:
        shown = shown[: limit - 1] + "…"
    return _AUTOLINK.sub(_ZERO_WIDTH_SPACE, shown).translate(_ESCAPES)
