"""The demo hospital's provisions abroad (issue #20, kg/demo/records.py): the institution record,
three transfer records judged by the cross-border rules (exempt; standard contract with its
evidence; standard contract without it, an R16 violation by design) and the year's totals."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kg.demo.generate import DEMO_TODAY
from kg.demo.records import DEMO_INSTITUTION, DEMO_TRANSFERS, load_demo_records
from kg.namespaces import MG
from kg.ontology import Ontology
from kg.service import Service
from kg.settings import Settings
from kg.store import Graphs

TODAY = dt.date(2026, 12, 1)
EXEMPT, CONTRACT = "exempt", "standard_contract_or_certification"


@pytest.fixture(scope="module")
def svc(onto: Ontology) -> Service:
    service = Service(Settings(store="memory:", today=TODAY), ontology=onto)
    service.initialize(demo=True)
    load_demo_records(service)
    return service


@pytest.fixture(scope="module")
def items(svc: Service) -> dict[str, dict[str, Any]]:
    """The year's records by the key (a, b, c) of kg/demo/records.py."""
    by_asset = {item["asset_id"]: item for item in svc.transfer_records(2026)["items"]}
    assert len(by_asset) == len(DEMO_TRANSFERS) == 3
    return {t.key: by_asset[t.asset] for t in DEMO_TRANSFERS}


def evidence_kinds(item: dict[str, Any]) -> set[str]:
    return {e["notation"] for e in item["evidence"]}


def missing_kinds(item: dict[str, Any]) -> list[set[str]]:
    return [{e["notation"] for e in m["any_of"]} for m in item["missing_evidence"]]


def test_the_institution_record(svc: Service) -> None:
    inst = svc.institution()
    assert inst is not None
    assert inst["name"] == DEMO_INSTITUTION.name and "医院" in inst["name"]
    assert inst["ciio"] is False and DEMO_INSTITUTION.ciio is False
    assert svc.transfer_records(2026)["ciio"] is False


def test_the_research_partner_abroad(svc: Service) -> None:
    facts = dict(svc.store.about(str(svc.ids.destination("intl-research")), Graphs.INVENTORY))
    assert facts[str(MG.crossBorder)] in ("true", "1") and facts[str(MG.external)] in ("true", "1")
    assert facts[str(MG.clearedUpTo)] == str(MG.GeneralData3)


def test_records_are_dated_this_year_up_to_the_demo_day(items: dict[str, dict[str, Any]]) -> None:
    days = [dt.date.fromisoformat(str(items[k]["provided_on"])) for k in "abc"]
    assert days == sorted(days)
    assert all(d.year == 2026 and d <= dt.date.fromisoformat(DEMO_TODAY) for d in days)
    assert all(items[k]["abroad"] for k in "abc")


def test_subjects_are_the_assets_subject_counts(svc: Service, items: dict[str, dict[str, Any]]) -> None:
    for key in "bc":
        facts = dict(svc.store.about(str(items[key]["asset"]), Graphs.INVENTORY))
        assert items[key]["subjects"] == int(facts[str(MG.subjectCount)]) > 0
        assert items[key]["sensitive_subjects"] == 0
    assert items["a"]["subjects"] == 0


def test_a_telemetry_without_personal_information_is_exempt(items: dict[str, dict[str, Any]]) -> None:
    a = items["a"]
    assert a["asset_id"] == "pkg-global-mr-helium-2026q3" and a["destination_id"] == "mfr-global"
    assert a["mechanism"] == EXEMPT and a["data_kinds"] == ["none"]
    assert a["compliant"] and a["missing_evidence"] == [] and a["prohibitions"] == []
    assert [b["rule"] for b in a["basis"]] == ["XB-none"]
    assert a["counts"]["with_this"] == {"subjects": 0, "sensitive_subjects": 0}


def test_b_deidentified_personal_information_needs_and_has_a_standard_contract(
    svc: Service, items: dict[str, dict[str, Any]]
) -> None:
    b = items["b"]
    assert b["destination_id"] == "intl-research"
    assert b["mechanism"] == CONTRACT
    assert b["data_kinds"] == ["personal"]  # personal information, not health-related: not prohibited
    assert b["prohibitions"] == [] and b["compliant"] and b["missing_evidence"] == []
    assert {r["rule"] for r in b["basis"]} == {"XB-pi-100k", "XB-pipl"}
    assert evidence_kinds(b) == {"standard_contract_filing", "separate_consent", "pi_impact_assessment"}
    with_this = b["counts"]["with_this"]["subjects"]
    assert 100_000 <= with_this <= 999_999 and b["counts"]["year_before"]["subjects"] == 0
    # its effective level is within the partner's clearance (一般数据3级)
    assert svc.level(str(b["asset"]))["effective"]["label_zh"] == "一般数据3级"


def test_c_a_later_record_without_the_filing_misses_the_mechanism_evidence(
    svc: Service, items: dict[str, dict[str, Any]]
) -> None:
    b, c = items["b"], items["c"]
    assert c["destination_id"] == "intl-research"
    assert c["mechanism"] == CONTRACT and c["data_kinds"] == ["personal"] and c["prohibitions"] == []
    # a small data set, judged by the year's cumulative count
    assert c["subjects"] < 100_000
    assert c["counts"]["year_before"] == b["counts"]["with_this"]
    assert c["counts"]["with_this"]["subjects"] == b["subjects"] + c["subjects"]
    assert not c["compliant"]
    assert evidence_kinds(c) == {"separate_consent", "pi_impact_assessment"}
    assert missing_kinds(c) == [{"standard_contract_filing", "pi_protection_certification"}]
    assert [m["required_by"] for m in c["missing_evidence"]] == [CONTRACT]
    assert svc.level(str(c["asset"]))["effective"]["label_zh"] == "一般数据3级"


def test_r16_reports_exactly_record_c(svc: Service, items: dict[str, dict[str, Any]]) -> None:
    report = svc.validate()
    r16 = [r for r in report.results if r.rule == "R16"]
    assert [(r.focus, r.focus_id, r.severity) for r in r16] == [
        (items["c"]["record"], f"transfer-record/{items['c']['id']}", "Violation")
    ]
    assert r16[0].value == str(MG.MechanismStandardContractOrCertification)


def test_year_totals(svc: Service, items: dict[str, dict[str, Any]]) -> None:
    year = svc.transfer_records(2026)
    people = items["b"]["subjects"] + items["c"]["subjects"]
    assert year["totals"]["subjects"] == people == 163_496
    assert year["totals"]["sensitive_subjects"] == 0
    groups = {(g["destination_id"], g["mechanism"]): g for g in year["totals"]["by_destination"]}
    assert set(groups) == {("intl-research", CONTRACT), ("mfr-global", EXEMPT)}
    partner = groups["intl-research", CONTRACT]
    assert (partner["records"], partner["subjects"], partner["not_compliant"]) == (2, people, 1)
    manufacturer = groups["mfr-global", EXEMPT]
    assert (manufacturer["records"], manufacturer["subjects"], manufacturer["not_compliant"]) == (1, 0, 0)
    assert svc.transfer_records(2025)["items"] == []


def test_loading_the_records_again_changes_nothing(svc: Service) -> None:
    before = svc.transfer_records(2026)
    load_demo_records(svc)
    assert svc.transfer_records(2026) == before
