"""Export of the 分类分级清单: every format imports back to the same graph; formulas neutralised."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import openpyxl
import pytest

from kg.exporters import export, neutralise, write_template
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
