"""Helpers shared by test modules: the page in Streamlit's AppTest, and checkpoint files built by hand.

AppTest runs app.py in this process and renders nothing (no JavaScript): the page helpers read what the
server sends. The fixtures that serve the real page to Chromium live in ``tests/conftest.py``; oracles in
``tests/oracle.py``.
"""

from __future__ import annotations

import json
import re
import struct
from typing import Any

import torch
from safetensors.torch import save as st_save
from streamlit.testing.v1 import AppTest

from bench.harness import REPO
from bench.harness import fingerprint as fingerprint_in
from lucky5 import Config, to_query

APP = str(REPO / "app.py")
TIMEOUT = 120  # seconds: importing torch and training take far longer than AppTest's 3 s default
_ESCAPED = re.compile(r"\\(.)")
SETTINGS_FOLD = "_settings"  # how the keys of the sidebar's folded groups end (``page.sidebar``)


def page(**query: Any) -> AppTest:
    """app.py run once with ``query`` as its query string (a list value repeats the parameter)."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for name, value in query.items():
        at.query_params[name] = value if isinstance(value, str | list) else str(value)
    return at.run()


def fingerprint(at: AppTest) -> str | None:
    """The run fingerprint the page's captions show (``bench.harness.fingerprint``); None if there is none."""
    return fingerprint_in(caption.value for caption in at.caption)


def no_errors(at: AppTest) -> None:
    """The script raised nothing (Streamlit would show a traceback)."""
    assert not at.exception, [e.value[:500] for e in at.exception]


def widget(at: AppTest, kind: str, key: str) -> Any:
    """The widget of ``kind`` (an AppTest attribute: ``"number_input"``, ``"checkbox"``...) with ``key``. One in a
    closed group of the sidebar's settings is reached as a learner reaches it: the groups are opened first (a
    closed group draws no widget). StopIteration if there is none."""
    found = next((w for w in getattr(at, kind) if w.key == key), None)
    if found is None and (folds := fold_keys(at, "", suffix=SETTINGS_FOLD)):
        open_folds(at, *folds)
        found = next((w for w in getattr(at, kind) if w.key == key), None)
    if found is None:
        raise StopIteration(f"no {kind} keyed {key!r} on the page")
    return found


def open_folds(at: AppTest, *keys: str) -> AppTest:
    """Open the folded panels ``keys`` (their expanders' keys), as a click on each title does: the panel's state
    becomes open and the page runs again, now drawing what the panel holds (a closed one sends its title alone)."""
    for key in keys:
        at.session_state[key] = True
    return at.run()


def fold_keys(at: AppTest, prefix: str = "", suffix: str = "") -> list[str]:
    """The keys of the page's closed folded panels (expanders that draw their content only when open) that start
    with ``prefix`` and end with ``suffix``: ``"words_"`` starts the Words panels, ``SETTINGS_FOLD`` ends the
    sidebar's groups of settings."""
    found = (re.search(r"-([A-Za-z0-9_]+)$", e.proto.id) for e in at.get("expander") if not e.proto.expanded)
    return [m.group(1) for m in found if m and m.group(1).startswith(prefix) and m.group(1).endswith(suffix)]


def open_words(at: AppTest) -> AppTest:
    """Every Words panel on the page opened, as a reader clicking each title (each draws its meanings only while
    open)."""
    return open_folds(at, *fold_keys(at, "words_"))


def as_read(text: str) -> str:
    """Text as a person reads it: outside text is sent with every punctuation mark backslash-escaped and a
    zero-width space breaking links (``page.text.literal``)."""
    return _ESCAPED.sub(r"\1", text).replace("\u200b", "")


SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻−", "0123456789--")


def shown_number(text: str) -> float:
    """A number as the page writes it: '1.73', '12,345', '−0.5' or '-1.306×10¹⁶'."""
    mantissa, _, power = text.replace(",", "").partition("×10")
    return float(mantissa.translate(SUPERSCRIPTS)) * 10 ** int(power.translate(SUPERSCRIPTS) or 0)


def texts(at: AppTest, kind: str) -> list[str]:
    """The text of every element of ``kind`` (``"warning"``, ``"error"``, ``"markdown"``...) as a person reads it."""
    return [as_read(e.value) for e in getattr(at, kind)]


# --- checkpoint files built by hand -------------------------------------------------------------------------------

LUCKY5_METADATA = {"format": "lucky5", "version": "1", "config": json.dumps(to_query(Config()))}


def lucky5_file(tensors: dict[str, torch.Tensor], **metadata: str) -> bytes:
    """A safetensors file with lucky5's metadata (each key overridable), whatever the tensors."""
    return st_save(tensors, metadata={**LUCKY5_METADATA, **metadata})


def raw_safetensors(header: dict | str | bytes, data: bytes = b"", header_length: int | None = None) -> bytes:
    """A safetensors file written by hand (8-byte little-endian header length, the header, the data), so that
    tests can break what ``safetensors.save`` would not. A dict header is written as JSON, padded with spaces
    to ``header_length`` (safetensors allows trailing spaces)."""
    text = json.dumps(header) if isinstance(header, dict) else header
    raw = text.encode() if isinstance(text, str) else text
    raw = raw.ljust(header_length or len(raw))
    return struct.pack("<Q", len(raw)) + raw + data


# --- the step's board, as a reader sees it ---------------------------------------------------------------------------

_NUMBER = r"(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)"


def board_numbers(text: str) -> dict[str, float]:
    """ŷ, L and ∂L/∂b as a board of one step writes them (``lucky5.step``'s own equation text; real minus signs
    read as hyphens). Raises AssertionError naming what is missing."""
    text = text.replace("−", "-")
    found = {
        "prediction": re.search(rf"ŷ = b \+ Σ wᵢ·xᵢ = [^=]+ = {_NUMBER}", text),
        "loss": re.search(rf"L = \(ŷ - t\)² = [^=]+ = {_NUMBER}", text),
        "grad_bias": re.search(rf"∂L/∂b = 2\(ŷ - t\) = {_NUMBER}", text),
    }
    assert all(found.values()), {k: bool(v) for k, v in found.items()}
    return {k: float(m.group(1)) for k, m in found.items()}
