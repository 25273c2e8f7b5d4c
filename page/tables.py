"""Every table on the page, in the page's notation: e-notation for the very small and the very large.

Streamlit prints a float column in plain decimals, so a squared error of 5e-12 read 0.000000000005 while
the rest of the page said 5e-12. ``table`` shows every float column with ``NUMBER_FORMAT`` (printf's %g
with six significant digits: 0.0162218, 4.99998, 5e-12), whole numbers as they are, and a column's meaning,
where it needs one, as its header's tooltip.

A table is drawn once per content: its element (a pandas Styler rendered and converted to Arrow, the
costliest thing a rerun did) is kept and replayed on every later rerun that shows the same numbers.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from lucky5 import narration

NUMBER_FORMAT = "%.6g"


def column_formats(frame: pd.DataFrame, meanings: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Streamlit column settings for ``frame``: ``NUMBER_FORMAT`` for every float column, and the
    meaning of any column named in ``meanings`` as its header's tooltip."""
    meanings = meanings or {}
    out: dict[str, Any] = {}
    for name in frame.columns:
        if pd.api.types.is_float_dtype(frame[name]):
            out[name] = st.column_config.NumberColumn(format=NUMBER_FORMAT, help=meanings.get(name))
        elif name in meanings:
            out[name] = st.column_config.Column(help=meanings[name])
    return out


def table(
    data: pd.DataFrame | Sequence[Mapping[str, Any]],
    *,
    meanings: Mapping[str, str] | None = None,
    near: Mapping[str, float] | None = None,
    index: bool = False,
    replay: bool = True,
    **options: Any,
) -> None:
    """``st.dataframe`` of ``data`` (a frame, or rows as dicts) in the page's notation (``column_formats``).

    A column named in ``near`` holds values a learner compares with a reference (the prediction with the lucky
    number): each cell gets the digits that tell it apart from that reference (``narration.near``: 4.9999995,
    never 5), where a fixed format would round it onto the reference. The index is hidden unless ``index``
    (it names the rows: w1..w10, b). ``options`` go to ``st.dataframe``.

    The table is drawn once per content and replayed after that, unless ``replay`` is False: a table inside a
    container that a replayed function itself creates must be drawn afresh, since Streamlit would replay a
    replay nested there outside that container.
    """
    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(list(data))
    options.setdefault("width", "stretch")
    if not replay:
        _draw(frame, meanings, near, index, options)
        return
    # The key is exact: the frame's pickle holds every value, name and dtype, and the rest is spelled out.
    digest = hashlib.sha256(pickle.dumps(frame, protocol=pickle.HIGHEST_PROTOCOL)).hexdigest()
    key = repr((digest, sorted((meanings or {}).items()), sorted((near or {}).items()), index, sorted(options.items())))
    _replayed(key, frame, meanings, near, index, options)


@st.cache_resource(max_entries=128, show_spinner=False)
def _replayed(
    key: str,
    _frame: pd.DataFrame,
    _meanings: Mapping[str, str] | None,
    _near: Mapping[str, float] | None,
    _index: bool,
    _options: dict[str, Any],
) -> None:
    """``_draw`` once per ``key``: a later call with the same key replays the element Streamlit recorded here
    (the arguments after ``key`` are not hashed: ``key`` stands for them)."""
    _draw(_frame, _meanings, _near, _index, _options)


def _draw(
    frame: pd.DataFrame,
    meanings: Mapping[str, str] | None,
    near: Mapping[str, float] | None,
    index: bool,
    options: dict[str, Any],
) -> None:
    config = column_formats(frame, meanings)
    shown: pd.DataFrame | Styler = frame
    if near:
        # A Styler's text replaces every cell's (pandas would write the other floats with six decimals), so
        # every float column gets its text here: NUMBER_FORMAT's, or near its reference.
        plain = {name: _formatted for name in frame.columns if pd.api.types.is_float_dtype(frame[name])}
        shown = frame.style.format({**plain, **{name: partial(_near_digits, reference=r) for name, r in near.items()}})
    st.dataframe(shown, column_config=config, hide_index=not index, **options)


def _formatted(value: Any) -> str:
    """A cell in ``NUMBER_FORMAT`` (an empty cell stays empty)."""
    return "" if value is None or pd.isna(value) else NUMBER_FORMAT % value


def _near_digits(value: Any, reference: float) -> str:
    """A cell close to ``reference``, with the digits that tell it apart (an empty cell stays empty)."""
    return "" if value is None or pd.isna(value) else narration.near(float(value), reference, least=6)
