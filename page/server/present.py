"""The presenter's key never rides in an address: the one-time link ``/p/TOKEN`` and ``Referrer-Policy``.

A room's wall shows its presenter a private link on request (``page.room.presenter``). It carries no key, only a
one-time token (``lucky5.room``'s stores: ``issue_token`` / ``redeem_token``). Opening it here:

- ``GET /p/TOKEN``: the token is exchanged for the key, once (a second use is refused with a page saying so),
  and the answer sets the key in an HttpOnly cookie (page scripts cannot read it; SameSite=Strict; Secure when
  the request came over https) and sends the browser to ``?room=CODE`` (303: the token's address is replaced,
  not kept as a page to return to). ``?room=new`` goes through the same door, so a new room's key is never
  written by a script either.

**How https is detected behind a proxy**: by the request's scheme as uvicorn (under Streamlit's ``st.App``)
reports it. uvicorn takes ``X-Forwarded-Proto`` (and ``X-Forwarded-For``) only from the proxies it trusts:
127.0.0.1 and ::1 by default, others through the ``FORWARDED_ALLOW_IPS`` environment variable. So nginx on
the same machine (the README's) that sets ``X-Forwarded-Proto $scheme`` makes the cookie Secure; a header
sent by anyone else is ignored.

``NoReferrer``: every answer of this server says ``Referrer-Policy: no-referrer``, so no request a page makes
(scripts, images, links followed) tells another server, or this one, the address it came from.
"""

from __future__ import annotations

import html
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lucky5.room import RoomError
from lucky5.room import shared_store as store

from .phone import in_store

KEY_COOKIE = "lucky5_room_key_"  # + the room's code: the presenter's key, kept by their browser
# Longer than any talk day, so a room kept alive by an open wall never outlives its cookie; a cookie that
# outlives its room is harmless (the code is unknown, or a new room under it has another key).
COOKIE_SECONDS = 7 * 24 * 3600
PATH = "/p/"  # + the token
EMBED_PARAMS = ("embed", "embed_options")  # Streamlit's display flags, passed on to the room's address
STATUS = {"used_token": 410, "unknown_token": 404, "unknown": 404, "bad_code": 404, "unavailable": 503}
REFUSED = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>lucky5 · presenter link</title>
<style>body { font: 18px/1.5 system-ui, sans-serif; max-width: 36rem; margin: 3rem auto; padding: 0 1rem; }</style>
</head><body><h1>This presenter link does not open the room</h1><p>MESSAGE</p></body></html>"""


async def enter(request: Request) -> Response:
    """Exchange the token for the key: an HttpOnly cookie and a redirect to the room, or a page saying why not."""
    try:
        code, key = await in_store(lambda: store().redeem_token(request.path_params["token"]))
    except RoomError as err:
        page = REFUSED.replace("MESSAGE", html.escape(str(err)))
        return HTMLResponse(page, status_code=STATUS.get(err.reason, 400), headers={"Cache-Control": "no-store"})
    # Relative to this route, so a server under a path prefix sends the browser to its own page; a wall opened
    # embedded (Streamlit's display flags) stays embedded.
    kept = [(name, value) for name, value in request.query_params.multi_items() if name in EMBED_PARAMS]
    reply = RedirectResponse(
        "../?" + urlencode([("room", code), *kept]), status_code=303, headers={"Cache-Control": "no-store"}
    )
    reply.set_cookie(
        KEY_COOKIE + code,
        key,
        max_age=COOKIE_SECONDS,
        path="/",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )
    return reply


def routes() -> list[Route]:
    """The presenter link's route."""
    return [Route(PATH + "{token}", enter)]


class NoReferrer:
    """ASGI middleware: ``Referrer-Policy: no-referrer`` on every HTTP answer (websockets pass untouched)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"referrer-policy"]
                message = {**message, "headers": [*headers, (b"referrer-policy", b"no-referrer")]}
            await send(message)

        await self.app(scope, receive, send_with_policy)
