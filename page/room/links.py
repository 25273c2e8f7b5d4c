"""The room pages' links, their address bar and the cookies that keep a presenter's key and a phone's id.

The presenter's key is a secret: it lives in the session's state and in an HttpOnly cookie of the presenter's
browser (so that a reload of the wall keeps the stage buttons; page scripts cannot read it). It never goes into
a link, the QR code or the address bar: the private link (``presenter_link``) carries a one-time token, and
``enter`` sends the browser through it; the server's ``/p/TOKEN`` (``page.server.present``) sets the cookie.

The room pages rewrite the address bar with ``replace_address`` (the browser's ``history.replaceState``),
never with ``st.query_params``, whose writes push a history entry: Back then met ``?room=new`` again (a new
room) or the phone's address without its id, and a key link stayed one Back away.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from html import escape
from urllib.parse import urlencode, urlsplit

import streamlit as st

from ..server import present
from ..text import literal

NEW = "new"  # ?room=new starts a room
KEY_COOKIE = present.KEY_COOKIE  # + the room's code: the presenter's key, set HttpOnly by the server's /p/TOKEN
COOKIE_SECONDS = present.COOKIE_SECONDS
ME_COOKIE = "lucky5_room_me_"  # + the room's code: a phone's participant id, so a re-scan in it is the same phone
# Streamlit's own display flags: a page opened embedded stays embedded through joining, a reload or a reconnect.
EMBED_PARAMS = present.EMBED_PARAMS
EMBEDDED_JS = (  # "&embed=true..." for this page's own EMBED_PARAMS, or ""
    f"[...new URLSearchParams(location.search)].filter(([k]) => {json.dumps(list(EMBED_PARAMS))}.includes(k))"
    '.map(([k, v]) => "&" + new URLSearchParams([[k, v]])).join("")'
)
REPLACE_JS = (
    f"<script>history.replaceState(history.state, '', location.pathname + QUERY + {EMBEDDED_JS} + location.hash);"
    "</script>"
)
COOKIE_JS = "<script>document.cookie = COOKIE;</script>"
# A browser that refuses this site's cookies: a blocked cookie is neither kept nor sent, and a script's write is
# ignored. (``navigator.cookieEnabled`` stays true in Chromium when only this site is blocked.) A write that does
# not read back is tried twice more, 0.5 s and 1 s later, before the browser is called refusing: one read missed
# on a busy machine must not send a presenter down the cookieless path. WHEN_COOKIES_JS(then) calls then(kept).
WHEN_COOKIES_JS = (
    "((then) => { const kept = () => { document.cookie = 'lucky5_cookie_check=1; max-age=60; path=/; "
    "samesite=strict'; return document.cookie.split('; ').includes('lucky5_cookie_check=1'); }; let tries = 0; "
    "const check = () => kept() ? then(true) : ++tries < 3 ? setTimeout(check, 500 * tries) : then(false); "
    "check(); })"
)
NO_COOKIES = "lucky5-no-cookies"  # the body's class on a page whose browser refuses this site's cookies


def base_url() -> str:
    """This page's address without its query (the links below are built on it)."""
    return (st.context.url or "http://localhost:8501/").split("?")[0].split("#")[0]


def local_only(url: str) -> bool:
    """True when ``url``'s host is this computer's loopback name (``localhost``, 127.x.x.x, ``::1``): a phone
    that opens it reaches itself, not this server."""
    host = urlsplit(url).hostname or ""
    return host == "localhost" or host.endswith(".localhost") or host == "::1" or host.startswith("127.")


def loopback_warning(url: str, *, markdown: bool = True) -> str | None:
    """What to tell whoever shows links or QR codes built on ``url`` (the wall, the presenter's stage, the
    offline talk) when phones cannot open it (``local_only``); None when they can. Markdown-safe, or with
    ``markdown=False`` plain text (for a scene's sentences, which are escaped where shown, and the offline file)."""
    if not local_only(url):
        return None
    host = urlsplit(url).hostname or url
    return (
        f"Phones cannot open {literal(host) if markdown else host}: it is this computer's own address. Open the "
        "Network URL Streamlit printed (or start it with --server.address set to your Wi-Fi address)."
    )


def join_link(code: str) -> str:
    """The Streamlit page of a participant, ``BASE?join=CODE``: the fallback where ``/j/CODE`` cannot be reached."""
    return base_url() + "?" + urlencode({"join": code})


def light_link(code: str) -> str:
    """The short link a participant opens: ``BASE/j/CODE``, the light phone (``page.server.phone``); nothing secret."""
    return base_url().rstrip("/") + "/j/" + code


def link_html(link: str) -> str:
    """``link`` shown exactly (escaped, never a live link), with a break allowed only after each "/" of its path.

    A code block wraps an address anywhere, "192.168.1" on one line and "7:8501" on the next: the hall types
    what it sees. Here "http://host:port/" stays whole, then "j/", then the code.
    """
    scheme, _, rest = link.partition("://")
    shown = "/<wbr>".join(escape(part) for part in rest.split("/"))
    return f'<div class="lucky5-link"><code>{escape(scheme)}://{shown}</code></div>'


def presenter_link(token: str) -> str:
    """The presenter's private link into a room from another browser or device: ``BASE/p/TOKEN``, which works
    once (``page.server.present``). It carries no key and no code."""
    return base_url().rstrip("/") + present.PATH + token


def replace_address(params: Mapping[str, str]) -> None:
    """Show ``params`` as the address bar's query, replacing the current history entry instead of adding one.

    Streamlit's ``embed`` and ``embed_options`` (``EMBED_PARAMS``; ``st.query_params`` never shows them) stay.
    Only for values this page made or checked (a room code, a participant id): they go into a script.
    """
    query = json.dumps("?" + urlencode(params))  # urlencode leaves no quote, '<' or '/' for the script to trip on
    st.html(REPLACE_JS.replace("QUERY", query), unsafe_allow_javascript=True)


def enter(token: str, code: str) -> None:
    """Load ``/p/TOKEN`` in place of this page: the server keeps the key in an HttpOnly cookie and loads
    ``?room=CODE``. Not a history entry: Back never meets ``?room=new`` or a key link again.

    A real load, not just the address bar: Streamlit reruns a reconnected or restarted session with the query
    the page was *loaded* with, which ``replace_address`` does not change. Only for a token this page made.

    A browser that refuses this site's cookies would lose the key on the way (the cookie is its only way
    back): it stays on this page instead, which keeps the key in its session, shows ``?room=CODE`` in the
    address bar and marks the page ``NO_COOKIES`` for ``refused_cookies_notice`` to say why.
    """
    target = json.dumps(present.PATH.lstrip("/") + token)
    embedded = f"{EMBEDDED_JS}.replace('&', '?')"  # the server passes EMBED_PARAMS on to the room's address
    query = json.dumps("?" + urlencode({"room": code}))
    script = (
        f"<script>{WHEN_COOKIES_JS}(kept => {{ if (kept) location.replace(location.pathname.replace(/\\/?$/, '/') + "
        f"{target} + {embedded}); else {{ document.body.classList.add('{NO_COOKIES}'); "
        f"history.replaceState(history.state, '', location.pathname + {query} + {EMBEDDED_JS} + location.hash); }} }});"
        "</script>"
    )
    st.html(script, unsafe_allow_javascript=True)


def check_cookies() -> None:
    """Mark the page ``NO_COOKIES`` when this browser refuses this site's cookies (what ``enter`` does first)."""
    st.html(
        f"<script>{WHEN_COOKIES_JS}(kept => {{ if (!kept) document.body.classList.add('{NO_COOKIES}'); }});</script>",
        unsafe_allow_javascript=True,
    )


def keep(prefix: str, code: str, value: str) -> None:
    """Ask this browser to keep ``value`` for room ``code`` in a strict same-site cookie (``COOKIE_SECONDS``).

    For ``ME_COOKIE`` (a phone's participant id), never for the key (``enter``): only for values this page made
    or checked, they go into a script.
    """
    cookie = f"{prefix}{code}={value}; max-age={COOKIE_SECONDS}; path=/; samesite=strict"
    st.html(COOKIE_JS.replace("COOKIE", json.dumps(cookie)), unsafe_allow_javascript=True)


def kept(prefix: str, code: str) -> str | None:
    """What this browser kept for room ``code`` under ``prefix`` (``keep``, or ``KEY_COOKIE``), if anything."""
    value = st.context.cookies.get(prefix + code)
    return value if isinstance(value, str) else None  # a cookie is text (a test's stand-in may be anything)


def kept_keys(limit: int = 8) -> list[tuple[str, str]]:
    """(code, key) of the rooms whose key this browser keeps (``KEY_COOKIE`` cookies), at most ``limit``: a stale
    or forged one included (check it with the store)."""
    found = []
    for name, value in st.context.cookies.items():
        if isinstance(name, str) and name.startswith(KEY_COOKIE) and isinstance(value, str):
            found.append((name.removeprefix(KEY_COOKIE), value))
    return found[:limit]


def load(params: Mapping[str, str]) -> None:
    """Load this page again with ``params`` as its query, in place of this history entry (a real load: a
    reconnect reruns the query a page was loaded with). Only for values this page made or checked."""
    query = json.dumps("?" + urlencode(params))
    st.html(
        f"<script>location.replace(location.pathname + {query} + {EMBEDDED_JS});</script>", unsafe_allow_javascript=True
    )
