"""Issue #15: a level is never silently too low. The effective level takes the rules' minimum,
element names count, a masking approval stays with its derivation, in-place updates are not
cycles, and what-if refuses what does not exist. Each case as a user meets it: a spreadsheet
imported with the CLI, the API, and OpenLineage events as Spark sends them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from rdflib import Literal, URIRef
from rdflib.namespace import RDF

from kg import apikeys
from kg.importers.openlineage import dataset_id
from kg.namespaces import MG, PROV
from kg.ontology import Ontology
from kg.service import Service
from kg.settings import Settings
from kg.store import Changeset, Graphs, open_store
from tests.events import run_event
from tests.helpers import demo_client
from tests.test_cli_store import medgrade

DATA = Path(__file__).parent / "data"
SPARK = DATA / "openlineage" / "spark"
HEADER = "资产标识,资产名称,数据分类,数据级别,所属设备,设备类型,数据元素,来源资产,加工方式,个人信息,数据主体数量,责任部门,备注,审批人,审批日期,审批依据,提供去向\n"
INF = "https://w3id.org/medgrade/graph/inferred"


def csv(path: Path, *rows: str) -> Path:
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def run(store: str, cwd: Path, *args: str, code: int = 0) -> str:
    proc = medgrade("--store", store, *args, cwd=cwd)
    assert proc.returncode == code, proc.stdout + proc.stderr
    return proc.stdout


# --- 1. an under-assessment never decides ---------------------------------------------------------
def test_an_under_assessed_import_warns_and_never_lowers_what_medgrade_acts_on(tmp_path: Path) -> None:
    store = f"oxigraph:{tmp_path / 'db'}"
    run(store, tmp_path, "init", "--demo")
    rows = csv(
        tmp_path / "wrong.csv",
        "dose-wrong,CT 剂量记录（定级有误）,患者剂量记录,1,ct-01,,患者姓名;身份证号,,,是,50000,影像科,,,,,",
    )
    report = json.loads(run(store, tmp_path, "import", str(rows), "--json"))
    assert report["added"] == {"asset": 1}  # the steward's record is evidence: imported
    below = [w for w in report["warnings"] if "below the rules' minimum" in w]
    assert len(below) == 1 and "row 2" in below[0] and "数据级别" in below[0]
    assert "一般数据4级" in below[0] and "身份证号" in below[0] and "General-4" in below[0]
    text = run(store, tmp_path, "import", str(rows))  # the same again: warned again, nothing written
    assert "低于规则要求的最低级别" in text

    level = json.loads(run(store, tmp_path, "level", "dose-wrong", "--json"))
    assert level["assessed"]["rank"] == 1 and level["minimum"]["rank"] == 4
    assert level["effective"]["rank"] == 4 and level["set_by"] == "rules"
    assert level["measures"] and level["reasons"][0].startswith("R11")
    shown = run(store, tmp_path, "level", "dose-wrong")
    assert (
        "set by: the grading rules (R2–R6) (rules)" in shown and "规则最低级别 / rules' minimum: 一般数据4级" in shown
    )

    answer = json.loads(run(store, tmp_path, "check-transfer", "dose-wrong", "--to", "mfr-global", "--json", code=1))
    assert answer["allowed"] is False and answer["effective"]["rank"] == 4
    assert {p["rule"] for p in answer["problems"]} == {"R12"}
    assert {("R3", "dose-wrong"), ("R4", "dose-wrong")} <= {(f["rule"], f["focus_id"]) for f in answer["fix_first"]}

    exported = tmp_path / "list.csv"
    run(store, tmp_path, "export", "--format", "csv", "-o", str(exported))
    import csv as csvlib

    with exported.open(encoding="utf-8-sig", newline="") as f:
        row = next(r for r in csvlib.DictReader(f) if r["资产标识"] == "dose-wrong")
    assert row["数据级别"] == "一般数据1级" and row["生效级别"] == "一般数据4级"  # recorded; acted on: the minimum


@pytest.fixture
def api(tmp_path: Path):
    with demo_client(tmp_path, apikeys.ROLES, "w") as client:
        yield client


def steward(client: TestClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {client.tokens['steward']}"}  # type: ignore[attr-defined]


def test_an_assessment_below_the_minimum_through_the_api_is_recorded_not_acted_on(api: TestClient) -> None:
    asset = "ct-01-dose-sr-2026-09"  # 患者剂量记录 with 患者姓名, 住院号, …: General-4 in the demo
    r = api.put(
        f"/api/assets/{asset}/assessment",
        json={"level": "1", "justification": "录入错误 / a slip of the keyboard"},
        headers=steward(api),
    )
    assert r.status_code == 200
    level = r.json()["level"]
    # the rules require 一般数据3级 (patient dose records; a patient's name and numbers): not 1
    assert level["assessed"]["rank"] == 1 and level["minimum"]["rank"] == level["effective"]["rank"] == 3
    assert level["set_by"] == "rules" and not r.json()["validation"]["conforms"]
    check = api.post("/api/transfers/check", json={"asset": asset, "destination": "mfr-global"}).json()
    assert check["allowed"] is False and check["effective"]["rank"] == 3  # cleared up to 一般数据2级
    assert any("cleared up to" in p["message_en"] for p in check["problems"])
    assert any(f["rule"] in ("R3", "R4") and f["focus_id"] == asset for f in check["fix_first"])
    listed = api.get("/api/assets", params={"q": asset}).json()["items"]
    assert [i["effective"]["rank"] for i in listed if i["id"] == asset] == [3]
    detail = api.get(f"/api/assets/{asset}").json()
    assert detail["effective"]["rank"] == detail["minimum"]["rank"] == 3


# --- 2. element names count -----------------------------------------------------------------------
def test_the_readme_example_holds_through_a_real_import(tmp_path: Path, onto: Ontology) -> None:
    svc = Service(Settings(store="memory:"), store=open_store("memory:"), ontology=onto)
    shutil.copytree(DATA / "small", tmp_path / "small")
    svc.import_files(sorted((tmp_path / "small").glob("*.csv")))
    report = svc.import_files(
        [
            csv(
                tmp_path / "ids.csv",
                "reg-x,检查登记,设备使用数据,3,ct-01,,身份证号;CTDIvol;检查部位,,,,,影像科,,,,,",
                "reg-y,检查登记（二）,设备使用数据,,ct-01,,CTDIvol;ＰａｔｉｅｎｔＩＤ,,,,,影像科,,,,,",
            )
        ]
    )
    unresolved = [w.subject for w in report.warnings if w.code == "element-name-unresolved"]
    assert sorted(unresolved) == ["CTDIvol", "检查部位"]  # once per distinct name, whatever the rows
    level = svc.level("reg-x")
    assert level["minimum"]["label_zh"] == "一般数据4级" and level["effective"]["label_zh"] == "一般数据4级"
    assert any(r.startswith("R4：数据元素“身份证号”含个人身份信息") for r in level["reasons"])
    assert svc.level("reg-y")["minimum"]["label_zh"] == "一般数据3级"  # full-width ID: a personal identifier
    element = svc.ids.element("reg-x", "身份证号")
    inferred = set(svc.store.triples(Graphs.INFERRED))
    assert (element, MG.personalInformationByName, MG.IdentityDocumentInformation) in inferred
    assert (svc.ids.asset("reg-x"), MG.minimumLevel, MG.GeneralData4) in inferred
    assert (svc.ids.asset("reg-x"), MG.effectiveLevel, MG.GeneralData4) in inferred
    results = [r for r in svc.validate().results if r.focus_id == "reg-x"]
    assert [(r.rule, r.severity) for r in results if r.rule == "R4"] == [("R4", "Violation")]
    assert "个人身份信息" in next(r.message_zh for r in results if r.rule == "R4")


def test_fuzzy_suggestions_never_raise_a_level(onto: Ontology) -> None:
    from kg.grading import AssetFacts, ElementFacts, grade

    # the assistant links 住宿情况 to accommodation records loosely; grading reads exact terms only
    facts = AssetFacts("x", onto.categories.find("运行状态").iri, elements=(ElementFacts("e", "住宿情况"),))
    assert grade(facts, onto).level.rank == onto.categories.find("运行状态").floor.rank  # type: ignore[union-attr]
    named = AssetFacts("x", onto.categories.find("运行状态").iri, elements=(ElementFacts("e", "住宿信息"),))
    assert grade(named, onto).level.label_zh == "一般数据4级"  # 住宿信息 is a synonym of precise location


# --- 3. a masking approval stays with its derivation ----------------------------------------------
def event(run: str, job: str, masking: bool, minute: int) -> dict[str, object]:
    """A Spark-style COMPLETE event copying column 患者姓名 of the inventory's ct-01-dose."""
    return {
        "eventType": "COMPLETE",
        "eventTime": f"2026-11-02T03:{minute:02d}:00.000Z",
        "producer": "https://github.com/OpenLineage/OpenLineage/tree/1.24.0/integration/spark",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": run},
        "job": {"namespace": "hospital-etl", "name": job},
        "inputs": [{"namespace": "medgrade", "name": "ct-01-dose"}],
        "outputs": [
            {
                "namespace": "postgres://dw.hospital:5432",
                "name": "registry.names",
                "facets": {
                    "columnLineage": {
                        "_producer": "https://github.com/OpenLineage/OpenLineage/tree/1.24.0/integration/spark",
                        "_schemaURL": "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json"
                        "#/$defs/ColumnLineageDatasetFacet",
                        "fields": {
                            "患者姓名": {
                                "inputFields": [
                                    {
                                        "namespace": "medgrade",
                                        "name": "ct-01-dose",
                                        "field": "姓名",
                                        "transformations": [
                                            {"type": "DIRECT", "subtype": "TRANSFORMATION", "masking": masking}
                                        ],
                                    }
                                ]
                            }
                        },
                    }
                },
            }
        ],
    }


RUN_A, RUN_B = "0193482b-0000-7000-8000-00000000000a", "0193482b-0000-7000-8000-00000000000b"


@pytest.fixture
def small(tmp_path: Path, onto: Ontology) -> Service:
    svc = Service(Settings(store="memory:"), store=open_store("memory:"), ontology=onto)
    shutil.copytree(DATA / "small", tmp_path / "small")
    svc.import_files(sorted((tmp_path / "small").glob("*.csv")))
    return svc


def send(svc: Service, tmp_path: Path, name: str, *events: dict[str, object]):  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_text("\n".join(json.dumps(e, ensure_ascii=False) for e in events) + "\n", encoding="utf-8")
    return svc.import_files([path])


def copy(run: str, source: str, target: str) -> dict[str, object]:
    """A Spark run event copying one warehouse table into another."""
    return run_event(
        run,
        ("hospital-etl", f"copy.{target}"),
        [("warehouse", source)],
        [("warehouse", target)],
        when="2026-11-02T04:00:00.000Z",
        producer="https://github.com/OpenLineage/OpenLineage/tree/1.24.0/integration/spark",
    )


def approve(svc: Service, tmp_path: Path, node: URIRef) -> None:
    """Approve a run or one qualified derivation as a steward does today: its description as the
    store holds it, with an approval added, imported as Turtle (an import replaces it whole)."""
    from rdflib import Graph

    g = Graph()
    for s, p, o in svc.store.triples(Graphs.INVENTORY):
        if s == node:
            g.add((s, p, o))
    assert len(g), node
    approval = URIRef(f"{node}/approval")
    g.add((node, MG.approval, approval))
    g.add((approval, RDF.type, MG.Approval))
    g.add((approval, MG.actor, Literal("王敏")))
    ttl = tmp_path / f"approve-{len(list(tmp_path.iterdir()))}.ttl"
    g.serialize(ttl, format="turtle")
    svc.import_files([ttl])


def column_level(svc: Service) -> tuple[str, str]:
    out = dataset_id("postgres://dw.hospital:5432", "registry.names", "medgrade")
    column = svc.ids.element(out, "患者姓名")
    inferred = {(str(s), str(p)): str(o) for s, p, o in svc.store.triples(Graphs.INFERRED)}
    return (
        inferred[(str(column), str(MG.effectiveLevel))].rsplit("#", 1)[-1],
        inferred[(str(svc.ids.asset(out)), str(MG.effectiveLevel))].rsplit("#", 1)[-1],
    )


def test_approving_a_run_covers_its_masked_derivations_and_no_other_run(small: Service, tmp_path: Path) -> None:
    send(small, tmp_path, "a.jsonl", event(RUN_A, "names.masked", True, 1))
    assert column_level(small) == ("GeneralData4", "GeneralData4")  # masked, not approved: nothing lowered
    approve(small, tmp_path, URIRef(small.ids.base + "run/" + RUN_A))
    assert column_level(small) == ("GeneralData3", "GeneralData3")  # the de-identification cap
    send(small, tmp_path, "b.jsonl", event(RUN_B, "names.copy", False, 5))  # another job copies it in clear
    assert column_level(small) == ("GeneralData4", "GeneralData4")
    small.propagate()
    assert column_level(small) == ("GeneralData4", "GeneralData4")
    out = dataset_id("postgres://dw.hospital:5432", "registry.names", "medgrade")
    column = small.ids.element(out, "患者姓名")
    derivations = [
        o for s, p, o in small.store.triples(Graphs.INVENTORY) if s == column and p == PROV.qualifiedDerivation
    ]
    assert len(derivations) == 2  # one per run and pair
    masked = {str(o) for s, p, o in small.store.triples(Graphs.INVENTORY) if s in derivations and p == MG.masking}
    assert masked == {"true", "false"}


def test_approving_one_derivation_approves_that_derivation_only(small: Service, tmp_path: Path) -> None:
    send(small, tmp_path, "a.jsonl", event(RUN_A, "names.masked", True, 1), event(RUN_B, "names.masked", True, 7))
    out = dataset_id("postgres://dw.hospital:5432", "registry.names", "medgrade")
    column, source = small.ids.element(out, "患者姓名"), small.ids.element("ct-01-dose", "姓名")
    first = small.ids.derivation(str(column), small.ids.base + "run/" + RUN_A, str(source))
    approve(small, tmp_path, first)
    assert column_level(small) == ("GeneralData4", "GeneralData4")  # run B's masking is not approved
    approve(small, tmp_path, small.ids.derivation(str(column), small.ids.base + "run/" + RUN_B, str(source)))
    assert column_level(small) == ("GeneralData3", "GeneralData3")


def test_old_masking_nodes_are_migrated_on_the_next_start(small: Service, tmp_path: Path) -> None:
    """A store written before 0.2: one masked node per (output, input) pair, shared by runs."""
    send(small, tmp_path, "a.jsonl", event(RUN_A, "names.masked", True, 1), event(RUN_B, "names.copy", False, 5))
    out = dataset_id("postgres://dw.hospital:5432", "registry.names", "medgrade")
    column, source = small.ids.element(out, "患者姓名"), small.ids.element("ct-01-dose", "姓名")
    import hashlib

    old = URIRef(f"{column}/from/{hashlib.sha1(str(source).encode()).hexdigest()[:12]}")
    run_a = URIRef(small.ids.base + "run/" + RUN_A)
    new_nodes = {
        o for s, p, o in small.store.triples(Graphs.INVENTORY) if s == column and p == PROV.qualifiedDerivation
    }
    small.store.apply(Changeset(Graphs.INVENTORY, subjects=set(new_nodes)))  # back to the old form:
    small.store.apply(  # only the masked one, keyed by the pair, approved
        Changeset(
            Graphs.INVENTORY,
            removals=[(column, PROV.qualifiedDerivation, n) for n in new_nodes],
            triples=[
                (column, PROV.qualifiedDerivation, old),
                (old, RDF.type, PROV.Derivation),
                (old, PROV.entity, source),
                (old, PROV.hadActivity, run_a),
                (old, MG.masking, Literal(True)),
                (old, MG.approval, URIRef(f"{old}/approval")),
            ],
        )
    )
    small.propagate()
    assert column_level(small) == ("GeneralData3", "GeneralData3")  # the old reading: run B is invisible
    again = Service(small.settings, store=small.store, ontology=small.ontology)
    done = again.recover()
    assert any("re-keyed per run" in line for line in done)
    g = set(again.store.triples(Graphs.INVENTORY))
    assert not any(s == old or o == old for s, _, o in g)
    a = again.ids.derivation(str(column), str(run_a), str(source))
    b = again.ids.derivation(str(column), again.ids.base + "run/" + RUN_B, str(source))
    assert (a, MG.approval, URIRef(f"{old}/approval")) in g and (a, MG.masking, Literal(True)) in g
    assert (b, MG.masking, Literal(False)) in g  # run B generated the output from the source: not trusted masked
    assert column_level(again) == ("GeneralData4", "GeneralData4")
    assert again.recover() == []  # once


# --- 4. in-place updates are not cycles -----------------------------------------------------------
def test_merge_into_as_spark_sends_it_is_not_a_cycle(small: Service) -> None:
    events = sorted(SPARK.glob("*.json"))
    report = small.import_files(events)
    assert not [w for w in report.warnings if w.code == "derivation-cycle"]
    g = set(small.store.triples(Graphs.INVENTORY))
    assert not [(s, o) for s, p, o in g if p == PROV.wasDerivedFrom and s == o]
    for ns, target, updates in (
        ("file", "/tmp/iceberg/default.events", "/tmp/iceberg/default.updates"),
        ("file", "/tmp/delta/events", "/tmp/delta/updates"),
    ):
        column = small.ids.element(dataset_id(ns, target, "medgrade"), "event_id")
        other = small.ids.element(dataset_id(ns, updates, "medgrade"), "event_id")
        assert (column, PROV.wasDerivedFrom, other) in g  # the other input stays
    assert not [r for r in small.validate().results if r.rule == "R10"]


def test_a_real_cycle_across_datasets_still_warns_and_violates_r10(small: Service, tmp_path: Path) -> None:
    report = send(
        small,
        tmp_path,
        "loop.jsonl",
        copy("0193482b-0000-7000-8000-0000000000c1", "t1", "t2"),
        copy("0193482b-0000-7000-8000-0000000000c2", "t2", "t1"),
    )
    cycles = [w for w in report.warnings if w.code == "derivation-cycle"]
    assert len(cycles) == 1 and "R10" in cycles[0].message_en
    r10 = {r.focus for r in small.validate().results if r.rule == "R10"}
    assert r10 == {str(small.ids.asset(dataset_id("warehouse", t, "medgrade"))) for t in ("t1", "t2")}


# --- 5. what-if refuses what does not exist -------------------------------------------------------
def test_preview_with_unknown_ids_is_a_bilingual_404_and_computes_nothing(api: TestClient) -> None:
    for body in (
        {"set_levels": {"nope": "1"}},
        {"add": [{"source": "ct-01-dicom-2026-09", "target": "nope"}]},
        {"remove": [{"source": "nope", "target": "ct-01-dicom-2026-09"}]},
    ):
        r = api.post("/api/preview", json=body)
        assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
        problem = r.json()
        assert "nope" in problem["detail"] and "nope" in problem["detail_zh"] and "清单中没有" in problem["detail_zh"]
    ok = api.post("/api/preview", json={"set_levels": {"ct-01-dicom-2026-09": "1"}})
    assert ok.status_code == 200 and ok.json()["changes"] == []  # its rules' minimum holds it at General-4


def test_a_store_from_an_earlier_medgrade_is_propagated_again_on_start(small: Service) -> None:
    """The inferred graph of 0.1 knows no rules' minimum: the next process rebuilds it."""
    small.store.update(f"DELETE WHERE {{ GRAPH <{INF}> {{ ?s <{MG.minimumLevel}> ?o }} }}")
    small.store.update(
        "DELETE WHERE { GRAPH <https://w3id.org/medgrade/graph/meta> { "
        "<https://w3id.org/medgrade/graph/inferred#format> ?p ?o } }"
    )
    again = Service(small.settings, store=small.store, ontology=small.ontology)
    assert again.recover() == ["inferred graph rebuilt for this version of medgrade / 已按本版本重建推理图"]
    assert any(p == MG.minimumLevel for _, p, _ in again.store.triples(Graphs.INFERRED))
    assert again.recover() == []


@pytest.mark.parametrize(
    ("assessed", "minimum", "inherited", "effective", "expected"),
    [
        (1, 4, None, 4, "rules"),  # the case of issue #15: the steward's slip is not what decides
        (4, 3, None, 4, "assessed"),  # the steward's judgement holds the level up
        (3, 3, None, 3, "rules"),  # an assessment that only repeats the rules
        (2, 1, 4, 4, "inherited"),  # lineage
        (4, 3, 4, 4, "inherited"),  # it would hold without the assessment
        (None, None, None, None, None),
    ],
)
def test_set_by_names_what_holds_the_effective_level_up(
    onto: Ontology,
    assessed: int | None,
    minimum: int | None,
    inherited: int | None,
    effective: int | None,
    expected: str | None,
) -> None:
    from kg.answers import set_by

    def lv(rank: int | None):  # type: ignore[no-untyped-def]
        return onto.level(rank) if rank is not None else None

    assert set_by(lv(effective), lv(assessed), lv(minimum), lv(inherited)) == expected


def test_the_lowest_level_holds_what_has_no_other_and_passes_it_on(small: Service, tmp_path: Path) -> None:
    """A derived product of a category whose floor is the lowest level, made from unclassified
    data: the floor is its level (propagation reads such products only when nothing else gives
    them one), and it passes it on."""

    send(
        small,
        tmp_path,
        "chain.jsonl",
        copy("0193482b-0000-7000-8000-0000000000d1", "u1", "u2"),
        copy("0193482b-0000-7000-8000-0000000000d2", "u2", "u3"),
    )
    u1, u2, u3 = (dataset_id("warehouse", t, "medgrade") for t in ("u1", "u2", "u3"))
    assert small.level(u2)["effective"] is None  # unclassified, nothing arrives
    small.assess(u2, actor="王敏", justification="归类", category="汇总报表")  # floor: the lowest level
    two, three = small.level(u2), small.level(u3)
    assert two["effective"]["rank"] == 1 and two["set_by"] == "rules" and two["minimum"]["rank"] == 1
    assert three["effective"]["rank"] == 1 and three["origin"] == str(small.ids.asset(u2))
    assert small.level(u1)["effective"] is None
    report = small.propagate()  # a full run reads u2's floor only because nothing else gives it a level
    assert (report.added, report.removed) == (0, 0)
    inferred = set(small.store.triples(Graphs.INFERRED))
    assert (small.ids.asset(u2), MG.effectiveLevel, MG.GeneralData1) in inferred
    assert not any(p == MG.minimumLevel and s == small.ids.asset(u2) for s, p, _ in inferred)  # no requirement
