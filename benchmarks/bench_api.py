"""API speed: level lookups under concurrent load, and the saved governance queries against a
plain rdflib SPARQL endpoint serving the same data.

    python -m benchmarks.bench_api [--assets 1000000] [--query-assets 100000] [--clients 8]
                                   [--seconds 30] [--runs 3] [--baseline-timeout 300]
                                   [--workdir DIR]

(1) ``GET /api/assets/{id}/level`` for random assets of a generated inventory of --assets
    (benchmarks/generate.py, imported and propagated), from --clients concurrent connections
    for --seconds: p50, p99, requests/s and errors. The load comes from ``wrk`` when installed
    (Debian ``wrk``; light enough not to steal the server's CPU), else from httpx. The server (``medgrade serve``, one uvicorn
    worker) runs in its own process, the load in this one.
(2) the saved governance queries 01–05 (kg/queries/*.rq) over ``/sparql`` on an inventory of
    --query-assets (where 30 % of the derived products also carry a steward's level, some
    below what they inherit, so "raised by lineage" has answers), and the same queries on
    ``rdflib-endpoint`` (PyPI) serving the same graphs
    (inventory, inferred, ontology) with its default rdflib store: median time per query and
    the ratio. A baseline query still running after --baseline-timeout seconds is reported as
    "> timeout". Before timing, one query starts the server's query workers and --warmup
    seconds let them copy the store into memory (steady state of a server nobody writes to).

Medians of --runs. Targets (issue #6, 2 cores): p50 ≤ 5 ms, p99 ≤ 30 ms, ≥ 500 requests/s on
one worker; every query ≥ 10× faster than the rdflib-endpoint baseline. Stores are kept in
--workdir between invocations (default: a temporary folder).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.generate import generate_nt
from kg.saved_queries import saved_queries
from kg.service import Service
from kg.settings import Settings
from kg.store import Graphs

HERE = Path(__file__).resolve().parent

ASSESSED = 0.3  # share of derived products with a steward's level in the query inventory
BENCH_QUERIES = {"01", "02", "03", "04", "05"}  # the five governance queries issue #6 measures


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build(n: int, workdir: Path, assessed: float = 0.0) -> Path:
    """An embedded store with ``n`` generated assets, imported and propagated (kept); ``assessed``
    is the share of derived products that also carry a steward's level."""
    suffix = f"-a{round(assessed * 100)}" if assessed else ""
    store = workdir / f"store-{n}{suffix}"
    if (store / ".complete").exists():
        return store
    t0 = time.perf_counter()
    svc = Service(Settings(store=f"oxigraph:{store}"))
    svc.import_files([generate_nt(n, workdir / f"nt-{n}{suffix}", assessed=assessed)])
    svc.close()
    (store / ".complete").write_text("")
    print(f"    built a store of {n:,} assets in {time.perf_counter() - t0:.0f} s", flush=True)
    return store


def wait(url: str, proc: subprocess.Popen, seconds: float = 600) -> None:  # type: ignore[type-arg]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited: {proc.stderr.read() if proc.stderr else ''}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer")


def serve(store: Path, port: int) -> subprocess.Popen:  # type: ignore[type-arg]
    proc = subprocess.Popen(
        [sys.executable, "-m", "kg", "--store", f"oxigraph:{store}", "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "MEDGRADE_QUERY_TIMEOUT": "600", "MEDGRADE_QUERY_MAX_RESULTS": "10000000"},
    )
    wait(f"http://127.0.0.1:{port}/health", proc)
    return proc


async def _load(base: str, n: int, clients: int, seconds: float) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds
    rnd = random.Random(11)

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal errors
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            r = await http.get(f"{base}/api/assets/a{rnd.randrange(n)}/level")
            latencies.append(time.perf_counter() - t0)
            if r.status_code != 200:
                errors += 1

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=30) as http:
        t0 = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        elapsed = time.perf_counter() - t0
    return latencies, errors, elapsed


WRK_SCRIPT = """
math.randomseed(11)
request = function()
  return wrk.format("GET", "/api/assets/a" .. math.random(0, %d) .. "/level")
end
"""


def _wrk(base: str, n: int, clients: int, seconds: float, script: Path) -> tuple[float, float, float, int]:
    """p50 ms, p99 ms, requests/s, non-2xx responses, measured by wrk (one thread)."""
    import re

    out = subprocess.run(
        ["wrk", "-t1", f"-c{clients}", f"-d{int(seconds)}s", "--latency", "-s", str(script), base],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def ms(label: str) -> float:
        m = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            raise SystemExit(f"cannot read {label} from wrk:\n{out}")
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]

    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    return ms("50%"), ms("99%"), rate, (int(bad.group(1)) if bad else 0) + (1 if errors else 0)


def bench_levels(n: int, workdir: Path, clients: int, seconds: float, runs: int) -> None:
    store = build(n, workdir)
    port = free_port()
    proc = serve(store, port)
    try:
        base = f"http://127.0.0.1:{port}"
        tool = "wrk" if shutil.which("wrk") else "httpx"
        script = workdir / "level.lua"
        script.write_text(WRK_SCRIPT % (n - 1))
        p50s, p99s, rates, errs = [], [], [], 0
        for run in range(runs + 1):  # the first run warms the server and the store's caches
            if tool == "wrk":
                p50, p99, rate, errors = _wrk(base, n, clients, seconds if run else 5, script)
            else:
                lat, errors, elapsed = asyncio.run(_load(base, n, clients, seconds if run else 5))
                lat.sort()
                p50, p99, rate = lat[len(lat) // 2] * 1000, lat[int(len(lat) * 0.99)] * 1000, len(lat) / elapsed
            if run:
                p50s.append(p50)
                p99s.append(p99)
                rates.append(rate)
                errs += errors
        print(
            f"(1) level lookups ({tool}), {n:,} assets, {clients} connections, {seconds:.0f} s × {runs}: "
            f"p50 {statistics.median(p50s):.1f} ms, p99 {statistics.median(p99s):.1f} ms, "
            f"{statistics.median(rates):,.0f} requests/s, {errs} errors "
            f"(runs: p50 {', '.join(f'{x:.1f}' for x in p50s)}; rps {', '.join(f'{x:.0f}' for x in rates)})",
            flush=True,
        )
    finally:
        proc.terminate()
        proc.wait(30)


_HTTP = httpx.Client(timeout=None)  # one client: creating one per request costs tens of ms (TLS setup)


def _time_query(url: str, text: str, timeout: float) -> float | None:
    t0 = time.perf_counter()
    try:
        r = _HTTP.post(
            url, data={"query": text}, headers={"Accept": "application/sparql-results+json"}, timeout=timeout
        )
    except httpx.TimeoutException:
        return None
    if r.status_code != 200:
        raise SystemExit(f"{url}: {r.status_code} {r.text[:300]}")
    return time.perf_counter() - t0


def bench_queries(n: int, workdir: Path, runs: int, timeout: float, warmup: float) -> None:
    store = build(n, workdir, assessed=ASSESSED)
    dump = workdir / f"dump-{store.name.removeprefix('store-')}.nq"
    if not dump.exists():
        import pyoxigraph as ox

        s = ox.Store.read_only(str(store))
        with dump.open("wb") as f:
            for graph in s.named_graphs():
                if graph.value in (str(Graphs.INVENTORY), str(Graphs.INFERRED)) or graph.value.startswith(
                    "https://w3id.org/medgrade/def"
                ):
                    f.write(s.dump(format=ox.RdfFormat.N_QUADS, from_graph=graph) or b"")
        del s
    ours_port, base_port = free_port(), free_port()
    ours = serve(store, ours_port)
    t0 = time.perf_counter()
    baseline = subprocess.Popen(
        [sys.executable, "-m", "rdflib_endpoint", "serve", "--host", "127.0.0.1", "--port", str(base_port), str(dump)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait(f"http://127.0.0.1:{base_port}/?query=ASK%7B%7D", baseline, 3600)
        print(f"    rdflib-endpoint loaded {dump.name} in {time.perf_counter() - t0:.0f} s", flush=True)
        _time_query(f"http://127.0.0.1:{ours_port}/sparql", "ASK { ?s ?p ?o }", timeout)
        time.sleep(warmup)  # the query workers copy the store into memory in the background
        for q in [q for q in saved_queries() if q.name[:2] in BENCH_QUERIES]:
            mine = [_time_query(f"http://127.0.0.1:{ours_port}/sparql", q.text, timeout) for _ in range(runs)]
            theirs = [
                _time_query(f"http://127.0.0.1:{base_port}/", q.text, timeout)
                for _ in range(1 if None in mine else runs)
            ]
            m = statistics.median(x for x in mine if x is not None)
            done = [x for x in theirs if x is not None]
            if done:
                b = statistics.median(done)
                ratio = f"{b / m:,.0f}×"
                base_text = f"{b:.2f} s"
            else:
                ratio, base_text = f"> {timeout / m:,.0f}×", f"> {timeout:.0f} s"
            print(f"(2) {q.name}: medgrade {m * 1000:.0f} ms, rdflib-endpoint {base_text}, ratio {ratio}", flush=True)
    finally:
        for proc in (ours, baseline):
            proc.terminate()
            proc.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=1_000_000)
    parser.add_argument("--query-assets", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline-timeout", type=float, default=300)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--warmup", type=float, default=30, help="seconds for the server's query workers to settle")
    parser.add_argument("--skip", choices=("levels", "queries"), default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        if args.skip != "levels":
            bench_levels(args.assets, workdir, args.clients, args.seconds, args.runs)
        if args.skip != "queries":
            bench_queries(args.query_assets, workdir, args.runs, args.baseline_timeout, args.warmup)


if __name__ == "__main__":
    main()
