"""page.server.compress: Streamlit's static files go out gzip-compressed, compressed once per process.

The inner app is Starlette's real ``StaticFiles`` over a folder of this test (the shape of Streamlit's
static folder), driven through raw ASGI calls; the oracle is the file itself (``gzip.decompress`` of what
is sent must be its bytes). The last test asks the real ``streamlit run app.py`` server over HTTP.
"""

from __future__ import annotations

import asyncio
import gzip
import os
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from bench.harness import StreamlitServer
from page.server.compress import CompressOnce, accepts_gzip

JS = b"function lucky(n) { return n === 5; }\n" * 400
GZIP = [(b"accept-encoding", b"gzip, deflate, br")]


class Counting:
    """The inner app, counting the requests that reach it."""

    def __init__(self, app: Any) -> None:
        self.app, self.calls = app, 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.calls += 1
        await self.app(scope, receive, send)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "static" / "js").mkdir(parents=True)
    (tmp_path / "static" / "js" / "index.abc.js").write_bytes(JS)
    (tmp_path / "static" / "logo.png").write_bytes(os.urandom(3000))
    (tmp_path / "index.html").write_bytes(b"<!doctype html><title>lucky5</title>" + b"<p>5</p>" * 300)
    (tmp_path / "secret.txt").write_bytes(b"outside static/")
    return tmp_path


@pytest.fixture
def served(folder: Path) -> tuple[CompressOnce, Counting]:
    inner = Counting(Starlette(routes=[Mount("/", StaticFiles(directory=folder, html=True))]))
    return CompressOnce(inner, folder=folder, base_url=""), inner


def call(app: Any, path: str, headers: list[tuple[bytes, bytes]] = (), kind: str = "http", method: str = "GET"):  # type: ignore[assignment]
    """One request through ``app``: (status, headers as a dict, body)."""
    return asyncio.run(_call(app, path, list(headers), kind, method))


async def _call(app: Any, path: str, headers: list, kind: str, method: str) -> tuple[int, dict, bytes]:
    scope = {"type": kind, "method": method, "path": path, "root_path": "", "headers": headers, "query_string": b""}
    scope.update({"http_version": "1.1", "scheme": "http", "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 1)})
    sent: list[dict] = []
    requested = False

    async def receive() -> dict:  # the request once, then nothing until the (never coming) disconnect
        nonlocal requested
        if requested:
            await asyncio.Event().wait()
        requested = True
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body


def test_a_static_file_goes_out_gzip_compressed_and_unpacks_to_the_file(served: Any) -> None:
    app, _ = served
    status, headers, body = call(app, "/static/js/index.abc.js", GZIP)
    assert status == 200 and headers["content-encoding"] == "gzip" and headers["vary"] == "Accept-Encoding"
    assert gzip.decompress(body) == JS and int(headers["content-length"]) == len(body) < len(JS) / 10
    assert "accept-ranges" not in headers


def test_each_file_is_compressed_once_however_many_ask_at_once(served: Any) -> None:
    app, inner = served

    async def crowd() -> list:
        return await asyncio.gather(*(_call(app, "/static/js/index.abc.js", GZIP, "http", "GET") for _ in range(50)))

    answers = asyncio.run(crowd())
    assert inner.calls == 1
    assert {body for _, _, body in answers} == {answers[0][2]} and gzip.decompress(answers[0][2]) == JS
    call(app, "/static/js/index.abc.js", GZIP)
    assert inner.calls == 1
    status, headers, body = call(app, "/", GZIP)  # the page's document too
    assert status == 200 and headers["content-encoding"] == "gzip" and b"<title>lucky5" in gzip.decompress(body)


def test_what_is_not_a_compressible_static_file_passes_through_untouched(served: Any, folder: Path) -> None:
    app, inner = served
    for headers in ([], [(b"accept-encoding", b"br")], [(b"accept-encoding", b"gzip;q=0, br")]):
        status, got, body = call(app, "/static/js/index.abc.js", headers)
        assert status == 200 and "content-encoding" not in got and body == JS, headers
    status, got, body = call(app, "/static/logo.png", GZIP)  # already compressed data
    assert "content-encoding" not in got and body == (folder / "static" / "logo.png").read_bytes()
    status, got, body = call(app, "/static/js/index.abc.js", [*GZIP, (b"range", b"bytes=0-9")])
    assert status == 206 and body == JS[:10]
    for path in ("/static/missing.js", "/static/../secret.txt", "/secret.txt", "/static//js/index.abc.js"):
        before = inner.calls
        status, got, _ = call(app, path, GZIP)
        assert inner.calls == before + 1 and "content-encoding" not in got, path
    assert set(app._cache) == {"/static/logo.png"}  # only real files are ever cached (logo: as "send as is")
    status, got, body = call(app, "/static/js/index.abc.js", GZIP, method="HEAD")
    assert "content-encoding" not in got


def test_the_websocket_is_never_touched(served: Any) -> None:
    app, inner = served
    seen: list[Any] = []

    async def socket(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope)

    app.app = socket
    scope = {"type": "websocket", "path": "/_stcore/stream", "headers": GZIP}
    asyncio.run(app(scope, None, None))
    assert seen == [scope]


def test_a_revalidation_with_the_compressed_etag_gets_304(served: Any) -> None:
    app, inner = served
    _, headers, _ = call(app, "/", GZIP)
    etag = headers["etag"].encode()
    assert etag.endswith(b'-gzip"')
    status, _, body = call(app, "/", [*GZIP, (b"if-none-match", etag)])
    assert status == 304 and body == b""
    status, _, body = call(app, "/", [*GZIP, (b"if-none-match", b'"something-else"')])
    assert status == 200 and body


@pytest.mark.parametrize(
    ("header", "expected"),
    [(b"gzip", True), (b"GZip, br", True), (b"br;q=1, gzip;q=0.5", True), (b"gzip;q=0", False), (b"br", False)],
)
def test_accept_encoding(header: bytes, expected: bool) -> None:
    assert accepts_gzip([(b"accept-encoding", header)]) is expected


@pytest.mark.slow
def test_the_real_server_sends_streamlits_bundles_compressed(page_server: StreamlitServer) -> None:
    index = urllib.request.urlopen(page_server.url, timeout=30).read()
    script = index.split(b'src="./', 1)[1].split(b'"', 1)[0].decode()  # Streamlit's entry bundle
    plain = urllib.request.urlopen(page_server.url + script, timeout=30).read()
    request = urllib.request.Request(page_server.url + script, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(response.read()) == plain and len(plain) > 100_000


def test_a_browser_that_leaves_mid_file_does_not_leave_a_cut_copy_for_everyone(served: Any, folder: Path) -> None:
    # Starlette stops streaming a file when its client disconnects; under load a browser that reloads or
    # navigates away while the first copy is made must not leave a truncated bundle cached for every later
    # browser (a cut JavaScript module breaks the whole page: "does not provide an export named ...").
    big = os.urandom(200_000).hex().encode()  # several of StaticFiles' 64 KiB chunks
    (folder / "static" / "js" / "big.js").write_bytes(big)
    app, _ = served

    async def leaver() -> None:
        scope = {"type": "http", "method": "GET", "path": "/static/js/big.js", "root_path": "", "headers": GZIP}
        scope.update({"http_version": "1.1", "scheme": "http", "server": ("127.0.0.1", 80), "query_string": b""})
        messages = iter([{"type": "http.request", "body": b"", "more_body": False}])

        async def receive() -> dict:  # the request, then the client is gone
            return next(messages, {"type": "http.disconnect"})

        async def send(message: dict) -> None:
            await asyncio.sleep(0)

        await app(scope, receive, send)

    asyncio.run(leaver())
    status, headers, body = call(app, "/static/js/big.js", GZIP)
    assert status == 200
    whole = gzip.decompress(body) if headers.get("content-encoding") == "gzip" else body
    assert whole == big
