"""Sources everywhere (issue #18): every term says whether it is cited from a standard, a project
default or unconfirmed; cited terms name the standard and clause; the quotations say what the
standards say; the business categories cross-walk to the six health data types of GB/T 39725."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import Graph, Literal, Namespace
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

from kg import MG
from kg.ontology import Ontology, load_ontology
from kg.ontology_sources import KINDS, SourceEntry, counts, ontology_entries, shape_entries, source_entries
from kg.resources import bundled_dir
from tests.helpers import edit_module

M = Namespace(MG)


@pytest.fixture(scope="module")
def shapes_dir() -> Path:
    return bundled_dir("shapes")


@pytest.fixture(scope="module")
def entries(ontology_dir: Path, shapes_dir: Path) -> list[SourceEntry]:
    return source_entries(ontology_dir, shapes_dir)


def _zh(onto: Ontology, s: object, p: object) -> list[str]:
    return [str(o) for o in onto.graph.objects(s, p) if isinstance(o, Literal) and o.language == "zh"]  # type: ignore[arg-type]


# --- every term has a status; cited terms a source; the others a note -----------------------------
def test_every_term_and_shape_has_a_complete_status(entries: list[SourceEntry]) -> None:
    broken = [f"{e.module} {e.iri} {e.target or ''}: {e.problems[0][1]}" for e in entries if e.problems]
    assert broken == []


def test_the_walk_finds_every_kind(onto: Ontology, entries: list[SourceEntry], shapes_dir: Path) -> None:
    by_kind: dict[str, int] = {}
    for e in entries:
        by_kind[e.kind] = by_kind.get(e.kind, 0) + 1
    assert {k for k, *_ in KINDS} <= set(by_kind)
    assert by_kind["level"] == len(onto.levels)
    assert by_kind["matrix_cell"] == len(onto.matrix)
    assert by_kind["category"] == len(onto.categories)
    assert by_kind["measure"] == len(onto.measures)
    assert by_kind["transformation"] == len(onto.transformations)
    shapes = Graph()
    for path in shapes_dir.glob("*.ttl"):
        shapes.parse(path, format="turtle")
    ruled = {s for s in shapes.subjects(DCTERMS.identifier, None)}
    assert by_kind["shape"] == len(ruled) >= 16
    assert {e.rule for e in entries if e.kind == "shape"} >= {"R1", "R2", "R5", "R12", "R14"}
    assert by_kind["mapping"] >= 10
    assert counts(entries)["total"]["missing"] == 0


def test_a_term_without_status_fails(ontology_copy: Path) -> None:
    edit_module(ontology_copy, "levels.ttl", lambda g: g.remove((M.GeneralData2, M.sourceStatus, None)))
    bad = [e for e in ontology_entries(ontology_copy) if e.problems]
    assert [(e.iri, e.problems[0][1]) for e in bad] == [(f"{MG}GeneralData2", "has no mg:sourceStatus")]


def test_cited_without_source_fails(ontology_copy: Path) -> None:
    edit_module(ontology_copy, "levels.ttl", lambda g: g.remove((M.CoreData, DCTERMS.source, None)))
    bad = [e for e in ontology_entries(ontology_copy) if e.problems]
    assert [(e.iri, e.problems[0][1]) for e in bad] == [(f"{MG}CoreData", "is cited but has no dcterms:source")]


def test_a_new_category_or_shape_needs_a_status(ontology_copy: Path, tmp_path: Path, shapes_dir: Path) -> None:
    def add_category(g: Graph) -> None:
        g.add((M.EnergyData, RDF.type, M.DataCategory))
        g.add((M.EnergyData, RDFS.label, Literal("能耗", lang="zh")))
        g.add((M.EnergyData, M.floorLevel, M.GeneralData2))

    edit_module(ontology_copy, "categories.ttl", add_category)
    assert [e.iri for e in ontology_entries(ontology_copy) if e.problems] == [f"{MG}EnergyData"]
    copy = tmp_path / "shapes"
    copy.mkdir()
    for path in shapes_dir.glob("*.ttl"):
        (copy / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    (copy / "extra.ttl").write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix dcterms: <http://purl.org/dc/terms/> .\n"
        '<urn:x:R99> a sh:NodeShape ; dcterms:identifier "R99" .\n',
        encoding="utf-8",
    )
    assert [e.rule for e in shape_entries(copy) if e.problems] == ["R99"]


def test_the_three_statuses_are_declared(onto: Ontology) -> None:
    g = onto.graph
    assert (M.sourceStatus, RDF.type, OWL.AnnotationProperty) in g
    for s, zh in [(M.SourceCited, "引用标准"), (M.SourceProjectDefault, "项目默认"), (M.SourceUnconfirmed, "待确认")]:
        assert (s, RDF.type, M.SourceStatus) in g
        assert zh in _zh(onto, s, RDFS.label) and _zh(onto, s, SKOS.definition)


# --- what the standards say -------------------------------------------------------------------------
def test_core_data_quotes_the_law_and_the_standard(onto: Ontology) -> None:
    (definition,) = _zh(onto, M.CoreData, SKOS.definition)
    assert "更加严格" in definition and "最严格" not in definition
    assert "经国家有关部门评估确定的其他数据" in definition
    sources = {str(o) for o in onto.graph.objects(M.CoreData, DCTERMS.source)}
    assert any("第二十一条" in s for s in sources) and any("GB/T 43697-2024" in s for s in sources)


def test_harms_use_the_wording_of_gb_t_43697(onto: Ontology) -> None:
    wording = "泄露、篡改、损毁或者非法获取、非法使用、非法共享"
    assert wording in _zh(onto, M.ImpactObject, SKOS.definition)[0]
    for level in (M.GeneralData4, M.GeneralData3, M.GeneralData2):
        (definition,) = _zh(onto, level, SKOS.definition)
        assert wording in definition and "非法利用" not in definition


def test_harm_degrees_are_named_as_in_the_standard(onto: Ontology) -> None:
    labels = {d.label_zh for d in onto.impact_degrees}
    assert labels == {"特别严重危害", "严重危害", "一般危害", "无危害"}
    # short forms still name the degrees (spreadsheets written with them import)
    for short, full in [("特别严重", "特别严重危害"), ("严重", "严重危害"), ("一般", "一般危害"), ("无", "无危害")]:
        assert onto.impact_degrees.find(short).label_zh == full
    assert onto.impact_level("个人权益", "严重").rank == onto.impact_level("个人权益", "严重危害").rank == 3
    # no harm is a project addition, and says so
    assert (M.NoHarm, M.sourceStatus, M.SourceProjectDefault) in onto.graph


def test_the_category_tree_is_the_projects_own(onto: Ontology) -> None:
    g = onto.graph
    assert (M.DataCategoryScheme, M.sourceStatus, M.SourceProjectDefault) in g
    assert list(g.objects(M.DataCategoryScheme, DCTERMS.source)) == []
    assert all((M[c.local_name], M.sourceStatus, M.SourceProjectDefault) in g for c in onto.categories)


def test_measures_caps_and_may_leave_are_project_defaults(onto: Ontology) -> None:
    g = onto.graph
    for term in (M.requiresMeasure, M.mayLeaveInstitution, M.capLevel):
        assert (term, M.sourceStatus, M.SourceProjectDefault) in g
    for m in onto.measures:
        assert (M[m.local_name], M.sourceStatus, M.SourceProjectDefault) in g
    module = next(s for s in g.subjects(M.sourceStatus, None) if str(s).endswith("/measures"))
    assert not any("数据安全法" in str(o) for o in g.objects(module, DCTERMS.source))
    for t in ("去标识化", "假名化", "匿名化", "汇聚统计"):
        iri = M[onto.transformations.find(t).local_name]
        assert (iri, M.sourceStatus, M.SourceProjectDefault) in g
        assert any("项目默认" in n for n in _zh(onto, iri, SKOS.editorialNote))


def test_health_resource_data_keeps_the_project_mapping_apart(onto: Ontology) -> None:
    (definition,) = _zh(onto, M.HealthResourceData, SKOS.definition)
    assert "医疗装备" not in definition
    assert any("医疗装备" in n for n in _zh(onto, M.HealthResourceData, SKOS.scopeNote))


def test_the_take_the_higher_principle_is_named_as_in_gb_t_43697(shapes_dir: Path) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    texts = [readme] + [p.read_text(encoding="utf-8") for p in shapes_dir.glob("*.ttl")]
    assert not any("就高不就低" in t for t in texts)
    g = Graph()
    g.parse(shapes_dir / "grading.ttl", format="turtle")
    r5 = Namespace("https://w3id.org/medgrade/shapes#").R5_Elements
    assert any("就高从严" in str(label) for label in g.objects(r5, RDFS.label))
    assert any("§4" in str(s) for s in g.objects(r5, DCTERMS.source))


# --- the GB/T 39725 crosswalk -----------------------------------------------------------------------
def test_categories_cross_walk_to_gb_t_39725(onto: Ontology, entries: list[SourceEntry]) -> None:
    hdt = {c.label_zh: onto.health_data_types.get(c.health_data_type or "") for c in onto.categories}
    assert hdt["设备基础信息"].label_zh == "卫生资源数据"  # type: ignore[union-attr]
    assert hdt["患者信息"].label_zh == "个人属性数据"  # type: ignore[union-attr]
    assert hdt["医保与支付信息"].label_zh == "医疗支付数据"  # type: ignore[union-attr]
    assert hdt["设备标识信息"].label_zh == "卫生资源数据"  # type: ignore[union-attr]  # from its broader category
    mapped = {c.iri for c in onto.categories if c.health_data_type}
    assert len(mapped) >= len(onto.categories) // 2
    crosswalk = [e for e in entries if e.kind == "mapping" and e.mapped_property == f"{MG}healthDataType"]
    assert crosswalk and all(e.status == "unconfirmed" and e.note_en for e in crosswalk)
    own = {(str(s), str(o)) for s, o in onto.graph.subject_objects(M.healthDataType)}
    assert {(e.iri, e.target) for e in crosswalk} == own


def _medgrade(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kg", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "250"},
    )


def test_cli_categories_show_the_health_data_type() -> None:
    data = json.loads(_medgrade("ontology", "categories", "--json").stdout)
    patient = next(d for d in data if d["label_zh"] == "患者信息")
    assert patient["health_data_type"] == f"{MG}PersonalAttributeData"
    table = _medgrade("ontology", "categories")
    assert table.returncode == 0 and "GB/T 39725" in table.stdout and "个人属性数据" in table.stdout


def test_cli_sources_lists_every_term_with_counts(entries: list[SourceEntry]) -> None:
    proc = _medgrade("ontology", "sources", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert len(data["terms"]) == len(entries)
    assert data["counts"]["total"]["missing"] == 0
    assert sum(data["counts"]["total"].values()) == len(entries)
    assert {"levels.ttl", "categories.ttl", "shapes/grading.ttl"} <= set(data["counts"]["by_module"])
    core = next(t for t in data["terms"] if t["iri"] == f"{MG}CoreData")
    assert core["status"] == "cited" and core["sources"]
    table = _medgrade("ontology", "sources")
    assert table.returncode == 0 and "引用标准 / cited" in table.stdout and "shapes/grading.ttl" in table.stdout


def test_an_edited_copy_is_reported(ontology_copy: Path) -> None:
    edit_module(ontology_copy, "measures.ttl", lambda g: g.remove((M.AccessControl, M.sourceStatus, None)))
    onto = load_ontology(ontology_copy)
    bad = [e for e in ontology_entries(onto.directory) if e.problems]
    assert [e.iri for e in bad] == [f"{MG}AccessControl"]
