"""``assistant bench --load``: a real ``assistant serve`` under 50 concurrent gradio_client clients.

Each client is a ``gradio_client.Client`` of its own (connected before the clock starts) that
asks 5 questions in turn through the ``/ask`` API, each with a 20 s timeout, as a user's script
would. All clients start together (a barrier). Reported: errors, timeouts, latency p50/p95 per
request, requests per second over the run, and the server's peak memory (VmHWM of its process).

The server answers from a copy of the library in a temporary folder. "During a rebuild": a small
report is added to (or removed from) that copy and the server is sent SIGHUP, which makes it
update its index from the folder in the background (embedding the new report, or dropping it)
and swap it in (``search/refresh.py``); then, in a last run, SIGUSR1, which embeds every document
again. The clients start once the server reports the rebuild started, and whenever a rebuild ends
while clients are still asking another signal starts the next one, so the run's requests are
served while an index is being rebuilt in the same process (the report counts how many fell
inside a rebuild's interval). The load generator runs on the same 2 cores as the server, as the issue's measurement did.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..settings import ROOT, Settings, cores

# The small report the update runs add and remove (a test fixture: 7 paragraphs, French).
EXTRA_REPORT = ROOT / "tests" / "fixtures" / "mini_report.md"
EXTRA_NAME = "bench-extra-report.fr.md"

QUESTIONS = [
    "Combien d'États sont parties à la Convention contre la corruption ?",
    "How many users consulted the SHERLOC portal in 2019?",
    "Où s'est tenue la huitième session de la Conférence des États parties ?",
    "How many victims of trafficking were identified in Malawi?",
    "Quelle est la situation financière de l'ONUDC ?",
    "What did UNODC do in Somalia?",
    "Combien de praticiens ont été formés à la lutte contre la cybercriminalité ?",
    "Which prize did the online course on the Nelson Mandela Rules receive?",
]


@dataclass
class LoadRun:
    label: str
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    timeouts: int = 0
    wall_s: float = 0.0
    requests: int = 0
    during_rebuild: int | None = None  # requests whose whole span fell inside a rebuild
    rebuilds: list[float] = field(default_factory=list)  # seconds each rebuild took
    server_peak_rss_mb: float | None = None
    # CPU seconds over the run: the server's process, and this process (the 50 clients). On 2
    # shared cores they say which side the time went to.
    server_cpu_s: float | None = None
    client_cpu_s: float | None = None

    def record(self, started: float, ended: float, error: str | None) -> None:
        """One request: a latency if it was answered, else a timeout or an error."""
        self.requests += 1
        if error == "timeout":
            self.timeouts += 1
        elif error:
            self.errors.append(error)
        else:
            self.latencies.append(ended - started)

    def summary(self) -> dict:
        ordered = sorted(self.latencies)
        p50 = statistics.median(ordered) if ordered else float("nan")
        p95 = ordered[int(0.95 * (len(ordered) - 1))] if ordered else float("nan")
        return {"label": self.label, "requests": self.requests, "errors": len(self.errors),
                "timeouts": self.timeouts, "p50_s": p50, "p95_s": p95,
                "req_per_s": self.requests / self.wall_s if self.wall_s else float("nan"),
                "during_rebuild": self.during_rebuild, "rebuilds": len(self.rebuilds),
                "rebuild_s": statistics.median(self.rebuilds) if self.rebuilds else None,
                "server_peak_rss_mb": self.server_peak_rss_mb,
                "server_cpu_ms_per_request": 1000 * self.server_cpu_s / self.requests if self.server_cpu_s else None,
                "client_cpu_ms_per_request": 1000 * self.client_cpu_s / self.requests if self.client_cpu_s else None}


class Server:
    """``python -m assistant serve`` on a free local port, its output read line by line."""

    def __init__(self, env: dict[str, str] | None = None, timeout: float = 300):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.lines: list[tuple[float, str]] = []
        self._new_line = threading.Condition()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "assistant", "serve"], text=True, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {}), "ASSISTANT_PORT": str(port), "ASSISTANT_HOST": "127.0.0.1"})
        threading.Thread(target=self._read, daemon=True).start()
        self.started = time.monotonic()
        line = self.wait_for(r"Chat ready in ([\d.]+) s at (http://\S+)", timeout)
        match = re.search(r"Chat ready in ([\d.]+) s at (http://\S+)", line)
        self.ready_s = float(match.group(1))
        self.url = match.group(2).rstrip("/") + "/"

    def _read(self) -> None:
        for line in self.proc.stdout:
            with self._new_line:
                self.lines.append((time.monotonic(), line.rstrip()))
                self._new_line.notify_all()
        with self._new_line:
            self._new_line.notify_all()

    def wait_for(self, pattern: str, timeout: float, after: int = 0) -> str:
        """The first output line from index ``after`` on matching ``pattern``."""
        deadline = time.monotonic() + timeout
        with self._new_line:
            while True:
                for _, line in self.lines[after:]:
                    if re.search(pattern, line):
                        return line
                if self.proc.poll() is not None and not any(re.search(pattern, x) for _, x in self.lines[after:]):
                    raise RuntimeError("the server exited:\n" + "\n".join(x for _, x in self.lines[-30:]))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no {pattern!r} from the server in {timeout} s")
                self._new_line.wait(min(left, 1.0))

    def peak_rss_mb(self) -> float | None:
        try:
            status = open(f"/proc/{self.proc.pid}/status", encoding="ascii").read()
        except OSError:
            return None
        match = re.search(r"VmHWM:\s+(\d+) kB", status)
        return int(match.group(1)) / 1024 if match else None

    def cpu_s(self) -> float:
        """CPU seconds (user + system, all threads) the server has used so far."""
        fields = open(f"/proc/{self.proc.pid}/stat", encoding="ascii").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@contextlib.contextmanager
def _measured(run: LoadRun, server: Server | None):
    """The block's wall time, this process's CPU (the clients) and the server's CPU, into ``run``."""
    server_cpu = server.cpu_s() if server else None
    client_cpu = time.process_time()
    began = time.monotonic()
    yield
    run.wall_s = time.monotonic() - began
    run.client_cpu_s = time.process_time() - client_cpu
    if server is not None:
        run.server_cpu_s = server.cpu_s() - server_cpu


def run_clients(url: str, clients: int = 50, questions_each: int = 5, timeout: float = 20.0,
                label: str = "", server: Server | None = None) -> tuple[LoadRun, list[tuple[float, float]]]:
    """``clients`` gradio_client clients × ``questions_each`` questions through ``/ask``. Returns
    the run and each request's (start, end) on the monotonic clock."""
    from gradio_client import Client

    run = LoadRun(label)
    spans: list[tuple[float, float]] = []
    lock = threading.Lock()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        connected = list(pool.map(lambda _: Client(url, verbose=False), range(clients)))
        barrier = threading.Barrier(clients + 1)

        def one_client(i: int) -> None:
            client = connected[i]
            barrier.wait()
            for j in range(questions_each):
                question = QUESTIONS[(i + j) % len(QUESTIONS)]
                started = time.monotonic()
                try:
                    result = client.submit(question, 5, api_name="/ask").result(timeout=timeout)
                    ok = bool(result.get("text"))
                    error = None if ok else "empty answer"
                except TimeoutError:
                    error = "timeout"
                except Exception as exc:  # an error the server or the client raised: counted, shown
                    error = f"{type(exc).__name__}: {exc}"[:200]
                ended = time.monotonic()
                with lock:
                    run.record(started, ended, error)
                    spans.append((started, ended))

        futures = [pool.submit(one_client, i) for i in range(clients)]
        with _measured(run, server):
            barrier.wait()
            for f in futures:
                f.result()
    return run, spans


def run_http_clients(url: str, clients: int = 50, questions_each: int = 5, timeout: float = 20.0,
                     label: str = "", server: Server | None = None) -> tuple[LoadRun, list[tuple[float, float]]]:
    """The same load through Gradio's plain HTTP API (POST ``/gradio_api/call/ask``, then the
    result's event stream), from one asyncio loop: the same server path and queue as
    gradio_client, at a fraction of its CPU. 50 gradio_client clients in one process spent more
    CPU per request than the server (measured: 114 ms against 45 ms on 2 cores), so on one machine
    they measure themselves as much as the server."""
    import asyncio
    import json

    import httpx

    run = LoadRun(label)
    spans: list[tuple[float, float]] = []
    call = url + "gradio_api/call/ask"

    async def ask(http: httpx.AsyncClient, question: str) -> str | None:
        posted = await http.post(call, json={"data": [question, 5]})
        posted.raise_for_status()
        event = posted.json()["event_id"]
        kind = None
        async with http.stream("GET", f"{call}/{event}") as stream:
            async for line in stream.aiter_lines():
                if line.startswith("event:"):
                    kind = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and kind in ("complete", "error"):
                    data = json.loads(line.split(":", 1)[1])
                    if kind == "error":
                        return f"server error: {data}"[:200]
                    return None if data and data[0].get("text") else "empty answer"
        return "no result in the event stream"

    async def one_client(http: httpx.AsyncClient, i: int, start: asyncio.Event) -> None:
        await start.wait()
        for j in range(questions_each):
            question = QUESTIONS[(i + j) % len(QUESTIONS)]
            started = time.monotonic()
            try:
                error = await asyncio.wait_for(ask(http, question), timeout)
            except TimeoutError:
                error = "timeout"
            except Exception as exc:  # counted and shown, as for gradio_client
                error = f"{type(exc).__name__}: {exc}"[:200]
            ended = time.monotonic()
            run.record(started, ended, error)
            spans.append((started, ended))

    async def main() -> None:
        limits = httpx.Limits(max_connections=2 * clients, max_keepalive_connections=2 * clients)
        async with httpx.AsyncClient(timeout=timeout, limits=limits) as http:
            start = asyncio.Event()
            tasks = [asyncio.create_task(one_client(http, i, start)) for i in range(clients)]
            with _measured(run, server):
                start.set()
                await asyncio.gather(*tasks)

    asyncio.run(main())
    return run, spans


def load_bench(env: dict[str, str] | None = None, clients: int = 50, questions_each: int = 5,
               with_rebuild: bool = True, label: str = "onnx") -> list[LoadRun]:
    """One server: a steady run, then (optionally) runs during back-to-back index updates and a
    full rebuild. The server answers from a copy of the library (and of its index, so nothing is
    embedded at start when it is current): the updates add and remove a document there."""
    settings = Settings.from_env({**os.environ, **(env or {})})
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        library = Path(tmp)
        shutil.copytree(settings.corpus_dir, library / "corpus")
        if settings.index_dir.is_dir():
            shutil.copytree(settings.index_dir, library / "index")
        return _load_runs({**(env or {}), "ASSISTANT_CORPUS_DIR": str(library / "corpus"),
                           "ASSISTANT_INDEX_DIR": str(library / "index")}, library / "corpus",
                          clients, questions_each, with_rebuild, label)


def _load_runs(env: dict[str, str], corpus: Path, clients: int, questions_each: int, with_rebuild: bool,
               label: str) -> list[LoadRun]:
    server = Server(env)
    runs = []
    try:
        steady, _ = run_clients(server.url, clients, questions_each, label=f"{label}, steady, gradio_client",
                                server=server)
        steady.server_peak_rss_mb = server.peak_rss_mb()
        runs.append(steady)
        http, _ = run_http_clients(server.url, clients, questions_each, label=f"{label}, steady, plain HTTP",
                                   server=server)
        http.server_peak_rss_mb = server.peak_rss_mb()
        runs.append(http)
        if with_rebuild:
            runs.append(_during_rebuild(server, clients, questions_each, f"{label}, gradio_client", run_clients,
                                        corpus=corpus))
            runs.append(_during_rebuild(server, clients, questions_each, f"{label}, plain HTTP", run_http_clients,
                                        corpus=corpus))
            runs.append(_during_rebuild(server, clients, questions_each, f"{label}, plain HTTP", run_http_clients,
                                        full=True))
    finally:
        server.stop()
    return runs


def _during_rebuild(server: Server, clients: int, questions_each: int, label: str, runner,
                    full: bool = False, corpus: Path | None = None) -> LoadRun:
    """A run while the server updates its index back to back (SIGHUP: only what changed; before
    each, a small report is added to or removed from ``corpus``, as a user's ``assistant add``
    would, so each update embeds it or drops it), or, ``full``, rebuilds it whole (SIGUSR1:
    every document embedded again)."""
    done = threading.Event()
    intervals: list[list[float]] = []
    took: list[float] = []
    extra = corpus / EXTRA_NAME if corpus is not None and EXTRA_REPORT.is_file() else None

    def keep_rebuilding() -> None:
        while not done.is_set():
            if extra is not None and not full:
                if extra.exists():
                    extra.unlink()
                else:
                    extra.write_bytes(EXTRA_REPORT.read_bytes())
            mark = len(server.lines)
            os.kill(server.proc.pid, signal.SIGUSR1 if full else signal.SIGHUP)
            server.wait_for(r"Index rebuild started", 60, after=mark)
            intervals.append([time.monotonic(), float("inf")])
            line = server.wait_for(r"Index rebuil(t in|d skipped)", 600, after=mark)
            intervals[-1][1] = time.monotonic()
            if m := re.search(r"rebuilt in ([\d.]+) s", line):
                took.append(float(m.group(1)))
            else:
                raise RuntimeError(f"the rebuild failed: {line}")

    rebuilder = threading.Thread(target=keep_rebuilding, daemon=True)
    rebuilder.start()
    while not intervals:
        time.sleep(0.01)
    kind = "during full index rebuilds" if full else "during index updates"
    run, spans = runner(server.url, clients, questions_each, label=f"{label}, {kind}", server=server)
    done.set()
    rebuilder.join()
    run.rebuilds = took
    run.during_rebuild = sum(any(a <= s and e <= b for a, b in intervals) for s, e in spans)
    run.server_peak_rss_mb = server.peak_rss_mb()
    return run


def print_runs(runs: list[LoadRun]) -> None:
    for r in runs:
        s = r.summary()
        extra = ""
        if s["during_rebuild"] is not None:
            extra = (f", {s['during_rebuild']}/{s['requests']} inside a rebuild ({s['rebuilds']} rebuilds, "
                     f"median {s['rebuild_s']:.1f} s)")
        print(f"  {s['label']}: {s['requests']} requests, {s['errors']} errors, {s['timeouts']} timeouts, "
              f"p50 {s['p50_s'] * 1000:.0f} ms, p95 {s['p95_s'] * 1000:.0f} ms, {s['req_per_s']:.1f} req/s, "
              f"server peak RSS {s['server_peak_rss_mb']:.0f} MB{extra}")
        if s["server_cpu_ms_per_request"] is not None:
            print(f"    CPU per request: server {s['server_cpu_ms_per_request']:.0f} ms, "
                  f"clients {s['client_cpu_ms_per_request']:.0f} ms ({cores()} cores: "
                  f"{1000 * cores() / s['req_per_s']:.0f} ms of core time per request were available)")
        for e in sorted(set(r.errors))[:5]:
            print(f"    error: {e}")
