"""What the shapes read across links (kg.shape_reads), and the incremental validation that uses it:
a new OpenLineage run of a job does not re-check the job's earlier runs, and the stored report
still equals a full run."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

from rdflib import Graph, URIRef

from kg.namespaces import PROV
from kg.service import Service
from kg.settings import Settings
from kg.shape_reads import NeighbourReads, neighbour_reads
from kg.store import open_store

SHAPES = Path(__file__).parent.parent / "shapes"
EVENTS = Path(__file__).parent / "data" / "openlineage" / "dose_registry.jsonl"
SMALL = Path(__file__).parent / "data" / "small"
EX = "https://example.org/s#"
MG = "https://w3id.org/medgrade/def#"


def _reads(turtle: str) -> NeighbourReads:
    g = Graph()
    g.parse(
        data="@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <https://example.org/s#> .\n" + turtle,
        format="turtle",
    )
    return neighbour_reads(g)


def _names(predicates: frozenset[URIRef] | None) -> set[str] | None:
    return None if predicates is None else {str(p).rsplit("#", 1)[-1] for p in predicates}


def test_paths_targets_and_sparql_patterns_at_the_focus_node() -> None:
    reads = _reads(
        """
        ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:targetObjectsOf ex:e ;
          sh:property [ sh:path ex:a ; sh:minCount 1 ] ,
                      [ sh:path [ sh:inversePath ex:b ] ; sh:maxCount 1 ] ,
                      [ sh:path ( ex:c ex:d ) ; sh:minCount 1 ] ;
          sh:sparql [ sh:select '''SELECT $this WHERE {
              $this <https://example.org/s#f> ?x . ?y <https://example.org/s#g> $this .
              ?x <https://example.org/s#far> ?z .
              FILTER NOT EXISTS { $this <https://example.org/s#h> ?w } }''' ] .
        """
    )
    assert _names(reads.forward) == {"a", "c", "d", "f", "h"}  # `far` is not read at the focus node
    assert _names(reads.inverse) == {"b", "c", "d", "e", "g"}


def test_what_cannot_be_read_counts_as_every_predicate() -> None:
    variable = _reads("ex:S sh:sparql [ sh:select 'SELECT $this WHERE { $this ?p ?o }' ] .")
    assert variable.forward is None and variable.inverse == frozenset()
    broken = _reads("ex:S sh:sparql [ sh:select 'SELECT $this WHERE { $this <x' ] .")
    assert broken.forward is None and broken.inverse is None
    target = _reads("ex:S sh:target [ a ex:SPARQLTarget ] .")
    assert target.forward is None and target.inverse is None


def test_medgrade_shapes_read_lineage_both_ways_but_not_a_run_from_its_outputs() -> None:
    g = Graph()
    for f in sorted(SHAPES.glob("*.ttl")):
        g.parse(f)
    reads = neighbour_reads(g)
    assert reads.forward is not None and reads.inverse is not None
    forward, inverse = _names(reads.forward), _names(reads.inverse)
    assert {"wasDerivedFrom", "approval", "toDestination", "transformationType"} <= forward  # type: ignore[operator]
    assert {"wasDerivedFrom", "concerns"} <= inverse  # type: ignore[operator]
    assert PROV.wasGeneratedBy not in reads.forward | reads.inverse
    assert PROV.used not in reads.forward | reads.inverse
    assert URIRef(MG + "concerns") not in reads.forward  # a record is never re-checked for its asset


def test_a_new_run_of_a_job_does_not_recheck_its_earlier_runs(tmp_path: Path) -> None:
    target = tmp_path / "small"
    shutil.copytree(SMALL, target)
    svc = Service(Settings(store="memory:"), store=open_store("memory:"))
    svc.import_files(sorted(target.glob("*.csv")))
    svc.import_files([EVENTS])
    first, complete = (json.loads(line) for line in EVENTS.read_text(encoding="utf-8").splitlines())
    second = dict(complete, eventTime="2026-11-02T02:03:10.000Z", run=dict(complete["run"], runId=_next(first)))
    again = tmp_path / "second.jsonl"
    again.write_text(json.dumps(second) + "\n", encoding="utf-8")
    svc.import_files([again])
    runs = {svc.ids.base + "run/" + e["run"]["runId"] for e in (first, second)}
    old, new = (URIRef(r) for r in sorted(runs, key=lambda r: r.endswith(_next(first))))
    output = next(s for s in svc.store.referring(str(PROV.wasGeneratedBy), str(new)))[0]
    validator = svc.validator()
    assert old not in validator.affected({new, URIRef(output)})
    everything = dataclasses.replace(validator.reads, forward=None, inverse=None)
    validator.reads, kept = everything, validator.reads  # a reading that follows every link
    try:
        assert old in validator.affected({new, URIRef(output)})  # the earlier run is a neighbour
    finally:
        validator.reads = kept
    stored = {r.key() for r in validator.stored().results}
    assert stored == {r.key() for r in svc.validate().results}
    svc.close()


def _next(event: dict) -> str:  # type: ignore[type-arg]
    """Another run id of the same form."""
    run_id: str = event["run"]["runId"]
    return run_id[:-4] + "ffff"
