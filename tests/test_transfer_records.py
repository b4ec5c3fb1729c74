"""Transfer records and the institution record (数据出境, issue #20): the mechanism each record
needed by the people provided abroad since 1 January (Asia/Shanghai) across records and
destinations, the boundaries, the reset on 1 January, back-dated records judged again, CIIO on
and off, the exemption by declared purpose, the health-data prohibition, evidence clearing R16,
bad input changing nothing, the audit trail, and the API and CLI.

The tests record in 2024 and 2025 on the demo hospital (today: 2026-12-01), so the demo's own
2026 records do not count toward them (each year is counted on its own)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import RDF, RDFS

from kg.errors import InputError, MedgradeError, NotFoundError
from kg.namespaces import MG
from kg.service import Service
from kg.settings import Settings
from kg.store import Changeset, Graphs

TODAY = dt.date(2026, 12, 1)
PI_ASSET = "mr-01-remote-service-2026q3"  # personal information (engineers, patients named), not health-related
NO_PI = "ct-01-tube-log-2026q3"  # device log, no personal information
HEALTH = "ct-01-dicom-2026-09"  # images: health-related personal information
ABROAD, OTHER, HOME = "mfr-global", "partner-abroad", "nhic"
FILING = "standard_contract_filing=粤网信备-2025-0042"
PIPL = ("separate_consent=CONSENT-2025-7", "pi_impact_assessment=PIA-2025-3")


@pytest.fixture
def svc() -> Iterator[Service]:
    service = Service(Settings(store="memory:", today=TODAY))
    service.initialize(demo=True)
    partner = service.ids.destination(OTHER)  # a second destination abroad
    service.store.apply(
        Changeset(
            Graphs.INVENTORY,
            triples=[
                (partner, RDF.type, MG.Destination),
                (partner, RDFS.label, Literal("境外合作方")),
                (partner, MG.external, Literal(True)),
                (partner, MG.crossBorder, Literal(True)),
                (partner, MG.clearedUpTo, MG.GeneralData3),
            ],
        )
    )
    service.set_institution(actor="test", name="测试医院", ciio=False)
    yield service
    service.close()


def record(svc: Service, asset: str, n: int, day: str, to: str = ABROAD, **kw) -> dict:  # type: ignore[no-untyped-def,type-arg]
    return svc.record_transfer(asset, to, subjects=n, on=dt.date.fromisoformat(day), actor="test", **kw)


def r16(svc: Service) -> set[str]:
    """The records R16 finds lacking, the demo's own 2026 records aside."""
    demo = {f"transfer-record/{i['id']}" for i in svc.transfer_records(2026)["items"]}
    return {r.focus_id for r in svc.validate().results if r.rule == "R16"} - demo


def records_of(svc: Service, year: int) -> dict[str, dict]:  # type: ignore[type-arg]
    return {r["id"]: r for r in svc.transfer_records(year)["items"]}


def test_counts_add_up_across_records_and_destinations_within_a_year(svc: Service) -> None:
    a = record(svc, PI_ASSET, 60_000, "2025-03-01")
    assert a["mechanism"] == "exempt" and a["counts"]["with_this"]["subjects"] == 60_000
    b = record(svc, PI_ASSET, 39_999, "2025-04-01", to=OTHER)  # another destination: the same handler's year
    assert b["mechanism"] == "exempt" and b["counts"]["year_before"]["subjects"] == 60_000
    assert b["counts"]["with_this"]["subjects"] == 99_999
    c = record(svc, PI_ASSET, 1, "2025-05-01")
    assert c["mechanism"] == "standard_contract_or_certification"
    assert c["counts"]["with_this"] == {"subjects": 100_000, "sensitive_subjects": 0}
    assert [x["rule"] for x in c["basis"]] == ["XB-pi-100k", "XB-pipl"]
    # a record of data with no personal information does not count people
    d = record(svc, NO_PI, 500_000, "2025-05-02")
    assert d["mechanism"] == "exempt" and d["data_kinds"] == ["none"]
    assert d["counts"]["with_this"]["subjects"] == 100_000
    e = record(svc, PI_ASSET, 899_999, "2025-06-01", to=OTHER)
    assert e["mechanism"] == "standard_contract_or_certification"
    assert e["counts"]["with_this"]["subjects"] == 999_999
    f = record(svc, PI_ASSET, 1, "2025-06-02")
    assert f["mechanism"] == "security_assessment" and f["counts"]["with_this"]["subjects"] == 1_000_000
    listed = svc.transfer_records(2025)
    assert listed["totals"]["subjects"] == 1_000_000
    by = {(g["destination_id"], g["mechanism"]): g for g in listed["totals"]["by_destination"]}
    assert by[(OTHER, "exempt")]["subjects"] == 39_999
    assert by[(ABROAD, "exempt")]["records"] == 2 and by[(ABROAD, "exempt")]["subjects"] == 60_000
    assert {t["at_least"] for t in listed["thresholds"] if t["count"] == "subjects"} == {100_000, 1_000_000}


def test_sensitive_thresholds_count_sensitive_people(svc: Service) -> None:
    a = record(svc, PI_ASSET, 20_000, "2025-02-01", sensitive=9_999)
    assert a["mechanism"] == "standard_contract_or_certification"
    assert a["counts"]["with_this"] == {"subjects": 20_000, "sensitive_subjects": 9_999}
    b = record(svc, PI_ASSET, 1, "2025-02-02", sensitive=1)
    assert b["mechanism"] == "security_assessment"
    assert "XB-spi-10k" in [x["rule"] for x in b["basis"]]
    with pytest.raises(InputError, match="cannot exceed"):
        record(svc, PI_ASSET, 5, "2025-02-03", sensitive=6)


def test_the_count_starts_again_on_1_january(svc: Service) -> None:
    record(svc, PI_ASSET, 90_000, "2024-12-31")
    same_year = record(svc, PI_ASSET, 20_000, "2024-12-31")
    assert same_year["mechanism"] == "standard_contract_or_certification"
    next_year = record(svc, PI_ASSET, 20_000, "2025-01-01")
    assert next_year["mechanism"] == "exempt" and next_year["counts"]["year_before"]["subjects"] == 0
    assert svc.transfer_records(2024)["totals"]["subjects"] == 110_000


def test_today_is_the_date_in_asia_shanghai(monkeypatch: pytest.MonkeyPatch) -> None:
    from kg import clock

    service = Service(Settings(store="memory:"))
    monkeypatch.setattr(clock, "now", lambda: dt.datetime(2025, 12, 31, 16, 30, tzinfo=dt.UTC))
    assert service.today() == dt.date(2026, 1, 1)  # 00:30 on 1 January in Beijing
    monkeypatch.setattr(clock, "now", lambda: dt.datetime(2025, 12, 31, 15, 59, tzinfo=dt.UTC))
    assert service.today() == dt.date(2025, 12, 31)
    service.close()


def test_a_back_dated_record_judges_the_later_ones_again(svc: Service) -> None:
    a = record(svc, PI_ASSET, 60_000, "2025-03-01", evidence=PIPL)
    b = record(svc, PI_ASSET, 39_999, "2025-04-01", evidence=PIPL)
    assert a["compliant"] and b["compliant"] and b["mechanism"] == "exempt"
    assert not r16(svc)
    back = record(svc, PI_ASSET, 1, "2025-01-15", evidence=PIPL)  # entered later, dated earlier
    assert back["mechanism"] == "exempt" and back["counts"]["with_this"]["subjects"] == 1
    again = {r["id"]: r for r in back["rechecked"]}
    assert set(again) == {a["id"], b["id"]}  # both now count one more person
    assert again[b["id"]]["mechanism"] == "standard_contract_or_certification"
    assert again[b["id"]]["counts"]["with_this"]["subjects"] == 100_000
    assert not again[b["id"]]["compliant"]
    assert [m["required_by"] for m in again[b["id"]]["missing_evidence"]] == ["standard_contract_or_certification"]
    assert r16(svc) == {f"transfer-record/{b['id']}"}
    stored = records_of(svc, 2025)
    assert stored[b["id"]]["mechanism"] == "standard_contract_or_certification"
    assert stored[a["id"]]["counts"]["with_this"]["subjects"] == 60_001


def test_evidence_added_later_clears_r16(svc: Service) -> None:
    rec = record(svc, PI_ASSET, 150_000, "2025-05-01")
    assert rec["mechanism"] == "standard_contract_or_certification" and not rec["compliant"]
    assert {m["required_by"] for m in rec["missing_evidence"]} == {
        "standard_contract_or_certification",
        "XB-pipl",
    }
    assert len([r for r in rec["validation"]["results"] if r["rule"] == "R16"]) == 3
    assert r16(svc) == {f"transfer-record/{rec['id']}"}
    half = svc.add_transfer_evidence(rec["id"], list(PIPL), actor="test")
    assert not half["compliant"] and [m["required_by"] for m in half["missing_evidence"]] == [
        "standard_contract_or_certification"
    ]
    done = svc.add_transfer_evidence(rec["id"], [FILING], actor="test")
    assert done["compliant"] and done["missing_evidence"] == []
    assert {e["notation"]: e["reference"] for e in done["evidence"]} == {
        "standard_contract_filing": "粤网信备-2025-0042",
        "separate_consent": "CONSENT-2025-7",
        "pi_impact_assessment": "PIA-2025-3",
    }
    assert not [r for r in done["validation"]["results"] if r["rule"] == "R16"]
    assert not r16(svc)
    # a certification satisfies the mechanism as well as a filing would
    other = record(svc, PI_ASSET, 1, "2025-05-02", evidence=("pi_protection_certification=CERT-9", *PIPL), to=OTHER)
    assert other["compliant"] and other["mechanism"] == "standard_contract_or_certification"


def test_the_handlers_ciio_status_decides(svc: Service) -> None:
    assert record(svc, PI_ASSET, 10, "2025-01-10")["mechanism"] == "exempt"
    svc.set_institution(actor="test", ciio=True)
    assert svc.institution() == {"iri": f"{svc.ids.base}institution", "name": "测试医院", "ciio": True}
    ciio = record(svc, PI_ASSET, 10, "2025-01-11")
    assert ciio["mechanism"] == "security_assessment" and "XB-pi-ciio" in [b["rule"] for b in ciio["basis"]]
    # the check reads the institution too
    check = svc.check_transfer(PI_ASSET, ABROAD)
    assert check["mechanism"] == "security_assessment" and check["allowed"] is False
    svc.set_institution(actor="test", ciio=False)
    after = svc.check_transfer(PI_ASSET, ABROAD)  # the demo provided 163,496 people abroad in 2026
    assert after["mechanism"] == "standard_contract_or_certification"
    assert after["counts"]["with_this"]["subjects"] == 163_496 + 14


def test_no_institution_record_is_taken_as_a_ciio() -> None:
    with Service(Settings(store="memory:", today=TODAY)) as service:
        service.initialize(demo=True)
        service.store.apply(Changeset(Graphs.INVENTORY, subjects={URIRef(f"{service.ids.base}institution")}))
        assert service.institution() is None
        rec = service.record_transfer(PI_ASSET, ABROAD, subjects=3, on=dt.date(2025, 1, 1), actor="test")
        assert rec["mechanism"] == "security_assessment"
        with pytest.raises(InputError, match="needs a name"):
            service.set_institution(actor="test", ciio=False)


def test_an_exemption_by_declared_purpose(svc: Service) -> None:
    rec = record(svc, PI_ASSET, 150_000, "2025-07-01", purpose="emergency", evidence=PIPL)
    assert rec["mechanism"] == "exempt" and rec["compliant"]
    rules = [b["rule"] for b in rec["basis"]]
    assert "XB-purpose-emergency" in rules and "XB-pi-100k" not in rules
    assert rec["purpose"]["notation"] == "emergency"
    # it still counts toward the year's people (the stricter reading)
    later = record(svc, PI_ASSET, 1, "2025-07-02")
    assert later["mechanism"] == "standard_contract_or_certification"
    # a CIIO may rely on it too; the check takes the purpose as well
    svc.set_institution(actor="test", ciio=True)
    check = svc.check_transfer(PI_ASSET, ABROAD, purpose="contract", evidence=list(PIPL))
    assert check["mechanism"] == "exempt" and check["missing_evidence"] == [] and check["prohibitions"] == []
    assert check["allowed"] is False and {p["rule"] for p in check["problems"]} == {"R12"}  # clearance, not the law
    # it never lifts the health-data prohibition
    health = svc.check_transfer(HEALTH, ABROAD, purpose="emergency")
    assert health["mechanism"] == "prohibited" and health["allowed"] is False
    with pytest.raises(MedgradeError, match="unknown transfer purpose"):
        svc.check_transfer(PI_ASSET, ABROAD, purpose="tourism")


def test_health_data_abroad_is_a_violation_whatever_the_evidence(svc: Service) -> None:
    rec = record(
        svc,
        HEALTH,
        3665,
        "2025-09-01",
        evidence=("security_assessment_approval=SA-1", FILING, *PIPL),
    )
    assert rec["mechanism"] == "prohibited" and not rec["compliant"] and rec["missing_evidence"] == []
    assert [p["rule"] for p in rec["prohibitions"]] == ["XB-health-storage"]
    results = [r for r in rec["validation"]["results"] if r["rule"] == "R16"]
    assert [r["value"] for r in results] == [str(MG.ProhibitionHealthDataStorageAbroad)]


def test_a_domestic_record_is_not_judged(svc: Service) -> None:
    rec = record(svc, HEALTH, 3665, "2025-09-01", to=HOME)
    assert rec["abroad"] is False and rec["mechanism"] is None and rec["compliant"]
    assert rec["sensitive_subjects"] == 3665  # health information is sensitive: all of them by default
    assert svc.transfer_records(2025)["totals"]["subjects"] == 0
    assert not r16(svc)


def test_r16_agrees_with_the_records(svc: Service) -> None:
    record(svc, PI_ASSET, 100_000, "2025-01-01", evidence=(FILING, *PIPL))
    record(svc, PI_ASSET, 5, "2025-01-02")
    record(svc, NO_PI, 0, "2025-01-03")
    record(svc, HEALTH, 10, "2025-01-04")
    items = svc.transfer_records(2025)["items"]
    assert [i["compliant"] for i in items] == [True, False, True, False]
    assert r16(svc) == {f"transfer-record/{i['id']}" for i in items if not i["compliant"]}


def test_bad_input_changes_nothing(svc: Service) -> None:
    before = svc.store.count(Graphs.INVENTORY), svc.store.count(Graphs.AUDIT)
    bad = [
        (NotFoundError, dict(asset="no-such-asset")),
        (NotFoundError, dict(to="no-such-destination")),
        (InputError, dict(on="2026-12-02")),  # after today
        (InputError, dict(evidence=("standard_contract_filing",))),  # no reference
        (InputError, dict(evidence=("standard_contract_filing=",))),
        (MedgradeError, dict(evidence=("passport=1",))),  # unknown kind
        (InputError, dict(evidence=(FILING, FILING))),
        (MedgradeError, dict(purpose="holiday")),
        (InputError, dict(n=-1)),
    ]
    for error, kw in bad:
        args = {"asset": PI_ASSET, "to": ABROAD, "n": 10, "on": "2025-01-01", **kw}
        with pytest.raises(error):
            record(svc, args.pop("asset"), args.pop("n"), args.pop("on"), **args)
    assert (svc.store.count(Graphs.INVENTORY), svc.store.count(Graphs.AUDIT)) == before
    with pytest.raises(NotFoundError):
        svc.add_transfer_evidence("no-such-record", [FILING], actor="test")


def test_records_are_prov_activities_and_audited(svc: Service) -> None:
    rec = record(svc, PI_ASSET, 10, "2025-01-01", justification="厂家远程维修")
    node = rec["record"]
    facts = set(svc.store.about(node, Graphs.INVENTORY))
    assert (str(RDF.type), "http://www.w3.org/ns/prov#Activity") in facts
    assert (str(MG.providedAsset), str(svc.ids.asset(PI_ASSET))) in facts
    assert (str(MG.providedBy), f"{svc.ids.base}institution") in facts
    assert (str(MG.providedOn), "2025-01-01") in facts
    trail = svc.audit_trail(PI_ASSET)
    assert any(e.why == "厂家远程维修" and e.who == "test" for e in trail)
    # the record is not a part of its asset (a re-import of the asset replaces its parts)
    assert svc.ids.owner(node) is None and node.startswith(f"{svc.ids.base}transfer-record/")


def test_the_check_counts_this_years_records(svc: Service) -> None:
    before = svc.check_transfer(PI_ASSET, ABROAD)["counts"]["year_before"]["subjects"]
    svc.record_transfer(PI_ASSET, OTHER, subjects=99_000, actor="test")  # today, 2026
    after = svc.check_transfer(PI_ASSET, ABROAD)["counts"]
    assert after["year_before"]["subjects"] == before + 99_000
    assert after["with_this"]["subjects"] == before + 99_000 + 14


def test_api_records_lists_and_guards(tmp_path: Path) -> None:
    from tests.helpers import demo_client

    with demo_client(tmp_path, ("reader", "steward", "admin"), "xr") as client:

        def h(role: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {client.tokens[role]}"}  # type: ignore[attr-defined]

        assert "institution" not in client.get("/health").json()
        put = client.put("/api/institution", json={"name": "接口医院", "ciio": False}, headers=h("steward"))
        assert put.status_code == 403
        put = client.put("/api/institution", json={"name": "接口医院", "ciio": False}, headers=h("admin"))
        assert put.status_code == 200, put.text
        assert client.get("/health", headers=h("reader")).json()["institution"]["name"] == "接口医院"
        body = {"asset": PI_ASSET, "destination": ABROAD, "subjects": 120_000, "provided_on": "2025-02-01"}
        assert client.post("/api/transfers", json=body, headers=h("reader")).status_code == 403
        posted = client.post("/api/transfers", json=body, headers=h("steward"))
        assert posted.status_code == 200, posted.text
        rec = posted.json()
        assert rec["mechanism"] == "standard_contract_or_certification" and rec["compliant"] is False
        ev = client.post(
            f"/api/transfers/{rec['id']}/evidence",
            json={
                "evidence": {
                    "standard_contract_filing": "F-1",
                    "separate_consent": "C-1",
                    "pi_impact_assessment": "P-1",
                }
            },
            headers=h("steward"),
        )
        assert ev.status_code == 200 and ev.json()["compliant"] is True
        listed = client.get("/api/transfers", params={"year": 2025}).json()
        assert [i["id"] for i in listed["items"]] == [rec["id"]] and listed["totals"]["subjects"] == 120_000
        bad = client.post("/api/transfers", json={**body, "subjects": -1}, headers=h("steward"))
        assert bad.status_code == 422
        wrong = client.post("/api/transfers", json={**body, "purpose": "holiday"}, headers=h("steward"))
        assert wrong.status_code == 422 and "holiday" in wrong.text
        check = client.post(
            "/api/transfers/check",
            json={
                "asset": PI_ASSET,
                "destination": ABROAD,
                "purpose": "contract",
                "evidence": {"separate_consent": "C"},
            },
        ).json()
        assert check["mechanism"] == "exempt" and [m["required_by"] for m in check["missing_evidence"]] == ["XB-pipl"]


def test_cli_institution_and_records(tmp_path: Path) -> None:
    from tests.test_cli_store import medgrade

    store = f"oxigraph:{tmp_path / 'db'}"
    env = {"MEDGRADE_TODAY": TODAY.isoformat()}
    assert medgrade("--store", store, "init", "--demo", cwd=tmp_path, env=env).returncode == 0
    proc = medgrade("--store", store, "institution", "set", "--name", "命令行医院", "--not-ciio", cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "命令行医院" in proc.stdout and "否 / no" in proc.stdout
    proc = medgrade(
        "--store", store, "transfer", "record", PI_ASSET, "--to", ABROAD, "--subjects", "150000",
        "--on", "2025-03-01", "--evidence", "separate_consent=C-1", cwd=tmp_path, env=env,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr  # not compliant: R16
    assert "standard_contract_or_certification" in proc.stdout and "R16" in proc.stdout
    proc = medgrade("--store", store, "important-data", NO_PI, "--not-identified", "--by", "目录未列入",
                    "-j", "核对", "--json", cwd=tmp_path, env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["identified"] is False
    proc = medgrade("--store", store, "transfer", "list", "--year", "2025", cwd=tmp_path, env=env)
    assert proc.returncode == 0 and "150,000" in proc.stdout
    proc = medgrade("--store", store, "transfer", "record", PI_ASSET, "--to", ABROAD, "--subjects", "1",
                    "--evidence", "nonsense", cwd=tmp_path, env=env)  # fmt: skip
    assert proc.returncode == 2 and "KIND=REFERENCE" in proc.stderr


def test_important_data_identified_or_not(svc: Service) -> None:
    svc.assess(NO_PI, actor="test", justification="按重要数据目录复核", level="重要数据")
    unrecorded = svc.check_transfer(NO_PI, ABROAD)
    assert unrecorded["mechanism"] == "security_assessment"
    assert any(b["rule"] is None and "medgrade important-data" in b["text_en"] for b in unrecorded["basis"])
    with pytest.raises(InputError, match="rests on"):
        svc.identify_important(NO_PI, identified=False, by=" ", actor="test", justification="x")
    done = svc.identify_important(
        NO_PI, identified=False, by="省网信办重要数据目录（2026版）未列入", actor="test", justification="核对目录"
    )
    assert done["identified"] is False and done["record"]
    answer = svc.check_transfer(NO_PI, ABROAD)
    assert answer["mechanism"] == "exempt" and [b["rule"] for b in answer["basis"]] == ["XB-important-not-notified"]
    svc.identify_important(NO_PI, identified=True, by="省网信办告知书〔2026〕7号", actor="test", justification="告知")
    assert svc.check_transfer(NO_PI, ABROAD)["mechanism"] == "security_assessment"
    facts = dict(svc.store.about(str(svc.ids.asset(NO_PI)), Graphs.INVENTORY))
    assert facts[str(MG.importantDataIdentified)] == "true"
    assert facts[str(MG.importantDataIdentifiedBy)] == "省网信办告知书〔2026〕7号"  # the earlier one is replaced
    assert any(e.why == "告知" for e in svc.audit_trail(NO_PI))
    rec = record(svc, NO_PI, 0, "2025-02-01", evidence=("security_assessment_approval=国网信评〔2025〕12号",))
    assert rec["mechanism"] == "security_assessment" and rec["compliant"]
