"""Plain words on the page: each term's meaning where a learner meets it, from ``lucky5.glossary``.

Two ways, both read from the one glossary: ``meanings(...)`` gives a tooltip's text for a widget or a
metric (Streamlit's ``help=``), and ``popover(...)`` puts a small "Words" button after a section that
lists the meaning of every term the section's texts use (``glossary.terms_in``), so no section shows a
word it does not explain. Meanings are the page's own text, still shown through ``text.literal``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import streamlit as st

from lucky5 import glossary

from .text import literal

LABEL = "Words"


def meanings(*names: str) -> str:
    """The glossary's meanings of ``names`` (terms or aliases), one paragraph each: a ``help=`` text."""
    return "\n\n".join(f"{name}: {glossary.meaning(name)}" for name in names)


def listed(texts: Iterable[str]) -> str:
    """A Markdown list of the terms ``texts`` use, each with its meaning, in order of first appearance."""
    return "\n".join(f"- **{literal(t.name)}**: {literal(t.meaning, limit=400)}" for t in glossary.terms_in(texts))


def chart_texts(figure: Any) -> list[str]:
    """What a Plotly figure (a ``go.Figure`` or its dict) writes: its title, axis titles, annotations
    (subplot titles among them) and trace names, in that order."""
    spec = figure.to_dict() if hasattr(figure, "to_dict") else figure
    layout = spec.get("layout", {})
    out = [_text(layout.get("title"))]
    axes = [v for k, v in layout.items() if k.startswith(("xaxis", "yaxis")) and isinstance(v, dict)]
    out += [_text(axis.get("title")) for axis in axes]
    out += [str(a.get("text", "")) for a in layout.get("annotations", [])]
    out += [str(t.get("name", "")) for t in spec.get("data", [])]
    return [re.sub(r"<[^>]+>", " ", t) for t in out if t]  # Plotly's <br> and <sup> are not words


def _text(title: Any) -> str:
    if isinstance(title, dict):
        return str(title.get("text", "") or "")
    return str(title or "")


def popover(texts: Iterable[str], *, key: str, label: str = LABEL) -> None:
    """A "Words" popover with the meanings of every term ``texts`` use; nothing if they use none.

    ``key`` names the section (Streamlit tells popovers apart by it).
    """
    body = listed(list(texts))
    if not body:
        return
    with st.popover(label, icon=":material/menu_book:", key=f"words_{key}", help="What the words here mean"):
        st.markdown(body)
