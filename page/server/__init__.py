"""What lucky5 adds to Streamlit's web server (``st.App`` in ``app.py``): its own routes and middleware.

Streamlit's server answers the page; these run beside it in the same process, outside any script run:
- ``compress.CompressOnce``: Streamlit's JavaScript, CSS and HTML sent gzip-compressed, compressed once;
- ``phone``: the light phone of a room (``/j/CODE``), with ``hub`` (one shared event stream per room) and
  ``checker`` (each run a phone trained itself, replayed in the background);
- ``present``: the presenter's one-time link ``/p/TOKEN`` (the key into an HttpOnly cookie) and ``NoReferrer``.
"""

from __future__ import annotations

from typing import Any

from starlette.middleware import Middleware

from . import phone, present
from .compress import CompressOnce


def middleware() -> list[Middleware]:
    """The middleware ``st.App`` runs before Streamlit's own (outermost first)."""
    return [Middleware(present.NoReferrer), Middleware(CompressOnce)]


def routes() -> list[Any]:
    """lucky5's own routes beside Streamlit's (none may start with /_stcore/, /media/, /component/, /static/)."""
    return phone.routes() + present.routes()
