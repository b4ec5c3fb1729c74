"""Mixed read/write load against a running server, at the highest rate it sustains without errors.

    python -m benchmarks.load [--minutes 5] [--probe-seconds 20] [--clients 2,4,8,16,32]

Starts ``medgrade serve`` (one uvicorn worker) on a fresh embedded store with the demo hospital,
then (1) probes each client count for --probe-seconds and keeps the one with the highest rate
and no errors, and (2) runs that many clients for --minutes. The mix, per request: 25 %
assessments (PUT), 5 % derivations, 10 % OpenLineage run events, 40 % level lookups, 10 % asset
lists, 10 % SPARQL counts. Prints requests/s, p50/p99 latency per kind and overall, and errors
(any 5xx or transport error; a 409 for a derivation that would close a cycle is an answer).
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

import httpx

from kg import apikeys
from tests.servers import free_port, wait_until_up

ROOT = Path(__file__).resolve().parents[1]


def run(base: str, token: str, assets: list[str], clients: int, seconds: float) -> dict[str, object]:
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(k: int) -> None:
        rnd = random.Random(k)
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as c:
            while time.monotonic() < deadline:
                op, t0 = rnd.random(), time.perf_counter()
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
                    if not ok:
                        errors.append(detail)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    every = [x for xs in latencies.values() for x in xs]
    return {"clients": clients, "rate": len(every) / wall, "errors": errors, "latencies": latencies, "all": every}


def ms(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000 if len(values) >= 2 else values[0] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--probe-seconds", type=float, default=20)
    parser.add_argument("--clients", default="2,4,8,16,32")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        keys = Path(tmp) / "keys.toml"
        token = apikeys.create(keys, "load", "steward")
        store = f"oxigraph:{tmp}/store"
        env = {**os.environ, "MEDGRADE_API_KEYS": str(keys)}
        subprocess.run(
            [sys.executable, "-m", "kg", "--store", store, "init", "--demo"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "kg", "--store", store, "serve", "--port", str(port)],
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
                result = run(base, token, assets, n, args.probe_seconds)
                print(
                    f"probe {n:3d} clients: {result['rate']:7.1f} req/s, p99 {ms(result['all'], 99):7.1f} ms, "
                    f"errors {len(result['errors'])}",
                    flush=True,
                )
                if not result["errors"] and (best is None or result["rate"] > best["rate"]):
                    best = result
            if best is None:
                raise SystemExit("every probe had errors")
            final = run(base, token, assets, int(best["clients"]), args.minutes * 60)
        finally:
            server.terminate()
            server.wait(60)
    print(
        f"\n{final['clients']} clients for {args.minutes:g} min: {final['rate']:.1f} requests/s, "
        f"p50 {ms(final['all'], 50):.1f} ms, p99 {ms(final['all'], 99):.1f} ms, errors {len(final['errors'])}"
    )
    for kind, values in sorted(final["latencies"].items()):
        print(f"  {kind:12} {len(values):7d} requests  p50 {ms(values, 50):7.1f} ms  p99 {ms(values, 99):7.1f} ms")
    for e in final["errors"][:10]:
        print("  error:", e)


if __name__ == "__main__":
    main()
