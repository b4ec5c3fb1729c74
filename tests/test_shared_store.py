"""Several processes on one store: a process notices another's writes before it changes the
lineage incrementally, and read-only replicas (``MEDGRADE_READ_ONLY``) answer reads from the
shared SPARQL server next to the one writer and refuse writes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from kg import apikeys
from kg.errors import ConflictError
from kg.service import Service
from kg.settings import Settings
from kg.store import open_store
from tests.helpers import remote_descriptor
from tests.servers import free_port, wait_until_up


def test_another_process_write_is_noticed_before_an_incremental_change(onto) -> None:
    store = open_store("memory:")  # two services on one store stand for two processes
    first = Service(Settings(store="memory:"), store=store, ontology=onto)
    first.initialize(demo=True)
    second = Service(Settings(store="memory:"), store=store, ontology=onto)
    ids = [a["id"] for a in first.assets(limit=400)["items"]]
    first.assess(ids[0], actor="a", justification="keeps its lineage", level="2")  # first keeps a lineage now
    low = [i for i in ids if first.level(i)["effective"]["rank"] <= 2]
    source = next(i for i in ids if i not in low)
    for target in low:  # second derives a low asset from source (a write first does not see)
        try:
            second.add_derivation(source, target, actor="b", justification="another process")
            break
        except ConflictError:
            continue
    first.assess(source, actor="a", justification="raised", level="L6")  # incremental, in first
    assert first.level(target)["effective"]["rank"] == 6  # through the derivation second added
    report = first.propagate()
    assert (report.added, report.removed) == (0, 0), report.changed[:5]


@pytest.mark.parametrize("kind", ["oxigraph-server", "virtuoso"])
def test_read_only_replica_beside_the_writer(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    descriptor, account = remote_descriptor(request, kind)
    keys = tmp_path / "keys.toml"
    token = apikeys.create(keys, "steward", "steward")
    env = {**os.environ, "MEDGRADE_STORE": descriptor, "MEDGRADE_API_KEYS": str(keys)}
    env.update({f"MEDGRADE_SPARQL_{k.upper()}": v for k, v in account.items()})
    procs: list[subprocess.Popen[bytes]] = []

    def serve(port: int, read_only: bool) -> str:
        proc_env = {**env, "MEDGRADE_READ_ONLY": "true" if read_only else "false"}
        proc = subprocess.Popen(
            [sys.executable, "-m", "kg", "serve", "--demo", "--port", str(port)],
            env=proc_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        procs.append(proc)
        base = f"http://127.0.0.1:{port}"
        wait_until_up(f"{base}/health", proc, 180)
        return base

    try:
        writer = serve(free_port(), read_only=False)
        replica = serve(free_port(), read_only=True)
        steward = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{replica}/health").json()["read_only"] is True
        asset = httpx.get(f"{replica}/api/assets", params={"limit": 1}).json()["items"][0]["id"]
        before = httpx.get(f"{replica}/api/assets/{asset}/level").json()
        body = {"level": "L5", "justification": "复核 / re-assessed"}
        refused = httpx.put(f"{replica}/api/assets/{asset}/assessment", json=body, headers=steward)
        assert refused.status_code == 405 and "MEDGRADE_READ_ONLY" in refused.json()["detail"]
        assert "只读" in refused.json()["detail_zh"]
        update = httpx.post(
            f"{replica}/sparql", data={"update": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}, headers=steward
        )
        assert update.status_code == 405
        assert httpx.get(f"{writer}/api/assets/{asset}/level").json() == before  # nothing changed
        r = httpx.put(f"{writer}/api/assets/{asset}/assessment", json=body, headers=steward, timeout=60)
        assert r.status_code == 200, r.text
        seen = httpx.get(f"{replica}/api/assets/{asset}/level").json()  # at once, from the shared store
        assert seen["assessed"]["rank"] == 5 and seen == httpx.get(f"{writer}/api/assets/{asset}/level").json()
        full = httpx.get(f"{writer}/api/validation", timeout=120).json()  # a full run, stored by the writer
        assert httpx.get(f"{replica}/api/validation").json() == full  # the replica reads what is stored
    finally:
        for proc in procs:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.mark.parametrize("kind", ["oxigraph-server", "virtuoso"])
def test_the_in_memory_copy_follows_own_writes_and_is_made_again_after_others(
    kind: str, request: pytest.FixtureRequest
) -> None:
    """pyshacl reads an in-memory copy of a remote store: kept across this process's writes
    (applied to it too), copied again after a write by anyone else."""
    from rdflib import Literal, URIRef
    from rdflib.namespace import RDFS

    from kg.store import Changeset, Graphs

    descriptor, account = remote_descriptor(request, kind)
    mine, other = open_store(descriptor, **account), open_store(descriptor, **account)
    a, b = URIRef("https://example.org/h/a"), URIRef("https://example.org/h/b")

    def label(view, subject: URIRef) -> list[str]:  # type: ignore[no-untyped-def]
        q = f"SELECT ?l WHERE {{ GRAPH <{Graphs.INVENTORY}> {{ <{subject}> <{RDFS.label}> ?l }} }}"
        return [s["l"].value for s in view.query(q)]

    try:
        mine.apply(Changeset(Graphs.INVENTORY, triples=[(a, RDFS.label, Literal("one"))]))
        copy = mine.oxigraph_view()
        assert label(copy, a) == ["one"]
        mine.apply(Changeset(Graphs.INVENTORY, subjects={a}, triples=[(a, RDFS.label, Literal("two"))]))
        mine.update(f"INSERT DATA {{ GRAPH <{Graphs.INVENTORY}> {{ <{b}> <{RDFS.label}> 'b' }} }}")
        assert mine.oxigraph_view() is copy and label(copy, a) == ["two"] and label(copy, b) == ["b"]
        other.apply(Changeset(Graphs.INVENTORY, subjects={a}, triples=[(a, RDFS.label, Literal("three"))]))
        again = mine.oxigraph_view()
        assert again is not copy and label(again, a) == ["three"] and label(again, b) == ["b"]
    finally:
        mine.close()
        other.close()
