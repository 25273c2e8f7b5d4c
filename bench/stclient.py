"""A minimal client of Streamlit's browser websocket protocol, for load and isolation tests.

It speaks to a real ``streamlit run`` server as the browser's frontend does (the same messages in
the same order), with the protobuf classes Streamlit ships (``BackMsg``, ``ForwardMsg``) over the
``websockets`` package (a dependency of Streamlit itself since its server moved to Starlette and
uvicorn; tornado is no longer installed with Streamlit 1.67):

1. ``GET /_stcore/health`` and ``GET /_stcore/host-config``, as the frontend does before it connects;
2. a websocket to ``ws://HOST:PORT/_stcore/stream`` offering the subprotocol ``streamlit`` (the
   frontend passes its session tokens as further entries of that header; a fresh session needs none);
3. one ``BackMsg.rerun_script`` (a ``ClientState``: query string, page script hash, widget states,
   the hashes of the messages this client has cached, browser context): the server never runs
   the script on its own after a connect;
4. ``ForwardMsg``s until ``script_finished`` with a final status: ``new_session`` starts each run,
   ``delta``s add elements at a ``delta_path``, ``ref_hash`` messages stand for a message this client
   announced as cached (large ``cacheable`` elements), and the stale elements of older runs are
   dropped when a run finishes, as the frontend drops them.

What it is not: a browser. It runs no JavaScript, loads no static assets, renders nothing, sends
no heartbeats (runs here are short) and keeps only what a test needs of the page: the text of its
text-like elements, the exceptions it shows and the widgets' ids. Loopback use only.

    async with Session(port) as session:
        first = await session.run("seed=3")
        first.fingerprint, first.ok, first.seconds
        second = await session.run("seed=4&lr=0.05")
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.Element_pb2 import Element
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import ClientConnection, connect

FINGERPRINT = re.compile(r"Run fingerprint:\W*([0-9a-f]{12})\b")
STREAM_PATH = "/_stcore/stream"
MAX_MESSAGE_BYTES = 256 * 1024 * 1024  # above Streamlit's default server.maxMessageSize (200 MB)
FINISHED_EARLY = ForwardMsg.ScriptFinishedStatus.FINISHED_EARLY_FOR_RERUN
FINISHED_FRAGMENT = ForwardMsg.ScriptFinishedStatus.FINISHED_FRAGMENT_RUN_SUCCESSFULLY
FINISHED_OK = ForwardMsg.ScriptFinishedStatus.FINISHED_SUCCESSFULLY
# Which field of which element type holds text a reader sees.
_TEXT_FIELDS = {
    "markdown": ("body",),  # st.markdown, st.write of text, st.caption, st.latex
    "text": ("body",),
    "heading": ("body",),  # st.title, st.header, st.subheader
    "alert": ("body",),  # st.info, st.warning, st.error, st.success
    "metric": ("label", "body"),
    "code": ("code_text",),
    "exception": ("type", "message"),
}


class ProtocolError(RuntimeError):
    """The server sent something a browser's frontend would also refuse (e.g. an unknown ref_hash)."""


@dataclass
class RunResult:
    """One script run as this client saw it, from the request to ``script_finished``."""

    query_string: str
    status: str = "NOT_FINISHED"  # a ForwardMsg.ScriptFinishedStatus name
    seconds: float = 0.0  # from the start of the request (or of the connect, for the first run) to script_finished
    texts: list[str] = field(default_factory=list)  # text of every text-like element, in page order
    exceptions: list[str] = field(default_factory=list)  # "Type: message" of every st.exception / uncaught error
    messages: int = 0  # ForwardMsgs received during this run
    bytes: int = 0  # their size on the wire (after any websocket decompression)
    cache_hits: int = 0  # ref_hash messages resolved from this client's cache

    @property
    def ok(self) -> bool:
        """Finished successfully and shows no exception."""
        return self.status == "FINISHED_SUCCESSFULLY" and not self.exceptions

    @property
    def fingerprint(self) -> str | None:
        """The 12 hex digits after ``Run fingerprint:`` in the page's text, if shown exactly once."""
        found = {m.group(1) for text in self.texts for m in FINGERPRINT.finditer(text)}
        return found.pop() if len(found) == 1 else None

    def problem(self) -> str | None:
        """Why this run is not a good render, in a few words; None when it is."""
        if self.status != "FINISHED_SUCCESSFULLY":
            return f"script {self.status}"
        if self.exceptions:
            return "page shows an exception: " + self.exceptions[0][:200]
        return None


async def http_get(host: str, port: int, path: str, timeout: float = 10.0) -> tuple[int, bytes]:
    """A one-shot HTTP/1.1 GET (``Connection: close``): status code and body. No redirects, no TLS."""

    async def fetch() -> tuple[int, bytes]:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
            await writer.drain()
            raw = await reader.read()  # to EOF: the server closes after the response
        finally:
            writer.close()
        head, _, body = raw.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
        if b"transfer-encoding: chunked" in head.lower():
            body = _unchunk(body)
        return status, body

    return await asyncio.wait_for(fetch(), timeout)


def _unchunk(body: bytes) -> bytes:
    out, rest = b"", body
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out, rest = out + rest[:size], rest[size + 2 :]
    return out


class Session:
    """One browser tab's session: connect, run the page, rerun it, close.

    ``run`` may be called several times; each call waits for its run to finish (or raises
    ``TimeoutError`` after ``timeout`` seconds, ``websockets.exceptions.ConnectionClosed`` when the
    server drops the connection, ``ProtocolError`` on a message the frontend would refuse).
    """

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 60.0, preflight: bool = True) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("this client is for loopback servers only")
        self.host, self.port, self.timeout, self.preflight = host, port, timeout, preflight
        self._ws: ClientConnection | None = None
        self._connect_started: float | None = None
        self._page_script_hash = ""  # the frontend sends "" until new_session names the page
        self._run_id = ""  # script_run_id of the run in progress (from its new_session)
        self._page: dict[tuple[int, ...], tuple[str, Element]] = {}  # delta_path -> (run id, element)
        self._widgets: dict[str, WidgetState] = {}  # widget values this client has set, sent with every rerun
        self._cache: dict[str, tuple[ForwardMsg, int]] = {}  # hash -> (message, run count when last used)
        self._runs_finished = 0
        self._max_cached_age = 2  # the server's global.maxCachedMessageAge, from new_session

    async def __aenter__(self) -> Session:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def connect(self) -> None:
        """Health check, host config, then the websocket handshake; the clock of the first run starts here."""
        self._connect_started = time.perf_counter()

        async def handshake() -> None:
            if self.preflight:
                for path in ("/_stcore/health", "/_stcore/host-config"):
                    status, body = await http_get(self.host, self.port, path, self.timeout)
                    if status != 200:
                        raise ConnectionError(f"GET {path} answered {status}: {body[:80]!r}")
            self._ws = await connect(
                f"ws://{self.host}:{self.port}{STREAM_PATH}",
                subprotocols=["streamlit"],
                max_size=MAX_MESSAGE_BYTES,
                ping_interval=None,  # the browser sends no protocol pings; a busy server must not fail ours
                open_timeout=None,  # bounded by the wait_for below
            )

        await asyncio.wait_for(handshake(), self.timeout)

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
            self._ws = None

    def set_widget(self, state: WidgetState) -> None:
        """Set a widget's value (a ``WidgetState`` with its ``id`` and one value field) for the next reruns."""
        self._widgets[state.id] = state

    def widget_ids(self) -> dict[str, str]:
        """Label -> id of every widget on the page now (for ``set_widget``)."""
        out = {}
        for _, element in self._page.values():
            kind = element.WhichOneof("type")
            proto = getattr(element, kind) if kind else None
            if proto is not None and hasattr(proto, "id") and hasattr(proto, "label") and proto.id:
                out[proto.label] = proto.id
        return out

    async def run(self, query_string: str = "", timeout: float | None = None) -> RunResult:
        """Request a run of the page with this query string (no leading '?') and wait for it to finish.

        The first run's ``seconds`` count from the start of ``connect``: a page's time to be fully rendered.
        """
        if self._ws is None:
            raise RuntimeError("not connected")
        started = self._connect_started if self._connect_started is not None else time.perf_counter()
        self._connect_started = None
        result = RunResult(query_string=query_string.lstrip("?"))
        await self._ws.send(self._rerun_request(result.query_string).SerializeToString())
        await asyncio.wait_for(self._collect(result), timeout if timeout is not None else self.timeout)
        result.seconds = time.perf_counter() - started
        return result

    def _rerun_request(self, query_string: str) -> BackMsg:
        state = ClientState(
            query_string=query_string,
            page_script_hash=self._page_script_hash,
            cached_message_hashes=list(self._cache),
        )
        state.widget_states.widgets.extend(self._widgets.values())
        state.context_info.timezone = "UTC"
        state.context_info.locale = "en-US"
        state.context_info.url = f"http://{self.host}:{self.port}/" + (f"?{query_string}" if query_string else "")
        return BackMsg(rerun_script=state)

    async def _collect(self, result: RunResult) -> None:
        assert self._ws is not None
        while True:
            raw = await self._ws.recv(decode=False)
            result.messages += 1
            result.bytes += len(raw)
            msg = ForwardMsg()
            msg.ParseFromString(raw)
            msg = self._resolve(msg, result)
            kind = msg.WhichOneof("type")
            if kind == "new_session":
                self._run_id = msg.metadata.run.script_run_id
                self._page_script_hash = msg.new_session.page_script_hash
                if msg.new_session.config.max_cached_message_age:
                    self._max_cached_age = msg.new_session.config.max_cached_message_age
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                self._page[tuple(msg.metadata.delta_path)] = (self._run_id, msg.delta.new_element)
            elif kind == "script_finished":
                result.status = ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished)
                if msg.script_finished in (FINISHED_EARLY, FINISHED_FRAGMENT):
                    continue  # st.rerun (the next run follows) or a fragment's own run: not the page's run
                self._finish_run(msg.script_finished == FINISHED_OK)
                result.texts, result.exceptions = self._page_text()
                return

    def _resolve(self, msg: ForwardMsg, result: RunResult) -> ForwardMsg:
        """Replace a ref_hash message by the cached message it names; cache cacheable messages."""
        if msg.WhichOneof("type") == "ref_hash":
            entry = self._cache.get(msg.ref_hash)
            if entry is None:
                raise ProtocolError(f"ref_hash {msg.ref_hash} names no cached message")
            cached = ForwardMsg()
            cached.CopyFrom(entry[0])
            cached.metadata.CopyFrom(msg.metadata)
            self._cache[msg.ref_hash] = (entry[0], self._runs_finished)
            result.cache_hits += 1
            return cached
        if msg.metadata.cacheable and msg.hash:
            self._cache[msg.hash] = (msg, self._runs_finished)
        return msg

    def _finish_run(self, complete: bool) -> None:
        """What the frontend does at script_finished: drop stale elements, age the message cache."""
        if complete:
            self._page = {path: entry for path, entry in self._page.items() if entry[0] == self._run_id}
        self._runs_finished += 1
        self._cache = {
            h: entry for h, entry in self._cache.items() if self._runs_finished - entry[1] <= self._max_cached_age
        }

    def _page_text(self) -> tuple[list[str], list[str]]:
        texts, exceptions = [], []
        for path in sorted(self._page):
            element = self._page[path][1]
            kind = element.WhichOneof("type")
            if kind == "exception":
                exceptions.append(f"{element.exception.type}: {element.exception.message}")
            for name in _TEXT_FIELDS.get(kind or "", ()):
                value = getattr(getattr(element, kind), name)
                if value:
                    texts.append(value)
        return texts, exceptions


def query_string(params: dict[str, str] | Iterable[tuple[str, str]]) -> str:
    """URL-encode query parameters the way a browser's address bar carries them."""
    return urlencode(params)


# ---------------------------------------------------------------- optional recording (bench/page.py)


@dataclass
class PlotlyRecord:
    """One ``st.plotly_chart`` element as it arrived: where, its figure JSON, and its whole message's size."""

    delta_path: tuple[int, ...]
    spec: bytes  # the figure JSON (``PlotlyChart.spec``), UTF-8
    message_bytes: int  # the serialized ForwardMsg that carried it (before any websocket compression)
    from_cache: bool  # resolved from a ref_hash: the server sent only the hash this time


class RecordingSession(Session):
    """A ``Session`` that also keeps, per run, the plotly elements' raw specs and the URL the page set.

    Opt-in (``Session`` itself keeps neither): ``plotly`` and ``query_string`` describe the last ``run``;
    ``query_string`` is the last ``page_info_changed`` (what a browser's address bar would show next),
    or None when the page did not change its URL during that run.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.plotly: list[PlotlyRecord] = []
        self.query_string: str | None = None

    async def run(self, query_string: str = "", timeout: float | None = None) -> RunResult:
        self.plotly, self.query_string = [], None
        return await super().run(query_string, timeout)

    def _resolve(self, msg: ForwardMsg, result: RunResult) -> ForwardMsg:
        from_cache = msg.WhichOneof("type") == "ref_hash"
        msg = super()._resolve(msg, result)
        kind = msg.WhichOneof("type")
        if kind == "page_info_changed":
            self.query_string = msg.page_info_changed.query_string
        elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            element = msg.delta.new_element
            if element.WhichOneof("type") == "plotly_chart":
                spec = element.plotly_chart.spec.encode()
                self.plotly.append(PlotlyRecord(tuple(msg.metadata.delta_path), spec, msg.ByteSize(), from_cache))
        return msg
