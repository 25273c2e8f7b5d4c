"""Downloads for a talk without a network: this run as one HTML file, the whole talk as one HTML file, and the
presenter kit (the talk, and every scene's QR code, script, checkpoint and CSV, in one zip).

The talk and the kit are built once per (page address, theme) and kept, a few at most (``kits``): whoever presses
a button while one is being built waits for that build instead of starting another, and the builds of different
addresses queue one at a time. Their runs come from the page's bounded run cache (``runtime.run``), so a kit
never trains a run the page would train again. A download's callable runs outside the script (Streamlit calls
it when the button is pressed), so the files are made only for those who ask.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
import torch

from lucky5 import export, kit
from lucky5.engine import History
from lucky5.once import Once
from lucky5.scenes import SCENES

from . import runtime
from . import state as page_state
from .room.links import loopback_warning
from .text import literal

KITS_KEPT = 4  # (address, theme) pairs: one address in two themes, and room for a rehearsal elsewhere


@dataclass(frozen=True)
class Talk:
    """One build: the talk as one HTML file and the whole kit as a zip (bytes, shared read-only)."""

    html: bytes
    zip: bytes


@st.cache_resource
def kits() -> Once[Talk]:
    """The process's one cache of builds, keyed by (page address, theme)."""
    return Once(KITS_KEPT)


def _build(base: str, theme: str) -> Talk:
    runs = {s.number: runtime.run(s.config) for s in SCENES}
    files = kit.files(base, runs, theme=theme, unreachable=loopback_warning(base, markdown=False))
    return Talk(html=files[f"{kit.FOLDER}/{kit.TALK}"], zip=kit.archive(files))


def talk(base: str, theme: str) -> Talk:
    """The build for this page address and theme: cached, or built once however many ask at the same time."""
    return kits().get((base, theme), lambda: _build(base, theme))


def downloads(history: History, x: tuple[float, ...]) -> None:
    """The three buttons; each file is made when its button is pressed, not on every rerun."""
    st.markdown(
        "**Offline**: this run in one HTML file that plays in any browser without a network; the whole talk in "
        "one such file, with a clicker's keys and a speaker's view; and the presenter kit, the talk with every "
        "scene's QR code, script, checkpoint and CSV."
    )
    c = history.config
    base = page_state.share_link(page_state.get()).split("?")[0]
    theme = runtime.theme()
    left, middle, right = st.columns(3)
    left.download_button(
        "This run as one HTML file",
        lambda: export.html(history, torch.tensor(x, dtype=torch.float64), theme=theme),
        file_name=f"lucky5-seed{c.seed}.html",
        mime="text/html",
        on_click="ignore",
    )
    middle.download_button(
        "The talk as one HTML file",
        lambda: talk(base, theme).html,
        file_name=kit.TALK,
        mime="text/html",
        on_click="ignore",
    )
    right.download_button(
        "Presenter kit (.zip, every scene offline)",
        lambda: talk(base, theme).zip,
        file_name="lucky5-talk.zip",
        mime="application/zip",
        on_click="ignore",
    )
    built = kits().peek((base, theme))
    if built is not None:
        middle.caption(f"{len(built.html) / 1e6:.1f} MB")
        right.caption(f"{len(built.zip) / 1e6:.1f} MB")
    # The kit's QR codes and links are built on this page's own address, which the browser reports.
    if (warning := loopback_warning(base)) is not None:
        st.caption(f"⚠ The talk's QR codes and links will point to {literal(base)}. {warning}")
    else:
        st.caption(f"The talk's QR codes and links point to {literal(base)}.")
