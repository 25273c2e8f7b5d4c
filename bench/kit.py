"""The presenter kit under a burst: 20 people press "Presenter kit" at once, and the server builds it once.

Against a real ``streamlit run app.py`` through Streamlit's websocket protocol, each session loads the page, finds
the kit's download button and asks for its file as the browser does (a ``deferred_file`` backend operation), then
fetches the zip over HTTP and checks it holds talk.html. First the scenes' runs are trained (one kit for a
throwaway address, not measured). Then, with every session's page already loaded:

- one build: one session asks for the kit of address A (built there and then);
- a burst: ``--sessions`` sessions ask at once for the kit of address B (not built yet).

It prints the server's CPU seconds of each (the process tree's, ``bench.harness.tree_cpu_seconds``), their
ratio, and the server's peak RSS during the burst. Bars: the burst costs at most 1.2 times one build, and the
server stays under 600 MB.

    python -m bench.kit [--sessions 20]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import time
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

from streamlit.proto.BackMsg_pb2 import BackendOperationRequest, BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from bench.harness import (
    ResourceSampler,
    RunResult,
    Session,
    StreamlitServer,
    add_server_option,
    http_get_async,
    quiet_cpu,
    server_options,
)

KIT_LABEL = "Presenter kit"  # the download button's label starts so
MAX_CPU_RATIO = 1.2
MAX_RSS_MB = 600.0
TIMEOUT_S = 300.0  # a build under load with every session waiting


class KitSession(Session):
    """A ``Session`` whose browser reports the page at ``address`` (the kit's links are built on it) and that
    can press a download button whose file is made on request."""

    def __init__(self, port: int, address: str, timeout: float = TIMEOUT_S) -> None:
        super().__init__(port, timeout=timeout)
        self.address = address
        self.session_id = ""  # the server's id of this session (from new_session); a backend request names it

    def _resolve(self, msg: ForwardMsg, result: RunResult) -> ForwardMsg:
        msg = super()._resolve(msg, result)
        if msg.WhichOneof("type") == "new_session" and msg.new_session.initialize.session_id:
            self.session_id = msg.new_session.initialize.session_id
        return msg

    def _rerun_request(self, query_string: str) -> BackMsg:
        msg = super()._rerun_request(query_string)
        msg.rerun_script.context_info.url = self.address + (f"?{query_string}" if query_string else "")
        return msg

    def deferred_id(self, label: str) -> str:
        """The placeholder file id of the download button whose label starts with ``label``."""
        for _, element in self._page.values():
            if element.WhichOneof("type") == "download_button" and element.download_button.label.startswith(label):
                if element.download_button.deferred_file_id:
                    return element.download_button.deferred_file_id
        raise LookupError(f"no download button made on request whose label starts with {label!r}")

    async def download(self, label: str) -> bytes:
        """Press the button as the browser does: ask for its file, wait for its address, fetch it."""
        assert self._ws is not None
        request_id = uuid.uuid4().hex
        ask = BackendOperationRequest(request_id=request_id, session_id=self.session_id)
        ask.deferred_file.file_id = self.deferred_id(label)
        await self._ws.send(BackMsg(backend_operation_request=ask).SerializeToString())

        async def answer() -> str:
            assert self._ws is not None
            for _ in range(10_000):
                msg = ForwardMsg()
                msg.ParseFromString(await self._ws.recv(decode=False))
                response = msg.backend_operation_response
                if msg.WhichOneof("type") == "backend_operation_response" and response.request_id == request_id:
                    if response.error_msg:
                        raise RuntimeError(f"the server could not make the file: {response.error_msg}")
                    return response.deferred_file.url
            raise RuntimeError("no answer to the download request")

        url = await asyncio.wait_for(answer(), self.timeout)
        status, body = await http_get_async(f"http://{self.host}:{self.port}{url}", self.timeout)
        if status != 200:
            raise RuntimeError(f"GET {url} answered {status}")
        return body


def check_kit(data: bytes) -> int:
    """The number of files in the zip ``data``; raises if it is not a kit with talk.html in it."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = z.namelist()
    if not any(n.endswith("/talk.html") for n in names):
        raise RuntimeError(f"the kit has no talk.html: {names[:5]}")
    return len(names)


async def _sessions(port: int, address: str, n: int) -> list[KitSession]:
    sessions = [KitSession(port, address) for _ in range(n)]
    for s in sessions:  # one after another: loading the pages is not what is measured
        await s.connect()
        result = await s.run("")
        if not result.ok:
            raise RuntimeError(f"the page did not render: {result.problem()}")
    return sessions


@dataclass
class KitReport:
    sessions: int
    one_cpu_s: float
    one_wall_s: float
    burst_cpu_s: float
    burst_wall_s: float
    rss_before_mb: float
    peak_rss_mb: float
    kit_bytes: int

    @property
    def ratio(self) -> float:
        return self.burst_cpu_s / self.one_cpu_s


async def measure(port: int, pid: int, sessions: int) -> KitReport:
    """Warm the runs, then one build alone, then ``sessions`` requests at once for a kit not built yet."""
    warm = await _sessions(port, "http://warm.example/", 1)
    check_kit(await warm[0].download(KIT_LABEL))
    await warm[0].close()

    one = await _sessions(port, "http://one.example/", 1)
    burst = await _sessions(port, "http://burst.example/", sessions)
    try:
        before = await quiet_cpu(pid)
        started = time.perf_counter()
        kit = await one[0].download(KIT_LABEL)
        one_wall = time.perf_counter() - started
        one_cpu = await quiet_cpu(pid) - before
        check_kit(kit)

        with ResourceSampler(pid) as sampler:
            before = await quiet_cpu(pid)
            started = time.perf_counter()
            kits = await asyncio.gather(*(s.download(KIT_LABEL) for s in burst))
            burst_wall = time.perf_counter() - started
            burst_cpu = await quiet_cpu(pid) - before
        for data in kits:
            check_kit(data)
        if len({bytes(k) for k in kits}) != 1:
            raise RuntimeError("the burst's sessions got different kits")
        rss = sampler.rss_before_mb, sampler.peak_rss_mb
        return KitReport(sessions, one_cpu, one_wall, burst_cpu, burst_wall, *rss, len(kit))
    finally:
        for s in [*one, *burst]:
            await s.close()


def bars(r: KitReport) -> list[tuple[bool, str]]:
    return [
        (r.ratio <= MAX_CPU_RATIO, f"{r.sessions} at once cost {r.ratio:.2f}x one build's CPU (bar {MAX_CPU_RATIO}x)"),
        (r.peak_rss_mb <= MAX_RSS_MB, f"peak RSS {r.peak_rss_mb:.0f} MB (bar {MAX_RSS_MB:.0f} MB)"),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=20, help="requests for the kit at once (default 20)")
    add_server_option(parser)
    args = parser.parse_args(argv)
    with StreamlitServer(options=server_options(args)) as server:
        report = asyncio.run(measure(server.port, server.pid, args.sessions))
    print(f"kit: {report.kit_bytes:,} bytes")
    print(f"server RSS: {report.rss_before_mb:.0f} MB before the burst, {report.peak_rss_mb:.0f} MB at its peak")
    print(f"one build: {report.one_cpu_s:.2f} s CPU, {report.one_wall_s:.2f} s")
    print(f"{report.sessions} at once: {report.burst_cpu_s:.2f} s CPU, {report.burst_wall_s:.2f} s")
    ok = True
    for passed, text in bars(report):
        print(("ok   " if passed else "FAIL ") + text)
        ok &= passed
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
