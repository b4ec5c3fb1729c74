"""``medgrade ontology check`` runs HermiT (owlready2) over the ontology as edited, and the admin
reload refuses an inconsistent ontology: what a standards editor runs before a reload."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF, RDFS

from kg import MG, reasoner
from kg.errors import InputError
from kg.service import Service
from kg.settings import Settings
from tests.helpers import edit_module, java
from tests.test_cli_store import medgrade

pytestmark = pytest.mark.java
EX = "https://example.org/edit#"


def _unsatisfiable(g: Graph) -> None:  # a class below two disjoint classes: nothing can be in it
    cls = URIRef(f"{EX}AssetAndElement")
    g.add((cls, RDF.type, OWL.Class))
    g.add((cls, RDFS.subClassOf, URIRef(f"{MG}DataAsset")))
    g.add((cls, RDFS.subClassOf, URIRef(f"{MG}DataElement")))


def _inconsistent(g: Graph) -> None:  # an individual in two disjoint classes
    both = URIRef(f"{EX}both")
    g.add((both, RDF.type, OWL.NamedIndividual))
    g.add((both, RDF.type, URIRef(f"{MG}DataAsset")))
    g.add((both, RDF.type, URIRef(f"{MG}DataElement")))


def _narrower(g: Graph) -> None:  # an ordinary edit: a new subclass
    cls = URIRef(f"{EX}DoseReport")
    g.add((cls, RDF.type, OWL.Class))
    g.add((cls, RDFS.subClassOf, URIRef(f"{MG}DataAsset")))


def test_the_shipped_ontology_checks_clean(tmp_path: Path) -> None:
    java()
    r = medgrade("ontology", "check", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    answer = json.loads(r.stdout)
    assert answer["available"] and answer["ok"] and answer["consistent"] and answer["unsatisfiable"] == []


def test_an_edit_is_reported_against_the_shipped_hierarchy(tmp_path: Path, ontology_copy: Path) -> None:
    java()
    edit_module(ontology_copy, "core.ttl", _narrower)
    r = medgrade("ontology", "check", "--json", "--ontology-dir", str(ontology_copy), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    added = {(p["class"], p["superclass"]) for p in json.loads(r.stdout)["hierarchy_added"]}
    assert (f"{EX}DoseReport", f"{MG}DataAsset") in added
    assert "http://www.w3.org/ns/prov#Entity" in {sup for sub, sup in added if sub == f"{EX}DoseReport"}
    assert not json.loads(r.stdout)["hierarchy_removed"]


@pytest.mark.parametrize(("edit", "what"), [(_unsatisfiable, "unsatisfiable"), (_inconsistent, "inconsistent")])
def test_check_finds_a_broken_edit(tmp_path: Path, ontology_copy: Path, edit, what: str) -> None:  # type: ignore[no-untyped-def]
    java()
    edit_module(ontology_copy, "core.ttl", edit)
    r = medgrade("ontology", "check", "--json", "--ontology-dir", str(ontology_copy), cwd=tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    answer = json.loads(r.stdout)
    assert not answer["ok"]
    if what == "unsatisfiable":
        assert answer["consistent"] and answer["unsatisfiable"] == [f"{EX}AssetAndElement"]
    else:
        assert answer["consistent"] is False
    text = medgrade("ontology", "check", "--ontology-dir", str(ontology_copy), cwd=tmp_path)
    assert text.returncode == 1 and ("INCONSISTENT" in text.stdout or "AssetAndElement" in text.stdout)


def test_reload_refuses_an_inconsistent_ontology_and_changes_nothing(ontology_copy: Path) -> None:
    java()
    svc = Service(Settings(store="memory:", ontology_dir=ontology_copy))
    try:
        svc.initialize(demo=True)
        before = svc.ontology
        levels = svc.store.rows(f"SELECT (COUNT(*) AS ?n) WHERE {{ ?a <{MG}effectiveLevel> ?l }}")
        edit_module(ontology_copy, "core.ttl", _inconsistent)
        with pytest.raises(InputError) as refused:
            svc.reload(actor="editor")
        assert "inconsistent" in refused.value.message_en and "不一致" in refused.value.message_zh
        assert svc.ontology is before  # still the ontology that was loaded
        assert svc.store.rows(f"SELECT (COUNT(*) AS ?n) WHERE {{ ?a <{MG}effectiveLevel> ?l }}") == levels
        assert svc.store.rows(f"SELECT ?g WHERE {{ GRAPH ?g {{ <{EX}both> ?p ?o }} }}") == []
    finally:
        svc.close()


def test_without_java_check_says_so_and_reload_checks_syntax_only(
    ontology_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reasoner.shutil, "which", lambda name: None)
    answer = reasoner.check(Graph())
    assert not answer.available and not answer.ok and "Java" in answer.notes[0]
    svc = Service(Settings(store="memory:", ontology_dir=ontology_copy))
    try:
        svc.initialize(demo=True)
        reloaded = svc.reload(actor="editor")
        assert reloaded["reasoner"]["available"] is False and "syntax" in reloaded["reasoner"]["notes"][0]
    finally:
        svc.close()
