"""Where each term's content comes from: cited from a standard, a project default, or unconfirmed.

Every level, impact object and degree, matrix cell, transformation type, protection measure,
classification concept (business category, personal-information concept, GB/T 39725 health data
type, processing degree), concept scheme, rule parameter (floors, caps, measure sets, may-leave)
and SHACL rule shape says so with ``mg:sourceStatus``: ``mg:SourceCited`` with ``dcterms:source``
(the standard and clause), or ``mg:SourceProjectDefault`` / ``mg:SourceUnconfirmed`` with a
``skos:editorialNote`` in zh and en saying what would confirm it (on the term or on its concept
scheme). Mappings from the business categories to other schemes (``mg:healthDataType``,
``skos:closeMatch``) carry the status as an OWL axiom annotation on the assertion.

:func:`source_entries` walks the ontology files and the shapes files (nothing is listed by hand)
and reports, per entry, what is missing; ``medgrade ontology sources`` prints it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS
from rdflib.term import Node

from kg import MG as MG_IRI
from kg.ontology_files import load_files

MG = Namespace(MG_IRI)
SH = Namespace("http://www.w3.org/ns/shacl#")

STATUSES: dict[URIRef, str] = {
    MG.SourceCited: "cited",
    MG.SourceProjectDefault: "default",
    MG.SourceUnconfirmed: "unconfirmed",
}
STATUS_LABELS: dict[str, tuple[str, str]] = {
    "cited": ("引用标准", "cited"),
    "default": ("项目默认", "project default"),
    "unconfirmed": ("待确认", "unconfirmed"),
    "missing": ("缺少状态", "no status"),
}

# (kind, class whose named instances must carry a status, zh, en)
KINDS: tuple[tuple[str, URIRef, str, str], ...] = (
    ("level", MG.SecurityLevel, "数据级别", "security level"),
    ("impact_object", MG.ImpactObject, "影响对象", "impact object"),
    ("impact_degree", MG.ImpactDegree, "影响程度", "impact degree"),
    ("matrix_cell", MG.ImpactMatrixCell, "影响矩阵单元", "impact matrix cell"),
    ("transformation", MG.TransformationType, "加工方式", "transformation type"),
    ("measure", MG.ProtectionMeasure, "防护措施", "protection measure"),
    ("category", MG.DataCategory, "业务分类", "business category"),
    ("personal_information", MG.PersonalInformationCategory, "个人信息类别", "personal-information category"),
    ("health_data_type", MG.HealthDataType, "健康医疗数据类别", "health data type"),
    ("processing_degree", MG.ProcessingDegree, "加工程度", "processing degree"),
    ("classification_status", MG.ClassificationStatus, "分类状态", "classification status"),
    ("grading_policy", MG.GradingPolicy, "定级策略", "grading policy"),
    ("principle", MG.GradingPrinciple, "分类分级原则", "principle"),
    ("grading_element", MG.GradingElement, "定级要素", "grading element"),
    ("method", MG.GradingMethod, "分类分级方法", "method"),
    ("method_step", MG.MethodStep, "方法步骤", "method step"),
    ("cross_border_mechanism", MG.CrossBorderMechanism, "数据出境机制", "cross-border mechanism"),
    ("cross_border_data_kind", MG.CrossBorderDataKind, "出境数据种类", "cross-border data kind"),
    ("cross_border_rule", MG.CrossBorderRule, "数据出境规则", "cross-border rule"),
    ("evidence_kind", MG.EvidenceKind, "证明材料种类", "evidence kind"),
)
# properties whose values are rule parameters across the ontology: the status covers them all
PARAMETERS = (
    MG.floorLevel,
    MG.capLevel,
    MG.requiresMeasure,
    MG.mayLeaveInstitution,
    MG.healthRelatedInformation,
    MG.humanGeneticResourceInformation,
)
# mappings from the business categories to other schemes: each assertion carries a status
MAPPINGS = (MG.healthDataType, SKOS.closeMatch)
KIND_LABELS: dict[str, tuple[str, str]] = {
    **{k: (zh, en) for k, _, zh, en in KINDS},
    "scheme": ("概念体系", "concept scheme"),
    "parameter": ("规则参数", "rule parameter"),
    "property": ("属性", "property"),
    "module": ("本体模块", "ontology module"),
    "mapping": ("体系对照", "mapping"),
    "shape": ("规则形状", "rule shape"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceEntry:
    """One term (or mapping assertion, or rule shape) and where its content comes from."""

    iri: str
    kind: str
    module: str  # the file that defines it, e.g. "levels.ttl" or "shapes/grading.ttl"
    label_zh: str
    label_en: str
    status: str | None  # "cited", "default", "unconfirmed", or None when missing
    sources: tuple[str, ...] = ()  # dcterms:source
    note_zh: str = ""  # skos:editorialNote (own, else its concept scheme's)
    note_en: str = ""
    mapped_property: str | None = None  # for a mapping: the mapped property and its value
    target: str | None = None
    rule: str | None = None  # for a shape: its rule id (dcterms:identifier)

    @property
    def problems(self) -> tuple[tuple[str, str], ...]:
        """What is missing, as (zh, en) pairs; empty when the entry is complete."""
        if self.status is None:
            return (("缺少 mg:sourceStatus", "has no mg:sourceStatus"),)
        if self.status == "cited":
            if not self.sources:
                return (("标为引用标准，但没有 dcterms:source", "is cited but has no dcterms:source"),)
            return ()
        if not (self.note_zh and self.note_en):
            return (
                (
                    "未引用标准，但没有中英文 skos:editorialNote 说明如何确认",
                    "is not cited and has no skos:editorialNote in zh and en saying what would confirm it",
                ),
            )
        return ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "iri": self.iri,
            "kind": self.kind,
            "module": self.module,
            "label_zh": self.label_zh,
            "label_en": self.label_en,
            "status": self.status,
            "sources": list(self.sources),
            "note_zh": self.note_zh,
            "note_en": self.note_en,
            "property": self.mapped_property,
            "target": self.target,
            "rule": self.rule,
            "problems": [{"zh": zh, "en": en} for zh, en in self.problems],
        }


class _Reader:
    """Reads statuses, sources and notes from one graph, attributing subjects to files."""

    def __init__(self, graph: Graph, file_of: dict[Node, str]) -> None:
        self.g = graph
        self.file_of = file_of

    def text(self, s: Node, p: URIRef, lang: str) -> str:
        return next((str(o) for o in self.g.objects(s, p) if isinstance(o, Literal) and o.language == lang), "")

    def label(self, s: Node) -> tuple[str, str]:
        zh, en = self.text(s, RDFS.label, "zh"), self.text(s, RDFS.label, "en")
        local = str(s).rsplit("#", 1)[-1]
        return zh or en or local, en or zh or local

    def status(self, s: Node) -> str | None:
        values = [STATUSES.get(o) if isinstance(o, URIRef) else None for o in self.g.objects(s, MG.sourceStatus)]
        return values[0] if len(values) == 1 else None

    def entry(self, s: Node, kind: str, **extra: Any) -> SourceEntry:
        zh, en = self.label(s)
        note_zh, note_en = self.text(s, SKOS.editorialNote, "zh"), self.text(s, SKOS.editorialNote, "en")
        if not (note_zh and note_en):  # a concept's note may sit on its scheme
            for scheme in self.g.objects(s, SKOS.inScheme):
                note_zh = note_zh or self.text(scheme, SKOS.editorialNote, "zh")
                note_en = note_en or self.text(scheme, SKOS.editorialNote, "en")
        return SourceEntry(
            iri=str(s),
            kind=kind,
            module=self.file_of.get(s, "?"),
            label_zh=zh,
            label_en=en,
            status=self.status(s),
            sources=tuple(sorted(str(o) for o in self.g.objects(s, DCTERMS.source))),
            note_zh=note_zh,
            note_en=note_en,
            **extra,
        )


def _defining_files(modules: dict[str, Graph], names: dict[str, str]) -> dict[Node, str]:
    """Each subject that a module says more of than a bare type (a stub), by file name."""
    out: dict[Node, str] = {}
    for iri, graph in modules.items():
        for s in set(graph.subjects()):
            if s not in out and any(p != RDF.type for p in graph.predicates(s, None)):
                out[s] = names[iri]
    return out


def ontology_entries(directory: Path) -> list[SourceEntry]:
    """The status entries of the ontology in ``directory`` (terms, parameters, mappings)."""
    files = load_files(directory)
    g = files.merged()
    r = _Reader(g, _defining_files(files.modules, {iri: p.name for iri, p in files.files.items()}))
    out: list[SourceEntry] = []
    seen: set[Node] = set()
    schemes: set[Node] = set()
    for kind, cls, _, _ in KINDS:
        classes = set(g.transitive_subjects(RDFS.subClassOf, cls))
        members = {s for c in classes for s in g.subjects(RDF.type, c) if isinstance(s, URIRef)}
        for s in sorted(members - seen):
            seen.add(s)
            out.append(r.entry(s, kind))
            schemes.update(g.objects(s, SKOS.inScheme))
    out += [r.entry(s, "scheme") for s in sorted(schemes, key=str)]
    out += [r.entry(p, "parameter") for p in PARAMETERS]
    listed = seen | schemes | set(PARAMETERS)
    out += [
        r.entry(s, "module" if (s, RDF.type, OWL.Ontology) in g else "property")
        for s in sorted(set(g.subjects(MG.sourceStatus, None)), key=str)
        if isinstance(s, URIRef) and s not in listed
    ]
    categories = {s for s in g.subjects(RDF.type, MG.DataCategory)}
    annotated: dict[tuple[Node | None, ...], Node] = {}
    for ax in g.subjects(RDF.type, OWL.Axiom):
        key = tuple(g.value(ax, q) for q in (OWL.annotatedSource, OWL.annotatedProperty, OWL.annotatedTarget))
        annotated[key] = ax
    for prop in MAPPINGS:
        for subj, obj in sorted(g.subject_objects(prop), key=lambda so: (str(so[0]), str(so[1]))):
            if subj not in categories:
                continue
            axiom = annotated.get((subj, prop, obj))
            zh, en = r.label(subj)
            tzh, ten = r.label(obj)
            base = r.entry(axiom, "mapping") if axiom is not None else None
            out.append(
                SourceEntry(
                    iri=str(subj),
                    kind="mapping",
                    module=r.file_of.get(axiom, "?") if axiom is not None else r.file_of.get(subj, "?"),
                    label_zh=f"{zh} → {tzh}",
                    label_en=f"{en} → {ten}",
                    status=base.status if base else None,
                    sources=base.sources if base else (),
                    note_zh=base.note_zh if base else "",
                    note_en=base.note_en if base else "",
                    mapped_property=str(prop),
                    target=str(obj),
                )
            )
    return out


def shape_entries(shapes_dir: Path) -> list[SourceEntry]:
    """The status entries of the SHACL shapes in ``shapes_dir``: every shape naming a rule."""
    out: list[SourceEntry] = []
    for path in sorted(shapes_dir.glob("*.ttl")):
        g = Graph()
        g.parse(path, format="turtle")
        r = _Reader(g, {s: f"shapes/{path.name}" for s in set(g.subjects())})
        shapes = {s for cls in (SH.NodeShape, SH.PropertyShape) for s in g.subjects(RDF.type, cls)}
        for s in sorted(shapes, key=str):
            rule = g.value(s, DCTERMS.identifier)
            if rule is not None:
                out.append(r.entry(s, "shape", rule=str(rule)))
    return out


def source_entries(ontology_dir: Path, shapes_dir: Path) -> list[SourceEntry]:
    """Every status entry of the ontology and the shapes."""
    return ontology_entries(ontology_dir) + shape_entries(shapes_dir)


def counts(entries: list[SourceEntry]) -> dict[str, Any]:
    """Entries per status: in total, per module (file) and per kind."""

    def tally(items: list[SourceEntry]) -> dict[str, int]:
        c = Counter(e.status or "missing" for e in items)
        return {k: c.get(k, 0) for k in STATUS_LABELS}

    modules = sorted({e.module for e in entries})
    kinds = list(dict.fromkeys(e.kind for e in entries))
    return {
        "total": tally(entries),
        "by_module": {m: tally([e for e in entries if e.module == m]) for m in modules},
        "by_kind": {k: tally([e for e in entries if e.kind == k]) for k in kinds},
    }
