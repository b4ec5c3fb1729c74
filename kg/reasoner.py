"""HermiT (bundled with owlready2) over the ontology as edited: is it consistent, which classes
are unsatisfiable, and what the edit changes in the inferred class hierarchy.

``medgrade ontology check`` runs it; ``POST /api/admin/reload`` (``Service.reload``) runs it
before anything is swapped and refuses an inconsistent ontology. HermiT needs Java: without it
:func:`check` says so (``available`` false) and the caller decides what that means — the CLI
fails, reload goes on with the syntax check that loading the files already made, and says so.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rdflib import Graph
from rdflib.namespace import OWL

from kg.errors import OntologyError

THING, NOTHING = str(OWL.Thing), str(OWL.Nothing)


@dataclass(frozen=True, slots=True)
class Hierarchy:
    """What HermiT infers: consistent or not, the unsatisfiable classes, the subclass pairs."""

    consistent: bool
    unsatisfiable: frozenset[str] = frozenset()
    subclass_of: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True, slots=True)
class OntologyCheck:
    """The answer of ``medgrade ontology check``."""

    available: bool  # Java (and so HermiT) could run
    consistent: bool | None = None
    unsatisfiable: tuple[str, ...] = ()
    added: tuple[tuple[str, str], ...] = ()  # inferred (subclass, superclass) the edit adds
    removed: tuple[tuple[str, str], ...] = ()  # ... and the ones it takes away
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.available and self.consistent and not self.unsatisfiable)

    def to_dict(self) -> dict[str, Any]:
        return {
            "reasoner": "HermiT (owlready2)",
            "available": self.available,
            "ok": self.ok,
            "consistent": self.consistent,
            "unsatisfiable": list(self.unsatisfiable),
            "hierarchy_added": [{"class": s, "superclass": o} for s, o in self.added],
            "hierarchy_removed": [{"class": s, "superclass": o} for s, o in self.removed],
            "notes": self.notes,
        }


JAVA_NEEDED = (
    "HermiT needs Java (a `java` executable on PATH); only the syntax of the files was checked",
    "HermiT 推理机需要 Java（PATH 中的 java）；仅检查了文件语法",
)


def java_available() -> bool:
    return shutil.which("java") is not None


def infer(graph: Graph) -> Hierarchy:
    """Run HermiT over ``graph`` (the imports closure, already merged)."""
    import owlready2

    closed = Graph()
    closed += graph
    closed.remove((None, OWL.imports, None))  # the graph already is the imports closure
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "merged.nt"
        closed.serialize(path, format="nt", encoding="utf-8")
        world = owlready2.World()
        try:
            world.get_ontology(path.as_uri()).load()
            try:
                owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
            except owlready2.OwlReadyInconsistentOntologyError:
                return Hierarchy(consistent=False)
            except (owlready2.OwlReadyJavaError, subprocess.CalledProcessError) as exc:
                # HermiT refused the input (e.g. a datatype outside the OWL 2 datatype map)
                why = _hermit_error(str(exc).encode())
                raise OntologyError(
                    f"HermiT could not reason over the ontology: {why}", f"HermiT 无法对本体推理：{why}"
                ) from None
            unsatisfiable = frozenset(
                c.iri for c in world.inconsistent_classes() if getattr(c, "iri", NOTHING) != NOTHING
            )
            pairs = set()
            for cls in world.classes():
                for sup in cls.ancestors(include_self=False):
                    if getattr(sup, "iri", THING) not in (THING, NOTHING):
                        pairs.add((cls.iri, sup.iri))
            return Hierarchy(True, unsatisfiable, frozenset(pairs))
        finally:
            world.close()


def _hermit_error(output: bytes | None) -> str:
    """The Java exception HermiT printed, joined onto one line (its stack trace left out)."""
    lines = (output or b"").decode("utf-8", "replace").splitlines()
    start = next((i for i, line in enumerate(lines) if "Exception" in line and "at " not in line[:8]), None)
    if start is None:
        return lines[-1].strip() if lines else "no output"
    text = []
    for line in lines[start:]:
        if line.strip().startswith("at "):
            break
        text.append(line.strip())
    return " ".join(text).replace('Exception in thread "main" ', "")


def check(graph: Graph, baseline: Graph | None = None) -> OntologyCheck:
    """Check the ontology ``graph``; with ``baseline`` (the ontology before the edit) also say
    what the edit changes in the inferred class hierarchy."""
    if not java_available():
        return OntologyCheck(available=False, notes=[f"{JAVA_NEEDED[1]} / {JAVA_NEEDED[0]}"])
    edited = infer(graph)
    if not edited.consistent:
        return OntologyCheck(
            available=True,
            consistent=False,
            notes=["本体不一致：没有个体能满足全部公理 / the ontology is inconsistent: no model satisfies its axioms"],
        )
    added: set[tuple[str, str]] = set()
    removed: set[tuple[str, str]] = set()
    if baseline is not None:
        before = infer(baseline)
        added, removed = set(edited.subclass_of - before.subclass_of), set(before.subclass_of - edited.subclass_of)
    return OntologyCheck(
        available=True,
        consistent=True,
        unsatisfiable=tuple(sorted(edited.unsatisfiable)),
        added=tuple(sorted(added)),
        removed=tuple(sorted(removed)),
    )
