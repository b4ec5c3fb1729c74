"""HermiT (bundled with owlready2) finds the merged ontology consistent, with no unsatisfiable
class, and its DPV alignment axioms classify data as DPV expects."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import OWL, RDF

from kg import MG
from kg.ontology import Ontology
from tests.helpers import java

pytestmark = pytest.mark.java
M = Namespace(MG)
DPV = Namespace("https://w3id.org/dpv#")
EX = Namespace("https://example.org/hospital/")


def reason(graph: Graph, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Run HermiT over ``graph``; returns the owlready2 world (raises if inconsistent)."""
    import owlready2

    java()
    path = tmp_path / "merged.nt"
    closed = Graph()
    closed += graph
    closed.remove((None, OWL.imports, None))  # the graph already is the imports closure
    closed.serialize(path, format="nt", encoding="utf-8")
    world = owlready2.World()
    world.get_ontology(path.as_uri()).load()
    owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
    return world


def test_consistent_with_no_unsatisfiable_class(onto: Ontology, tmp_path: Path) -> None:
    world = reason(onto.graph, tmp_path)
    assert list(world.inconsistent_classes()) == []
    assert len(list(world.classes())) > 100


def test_dpv_alignment_classifies_data(onto: Ontology, tmp_path: Path) -> None:
    g = Graph()
    g += onto.graph
    for asset, props in {
        EX.genome: [(M.hasPersonalInformation, M.GeneticInformation)],
        EX.dose: [(M.hasPersonalInformation, M.PersonalIdentifiers)],
        EX.stats: [(M.processingDegree, M.Anonymised)],
    }.items():
        g.add((asset, RDF.type, OWL.NamedIndividual))
        g.add((asset, RDF.type, M.DataAsset))
        for p, o in props:
            g.add((asset, p, o))
    world = reason(g, tmp_path)

    def types(iri: URIRef) -> set[str]:
        ind = world[str(iri)]
        return {c.iri for c in ind.INDIRECT_is_a if hasattr(c, "iri")}

    genome = types(EX.genome)
    assert {DPV.SpecialCategoryPersonalData, DPV.SensitivePersonalData, DPV.PersonalData} <= {URIRef(t) for t in genome}
    dose = {URIRef(t) for t in types(EX.dose)}
    assert DPV.PersonalData in dose and DPV.SensitivePersonalData not in dose
    assert DPV.AnonymisedData in {URIRef(t) for t in types(EX.stats)}
    assert str(M.DataAsset) in genome and "http://www.w3.org/ns/prov#Entity" in genome


def test_disjointness_catches_a_modelling_error(onto: Ontology, tmp_path: Path) -> None:
    import owlready2

    g = Graph()
    g += onto.graph
    g.add((EX.both, RDF.type, OWL.NamedIndividual))
    g.add((EX.both, RDF.type, M.DataAsset))
    g.add((EX.both, RDF.type, M.DataElement))
    with pytest.raises(owlready2.OwlReadyInconsistentOntologyError):
        reason(g, tmp_path)
