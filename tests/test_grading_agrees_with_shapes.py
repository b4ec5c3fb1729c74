"""The Python grading (kg.grading, what imports, the level answer and propagation use) and the
SHACL shapes R2–R6 (what validation reports) are two statements of one rule set. On random
assets they must agree: an assessed level falls short in Python exactly when pyshacl reports an
R2–R6 Violation on the asset."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import Literal, URIRef
from rdflib.namespace import RDF, RDFS

from kg.grading import AssetFacts, ElementFacts, grade
from kg.namespaces import MG
from kg.ontology import Ontology, load_ontology
from kg.service import Service
from kg.settings import Settings
from kg.store import Graphs, open_store
from kg.store.base import Triple

EX = "https://example.org/h/"
ASSET = URIRef(f"{EX}asset/a1")
RULES = {"R2", "R3", "R4", "R5", "R6"}

ONTO = load_ontology()


@pytest.fixture(scope="module")
def svc() -> Service:
    service = Service(Settings(store="memory:", base_iri=EX), store=open_store("memory:"), ontology=ONTO)
    service.initialize()
    return service


def _iris(terms: object) -> list[str]:
    return sorted(t.iri for t in terms)  # type: ignore[attr-defined]


CATEGORIES = _iris(ONTO.categories)
PERSONAL = _iris(ONTO.personal_information)
LEVELS = _iris(ONTO.levels)
OBJECTS = _iris(ONTO.impact_objects)
DEGREES = _iris(ONTO.impact_degrees)
THRESHOLD = ONTO.policy.important_data_threshold

elements = st.lists(
    st.tuples(
        st.none() | st.sampled_from(CATEGORIES),
        st.lists(st.sampled_from(PERSONAL), max_size=2, unique=True),
        st.none() | st.sampled_from(LEVELS),
    ),
    max_size=2,
)
assets = st.fixed_dictionaries(
    {
        "category": st.none() | st.sampled_from(CATEGORIES),
        "impacts": st.dictionaries(st.sampled_from(OBJECTS), st.sampled_from(DEGREES), max_size=2),
        "personal": st.lists(st.sampled_from(PERSONAL), max_size=2, unique=True),
        "count": st.sampled_from([None, 0, THRESHOLD - 1, THRESHOLD, THRESHOLD * 3]),
        "elements": elements,
        "level": st.sampled_from(LEVELS),
    }
)


def _facts_and_triples(a: dict[str, object]) -> tuple[AssetFacts, list[Triple]]:
    t: list[Triple] = [(ASSET, RDF.type, MG.DataAsset), (ASSET, MG.assessedLevel, URIRef(str(a["level"])))]
    if a["category"]:
        t.append((ASSET, MG.hasCategory, URIRef(str(a["category"]))))
    impacts = sorted(a["impacts"].items())  # type: ignore[attr-defined]
    for obj, deg in impacts:
        node = URIRef(f"{ASSET}/impact/{obj.rsplit('#', 1)[-1]}")
        t += [
            (ASSET, MG.hasImpact, node),
            (node, RDF.type, MG.ImpactStatement),
            (node, MG.impactObject, URIRef(obj)),
            (node, MG.impactDegree, URIRef(deg)),
        ]
    t += [(ASSET, MG.hasPersonalInformation, URIRef(p)) for p in a["personal"]]  # type: ignore[attr-defined]
    if a["count"] is not None:
        t.append((ASSET, MG.subjectCount, Literal(a["count"])))
    facts_elements = []
    for i, (cat, pis, lv) in enumerate(a["elements"]):  # type: ignore[arg-type]
        e = URIRef(f"{ASSET}/element/e{i}")
        name = f"element {i}"  # a name that denotes no personal information
        t += [(ASSET, MG.hasElement, e), (e, RDF.type, MG.DataElement), (e, RDFS.label, Literal(name))]
        if cat:
            t.append((e, MG.hasCategory, URIRef(cat)))
        t += [(e, MG.hasPersonalInformation, URIRef(p)) for p in pis]
        if lv:
            t.append((e, MG.assessedLevel, URIRef(lv)))
        facts_elements.append(ElementFacts(str(e), name, cat, tuple(pis), lv))
    facts = AssetFacts(
        str(ASSET),
        a["category"],  # type: ignore[arg-type]
        tuple(impacts),
        tuple(a["personal"]),  # type: ignore[arg-type]
        a["count"],  # type: ignore[arg-type]
        tuple(facts_elements),
    )
    return facts, t


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(assets)
def test_python_grading_and_shapes_agree(svc: Service, asset: dict[str, object]) -> None:
    facts, triples = _facts_and_triples(asset)
    svc.store.replace_graph(Graphs.INVENTORY, triples)
    onto: Ontology = svc.ontology
    assessed = onto.levels.by_iri[str(asset["level"])]
    python = grade(facts, onto)
    short = python.violated_by(assessed)
    shapes = {
        r.rule
        for r in svc.validate().results
        if r.severity == "Violation" and r.rule in RULES and r.focus == str(ASSET)
    }
    assert bool(short) == bool(shapes), (
        f"assessed {assessed.label_en}: Python minimum {python.level.label_en} "
        f"({[r.rule + ' ' + r.text_en for r in short]}), shapes report {sorted(shapes)}"
    )
