"""Inventory import: all or nothing, located bilingual errors, idempotent, updates by replacement."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from rdflib import BNode, Literal, URIRef

from kg.errors import ImportProblem
from kg.namespaces import MG, PROV, RDF, RDFS
from kg.service import Service
from kg.settings import Settings
from kg.store import Graphs, open_store, sparql_term

SMALL = Path(__file__).parent / "data" / "small"
HEADER = (
    "资产标识,资产名称,数据分类,数据级别,所属设备,设备类型,数据元素,来源资产,加工方式,个人信息,数据主体数量,"
    "责任部门,备注,审批人,审批日期,审批依据,提供去向\n"
)


@pytest.fixture
def svc(onto) -> Service:  # type: ignore[no-untyped-def]
    return Service(Settings(store="memory:"), store=open_store("memory:"), ontology=onto)


def small(tmp_path: Path) -> list[Path]:
    target = tmp_path / "small"
    shutil.copytree(SMALL, target)
    return sorted(target.glob("*.csv"))


def write(tmp_path: Path, name: str, rows: str, header: str = HEADER) -> Path:
    path = tmp_path / name
    path.write_text(header + rows, encoding="utf-8")
    return path


def inventory(svc: Service) -> set[tuple[object, object, object]]:
    return set(svc.store.triples(Graphs.INVENTORY))


def test_import_writes_the_inventory(svc: Service, tmp_path: Path) -> None:
    report = svc.import_files(small(tmp_path))
    assert report.added == {"asset": 6, "device": 2, "destination": 1}
    ids = svc.ids
    dose = ids.asset("ct-01-dose")
    g = inventory(svc)
    assert (dose, MG.hasCategory, MG.PatientDoseRecords) in g
    assert (dose, MG.assessedLevel, MG.GeneralData4) in g
    assert (dose, MG.producedBy, ids.device("ct-01")) in g
    assert (dose, MG.subjectCount, Literal(12000)) in g
    assert (ids.element("ct-01-dose", "住院号"), RDFS.label, Literal("住院号")) in g
    deid = ids.asset("dose-deid")
    assert (deid, PROV.wasDerivedFrom, ids.asset("dose-extract")) in g
    assert (ids.activity("dose-deid"), MG.transformationType, MG.Deidentification) in g
    assert (ids.activity("dose-deid"), MG.approval, ids.approval("dose-deid")) in g
    assert (ids.approval("dose-deid"), MG.actor, Literal("王敏（数据安全官）")) in g
    assert (ids.transfer("dose-package", "nhic"), MG.toDestination, ids.destination("nhic")) in g
    assert (ids.device("ct-01"), URIRef(RDFS.label), Literal("1号CT")) in g
    assert (ids.asset("vent-01-alarm"), MG.assessedLevel, MG.GeneralData3) in g  # level given as rank "3"
    # the ontology was loaded on first use, and the import left an audit record
    assert svc.initialized()
    audit = svc.store.select(
        f"SELECT ?who ?n WHERE {{ GRAPH {sparql_term(Graphs.AUDIT)} {{ "
        f"?r a {sparql_term(MG.ChangeRecord)} ; {sparql_term(MG.actor)} ?who ; "
        f"{sparql_term(MG.sourceFile)} ?n }} }}"
    )
    assert {str(r["n"]) for r in audit} == {"assets.csv", "devices.csv", "destinations.csv"}


def test_reimport_changes_nothing(svc: Service, tmp_path: Path) -> None:
    files = small(tmp_path)
    svc.import_files(files)
    before = inventory(svc)
    audit = svc.store.count(Graphs.AUDIT)
    report = svc.import_files(files)
    assert not report.wrote and report.unchanged == {"asset": 6, "device": 2, "destination": 1}
    assert inventory(svc) == before and svc.store.count(Graphs.AUDIT) == audit


def test_a_changed_row_replaces_that_asset_and_its_parts_only(svc: Service, tmp_path: Path) -> None:
    files = small(tmp_path)
    svc.import_files(files)
    before = inventory(svc)
    assets = next(p for p in files if p.name == "assets.csv")
    text = assets.read_text(encoding="utf-8").replace("球管热容量;曝光次数", "曝光次数;阳极温度")
    assets.write_text(text, encoding="utf-8")
    report = svc.import_files([assets])
    assert report.changed == {"asset": 1} and report.unchanged == {"asset": 5}
    after = inventory(svc)
    ids = svc.ids
    tube = ids.asset("ct-01-tube")
    gone, new = ids.element("ct-01-tube", "球管热容量"), ids.element("ct-01-tube", "阳极温度")
    assert before - after == {
        (tube, MG.hasElement, gone),
        (gone, RDF.type, MG.DataElement),
        (gone, RDFS.label, Literal("球管热容量")),
    }
    assert after - before == {
        (tube, MG.hasElement, new),
        (new, RDF.type, MG.DataElement),
        (new, RDFS.label, Literal("阳极温度")),
    }


@pytest.mark.parametrize(
    ("row", "where", "message"),
    [
        ("x1,,设备运行数据,,,,,,,,,,,,,,\n", "row 2, column 资产名称/name", "required cell is empty"),
        (
            "x1,名称,不存在的分类,,,,,,,,,,,,,,\n",
            "row 2, column 数据分类/category",
            "unknown data category '不存在的分类'",
        ),
        ("x1,名称,设备运行数据,一般数据9级,,,,,,,,,,,,,\n", "row 2, column 数据级别/level", "unknown security level"),
        (
            "x1,名称,设备运行数据,,,,,,,,十二,,,,,,\n",
            "row 2, column 数据主体数量/subject_count",
            "'十二' is not a non-negative whole number",
        ),
        (
            "x1,名称,设备运行数据,,,,,nope,转换,,,,,,,,\n",
            "row 2, column 来源资产/derived_from",
            "unknown source asset 'nope'",
        ),
        (
            "x1,名称,设备运行数据,,no-such-device,,,,,,,,,,,,\n",
            "row 2, column 所属设备/equipment",
            "unknown device 'no-such-device'",
        ),
        (
            "x1,名称,设备运行数据,,,,,,,是否,,,,,,,\n",
            "row 2, column 个人信息/personal",
            "unknown personal-information category",
        ),
        ("x 1,名称,设备运行数据,,,,,,,,,,,,,,\n", "row 2, column 资产标识/id", "is not a valid id"),
        (
            "x1,名称,设备运行数据,,,,,,,,,,,张三,2026-13-40,,\n",
            "row 2, column 审批人/approved_by",
            "an approval needs a derivation",
        ),
        (
            "x1,名称,设备运行数据,,,,,,,,,,,,,,nhic\n",
            "row 2, column 提供去向/transfer_to",
            "unknown destination 'nhic'",
        ),
    ],
)
def test_each_bad_cell_is_located_and_nothing_is_written(
    svc: Service, tmp_path: Path, row: str, where: str, message: str
) -> None:
    path = write(tmp_path, "bad.csv", row)
    with pytest.raises(ImportProblem) as info:
        svc.import_files([path])
    problems = [str(p) for p in info.value.problems]
    assert any(p.startswith(f"bad.csv, {where}: ") and message in p for p in problems), problems
    assert all(" / " in p for p in problems)  # bilingual
    assert svc.store.count(Graphs.INVENTORY) == 0


def test_every_problem_of_a_file_is_reported_at_once(svc: Service, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "bad.csv",
        "a1,名称,设备运行数据,,,,,,,,,,,,,,\na1,重复,设备运行数据,,,,,,,,,,,,,,\na2,名称,未知,,,,,,,,-5,,,,,,\n",
    )
    with pytest.raises(ImportProblem) as info:
        svc.import_files([path])
    text = "\n".join(str(p) for p in info.value.problems)
    assert "row 3" in text and "described twice (also at bad.csv, row 2)" in text
    assert "row 4, column 数据分类/category" in text and "row 4, column 数据主体数量/subject_count" in text
    assert info.value.status == 422


def test_a_bad_file_among_good_ones_stops_them_all(svc: Service, tmp_path: Path) -> None:
    files = [*small(tmp_path), write(tmp_path, "bad.csv", "x1,名称,没有这个分类,,,,,,,,,,,,,,\n")]
    with pytest.raises(ImportProblem):
        svc.import_files(files)
    assert svc.store.count(Graphs.INVENTORY) == 0


def test_unreadable_and_unknown_files(svc: Service, tmp_path: Path) -> None:
    fake = tmp_path / "fake.xlsx"
    fake.write_bytes(b"PK\x03\x04 not really a workbook")
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(ImportProblem) as info:
        svc.import_files([fake, tmp_path / "notes.txt", tmp_path / "missing.csv"])
    text = "\n".join(str(p) for p in info.value.problems)
    assert "fake.xlsx: not a readable .xlsx workbook" in text
    assert "notes.txt: unsupported file type '.txt'" in text
    assert "missing.csv: file not found" in text


def test_references_to_earlier_imports_are_accepted(svc: Service, tmp_path: Path) -> None:
    svc.import_files(small(tmp_path))
    path = write(tmp_path, "more.csv", "later,后续报表,汇总报表,,,,,dose-package,汇聚统计,,,,,,,,nhic\n")
    report = svc.import_files([path])
    assert report.added == {"asset": 1}


def test_gbk_csv_and_english_headers(svc: Service, tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes("id,name,category,level\nq1,模体检测记录,模体检测,2\n".encode("gb18030"))
    svc.import_files([path])
    assert (svc.ids.asset("q1"), RDFS.label, Literal("模体检测记录")) in inventory(svc)


def test_derivation_cycles_are_imported_with_a_warning(svc: Service, tmp_path: Path) -> None:
    path = write(tmp_path, "cycle.csv", "c1,甲,汇总报表,,,,,c2,转换,,,,,,,,\nc2,乙,汇总报表,,,,,c1,转换,,,,,,,,\n")
    report = svc.import_files([path])
    assert report.added == {"asset": 2}
    assert any("derivation cycle among c1, c2 (R10)" in str(w) for w in report.warnings)


def test_approval_on_a_transformation_that_does_not_reduce_is_refused(svc: Service, tmp_path: Path) -> None:
    path = write(
        tmp_path, "a.csv", "s1,源,汇总报表,,,,,,,,,,,,,,\nd1,衍生,汇总报表,,,,,s1,转换,,,,,张三,2026-01-01,理由,\n"
    )
    with pytest.raises(ImportProblem) as info:
        svc.import_files([path])
    assert any("does not reduce a level" in str(p) for p in info.value.problems)


def test_progress_is_reported_per_row(svc: Service, tmp_path: Path) -> None:
    rows = "".join(f"r{i},资产{i},设备运行数据,,,,,,,,,,,,,,\n" for i in range(1500))
    ticks: list[int] = []
    svc.import_files([write(tmp_path, "many.csv", rows)], progress=ticks.append)
    assert sum(ticks) == 1500
    assert svc.status()["assets"] == 1500


def test_xlsx_import_with_dates_and_numbers(svc: Service, tmp_path: Path) -> None:
    import datetime as dt

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "数据资产"
    ws.append(HEADER.strip().split(","))
    ws.append(["s1", "源", "患者剂量记录", 4, None, None, None, None, None, "是", 1200])
    ws.append(
        [
            "d1",
            "去标识化",
            "患者剂量记录",
            None,
            None,
            None,
            None,
            "s1",
            "去标识化",
            None,
            None,
            None,
            None,
            "李雷",
            dt.datetime(2026, 5, 6),
            "去除直接标识符",
        ]
    )
    notes = wb.create_sheet("备注")
    notes.append(["这是说明，不是清单"])
    path = tmp_path / "book.xlsx"
    wb.save(path)
    svc.import_files([path])
    g = inventory(svc)
    ids = svc.ids
    assert (ids.asset("s1"), MG.subjectCount, Literal(1200)) in g
    assert (ids.asset("s1"), MG.assessedLevel, MG.GeneralData4) in g
    when = next(o for s, p, o in g if s == ids.approval("d1") and p == MG.performedAt)
    assert str(when) == "2026-05-06T00:00:00"


def test_rdf_import_turtle_with_blank_nodes_is_idempotent(svc: Service, tmp_path: Path) -> None:
    path = tmp_path / "x.ttl"
    path.write_text(
        """@prefix mg: <https://w3id.org/medgrade/def#> . @prefix prov: <http://www.w3.org/ns/prov#> .
        <https://h.example/a/1> a mg:DataAsset ; mg:hasCategory mg:ErrorCodes ;
            prov:qualifiedDerivation [ a prov:Derivation ; prov:entity <https://h.example/a/0> ] .""",
        encoding="utf-8",
    )
    first = svc.import_files([path])
    assert sum(first.added.values()) >= 1
    before = inventory(svc)
    again = svc.import_files([path])
    assert not again.wrote and inventory(svc) == before
    assert not any(isinstance(t, BNode) for triple in before for t in triple)
    assert any(str(t).startswith(svc.ids.base + "bnode/") for triple in before for t in triple)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "remote.jsonld",
            '{"@context": "https://evil.example/ctx.jsonld", "@id": "https://h/a"}',
            "remote JSON-LD contexts are not fetched",
        ),
        ("deep.jsonld", "[" * 200 + "]" * 200, "nested deeper than"),
        (
            "graph.nq",
            '<https://h/a> <https://h/p> "x" <https://w3id.org/medgrade/def/levels> .\n',
            "imports may only write the inventory graph",
        ),
        (
            "onto.ttl",
            "@prefix mg: <https://w3id.org/medgrade/def#> . mg:GeneralData4 mg:rank 1 .",
            "is an ontology term",
        ),
        ("broken.ttl", "<https://h/a> <https://h/p> .", "cannot parse as turtle"),
    ],
)
def test_hostile_or_broken_rdf_is_refused(svc: Service, tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ImportProblem) as info:
        svc.import_files([path])
    assert any(message in str(p) and name in str(p) for p in info.value.problems), [str(p) for p in info.value.problems]
    assert svc.store.count(Graphs.INVENTORY) == 0


def test_empty_level_takes_the_computed_level_and_a_lower_one_is_kept_for_validation(
    svc: Service, tmp_path: Path
) -> None:
    header = HEADER.strip() + ",影响评估\n"
    path = write(
        tmp_path,
        "impacts.csv",
        "i1,按规则定级,汇总报表,,,CT,,,,,,,,,,,,个人权益:特别严重;public interest:general\n"
        "i2,评估偏低,汇总报表,一般数据2级,,CT,,,,,,,,,,,,个人权益:特别严重\n",
        header=header,
    )
    svc.import_files([path])
    g = inventory(svc)
    assert (svc.ids.asset("i1"), MG.assessedLevel, MG.GeneralData4) in g  # the computed level
    assert (svc.ids.asset("i2"), MG.assessedLevel, MG.GeneralData2) in g  # the steward's, not silently raised
    impact = URIRef(f"{svc.ids.asset('i1')}/impact/PublicInterest")
    assert (impact, MG.impactDegree, MG.GeneralHarm) in g
    report = svc.validate()
    assert [(r.rule, r.focus_id) for r in report.results] == [("R2", "i2")]


def test_bad_impact_cell(svc: Service, tmp_path: Path) -> None:
    header = HEADER.strip() + ",影响评估\n"
    path = write(tmp_path, "bad.csv", "i1,名称,汇总报表,,,CT,,,,,,,,,,,,个人权益特别严重;外星人:严重\n", header=header)
    with pytest.raises(ImportProblem) as info:
        svc.import_files([path])
    text = "\n".join(str(p) for p in info.value.problems)
    assert "'个人权益特别严重' is not object:degree" in text and "unknown impact object '外星人'" in text
