"""Streamlit's own files (its JavaScript, CSS and the page's HTML) sent gzip-compressed, compressed once.

Streamlit 1.67 serves ``/static/*`` and the page's document uncompressed on purpose: Starlette's
``GZipMiddleware`` would compress them again on every request. ``CompressOnce`` compresses each such
file the first time a browser that accepts gzip asks for it, keeps the result in memory (keyed by
path; only files that exist in Streamlit's static folder, so the cache is bounded by that folder),
and sends the same bytes to every later browser. A crowd asking for the same file at once waits for
one compression. Everything else passes through untouched: the websocket, Streamlit's other routes
(which its own middleware compresses), HEAD and range requests, and browsers that do not accept gzip.

Conditional requests keep working: the compressed copy has its own ETag (the file's, marked ``-gzip``),
and ``If-None-Match`` with it gets ``304 Not Modified``.
"""

from __future__ import annotations

import asyncio
import gzip
import os
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

LEVEL = 9  # paid once per file, so the smallest output wins
MAX_CACHE_BYTES = 64 << 20  # compressed bytes kept; beyond this, files go out as they are (never reached today)
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "application/manifest+json", "image/svg+xml")
_CONDITIONAL = (b"if-none-match", b"if-modified-since", b"if-match", b"if-unmodified-since", b"if-range")


class _Incomplete(Exception):
    """The inner app's answer ended before its whole body: not a copy to keep."""


@dataclass(frozen=True)
class Compressed:
    """One file's answer, ready to send: status 200, its headers, its gzip body."""

    headers: list[tuple[bytes, bytes]]
    body: bytes
    etag: bytes


def static_folder() -> Path:
    """The folder Streamlit serves its frontend from (``streamlit/static``)."""
    from streamlit import file_util

    return Path(file_util.get_static_dir())


def accepts_gzip(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether ``Accept-Encoding`` lists gzip without refusing it (``gzip;q=0``)."""
    for name, value in headers:
        if name == b"accept-encoding":
            for part in value.decode("latin-1").lower().split(","):
                coding, _, params = part.strip().partition(";")
                if coding.strip() == "gzip":
                    q = params.replace(" ", "").removeprefix("q=")
                    return not params or _quality(q) > 0
    return False


def _matches(etag: bytes, headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether ``If-None-Match`` names ``etag`` (weakly, as RFC 9110 compares for GET) or is ``*``."""
    strong = etag.removeprefix(b"W/")
    for name, value in headers:
        if name == b"if-none-match":
            tags = [t.strip().removeprefix(b"W/") for t in value.split(b",")]
            if strong in tags or b"*" in tags:
                return True
    return False


def _quality(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 1.0  # a malformed q is ignored, as if absent


class CompressOnce:
    """ASGI middleware: Streamlit's static files gzip-compressed once per process (see the module docstring).

    ``folder`` is the static folder (Streamlit's by default); ``base_url`` the ``server.baseUrlPath``
    prefix (read from Streamlit's config at the first request when None).
    """

    def __init__(self, app: ASGIApp, folder: Path | None = None, base_url: str | None = None) -> None:
        self.app = app
        self._folder = folder
        self._base = base_url
        self._cache: dict[str, Compressed | None] = {}  # path -> answer (None: send as is)
        self._pending: dict[str, asyncio.Future[Compressed | None]] = {}
        self._bytes = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = self._path(scope) if scope["type"] == "http" and scope.get("method") == "GET" else None
        headers = scope.get("headers", []) if path else []
        if path is None or not accepts_gzip(headers) or any(name == b"range" for name, _ in headers):
            await self.app(scope, receive, send)
            return
        answer = self._cache[path] if path in self._cache else await self._compress(path, scope)
        if answer is None:
            await self.app(scope, receive, send)
            return
        if _matches(answer.etag, headers):
            await send({"type": "http.response.start", "status": 304, "headers": [(b"etag", answer.etag)]})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": 200, "headers": answer.headers})
        await send({"type": "http.response.body", "body": answer.body})

    def _path(self, scope: Scope) -> str | None:
        """The request's path inside the app when it names a file of the static folder, else None."""
        if self._folder is None:
            self._folder = static_folder()
        if self._base is None:
            from streamlit import config

            self._base = str(config.get_option("server.baseUrlPath") or "")
        path: str = scope.get("path", "")
        for prefix in (scope.get("root_path", ""), "/" + self._base.strip("/")):
            if prefix not in ("", "/") and (path == prefix or path.startswith(prefix + "/")):
                path = path[len(prefix) :] or "/"
        if path == "/":
            return path if (self._folder / "index.html").is_file() else None
        if not path.startswith("/static/") or ".." in path or "\\" in path or "//" in path:
            return None
        file = self._folder / path[1:]
        return path if file.is_file() and os.path.realpath(file).startswith(os.path.realpath(self._folder)) else None

    async def _compress(self, path: str, scope: Scope) -> Compressed | None:
        """The compressed answer for ``path``, made once however many requests ask at the same time."""
        pending = self._pending.get(path)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Compressed | None] = asyncio.get_running_loop().create_future()
        self._pending[path] = future
        try:
            try:
                answer = await self._make(scope)
            except _Incomplete:  # sent as is this time, tried again by the next request
                future.set_result(None)
                return None
            if answer is not None and self._bytes + len(answer.body) > MAX_CACHE_BYTES:
                answer = None
            if answer is not None:
                self._bytes += len(answer.body)
            self._cache[path] = answer
            future.set_result(answer)
            return answer
        except BaseException as error:  # the inner app failed: nothing is cached, the next request tries again
            future.set_exception(error)
            future.exception()  # marks it retrieved when nobody else waits
            raise
        finally:
            del self._pending[path]

    async def _make(self, scope: Scope) -> Compressed | None:
        """Ask the inner app for the whole file (unconditionally) and compress it, off the event loop.

        The copy is for every browser, so the inner app never hears the first asker's disconnect (Starlette
        stops streaming a file when its client leaves); an answer that still arrives incomplete (fewer bytes
        than its Content-Length, or no final body message) is sent as is and never cached.
        """
        plain = {**scope, "headers": [(n, v) for n, v in scope.get("headers", []) if n not in _CONDITIONAL]}
        start: Message = {}
        chunks: list[bytes] = []
        finished = asked = False

        async def request() -> Message:  # the request once, then no disconnect until the file is read
            nonlocal asked
            if asked:
                await asyncio.Event().wait()
            asked = True
            return {"type": "http.request", "body": b"", "more_body": False}

        async def keep(message: Message) -> None:
            nonlocal finished
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(bytes(message.get("body", b"")))
                finished = not message.get("more_body", False)

        await self.app(plain, request, keep)
        headers = [(n.lower(), v) for n, v in start.get("headers", [])]
        kind = next((v.decode("latin-1") for n, v in headers if n == b"content-type"), "")
        if start.get("status") != 200 or any(n == b"content-encoding" for n, _ in headers):
            return None
        length = next((v for n, v in headers if n == b"content-length"), None)
        if not finished or (length is not None and length.strip().isdigit() and int(length) != sum(map(len, chunks))):
            raise _Incomplete
        if not kind.startswith(COMPRESSIBLE):
            return None
        body = await asyncio.to_thread(gzip.compress, b"".join(chunks), LEVEL, mtime=0)
        etag = next((v for n, v in headers if n == b"etag"), b'"lucky5"')
        etag = etag.rstrip(b'"') + b'-gzip"'
        # set-cookie: never one browser's for all; accept-ranges: a range of the gzip body is not offered
        dropped = (b"content-length", b"etag", b"vary", b"set-cookie", b"accept-ranges")
        kept = [(n, v) for n, v in headers if n not in dropped]
        kept += [
            (b"content-encoding", b"gzip"),
            (b"content-length", str(len(body)).encode()),
            (b"etag", etag),
            (b"vary", b"Accept-Encoding"),
        ]
        return Compressed(kept, body, etag)
