"""Plain words on the page: each term's meaning where a learner meets it, from ``lucky5.glossary``.

Two ways, both read from the one glossary: ``meanings(...)`` gives a tooltip's text for a widget or a
metric (Streamlit's ``help=``), and ``popover(...)`` puts a folded "Words" panel after a section that
lists the meaning of every term the section's texts use (``glossary.terms_in``), so no section shows a
word it does not explain. Meanings are the page's own text, still shown through ``text.literal``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from typing import Any

import streamlit as st

from lucky5 import glossary

from .text import literal

LABEL = "Words"
KEY_PREFIX = "words_"  # each panel's key, and its open state's name in the session: words_<section>


def meanings(*names: str) -> str:
    """The glossary's meanings of ``names`` (terms or aliases), one paragraph each: a ``help=`` text."""
    return "\n\n".join(f"{name}: {glossary.meaning(name)}" for name in names)


def with_meanings(help_text: str, *texts: str) -> str:
    """``help_text`` after the meanings of the terms ``texts`` use: a setting's tooltip that first says what
    the setting is (the glossary), then what it takes (its own help)."""
    found = glossary.terms_in(texts)
    return "\n\n".join([*(f"{t.name}: {t.meaning}" for t in found), help_text])


def listed(texts: Iterable[str]) -> str:
    """A Markdown list of the terms ``texts`` use, each with its meaning, in order of first appearance; then the
    terms those meanings use (``glossary.explained``)."""
    return "\n".join(f"- **{literal(t.name)}**: {literal(t.meaning, limit=400)}" for t in glossary.explained(texts))


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


def popover(texts: Iterable[str] | Callable[[], Iterable[str]], *, key: str, label: str = LABEL) -> None:
    """A folded "Words" panel with the meanings of every term ``texts`` use, in the flow of the page under the
    section it explains; nothing if they use none.

    Inline (an expander), not a floating popover: opened, it pushes what follows down rather than covering the
    chart or the sentence whose words it explains. ``key`` names the section: the expander is keyed
    ``words_<key>`` (its element carries ``.st-key-words_<key>``) and its open state lives in the session under
    that key. Its meanings are drawn only while it is open: a closed panel sends its title alone, and opening it
    reruns the page with them. ``texts`` may be a function, called only then, for texts that cost to write
    (such a section is taken to use some term). Not inside a cached function: the panel is a widget.
    """
    write, body = (texts, "") if callable(texts) else (None, _listed(tuple(texts)))
    if write is None and not body:
        return
    # No icon: an icon is a ligature of the Material Symbols font, read out as its name ("menu_book") wherever
    # the font is not (yet) loaded or the text is copied.
    fold = st.expander(f"{label}: what the terms here mean", key=f"{KEY_PREFIX}{key}", on_change="rerun")
    if fold.open:
        fold.markdown(body if write is None else _listed(tuple(write())))


@functools.lru_cache(maxsize=256)
def _listed(texts: tuple[str, ...]) -> str:
    """``listed`` once per content: a rerun that shows the same texts looks up no word again."""
    return listed(texts)
