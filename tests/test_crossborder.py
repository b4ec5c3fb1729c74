"""Leaving the country (数据出境, issue #20): the decision by the ontology's
cross-border rules (crossborder.ttl), failing closed, and its place in the transfer check.

Every threshold's boundary, core and important data, data with no personal information, an
unknown CIIO status taken as a CIIO, the health-data prohibition, the human genetic resource
evidence, a threshold changed in a copy of the ontology, a malformed rule, and end to end through
``POST /api/transfers/check`` on the demo hospital."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import XSD

from kg.crossborder import Counts, decide, facts_of
from kg.errors import OntologyError
from kg.namespaces import MG
from kg.ontology import Ontology, load_ontology
from kg.store import Changeset, Graphs
from tests.helpers import demo_client, edit_module

PI = str(MG.PersonalInformation)
SENSITIVE = str(MG.IdentityDocumentInformation)  # sensitive, not health-related
HEALTH = str(MG.HealthPhysiologicalInformation)
GENETIC = str(MG.GeneticInformation)
G3, G4 = str(MG.GeneralData3), str(MG.GeneralData4)


def mechanism(onto: Ontology, level: str = G3, personal: tuple[str, ...] = (PI,), n: int | None = 0, **kw) -> str:  # type: ignore[no-untyped-def]
    return decide(onto, facts_of(onto, level, personal, subjects=n, **kw)).mechanism.notation or ""


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (1, "exempt"),
        (99_999, "exempt"),
        (100_000, "standard_contract_or_certification"),
        (999_999, "standard_contract_or_certification"),
        (1_000_000, "security_assessment"),
    ],
)
def test_non_sensitive_thresholds_of_2024(onto: Ontology, n: int, expected: str) -> None:
    assert mechanism(onto, n=n, ciio=False) == expected


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (1, "standard_contract_or_certification"),
        (9_999, "standard_contract_or_certification"),
        (10_000, "security_assessment"),
    ],
)
def test_sensitive_thresholds_of_2024(onto: Ontology, n: int, expected: str) -> None:
    assert mechanism(onto, G4, (SENSITIVE,), n=n, ciio=False) == expected


def test_zero_or_one_sensitive_subject(onto: Ontology) -> None:
    # no sensitive personal information: exempt below 100,000; one person's: a contract
    assert mechanism(onto, G3, (PI,), n=1, ciio=False) == "exempt"
    assert mechanism(onto, G4, (SENSITIVE,), n=1, ciio=False) == "standard_contract_or_certification"
    assert mechanism(onto, G4, (SENSITIVE,), n=0, ciio=False) == "exempt"


def test_counts_include_earlier_transfers_this_year(onto: Ontology) -> None:
    d = decide(onto, facts_of(onto, G3, (PI,), subjects=40_000, ciio=False, year_before=Counts(60_000, 0)))
    assert d.mechanism.notation == "standard_contract_or_certification"
    assert d.counts == {
        "subjects": 40_000,
        "sensitive_subjects": 0,
        "year_before": {"subjects": 60_000, "sensitive_subjects": 0},
        "with_this": {"subjects": 100_000, "sensitive_subjects": 0},
    }


def test_unknown_ciio_is_taken_as_a_ciio(onto: Ontology) -> None:
    d = decide(onto, facts_of(onto, G3, (PI,), subjects=5))
    assert d.mechanism.notation == "security_assessment"
    assert "XB-pi-ciio" in [r.notation for r in d.rules]
    note = [b for b in d.basis if b["rule"] is None]
    assert note and "就高从严" in note[0]["text_zh"] and "critical information infrastructure" in note[0]["text_en"]
    assert mechanism(onto, G3, (PI,), n=5, ciio=True) == "security_assessment"
    assert mechanism(onto, G3, (PI,), n=5, ciio=False) == "exempt"


def test_unknown_subject_count_fails_closed(onto: Ontology) -> None:
    d = decide(onto, facts_of(onto, G3, (PI,), subjects=None, ciio=False))
    assert d.mechanism.notation == "security_assessment"
    assert d.counts["with_this"] is None and d.counts["subjects"] is None
    assert any("数据主体数量" in b["text_zh"] and "subject count" in b["text_en"] for b in d.basis)


def test_core_data_never_leaves(onto: Ontology) -> None:
    d = decide(onto, facts_of(onto, str(MG.CoreData), (), ciio=False))
    assert d.mechanism.notation == "prohibited" and d.prohibited
    assert [r.notation for r in d.prohibitions] == ["XB-core"] and d.evidence == ()


def test_important_data_needs_a_security_assessment(onto: Ontology) -> None:
    d = decide(onto, facts_of(onto, str(MG.ImportantData), (), ciio=False))
    assert d.mechanism.notation == "security_assessment" and not d.prohibited
    assert [r.notation for r in d.rules] == ["XB-important"]
    sources = " ".join(d.basis[0]["sources"])
    assert "第四条第（一）项" in sources and "第七条" in sources
    assert [e["any_of"][0]["notation"] for e in d.evidence] == ["security_assessment_approval"]


def test_the_identification_as_important_data_decides_when_recorded(onto: Ontology) -> None:
    unrecorded = decide(onto, facts_of(onto, str(MG.ImportantData), (), ciio=False))
    assert [b["rule"] for b in unrecorded.basis] == ["XB-important", None]
    assert "就高从严" in unrecorded.basis[1]["text_zh"] and "medgrade important-data" in unrecorded.basis[1]["text_en"]
    # identified by the authorities: a security assessment, and no note
    named = decide(onto, facts_of(onto, str(MG.ImportantData), (), ciio=False, important_identified=True))
    assert named.mechanism.notation == "security_assessment" and [b["rule"] for b in named.basis] == ["XB-important"]
    # identified at a lower level too: the authorities' word counts whatever the level says
    low = decide(onto, facts_of(onto, G3, (), ciio=False, important_identified=True))
    assert low.mechanism.notation == "security_assessment" and "important" in low.kinds
    # not notified (2024 art. 2): not declared as important data; the other rules still apply
    not_notified = decide(onto, facts_of(onto, str(MG.ImportantData), (), ciio=False, important_identified=False))
    assert not_notified.mechanism.notation == "exempt"
    assert [r.notation for r in not_notified.rules] == ["XB-important-not-notified"]
    assert "第二条" in " ".join(not_notified.basis[0]["sources"])
    with_pi = decide(
        onto, facts_of(onto, str(MG.ImportantData), (PI,), subjects=150_000, ciio=False, important_identified=False)
    )
    assert with_pi.mechanism.notation == "standard_contract_or_certification"
    assert [r.notation for r in with_pi.rules] == ["XB-pi-100k", "XB-pipl", "XB-important-not-notified"]
    # core data stays core: nothing about important data lifts its prohibition
    core = decide(onto, facts_of(onto, str(MG.CoreData), (), ciio=False, important_identified=False))
    assert core.mechanism.notation == "prohibited"


def test_no_personal_information_is_exempt(onto: Ontology) -> None:
    d = decide(onto, facts_of(onto, str(MG.GeneralData2), (), ciio=None))
    assert d.mechanism.notation == "exempt" and d.kinds == ("none",) and d.evidence == ()
    assert [b["rule"] for b in d.basis] == ["XB-none"]  # no CIIO note: it does not matter here
    assert any("第三条" in s for s in d.basis[0]["sources"])


def test_pipl_evidence_even_when_exempt(onto: Ontology) -> None:
    d = decide(onto, facts_of(onto, G3, (PI,), subjects=10, ciio=False))
    assert d.mechanism.notation == "exempt"
    assert {e["any_of"][0]["notation"] for e in d.evidence} == {"separate_consent", "pi_impact_assessment"}
    d = decide(onto, facts_of(onto, G3, (PI,), subjects=200_000, ciio=False))
    contract = [e for e in d.evidence if e["required_by"] == "standard_contract_or_certification"]
    assert {x["notation"] for x in contract[0]["any_of"]} == {"standard_contract_filing", "pi_protection_certification"}


def test_health_data_is_prohibited_whatever_is_approved(onto: Ontology) -> None:
    d = decide(onto, facts_of(onto, G4, (HEALTH,), subjects=3, ciio=False))
    assert d.mechanism.notation == "prohibited" and d.prohibited and d.evidence == ()
    (p,) = d.prohibitions
    assert p.notation == "XB-health-storage" and any("第十条" in s for s in p.sources)


def test_human_genetic_resource_information_needs_filing_and_backup(onto: Ontology) -> None:
    f = facts_of(onto, G4, (GENETIC,), subjects=3, ciio=False)
    assert f.genetic and f.health
    d = decide(onto, f)
    assert "XB-hgr" in [r.notation for r in d.rules]
    hgr = next(b for b in d.basis if b["rule"] == "XB-hgr")
    assert hgr["status"] == "unconfirmed" and any("第二十八条" in s for s in hgr["sources"])
    # 基因信息 is health-related too, so the prohibition wins here; the next test drops that marker
    assert onto.cross_border.human_genetic == frozenset({GENETIC})


def test_hgr_evidence_is_required_when_not_prohibited(ontology_copy: Path) -> None:
    edit_module(
        ontology_copy, "categories.ttl", lambda g: g.remove((MG.GeneticInformation, MG.healthRelatedInformation, None))
    )
    onto = load_ontology(ontology_copy)
    d = decide(onto, facts_of(onto, G4, (GENETIC,), subjects=3, ciio=False))
    assert not d.prohibited
    assert "hgr_filing_and_backup" in {e["any_of"][0]["notation"] for e in d.evidence}


def test_a_threshold_changed_in_the_ontology_changes_the_answer(ontology_copy: Path, onto: Ontology) -> None:
    assert mechanism(onto, n=60_000, ciio=False) == "exempt"

    def edit(g) -> None:  # type: ignore[no-untyped-def]
        g.set((MG.RulePersonalStandardContract, MG.subjectsAtLeast, Literal(50_000, datatype=XSD.nonNegativeInteger)))
        g.set((MG.RulePersonalExempt, MG.subjectsAtMost, Literal(49_999, datatype=XSD.nonNegativeInteger)))

    edit_module(ontology_copy, "crossborder.ttl", edit)
    changed = load_ontology(ontology_copy)
    assert mechanism(changed, n=60_000, ciio=False) == "standard_contract_or_certification"
    assert mechanism(changed, n=49_999, ciio=False) == "exempt"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda g: g.set((MG.RulePersonalExempt, MG.subjectsAtMost, Literal("many"))), "is not a whole number"),
        (lambda g: g.remove((MG.RuleNeither, MG.mechanism, None)), "has no mg:mechanism"),
        (lambda g: g.set((MG.RuleNeither, MG.appliesToDataKind, URIRef(MG.Nothing))), "mg:appliesToDataKind"),
    ],
)
def test_a_malformed_rule_is_a_located_problem(ontology_copy: Path, edit, message: str) -> None:  # type: ignore[no-untyped-def]
    edit_module(ontology_copy, "crossborder.ttl", edit)
    with pytest.raises(OntologyError) as caught:
        load_ontology(ontology_copy)
    found = [p for p in caught.value.problems if message in p.message_en]
    assert found and "crossborder.ttl" in found[0].where


def test_end_to_end_on_the_demo_hospital(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDGRADE_TODAY", "2026-12-01")  # the demo's transfer records are of 2026
    with demo_client(tmp_path, ("reader",), "xb") as client:
        check = client.post  # type: ignore[attr-defined]
        # telemetry with no personal information, General-2, to the service centre abroad: exempt
        ok = check("/api/transfers/check", json={"asset": "ct-01-tube-log-2026q3", "destination": "mfr-global"}).json()
        assert ok["allowed"] is True, ok
        assert ok["mechanism"] == "exempt" and ok["prohibitions"] == [] and ok["missing_evidence"] == []
        assert [b["rule"] for b in ok["basis"]] == ["XB-none"]
        # patient images abroad: health data may not be stored abroad, whatever R12 says
        no = check("/api/transfers/check", json={"asset": "ct-01-dicom-2026-09", "destination": "mfr-global"}).json()
        assert no["allowed"] is False and no["mechanism"] == "prohibited"
        assert [p["rule"] for p in no["prohibitions"]] == ["XB-health-storage"]
        # the demo's records of 2026 provided 163,496 people abroad before this
        assert no["counts"]["subjects"] == 3665 and no["counts"]["year_before"]["subjects"] == 163_496
        assert no["counts"]["with_this"]["subjects"] == 163_496 + 3665
        assert all(b["rule"] is not None for b in no["basis"])  # the institution record says: not a CIIO
        # the same asset to a domestic destination: no cross-border keys
        home = check("/api/transfers/check", json={"asset": "ct-01-dicom-2026-09", "destination": "nhic"}).json()
        assert home["mechanism"] is None and home["prohibitions"] == home["basis"] == home["missing_evidence"] == []
        assert home["counts"] == {}
        # remote service records: personal information of 14 people, not health-related; with the
        # year's 163,496 people before it, a standard contract, whose evidence is missing
        body = check(
            "/api/transfers/check", json={"asset": "mr-01-remote-service-2026q3", "destination": "mfr-global"}
        ).json()
        assert body["allowed"] is False and body["prohibitions"] == []
        assert body["mechanism"] == "standard_contract_or_certification"
        assert {m["required_by"] for m in body["missing_evidence"]} == {"standard_contract_or_certification", "XB-pipl"}
        assert all(
            "尚未登记" in m["message_zh"] and "not recorded" in m["message_en"] for m in body["missing_evidence"]
        )
        # a destination that does not say whether it is abroad is taken to be (fail closed)
        svc = client.service  # type: ignore[attr-defined]
        nhic = svc.ids.destination("nhic")
        assert (str(MG.crossBorder), "false") in svc.store.about(str(nhic), Graphs.INVENTORY)
        svc.store.apply(Changeset(Graphs.INVENTORY, removals=[(nhic, MG.crossBorder, Literal(False))]))
        assert all(p != str(MG.crossBorder) for p, _ in svc.store.about(str(nhic), Graphs.INVENTORY))
        unsure = check("/api/transfers/check", json={"asset": "ct-01-dicom-2026-09", "destination": "nhic"}).json()
        assert unsure["allowed"] is False and unsure["mechanism"] == "prohibited"
        assert any(
            b["rule"] is None and "境外" in b["text_zh"] and "fail closed" in b["text_en"] for b in unsure["basis"]
        )


def test_cli_prints_the_cross_border_answer(tmp_path: Path) -> None:
    from tests.test_cli_store import medgrade

    store = f"oxigraph:{tmp_path / 'db'}"
    env = {"MEDGRADE_TODAY": "2026-12-01"}
    assert medgrade("--store", store, "init", "--demo", cwd=tmp_path, env=env).returncode == 0
    assert medgrade("--store", store, "institution", "set", "--ciio", cwd=tmp_path, env=env).returncode == 0
    proc = medgrade(
        "--store", store, "check-transfer", "mr-01-remote-service-2026q3", "--to", "mfr-global", cwd=tmp_path, env=env
    )
    assert proc.returncode == 1, proc.stderr
    text = proc.stdout
    assert "数据出境 / leaving the country: 数据出境安全评估 / security assessment (security_assessment)" in text
    assert "依据 / basis:" in text and "XB-pi-ciio" in text and "PIPL art. 40" in text
    assert "缺少证明材料 / missing evidence:" in text and "separate consent" in text
    proc = medgrade(
        "--store", store, "check-transfer", "ct-01-dicom-2026-09", "--to", "mfr-global", cwd=tmp_path, env=env
    )
    assert proc.returncode == 1 and "禁止 / prohibited [XB-health-storage]" in proc.stdout
    proc = medgrade("--store", store, "check-transfer", "ct-01-dicom-2026-09", "--to", "nhic", cwd=tmp_path, env=env)
    assert "数据出境" not in proc.stdout
