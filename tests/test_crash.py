"""Lose nothing: ``medgrade import``, ``medgrade propagate`` and ``medgrade serve`` killed with
SIGKILL at random moments. After a restart (which finishes or undoes what was interrupted) the
store is in the old or the new state, never between, and every write acknowledged before the kill
is there. ``MEDGRADE_CRASH_RUNS`` sets how many kills each test makes (default 3; CI keeps it
bounded in time)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from kg import apikeys
from kg.service import Service
from kg.settings import Settings
from kg.store import Graphs
from tests.servers import free_port, wait_until_up
from tests.test_backup import consistent

RUNS = int(os.environ.get("MEDGRADE_CRASH_RUNS", "3"))
BASE, MG = "https://w3id.org/medgrade/id/asset/", "https://w3id.org/medgrade/def#"
ENV = {**os.environ, "COLUMNS": "200"}


def inventory(path: Path, n: int, prefix: str) -> Path:
    """``n`` assets in a chain of derivations (4 triples each), as N-Triples."""
    rdf_type, derived = (
        "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>",
        "<http://www.w3.org/ns/prov#wasDerivedFrom>",
    )
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            a = f"<{BASE}{prefix}{i}>"
            f.write(f"{a} {rdf_type} <{MG}DataAsset> .\n{a} <{MG}hasCategory> <{MG}SensorTelemetry> .\n")
            if i % 50 == 0:
                f.write(f"{a} <{MG}assessedLevel> <{MG}GeneralData{2 + i % 3}> .\n")
            else:
                f.write(f"{a} {derived} <{BASE}{prefix}{i - 1}> .\n")
    return path


def medgrade(store: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "kg", "--store", f"oxigraph:{store}", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=ENV,
    )


def kill_after(proc: subprocess.Popen[bytes], seconds: float) -> bool:
    """SIGKILL ``proc`` after ``seconds`` unless it finished; whether it was killed."""
    try:
        proc.wait(timeout=seconds)
        return False
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return True


def reopen(store: Path) -> Service:
    svc = Service(Settings(store=f"oxigraph:{store}"))
    svc.recover()
    return svc


def asset_count(svc: Service, prefix: str) -> int:
    rows = svc.store.rows(
        f"SELECT (COUNT(?a) AS ?n) WHERE {{ GRAPH <{Graphs.INVENTORY}> {{ ?a a <{MG}DataAsset> "
        f'FILTER(STRSTARTS(STR(?a), "{BASE}{prefix}")) }} }}'
    )
    return int(rows[0][0] or 0)


def assert_derived_current(svc: Service) -> None:
    """The inferred graph is what a full propagation computes now (complete, not half-written)."""
    report = svc.propagate()
    assert (report.added, report.removed, report.repaired) == (0, 0, False)


@pytest.mark.parametrize("kind", ["bulk", "transaction"])
def test_killed_import_is_all_or_nothing(tmp_path: Path, kind: str) -> None:
    rnd = random.Random(f"import-{kind}")
    n = 60_000 if kind == "bulk" else 3_000  # 240k triples into an empty inventory: the bulk loader
    source = inventory(tmp_path / f"{kind}.nt", n, "crash-i-")
    reference = tmp_path / "reference"
    t0 = time.monotonic()
    if kind == "transaction":
        subprocess.run(
            [sys.executable, "-m", "kg", "--store", f"oxigraph:{reference}", "init", "--demo"], env=ENV, check=True
        )
        t0 = time.monotonic()
    proc = medgrade(reference, "import", str(source))
    assert proc.wait() == 0, proc.stderr.read() if proc.stderr else ""
    full = time.monotonic() - t0
    killed = 0
    for run in range(RUNS):
        store = tmp_path / f"s{run}"
        if kind == "transaction":
            subprocess.run(
                [sys.executable, "-m", "kg", "--store", f"oxigraph:{store}", "init", "--demo"], env=ENV, check=True
            )
        killed += kill_after(medgrade(store, "import", str(source)), rnd.uniform(0.3, full))
        svc = reopen(store)
        try:
            got = asset_count(svc, "crash-i-")
            assert got in (0, n), f"run {run}: {got} of {n} assets: half an import"
            if got == 0:  # the old state: import again, completely
                svc.close()
                assert medgrade(store, "import", str(source)).wait() == 0
                svc = reopen(store)
                assert asset_count(svc, "crash-i-") == n
            assert_derived_current(svc)
        finally:
            svc.close()
    assert killed >= 1, "no run was killed mid-import: the timing window is wrong"


def test_killed_propagation_is_finished_on_restart(tmp_path: Path) -> None:
    rnd = random.Random("propagate")
    source = inventory(tmp_path / "p.nt", 60_000, "crash-p-")
    killed = 0
    for run in range(RUNS):
        store = tmp_path / f"s{run}"
        assert medgrade(store, "import", str(source)).wait() == 0
        svc = Service(Settings(store=f"oxigraph:{store}"))
        expected = svc.level("crash-p-59999")
        svc.store.drop_graph(Graphs.INFERRED)  # as before a first propagation, with the levels
        svc.store.update(svc.external_write([]))  # pending as after any write that changes the inventory
        svc.close()
        t0 = time.monotonic()
        killed += kill_after(medgrade(store, "propagate"), rnd.uniform(0.5, 6.0))
        del t0
        svc = reopen(store)
        try:
            assert svc.level("crash-p-59999") == expected
            assert_derived_current(svc)
        finally:
            svc.close()
    assert killed >= 1


def test_killed_server_keeps_every_acknowledged_write(tmp_path: Path) -> None:
    rnd = random.Random("serve")
    keys = tmp_path / "keys.toml"
    token = apikeys.create(keys, "crash", "steward")
    store = tmp_path / "store"
    subprocess.run([sys.executable, "-m", "kg", "--store", f"oxigraph:{store}", "init", "--demo"], env=ENV, check=True)
    svc = Service(Settings(store=f"oxigraph:{store}"))
    targets = [a["id"] for a in svc.assets(limit=30)["items"]]
    svc.close()
    for run in range(RUNS):
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "kg", "--store", f"oxigraph:{store}", "serve", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**ENV, "MEDGRADE_API_KEYS": str(keys)},
        )
        base = f"http://127.0.0.1:{port}"
        wait_until_up(f"{base}/health", proc, 120)
        acked: list[tuple[str, int, str]] = []
        in_flight: list[tuple[str, int]] = []  # the one request sent and not (yet) answered
        stop = threading.Event()

        def client(
            base: str = base,
            stop: threading.Event = stop,
            run: int = run,
            acked: list[tuple[str, int, str]] = acked,
            in_flight: list[tuple[str, int]] = in_flight,
        ) -> None:
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as c:
                i = 0
                while not stop.is_set():
                    asset, level = targets[i % len(targets)], 2 + (i + run) % 4
                    in_flight[:] = [(asset, level)]
                    try:
                        r = c.put(
                            f"/api/assets/{asset}/assessment",
                            json={"level": f"L{level}", "justification": f"r{run}-{i}"},
                        )
                    except httpx.HTTPError:
                        return  # the server died mid-request: not acknowledged
                    if r.status_code == 200:
                        acked.append((asset, level, r.json()["record"]))
                        in_flight.clear()
                    i += 1

        t = threading.Thread(target=client)
        t.start()
        time.sleep(rnd.uniform(1.0, 4.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        stop.set()
        t.join(30)
        assert acked, "no write was acknowledged before the kill"
        svc = reopen(store)
        try:
            records = {r for (r,) in svc.store.rows(f"SELECT ?r WHERE {{ GRAPH <{Graphs.AUDIT}> {{ ?r ?p ?o }} }}")}
            missing = [rec for _, _, rec in acked if rec not in records]
            assert not missing, f"acknowledged writes lost: {missing[:3]}"
            last: dict[str, int] = {}
            for asset, level, _ in acked:
                last[asset] = level
            for asset, level in last.items():  # the last acknowledged level, or the unanswered request's
                got = svc.level(asset)["assessed"]["rank"]
                allowed = {level} | {lv for a, lv in in_flight if a == asset}
                assert got in allowed, (asset, got, allowed)
            consistent(svc)  # inventory and audit trail agree: no write half-applied
            assert_derived_current(svc)
        finally:
            svc.close()


def test_virtuoso_keeps_an_acknowledged_import_after_a_kill(tmp_path: Path) -> None:
    """The sparql: backend loads with logged INSERT DATA requests, never Virtuoso's bulk loader
    (which bypasses the transaction log): Virtuoso killed with SIGKILL right after an import
    was acknowledged has all of it after a restart (its roll-forward), with no checkpoint."""
    from tests.helpers import need
    from tests.servers import start_virtuoso, virtuoso_executable

    need(virtuoso_executable() is not None, "Virtuoso 7 (apt-get install virtuoso-opensource-7-bin)")
    db = tmp_path / "virtuoso"
    source = inventory(tmp_path / "v.nt", 5_000, "crash-v-")

    def service(base: str) -> Service:
        return Service(
            Settings(store=f"sparql:{base}/sparql|{base}/sparql-auth", sparql_user="dba", sparql_password="dba")
        )

    proc, base = start_virtuoso(db)
    try:
        svc = service(base)
        svc.initialize()
        svc.import_files([source])
        expected = (svc.store.count(Graphs.INVENTORY), svc.store.count(Graphs.INFERRED), svc.level("crash-v-4999"))
        svc.close()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    proc, base = start_virtuoso(db)
    try:
        svc = service(base)
        lines = sum(1 for _ in source.open(encoding="utf-8"))
        assert expected[0] >= lines and expected[1] > 0 and expected[2]["effective"] is not None
        assert (
            svc.store.count(Graphs.INVENTORY),
            svc.store.count(Graphs.INFERRED),
            svc.level("crash-v-4999"),
        ) == expected
        svc.close()
    finally:
        proc.terminate()
        proc.wait(30)
