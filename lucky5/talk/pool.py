"""Each repeated array stored once: the data of scenes that share a run travels once in the talk file.

The talk's figures come from ``lucky5.figures`` as JSON documents. Scenes that show the same run repeat arrays
(the weight bars of every frame, the loss curve, the epoch axis); ``share`` moves every array that occurs more
than once into a pool and leaves a reference ``{"@": index}`` in its place, and ``resolve`` (and the talk's own
JavaScript, ``player.js``) puts them back. The figures themselves are never rebuilt by hand: what is shared is
whatever ``lucky5.figures`` drew.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

REF = "@"  # the one key of a reference; no Plotly attribute is called "@"
MIN_CHARS = 24  # an array shorter than this as JSON costs less inline than a reference and its pool entry


def _key(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def _leaf(value: Any) -> bool:
    """An array of plain values (a list of numbers, strings or nulls), or Plotly's typed array ``{dtype, bdata}``."""
    if isinstance(value, list):
        return bool(value) and not any(isinstance(v, list | dict) for v in value)
    return isinstance(value, dict) and "bdata" in value and not any(isinstance(v, list | dict) for v in value.values())


def _walk(value: Any, visit) -> Any:
    if _leaf(value):
        return visit(value)
    if isinstance(value, list):
        return [_walk(v, visit) for v in value]
    if isinstance(value, dict):
        if list(value) == [REF]:
            raise ValueError(f"a document already holds a reference-shaped dict {{{REF!r}: ...}}")
        return {k: _walk(v, visit) for k, v in value.items()}
    return value


def share(documents: Sequence[Any]) -> tuple[list[Any], list[Any]]:
    """``(pool, documents)``: every array that occurs twice or more (anywhere in ``documents``) once in ``pool``,
    and each occurrence replaced by ``{"@": its index}``. Arrays seen once stay where they are.

    ``documents`` are JSON values (dicts, lists, str, int, float, bool, None; no NaN). ``resolve`` undoes it:
    ``[resolve(d, pool) for d in shared] == list(documents)``.

    Raises:
        ValueError: if a document holds a dict whose only key is ``"@"`` (it would read as a reference).
    """
    counts: Counter[str] = Counter()

    def count(leaf: Any) -> Any:
        counts[_key(leaf)] += 1
        return leaf

    for d in documents:
        _walk(d, count)
    index: dict[str, int] = {}
    pool: list[Any] = []

    def replace(leaf: Any) -> Any:
        key = _key(leaf)
        if counts[key] < 2 or len(key) < MIN_CHARS:
            return leaf
        if key not in index:
            index[key] = len(pool)
            pool.append(leaf)
        return {REF: index[key]}

    return pool, [_walk(d, replace) for d in documents]


def resolve(document: Any, pool: Sequence[Any]) -> Any:
    """``document`` with every ``{"@": i}`` replaced by ``pool[i]`` (what the talk's JavaScript does)."""
    if isinstance(document, list):
        return [resolve(v, pool) for v in document]
    if isinstance(document, dict):
        if list(document) == [REF]:
            return pool[document[REF]]
        return {k: resolve(v, pool) for k, v in document.items()}
    return document


__all__ = ["MIN_CHARS", "REF", "resolve", "share"]
