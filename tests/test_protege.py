"""The ontology as Protégé sees it: the OWL API parses every file in OWL 2 DL, resolves the
umbrella's imports through the catalog alone, and saves RDF/XML that reads back unchanged."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from rdflib import BNode, Graph, URIRef
from rdflib.collection import Collection
from rdflib.compare import graph_diff, isomorphic, to_isomorphic
from rdflib.namespace import OWL, RDF, RDFS

from kg import ONTOLOGY_IRI
from kg.ontology_files import read_catalog
from tests.helpers import java, need, shared_tool
from tests.owlapi import runner

pytestmark = pytest.mark.java


@pytest.fixture(scope="module")
def owlapi(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    java()
    shared_tool("owl-check")
    if runner.classpath() is None:  # owl-check installs Debian's OWL API on first use
        subprocess.run([str(shared_tool("owl-check")), "--format=ttl", "/dev/null"], capture_output=True)
    built = runner.compile_check(tmp_path_factory.mktemp("owlapi"))
    need(built is not None, "the OWL API (libowlapi-java) or javac is not installed")
    return built  # type: ignore[return-value]


def test_owl_check_every_file(ontology_dir: Path) -> None:
    files = sorted(str(p) for p in ontology_dir.glob("*.ttl"))
    proc = subprocess.run([str(shared_tool("owl-check")), *files], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("owl2_dl=true violations=0") == len(files)
    assert proc.stdout.count("unparsed_triples=0") == len(files)
    assert "GUESSED_DECLARATION" not in proc.stdout


def test_jena_riot_validates_every_file(ontology_dir: Path) -> None:
    files = sorted(str(p) for p in ontology_dir.glob("*.ttl"))
    proc = subprocess.run(
        [str(shared_tool("jena")), "riotcmd.riot", "--validate", *files], capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "", proc.stdout + proc.stderr


def test_umbrella_loads_with_imports_from_the_catalog(owlapi: tuple[str, Path], ontology_dir: Path) -> None:
    proc = runner.run(owlapi, "closure", str(ontology_dir))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    imported = {ln.split(" ", 1)[1] for ln in proc.stdout.splitlines() if ln.startswith("IMPORTED ")}
    assert imported == set(read_catalog(ontology_dir))
    assert "owl2_dl=true" in proc.stdout


def test_missing_import_is_refused_like_protege(owlapi: tuple[str, Path], ontology_copy: Path) -> None:
    catalog = ontology_copy / "catalog-v001.xml"
    catalog.write_text("\n".join(ln for ln in catalog.read_text().splitlines() if "def/levels" not in ln))
    proc = runner.run(owlapi, "closure", str(ontology_copy))
    assert proc.returncode == 1 and "LOAD_ERROR" in proc.stdout


def _meaning(g: Graph) -> Graph:
    """The triples that carry meaning, in a canonical form.

    Declarations of built-in vocabulary are dropped, since the OWL API never writes them
    (rdfs:label is always an annotation property to it); and the RDF lists of OWL's set
    constructs (unionOf, members, distinctMembers, ...) are sorted, since their order means
    nothing and the OWL API writes them in its own order.
    """
    heads = {o for _, p, o in g if p in _SET_LISTS}
    out = Graph()
    for s, p, o in g:
        if p == RDF.type and o == OWL.AnnotationProperty and str(s).startswith(str(RDFS)):
            continue
        if p in (RDF.first, RDF.rest):
            continue
        if o in heads:
            members = sorted(Collection(g, o), key=lambda m: (0, str(m)) if isinstance(m, URIRef) else (1, ""))
            new_head = BNode()
            Collection(out, new_head, members)
            o = new_head
        out.add((s, p, o))
    return out


_SET_LISTS = {OWL.unionOf, OWL.intersectionOf, OWL.oneOf, OWL.members, OWL.distinctMembers}


@pytest.mark.parametrize(
    "module", ["core", "levels", "categories", "equipment", "transformations", "measures", "alignments", "medgrade"]
)
def test_protege_round_trip_is_lossless(
    owlapi: tuple[str, Path], ontology_dir: Path, tmp_path: Path, module: str
) -> None:
    """Load with the OWL API, save as RDF/XML (Protégé's default), read back: same graph."""
    src = ontology_dir / f"{module}.ttl"
    out = tmp_path / f"{module}.owl"
    proc = runner.run(owlapi, "save", str(src), str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    before, after = Graph(), Graph()
    before.parse(src, format="turtle")
    after.parse(out, format="xml")
    if not isomorphic(_meaning(before), _meaning(after)):
        _, lost, added = graph_diff(to_isomorphic(_meaning(before)), to_isomorphic(_meaning(after)))
        pytest.fail(f"lost {sorted(lost)[:10]}\nadded {sorted(added)[:10]}")


@pytest.mark.parametrize(
    "module", ["core", "levels", "categories", "equipment", "transformations", "measures", "alignments", "medgrade"]
)
def test_rdfxml_serialisation_round_trip(ontology_dir: Path, module: str) -> None:
    src = ontology_dir / f"{module}.ttl"
    g = Graph()
    g.parse(src, format="turtle")
    back = Graph()
    back.parse(data=g.serialize(format="xml"), format="xml")
    assert isomorphic(g, back)
    assert len(back) == len(g) > 0


def test_umbrella_iri(ontology_dir: Path) -> None:
    assert read_catalog(ontology_dir)[ONTOLOGY_IRI].name == "medgrade.ttl"
