"""Every table on the page, in the page's notation: e-notation for the very small and the very large.

Streamlit prints a float column in plain decimals, so a squared error of 5e-12 read 0.000000000005 while
the rest of the page said 5e-12. ``table`` shows every float column with ``NUMBER_FORMAT`` (printf's %g
with six significant digits: 0.0162218, 4.99998, 5e-12), whole numbers as they are, and a column's meaning,
where it needs one, as its header's tooltip.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import streamlit as st

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
    index: bool = False,
    **options: Any,
) -> None:
    """``st.dataframe`` of ``data`` (a frame, or rows as dicts) in the page's notation (``column_formats``).

    The index is hidden unless ``index`` (it names the rows: w1..w10, b). ``options`` go to ``st.dataframe``.
    """
    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(list(data))
    options.setdefault("width", "stretch")
    st.dataframe(frame, column_config=column_formats(frame, meanings), hide_index=not index, **options)
