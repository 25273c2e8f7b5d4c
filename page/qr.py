"""A link's QR code, or a plain note when the link is too long for any QR code.

A page served under a long path makes long links, and ``segno`` refuses data beyond a QR code's largest version
(``DataOverflowError``): every QR code of the page (the room's join link, the presenter view's scene link, the
tools' share link) is drawn here, so none of them can crash a page that already did its work.
"""

from __future__ import annotations

from typing import Any

import segno
import streamlit as st

from . import runtime


def qr(link: str, scale: int, *, width: Any, alt: str, caption: str | None = None, where: Any = st) -> bool:
    """Draw ``link``'s QR code (``runtime.qr_png`` at ``scale``) with ``where.image``; False when the link is too
    long for one, after a note saying so (the link itself is shown by the callers, as text)."""
    try:
        png = runtime.qr_png(link, scale)
    except segno.DataOverflowError:
        where.warning(
            f"This link is too long for a QR code ({len(link):,} characters). Open this page at a shorter "
            "address (the server's own, without the long path) for a QR code that phones can scan."
        )
        return False
    where.image(png, width=width, alt=alt, caption=caption)
    return True
