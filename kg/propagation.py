"""Lineage in the knowledge graph: read the facts, propagate, write the inferred graph.

What ``medgrade propagate`` writes into ``…/graph/inferred``, for every dataset and every
element that takes part in lineage:

    x mg:effectiveLevel L              always (when x has any level)
    x mg:inheritedLevel I              when a level arrives from sources
    x mg:levelOrigin o                 the resource whose own level (or a cap out of it) sets I
    x mg:inheritedFrom s               the witness hop: the direct source I arrives through;
                                       follow it from x until the origin for the whole path
    x mg:inheritedPersonalInformation p  personal information carried in from sources

Categories are not carried here (``kg.lineage`` can carry any flags, categories included, for
callers that give them): in a dense lineage nearly every product carries several, which would
double what is read and written; for one asset ``prov:wasDerivedFrom*`` answers it directly.

Only the difference with what the graph holds is written (compared as int64 keys, see
:class:`Codec`). Up to :data:`ATOMIC_LIMIT` triples that is one SPARQL Update, atomic. A larger
difference — the first propagation of a big inventory — is written under a journal entry in
the meta graph: removals and additions in batches (into an empty graph, one bulk load), then
the entry removed. An entry found by the next write means a write was interrupted; that write
compares with what the graph actually holds, so it repairs it, and removes the entry. Nothing
is ever dropped wholesale: on Oxigraph deleting costs far more than inserting.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rdflib import Literal, URIRef

from kg.lineage.core import ALL_FLAGS, NO_CAP, LineageIndex, Propagation
from kg.lineage.model import Derivation, Facts, LineageModel, build
from kg.namespaces import DCTERMS, MG, PROV
from kg.ontology import Ontology
from kg.store import Changeset, Graphs, Store, sparql_term

ATOMIC_LIMIT = 200_000  # triples; a larger difference is written in steps under a journal entry
JOURNAL = URIRef("https://w3id.org/medgrade/graph/inferred#rewrite")
_P = f"PREFIX mg: <{MG}> PREFIX prov: <{PROV}>\n"


@dataclass
class PropagationReport:
    datasets: int = 0
    elements: int = 0
    derivations: int = 0
    cycles: int = 0  # derivation cycles (members share one level; R10 reports them)
    changed: list[str] = field(default_factory=list)  # resources whose inferred description changed
    added: int = 0
    removed: int = 0
    journaled: bool = False  # too large for one atomic update: written in steps under a journal entry
    repaired: bool = False  # a journal entry of an interrupted write was found (and the graph repaired)
    seconds: dict[str, float] = field(default_factory=dict)


def read_facts(store: Store, onto: Ontology) -> Facts:
    """Levels, personal-information flags, elements and derivations of the inventory, with caps
    worked out. Plain patterns joined here: on a million assets an OPTIONAL or a second pattern
    costs Oxigraph several times more, and every IRI it returns is a lookup on disk, so only
    what lineage needs is read (assets without level or lineage take no part in it)."""
    inv = sparql_term(Graphs.INVENTORY)
    rank = {lv.iri: lv.rank for lv in onto.levels}
    facts = Facts()
    facts.elements = {
        e: d for d, e in store.rows(_P + f"SELECT ?d ?e WHERE {{ GRAPH {inv} {{ ?d mg:hasElement ?e }} }}") if d and e
    }
    for x, lv in store.rows(
        _P + f"SELECT ?x ?l WHERE {{ GRAPH {inv} {{ {{ ?x a mg:DataAsset }} UNION {{ ?d mg:hasElement ?x }} "
        "?x mg:assessedLevel ?l } }"
    ):
        if x is not None:
            facts.levels[x] = max(facts.levels.get(x, 0), rank.get(lv or "", 0))
    pi = {p.iri for p in onto.personal_information}
    for x, p in store.rows(_P + f"SELECT ?x ?p WHERE {{ GRAPH {inv} {{ ?x mg:hasPersonalInformation ?p }} }}"):
        if x is not None and p in pi:
            facts.flags.setdefault(x, set()).add(p)
    types = {t.iri: t for t in onto.transformations}
    masking = types.get(onto.policy.masking_transformation or "")
    made: dict[str, list[tuple[str | None, str | None]]] = {}
    for x, act, type_iri in store.rows(
        _P + f"SELECT ?x ?act ?type WHERE {{ GRAPH {inv} {{ ?x prov:wasGeneratedBy ?act "
        "OPTIONAL { ?act mg:transformationType ?type } } }"
    ):
        if x is not None and act is not None:
            made.setdefault(x, []).append((act, type_iri))
    approved_acts = {
        a for (a,) in store.rows(_P + f"SELECT DISTINCT ?a WHERE {{ GRAPH {inv} {{ ?a mg:approval ?x }} }}")
    }
    masked = {
        (x, s): approval
        for x, s, approval in store.rows(
            _P
            + f"""SELECT ?x ?s ?approval WHERE {{ GRAPH {inv} {{
        ?x prov:qualifiedDerivation ?q . ?q prov:entity ?s ; mg:masking true OPTIONAL {{ ?q mg:approval ?approval }} }} }}"""
        )
    }
    elements, plain = facts.elements, facts.plain
    seen: dict[tuple[str, str], Derivation] = {}
    for x, s in store.rows(_P + f"SELECT ?x ?s WHERE {{ GRAPH {inv} {{ ?x prov:wasDerivedFrom ?s }} }}"):
        if x is None or s is None:
            continue
        acts = made.get(x)
        if acts is None and (x, s) not in masked:  # the bulk of a large inventory: nothing to work out
            if x in elements and s in elements:
                facts.element_derivations.append(Derivation(s, x))
            else:
                plain.append((s, x))
            continue
        for act, type_iri in acts or [(None, None)]:
            kind = types.get(type_iri or "")
            approved = act in approved_acts and kind is not None and kind.level_reducing
            cap = kind.cap.rank if approved and kind is not None and kind.cap is not None else None
            clears = (
                frozenset(pi) if approved and kind is not None and kind.removes_personal_information else frozenset()
            )
            if masked.get((x, s)) is not None and masking is not None and masking.cap is not None:
                cap = masking.cap.rank if cap is None else min(cap, masking.cap.rank)
            derivation = Derivation(s, x, act, cap, clears)
            previous = seen.get((x, s))
            if previous is None or (
                previous.cap is not None and (derivation.cap is None or derivation.cap > previous.cap)
            ):
                seen[(x, s)] = derivation  # several activities: the least reducing one decides
    for (x, s), derivation in seen.items():
        target = facts.element_derivations if x in elements and s in elements else facts.derivations
        target.append(derivation)
    return facts


# The inferred graph, encoded: one int64 per triple, ``subject << 32 | predicate << 28 | object``,
# where subjects and node objects are node numbers, levels their ranks and flags their bits.
_PREDICATES = (
    MG.effectiveLevel,
    MG.inheritedLevel,
    MG.levelOrigin,
    MG.inheritedFrom,
    MG.inheritedPersonalInformation,
)
EFF, INH, ORG, VIA, PI = range(len(_PREDICATES))
_OBJECT_BITS = 28


class Codec:
    """Encodes what the inferred graph holds (or should hold) about a lineage model as sorted
    int64 keys, so that a million assets' triples are compared with numpy, not as strings."""

    def __init__(self, model: LineageModel, onto: Ontology) -> None:
        if len(model.nodes) >= 1 << _OBJECT_BITS:
            raise ValueError(f"at most {1 << _OBJECT_BITS:,} lineage nodes")
        self.model = model
        self.level_iri = {lv.rank: lv.iri for lv in onto.levels}
        self.rank = {lv.iri: lv.rank for lv in onto.levels}
        pi = {p.iri for p in onto.personal_information}
        self.pi_bits = {bit: name for name, bit in model.bits.items() if name in pi}  # categories: not written
        self.pred_code = {str(p): i for i, p in enumerate(_PREDICATES)}

    @staticmethod
    def _keys(subjects: np.ndarray, pred: int, objects: np.ndarray) -> np.ndarray:
        return (subjects.astype(np.int64) << 32) | (pred << _OBJECT_BITS) | objects.astype(np.int64)

    def wanted(self, result: Propagation, only: Iterable[int] | None = None) -> np.ndarray:
        """The keys the inferred graph should hold about ``only`` (default: every node)."""
        g = self.model.graph
        assert g.flags is not None
        idx = np.arange(len(self.model.nodes)) if only is None else np.unique(np.fromiter(only, dtype=np.int64))
        eff, inh = result.effective[idx], result.inherited[idx]
        origin, via = result.origin[idx], result.via[idx]
        parts = [self._keys(idx[eff > 0], EFF, eff[eff > 0])]
        has = inh > 0
        parts.append(self._keys(idx[has], INH, inh[has]))
        m = has & (origin >= 0)
        parts.append(self._keys(idx[m], ORG, origin[m]))
        m = has & (via >= 0)
        parts.append(self._keys(idx[m], VIA, g.src[via[m]]))
        carried = result.flags[idx] & ~g.flags[idx]
        for bit in self.pi_bits:
            m = ((carried >> np.uint64(bit)) & np.uint64(1)).astype(bool)
            parts.append(self._keys(idx[m], PI, np.full(int(m.sum()), bit)))
        return _unique(np.concatenate(parts))

    def held(self, store: Store, subjects: list[str] | None = None) -> tuple[np.ndarray, list[str], bool]:
        """What the inferred graph holds (about ``subjects``, or all): the keys, N-Triples lines
        of IRI triples that are not ours (to remove), and whether it holds anything that is not
        an IRI triple (removed by a pattern)."""
        where = "?s ?p ?o BIND(IF(isIRI(?s) && isIRI(?o), 1, 0) AS ?iri)"  # a number: servers differ on booleans
        rows: list[tuple[str | None, ...]] = []
        if subjects is None:
            rows = store.rows(f"SELECT ?s ?p ?o ?iri WHERE {{ GRAPH {_INF} {{ {where} }} }}")
        else:
            for i in range(0, len(subjects), 2000):
                values = " ".join(sparql_term(URIRef(x)) for x in subjects[i : i + 2000])
                rows += store.rows(
                    f"SELECT ?s ?p ?o ?iri WHERE {{ GRAPH {_INF} {{ VALUES ?s {{ {values} }} {where} }} }}"
                )
        index, rank, bits, pred_code = self.model.index, self.rank, self.model.bits, self.pred_code
        keys: list[int] = []
        foreign: list[str] = []
        other = False
        for s, p, o, iri in rows:
            if iri != "1" or s is None or p is None or o is None:
                other = True
                continue
            code, node = pred_code.get(p), index.get(s)
            obj: int | None = None
            if code is not None and node is not None:
                if code in (EFF, INH):
                    obj = rank.get(o)
                elif code in (ORG, VIA):
                    obj = index.get(o)
                else:
                    obj = bits.get(o)
                    if obj not in self.pi_bits:
                        obj = None
            if obj is None:
                foreign.append(f"<{s}> <{p}> <{o}> .")
            else:
                keys.append(node << 32 | code << _OBJECT_BITS | obj)  # type: ignore[operator]
        return _unique(np.asarray(keys, dtype=np.int64)), foreign, other

    def lines(self, keys: np.ndarray) -> list[str]:
        """The keys as N-Triples lines."""
        nodes = self.model.nodes
        preds = [f"<{p}>" for p in _PREDICATES]
        out: list[str] = []
        s_all, p_all, o_all = keys >> 32, (keys >> _OBJECT_BITS) & 0xF, keys & ((1 << _OBJECT_BITS) - 1)
        for code, pred in enumerate(preds):
            m = p_all == code
            if not m.any():
                continue
            if code in (EFF, INH):
                table: Mapping[int, str] | list[str] = self.level_iri
            elif code in (ORG, VIA):
                table = nodes
            else:
                table = self.pi_bits
            out += [
                f"<{nodes[s]}> {pred} <{table[o]}> ." for s, o in zip(s_all[m].tolist(), o_all[m].tolist(), strict=True)
            ]
        return out

    def subjects(self, keys: np.ndarray) -> set[str]:
        return {self.model.nodes[s] for s in np.unique(keys >> 32).tolist()}


def _unique(keys: np.ndarray) -> np.ndarray:
    """Sorted distinct keys (sorting: numpy's hash-based unique is slower on int64 keys)."""
    keys = np.sort(keys)
    return keys[np.concatenate(([True], keys[1:] != keys[:-1]))] if len(keys) else keys


def _minus(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The keys of sorted distinct ``a`` that are not in sorted ``b``."""
    if not len(b):
        return a
    at = np.minimum(np.searchsorted(b, a), len(b) - 1)
    out: np.ndarray = a[b[at] != a]
    return out


_INF = sparql_term(Graphs.INFERRED)
_CLEANUP = (
    f"DELETE {{ GRAPH {_INF} {{ ?s ?p ?o }} }} WHERE {{ GRAPH {_INF} {{ ?s ?p ?o FILTER(!isIRI(?s) || !isIRI(?o)) }} }}"
)


def journal_open(store: Store) -> bool:
    """Whether a large write of the inferred graph was interrupted (the graph is incomplete)."""
    return store.ask(f"ASK {{ GRAPH {sparql_term(Graphs.META)} {{ {sparql_term(JOURNAL)} ?p ?o }} }}")


def write_inferred(
    store: Store, codec: Codec, wanted: np.ndarray, report: PropagationReport, subjects: list[str] | None = None
) -> None:
    """Bring the inferred graph (what it says about ``subjects``, or all of it) to ``wanted``,
    writing only the difference: one SPARQL Update (atomic) up to :data:`ATOMIC_LIMIT`
    triples (or the store's ``max_update_triples``: a SPARQL server's request limit); beyond,
    under a journal entry in the meta graph, in batches of that size (or one bulk load into an
    empty graph, which a remote store streams in batches too). A journal left by an interrupted run is cleared by the next write,
    which compares with what the graph actually holds and so repairs it."""
    report.repaired = journal_open(store)
    assert subjects is None or not report.repaired, "an interrupted write is repaired by a full write"
    held, foreign, other = codec.held(store, subjects)
    added, removed = _minus(wanted, held), _minus(held, wanted)
    report.added, report.removed = len(added), len(removed) + len(foreign)
    report.changed = sorted(codec.subjects(added) | codec.subjects(removed) | {f.split(">", 1)[0][1:] for f in foreign})
    plus, minus = codec.lines(added), codec.lines(removed) + foreign
    limit = min(ATOMIC_LIMIT, getattr(store, "max_update_triples", ATOMIC_LIMIT))  # a server's request limit
    if len(plus) + len(minus) <= limit and not report.repaired:
        if plus or minus or other:
            store.update(_update(plus, minus, other))
        return
    report.journaled = True
    store.apply(
        Changeset(
            Graphs.META,
            subjects={JOURNAL},
            triples=[
                (JOURNAL, DCTERMS.description, Literal("inferred graph being rewritten / 推理图正在改写")),
                (JOURNAL, DCTERMS.created, Literal(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))),
            ],
        )
    )
    if other:
        store.update(_CLEANUP)
    for i in range(0, len(minus), limit):
        store.update(_update([], minus[i : i + limit], False))
    if len(held) == 0 and len(plus) > limit:  # an empty graph: the bulk loader
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "inferred.nt"
            path.write_text("\n".join(plus) + "\n", encoding="utf-8")
            store.bulk_load(path, "nt", Graphs.INFERRED)
    else:
        for i in range(0, len(plus), limit):
            store.update(_update(plus[i : i + limit], [], False))
    store.apply(Changeset(Graphs.META, subjects={JOURNAL}))
    store.flush()


def _update(plus: list[str], minus: list[str], cleanup: bool) -> str:
    ops = [_CLEANUP] if cleanup else []
    if minus:
        ops.append(f"DELETE DATA {{ GRAPH {_INF} {{\n" + "\n".join(minus) + "\n} }")
    if plus:
        ops.append(f"INSERT DATA {{ GRAPH {_INF} {{\n" + "\n".join(plus) + "\n} }")
    return " ;\n".join(ops)


class Lineage:
    """The lineage of one store, built from its facts; full runs and what-if previews."""

    def __init__(self, store: Store, onto: Ontology) -> None:
        self.store, self.onto = store, onto
        t0 = time.perf_counter()
        self.facts = read_facts(store, onto)
        t1 = time.perf_counter()
        self.model = build(self.facts, [p.iri for p in onto.personal_information])
        self.index = LineageIndex(self.model.graph)
        self.index.propagate()
        t2 = time.perf_counter()
        self.seconds = {"read": t1 - t0, "compute": t2 - t1}

    @property
    def result(self) -> Propagation:
        result = self.index.result
        assert result is not None
        return result

    def report(self) -> PropagationReport:
        cycles = {int(c) for c in np.unique(self.result.component) if c >= 0}
        return PropagationReport(
            datasets=sum(1 for x in self.model.nodes if x not in self.facts.elements),
            elements=sum(1 for x in self.model.nodes if x in self.facts.elements),
            derivations=len(self.facts.derivations) + len(self.facts.plain) + len(self.facts.element_derivations),
            cycles=len(cycles),
            seconds=dict(self.seconds),
        )

    def write(self) -> PropagationReport:
        report = self.report()
        t0 = time.perf_counter()
        codec = Codec(self.model, self.onto)
        write_inferred(self.store, codec, codec.wanted(self.result), report)
        report.seconds["write"] = time.perf_counter() - t0
        return report

    def level_of(self, iri: str) -> int:
        i = self.model.index.get(iri)
        return int(self.result.effective[i]) if i is not None else 0

    def change(
        self,
        set_levels: dict[str, int],
        add: Iterable[Derivation],
        remove: Iterable[tuple[str, str]],
        write: bool = True,
    ) -> tuple[list[LevelChange], PropagationReport]:
        """Apply changes to the lineage incrementally (only what derives from the changed
        resources is recomputed) and, with ``write``, store the inferred triples that changed
        in one atomic update. Returns the effective-level changes (old -> new)."""
        idx, model = self.index, self.model
        touched: set[int] = set()

        def node(iri: str) -> int:
            if iri not in model.index:
                model.index[iri] = idx.add_node()
                model.nodes.append(iri)
            return model.index[iri]

        for iri, rank in set_levels.items():
            i = node(iri)
            idx.g.own[i] = rank
            touched.add(i)
        for d in add:
            s, x = node(d.source), node(d.target)
            idx.add_edge(s, x, NO_CAP if d.cap is None else d.cap, int(ALL_FLAGS) & ~model.mask(d.clears))
            touched.add(x)
        for source, target in remove:
            if source in model.index and target in model.index:
                for e in idx.find_edges(model.index[source], model.index[target]):
                    idx.remove_edge(e)
                touched.add(model.index[target])
        t0 = time.perf_counter()
        changed = idx.update(touched) if touched else []
        result = self.result
        report = PropagationReport(seconds={"compute": time.perf_counter() - t0})  # counts: see report()
        levels = [
            LevelChange(model.nodes[i], result.previous.get(i, 0), int(result.effective[i]))
            for i in changed
            if result.previous.get(i, 0) != int(result.effective[i])
        ]
        if write and changed:
            t1 = time.perf_counter()
            self._write_nodes(changed, report)
            report.seconds["write"] = time.perf_counter() - t1
        return sorted(levels, key=lambda c: c.asset), report

    def _write_nodes(self, nodes: list[int], report: PropagationReport) -> None:
        codec = Codec(self.model, self.onto)
        if journal_open(self.store):  # an interrupted large write: repair all of it
            write_inferred(self.store, codec, codec.wanted(self.result), report)
            return
        subjects = [self.model.nodes[i] for i in nodes]
        write_inferred(self.store, codec, codec.wanted(self.result, nodes), report, subjects)


def propagate(store: Store, onto: Ontology) -> PropagationReport:
    """Read, propagate and write the whole inventory's lineage."""
    return Lineage(store, onto).write()


@dataclass(frozen=True)
class LevelChange:
    asset: str
    old: int
    new: int


def preview(
    store: Store,
    onto: Ontology,
    set_levels: dict[str, int],
    add: Iterable[Derivation],
    remove: Iterable[tuple[str, str]],
) -> list[LevelChange]:
    """The resources whose effective level would change (old -> new) if the inventory changed
    so; nothing is written."""
    changes, _ = Lineage(store, onto).change(set_levels, add, remove, write=False)
    return changes
