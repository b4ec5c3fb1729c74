"""An import plan: what a set of files would write, as records, before anything is written.

A record is one described thing (an asset with its parts, a device, a destination) and all
its triples. Problems stop the import; warnings are reported and the import goes on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rdflib import Literal, URIRef

from kg.errors import Problem
from kg.namespaces import MG, RDF, RDFS
from kg.store.base import Triple

_GRADED = {MG.hasCategory, MG.assessedLevel, MG.hasPersonalInformation}


@dataclass
class Record:
    kind: str  # "asset", "device", "destination", "resource" (from RDF) or "lineage" (OpenLineage)
    root: URIRef
    triples: list[Triple] = field(default_factory=list)
    where: str = ""
    additive: bool = False  # add to what the store holds instead of replacing the description


@dataclass
class ImportPlan:
    files: list[str] = field(default_factory=list)
    records: dict[URIRef, Record] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def add(self, record: Record) -> None:
        previous = self.records.get(record.root)
        if previous is not None and (record.additive or previous.additive):
            # additions (OpenLineage) join whatever else describes the resource in this import
            base, extra = (previous, record) if record.additive else (record, previous)
            known = set(base.triples)
            base.triples += [t for t in extra.triples if t not in known]
            self.records[record.root] = base
            return
        if record.root in self.records:
            previous = self.records[record.root]
            self.problems.append(
                Problem(
                    f"{record.kind} <{record.root}> is described twice (also at {previous.where})",
                    f"{record.kind} <{record.root}> 被重复描述（另见 {previous.where}）",
                    where=record.where,
                )
            )
            return
        self.records[record.root] = record

    def elements(self) -> list[tuple[str, str, bool]]:
        """``(name, where, graded)`` of every data element the plan describes, in plan order:
        ``graded`` when the element carries its own category, level or personal information."""
        out: list[tuple[str, str, bool]] = []
        for record in self.records.values():
            kinds = {s for s, p, o in record.triples if p == RDF.type and o == MG.DataElement}
            if not kinds:
                continue
            graded = {s for s, p, _ in record.triples if s in kinds and p in _GRADED}
            out += [
                (str(o), record.where, s in graded)
                for s, p, o in record.triples
                if s in kinds and p == RDFS.label and isinstance(o, Literal)
            ]
        return out

    def merge(self, other: ImportPlan) -> None:
        self.files += other.files
        for r in other.records.values():
            self.add(r)
        self.problems += other.problems
        self.warnings += other.warnings
