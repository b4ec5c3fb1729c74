"""The annual review (R15, issue #19): the review interval is ontology data, "today" is a
settable clock, reviews are audited records that clear R15, and the demo hospital has a known
set of assets due for review as of its demo date."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import XSD

from kg.answers import review_status
from kg.clock import months_before, review_cutoff
from kg.namespaces import MG
from kg.ontology import Ontology, load_ontology
from kg.service import Service
from kg.settings import Settings
from kg.store import Changeset, Graphs, open_store, sparql_term
from tests.helpers import demo_client, edit_module
from tests.test_cli_store import medgrade

DEMO_TODAY = "2026-12-01"
DEMO_OVERDUE = {
    "ct-01-protocols",
    "ct-03-dicom-net",
    "endo-02-processor",
    "mr-02-protocols",
    "pump-onc-01-drug-lib",
    "us-02-probes",
}
D = dt.date.fromisoformat


# --- the interval and the clock ----------------------------------------------------------------
def test_cutoff_day_is_current_and_the_day_before_overdue(onto: Ontology) -> None:
    today = D("2026-12-07")
    assert review_cutoff(today, 12) == D("2025-12-07")
    assert review_status(onto, "2025-12-07", today) == {
        "last_reviewed": "2025-12-07",
        "interval_months": 12,
        "due": "2026-12-07",
        "overdue": False,
    }
    assert review_status(onto, "2025-12-06", today)["overdue"] is True
    assert review_status(onto, "2025-12-06", today)["due"] == "2026-12-06"
    assert review_status(onto, None, today) == {
        "last_reviewed": None,
        "interval_months": 12,
        "due": None,
        "overdue": False,
    }


def test_month_end_is_clamped() -> None:
    assert months_before(D("2026-03-31"), 1) == D("2026-02-28")
    assert review_cutoff(D("2025-02-28"), 12) == D("2024-02-28")
    assert review_cutoff(D("2028-02-29"), 12) == D("2027-02-28")
    assert months_before(D("2024-02-29"), -12) == D("2025-02-28")  # the due date of a leap-day review


# --- the interval is ontology data ---------------------------------------------------------------
def _small(onto: Ontology, ontology_dir: Path | None = None) -> Service:
    """A memory store with three assets last reviewed 11, 13 and 25 months before 2026-12-01
    and one never reviewed."""
    settings = Settings(store="memory:", ontology_dir=ontology_dir) if ontology_dir else Settings(store="memory:")
    svc = Service(settings, store=open_store("memory:"), ontology=onto)
    svc.initialize()
    svc.as_of = D(DEMO_TODAY)
    triples: list[Any] = []
    for ident, day in (("a11", "2026-01-01"), ("a13", "2025-11-01"), ("a25", "2024-11-01"), ("never", None)):
        a = svc.ids.asset(ident)
        triples += [(a, URIRef(f"{MG}identifier"), Literal(ident)), (a, URIRef(f"{MG}hasCategory"), MG.MedicalImaging)]
        triples.append((a, URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), MG.DataAsset))
        if day:
            triples.append((a, MG.lastReviewed, Literal(day, datatype=XSD.date)))
    svc.store.apply(Changeset(Graphs.INVENTORY, triples=triples))
    return svc


def _r15(svc: Service) -> set[str]:
    return {r.focus_id for r in svc.validate().results if r.rule == "R15"}


def test_the_interval_comes_from_the_ontology(onto: Ontology, ontology_copy: Path) -> None:
    svc = _small(onto)
    try:
        due = svc.overdue()
        assert (due["interval_months"], due["cutoff"], due["never_reviewed"]) == (12, "2025-12-01", 1)
        assert [i["id"] for i in due["items"]] == ["a13", "a25"]
        assert _r15(svc) == {"a13", "a25"}
        assert svc.level("a13")["review"]["overdue"] is True
    finally:
        svc.close()

    def longer(g: Any) -> None:
        g.set((MG.DefaultGradingPolicy, MG.reviewIntervalMonths, Literal(24, datatype=XSD.positiveInteger)))

    edit_module(ontology_copy, "levels.ttl", longer)
    edited = load_ontology(ontology_copy)
    assert edited.policy.review_interval_months == 24
    svc = _small(edited, ontology_copy)
    try:
        due = svc.overdue()
        assert (due["interval_months"], due["cutoff"]) == (24, "2024-12-01")
        assert [i["id"] for i in due["items"]] == ["a25"]
        assert _r15(svc) == {"a25"}
        review = svc.level("a13")["review"]
        assert review == {"last_reviewed": "2025-11-01", "interval_months": 24, "due": "2027-11-01", "overdue": False}
    finally:
        svc.close()


# --- the demo hospital over the API and the web ---------------------------------------------------
@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MEDGRADE_TODAY", DEMO_TODAY)
        with demo_client(tmp_path_factory.mktemp("review"), ["reader", "steward"], "rv") as c:
            yield c


def auth(client: Any, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {client.tokens[role]}"}


def _overdue_ids(client: Any) -> set[str]:
    body = client.get("/api/assets?overdue=true&limit=1000").json()
    assert body["total"] == len(body["items"])
    return {item["id"] for item in body["items"]}


def test_demo_hospital_has_the_expected_overdue_set(client: Any) -> None:
    assert _overdue_ids(client) == DEMO_OVERDUE
    results = client.get("/api/validation").json()["results"]
    r15 = {r["focus_id"]: r for r in results if r["rule"] == "R15"}
    assert set(r15) == DEMO_OVERDUE
    assert {r["severity"] for r in r15.values()} == {"Warning"}
    assert "2025-10-15" in r15["ct-01-protocols"]["message_en"] and "复核" in r15["ct-01-protocols"]["message_zh"]
    level = client.get("/api/assets/ct-01-protocols/level").json()
    assert level["review"] == {
        "last_reviewed": "2025-10-15",
        "interval_months": 12,
        "due": "2026-10-15",
        "overdue": True,
    }
    at_cutoff = client.get("/api/assets/robot-01-sbom/level").json()["review"]
    assert (at_cutoff["last_reviewed"], at_cutoff["overdue"]) == ("2025-12-01", False)
    assert client.get("/api/assets/ct-01-protocols").json()["review"] == level["review"]
    items = client.get("/api/assets?q=ct-01-protocols").json()["items"]
    assert items[0]["last_reviewed"] == "2025-10-15"


def test_dashboard_lists_the_assets_due(client: Any) -> None:
    page = client.get("/ui/").text
    assert 'data-testid="review-due"' in page
    assert f'data-testid="overdue-count">{len(DEMO_OVERDUE)}<' in page
    for ident in DEMO_OVERDUE:
        assert f'href="/ui/assets/{ident}"' in page
    assert "2025-06-18" in page and "复核到期" in page
    assert "Due for review" in client.get("/ui/?lang=en").text


def test_the_asset_page_says_when_a_review_is_due(client: Any) -> None:
    late = client.get("/ui/assets/ct-01-protocols?lang=en").text
    assert 'data-testid="review"' in late and 'data-overdue="true"' in late
    assert "Last reviewed: 2025-10-15; next review due 2026-10-15 (overdue, R15)" in late
    current = client.get("/ui/assets/robot-01-sbom?lang=zh").text
    assert 'data-overdue="false"' in current and "上次复核：2025-12-01；应于 2026-12-01 前复核" in current


def test_a_review_is_recorded_audited_and_clears_r15(client: Any) -> None:
    body = {"justification": "年度全面梳理：分类与级别无变化 / annual review: no change"}
    assert (
        client.post("/api/assets/ct-01-protocols/review", json=body, headers=auth(client, "reader")).status_code == 403
    )
    assert (
        client.post("/api/assets/ct-01-protocols/review", json={}, headers=auth(client, "steward")).status_code == 422
    )
    missing = client.post("/api/assets/no-such-asset/review", json=body, headers=auth(client, "steward"))
    assert missing.status_code == 404
    future = client.post(
        "/api/assets/ct-01-protocols/review",
        json={**body, "reviewed_on": "2026-12-02"},
        headers=auth(client, "steward"),
    )
    assert future.status_code == 400 and "2026-12-01" in future.text
    assert _overdue_ids(client) == DEMO_OVERDUE  # nothing written

    r = client.post("/api/assets/ct-01-protocols/review", json=body, headers=auth(client, "steward"))
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["reviewed_on"] == DEMO_TODAY
    assert [x["id"] for x in answer["reviewed"]] == ["ct-01-protocols"]
    assert not [x for x in answer["validation"]["results"] if x["rule"] == "R15"]
    assert _overdue_ids(client) == DEMO_OVERDUE - {"ct-01-protocols"}
    stored = client.service.validator().stored().to_dict()["results"]
    assert {x["focus_id"] for x in stored if x["rule"] == "R15"} == DEMO_OVERDUE - {"ct-01-protocols"}
    level = client.get("/api/assets/ct-01-protocols/level").json()["review"]
    assert level == {"last_reviewed": DEMO_TODAY, "interval_months": 12, "due": "2027-12-01", "overdue": False}

    svc: Service = client.service
    record = URIRef(answer["reviewed"][0]["record"])
    rows = svc.store.select(
        f"SELECT ?kind ?actor ?at ?why ?about WHERE {{ GRAPH {sparql_term(Graphs.AUDIT)} {{ {sparql_term(record)} "
        f"a ?kind ; {sparql_term(MG.actor)} ?actor ; {sparql_term(MG.performedAt)} ?at ; "
        f"{sparql_term(MG.justification)} ?why ; {sparql_term(MG.concerns)} ?about }} }}"
    )
    assert len(rows) == 1
    row = rows[0]
    assert row["kind"] == MG.PeriodicReview and str(row["actor"]) == "rv-steward"
    assert str(row["why"]) == body["justification"] and str(row["about"]).endswith("/asset/ct-01-protocols")
    assert row["at"].datatype == XSD.dateTime  # type: ignore[union-attr]

    # a back-dated review (within the interval) is taken as given
    r = client.post(
        "/api/assets/us-02-probes/review", json={**body, "reviewed_on": "2026-01-05"}, headers=auth(client, "steward")
    )
    assert r.status_code == 200 and r.json()["reviewed_on"] == "2026-01-05"
    assert client.get("/api/assets/us-02-probes/level").json()["review"]["last_reviewed"] == "2026-01-05"
    assert "us-02-probes" not in _overdue_ids(client)


# --- the command line ----------------------------------------------------------------------------
def test_cli_review_and_overdue(tmp_path: Path) -> None:
    env = {"MEDGRADE_TODAY": DEMO_TODAY}
    assert medgrade("init", "--demo", cwd=tmp_path, env=env).returncode == 0

    def overdue(*extra: str) -> dict[str, Any]:
        proc = medgrade("review", "--overdue", "--json", *extra, cwd=tmp_path, env=env)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)  # type: ignore[no-any-return]

    due = overdue()
    assert (due["as_of"], due["cutoff"], due["interval_months"]) == (DEMO_TODAY, "2025-12-01", 12)
    assert {i["id"] for i in due["items"]} == DEMO_OVERDUE and due["never_reviewed"] == 0
    text = medgrade("validate", cwd=tmp_path, env=env).stdout
    assert "R15" in text and "Warning" in text and "2025-06-18" in text

    bad = medgrade("review", "ct-01-protocols", "no-such-asset", "-j", "年度复核", cwd=tmp_path, env=env)
    assert bad.returncode == 2 and "no-such-asset" in bad.stderr and "清单中没有" in bad.stderr
    assert medgrade("review", "ct-01-protocols", cwd=tmp_path, env=env).returncode == 2  # no justification
    assert {i["id"] for i in overdue()["items"]} == DEMO_OVERDUE  # all or nothing: nothing written

    done = medgrade("review", "ct-01-protocols", "mr-02-protocols", "-j", "年度复核", "--json", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert sorted(r["id"] for r in json.loads(done.stdout)["reviewed"]) == ["ct-01-protocols", "mr-02-protocols"]
    left = DEMO_OVERDUE - {"ct-01-protocols", "mr-02-protocols"}
    assert {i["id"] for i in overdue()["items"]} == left
    report = json.loads(medgrade("validate", "--format", "json", cwd=tmp_path, env=env).stdout)
    assert {r["focus_id"] for r in report["results"] if r["rule"] == "R15"} == left

    # --as-of moves the clock: a week later, the asset reviewed on the cutoff day is due too
    later = overdue("--as-of", "2026-12-08")
    assert later["cutoff"] == "2025-12-08" and {i["id"] for i in later["items"]} == left | {"robot-01-sbom"}
    report = json.loads(medgrade("validate", "--format", "json", "--as-of", "2026-12-08", cwd=tmp_path, env=env).stdout)
    assert {r["focus_id"] for r in report["results"] if r["rule"] == "R15"} == left | {"robot-01-sbom"}
    assert medgrade("review", "--overdue", "--as-of", "someday", cwd=tmp_path, env=env).returncode == 2
