"""The API served by uvicorn on loopback over the embedded store on disk, used by real clients:
SPARQLWrapper, rdflib's SPARQLStore / SPARQLUpdateStore and plain HTTP. Queries run in the
query worker processes here."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.plugins.stores.sparqlstore import SPARQLStore, SPARQLUpdateStore

from kg import apikeys
from kg.service import Service
from kg.settings import Settings
from tests.events import run_event
from tests.servers import api_in_thread

INV = "https://w3id.org/medgrade/graph/inventory"
MG = "https://w3id.org/medgrade/def#"


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[dict[str, str]]:
    root: Path = tmp_path_factory.mktemp("served")
    keys = root / "keys.toml"
    tokens = {role: apikeys.create(keys, f"k-{role}", role) for role in apikeys.ROLES}
    settings = Settings(store=f"oxigraph:{root / 'store'}", api_keys=keys, query_timeout=2.0)
    service = Service(settings)
    service.initialize(demo=True)
    with api_in_thread(service) as base:
        yield {"base": base, **tokens}
    service.close()


def test_sparqlwrapper_select_and_update(server) -> None:
    from SPARQLWrapper import JSON, POST, URLENCODED, SPARQLWrapper

    sw = SPARQLWrapper(f"{server['base']}/sparql")
    sw.setQuery(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{INV}> {{ ?a a <{MG}DataAsset> }} }}")
    sw.setReturnFormat(JSON)
    before = int(sw.queryAndConvert()["results"]["bindings"][0]["n"]["value"])  # type: ignore[index,call-overload]
    assert before > 40

    up = SPARQLWrapper(f"{server['base']}/sparql")
    up.setMethod(POST)
    up.setRequestMethod(URLENCODED)
    up.addCustomHttpHeader("Authorization", f"Bearer {server['steward']}")
    up.setQuery(f"INSERT DATA {{ GRAPH <{INV}> {{ <https://w3id.org/medgrade/id/asset/sw-new> a <{MG}DataAsset> }} }}")
    up.query()
    after = int(sw.queryAndConvert()["results"]["bindings"][0]["n"]["value"])  # type: ignore[index,call-overload]
    assert after == before + 1  # the worker's read-only view was reopened after the write


def test_rdflib_sparqlstore_and_updatestore(server) -> None:
    endpoint = f"{server['base']}/sparql"
    store = SPARQLStore(endpoint, returnFormat="json")
    g = Graph(store=store)
    rows = list(g.query(f"SELECT ?a WHERE {{ GRAPH <{INV}> {{ ?a a <{MG}DataAsset> }} }} LIMIT 3"))
    assert len(rows) == 3
    upd = SPARQLUpdateStore(
        endpoint, endpoint, headers={"Authorization": f"Bearer {server['admin']}"}, method="POST_FORM"
    )
    target = URIRef("https://w3id.org/medgrade/id/asset/rdflib-new")
    ug = Graph(store=upd, identifier=URIRef(INV))
    ug.add((target, URIRef(f"{MG}identifier"), Literal("rdflib-new")))
    answer = g.query(f'ASK {{ GRAPH <{INV}> {{ <{target}> <{MG}identifier> "rdflib-new" }} }}')
    assert answer.askAnswer is True


def test_runaway_query_ends_at_the_time_limit(server) -> None:
    many = " ".join(str(i) for i in range(400))
    q = f"SELECT (COUNT(*) AS ?n) WHERE {{ VALUES ?a {{ {many} }} VALUES ?b {{ {many} }} VALUES ?c {{ {many} }} }}"
    t0 = time.monotonic()
    r = httpx.post(f"{server['base']}/sparql", data={"query": q}, timeout=30)
    assert r.status_code == 503 and "time limit" in r.json()["detail"]
    assert time.monotonic() - t0 < 10
    ok = httpx.get(f"{server['base']}/sparql", params={"query": "ASK { ?s ?p ?o }"}, timeout=10)
    assert ok.status_code == 200 and ok.json()["boolean"] is True  # a fresh worker answers


def test_service_and_load_refused_over_http(server) -> None:
    r = httpx.get(
        f"{server['base']}/sparql", params={"query": "SELECT * { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"}
    )
    assert r.status_code == 400 and "SERVICE" in r.json()["detail"]
    r = httpx.post(
        f"{server['base']}/sparql",
        content=b"LOAD <http://127.0.0.1:9/x>",
        headers={"Content-Type": "application/sparql-update", "Authorization": f"Bearer {server['admin']}"},
    )
    assert r.status_code == 400 and "LOAD" in r.json()["detail"]


def _emit(server, event, compression=None, token: str | None = None) -> None:
    from openlineage.client import OpenLineageClient
    from openlineage.client.transport.http import ApiKeyTokenProvider, HttpConfig, HttpTransport

    config = HttpConfig(
        url=server["base"],
        endpoint="api/v1/lineage",
        auth=ApiKeyTokenProvider({"api_key": token or server["steward"]}),
        compression=compression,
        retry={"total": 0},
    )
    OpenLineageClient(transport=HttpTransport(config)).emit(event)


def _event(run_id: str, source: str, output: str, masking: bool = False):  # type: ignore[no-untyped-def]
    from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState

    return RunEvent(
        eventType=RunState.COMPLETE,
        eventTime="2026-11-27T08:00:00Z",
        run=Run(runId=run_id),
        job=Job(namespace="warehouse", name="export_dose"),
        inputs=[InputDataset(namespace="medgrade", name=source)],
        outputs=[OutputDataset(namespace="warehouse", name=output)],
        producer="https://github.com/medgrade/tests",
    )


def test_openlineage_client_posts_and_the_lineage_appears(server) -> None:
    from openlineage.client.transport.http import HttpCompression

    base = server["base"]
    source = "dose-ct-registry-2026-10"
    source_level = httpx.get(f"{base}/api/assets/{source}/level").json()["effective"]
    run_id = "0191d3b4-1f7e-7b1a-9c1d-2b9a0f3e4d5c"
    _emit(server, _event(run_id, source, "public.dose_export"))
    _emit(server, _event(run_id, source, "public.dose_export"), compression=HttpCompression.GZIP)  # a retry
    from kg.importers.openlineage import dataset_id

    out = dataset_id("warehouse", "public.dose_export", "medgrade")
    level = httpx.get(f"{base}/api/assets/{out}/level").json()
    assert level["effective"] == source_level and level["inherited"] == source_level
    assert level["witness"][-1]["source"].endswith(source)
    lineage = httpx.get(f"{base}/api/v1/lineage", params={"nodeId": "dataset:warehouse:public.dose_export", "depth": 2})
    graph = {n["id"]: n for n in lineage.json()["graph"]}
    job = graph["job:warehouse:export_dose"]
    assert job["type"] == "JOB" and job["data"]["id"] == {"namespace": "warehouse", "name": "export_dose"}
    assert job["data"]["inputs"] == [{"namespace": "medgrade", "name": source}]
    assert job["data"]["outputs"] == [{"namespace": "warehouse", "name": "public.dose_export"}]
    assert graph["dataset:warehouse:public.dose_export"]["data"]["id"] == {
        "namespace": "warehouse",
        "name": "public.dose_export",
    }
    assert {"origin": f"dataset:medgrade:{source}", "destination": "job:warehouse:export_dose"} in job["inEdges"]
    assert graph["dataset:warehouse:public.dose_export"]["inEdges"] == [
        {"origin": "job:warehouse:export_dose", "destination": "dataset:warehouse:public.dose_export"}
    ]
    runs = httpx.get(
        f"{base}/sparql",
        params={"query": f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{INV}> {{ ?r <{MG}openLineageJob> ?j }} }}"},
    ).json()
    assert runs["results"]["bindings"][0]["n"]["value"] == "1"  # the retry changed nothing


def test_openlineage_needs_a_steward_and_refuses_bad_bodies(server) -> None:
    base = server["base"]
    event = run_event("0193a1c2-0000-7000-8000-0000000000b1", ("a", "b"))
    assert httpx.post(f"{base}/api/v1/lineage", json=event).status_code == 401
    h = {"Authorization": f"Bearer {server['reader']}"}
    assert httpx.post(f"{base}/api/v1/lineage", json=event, headers=h).status_code == 403
    h = {"Authorization": f"Bearer {server['steward']}", "Content-Type": "application/json"}
    r = httpx.post(f"{base}/api/v1/lineage", content=b"{not json", headers=h)
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
    import gzip

    bomb = gzip.compress(b"[" + b" " * 40_000_000 + b"]")
    r = httpx.post(f"{base}/api/v1/lineage", content=bomb, headers={**h, "Content-Encoding": "gzip"})
    assert r.status_code == 413
    r = httpx.get(f"{base}/api/v1/lineage", params={"nodeId": "job:x"})
    assert r.status_code == 400
