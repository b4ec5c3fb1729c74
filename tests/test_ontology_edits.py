"""Edits to the ontology files change what medgrade reports, with no code change."""

from __future__ import annotations

from pathlib import Path

from rdflib import Graph, Literal, Namespace
from rdflib.namespace import OWL, RDF, RDFS, SKOS, XSD

from kg import MG
from kg.ontology import load_ontology
from kg.ontology_files import CATALOG
from tests.helpers import edit_module

M = Namespace(MG)


def test_edit_a_floor(ontology_copy: Path) -> None:
    assert load_ontology(ontology_copy).categories.find("运维数据").floor.rank == 2  # type: ignore[union-attr]

    def edit(g: Graph) -> None:
        g.set((M.MaintenanceData, M.floorLevel, M.GeneralData3))

    edit_module(ontology_copy, "categories.ttl", edit)
    onto = load_ontology(ontology_copy)
    assert onto.categories.find("运维数据").floor.rank == 3  # type: ignore[union-attr]


def test_edit_ranks_and_add_a_level(ontology_copy: Path) -> None:
    def edit(g: Graph) -> None:
        g.set((M.CoreData, M.rank, Literal(7)))
        lv = M.GeneralData5
        g.add((lv, RDF.type, OWL.NamedIndividual))
        g.add((lv, RDF.type, M.SecurityLevel))
        g.add((lv, M.rank, Literal(6)))
        g.add((lv, RDFS.label, Literal("一般数据5级", lang="zh")))
        g.add((lv, RDFS.label, Literal("General-5", lang="en")))
        g.add((lv, SKOS.definition, Literal("测试级别", lang="zh")))
        g.add((lv, SKOS.definition, Literal("a test level", lang="en")))

    edit_module(ontology_copy, "levels.ttl", edit)
    onto = load_ontology(ontology_copy)
    assert [lv.label_zh for lv in onto.ordered_levels()][-2:] == ["一般数据5级", "核心数据"]
    assert onto.level(7).label_en == "Core"
    assert onto.level("General-5").rank == 6


def test_add_a_category(ontology_copy: Path) -> None:
    def edit(g: Graph) -> None:
        c = M.EnergyConsumption
        g.add((c, RDF.type, OWL.NamedIndividual))
        g.add((c, RDF.type, M.DataCategory))
        g.add((c, RDFS.label, Literal("设备能耗数据", lang="zh")))
        g.add((c, RDFS.label, Literal("equipment energy consumption", lang="en")))
        g.add((c, SKOS.notation, Literal("C02.99")))
        g.add((c, SKOS.broader, M.OperationalData))
        g.add((c, SKOS.altLabel, Literal("耗电量", lang="zh")))

    edit_module(ontology_copy, "categories.ttl", edit)
    onto = load_ontology(ontology_copy)
    cat = onto.categories.find("C02.99")
    assert cat.label_zh == "设备能耗数据" and onto.categories.find("耗电量") == cat
    assert [c.label_zh for c in onto.category_path(cat)] == ["设备运行数据", "设备能耗数据"]
    assert cat.floor is not None and cat.floor.rank == 2 and cat.floor_inherited  # from its parent


def test_edit_the_matrix_cap_and_measures(ontology_copy: Path) -> None:
    edit_module(
        ontology_copy, "levels.ttl", lambda g: g.set((M.Cell_EconomicOperation_General, M.resultLevel, M.GeneralData3))
    )
    edit_module(ontology_copy, "transformations.ttl", lambda g: g.set((M.Anonymisation, M.capLevel, M.GeneralData1)))
    edit_module(
        ontology_copy, "measures.ttl", lambda g: g.remove((M.GeneralData3, M.requiresMeasure, M.LeastPrivilege))
    )
    onto = load_ontology(ontology_copy)
    assert onto.impact_level("经济运行", "一般").rank == 3
    assert onto.transformations.find("匿名化").cap.rank == 1  # type: ignore[union-attr]
    assert "最小权限" not in {m.label_zh for m in onto.measures_for(onto.level(3))}


def test_edit_the_policy_threshold(ontology_copy: Path) -> None:
    edit_module(
        ontology_copy,
        "levels.ttl",
        lambda g: g.set(
            (M.DefaultGradingPolicy, M.importantDataSubjectThreshold, Literal(500000, datatype=XSD.nonNegativeInteger))
        ),
    )
    assert load_ontology(ontology_copy).policy.important_data_threshold == 500000


def test_a_module_saved_as_rdfxml_by_protege_still_loads(ontology_copy: Path) -> None:
    """Protégé saves RDF/XML by default; the catalog then names the .owl file."""
    before = load_ontology(ontology_copy)
    g = Graph()
    g.parse(ontology_copy / "categories.ttl", format="turtle")
    (ontology_copy / "categories.ttl").unlink()
    g.serialize(ontology_copy / "categories.owl", format="xml")
    catalog = ontology_copy / CATALOG
    catalog.write_text(catalog.read_text().replace('uri="categories.ttl"', 'uri="categories.owl"'))
    after = load_ontology(ontology_copy)
    assert len(after.graph) == len(before.graph)
    assert {c.iri: c.floor for c in after.categories} == {c.iri: c.floor for c in before.categories}
