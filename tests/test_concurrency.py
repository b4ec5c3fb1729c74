"""Sixteen clients write (assessments, derivations, OpenLineage events) and read (levels, lists,
SPARQL) through a running server at once: no 5xx, no lost update, and the final state equals a
serial replay of the audit log. ``MEDGRADE_CONCURRENCY_SECONDS`` sets how long (default 60).
If no request is answered for 20 s the test has the server print its threads' stacks
(``kill -USR1``) and fails with them."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx

from kg import apikeys
from kg.service import Service
from kg.settings import Settings
from kg.store import Graphs
from tests.servers import free_port, wait_until_up

SECONDS = float(os.environ.get("MEDGRADE_CONCURRENCY_SECONDS", "60"))
CLIENTS = 16
MG = "https://w3id.org/medgrade/def#"


def test_sixteen_clients_lose_nothing(tmp_path: Path) -> None:
    keys = tmp_path / "keys.toml"
    token = apikeys.create(keys, "load", "steward")
    store = tmp_path / "store"
    env = {**os.environ, "MEDGRADE_API_KEYS": str(keys)}
    subprocess.run([sys.executable, "-m", "kg", "--store", f"oxigraph:{store}", "init", "--demo"], env=env, check=True)
    svc = Service(Settings(store=f"oxigraph:{store}"))
    assets = [a["id"] for a in svc.assets(limit=60)["items"]]
    svc.close()
    port = free_port()
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "kg", "--store", f"oxigraph:{store}", "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=log,  # a file: an unread pipe would block the server once 64 KiB of log filled it
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    wait_until_up(f"{base}/health", proc, 120)
    statuses: Counter[int] = Counter()
    acked_records: list[str] = []
    acked_events: list[str] = []  # output dataset names of acknowledged OpenLineage events
    acked_derivations: list[tuple[str, str]] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + SECONDS
    last_answer = [time.monotonic()]
    stalls: list[float] = []

    def client(k: int) -> None:
        rnd = random.Random(k)
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=120) as c:
            while time.monotonic() < deadline:
                op = rnd.random()
                try:
                    if op < 0.35:
                        a = rnd.choice(assets)
                        r = c.put(
                            f"/api/assets/{a}/assessment",
                            json={"level": f"L{rnd.randint(2, 5)}", "justification": f"c{k}"},
                        )
                        if r.status_code == 200:
                            with lock:
                                acked_records.append(r.json()["record"])
                    elif op < 0.45:
                        s, t = rnd.sample(assets, 2)
                        r = c.post("/api/derivations", json={"source": s, "target": t, "justification": f"c{k}"})
                        if r.status_code in (200, 201):
                            with lock:
                                acked_derivations.append((s, t))
                    elif op < 0.55:
                        name = f"conc-{k}-{uuid.uuid4().hex[:8]}"
                        event = {
                            "eventType": "COMPLETE",
                            "eventTime": "2026-11-27T10:00:00Z",
                            "run": {"runId": str(uuid.uuid4())},
                            "job": {"namespace": "conc", "name": f"job-{k}"},
                            "inputs": [{"namespace": "medgrade", "name": rnd.choice(assets)}],
                            "outputs": [{"namespace": "conc", "name": name}],
                            "producer": "https://example.org/test",
                            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
                        }
                        r = c.post("/api/v1/lineage", json=event)
                        if r.status_code == 201:
                            with lock:
                                acked_events.append(name)
                    elif op < 0.8:
                        r = c.get(f"/api/assets/{rnd.choice(assets)}/level")
                    elif op < 0.9:
                        r = c.get("/api/assets", params={"min_rank": rnd.randint(1, 4), "limit": 20})
                    else:
                        r = c.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"})
                except httpx.HTTPError as exc:
                    with lock:
                        errors.append(repr(exc))
                    continue
                with lock:
                    last_answer[0] = time.monotonic()
                    statuses[r.status_code] += 1
                    if r.status_code >= 500 or r.status_code in (400, 422):
                        errors.append(f"{r.request.method} {r.request.url.path}: {r.status_code} {r.text[:300]}")

    def watchdog() -> None:  # no answer for 20 s: have the server print its threads' stacks
        while any(t.is_alive() for t in threads):
            time.sleep(1)
            idle = time.monotonic() - last_answer[0]
            if idle > 20 and (not stalls or time.monotonic() - stalls[-1] > 20):
                stalls.append(time.monotonic())
                proc.send_signal(signal.SIGUSR1)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
    for t in threads:
        t.start()
    threading.Thread(target=watchdog, daemon=True).start()
    for t in threads:
        t.join(SECONDS + 300)
    proc.terminate()
    try:
        proc.wait(120)
    except subprocess.TimeoutExpired:  # a slow graceful shutdown is not what this test checks:
        proc.kill()  # the state is checked below either way (and SIGKILL is survivable, test_crash)
        proc.wait()
    log.close()
    server_log = (tmp_path / "server.log").read_text(errors="replace")
    assert not stalls, f"no answer for 20 s, {len(stalls)} time(s); the server's threads:\n{server_log[-20000:]}"
    assert "Traceback" not in server_log, server_log[-5000:]
    assert not errors, errors[:5]
    assert acked_records and sum(statuses.values()) > CLIENTS * 5, statuses
    assert set(statuses) <= {200, 201, 409}, statuses  # 409: a derivation that would close a cycle

    svc = Service(Settings(store=f"oxigraph:{store}"))
    try:
        audit = svc.store.rows(
            f"""SELECT ?r ?a ?lv ?when WHERE {{ GRAPH <{Graphs.AUDIT}> {{ ?r a <{MG}Assessment> ;
            <{MG}concerns> ?a ; <{MG}performedAt> ?when . OPTIONAL {{ ?r <{MG}assignedLevel> ?lv }} }} }}"""
        )
        records = {r for r, *_ in audit}
        lost = [r for r in acked_records if r not in records]
        assert not lost, f"acknowledged assessments missing from the audit log: {lost[:3]}"
        replay: dict[str, str] = {}  # a serial replay of the audit log, in its own order
        for _, a, lv, _ in sorted(audit, key=lambda row: row[3] or ""):
            if lv:
                replay[a] = lv
        for a, lv in replay.items():
            got = svc.store.rows(f"SELECT ?l WHERE {{ GRAPH <{Graphs.INVENTORY}> {{ <{a}> <{MG}assessedLevel> ?l }} }}")
            assert got == [(lv,)], (a, got, lv)
        for s, t in acked_derivations:
            assert svc.store.ask(
                f"ASK {{ GRAPH <{Graphs.INVENTORY}> {{ ?t <http://www.w3.org/ns/prov#wasDerivedFrom> ?s ."
                f' ?t <{MG}identifier> "{t}" . ?s <{MG}identifier> "{s}" }} }}'
            ), (s, t)
        for name in acked_events:
            assert svc.store.ask(
                f'ASK {{ GRAPH <{Graphs.INVENTORY}> {{ ?d <http://www.w3.org/2000/01/rdf-schema#label> "{name}" ;'
                f" <http://www.w3.org/ns/prov#wasDerivedFrom> ?source }} }}"
            ), name
        report = svc.propagate()  # the derived levels kept up with every acknowledged write
        assert (report.added, report.removed) == (0, 0)
    finally:
        svc.close()
