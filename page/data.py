"""Your own data: a CSV file becomes the inputs and the target (``lucky5.data``), with the theory computed from
the data itself (``lucky5.theory.empirical``).

It is one more choice beside the rules on the first screen (``page.task``). The data set lives in this session
only: a link carries settings, never a file, so the run on screen is the link's settings trained on the data
(``train(config, data=...)``), cached under the data's digest. Until a file is uploaded the page trains on the
sample file it offers for download. A file the reader refuses leaves everything as it was, with the reason and
the file's name shown literally. What a run on the data shows is ``page.data_run``'s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st
import torch

from lucky5 import Config, theory
from lucky5.data import MAX_BYTES, MAX_FEATURES, Data, DataError, read_csv, sample_csv
from lucky5.engine import History, train

from . import runtime
from . import state as page_state
from .scroll import into_view
from .text import literal

KIND = "data"  # the first screen's choice, beside lucky5.task.KINDS
KIND_NAME = "Your own data (a CSV file)"
SAMPLE_NAME = "lucky5_sample.csv"
SHOWN_ROWS = 5
_ON, _OWN, _REFUSED = "own_data_on", "own_data", "own_data_refused"  # keys no widget owns (see page.state)
_FILE, _SCALE, _SCALE_WIDGET = "own_data_file", "own_data_scaled", "own_data_scaled_widget"
_UPLOADS, _CHOSEN = "own_data_uploads", "own_data_chosen"  # the uploader's generation; a choice not yet scrolled to
_REFUSAL = "own_data_refusal"  # the refused file's message, a keyed container that _REFUSAL_CSS hides
# The refusal goes once another file is in the uploader: Streamlit refuses a file too big in the browser, with its own
# words, and the server never hears of it, so the refusal would be about a file no longer chosen.
_REFUSAL_CSS = (
    '<style>body:has([class*="st-key-own_data_file_"] [data-testid="stFileChip"]) .st-key-own_data_refusal '
    "{ display: none; }</style>"
)
_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


@dataclass(frozen=True)
class Own:
    """The session's data set: as read from the file, standardised, and the file's name (outside text)."""

    data: Data
    scaled: Data
    name: str


def _own(data: Data, name: str) -> Own:
    return Own(data, data.standardized(), name)


@st.cache_resource(show_spinner=False)  # one read of the fixed sample file per process, shared read-only
def _sample() -> Own:
    return _own(read_csv(sample_csv()), SAMPLE_NAME)


def active() -> bool:
    """True when the viewer chose their own data and the run has no rule (a rule chosen anywhere leaves it);
    never in presenter mode or in a scene, which show the link's settings alone."""
    state = page_state.get()
    return bool(st.session_state.get(_ON)) and not state.run.rule and not state.present and state.scene is None


def choose(on: bool) -> None:
    """The first screen's choice: the viewer's own data (True) or the lucky number or a rule (False)."""
    st.session_state[_ON] = on
    if on:  # the next run brings the choice and the upload into view (``scroll.into_view``)
        st.session_state[_CHOSEN] = int(st.session_state.get(_CHOSEN, 0)) + 1


def own() -> Own:
    found = st.session_state.get(_OWN)
    return found if isinstance(found, Own) else _sample()


def own_data() -> Data:
    """The data set a run on the viewer's data trains on: the file read (or the sample), standardised if chosen."""
    chosen = own()
    return chosen.scaled if st.session_state.get(_SCALE) else chosen.data


def current() -> Data | None:
    """``own_data()`` when the run on screen is on the viewer's data (``active``), else None."""
    return own_data() if active() else None


@st.cache_data(max_entries=16, show_spinner="Training on your data…")
def _train(config: Config, digest: str, _data: Data) -> History:
    """``train(config, data=_data)``, cached per (settings, the data's digest): ``_data`` is not hashed by Streamlit,
    ``digest`` (SHA-256 of its numbers) stands for it."""
    with runtime.TRAIN_LOCK:
        history = train(config, data=_data)
    runtime.settle_gc()
    return history


def run(config: Config, data: Data) -> History:
    """The run of ``config`` on ``data`` (the data bring their own targets: any rule is dropped)."""
    return _train(config.replace(rule=""), data.digest, data)


@st.cache_data(max_entries=32, show_spinner="Computing the stability limit from your rows…")
def _stability(config: Config, digest: str, _data: Data) -> theory.Stability:
    return theory.stability(config, _data)  # the rows' fourth moments: too slow to redo on every rerun


def stability(config: Config, data: Data) -> theory.Stability:
    """``theory.stability(config, data)``, cached per (settings, the data's digest); the sidebar's gauge and the
    verdict both read it."""
    return _stability(config.replace(rule=""), data.digest, data)


# --- the choice's own part of the first screen ---------------------------------------------------------------------


def panel() -> None:
    """The upload, the sample file, the first rows, the size, how unused inputs are handled and the standardising."""
    chosen = own()
    scroll = st.session_state.pop(_CHOSEN, None)
    if scroll is not None:
        # After the choice the page above the upload is shorter than the lesson it replaced, and the browser keeps
        # its scroll offset, which then lies past the upload (on a phone): the choice comes to the top instead.
        into_view(".st-key-task_kind", scroll)
    # A refused file is not kept: a new generation of the uploader (a new key) starts empty, so its list never shows
    # a file the page did not use; the refusal stays under it.
    key = f"{_FILE}_{int(st.session_state.get(_UPLOADS, 0))}"
    st.file_uploader(
        "Your CSV file (at most 1 MB)",
        type=["csv"],
        key=key,
        on_change=_uploaded,
        args=(key,),
        help="A header row, then 1 to 10 numeric feature columns and the target: the column named y or target, "
        "or else the last. At most 100,000 rows. Plain numbers only: no formulas, no empty cells.",
    )
    st.download_button(
        "Download a sample CSV",
        sample_csv(),
        file_name=SAMPLE_NAME,
        mime="text/csv",
        on_click="ignore",
        help="200 rows of x1, x2, x3 and y = 2 + 4·x2 − x3 plus a little noise: edit it, or start your own.",
    )
    refused = st.session_state.get(_REFUSED)
    if refused is not None:
        name, reason = refused
        st.html(_REFUSAL_CSS)
        st.container(key=_REFUSAL).error(
            f"Refused {literal(repr(name), limit=120)}: {literal(reason)}. The file was not used, and the upload is "
            "empty again: the page keeps the last data and its run."
        )
    data = own_data()
    sample = " (the sample file: upload yours above)" if chosen.name == SAMPLE_NAME else ""
    st.markdown(
        f"Training on **{literal(chosen.name, limit=120)}**{sample}: **{data.rows:,} rows**, **{data.width} feature "
        f"column{'s' if data.width > 1 else ''}** and the target **{literal(data.target_name, limit=60)}**."
    )
    st.dataframe(_first_rows(data), hide_index=True, key="own_data_rows", height="content")
    st.caption(f"The first {min(SHOWN_ROWS, data.rows)} rows as read (the layer computes with them in float32).")
    if data.width < MAX_FEATURES:
        st.caption(
            f"The layer keeps its ten inputs: your {data.width} feature{'s' if data.width > 1 else ''} feed "
            f"x₁…x{str(data.width).translate(_SUBSCRIPT)}, and the other inputs are unused, always 0, so their "
            "weights never move from where PyTorch's initialisation put them (drawn grey on the network)."
        )
    st.session_state[_SCALE_WIDGET] = bool(st.session_state.get(_SCALE))
    st.toggle(
        "Standardise the features (each to mean 0 and standard deviation 1)",
        key=_SCALE_WIDGET,
        on_change=_scaled,
        help="Large or uneven columns lower the learning rate at which SGD still settles; standardised ones do not.",
    )
    st.caption(
        "Standardising rescales each feature column on its own: subtract the column's mean, divide by its standard "
        "deviation, so every column has mean 0 and standard deviation 1. Each weight then means *the change in y "
        "for one standard deviation more of that column*, and b becomes the mean of y (every column averages 0). "
        "It helps because SGD uses one learning rate for every weight: a column in the thousands needs a far "
        "smaller rate than a column near 1, so no single rate suits both; once rescaled, one rate suits every column."
    )


def _first_rows(data: Data) -> pd.DataFrame:
    """The first rows as the file wrote them: each float32 number as its shortest decimal (3596.1, not the
    3596.1001 its float64 widening prints), so the table shows what was read."""
    rows = min(SHOWN_ROWS, data.rows)
    table = torch.cat([data.features[:rows], data.target[:rows, None]], 1).numpy()
    # Column names are outside text: a DataFrame shows them as text, and the reader made them unique.
    return pd.DataFrame(table.astype(str).astype(np.float64), columns=[*data.feature_names, data.target_name])


def _scaled() -> None:
    st.session_state[_SCALE] = bool(st.session_state[_SCALE_WIDGET])


def _uploaded(key: str) -> None:
    """A new file in the uploader ``key``: read it (total: a Data or the reader's reason); a refused file changes
    nothing else, and the next run draws a new, empty uploader."""
    file = st.session_state.get(key)
    if file is None:  # the viewer removed the file: the data stay until another is read
        return
    name = str(file.name)
    try:
        chosen = _own(read_csv(file.read(MAX_BYTES + 1)), name)  # one byte more than allowed is enough to refuse
    except DataError as err:
        st.session_state[_REFUSED] = (name, str(err))
        st.session_state[_UPLOADS] = int(st.session_state.get(_UPLOADS, 0)) + 1
        return
    st.session_state[_OWN] = chosen
    st.session_state.pop(_REFUSED, None)
