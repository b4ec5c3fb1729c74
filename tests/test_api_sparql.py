"""/sparql through HTTP (in-process client): every protocol case, access control, refusals,
limits; what an update changes and what a refused request leaves alone."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from rdflib import Graph
from rdflib.query import Result

from api import create_app
from kg import apikeys
from kg.service import Service
from kg.settings import Settings
from tests.helpers import BACKENDS, backend_settings

INV = "https://w3id.org/medgrade/graph/inventory"
AUDIT = "https://w3id.org/medgrade/graph/audit"
MG = "https://w3id.org/medgrade/def#"
COUNT_ASSETS = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{INV}> {{ ?a a <{MG}DataAsset> }} }}"


@pytest.fixture(params=BACKENDS)
def api(request, tmp_path: Path, onto):
    keys = tmp_path / "keys.toml"
    tokens = {role: apikeys.create(keys, f"t-{role}", role) for role in apikeys.ROLES}
    settings = Settings(**backend_settings(request), api_keys=keys, max_body_bytes=200_000)
    service = Service(settings, ontology=onto)
    service.initialize(demo=True)
    with TestClient(create_app(service=service)) as client:
        client.tokens = tokens  # type: ignore[attr-defined]
        yield client
    service.close()


def auth(client, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {client.tokens[role]}"}


def count(client) -> int:
    r = client.get("/sparql", params={"query": COUNT_ASSETS}, headers={"Accept": "application/sparql-results+json"})
    return int(r.json()["results"]["bindings"][0]["n"]["value"])


def test_query_by_get_in_each_results_format(api) -> None:
    q = f"SELECT ?a WHERE {{ GRAPH <{INV}> {{ ?a a <{MG}DataAsset> }} }} ORDER BY ?a LIMIT 5"
    expected = None
    for accept, fmt in [
        ("application/sparql-results+json", "json"),
        ("application/sparql-results+xml", "xml"),
        ("text/csv", "csv"),
        ("text/tab-separated-values", "tsv"),
    ]:
        r = api.get("/sparql", params={"query": q}, headers={"Accept": accept})
        assert r.status_code == 200 and r.headers["content-type"].startswith(accept)
        rows = [str(row[0]) for row in Result.parse(io.BytesIO(r.content), format=fmt)]
        assert len(rows) == 5 and all(x.startswith("https://w3id.org/medgrade/id/asset/") for x in rows)
        expected = expected or rows
        assert rows == expected


def test_post_form_and_direct_and_datasets(api) -> None:
    n = count(api)
    assert n > 40
    r = api.post("/sparql", data={"query": COUNT_ASSETS}, headers={"Accept": "application/sparql-results+json"})
    assert int(r.json()["results"]["bindings"][0]["n"]["value"]) == n
    r = api.post(
        "/sparql",
        content=COUNT_ASSETS.encode(),
        headers={"Content-Type": "application/sparql-query", "Accept": "application/json"},
    )
    assert int(r.json()["results"]["bindings"][0]["n"]["value"]) == n
    plain = f"SELECT (COUNT(*) AS ?n) WHERE {{ ?a a <{MG}DataAsset> }}"
    union = api.get("/sparql", params={"query": plain}).json()
    only_audit = api.get("/sparql", params={"query": plain, "default-graph-uri": AUDIT}).json()
    assert int(union["results"]["bindings"][0]["n"]["value"]) == n  # default graph: union of named graphs
    assert only_audit["results"]["bindings"][0]["n"]["value"] == "0"
    named = api.get(
        "/sparql", params=[("query", "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"), ("named-graph-uri", INV)]
    ).json()
    assert [b["g"]["value"] for b in named["results"]["bindings"]] == [INV]


def test_construct_formats_and_406(api) -> None:
    q = f"CONSTRUCT {{ ?a a <{MG}DataAsset> }} WHERE {{ GRAPH <{INV}> {{ ?a a <{MG}DataAsset> }} }}"
    sizes = set()
    for accept, fmt in [
        ("text/turtle", "turtle"),
        ("application/n-triples", "nt"),
        ("application/ld+json", "json-ld"),
        ("application/rdf+xml;q=0.9, text/html", "xml"),
    ]:
        r = api.get("/sparql", params={"query": q}, headers={"Accept": accept})
        assert r.status_code == 200, r.text
        sizes.add(len(Graph().parse(data=r.content, format=fmt)))
    assert sizes == {count(api)}
    r = api.get("/sparql", params={"query": q}, headers={"Accept": "text/html"})
    assert r.status_code == 406 and r.headers["content-type"] == "application/problem+json"
    r = api.get("/sparql", params={"query": "ASK {}"}, headers={"Accept": "text/turtle"})
    assert r.status_code == 406


def test_service_description(api) -> None:
    r = api.get("/sparql", headers={"Accept": "text/turtle"})
    assert r.status_code == 200
    g = Graph().parse(data=r.text, format="turtle")
    sd = "http://www.w3.org/ns/sparql-service-description#"
    endpoints = [str(o) for o in g.objects(None, __import__("rdflib").URIRef(sd + "endpoint"))]
    assert endpoints and endpoints[0].endswith("/sparql")
    names = {str(o) for o in g.objects(None, __import__("rdflib").URIRef(sd + "name"))}
    assert INV in names


def test_update_needs_a_steward_and_is_audited(api) -> None:
    n = count(api)
    upd = f"INSERT DATA {{ GRAPH <{INV}> {{ <https://w3id.org/medgrade/id/asset/x-new> a <{MG}DataAsset> }} }}"
    r = api.post("/sparql", data={"update": upd})
    assert r.status_code == 401 and "Bearer" in r.json()["detail"]
    r = api.post("/sparql", data={"update": upd}, headers=auth(api, "reader"))
    assert r.status_code == 403
    r = api.post("/sparql", data={"update": upd}, headers={"Authorization": "Bearer mgk_wrong"})
    assert r.status_code == 401
    assert count(api) == n  # nothing changed
    r = api.post(
        "/sparql", content=upd.encode(), headers={"Content-Type": "application/sparql-update", **auth(api, "steward")}
    )
    assert r.status_code == 204, r.text
    assert count(api) == n + 1
    who = api.get(
        "/sparql",
        params={
            "query": f'SELECT ?who WHERE {{ GRAPH <{AUDIT}> {{ ?r <{MG}actor> ?who ; <{MG}justification> ?j FILTER(CONTAINS(?j, "x-new")) }} }}'
        },
    ).json()
    assert [b["who"]["value"] for b in who["results"]["bindings"]] == ["t-steward"]


@pytest.mark.parametrize(
    "request_kind, text",
    [
        ("query", "SELECT * WHERE { SERVICE <http://127.0.0.1:1/sparql> { ?s ?p ?o } }"),
        ("update", "LOAD <http://127.0.0.1:1/x.ttl> INTO GRAPH <urn:x>"),
        ("update", "LOAD <file:///etc/passwd>"),
        ("query", "SELECT ?x WHERE { ?x "),
        ("update", "INSERT DATA { <urn:a> <urn:b> }"),
    ],
)
def test_refused_and_malformed_change_nothing(api, request_kind: str, text: str) -> None:
    before = api.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"}).json()
    r = api.post("/sparql", data={request_kind: text}, headers=auth(api, "admin"))
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["detail"] and body["detail_zh"]
    after = api.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"}).json()
    assert after == before


def test_protocol_errors(api) -> None:
    r = api.post("/sparql", data={"query": "ASK {}", "update": "CLEAR ALL"}, headers=auth(api, "admin"))
    assert r.status_code == 400
    r = api.post("/sparql", content=b"ASK {}", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415
    r = api.get("/sparql", params={"update": "CLEAR ALL"})
    assert r.status_code == 400
    r = api.get("/sparql", params=[("query", "ASK {}"), ("query", "ASK {}")])
    assert r.status_code == 400
    r = api.post("/sparql", content=b"x" * 300_000, headers={"Content-Type": "application/sparql-query"})
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"
    r = api.get("/sparql", params={"query": "ASK {}", "default-graph-uri": "not an iri"})
    assert r.status_code == 400


def test_reads_can_require_a_key(tmp_path: Path, onto) -> None:
    keys = tmp_path / "keys.toml"
    token = apikeys.create(keys, "r", "reader")
    service = Service(Settings(store="memory:", api_keys=keys, read_requires_key=True), ontology=onto)
    service.initialize()
    with TestClient(create_app(service=service)) as client:
        assert client.get("/sparql", params={"query": "ASK {}"}).status_code == 401
        r = client.get("/sparql", params={"query": "ASK {}"}, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and json.loads(r.content)["boolean"] is True  # the empty pattern matches
    service.close()


def test_cors_is_off_unless_configured(api, tmp_path: Path, onto) -> None:
    r = api.options("/sparql", headers={"Origin": "https://ward.example", "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in r.headers
    service = Service(Settings(store="memory:", cors_origins="https://ward.example"), ontology=onto)
    service.initialize()
    with TestClient(create_app(service=service)) as client:
        r = client.get("/health", headers={"Origin": "https://ward.example"})
        assert r.headers["access-control-allow-origin"] == "https://ward.example"
        r = client.get("/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in r.headers
    service.close()
