"""Mixed read/write load against a running server, at the highest rate it sustains without errors.

    python -m benchmarks.load [--minutes 5] [--probe-seconds 20] [--clients 2,4,8,16,32]
                              [--mix mixed|openlineage] [--every 60] [--baseline-python PATH]

Starts ``medgrade serve`` (one uvicorn worker) on a fresh embedded store with the demo hospital,
then (1) probes each client count for --probe-seconds and keeps the one with the highest rate
and no errors, and (2) runs that many clients for --minutes, printing the rate of every
--every seconds (a soak: ``--minutes 30 --every 60`` shows whether the rate stays flat while
the store grows). The mixed mix, per request: 25 % assessments (PUT), 5 % derivations, 10 %
OpenLineage run events, 40 % level lookups, 10 % asset lists, 10 % SPARQL counts;
``--mix openlineage`` sends OpenLineage run events only (intake). Prints requests/s, p50/p99
latency per kind and overall, and errors (any 5xx or transport error; a 409 for a derivation
that would close a cycle is an answer).

``--baseline-python PATH`` runs the same probes and run against a second server started with
that Python (a venv with another commit of medgrade installed, e.g. ``git worktree add /tmp/old
1558e58 && python -m venv /tmp/old/.venv && /tmp/old/.venv/bin/pip install /tmp/old``), each
on its own fresh demo store, one after the other, and prints both.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

from kg import apikeys
from tests.servers import free_port, wait_until_up

ROOT = Path(__file__).resolve().parents[1]


def run(
    base: str, token: str, assets: list[str], clients: int, seconds: float, mix: str = "mixed", every: float = 0
) -> dict[str, Any]:
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    done: list[float] = []  # when each request ended (for the rate per interval)
    lock = threading.Lock()
    start = time.monotonic()
    deadline = start + seconds

    def client(k: int) -> None:
        rnd = random.Random(k)
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as c:
            while time.monotonic() < deadline:
                op, t0 = rnd.random(), time.perf_counter()
                if mix == "openlineage":
                    op = 0.35
                try:
                    if op < 0.25:
                        kind = "assessment"
                        r = c.put(
                            f"/api/assets/{rnd.choice(assets)}/assessment",
                            json={"level": f"L{rnd.randint(2, 5)}", "justification": "load"},
                        )
                    elif op < 0.30:
                        kind = "derivation"
                        s, t = rnd.sample(assets, 2)
                        r = c.post("/api/derivations", json={"source": s, "target": t, "justification": "load"})
                    elif op < 0.40:
                        kind = "openlineage"
                        r = c.post(
                            "/api/v1/lineage",
                            json={
                                "eventType": "COMPLETE",
                                "eventTime": "2026-11-27T10:00:00Z",
                                "run": {"runId": str(uuid.uuid4())},
                                "job": {"namespace": "load", "name": f"job-{k}"},
                                "inputs": [{"namespace": "medgrade", "name": rnd.choice(assets)}],
                                "outputs": [{"namespace": "load", "name": f"out-{uuid.uuid4().hex[:10]}"}],
                                "producer": "https://example.org/load",
                                "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
                            },
                        )
                    elif op < 0.80:
                        kind = "level"
                        r = c.get(f"/api/assets/{rnd.choice(assets)}/level")
                    elif op < 0.90:
                        kind = "list"
                        r = c.get("/api/assets", params={"min_rank": rnd.randint(1, 4), "limit": 20})
                    else:
                        kind = "sparql"
                        r = c.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"})
                    ok = r.status_code < 500
                    detail = f"{kind}: {r.status_code}"
                except httpx.HTTPError as exc:
                    ok, detail = False, f"{kind}: {exc!r}"
                elapsed = time.perf_counter() - t0
                with lock:
                    latencies[kind].append(elapsed)
                    done.append(time.monotonic() - start)
                    if not ok:
                        errors.append(detail)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    every_request = [x for xs in latencies.values() for x in xs]
    intervals = (
        [sum(1 for d in done if i * every <= d < (i + 1) * every) / every for i in range(int(seconds // every))]
        if every > 0
        else []
    )
    return {
        "clients": clients,
        "rate": len(every_request) / wall,
        "errors": errors,
        "latencies": latencies,
        "all": every_request,
        "intervals": intervals,
    }


def ms(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000 if len(values) >= 2 else values[0] * 1000


def measure(python: str, args: argparse.Namespace, label: str) -> None:
    """Start a server with ``python`` on a fresh demo store, probe, run, and print."""
    with tempfile.TemporaryDirectory() as tmp:
        keys = Path(tmp) / "keys.toml"
        token = apikeys.create(keys, "load", "steward")
        store = f"oxigraph:{tmp}/store"
        env = {**os.environ, "MEDGRADE_API_KEYS": str(keys)}
        subprocess.run(
            [python, "-m", "kg", "--store", store, "init", "--demo"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        port = free_port()
        server = subprocess.Popen(
            [python, "-m", "kg", "--store", store, "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(f"{base}/health", server, 120)
            assets = [a["id"] for a in httpx.get(f"{base}/api/assets", params={"limit": 200}).json()["items"]]
            best = None
            for n in (int(x) for x in args.clients.split(",")):
                result = run(base, token, assets, n, args.probe_seconds, args.mix)
                print(
                    f"[{label}] probe {n:3d} clients: {result['rate']:7.1f} req/s, p99 {ms(result['all'], 99):7.1f} ms, "
                    f"errors {len(result['errors'])}",
                    flush=True,
                )
                if not result["errors"] and (best is None or result["rate"] > best["rate"]):
                    best = result
            if best is None:
                raise SystemExit("every probe had errors")
            final = run(base, token, assets, int(best["clients"]), args.minutes * 60, args.mix, args.every)
        finally:
            server.terminate()
            server.wait(60)
    print(
        f"\n[{label}] {final['clients']} clients for {args.minutes:g} min ({args.mix}): {final['rate']:.1f} requests/s, "
        f"p50 {ms(final['all'], 50):.1f} ms, p99 {ms(final['all'], 99):.1f} ms, errors {len(final['errors'])}"
    )
    for kind, values in sorted(final["latencies"].items()):
        print(f"  {kind:12} {len(values):7d} requests  p50 {ms(values, 50):7.1f} ms  p99 {ms(values, 99):7.1f} ms")
    if final["intervals"]:
        rates = final["intervals"]
        print(f"  requests/s per {args.every:g} s: " + " ".join(f"{r:.1f}" for r in rates))
        print(f"  last vs first interval: {(rates[-1] / rates[0] - 1) * 100 if rates[0] else 0.0:+.1f} %")
    for e in final["errors"][:10]:
        print("  error:", e)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--probe-seconds", type=float, default=20)
    parser.add_argument("--clients", default="2,4,8,16,32")
    parser.add_argument("--mix", choices=["mixed", "openlineage"], default="mixed")
    parser.add_argument("--every", type=float, default=60, help="seconds per interval of the rate printed (0: none)")
    parser.add_argument("--baseline-python", help="also measure a server started with this Python")
    args = parser.parse_args()
    measure(sys.executable, args, "this")
    if args.baseline_python:
        measure(args.baseline_python, args, "baseline")


if __name__ == "__main__":
    main()
