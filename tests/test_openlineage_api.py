"""``POST /api/v1/lineage`` checks events against the OpenLineage 2-0-2 schema: an event that
does not conform is 422 problem+json naming each JSON path and rule in English and Chinese, and
nothing is written; a body that is not JSON stays 400; a conforming event is 201."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api import create_app
from kg import apikeys
from kg.ontology import Ontology
from kg.service import Service
from kg.settings import Settings
from kg.store import Graphs, open_store
from tests.events import run_event

EVENT = run_event(
    "0193a1c2-0000-7000-8000-0000000000a1",
    ("warehouse", "copy"),
    [("warehouse", "stage.a")],
    [("warehouse", "mart.a")],
)


@pytest.fixture
def client(onto: Ontology, tmp_path: Path):  # type: ignore[no-untyped-def]
    keys = tmp_path / "keys.toml"
    token = apikeys.create(keys, "steward", "steward")
    service = Service(Settings(store="memory:", api_keys=keys), store=open_store("memory:"), ontology=onto)
    with TestClient(create_app(service=service)) as c:
        c.headers["Authorization"] = f"Bearer {token}"
        c.service = service  # type: ignore[attr-defined]
        yield c
    service.close()


def test_a_conforming_event_is_written(client) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/lineage", json=EVENT)
    assert r.status_code == 201, r.text
    assert client.service.store.count(Graphs.INVENTORY) > 0


def test_a_non_conforming_event_is_422_naming_each_path_and_rule(client) -> None:  # type: ignore[no-untyped-def]
    event = {**EVENT, "eventTime": "yesterday", "run": {"runId": "placeholder"}}
    del event["producer"]
    before = client.service.store.count(Graphs.INVENTORY)
    body = gzip.compress(json.dumps(event).encode())
    r = client.post(
        "/api/v1/lineage", content=body, headers={"Content-Type": "application/json", "Content-Encoding": "gzip"}
    )
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["status"] == 422 and "nothing was written" in problem["detail"] and "未写入" in problem["detail_zh"]
    lines = problem["problems"]
    for path, rule_en, rule_zh in [
        ("$.eventTime", "format 'date-time'", "不符合格式“date-time”"),
        ("$.run.runId", "format 'uuid'", "不符合格式“uuid”"),
        ("$.producer", "required property 'producer'", "缺少必需属性“producer”"),
    ]:
        assert any(f"{path}: {rule_en}" in line and f"{path}：{rule_zh}" in line for line in lines), lines
    assert len(lines) == 3
    assert client.service.store.count(Graphs.INVENTORY) == before


def test_one_bad_event_in_a_list_refuses_the_list(client) -> None:  # type: ignore[no-untyped-def]
    bad = {**EVENT, "eventType": "FINISHED"}
    before = client.service.store.count(Graphs.INVENTORY)
    r = client.post("/api/v1/lineage", json=[EVENT, bad])
    assert r.status_code == 422
    (line,) = r.json()["problems"]
    assert "event 2" in line and "$.eventType: one of START" in line
    assert client.service.store.count(Graphs.INVENTORY) == before


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe"])
def test_a_body_that_is_not_json_stays_400(client, body: bytes) -> None:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/lineage", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
