"""Export of the 分类分级清单: every format imports back to the same graph; formulas neutralised."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import openpyxl
import pytest
from rdflib import Literal

from kg.exporters import export, neutralise, write_template
from kg.namespaces import MG
from kg.ontology import Ontology
from kg.service import Service
from kg.settings import Settings
from kg.store import Graphs, open_store

SMALL = Path(__file__).parent / "data" / "small"


def service(onto: Ontology) -> Service:
    return Service(Settings(store="memory:"), store=open_store("memory:"), ontology=onto)


@pytest.fixture
def loaded(onto: Ontology, tmp_path: Path) -> Service:
    svc = service(onto)
    shutil.copytree(SMALL, tmp_path / "in")
    svc.import_files(sorted((tmp_path / "in").glob("*.csv")))
    return svc


@pytest.mark.parametrize("fmt", ["xlsx", "csv", "ttl", "jsonld"])
def test_export_then_import_gives_the_same_graph(loaded: Service, onto: Ontology, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"inventory.{fmt}"
    written = export(loaded.store, onto, loaded.ids, fmt, out)
    assert out in written
    fresh = service(onto)
    fresh.import_files(written)
    assert set(fresh.store.triples(Graphs.INVENTORY)) == set(loaded.store.triples(Graphs.INVENTORY))
    again = fresh.import_files(written)  # and importing it once more changes nothing
    assert not again.wrote


def test_xlsx_rows_carry_the_computed_columns(loaded: Service, onto: Ontology, tmp_path: Path) -> None:
    out = tmp_path / "list.xlsx"
    export(loaded.store, onto, loaded.ids, "xlsx", out)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["数据资产", "设备", "数据去向", "说明"]
    rows = list(wb["数据资产"].iter_rows(values_only=True))
    header = rows[0]
    by_id = {r[0]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    dose = by_id["ct-01-dose"]
    assert dose["分类路径"] == "设备使用数据 / 患者剂量记录" and dose["分类代码"] == "C03.04"
    assert dose["生效级别"] == "一般数据4级"
    assert dose["防护措施"].split(";") == [m.label_zh for m in onto.measures_for(onto.level(4))]
    assert by_id["dose-deid"]["审批日期"] == "2026-03-01"
    assert by_id["ct-01-tube"]["备注"] == "'=cmd|' /C calc'!A0"  # neutralised
    assert [r[0] for r in wb["设备"].iter_rows(values_only=True)] == ["设备标识", "ct-01", "vent-01"]


def test_csv_writes_sidecar_sheets_and_neutralises(loaded: Service, onto: Ontology, tmp_path: Path) -> None:
    written = export(loaded.store, onto, loaded.ids, "csv", tmp_path / "list.csv")
    assert [p.name for p in written] == ["list.csv", "list-devices.csv", "list-destinations.csv"]
    with (tmp_path / "list.csv").open(encoding="utf-8-sig") as f:
        rows = {r["资产标识"]: r for r in csv.DictReader(f)}
    assert rows["ct-01-tube"]["备注"].startswith("'=")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+86 10", "'+86 10"),
        ("-x", "'-x"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("'=x", "''=x"),
        ("'abc", "'abc"),
        ("正常文本", "正常文本"),
        (12, 12),
    ],
)
def test_neutralise(value: object, expected: object) -> None:
    assert neutralise(value) == expected


def test_neutralised_text_round_trips(onto: Ontology, tmp_path: Path) -> None:
    from kg.importers.tabular import _text

    for original in ["=cmd", "'=cmd", "''=x", "'plain", "-5 度", "@home", "plain"]:
        assert _text(neutralise(original)) == original.strip()


def test_template_lists_columns_and_allowed_values(onto: Ontology, tmp_path: Path) -> None:
    path = tmp_path / "template.xlsx"
    write_template(path, onto)
    wb = openpyxl.load_workbook(path)
    assert next(wb["数据资产"].iter_rows(values_only=True))[:3] == ("资产标识", "资产名称", "数据分类")
    notes = [r for r in wb["说明"].iter_rows(values_only=True)]
    cells = {c for r in notes for c in r if c}
    assert {"设备基础信息", "一般数据4级", "去标识化", "资产标识"} <= cells
    svc = service(onto)
    report = svc.import_files([path])  # the empty template imports as nothing
    assert not report.wrote


def test_unknown_format(loaded: Service, onto: Ontology, tmp_path: Path) -> None:
    from kg.errors import InputError

    with pytest.raises(InputError, match="unknown export format 'pdf'"):
        export(loaded.store, onto, loaded.ids, "pdf", tmp_path / "x.pdf")


# --- unclassified (待分类): a state, written and read back by its ontology label ---------------------
def _with_unclassified(svc: Service, tmp_path: Path) -> None:
    """A dataset in our namespace known only by its IRI (no mg:identifier, name or category),
    and one derived from it by a de-identification, as OpenLineage or RDF would leave them."""
    a, b = svc.ids.asset("feed-raw"), svc.ids.asset("feed-deid")
    (tmp_path / "feed.ttl").write_text(
        f"@prefix mg: <https://w3id.org/medgrade/def#> .\n<{a}> a mg:DataAsset .\n"
        f'<{b}> a mg:DataAsset ; <http://www.w3.org/2000/01/rdf-schema#label> "去标识化数据流" ;\n'
        f"    <http://www.w3.org/ns/prov#wasDerivedFrom> <{a}> ;\n"
        f"    <http://www.w3.org/ns/prov#wasGeneratedBy> <{b}/activity> .\n"
        f"<{b}/activity> a mg:Transformation ; mg:transformationType mg:Deidentification ;\n"
        f"    <http://www.w3.org/ns/prov#used> <{a}> .\n",
        encoding="utf-8",
    )
    svc.import_files([tmp_path / "feed.ttl"])


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_unclassified_assets_and_their_derivations_are_exported(
    loaded: Service, onto: Ontology, tmp_path: Path, fmt: str
) -> None:
    from kg.unclassified import unclassified

    _with_unclassified(loaded, tmp_path)
    written = export(loaded.store, onto, loaded.ids, fmt, tmp_path / f"list.{fmt}")
    if fmt == "xlsx":
        rows = list(openpyxl.load_workbook(written[0])["数据资产"].iter_rows(values_only=True))
        by_id = {r[0]: {k: v or "" for k, v in zip(rows[0], r, strict=True)} for r in rows[1:]}
    else:
        with written[0].open(encoding="utf-8-sig") as f:
            by_id = {r["资产标识"]: r for r in csv.DictReader(f)}
    state = unclassified(onto).label_zh
    assert state == "待分类"  # the ontology's label, not a thirteenth category
    assert by_id["feed-raw"]["数据分类"] == state and by_id["feed-raw"]["资产名称"] == ""
    assert by_id["feed-deid"]["数据分类"] == state
    assert by_id["feed-deid"]["来源资产"] == "feed-raw" and by_id["feed-deid"]["加工方式"] == "去标识化"
    assert by_id["dose-extract"]["来源资产"] == "ct-01-dose"  # classified ones as before
    fresh = service(onto)
    fresh.import_files(written)
    before, after = set(loaded.store.triples(Graphs.INVENTORY)), set(fresh.store.triples(Graphs.INVENTORY))
    assert before <= after  # the same graph, where the spreadsheet also writes the ids they lacked:
    assert after - before == {(loaded.ids.asset(i), MG.identifier, Literal(i)) for i in ("feed-raw", "feed-deid")}


def _rows(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "rows.csv"
    path.write_text(
        "资产标识,资产名称,数据分类,数据级别,设备类型,来源资产,加工方式\n" + "\n".join(lines) + "\n", encoding="utf-8"
    )
    return path


@pytest.mark.parametrize("cell", ["待分类", "unclassified", "Unclassified", "ＵＮＣＬＡＳＳＩＦＩＥＤ", "未分类"])
def test_import_reads_the_state_as_no_category(onto: Ontology, tmp_path: Path, cell: str) -> None:
    svc = service(onto)
    svc.import_files([_rows(tmp_path, f"src,,{cell},,CT,,", "out,剂量日报,设备使用数据,,CT,,")])
    g = set(svc.store.triples(Graphs.INVENTORY))
    src = svc.ids.asset("src")
    assert not [t for t in g if t[0] == src and t[1] in (MG.hasCategory, MG.assessedLevel)]  # no level demanded
    assert (svc.ids.asset("out"), MG.assessedLevel, MG.GeneralData2) in g  # a classified row is graded as before
    assert [(r.rule, r.severity) for r in svc.validate().results if r.focus_id == "src"] == [("R1", "Warning")]


def test_an_unclassified_row_is_checked_like_any_other(onto: Ontology, tmp_path: Path) -> None:
    from kg.errors import ImportProblem

    svc = service(onto)
    with pytest.raises(ImportProblem) as caught:
        svc.import_files(
            [
                _rows(
                    tmp_path,
                    "bad id!,,待分类,,,,",  # the id is still checked
                    "u2,,待分类,一般数据9级,,,",  # and the level, when given
                    "u3,,待分类,,,missing,",  # and the sources
                    "u4,,,,,,",  # an empty category cell is still an error
                    "u5,,设备使用数据,,,,",  # a classified row still needs its name
                    "u6,x,待定类,,,,",  # and a category nobody knows is unknown
                )
            ]
        )
    where = sorted((p.where.split("row ")[1].split(",")[0], p.where.rsplit("/", 1)[-1]) for p in caught.value.problems)
    assert where == [
        ("2", "id"),
        ("3", "level"),
        ("4", "derived_from"),
        ("5", "category"),
        ("5", "name"),  # an empty category cell is no state: the name is required there too
        ("6", "name"),
        ("7", "category"),
    ]
