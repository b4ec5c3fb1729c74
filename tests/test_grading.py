"""Grading (R2–R6) as a table: facts in, the lowest lawful level and its reasons out."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Literal, Namespace

from kg import MG
from kg.grading import AssetFacts, ElementFacts, grade
from kg.ontology import Ontology, load_ontology
from tests.helpers import edit_module

M = Namespace(MG)


def facts(**kw: object) -> AssetFacts:
    return AssetFacts(iri="https://example.org/h/a", **kw)  # type: ignore[arg-type]


SERIAL = ElementFacts("https://example.org/h/a/sn", "设备序列号", category=f"{MG}EquipmentIdentification")
ID_CARD = ElementFacts("https://example.org/h/a/id", "身份证号", personal=(f"{MG}IdentityDocumentInformation",))
NAME = ElementFacts("https://example.org/h/a/name", "姓名", personal=(f"{MG}PersonalBasicInformation",))

CASES = [
    ("nothing known", facts(), 1, set()),
    ("category floor", facts(category=f"{MG}PatientDoseRecords"), 3, {"R3"}),
    (
        "impact matrix",
        facts(category=f"{MG}AggregatedReports", impacts=((f"{MG}PublicInterest", f"{MG}Serious"),)),
        5,
        {"R2", "R3"},
    ),
    (
        "highest pair wins",
        facts(
            impacts=(
                (f"{MG}IndividualRights", f"{MG}GeneralHarm"),
                (f"{MG}IndividualRights", f"{MG}ParticularlySerious"),
            )
        ),
        4,
        {"R2"},
    ),
    ("health information", facts(personal=(f"{MG}HealthPhysiologicalInformation",)), 4, {"R4"}),
    ("identity card element", facts(elements=(ID_CARD,)), 4, {"R4", "R5"}),
    ("serial number next to a name", facts(elements=(SERIAL, NAME)), 3, {"R4", "R5"}),
    ("serial number alone", facts(elements=(SERIAL,)), 2, {"R5"}),
    ("element's own level", facts(elements=(ElementFacts("e", "影像", level=f"{MG}GeneralData4"),)), 4, {"R5"}),
    ("scale", facts(personal=(f"{MG}PersonalInformation",), subject_count=2_000_000), 5, {"R4", "R6"}),
    ("below the threshold", facts(personal=(f"{MG}PersonalInformation",), subject_count=999_999), 3, {"R4"}),
    ("scale without personal data", facts(subject_count=5_000_000), 1, set()),
    (
        "review exempts",
        facts(personal=(f"{MG}PersonalInformation",), subject_count=2_000_000, review=f"{MG}ReviewNotImportant"),
        3,
        {"R4"},
    ),
    (
        "pending review does not",
        facts(personal=(f"{MG}PersonalInformation",), subject_count=2_000_000, review=f"{MG}ReviewPending"),
        5,
        {"R4", "R6"},
    ),
]


@pytest.mark.parametrize(("name", "given", "rank", "rules"), CASES, ids=[c[0] for c in CASES])
def test_grade(onto: Ontology, name: str, given: AssetFacts, rank: int, rules: set[str]) -> None:
    result = grade(given, onto)
    assert result.level.rank == rank
    assert {r.rule for r in result.reasons} == rules
    assert all(r.text_zh.startswith(r.rule + "：") and r.text_en.startswith(r.rule + ": ") for r in result.reasons)
    if rules:
        assert result.deciding() and all(r.level.rank == rank for r in result.deciding())


def test_reasons_name_the_rule_and_the_term(onto: Ontology) -> None:
    result = grade(facts(elements=(ID_CARD,)), onto)
    r4 = next(r for r in result.reasons if r.rule == "R4")
    assert r4.term == f"{MG}IdentityDocumentInformation"
    assert r4.text_zh == "R4：数据元素“身份证号”含个人身份信息（敏感个人信息） → 至少一般数据4级"
    assert r4.text_en == "R4: element 身份证号 is personal identity information (sensitive) → at least General-4"
    serial = grade(facts(elements=(SERIAL, NAME)), onto)
    linked = next(r for r in serial.reasons if r.term == f"{MG}EquipmentIdentification")
    assert "设备序列号" in linked.text_zh and "personal identifiers" in linked.text_en


def test_a_steward_may_go_higher_never_lower(onto: Ontology) -> None:
    result = grade(facts(category=f"{MG}PatientDoseRecords", personal=(f"{MG}HealthPhysiologicalInformation",)), onto)
    assert result.level.rank == 4
    assert not result.violated_by(onto.level(5))
    assert {r.rule for r in result.violated_by(onto.level(2))} == {"R3", "R4"}


def test_grading_follows_an_ontology_edit(ontology_copy: Path) -> None:
    edit_module(
        ontology_copy, "levels.ttl", lambda g: g.set((M.Cell_PublicInterest_General, M.resultLevel, M.GeneralData3))
    )
    edit_module(
        ontology_copy,
        "levels.ttl",
        lambda g: g.set((M.DefaultGradingPolicy, M.importantDataSubjectThreshold, Literal(100))),
    )
    onto = load_ontology(ontology_copy)
    assert grade(facts(impacts=((f"{MG}PublicInterest", f"{MG}GeneralHarm"),)), onto).level.rank == 3
    assert grade(facts(personal=(f"{MG}PersonalInformation",), subject_count=150), onto).level.rank == 5
