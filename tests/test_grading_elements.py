"""Grading elements (GB/T 43697-2024 §6.3) and the last-reviewed date (R15) through import,
export and assessment: the import columns 定级要素 / grading_elements and 上次复核 /
last_reviewed, the level answer's ``elements_considered`` and ``last_reviewed``, export then
import, and ``elements_considered`` in a steward's assessment."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import XSD

from kg.errors import ImportProblem
from kg.exporters import export
from kg.importers.template import ASSETS
from kg.namespaces import MG
from kg.ontology import Ontology
from kg.service import Service
from kg.settings import Settings
from kg.store import Graphs, open_store
from tests.helpers import demo_client

HEADER_ZH = "资产标识,资产名称,数据分类,定级要素,上次复核\n"
HEADER_EN = "id,name,category,grading_elements,last_reviewed\n"
TODAY = "2026-12-01"  # the demo hospital's last-reviewed dates are not after it


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDGRADE_TODAY", TODAY)


@pytest.fixture
def svc(onto: Ontology) -> Service:
    return Service(Settings(store="memory:"), store=open_store("memory:"), ontology=onto)


def write(tmp_path: Path, name: str, rows: str, header: str = HEADER_ZH) -> Path:
    path = tmp_path / name
    path.write_text(header + rows, encoding="utf-8")
    return path


def considered(answer: dict) -> list[str]:  # type: ignore[type-arg]
    return [g["label_zh"] for g in answer["elements_considered"]]


def test_the_template_lists_the_elements(onto: Ontology, tmp_path: Path) -> None:
    import openpyxl

    from kg.exporters import write_template

    write_template(tmp_path / "t.xlsx", onto)
    wb = openpyxl.load_workbook(tmp_path / "t.xlsx")
    headers = [c.value for c in wb["数据资产"][1]]
    assert "定级要素" in headers and "上次复核" in headers
    rows = [r[:2] for r in wb["说明"].iter_rows(values_only=True)]
    start = next(i for i, r in enumerate(rows) if str(r[0]).startswith("定级要素 / grading elements"))
    assert [r[0] for r in rows[start + 1 : start + 9]] == [
        "领域",
        "群体",
        "区域",
        "精度",
        "规模",
        "深度",
        "覆盖度",
        "重要性",
    ]


def test_the_template_has_both_columns() -> None:
    elements, reviewed = ASSETS.column("grading_elements"), ASSETS.column("last_reviewed")
    assert (elements.zh, elements.en, elements.computed) == ("定级要素", "grading_elements", False)
    assert (reviewed.zh, reviewed.en, reviewed.computed) == ("上次复核", "last_reviewed", False)
    assert "覆盖度" in elements.help_zh and "coverage" in elements.help_en
    assert "YYYY-MM-DD" in reviewed.help_zh and "Asia/Shanghai" in reviewed.help_en


@pytest.mark.parametrize("header", [HEADER_ZH, HEADER_EN])
def test_import_records_elements_and_date_in_the_level_answer(svc: Service, tmp_path: Path, header: str) -> None:
    path = write(
        tmp_path, "a.csv", "a1,设备运行日志,设备运行数据,覆盖度;规模,2026-03-01\na2,无要素,设备运行数据,,\n", header
    )
    svc.import_files([path])
    answer = svc.level("a1")
    assert considered(answer) == ["规模", "覆盖度"]  # in the order of GB/T 43697 §6.3
    assert answer["elements_considered"][0] == {
        "iri": str(MG.ElementScale),
        "label_zh": "规模",
        "label_en": "scale",
    }
    assert answer["last_reviewed"] == "2026-03-01"
    a1 = svc.ids.asset("a1")
    g = set(svc.store.triples(Graphs.INVENTORY))
    assert (a1, MG.lastReviewed, Literal("2026-03-01", datatype=XSD.date)) in g
    assert (a1, MG.elementConsidered, MG.ElementCoverage) in g
    empty = svc.level("a2")
    assert empty["elements_considered"] == [] and empty["last_reviewed"] is None


def test_english_names_and_full_width_separators(svc: Service, tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "a1,日志,设备运行数据,scale；importance；domain,2026/3/1\n")
    svc.import_files([path])
    answer = svc.level("a1")
    assert [g["label_en"] for g in answer["elements_considered"]] == ["domain", "scale", "importance"]
    assert answer["last_reviewed"] == "2026-03-01"


def test_an_unknown_element_is_a_located_bilingual_problem(svc: Service, tmp_path: Path) -> None:
    path = write(tmp_path, "bad.csv", "a1,日志,设备运行数据,规模;广度,2026-03-01\n")
    with pytest.raises(ImportProblem) as info:
        svc.import_files([path])
    problems = [str(p) for p in info.value.problems]
    assert len(problems) == 1, problems
    assert problems[0].startswith("bad.csv, row 2, column 定级要素/grading_elements: ")
    assert "广度" in problems[0] and "grading element" in problems[0] and "定级要素" in problems[0]
    assert svc.store.count(Graphs.INVENTORY) == 0  # nothing written


@pytest.mark.parametrize("bad, message", [("2026-12-02", "in the future"), ("下周", "is not a date")])
def test_a_future_or_bad_date_is_refused(svc: Service, tmp_path: Path, bad: str, message: str) -> None:
    path = write(tmp_path, "bad.csv", f"a1,日志,设备运行数据,,{bad}\n")
    with pytest.raises(ImportProblem) as info:
        svc.import_files([path])
    problems = [str(p) for p in info.value.problems]
    assert any(p.startswith("bad.csv, row 2, column 上次复核/last_reviewed: ") and message in p for p in problems)
    assert all(" / " in p for p in problems)  # bilingual
    assert svc.store.count(Graphs.INVENTORY) == 0


def test_today_is_not_in_the_future(svc: Service, tmp_path: Path) -> None:
    svc.import_files([write(tmp_path, "a.csv", "a1,日志,设备运行数据,,2026-12-01\n")])
    assert svc.level("a1")["last_reviewed"] == "2026-12-01"


def test_a_reimport_replaces_them(svc: Service, tmp_path: Path) -> None:
    svc.import_files([write(tmp_path, "a.csv", "a1,日志,设备运行数据,规模;深度,2026-03-01\n")])
    svc.import_files([write(tmp_path, "b.csv", "a1,日志,设备运行数据,重要性,\n")])
    answer = svc.level("a1")
    assert considered(answer) == ["重要性"] and answer["last_reviewed"] is None


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "ttl"])
def test_export_then_import_keeps_them(svc: Service, onto: Ontology, tmp_path: Path, fmt: str) -> None:
    rows = "a1,日志,设备运行数据,覆盖度;规模;领域,2026-03-01\na2,其他,设备运行数据,,\n"
    svc.import_files([write(tmp_path, "a.csv", rows)])
    out = tmp_path / "out"
    out.mkdir()
    files = export(svc.store, onto, svc.ids, fmt, out / f"inventory.{fmt}")
    fresh = Service(Settings(store="memory:"), store=open_store("memory:"), ontology=onto)
    fresh.import_files(files)
    for ref in ("a1", "a2"):
        before, after = svc.level(ref), fresh.level(ref)
        assert after["elements_considered"] == before["elements_considered"]
        assert after["last_reviewed"] == before["last_reviewed"]
    assert considered(fresh.level("a1")) == ["领域", "规模", "覆盖度"]
    assert fresh.level("a1")["last_reviewed"] == "2026-03-01"
    a1 = fresh.ids.asset("a1")
    assert (a1, MG.lastReviewed, Literal("2026-03-01", datatype=XSD.date)) in set(fresh.store.triples(Graphs.INVENTORY))


def test_the_export_columns(svc: Service, onto: Ontology, tmp_path: Path) -> None:
    svc.import_files([write(tmp_path, "a.csv", "a1,日志,设备运行数据,importance;scale,2026-03-01\n")])
    text = export(svc.store, onto, svc.ids, "csv", tmp_path / "out.csv")[0].read_text(encoding="utf-8-sig")
    header, row = text.splitlines()[:2]
    assert "定级要素" in header.split(",") and "上次复核" in header.split(",")
    assert "规模;重要性" in row and "2026-03-01" in row


ASSET = "ct-01-dicom-2026-09"


def test_an_assessment_records_elements_and_stamps_the_review(tmp_path: Path) -> None:
    with demo_client(tmp_path, ("steward",), "ge") as client:
        h = {"Authorization": f"Bearer {client.tokens['steward']}"}  # type: ignore[attr-defined]
        svc: Service = client.service  # type: ignore[attr-defined]
        body = {"elements_considered": ["规模", "depth", "覆盖度"], "justification": "按 §6.3 复核 / reviewed"}
        r = client.put(f"/api/assets/{ASSET}/assessment", json=body, headers=h)  # elements alone are enough
        assert r.status_code == 200, r.text
        assert considered(r.json()["level"]) == ["规模", "深度", "覆盖度"]
        assert r.json()["level"]["last_reviewed"] == "2026-12-01"
        got = client.get(f"/api/assets/{ASSET}/level", headers=h).json()
        assert considered(got) == ["规模", "深度", "覆盖度"] and got["last_reviewed"] == "2026-12-01"
        record = URIRef(r.json()["record"])
        on_record = {o for s, p, o in svc.store.triples(Graphs.AUDIT) if s == record and p == MG.elementConsidered}
        assert on_record == {MG.ElementScale, MG.ElementDepth, MG.ElementCoverage}
        # a later assessment with other elements replaces the asset's set, not the earlier record's
        body = {"level": "L4", "elements_considered": ["重要性"], "justification": "再评 / again"}
        r2 = client.put(f"/api/assets/{ASSET}/assessment", json=body, headers=h)
        assert r2.status_code == 200, r2.text
        assert considered(r2.json()["level"]) == ["重要性"]
        assert (record, MG.elementConsidered, MG.ElementScale) in set(svc.store.triples(Graphs.AUDIT))
        # an assessment without elements keeps them and still counts as a review
        r3 = client.put(f"/api/assets/{ASSET}/assessment", json={"level": "L4", "justification": "x"}, headers=h)
        assert considered(r3.json()["level"]) == ["重要性"] and r3.json()["level"]["last_reviewed"] == "2026-12-01"
        a = svc.ids.asset(ASSET)
        assert [t for t in svc.store.triples(Graphs.INVENTORY) if t[:2] == (a, MG.lastReviewed)] == [
            (a, MG.lastReviewed, Literal("2026-12-01", datatype=XSD.date))
        ]


def test_an_unknown_element_in_an_assessment_changes_nothing(tmp_path: Path) -> None:
    with demo_client(tmp_path, ("steward",), "gu") as client:
        h = {"Authorization": f"Bearer {client.tokens['steward']}"}  # type: ignore[attr-defined]
        svc: Service = client.service  # type: ignore[attr-defined]
        before, answer = svc.store.count(), svc.level(ASSET)
        body = {"elements_considered": ["规模", "广度"], "level": "L4", "justification": "x"}
        r = client.put(f"/api/assets/{ASSET}/assessment", json=body, headers=h)
        assert r.status_code == 422, r.text
        assert "广度" in r.json()["detail"] and "grading element" in r.json()["detail"]
        assert "定级要素" in r.json()["detail_zh"]
        assert svc.store.count() == before
        assert svc.level(ASSET) == answer and answer["elements_considered"] == []
        too_many = {"elements_considered": ["规模"] * 21, "justification": "x"}
        assert client.put(f"/api/assets/{ASSET}/assessment", json=too_many, headers=h).status_code == 422
        assert svc.store.count() == before


def test_nothing_to_assess_names_the_elements(tmp_path: Path) -> None:
    with demo_client(tmp_path, ("steward",), "gn") as client:
        h = {"Authorization": f"Bearer {client.tokens['steward']}"}  # type: ignore[attr-defined]
        r = client.put(f"/api/assets/{ASSET}/assessment", json={"justification": "x"}, headers=h)
        assert r.status_code == 400 and "grading elements" in r.json()["detail"]
        assert "定级要素" in r.json()["detail_zh"]
