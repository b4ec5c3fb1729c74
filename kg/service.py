"""The use cases the CLI and the API both call, on one central object: :class:`Service`.

A service binds settings, a store and the ontology; nothing here is global.
"""

from __future__ import annotations

import contextvars
import dataclasses
import datetime as dt
import functools
import hashlib
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from rdflib import Literal, URIRef
from rdflib.term import Node

from kg import overview
from kg.answers import asset_detail, asset_list, level_answer, lineage_graph, resolve
from kg.errors import ImportProblem, InputError, Problem, ReadOnlyError
from kg.group_commit import Batches, GroupCommit, Pending
from kg.ids import Ids
from kg.importers.inventory import plan_sheets
from kg.importers.openlineage import plan_events, plan_openlineage
from kg.importers.plan import ImportPlan, Record
from kg.importers.rdf import FORMATS as RDF_FORMATS
from kg.importers.rdf import plan_rdf
from kg.importers.tabular import Sheet, read_csv, read_xlsx
from kg.lineage.model import Derivation
from kg.namespaces import DCTERMS, MG, PROV, RDF, RDFS
from kg.ontology import Ontology, load_ontology
from kg.ontology_files import load_files
from kg.propagation import Lineage, PropagationReport, preview, propagate, way_of
from kg.settings import Settings
from kg.store import Changeset, Graphs, Store, sparql_term
from kg.store.base import VALUES_CHUNK, Quad, Triple, as_int, chunks, nt_line, parts_pattern, values_blocks
from kg.unclassified import Queue, classification_queue
from kg.validation import Report, Validator, load_shapes

if TYPE_CHECKING:
    from kg.classify import Classifier
    from kg.sparql_endpoint import Dataset

Progress = Callable[[int], None]
F = TypeVar("F", bound=Callable[..., Any])
# "today" for one call (a request's or a command's --as-of), without touching the shared service
_AS_OF: contextvars.ContextVar[dt.date | None] = contextvars.ContextVar("medgrade_as_of", default=None)
_ONTOLOGY_PREFIXES = (str(MG), "https://w3id.org/medgrade/def")
_RDF_TYPE = str(RDF.type)
BULK_THRESHOLD = 200_000  # triples; above this an import into an empty inventory is bulk-loaded
INCREMENTAL_IMPORT_LIMIT = 2_000  # records: a larger import is not re-validated incrementally
IMPORT_JOURNAL = URIRef("https://w3id.org/medgrade/graph/inventory#bulk-import")
# Written in the same transaction as an inventory change, removed once derived levels follow it:
# found by the next process, it means a process died in between (see Service.recover).
PENDING = URIRef("https://w3id.org/medgrade/graph/inferred#pending")
PENDING_QUAD = (PENDING, DCTERMS.description, Literal("derived levels being recomputed / 派生级别重算中"), Graphs.META)
# The inventory's version: a new value with every write of the inventory (same transaction). A
# process keeps its lineage for incremental changes only while the version is the one it read
# or wrote itself; another process's write (a command-line import into a shared SPARQL
# server, say) makes it read the lineage again.
VERSION = URIRef("https://w3id.org/medgrade/graph/inventory#version")
# What the inferred graph holds changes with medgrade (0.2: the rules' minimum is part of the
# effective level): a full propagation stamps its format; a process that finds another format
# (a store written by an earlier medgrade) propagates again before anything is read.
INFERRED_FORMAT = URIRef("https://w3id.org/medgrade/graph/inferred#format")
INFERRED_FORMAT_VERSION = "2"


@dataclass
class InitReport:
    ontology_graphs: dict[str, str] = field(default_factory=dict)  # graph -> "loaded" | "unchanged" | "removed"
    shapes_graphs: dict[str, str] = field(default_factory=dict)
    demo: ImportReport | None = None


@dataclass
class ImportReport:
    files: list[str]
    added: dict[str, int] = field(default_factory=dict)  # kind -> count
    changed: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)
    triples: int = 0
    bulk: bool = False
    record: str | None = None  # IRI of the audit record
    propagation: Any = None  # the PropagationReport of the propagation that followed

    @property
    def wrote(self) -> bool:
        return bool(sum(self.added.values()) + sum(self.changed.values()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "added": self.added,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "triples": self.triples,
            "bulk": self.bulk,
            "record": self.record,
            "warnings": [dataclasses.asdict(w) for w in self.warnings],
        }


_ADDITIVE_ONLY = {
    str(RDF.type),
    str(RDFS.label),
    str(MG.identifier),
    str(MG.openLineageNamespace),
    str(MG.openLineageName),
    str(MG.openLineageJob),
    str(MG.transformationType),
    str(PROV.used),
    str(PROV.wasGeneratedBy),
    str(PROV.wasDerivedFrom),
    str(PROV.startedAtTime),
    str(PROV.endedAtTime),
}


def lineage_additions(records: Sequence[Record]) -> list[Derivation] | None:
    """The dataset derivations a batch of additive records adds (OpenLineage run events
    without column lineage), for an incremental propagation; None when the batch may change
    anything else lineage reads (levels, personal information, elements, approvals, or a
    description that replaces an old one): a full propagation follows then."""
    if not records or not all(r.additive for r in records):
        return None
    out: list[Derivation] = []
    for r in records:
        made = {str(s): str(o) for s, p, o in r.triples if p == PROV.wasGeneratedBy}
        for s, p, o in r.triples:
            if str(p) not in _ADDITIVE_ONLY or (p == RDF.type and o not in (MG.DataAsset, MG.Transformation)):
                return None
            if p == PROV.wasDerivedFrom:
                out.append(Derivation(str(o), str(s), made.get(str(s))))
    return out


def _described(changes: Changeset) -> set[URIRef]:
    """The resources an inventory change describes anew: those it replaces and the IRI subjects
    of what it adds."""
    return set(changes.subjects) | {s for s, _, _ in changes.triples if isinstance(s, URIRef)}


@dataclass
class Planned:
    """One caller's checked import, in a group applied together (:meth:`Service._import_group`);
    OpenLineage events keep their text and the ontology they were planned against."""

    plan: ImportPlan
    why: str = ""
    actor: str | None = None
    text: str = ""
    ontology: Ontology | None = None


def _refuse(problems: list[Problem]) -> None:
    if problems:
        raise ImportProblem(
            f"import refused: {len(problems)} problem(s); nothing was written",
            f"导入被拒绝：共 {len(problems)} 处问题，未写入任何内容",
            problems=problems,
        )


def _merged(groups: list[list[Record]]) -> list[Record]:
    """The records of several callers' imports as one import's: additions to one resource joined
    (copies: the callers' records stay theirs)."""
    if len(groups) == 1:
        return groups[0]
    plan = ImportPlan()
    for records in groups:
        for r in records:
            if not r.additive:
                raise ValueError("only additive records (OpenLineage) are applied in groups")
            plan.add(dataclasses.replace(r, triples=list(r.triples)))
    return list(plan.records.values())


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def writes(method: F) -> F:
    """Mark a use case that writes: it runs inside :meth:`Service.writing` (one writer at a
    time in this process; refused on a read-only replica before anything is read)."""

    @functools.wraps(method)
    def write(self: Service, *args: Any, **kwargs: Any) -> Any:
        with self.writing():
            return method(self, *args, **kwargs)

    return cast(F, write)


class Service:
    """medgrade's use cases over one store.

    The service is the one owner of writes: every use case that changes the store is marked
    :func:`writes`, so callers (routes, CLI commands) never take a lock themselves.
    """

    def __init__(self, settings: Settings, store: Store | None = None, ontology: Ontology | None = None) -> None:
        self.settings = settings
        self.store = store if store is not None else settings.open_store()
        self._ontology = ontology
        self.ids = Ids(settings.base_iri)
        self._validator: Validator | None = None
        self._lineage: Lineage | None = None
        self._classifier: Classifier | None = None
        self._pending = False  # this process set the pending-levels marker
        self._version: str | None = None  # the inventory version the kept lineage was read at
        self.as_of: dt.date | None = None  # the clock's "today" (--as-of); else MEDGRADE_TODAY, else today
        self._commit = GroupCommit()  # one writer at a time; the validations of queued writes grouped
        self._intake: Batches[Planned, ImportReport] = Batches(self._apply_events)  # OpenLineage events

    @contextmanager
    def writing(self) -> Iterator[None]:
        """The unit of work of a write: one writer at a time — in this process, and on a shared
        SPARQL server among all medgrade processes (the store's write lease, :mod:`kg.store.lease`);
        on a read-only replica (``MEDGRADE_READ_ONLY``) refused before it starts."""
        if self.settings.read_only:
            raise ReadOnlyError(
                "this server is read-only (MEDGRADE_READ_ONLY): send writes to the writer process",
                "本服务为只读（MEDGRADE_READ_ONLY）：写操作请发往负责写入的服务",
            )
        # the store's lease first (held across the group's validation, which the outermost
        # writer runs on leaving), then this process's writer lock
        with self.store.exclusive(), self._commit.writer():
            yield

    @property
    def ontology(self) -> Ontology:
        if self._ontology is None:
            self._ontology = load_ontology(self.settings.resolved_ontology_dir())
        return self._ontology

    @property
    def classifier(self) -> Classifier:
        """The classification assistant for the current ontology (rebuilt after a reload)."""
        from kg.classify import Classifier

        onto = self.ontology
        if self._classifier is None or self._classifier.onto is not onto:
            self._classifier = Classifier(onto)
        return self._classifier

    def classify(self, items: Iterable[str | tuple[str, str | None]]) -> list[dict[str, Any]]:
        """Suggestions (SPEC §9) for element names, tags, fields or paths, optionally with a description."""
        return [s.to_dict() for s in self.classifier.classify_many(items)]

    def close(self) -> None:
        self._validator = None  # it holds a view of the store: drop it so the store's lock goes too
        self._lineage = None
        self.store.close()

    def __enter__(self) -> Service:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- init ----------------------------------------------------------------------------------
    @writes
    def initialize(self, demo: bool = False, progress: Progress | None = None) -> InitReport:
        """Load the ontology modules and shapes into their graphs (idempotent: unchanged files are
        left alone, edited ones replaced, removed ones dropped; the inventory is never touched);
        with ``demo``, load the demo hospital when the inventory is empty."""
        report = InitReport()
        self._validator = None  # shapes or ontology may change below
        onto_dir = self.settings.resolved_ontology_dir()
        files = load_files(onto_dir)
        self.ontology  # noqa: B018 - check the ontology is usable before writing it
        loaded = self._loaded("ontology")
        for iri, graph in files.modules.items():
            digest = _sha256(files.files[iri])
            if loaded.get(iri) == digest:
                report.ontology_graphs[iri] = "unchanged"
                continue
            self.store.replace_graph(URIRef(iri), graph)
            self._remember(iri, "ontology", files.files[iri].name, digest)
            report.ontology_graphs[iri] = "loaded"
        for iri in set(loaded) - set(files.modules):
            self._forget(iri)
            report.ontology_graphs[iri] = "removed"
        self._load_shapes(report)
        if demo:
            report.demo = self.load_demo(progress)
            if report.demo is not None:
                self.validate()  # load_demo propagated; the demo starts validated
        return report

    def _loaded(self, role: str) -> dict[str, str]:
        rows = self.store.select(
            f"SELECT ?g ?h WHERE {{ GRAPH {sparql_term(Graphs.META)} {{ ?g {sparql_term(DCTERMS.type)} ?role ; "
            f"{sparql_term(DCTERMS.hasVersion)} ?h }} }}",
            {"role": Literal(role)},
        )
        return {str(r["g"]): str(r["h"]) for r in rows}

    def _remember(self, graph: str, role: str, source: str, digest: str) -> None:
        g = URIRef(graph)
        self.store.apply(
            Changeset(
                Graphs.META,
                {g},
                [
                    (g, DCTERMS.type, Literal(role)),
                    (g, DCTERMS.source, Literal(source)),
                    (g, DCTERMS.hasVersion, Literal(digest)),
                ],
            )
        )

    def _forget(self, graph: str) -> None:
        self.store.drop_graph(URIRef(graph))
        self.store.apply(Changeset(Graphs.META, {URIRef(graph)}))

    def _load_shapes(self, report: InitReport) -> None:
        from rdflib import Graph

        shapes_dir = self.settings.resolved_shapes_dir()
        loaded = self._loaded("shapes")
        present = {}
        for path in sorted(shapes_dir.glob("*.ttl")):
            iri = str(Graphs.shapes(path.stem))
            present[iri] = path
            digest = _sha256(path)
            if loaded.get(iri) == digest:
                report.shapes_graphs[iri] = "unchanged"
                continue
            g = Graph()
            g.parse(path, format="turtle")
            self.store.replace_graph(URIRef(iri), g)
            self._remember(iri, "shapes", path.name, digest)
            report.shapes_graphs[iri] = "loaded"
        for iri in set(loaded) - set(present):
            self._forget(iri)
            report.shapes_graphs[iri] = "removed"

    def initialized(self) -> bool:
        return bool(self._loaded("ontology"))

    def ensure_initialized(self) -> None:
        if not self.initialized():
            self.initialize()

    @writes
    def load_demo(self, progress: Progress | None = None) -> ImportReport | None:
        """Import the demo hospital shipped with medgrade, if the inventory is empty (not
        validated: :meth:`initialize` validates the whole store next)."""
        if self.store.count(Graphs.INVENTORY):
            return None
        from kg.demo.generate import DEMO_TODAY

        demo = Path(__file__).resolve().parent / "demo"
        files = [demo / "devices.csv", demo / "destinations.csv", demo / "assets.csv"]
        previous, demo_day = self.as_of, dt.date.fromisoformat(DEMO_TODAY)
        if self.today() < demo_day:  # its last-reviewed dates are not "in the future" on a machine set earlier
            self.as_of = demo_day
        try:
            report = self.import_files(files, progress=progress, why="示范医院 / demo hospital", validate=False)
        finally:
            self.as_of = previous
        from kg.demo.records import load_demo_records

        load_demo_records(self)  # the institution record and the demo's transfer records (数据出境)
        return report

    # --- import --------------------------------------------------------------------------------
    def plan(self, paths: Sequence[Path], progress: Progress | None = None) -> ImportPlan:
        """What importing ``paths`` would write, with every problem found; writes nothing."""
        plan = ImportPlan(files=[p.name for p in paths])
        sheets: list[Sheet] = []
        for path in paths:
            suffix = path.suffix.lower()
            if not path.is_file():
                plan.problems.append(Problem("file not found", "文件不存在", where=str(path)))
            elif suffix == ".csv":
                sheets += read_csv(path, plan.problems)
            elif suffix == ".xlsx":
                sheets += read_xlsx(path, plan.problems)
            elif suffix in (".json", ".jsonl"):
                sub = plan_openlineage(
                    path,
                    self.ids,
                    self.settings.openlineage_namespace,
                    lambda name: self.ontology.transformations.find(name).iri,
                )
                sub.files = []
                plan.merge(sub)
            elif suffix in RDF_FORMATS:
                sub = plan_rdf(path, self.ids)
                sub.files = []
                plan.merge(sub)
            else:
                plan.problems.append(
                    Problem(
                        f"unsupported file type '{suffix}' (use .csv, .xlsx, .ttl, .jsonld, .nq, .nt, or OpenLineage .json/.jsonl)",
                        f"不支持的文件类型“{suffix}”（请使用 .csv、.xlsx、.ttl、.jsonld、.nq、.nt 或 OpenLineage .json/.jsonl）",
                        where=path.name,
                    )
                )
        if sheets:
            plan.merge(plan_sheets(sheets, self.ontology, self.ids, self._known, progress, self.today()))
        plan.warnings += self._unresolved_names(plan)
        return plan

    def _unresolved_names(self, plan: ImportPlan) -> list[Problem]:
        """A warning per distinct name of an element graded by nothing of its own (no category,
        level or personal information) whose name denotes no personal information the ontology
        knows (see :meth:`kg.ontology.Ontology.personal_information_named`): its level comes
        from its asset only."""
        onto, seen, out = self.ontology, set(), []
        for name, where, graded in plan.elements():
            if graded or name in seen:
                continue
            seen.add(name)
            if onto.personal_information_named(name):
                continue
            out.append(
                Problem(
                    f"element name '{name}' matches no label, synonym or hidden label of a kind of personal "
                    "information (or of a category of personal information) in the ontology: it raises no level; "
                    "classify the element if it holds personal data",
                    f"数据元素名称“{name}”与本体中任何个人信息类别（或个人信息业务分类）的标签、同义词、隐藏标签都不一致："
                    "不据此提高级别；如含个人信息，请为该元素分类",
                    where=where,
                    code="element-name-unresolved",
                    subject=name,
                )
            )
        return out

    def _cycle_warnings(self, records: Sequence[Record], files: Sequence[str]) -> list[Problem]:
        """A warning per derivation cycle (R10) the imported derivations take part in; its members
        share one level until it is fixed. Few new derivations: each is checked by a path query
        from its source; many: the inventory's strongly connected components."""
        new = [(str(x), str(s)) for r in records for x, p, s in r.triples if p == PROV.wasDerivedFrom]
        if not new:
            return []
        inv = sparql_term(Graphs.INVENTORY)
        cycles: list[set[str]] = []
        if len(new) > 200:
            import networkx as nx

            graph = nx.DiGraph(self.store.edges(PROV.wasDerivedFrom, Graphs.INVENTORY))
            touched = {x for pair in new for x in pair}
            for component in nx.strongly_connected_components(graph):
                if (len(component) > 1 or any(graph.has_edge(n, n) for n in component)) and component & touched:
                    cycles.append(set(component))
        else:
            for x, s in new:
                if any(x in c and s in c for c in cycles):
                    continue
                members = self.store.rows(
                    f"SELECT DISTINCT ?m WHERE {{ GRAPH {inv} {{ {sparql_term(URIRef(s))} <{PROV.wasDerivedFrom}>* ?m . "
                    f"?m <{PROV.wasDerivedFrom}>* {sparql_term(URIRef(x))} }} }}"
                )
                if members:
                    cycles.append({m for (m,) in members if m} | {x, s})
        out = []
        for component in cycles:
            names = ", ".join(sorted(self.ids.local_id(m) or m.rsplit("/asset/", 1)[-1] for m in component))
            out.append(
                Problem(
                    f"derivation cycle among {names} (R10): they share one level until it is fixed",
                    f"资产 {names} 之间存在衍生环路（R10）：修正前它们共用同一级别",
                    where="; ".join(files),
                    code="derivation-cycle",
                )
            )
        return out

    @writes
    def import_files(
        self,
        paths: Sequence[Path],
        progress: Progress | None = None,
        why: str = "",
        *,
        propagate: bool = True,
        actor: str | None = None,
        validate: bool = True,
    ) -> ImportReport:
        """Import files atomically: every problem is reported and nothing is written, or all is.
        Derived levels are propagated afterwards unless ``propagate`` is false (a caller loading
        several batches then runs :meth:`propagate` once). ``actor``: who, for the audit record
        (default: the configured user). ``validate``: re-validate what the import touched,
        incrementally (imports of up to :data:`INCREMENTAL_IMPORT_LIMIT` records whose levels
        follow; false for a caller that validates the whole store next)."""
        self.ensure_initialized()
        paths = [Path(p) for p in paths]
        if paths and all(p.suffix.lower() in (".nt", ".nq") for p in paths) and not self.store.count(Graphs.INVENTORY):
            self._lineage = None  # the inventory changes under it
            streamed = self._stream(paths, progress, why, propagate, actor)
            if streamed is not None:
                return streamed
        plan = self.plan(paths, progress)
        _refuse(plan.problems)
        return self._import_group([Planned(plan, why, actor)], progress, propagate, validate)[0]

    def receive_events(self, text: str, name: str, why: str = "", actor: str | None = None) -> ImportReport:
        """OpenLineage events as a client sends them (one event or a list; see
        :func:`kg.importers.openlineage.plan_events`): checked at once — problems refuse these
        events only (:class:`ImportProblem`) — then applied together with the events other
        clients sent meanwhile (:class:`kg.group_commit.Batches`): one transaction with one audit
        record per caller, one incremental propagation, one incremental validation. The
        answer is this caller's, as importing its events alone at that point would give."""
        self.ensure_initialized()
        onto = self.ontology
        plan = self._plan_events(text, name, onto)
        _refuse(plan.problems)
        return self._intake.submit(Planned(plan, why, actor, text, onto))

    def _plan_events(self, text: str, name: str, onto: Ontology) -> ImportPlan:
        plan = plan_events(
            text, name, self.ids, self.settings.openlineage_namespace, lambda t: onto.transformations.find(t).iri
        )
        plan.warnings += self._unresolved_names(plan)
        return plan

    @writes
    def _apply_events(self, group: list[Planned]) -> list[ImportReport | BaseException]:
        """A group of :meth:`receive_events` callers' events, applied together (see there); one
        planned against an ontology since reloaded is planned again (and may be refused)."""
        answers: list[ImportReport | BaseException | None] = []
        for item in group:
            answers.append(None)
            if item.ontology is not self.ontology:
                item.plan = self._plan_events(item.text, item.plan.files[0], self.ontology)
                try:
                    _refuse(item.plan.problems)
                except ImportProblem as exc:
                    answers[-1] = exc
        applied = iter(self._import_group([g for g, a in zip(group, answers, strict=True) if a is None]))
        return [a if a is not None else next(applied) for a in answers]

    def _import_group(
        self, group: list[Planned], progress: Progress | None = None, propagate: bool = True, validate: bool = True
    ) -> list[ImportReport]:
        """Apply planned imports (checked: no problems) together — one inventory transaction with
        each caller's audit record, then the levels follow once and what they touched is
        re-validated once — and answer each caller as if its import had been applied alone
        after those before it in ``group``. Only additive records (OpenLineage) can be grouped."""
        reports = [ImportReport(files=g.plan.files, warnings=g.plan.warnings) for g in group]
        if not group:
            return reports
        records = _merged([list(g.plan.records.values()) for g in group])
        additions = lineage_additions(records) if propagate else None
        if additions is not None:
            self.lineage_state()  # as before the change: the additions are then incremental
        else:
            self._lineage = None  # the inventory changes under it
        total = sum(len(r.triples) for r in records)
        bulk = len(group) == 1 and total > BULK_THRESHOLD and self.store.count(Graphs.INVENTORY) == 0
        # the levels follow, and a small import is re-validated incrementally (grouped with the
        # writes queued behind it); a large one leaves the report to `medgrade validate`
        small = propagate and validate and not bulk and len(records) <= INCREMENTAL_IMPORT_LIMIT
        if bulk:
            report = reports[0]
            self._bulk(records, report)
            report.record = str(self._audit(group[0].plan, report, records, group[0].why, group[0].actor))
            touched = None
        else:
            changes = self._changes(records, group, reports)
            # what the change describes anew (not what the records repeat) is re-validated, with
            # what that affected before the change
            touched = _described(changes) if small else None
            before = self.validator().affected(touched) if touched else set()
            if changes.subjects or changes.triples:
                for g, report in zip(group, reports, strict=True):
                    if report.wrote:
                        rec, quads = self._audit_quads(g.plan, report, g.plan.records.values(), g.why, g.actor)
                        changes.extra += quads
                        report.record = str(rec)
                self._write_inventory(changes)  # the change and its audit records: one transaction
        if any(r.wrote for r in reports):
            for g, report in zip(group, reports, strict=True):
                if report.wrote:
                    report.warnings += self._cycle_warnings(list(g.plan.records.values()), g.plan.files)
            propagation = None
            if propagate and additions is not None and not self._approved(additions):
                propagation = self.lineage_change(add=additions)
            elif propagate:
                propagation = self.propagate()  # derived levels follow every change
            for report in reports:
                report.propagation = propagation
            if touched and propagation is not None:
                self._revalidate(touched | {URIRef(x) for x in propagation.changed}, before).report()
        if bulk:  # bulk loads bypass the write-ahead log; transactions are in it already
            self.store.flush()  # (a flush per OpenLineage event piled up files until RocksDB stalled)
        return reports

    def _stream(
        self, paths: list[Path], progress: Progress | None, why: str, propagate: bool, actor: str | None
    ) -> ImportReport | None:
        """First load of large N-Triples/N-Quads: check every triple while streaming it through
        Oxigraph's parser, then bulk-load the files. None (use the general path) when a file has
        blank nodes or N-Quads in the default graph, which need the general path's handling."""
        import pyoxigraph as ox

        problems: list[Problem] = []
        subjects: set[str] = set()
        assets = 0
        asset_type, inventory = str(MG.DataAsset), str(Graphs.INVENTORY)
        for path in paths:
            if not path.is_file():
                problems.append(Problem("file not found", "文件不存在", where=str(path)))
                continue
            fmt = ox.RdfFormat.N_QUADS if path.suffix.lower() == ".nq" else ox.RdfFormat.N_TRIPLES
            try:
                for n, q in enumerate(ox.parse(path=str(path), format=fmt), start=1):
                    s = q.subject
                    if type(s) is not ox.NamedNode or type(q.object) is ox.BlankNode:
                        return None
                    if fmt == ox.RdfFormat.N_QUADS and (
                        type(q.graph_name) is ox.DefaultGraph or q.graph_name.value != inventory
                    ):
                        return None
                    if s.value.startswith(_ONTOLOGY_PREFIXES):
                        problems.append(
                            Problem(
                                f"<{s.value}> is an ontology term; edit the ontology instead",
                                f"<{s.value}> 是本体术语，请编辑本体",
                                where=path.name,
                            )
                        )
                        break
                    subjects.add(s.value)
                    if q.predicate.value == _RDF_TYPE and q.object.value == asset_type:
                        assets += 1
                    if progress and n % 100_000 == 0:
                        progress(100_000)
            except SyntaxError as exc:
                problems.append(Problem(f"cannot parse: {exc}", f"无法解析：{exc}", where=path.name))
        _refuse(problems)
        report = ImportReport(
            files=[p.name for p in paths], added={"asset": assets, "resource": len(subjects) - assets}
        )
        self._journal_import(report.files)
        for path in paths:
            self.store.bulk_load(path, "nq" if path.suffix.lower() == ".nq" else "nt", Graphs.INVENTORY)
        report.bulk = True
        report.triples = self.store.count(Graphs.INVENTORY)
        plan = ImportPlan(files=report.files)
        report.record = str(self._audit(plan, report, [], why, actor, close_journal=True))
        if propagate:
            report.propagation = self.propagate()
        self.store.flush()
        return report

    def _known(self, kind: str, local_ids: set[str]) -> set[str]:
        mint = {"asset": self.ids.asset, "device": self.ids.device, "destination": self.ids.destination}[kind]
        found: set[str] = set()
        for values in values_blocks("x", map(mint, local_ids)):
            rows = self.store.select(
                f"SELECT ?id WHERE {{ GRAPH {sparql_term(Graphs.INVENTORY)} {{ {values} "
                f"?x {sparql_term(MG.identifier)} ?id }} }}"
            )
            found |= {str(r["id"]) for r in rows}
        return found

    def _existing(self, roots: list[URIRef]) -> dict[URIRef, set[Triple]]:
        out: dict[URIRef, set[Triple]] = {}
        for part in chunks(roots):
            rows = self.store.select(
                f"SELECT ?root ?s ?p ?o WHERE {{ GRAPH {sparql_term(Graphs.INVENTORY)} {{ "
                f"{parts_pattern(part)} ?s ?p ?o }} }}"
            )
            for r in rows:
                out.setdefault(r["root"], set()).add((r["s"], r["p"], r["o"]))  # type: ignore[arg-type]
        return out

    def _held(self, records: list[Record]) -> dict[URIRef, set[Triple]]:
        """Which of additive records' triples the inventory holds, by root (a root it does not
        describe at all is left out). Only these triples are read, not the roots' descriptions:
        that of a dataset an OpenLineage event reads includes every product derived from it."""
        inv = sparql_term(Graphs.INVENTORY)
        described: set[URIRef] = set()
        for values in values_blocks("root", [r.root for r in records]):
            query = f"SELECT DISTINCT ?root WHERE {{ GRAPH {inv} {{ {values} ?root ?p ?o }} }}"
            described |= {URIRef(root) for (root,) in self.store.rows(query) if root}
        wanted = list(dict.fromkeys(t for r in records if r.root in described for t in r.triples))
        held: set[Triple] = set()
        for start in range(0, len(wanted), VALUES_CHUNK // 4):  # four terms a row
            rows = " ".join(
                f"({i} {sparql_term(s)} {sparql_term(p)} {sparql_term(o)})"
                for i, (s, p, o) in enumerate(wanted[start : start + VALUES_CHUNK // 4], start=start)
            )
            query = f"SELECT ?i WHERE {{ GRAPH {inv} {{ VALUES (?i ?s ?p ?o) {{ {rows} }} ?s ?p ?o }} }}"
            held |= {wanted[int(i)] for (i,) in self.store.rows(query) if i is not None}
        return {r.root: {t for t in r.triples if t in held} for r in records if r.root in described}

    def _changes(self, records: list[Record], group: list[Planned], reports: list[ImportReport]) -> Changeset:
        """The inventory change of ``records`` (a group's records, merged), and each caller's
        tallies in ``reports``: what its records add, change or leave as they are, after the
        callers before it in ``group``."""
        existing = self._existing([r.root for r in records if not r.additive]) | self._held(
            [r for r in records if r.additive]
        )
        seen = {root: set(ts) for root, ts in existing.items()}  # the inventory as each caller finds it
        for g, report in zip(group, reports, strict=True):
            for record in g.plan.records.values():
                before, wanted = seen.get(record.root), set(record.triples)
                same = before is not None and (wanted <= before if record.additive else before == wanted)
                tally = report.added if before is None else report.unchanged if same else report.changed
                tally[record.kind] = tally.get(record.kind, 0) + 1
                if same:
                    continue
                new = wanted - before if record.additive and before is not None else wanted
                report.triples += len(new)
                seen[record.root] = (before or set()) | wanted if record.additive else wanted
        changes = Changeset(Graphs.INVENTORY)
        for record in records:
            before = existing.get(record.root)
            if record.additive:  # OpenLineage adds lineage; it never removes what is there
                changes.triples += [t for t in record.triples if before is None or t not in before]
            elif before is None or before != set(record.triples):
                changes.subjects.add(record.root)
                changes.triples += record.triples
        return changes

    def _bulk(self, records: list[Record], report: ImportReport) -> None:
        self._journal_import(sorted({r.where.split(",")[0] for r in records if getattr(r, "where", None)}))
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "import.nt"
            with path.open("w", encoding="utf-8") as out:
                for record in records:
                    out.writelines(nt_line(t) + "\n" for t in record.triples)
                    report.added[record.kind] = report.added.get(record.kind, 0) + 1
                    report.triples += len(record.triples)
            self.store.bulk_load(path, "nt", Graphs.INVENTORY)
        report.bulk = True

    def _journal_import(self, files: list[str]) -> None:
        """Bulk loads are not transactions: a journal entry says one is under way until the
        import's audit record is written with it removed (see :meth:`recover`)."""
        self.store.apply(
            Changeset(
                Graphs.META,
                subjects={IMPORT_JOURNAL},
                triples=[(IMPORT_JOURNAL, DCTERMS.description, Literal(f"bulk import of {', '.join(files)}"))],
            )
        )
        self.store.flush()

    @writes
    def recover(self) -> list[str]:
        """Finish or undo what an interrupted process left, before anything is read: a bulk
        import (into what was an empty inventory) is rolled back, an interrupted rewrite of the
        inferred graph is completed. Returns what was done."""
        from kg.propagation import journal_open

        done: list[str] = []
        meta = sparql_term(Graphs.META)
        if self.store.ask(f"ASK {{ GRAPH {meta} {{ {sparql_term(IMPORT_JOURNAL)} ?p ?o }} }}"):
            self.store.drop_graph(Graphs.INVENTORY)  # it was empty before the bulk load
            self.store.drop_graph(Graphs.INFERRED)
            self.store.apply(Changeset(Graphs.META, subjects={IMPORT_JOURNAL}))
            self._lineage = None
            done.append("interrupted bulk import rolled back / 回滚了中断的批量导入")
        done += self._migrate()
        pending = self.store.ask(f"ASK {{ GRAPH {meta} {{ {sparql_term(PENDING)} ?p ?o }} }}")
        outdated = self._inferred_outdated()
        if journal_open(self.store) or done or pending or outdated:
            self._lineage = None
            self.propagate()
            done.append(
                "inferred graph rebuilt for this version of medgrade / 已按本版本重建推理图"
                if outdated and not pending and not done
                else "inferred graph rewritten / 重写了推理图"
            )
        if done:
            self.store.flush()
        return done

    def _migrate(self) -> list[str]:
        """Run the migrations of :mod:`kg.migrations` (each recorded in the audit trail)."""
        from kg.migrations import MIGRATIONS
        from kg.stewardship import governance_record

        done: list[str] = []
        for migration in MIGRATIONS:
            found = migration(self.store, self.ids)
            if found is None:
                continue
            changes, note = found
            _, quads = governance_record(self, MG.ChangeRecord, "medgrade", f"迁移 / migration: {note}")
            changes.extra += quads
            self._write_inventory(changes)
            done.append(note)
        return done

    def _inferred_outdated(self) -> bool:
        """Whether the inferred graph was written by another version of medgrade's propagation
        (and the inventory is not empty)."""
        inv, meta = sparql_term(Graphs.INVENTORY), sparql_term(Graphs.META)
        if not self.store.ask(f"ASK {{ GRAPH {inv} {{ ?s ?p ?o }} }}"):
            return False
        stamp = sparql_term(Literal(INFERRED_FORMAT_VERSION))
        return not self.store.ask(
            f"ASK {{ GRAPH {meta} {{ {sparql_term(INFERRED_FORMAT)} {sparql_term(DCTERMS.hasVersion)} {stamp} }} }}"
        )

    def _audit(
        self,
        plan: ImportPlan,
        report: ImportReport,
        records: Iterable[Record],
        why: str,
        actor: str | None = None,
        close_journal: bool = False,
    ) -> URIRef:
        """Write the audit record of an import on its own (a bulk import: with the end of its
        journal entry), after the inventory change."""
        rec, quads = self._audit_quads(plan, report, records, why, actor)
        # the audit record and the end of a bulk import's journal entry: one transaction
        closing = {IMPORT_JOURNAL} if (close_journal or report.bulk) else set()
        changes = Changeset(Graphs.META, subjects=closing, extra=quads)
        if closing:  # the bulk-loaded inventory is complete; its derived levels are not yet
            self._write_inventory(changes)
        else:
            self.store.apply(changes)
        return rec

    def _audit_quads(
        self, plan: ImportPlan, report: ImportReport, records: Iterable[Record], why: str, actor: str | None
    ) -> tuple[URIRef, list[Quad]]:
        """An import's audit record (its IRI and quads)."""
        rec = self.ids.record()
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        summary = ", ".join(
            f"{k}: +{report.added.get(k, 0)} ~{report.changed.get(k, 0)}"
            for k in sorted(set(report.added) | set(report.changed))
        )
        note = why or f"导入 / import of {', '.join(plan.files)}"
        quads: list[tuple[Node, Node, Node, URIRef]] = [
            (rec, RDF.type, MG.ChangeRecord, Graphs.AUDIT),
            (rec, MG.actor, Literal(actor or self.settings.user), Graphs.AUDIT),
            (
                rec,
                MG.performedAt,
                Literal(
                    now.isoformat().replace("+00:00", "Z"), datatype=URIRef("http://www.w3.org/2001/XMLSchema#dateTime")
                ),
                Graphs.AUDIT,
            ),
            (rec, MG.justification, Literal(f"{note} ({summary})"), Graphs.AUDIT),
        ]
        quads += [(rec, MG.sourceFile, Literal(f), Graphs.AUDIT) for f in plan.files]
        if not report.bulk:
            changed = {r.root for r in records if r.kind in ("asset", "resource")}
            quads += [(rec, MG.concerns, root, Graphs.AUDIT) for root in sorted(changed)]
        return rec, quads

    @writes
    def after_external_change(self) -> PropagationReport:
        """After a write that bypassed the use cases (a SPARQL Update): derived levels follow."""
        self._validator = None
        return self.propagate()

    def lineage_state(self) -> Lineage:
        """The lineage kept for incremental changes, read from the store when there is none.
        A writer takes it *before* changing the inventory, then passes the change to
        :meth:`lineage_change`."""
        version = self._inventory_version()
        if self._lineage is None or version != self._version:
            self._version = version  # read first: a write while the lineage is read changes it
            self._lineage = Lineage(self.store, self.ontology)
        return self._lineage

    def _inventory_version(self) -> str | None:
        return next((o for p, o in self.store.about(str(VERSION), Graphs.META) if p == str(DCTERMS.identifier)), None)

    def _write_inventory(self, changes: Changeset) -> None:
        """Apply a change of the inventory with the pending-levels marker (cleared when the
        levels follow: :meth:`lineage_change`, :meth:`propagate`) and a new inventory version."""
        version = uuid.uuid4().hex
        changes.extra.append(PENDING_QUAD)
        changes.stamps.append((VERSION, DCTERMS.identifier, Literal(version), Graphs.META))
        current = self._lineage is not None and self._inventory_version() == self._version
        self.store.apply(changes)
        self._pending = True
        self._version = version if current else None  # the kept lineage follows this write

    @writes
    def lineage_change(
        self,
        set_levels: dict[str, int] | None = None,
        add: Iterable[Derivation] = (),
        remove: Iterable[tuple[str, str]] = (),
        minimums: dict[str, int] | None = None,
    ) -> PropagationReport:
        """Propagate one steward's change incrementally: only what derives from it is
        recomputed and the inferred triples that changed are written. ``set_levels``: new
        assessed ranks; ``minimums``: new ranks of the rules' minimum (see :meth:`minimum_rank`)."""
        report = self.lineage_state().change(set_levels or {}, add, remove, write=True, minimums=minimums)[1]
        self._clear_pending()
        return report

    def minimum_rank(self, iri: URIRef) -> int:
        """The rank of an asset's rules' minimum (R2–R6) as the inventory now says (0: none)."""
        from kg.answers import asset_facts
        from kg.grading import minimum

        lv = minimum(asset_facts(self.store, self.ontology, iri), self.ontology)
        return lv.rank if lv is not None else 0

    def _approved(self, derivations: list[Derivation]) -> bool:
        """Whether any activity of ``derivations`` carries an approval (its cap then needs the
        full reading of the facts)."""
        acts = sorted({d.activity for d in derivations if d.activity})
        if not acts:
            return False
        values = " ".join(sparql_term(URIRef(a)) for a in acts)
        return self.store.ask(
            f"ASK {{ GRAPH {sparql_term(Graphs.INVENTORY)} {{ VALUES ?a {{ {values} }} ?a <{MG.approval}> ?x }} }}"
        )

    # --- stewardship (one asset at a time; see kg.stewardship) -------------------------------------
    @writes
    def assess(self, ref: str, **kwargs: Any) -> dict[str, Any]:
        from kg.stewardship import assess

        return assess(self, ref, **kwargs)

    @writes
    def add_derivation(self, source: str, target: str, **kwargs: Any) -> dict[str, Any]:
        from kg.stewardship import add_derivation

        return add_derivation(self, source, target, **kwargs)

    def export(self, fmt: str, path: Path) -> list[Path]:
        """Write the 分类分级清单 to ``path`` in ``fmt`` (see :func:`kg.exporters.export`); the files written."""
        from kg.exporters import export

        return export(self.store, self.ontology, self.ids, fmt, path)

    def report_names(self, report: Report) -> dict[str, str]:
        """The names of the assets a report's results are about (or belong to), by asset id."""
        return self.asset_names({owner for r in report.results if (owner := self.ids.owner(r.focus)) is not None})

    def check_transfer(
        self,
        asset: str,
        destination: str,
        measures: Iterable[str] = (),
        purpose: str | None = None,
        evidence: Iterable[str] | Mapping[str, str] = (),
    ) -> dict[str, Any]:
        """May ``asset`` go to ``destination`` (with the ``measures`` the provider declares, the
        ``purpose`` and ``evidence`` for leaving the country)?"""
        from kg.transfer import check_transfer

        return check_transfer(self, asset, destination, measures, purpose, evidence)

    # --- leaving the country: the institution and transfer records (kg.institution, kg.transfer_records)
    def institution(self) -> dict[str, Any] | None:
        from kg.institution import institution

        inst = institution(self)
        return inst.to_dict() if inst else None

    @writes
    def set_institution(self, **kwargs: Any) -> dict[str, Any]:
        from kg.institution import set_institution

        return set_institution(self, **kwargs)

    @writes
    def identify_important(self, ref: str, **kwargs: Any) -> dict[str, Any]:
        """Record the authorities' identification of an asset as important data (see
        :func:`kg.stewardship.identify_important`)."""
        from kg.stewardship import identify_important

        return identify_important(self, ref, **kwargs)

    @writes
    def record_transfer(self, asset: str, destination: str, **kwargs: Any) -> dict[str, Any]:
        """Record a provision that happened (see :func:`kg.transfer_records.record_transfer`)."""
        from kg.transfer_records import record_transfer

        return record_transfer(self, asset, destination, **kwargs)

    @writes
    def add_transfer_evidence(
        self, record: str, evidence: Iterable[str] | Mapping[str, str], **kwargs: Any
    ) -> dict[str, Any]:
        """Attach evidence to a transfer record (see :func:`kg.transfer_records.add_evidence`)."""
        from kg.transfer_records import add_evidence

        return add_evidence(self, record, evidence, **kwargs)

    def transfer_records(self, year: int | None = None) -> dict[str, Any]:
        from kg.transfer_records import transfer_records

        return transfer_records(self, year)

    @writes
    def reload(self, actor: str | None = None) -> dict[str, Any]:
        """Reload the ontology and shapes from their files (after an edit in Protégé) and
        recompute levels and the validation report; the reload is recorded in the audit trail.

        The edited ontology is parsed and, when Java is there, checked by HermiT first: an
        inconsistent ontology or an unsatisfiable class is refused and nothing changes. Without
        Java only the syntax is checked, and the answer says so."""
        from kg.reasoner import check
        from kg.stewardship import governance_record

        candidate = load_ontology(self.settings.resolved_ontology_dir())
        reasoned = check(candidate.graph)
        if reasoned.available and not reasoned.ok:
            what = ", ".join(reasoned.unsatisfiable[:10]) or "no model satisfies its axioms"
            raise InputError(
                f"the edited ontology is inconsistent ({what}): nothing was reloaded; run `medgrade ontology check"
                " --ontology-dir DIR` for details",
                f"编辑后的本体不一致（{what}）：未重新载入；详见 `medgrade ontology check --ontology-dir 目录`",
            )
        self._ontology = candidate
        report = self.initialize()
        changed = {g: st for g, st in {**report.ontology_graphs, **report.shapes_graphs}.items() if st != "unchanged"}
        note = "重新载入本体与规则 / ontology and shapes reloaded: " + (
            ", ".join(f"{g} {st}" for g, st in sorted(changed.items())) or "no file changed"
        )
        _, quads = governance_record(self, MG.ChangeRecord, actor or self.settings.user, note)
        self.store.apply(Changeset(Graphs.AUDIT, extra=quads))
        propagation = self.propagate()
        validation = self.validate()
        return {
            "ontology": report.ontology_graphs,
            "shapes": report.shapes_graphs,
            "propagation": {
                "changed": len(propagation.changed),
                "added": propagation.added,
                "removed": propagation.removed,
            },
            "conforms": validation.conforms,
            "results": len(validation.results),
            "reasoner": reasoned.to_dict(),
        }

    # --- lineage -------------------------------------------------------------------------------
    @writes
    def propagate(self) -> PropagationReport:
        """Propagate levels through the whole inventory's lineage into the inferred graph."""
        self.ensure_initialized()
        self._lineage = None  # incremental changes start again from what this run reads
        report = propagate(self.store, self.ontology)
        self._pending = True  # a full run brings everything up to date: clear any marker
        self._clear_pending([(INFERRED_FORMAT, DCTERMS.hasVersion, Literal(INFERRED_FORMAT_VERSION), Graphs.META)])
        return report

    def assets(self, **filters: Any) -> dict[str, Any]:
        """Assets filtered and paged (see :func:`kg.answers.asset_list`); ``overdue=True``: only
        those whose last review is older than the review interval by the clock (R15)."""
        if filters.pop("overdue", False):
            filters["reviewed_before"] = self.review_clock()[1]
        return asset_list(self.store, self.ontology, self.ids, **filters)

    def classification_queue(self, limit: int = 50, offset: int = 0) -> Queue:
        """The unclassified data assets (待分类), each with the assistant's suggestion."""
        return classification_queue(self, limit=limit, offset=offset)

    def counts(self) -> overview.Counts:
        """The dashboard's figures: assets by effective level and top category, devices by type."""
        return overview.counts(self.store, self.ontology)

    def audit_trail(self, ref: str, limit: int = 100) -> list[overview.AuditEntry]:
        """The governance records about an asset, newest first."""
        return overview.audit_trail(self.store, self.ontology, self.ids.resolve_asset(ref), limit)

    def asset_names(self, asset_ids: Iterable[str]) -> dict[str, str]:
        """The names of the assets with these ids, by id."""
        return overview.asset_names(self.store, self.ids, asset_ids)

    def destinations(self) -> list[overview.DestinationEntry]:
        """The inventory's destinations, by id."""
        return overview.destinations(self.store)

    def asset(self, ref: str) -> dict[str, Any]:
        """One asset with category, levels, equipment and elements, and its review (R15) by the clock."""
        from kg.answers import review_status

        answer = asset_detail(self.store, self.ontology, self.ids, ref)
        about = self.store.about(answer["asset"], Graphs.INVENTORY)
        last = max((o for p, o in about if p == str(MG.lastReviewed)), default=None)
        answer["review"] = review_status(self.ontology, last, self.today())
        return answer

    def level(self, ref: str) -> dict[str, Any]:
        """The level answer for an asset (id or IRI)."""
        return level_answer(self.store, self.ontology, self.ids, ref, as_of=self.today())

    def lineage(
        self, ref: str, direction: str = "both", depth: int = 5, max_nodes: int | None = None
    ) -> dict[str, Any]:
        return lineage_graph(self.store, self.ontology, self.ids, ref, direction, depth, max_nodes)

    def preview(
        self,
        set_levels: dict[str, str] | None = None,
        add: Iterable[dict[str, Any]] = (),
        remove: Iterable[dict[str, str]] = (),
    ) -> list[dict[str, Any]]:
        """What-if: the assets whose effective level would change, old -> new; writes nothing.

        ``set_levels``: asset -> level (any name); ``add``: derivations {source, target,
        activity, approved}; ``remove``: derivations {source, target}.
        """
        onto = self.ontology

        def known(ref: str) -> str:  # an unknown asset is a 404, before anything is computed
            return str(resolve(self.store, self.ids, ref, elements=True))

        levels = {known(a): onto.level(lv).rank for a, lv in (set_levels or {}).items()}
        derivations = []
        for d in add:
            kind = onto.transformations.find(d["activity"]) if d.get("activity") else None
            way = way_of(kind, bool(d.get("approved")), False, False, None, frozenset())  # R8's one home
            derivations.append(Derivation(known(d["source"]), known(d["target"]), None, way.cap))
        removals = [(known(d["source"]), known(d["target"])) for d in remove]
        by_rank = {lv.rank: lv.ref() for lv in onto.levels}
        return [
            {
                "asset": c.asset,
                "id": self.ids.local_id(c.asset) or c.asset,
                "old": by_rank.get(c.old),
                "new": by_rank.get(c.new),
            }
            for c in preview(self.store, onto, levels, derivations, removals)
        ]

    # --- the annual review (R15) ------------------------------------------------------------------
    @contextmanager
    def dated(self, day: dt.date | None) -> Iterator[None]:
        """Within: the clock's today is ``day`` (when given) for this call only (this thread or
        task; a server's other requests keep theirs)."""
        token = _AS_OF.set(day) if day is not None else None
        try:
            yield
        finally:
            if token is not None:
                _AS_OF.reset(token)

    def today(self) -> dt.date:
        """The clock's today: :meth:`dated`'s day, else :attr:`as_of` (``--as-of``), else
        MEDGRADE_TODAY, else today in Asia/Shanghai."""
        from kg import clock

        fixed = _AS_OF.get() or self.as_of or self.settings.today
        return fixed if fixed is not None else clock.local_date(clock.now())  # no Settings() per call

    def review_clock(self) -> tuple[dt.date, dt.date]:
        """(today, cutoff): an asset last reviewed before the cutoff is overdue (R15); the
        interval is the grading policy's ``mg:reviewIntervalMonths`` (ontology data)."""
        from kg import clock

        day = self.today()
        return day, clock.review_cutoff(day, self.ontology.policy.review_interval_months)

    def overdue(self, limit: int = 1000, offset: int = 0, as_of: dt.date | None = None) -> dict[str, Any]:
        """The assets due for their periodic review by the clock (or as of ``as_of``), computed
        now from their last-reviewed dates (not from the stored validation report). Assets with
        no last-reviewed date are not judged; ``never_reviewed`` counts them."""
        from kg import clock

        with self.dated(as_of):
            day, cutoff = self.review_clock()
        months = self.ontology.policy.review_interval_months
        listed = asset_list(self.store, self.ontology, self.ids, reviewed_before=cutoff, limit=limit, offset=offset)
        items = [
            {
                "id": a["id"],
                "asset": a["asset"],
                "name": a["name"],
                "effective": a["effective"],
                "last_reviewed": a["last_reviewed"],
                "due": clock.months_before(dt.date.fromisoformat(a["last_reviewed"]), -months).isoformat(),
            }
            for a in listed["items"]
        ]
        never = self.store.rows(
            f"SELECT (COUNT(DISTINCT ?a) AS ?n) WHERE {{ GRAPH {sparql_term(Graphs.INVENTORY)} {{ "
            f"?a a {sparql_term(MG.DataAsset)} FILTER NOT EXISTS {{ ?a {sparql_term(MG.lastReviewed)} ?d }} }} }}"
        )
        return {
            "as_of": day.isoformat(),
            "interval_months": months,
            "cutoff": cutoff.isoformat(),
            "total": listed["total"],
            "items": items,
            "never_reviewed": int(never[0][0] or 0) if never else 0,
        }

    @writes
    def review(self, refs: Sequence[str], **kwargs: Any) -> dict[str, Any]:
        """Record the periodic review (R15) of assets, all or nothing (see :func:`kg.stewardship.review`)."""
        from kg.stewardship import review

        return review(self, refs, **kwargs)

    # --- validation ----------------------------------------------------------------------------
    def validator(self) -> Validator:
        """The validator over this store (shapes read once; :meth:`initialize` resets it)."""
        if self._validator is None:
            self.ensure_initialized()
            self._validator = Validator(self.store, load_shapes(self.store), self.ids)
            self._validator.clock = self.review_clock
        return self._validator

    @writes
    def validate(self, changed: Iterable[URIRef] | None = None, as_of: dt.date | None = None) -> Report:
        """Validate the store with the SHACL shapes: everything, or what ``changed`` affects;
        ``as_of``: judge reviews (R15) as of that day."""
        with self.dated(as_of):
            return self.validator().validate(changed)

    @writes
    def change(
        self,
        changes: Changeset,
        changed: Iterable[URIRef],
        derivations: bool = True,
        levels: Callable[[], PropagationReport] | None = None,
    ) -> Report:
        """:meth:`submit` a change and wait for its validation report."""
        return self.submit(changes, changed, derivations, levels).report()

    @writes
    def submit(
        self,
        changes: Changeset,
        changed: Iterable[URIRef],
        derivations: bool = True,
        levels: Callable[[], PropagationReport] | None = None,
    ) -> Pending:
        """Apply a changeset, let the derived levels follow (``levels``: the incremental
        propagation of this change), and have what it touches before and after re-validated
        incrementally, with the things whose derived levels changed (R11 and R12 read them):
        together with the writes queued behind this one, in one validation
        (:mod:`kg.group_commit`). Read the write's answer from the store, then its
        :meth:`Pending.report` (the results of this change's focus nodes).

        ``derivations``: whether the change may add or remove derivations (cycle checks)."""
        changed = set(changed)
        before = self.validator().affected(changed, derivations)
        self._write_inventory(changes)
        if levels is not None:
            changed |= {URIRef(x) for x in levels().changed}
        return self._revalidate(changed, before, derivations)

    def _revalidate(self, changed: set[URIRef], before: set[URIRef], derivations: bool = True) -> Pending:
        """Join the group that re-validates what ``changed`` affects now and ``before`` (what
        it affected before the write)."""
        validator = self.validator()
        return self._commit.join(
            validator.affected(changed, derivations) | before,
            derivations,
            self.review_clock(),
            lambda nodes, cycles: validator.validate(set(), before=nodes, derivations=cycles),
        )

    @writes
    def write_unvalidated(self, changes: Changeset) -> None:
        """Apply a change of the inventory that moves no level, without a validation run: for a
        loader that validates the whole store afterwards (the demo's transfer records)."""
        self._write_inventory(changes)
        self.lineage_change()  # nothing to propagate; clears the pending-levels marker

    @writes
    def sparql_update(self, text: str, using: Dataset | None = None, actor: str | None = None) -> PropagationReport:
        """A SPARQL 1.1 Update (checked: no network, the store's own graphs) with its audit
        record, the pending-levels marker and a new inventory version in one request (one
        transaction); then the derived levels follow."""
        from kg.sparql_endpoint import Dataset, update
        from kg.stewardship import governance_record

        digest = hashlib.sha256(text.encode()).hexdigest()
        note = f"SPARQL Update (sha256 {digest[:16]}): {text[:2000]}"
        _, quads = governance_record(self, MG.ChangeRecord, actor or self.settings.user, note)
        body = text.rstrip()
        while body.endswith(";"):
            body = body[:-1].rstrip()
        update(self.store, f"{body}\n;\n{self.external_write(quads)}", using or Dataset())
        return self.after_external_change()

    def external_write(self, quads: list[Quad]) -> str:
        """For a write made as SPARQL: the update operations that add ``quads`` (its audit
        record), the pending-levels marker and a new inventory version, to be sent in the
        same request; the caller then runs :meth:`after_external_change`."""
        version = (VERSION, DCTERMS.identifier, Literal(uuid.uuid4().hex), Graphs.META)
        self._lineage = None
        return Changeset(Graphs.AUDIT, extra=[*quads, PENDING_QUAD], stamps=[version]).update_request()

    def _clear_pending(self, stamps: list[Quad] | None = None) -> None:
        if self._pending or stamps:
            self.store.apply(
                Changeset(Graphs.META, subjects={PENDING} if self._pending else set(), stamps=stamps or [])
            )
            self._pending = False

    # --- status --------------------------------------------------------------------------------
    def status(self) -> dict[str, object]:
        counts = {str(g): self.store.count(g) for g in sorted(self.store.graphs())}
        assets = self.store.select(
            f"SELECT (COUNT(?a) AS ?n) WHERE {{ GRAPH {sparql_term(Graphs.INVENTORY)} {{ ?a a {sparql_term(MG.DataAsset)} }} }}"
        )
        return {
            "store": self.store.descriptor,
            "initialized": self.initialized(),
            "graphs": counts,
            "assets": as_int(assets[0].get("n")) if assets else 0,
        }
