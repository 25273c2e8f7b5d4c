"""Numbers as the step's equations write them: plain text for a terminal, LaTeX for KaTeX on the page."""

from __future__ import annotations

import math

__all__ = ["latex", "latex_term", "plain", "plain_term"]


def plain(v: float) -> str:
    """A number for reading: 6 significant digits, no trailing zeros."""
    if not math.isfinite(v):
        return str(v)
    return f"{v:.6g}"


def plain_term(v: float) -> str:
    """``plain(v)``, in parentheses when negative, so that it can follow a + sign."""
    return f"({plain(v)})" if v < 0 else plain(v)


def latex(v: float) -> str:
    """A number for KaTeX: 6 significant digits, powers of ten written out."""
    s = plain(v)
    if "e" in s:
        mantissa, exponent = s.split("e")
        return rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return s.replace("inf", r"\infty")


def latex_term(v: float) -> str:
    """``latex(v)``, in parentheses when negative, so that it can follow a + sign."""
    return f"({latex(v)})" if v < 0 else latex(v)
