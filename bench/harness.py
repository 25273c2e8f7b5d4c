"""The one harness of lucky5's tests and benches: a Streamlit server, a client of its protocol, measurements.

What it holds, and nothing about lucky5's internals (tests decide what is right, benches only measure):

- ``StreamlitServer``: ``streamlit run SCRIPT`` on a free 127.0.0.1 port (``free_port``), as a context
  manager that stops the server's whole process group; ``page_script()`` is the page under test;
- ``redis_server``: a real ``redis-server`` on a free loopback port, for the servers that share rooms;
- ``http_get``: one loopback GET with ``urllib`` (``http_get_async`` runs it off the event loop);
- ``WireCounter``: a loopback relay that counts the bytes a server sends on websocket connections;
- ``MINIMAL_PAGE`` and ``minimal_fingerprint``: the yardstick page every bench compares lucky5 with;
- ``fingerprint``: the one parser of the page's ``Run fingerprint: <12 hex>`` text;
- ``Session`` (and ``RecordingSession``): a client of Streamlit's browser websocket protocol;
- ``ResourceSampler``, ``tree_cpu_seconds``, ``tree_rss_mb``, ``quiet_cpu``: a server's memory and CPU,
  through ``psutil``.

What it is not: a browser (``bench.browser`` drives Chromium), nor a test. The client speaks to a real
``streamlit run`` server as the browser's frontend does, with the protobuf classes Streamlit ships over the
``websockets`` package (a dependency of Streamlit itself):

1. ``GET /_stcore/health`` and ``GET /_stcore/host-config``, as the frontend does before it connects;
2. a websocket to ``ws://HOST:PORT/_stcore/stream`` offering the subprotocol ``streamlit``;
3. one ``BackMsg.rerun_script`` (a ``ClientState``: query string, page script hash, widget states, the
   hashes of the messages this client has cached, browser context): the server never runs the script
   on its own after a connect;
4. ``ForwardMsg``s until ``script_finished`` with a final status: ``new_session`` starts each run,
   ``delta``s add elements at a ``delta_path``, ``ref_hash`` messages stand for a message this client
   announced as cached, and the stale elements of older runs are dropped when a run finishes.

It runs no JavaScript, sends no heartbeats (runs here are short) and keeps only what a test needs of the
page: the text of its text-like elements, the exceptions it shows and the widgets' ids.

    with StreamlitServer() as server:
        async with Session(server.port) as session:
            first = await session.run("seed=3")      # first.fingerprint, first.ok, first.seconds

Only loopback addresses are used; every loop is bounded in count and in time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import psutil  # type: ignore[import-untyped]  # no stubs are pinned; the API used here is small
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.Element_pb2 import Element
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import ClientConnection, connect

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
LOOPBACK = (HOST, "localhost", "::1")
HEALTH_TIMEOUT_S = 90.0  # a server's first answer comes after Streamlit's own imports

# ---------------------------------------------------------------- the fingerprint text

# The page shows "Run fingerprint: `0123456789ab` · ..."; innerText and Markdown bodies both match.
FINGERPRINT_PATTERN = r"Run fingerprint:\W*([0-9a-f]{12})\b"
FINGERPRINT = re.compile(FINGERPRINT_PATTERN)


def fingerprint(texts: str | Iterable[str]) -> str | None:
    """The 12 hex digits after ``Run fingerprint:`` in ``texts``, when exactly one distinct value is shown.

    None when no fingerprint is shown, or when two different ones are (a page showing two runs at once).
    """
    found = {m.group(1) for text in ([texts] if isinstance(texts, str) else texts) for m in FINGERPRINT.finditer(text)}
    return found.pop() if len(found) == 1 else None


# ---------------------------------------------------------------- the minimal page

MINIMAL_PAGE = '''\
"""A minimal Streamlit page: the yardstick lucky5's benches compare with.

A title, its query parameters and a fingerprint of them. With ``?torch=1`` it also imports torch and
Plotly and draws one line, as a page of lucky5's weight would on its first run.
"""
import hashlib

import streamlit as st

st.title("minimal")
params = st.query_params.to_dict()
if params.get("torch") == "1":
    import plotly.graph_objects as go
    import torch

    st.plotly_chart(go.Figure(go.Scatter(y=torch.linspace(0, 5, 50).tolist())))
st.write(f"Query parameters: {params}")
digest = hashlib.sha256(repr(sorted(params.items())).encode()).hexdigest()[:12]
st.caption(f"Run fingerprint: {digest}")
'''


def write_minimal_page(folder: Path) -> Path:
    """``MINIMAL_PAGE`` written to ``folder/minimal_page.py``; its path."""
    script = Path(folder) / "minimal_page.py"
    script.write_text(MINIMAL_PAGE, encoding="utf-8")
    return script


def minimal_fingerprint(query: str) -> str:
    """The fingerprint ``MINIMAL_PAGE`` shows for a query string (no leading '?')."""
    params = dict(parse_qsl(query.lstrip("?")))
    return hashlib.sha256(repr(sorted(params.items())).encode()).hexdigest()[:12]


# ---------------------------------------------------------------- the server


def page_script() -> Path:
    """The page under test: ``$LUCKY5_PAGE`` or the repository's ``app.py``."""
    return Path(os.environ.get("LUCKY5_PAGE", REPO / "app.py")).resolve()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def http_get(url: str, timeout: float = 10.0) -> tuple[int, bytes]:
    """One GET of a loopback URL with ``urllib``: (status, body). An HTTP error status is returned, not raised.

    Raises ``ValueError`` for a URL that is not on a loopback host and ``OSError`` when nothing answers.
    """
    host = urlsplit(url).hostname
    if host not in LOOPBACK:
        raise ValueError(f"loopback URLs only, not {url!r}")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:
            return int(reply.status), reply.read()
    except urllib.error.HTTPError as err:
        return int(err.code), err.read()


# Enough threads that a hundred sessions' preflight requests do not queue behind each other.
_HTTP_THREADS = ThreadPoolExecutor(max_workers=64, thread_name_prefix="harness-http")


async def http_get_async(url: str, timeout: float = 10.0) -> tuple[int, bytes]:
    """``http_get`` run in a thread, so the event loop keeps serving other sessions meanwhile."""
    loop = asyncio.get_running_loop()
    return await asyncio.wait_for(loop.run_in_executor(_HTTP_THREADS, http_get, url, timeout), timeout + 1)


def add_server_option(parser: argparse.ArgumentParser) -> None:
    """``--server-option NAME=VALUE`` (repeatable): a further setting for every server a bench starts."""
    parser.add_argument(
        "--server-option",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a further option for every server, e.g. server.enableWebsocketCompression=false (repeatable)",
    )


def server_options(args: argparse.Namespace) -> list[str]:
    """The ``--server-option`` values as ``streamlit run`` arguments."""
    pairs = (option.split("=", 1) for option in args.server_option)
    return [part for name, *value in pairs for part in ("--" + name, value[0] if value else "")]


class StreamlitServer:
    """``streamlit run SCRIPT`` on a free loopback port, as a context manager (healthy on entry, stopped on exit).

    It runs from ``cwd`` (the repository root by default, so ``.streamlit/config.toml`` applies), headless,
    with the file watcher off (a file saved while it runs would otherwise make the server tell the page its
    source changed). ``options`` are further ``--section.name value`` arguments; ``env`` adds environment
    variables (e.g. ``LUCKY5_REDIS_URL``). The process leads its own
    process group, so stopping it also ends anything it started. Its output goes to a temporary log file,
    quoted by ``log_tail`` and in the error when it fails to come up.
    """

    def __init__(
        self,
        script: Path | None = None,
        *,
        cwd: Path = REPO,
        options: Sequence[str] = (),
        port: int | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.script = Path(script or page_script())
        self.env = dict(env or {})  # added to (and overriding) this process's environment
        self.cwd = Path(cwd)
        self.options = list(options)
        self.port = port or free_port()
        self.url = f"http://{HOST}:{self.port}/"
        self.process: subprocess.Popen[bytes] | None = None
        fd, name = tempfile.mkstemp(prefix="lucky5-streamlit-", suffix=".log")
        os.close(fd)
        self.log = Path(name)

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError("the server has not been started")
        return self.process.pid

    def start(self) -> StreamlitServer:
        command = [sys.executable, "-m", "streamlit", "run", str(self.script), "--server.port", str(self.port)]
        command += ["--server.address", HOST, "--server.headless", "true", "--browser.gatherUsageStats", "false"]
        command += ["--server.fileWatcherType", "none", *self.options]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command, cwd=self.cwd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, env={**os.environ, **self.env},
            )  # fmt: skip
        return self

    def wait_healthy(self, timeout: float = HEALTH_TIMEOUT_S) -> None:
        """Poll ``/_stcore/health`` until it answers ``ok``; raise with the server's log if it never does."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"streamlit exited with code {self.process.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                if http_get(self.url + "_stcore/health", timeout=2) == (200, b"ok"):
                    return
            time.sleep(0.1)
        raise TimeoutError(f"streamlit not healthy after {timeout:.0f} s at {self.url}:\n{self.log_tail()}")

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM to the server's process group, SIGKILL after 10 s; then remove the log."""
        if self.process is not None and self.process.poll() is None:
            for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
                try:
                    os.killpg(self.process.pid, sig)  # the group this server leads, nothing else
                    self.process.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
                except ProcessLookupError:
                    break
        self.log.unlink(missing_ok=True)

    def __enter__(self) -> StreamlitServer:
        self.start()
        try:
            self.wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


REDIS_SERVER = Path("/usr/bin/redis-server")


@contextlib.contextmanager
def redis_server(timeout: float = 15.0, *, port: int | None = None, args: Sequence[str] = ()) -> Iterator[str]:
    """A real ``redis-server`` on a free 127.0.0.1 port (or ``port``: a server restarted in place), without
    persistence unless ``args`` (further ``redis-server`` options, which override) ask for it; yields its URL.

    Raises ``FileNotFoundError`` when Debian's /usr/bin/redis-server is missing and ``TimeoutError`` (with its
    output) when it does not answer PING within ``timeout`` seconds. Terminated (killed after 10 s) on exit.
    """
    if not REDIS_SERVER.exists():
        raise FileNotFoundError(f"{REDIS_SERVER} is missing: `apt-get install redis-server`")
    import redis

    port = free_port() if port is None else port
    command = [str(REDIS_SERVER), "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no", *args]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    url = f"redis://{HOST}:{port}/0"
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
        deadline = time.monotonic() + timeout
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    proc.kill()
                    out = proc.stdout.read().decode(errors="replace")[-2000:] if proc.stdout else ""
                    raise TimeoutError(f"redis-server did not answer on port {port}: {out}") from None
                time.sleep(0.05)
        client.close()
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()


# ---------------------------------------------------------------- bytes on the wire


class WireCounter:
    """A loopback TCP relay that counts the bytes a server sends on websocket connections.

    Point a browser or a ``Session`` at ``url`` / ``port`` instead of the server's: ``ws_bytes`` are the
    bytes on the wire, HTTP upgrade and websocket framing included, after ``permessage-deflate`` if the
    server agreed to it (``compressed`` says whether it did). Plain HTTP (the page's JavaScript and CSS)
    is relayed but not counted. At most ``max_connections`` are relayed; a connection idle for
    ``idle_timeout`` seconds is dropped.
    """

    def __init__(self, target_port: int, max_connections: int = 256, idle_timeout: float = 600.0) -> None:
        self.target_port = target_port
        self.ws_bytes = 0
        self.compressed: bool | None = None
        self.idle_timeout = idle_timeout
        self._lock = threading.Lock()
        self._left = max_connections
        self._listener = socket.create_server((HOST, 0))
        self.port = int(self._listener.getsockname()[1])
        self.url = f"http://{HOST}:{self.port}/"
        threading.Thread(target=self._accept, daemon=True).start()

    def __enter__(self) -> WireCounter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _accept(self) -> None:
        while self._left > 0:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            self._left -= 1
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            with client, socket.create_connection((HOST, self.target_port), timeout=self.idle_timeout) as upstream:
                client.settimeout(self.idle_timeout)
                first = client.recv(65536)
                is_ws = b"/_stcore/stream" in first.split(b"\r\n", 1)[0]
                upstream.sendall(first)
                threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
                self._pump(upstream, client, is_ws)
        except OSError:
            pass  # the client or the server went away; nothing to count

    def _pump(self, src: socket.socket, dst: socket.socket, count: bool) -> None:
        handshake = count
        try:
            while data := src.recv(65536):  # ends at EOF, on close, or after idle_timeout without data
                if count:
                    with self._lock:
                        self.ws_bytes += len(data)
                        if handshake:
                            self.compressed = b"permessage-deflate" in data.split(b"\r\n\r\n", 1)[0].lower()
                            handshake = False
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def reset(self) -> None:
        with self._lock:
            self.ws_bytes = 0

    def close(self) -> None:
        self._listener.close()


# ---------------------------------------------------------------- memory and CPU of a server


def _tree(pid: int) -> list[psutil.Process]:
    """The process and its live descendants (none if it is gone)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process tree, including the reaped children of its root."""
    total = 0.0
    for i, process in enumerate(_tree(pid)):
        with contextlib.suppress(psutil.NoSuchProcess):
            t = process.cpu_times()
            total += t.user + t.system + (t.children_user + t.children_system if i == 0 else 0.0)
    return total


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process tree, MB (2**20 bytes)."""
    total = 0
    for process in _tree(pid):
        with contextlib.suppress(psutil.NoSuchProcess):
            total += process.memory_info().rss
    return total / 2**20


async def quiet_cpu(pid: int, poll: float = 0.05, still: int = 3, limit: float = 5.0) -> float:
    """A tree's CPU seconds once it has stopped working (unchanged for ``still`` polls), or after ``limit`` s.

    A run's ``script_finished`` leaves the server before Streamlit's post-run ``gc.collect``; waiting here
    puts that collection inside the measurement it belongs to. CPU time advances in clock ticks (10 ms).
    """
    deadline = time.monotonic() + limit
    last, unchanged = tree_cpu_seconds(pid), 0
    while unchanged < still and time.monotonic() < deadline:
        await asyncio.sleep(poll)
        now = tree_cpu_seconds(pid)
        unchanged = unchanged + 1 if now == last else 0
        last = now
    return last


class ResourceSampler:
    """Samples a process tree's RSS every ``interval`` seconds in a thread while in the ``with`` block.

    After the block: ``rss_before_mb``, ``peak_rss_mb`` (the largest sample) and ``cpu_seconds`` (the tree's
    CPU over the block). A peak shorter than ``interval`` can be missed.
    """

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid, self.interval = pid, interval
        self.rss_before_mb = self.peak_rss_mb = self.cpu_seconds = 0.0
        self._cpu_before = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> ResourceSampler:
        self.rss_before_mb = self.peak_rss_mb = tree_rss_mb(self.pid)
        self._cpu_before = tree_cpu_seconds(self.pid)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.cpu_seconds = tree_cpu_seconds(self.pid) - self._cpu_before
        self.peak_rss_mb = max(self.peak_rss_mb, tree_rss_mb(self.pid))

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):  # ends when the block ends
            self.peak_rss_mb = max(self.peak_rss_mb, tree_rss_mb(self.pid))


# ---------------------------------------------------------------- the websocket client

STREAM_PATH = "/_stcore/stream"
MAX_MESSAGE_BYTES = 256 * 1024 * 1024  # above Streamlit's default server.maxMessageSize (200 MB)
MAX_MESSAGES_PER_RUN = 100_000
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
    bytes: int = 0  # their size as received (after any websocket decompression)
    cache_hits: int = 0  # ref_hash messages resolved from this client's cache

    @property
    def ok(self) -> bool:
        """Finished successfully and shows no exception."""
        return self.status == "FINISHED_SUCCESSFULLY" and not self.exceptions

    @property
    def fingerprint(self) -> str | None:
        """The page's ``Run fingerprint:`` (see ``fingerprint``)."""
        return fingerprint(self.texts)

    def problem(self, expected: str | None = None) -> str | None:
        """Why this run is not a good render (of the ``expected`` fingerprint, if given), in a few words; None
        when it is."""
        if self.status != "FINISHED_SUCCESSFULLY":
            return f"script {self.status}"
        if self.exceptions:
            return "page shows an exception: " + self.exceptions[0][:200]
        if expected is not None:
            if self.fingerprint is None:
                return "no single 'Run fingerprint:' on the page"
            if self.fingerprint != expected:
                return f"fingerprint {self.fingerprint} != solo run {expected}"
        return None


class Session:
    """One browser tab's session: connect, run the page, rerun it, close.

    ``run`` may be called several times; each call waits for its run to finish (or raises
    ``TimeoutError`` after ``timeout`` seconds, ``websockets.exceptions.ConnectionClosed`` when the
    server drops the connection, ``ProtocolError`` on a message the frontend would refuse).
    """

    def __init__(self, port: int, host: str = HOST, timeout: float = 60.0, preflight: bool = True) -> None:
        if host not in LOOPBACK:
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

    @property
    def extensions(self) -> str:
        """The websocket extensions the server agreed to (``Sec-WebSocket-Extensions``), "" for none."""
        response = self._ws.response if self._ws is not None else None
        return response.headers.get("Sec-WebSocket-Extensions", "") if response is not None else ""

    async def connect(self) -> None:
        """Health check, host config, then the websocket handshake; the clock of the first run starts here."""
        self._connect_started = time.perf_counter()

        async def handshake() -> None:
            if self.preflight:
                for path in ("_stcore/health", "_stcore/host-config"):
                    status, body = await http_get_async(f"http://{self.host}:{self.port}/{path}", self.timeout)
                    if status != 200:
                        raise ConnectionError(f"GET /{path} answered {status}: {body[:80]!r}")
            self._ws = await connect(
                f"ws://{self.host}:{self.port}{STREAM_PATH}",
                subprotocols=["streamlit"],  # type: ignore[list-item]
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

    def clear_widget(self, widget_id: str) -> None:
        """Stop sending a widget's value: a button's trigger, once its run is done (a browser sends it once)."""
        self._widgets.pop(widget_id, None)

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
        for _ in range(MAX_MESSAGES_PER_RUN):  # and bounded in time by run's wait_for
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
        raise ProtocolError(f"no script_finished within {MAX_MESSAGES_PER_RUN:,} messages")

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
            if kind is None:
                continue
            if kind == "exception":
                exceptions.append(f"{element.exception.type}: {element.exception.message}")
            for name in _TEXT_FIELDS.get(kind, ()):
                value = getattr(getattr(element, kind), name)
                if value:
                    texts.append(value)
        return texts, exceptions


def query_string(params: Mapping[str, str] | Sequence[tuple[str, str]]) -> str:
    """URL-encode query parameters the way a browser's address bar carries them."""
    return urlencode(params)


@dataclass
class PlotlyRecord:
    """One ``st.plotly_chart`` element as it arrived: where, its figure JSON, and its whole message's size."""

    delta_path: tuple[int, ...]
    spec: bytes  # the figure JSON (``PlotlyChart.spec``), UTF-8
    message_bytes: int  # the serialized ForwardMsg that carried it (before any websocket compression)
    from_cache: bool  # resolved from a ref_hash: the server sent only the hash this time


class RecordingSession(Session):
    """A ``Session`` that also keeps, per run, the plotly elements' raw specs and the URL the page set.

    ``plotly`` and ``query_string`` describe the last ``run``; ``query_string`` is the last
    ``page_info_changed`` (what a browser's address bar would show next), or None when the page did not
    change its URL during that run.
    """

    def __init__(self, port: int, host: str = HOST, timeout: float = 60.0, preflight: bool = True) -> None:
        super().__init__(port, host, timeout, preflight)
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
