"""The API factory serves health and the ontology sections, errors as problem+json."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api import create_app
from kg.ontology import Ontology
from kg.settings import Settings


def client(onto: Ontology) -> TestClient:
    return TestClient(create_app(Settings(store="memory:"), ontology=onto))


def test_health_reports_the_ontology(onto: Ontology) -> None:
    r = client(onto).get("/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["ontology"]["levels"] == len(onto.levels) == 6
    assert body["ontology"]["triples"] == len(onto.graph)


def test_ontology_levels_are_the_level_objects(onto: Ontology) -> None:
    r = client(onto).get("/api/ontology/levels")
    assert r.status_code == 200
    assert [lv["label_zh"] for lv in r.json()] == [lv.label_zh for lv in reversed(onto.ordered_levels())]


def test_unknown_section_is_problem_json(onto: Ontology) -> None:
    r = client(onto).get("/api/ontology/nope")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == 404 and "nope" in body["detail"] and "没有本体部分" in body["detail_zh"]
    assert set(body) >= {"type", "title", "status", "detail"}
