"""Steward writes through the API: assessments and derivations are audited, re-validated and
propagated incrementally with the same result as a full run; cycles are 409 and change
nothing; roles are enforced; an ontology edit takes effect through the admin reload."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDFS

from api import create_app
from kg import apikeys
from kg.service import Service
from kg.settings import Settings
from kg.store import Graphs
from tests.events import run_event
from tests.helpers import BACKENDS, backend_settings, edit_module

PKG = "pkg-nhic-dose-ct-2026-10"
MG = "https://w3id.org/medgrade/def#"


@pytest.fixture(params=BACKENDS)
def api(request, tmp_path: Path, ontology_copy: Path):
    keys = tmp_path / "keys.toml"
    tokens = {role: apikeys.create(keys, f"w-{role}", role) for role in apikeys.ROLES}
    service = Service(Settings(**backend_settings(request), api_keys=keys, ontology_dir=ontology_copy))
    service.initialize(demo=True)
    with TestClient(create_app(service=service)) as client:
        client.tokens = tokens  # type: ignore[attr-defined]
        client.service = service  # type: ignore[attr-defined]
        client.ontology_dir = ontology_copy  # type: ignore[attr-defined]
        yield client
    service.close()


def auth(client, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {client.tokens[role]}"}


def triples(service: Service) -> int:
    return service.store.count()


def assert_same_as_a_full_run(service: Service) -> None:
    report = service.propagate()
    assert (report.added, report.removed) == (0, 0), report.changed[:5]


def test_assessment_roles_audit_and_incremental_propagation(api) -> None:
    svc = api.service
    origin = svc.level(PKG)["origin"].rsplit("/", 1)[-1]
    body = {"level": "L6", "justification": "复核后定为核心数据 / re-assessed as core"}
    expected = api.post("/api/preview", json={"set_levels": {origin: "L6"}}).json()["changes"]
    assert len(expected) > 1  # the origin and what derives from it
    before = triples(svc)
    assert api.put(f"/api/assets/{origin}/assessment", json=body).status_code == 401
    assert api.put(f"/api/assets/{origin}/assessment", json=body, headers=auth(api, "reader")).status_code == 403
    assert triples(svc) == before
    r = api.put(f"/api/assets/{origin}/assessment", json=body, headers=auth(api, "steward"))
    assert r.status_code == 200, r.text
    assert r.json()["level"]["assessed"]["rank"] == 6
    for change in expected:  # what the preview announced is what the write did
        assert api.get(f"/api/assets/{change['id']}/level").json()["effective"] == change["new"]
    record = r.json()["record"]
    who = svc.store.rows(
        f"SELECT ?who ?why ?lv WHERE {{ GRAPH <{Graphs.AUDIT}> {{ <{record}> a <{MG}Assessment> ; <{MG}actor> ?who ;"
        f" <{MG}justification> ?why ; <{MG}assignedLevel> ?lv }} }}"
    )
    assert who == [("w-steward", body["justification"], f"{MG}CoreData")]
    assert_same_as_a_full_run(svc)


def test_assessment_needs_a_justification_and_known_terms(api) -> None:
    h = auth(api, "steward")
    assert api.put(f"/api/assets/{PKG}/assessment", json={"level": "3"}, headers=h).status_code == 422
    r = api.put(f"/api/assets/{PKG}/assessment", json={"level": "9级", "justification": "x"}, headers=h)
    assert r.status_code == 422 and "9级" in r.json()["detail"]
    r = api.put("/api/assets/nope/assessment", json={"level": "3", "justification": "x"}, headers=h)
    assert r.status_code == 404


def test_assessing_below_the_rules_minimum_is_reported_and_never_lowers_the_effective_level(api) -> None:
    before = api.get(f"/api/assets/{PKG}/level").json()
    assert before["minimum"]["rank"] >= 2
    r = api.put(
        f"/api/assets/{PKG}/assessment",
        json={"level": "1", "justification": "试图降级 / try lower"},
        headers=auth(api, "steward"),
    )
    assert r.status_code == 200
    results = [x for x in r.json()["validation"]["results"] if x["focus_id"] == PKG]
    assert results and all(x["severity"] == "Violation" for x in results)
    after = r.json()["level"]
    assert after["assessed"]["rank"] == 1  # the steward's record stays
    assert after["effective"]["rank"] == before["effective"]["rank"] >= after["minimum"]["rank"]
    assert after["set_by"] in ("rules", "inherited") and after["reasons"][0].startswith("R11")
    inferred = api.service.store.rows(
        f"SELECT ?l WHERE {{ GRAPH <https://w3id.org/medgrade/graph/inferred> {{ <{after['asset']}> "
        "<https://w3id.org/medgrade/def#effectiveLevel> ?l } }"
    )
    assert inferred == [(after["effective"]["iri"],)]


def test_derivation_cycle_is_409_and_changes_nothing(api) -> None:
    svc = api.service
    source = svc.level(PKG)["origin"].rsplit("/", 1)[-1]
    before = triples(svc)
    r = api.post(
        "/api/derivations",
        json={"source": PKG, "target": source, "justification": "循环 / cycle"},
        headers=auth(api, "steward"),
    )
    assert r.status_code == 409 and "cycle" in r.json()["detail"]
    assert triples(svc) == before


def test_new_derivation_raises_the_target_incrementally(api) -> None:
    svc = api.service
    ranks = {
        i["id"]: (i["effective"] or {}).get("rank", 0)
        for i in api.get("/api/assets", params={"limit": 1000}).json()["items"]
    }
    high = max(ranks, key=lambda k: ranks[k])
    low = min((k for k in ranks if ranks[k] and k != high), key=lambda k: ranks[k])
    if svc.store.ask(
        f"ASK {{ <{svc.ids.asset(high)}> <http://www.w3.org/ns/prov#wasDerivedFrom>* <{svc.ids.asset(low)}> }}"
    ):
        pytest.skip("demo shape changed: the lowest asset is upstream of the highest")
    before = api.get(f"/api/assets/{low}/level").json()  # (fills the server's witness cache)
    r = api.post(
        "/api/derivations",
        json={"source": high, "target": low, "activity": "关联融合", "justification": "融合 / fused"},
        headers=auth(api, "steward"),
    )
    assert r.status_code == 201, r.text
    assert r.json()["level"]["effective"]["rank"] == ranks[high] > before["effective"]["rank"]
    after = api.get(f"/api/assets/{low}/level").json()
    assert after["witness"] != before["witness"] and after["witness"][-1]["target"].endswith(low)
    assert after["witness"][-1]["activity_label_zh"] == "关联融合"
    assert_same_as_a_full_run(svc)


def test_openlineage_events_raise_their_outputs_and_a_retry_adds_nothing(api) -> None:
    """The OpenLineage route on each store: an event's output takes its input's level at once
    (incremental propagation), its audit record names the client, and the client's retry of
    the same event is answered as already there and writes nothing."""
    svc = api.service
    high = max(
        api.get("/api/assets", params={"limit": 1000}).json()["items"],
        key=lambda i: (i["effective"] or {}).get("rank", 0),
    )["id"]
    event = run_event(
        "01932f5e-7d1a-7c3e-9b1e-5a0c2e6f4a77",
        ("hospital-etl", "registry.daily"),
        [("medgrade", high)],
        [("registry", "dose_registry_2026")],
    )
    r = api.post("/api/v1/lineage", json=event, headers=auth(api, "steward"))
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["added"] == {"lineage": 2} and first["record"]  # the run and its output (the input is known)
    out = next(
        i for i in api.get("/api/assets", params={"limit": 1000}).json()["items"] if i["name"] == "dose_registry_2026"
    )
    assert (
        api.get(f"/api/assets/{out['id']}/level").json()["effective"]
        == api.get(f"/api/assets/{high}/level").json()["effective"]
    )
    who = svc.store.rows(f"SELECT ?who WHERE {{ GRAPH <{Graphs.AUDIT}> {{ <{first['record']}> <{MG}actor> ?who }} }}")
    assert who == [("w-steward",)]
    before = triples(svc)
    again = api.post("/api/v1/lineage", json=event, headers=auth(api, "steward"))
    assert again.status_code == 201 and again.json()["added"] == {} and again.json()["record"] is None
    assert triples(svc) == before
    assert_same_as_a_full_run(svc)


def test_admin_reload_applies_an_ontology_edit(api) -> None:
    assert api.post("/api/admin/reload", headers=auth(api, "steward")).status_code == 403

    def edit(g: Graph) -> None:
        core = URIRef(f"{MG}CoreData")
        g.remove((core, RDFS.label, Literal("Core", lang="en")))
        g.add((core, RDFS.label, Literal("Core data (edited)", lang="en")))

    edit_module(api.ontology_dir, "levels.ttl", edit)
    r = api.post("/api/admin/reload", headers=auth(api, "admin"))
    assert r.status_code == 200, r.text
    assert r.json()["ontology"]
    labels = [lv["label_en"] for lv in api.get("/api/ontology/levels").json()]
    assert "Core data (edited)" in labels
    notes = api.service.store.rows(
        f'SELECT ?why WHERE {{ GRAPH <{Graphs.AUDIT}> {{ ?r <{MG}actor> "w-admin" ; <{MG}justification> ?why }} }}'
    )
    assert len(notes) == 1 and "levels" in notes[0][0] and "loaded" in notes[0][0]
