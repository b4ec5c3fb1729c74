"""Lineage in the knowledge graph: read the facts, propagate, write the inferred graph.

What ``medgrade propagate`` writes into ``…/graph/inferred``, for every dataset and every
element that takes part in lineage:

    x mg:effectiveLevel L              always (when x has any level): the highest of its assessed
                                       level, its rules' minimum and its inherited level (R7)
    x mg:minimumLevel M                when rules R2–R6 require more of x than the lowest level
                                       (kg.grading; the lowest is no requirement)
    x mg:inheritedLevel I              when a level arrives from sources
    x mg:levelOrigin o                 the resource whose own level (or a cap out of it) sets I
    x mg:inheritedFrom s               the witness hop: the direct source I arrives through;
                                       follow it from x until the origin for the whole path
    x mg:inheritedPersonalInformation p  personal information carried in from sources
    e mg:personalInformationByName p   personal information an element's name denotes (R4)

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
from typing import Any

import numpy as np
from rdflib import Literal, URIRef

from kg.grading import AssetFacts, ElementFacts, Minimums, strictest_category
from kg.lineage.core import ALL_FLAGS, NO_CAP, LineageIndex, Propagation
from kg.lineage.model import Derivation, Facts, LineageModel, build
from kg.namespaces import DCTERMS, MG, PROV, SPARQL_PREFIXES
from kg.ontology import Ontology
from kg.store import Changeset, Graphs, Store, sparql_term
from kg.store.base import chunks, values_blocks
from kg.vocabulary import TransformationType

ATOMIC_LIMIT = 200_000  # triples; a larger difference is written in steps under a journal entry
JOURNAL = URIRef("https://w3id.org/medgrade/graph/inferred#rewrite")
_P = SPARQL_PREFIXES


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

    def summary(self) -> dict[str, Any]:
        """What a caller is told (``changed`` as a count: it may name a million resources)."""
        return {
            "datasets": self.datasets,
            "elements": self.elements,
            "derivations": self.derivations,
            "cycles": self.cycles,
            "changed": len(self.changed),
            "added": self.added,
            "removed": self.removed,
            "journaled": self.journaled,
            "repaired": self.repaired,
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }


def read_facts(store: Store, onto: Ontology) -> Facts:
    """Levels, rules' minimums, personal-information flags, elements and derivations of the
    inventory, with caps worked out. Plain patterns joined here: on a million assets an OPTIONAL
    or a second pattern costs Oxigraph several times more, and every IRI it returns is a lookup
    on disk, so only what lineage and grading need is read."""
    inv = sparql_term(Graphs.INVENTORY)
    rank = {lv.iri: lv.rank for lv in onto.levels}
    facts = Facts()
    facts.elements = {e: d for d, e in _pairs(store, MG.hasElement)}
    assessed: dict[str, str] = {}
    for x, lv in store.rows(
        _P + f"SELECT ?x ?l WHERE {{ GRAPH {inv} {{ {{ ?x a mg:DataAsset }} UNION {{ ?d mg:hasElement ?x }} "
        "?x mg:assessedLevel ?l } }"
    ):
        if x is not None and lv is not None and rank.get(lv, 0) >= facts.levels.get(x, 0):
            facts.levels[x] = rank.get(lv, 0)
            assessed[x] = lv
    pi = {p.iri for p in onto.personal_information}
    for x, p in store.rows(_P + f"SELECT ?x ?p WHERE {{ GRAPH {inv} {{ ?x mg:hasPersonalInformation ?p }} }}"):
        if x is not None and p in pi:
            facts.flags.setdefault(x, set()).add(p)
    _read_minimums(store, onto, facts, assessed)
    _read_derivations(store, onto, facts)
    return facts


def _pairs(store: Store, predicate: URIRef) -> list[tuple[str, str]]:
    """Every (subject, object) of ``predicate`` in the inventory. A SPARQL query: Oxigraph's
    query engine reads a million pairs several times faster than its quad iterator."""
    return store.rows(  # type: ignore[return-value]  # both are bound in every solution
        f"SELECT ?s ?o WHERE {{ GRAPH {sparql_term(Graphs.INVENTORY)} {{ ?s {sparql_term(predicate)} ?o }} }}"
    )


def _read_minimums(store: Store, onto: Ontology, facts: Facts, assessed: dict[str, str]) -> None:
    """The rules' minimum (R2–R6, :mod:`kg.grading`) of every asset and element with anything
    the rules read, and the personal information element names denote. Most assets have only
    a category: they are read by the floor their category gives, one column per query (the
    category IRIs are not decoded); the rest are graded with all their facts."""
    inv = sparql_term(Graphs.INVENTORY)
    minimums = Minimums(onto)
    impacts: dict[str, list[tuple[str, str]]] = {}
    for x, o, d in store.rows(
        _P + f"SELECT ?x ?o ?d WHERE {{ GRAPH {inv} {{ ?x mg:hasImpact ?i . ?i mg:impactObject ?o ; "
        "mg:impactDegree ?d } }"
    ):
        if x and o and d:
            impacts.setdefault(x, []).append((o, d))
    counts = {
        x: int(n)
        for x, n in store.rows(_P + f"SELECT ?x ?n WHERE {{ GRAPH {inv} {{ ?x mg:subjectCount ?n }} }}")
        if x and n and n.isdigit()
    }
    reviews: dict[str, str] = {}
    for x, decision in store.rows(
        _P + "SELECT ?x ?d WHERE { GRAPH ?g { ?r a mg:ImportantDataReview ; mg:concerns ?x ; mg:reviewDecision ?d } }"
    ):
        if x and decision and (x not in reviews or decision < reviews[x]):
            reviews[x] = decision  # as kg.answers.asset_facts reads it
    element_facts = (
        _P
        + f"""SELECT ?e ?n ?c WHERE {{ GRAPH {inv} {{ ?d mg:hasElement ?e
        OPTIONAL {{ ?e rdfs:label ?n }} OPTIONAL {{ ?e mg:hasCategory ?c }} }} }}"""
    )
    names: dict[str, str] = {}
    categories: dict[str, list[str]] = {}
    for e, n, c in store.rows(element_facts) if facts.elements else []:
        if e is not None:
            names.setdefault(e, n or "")
            if c is not None:
                categories.setdefault(e, []).append(c)
    members: dict[str, list[ElementFacts]] = {}
    for e, d in facts.elements.items():
        element = ElementFacts(
            e,
            names.get(e, ""),
            strictest_category(categories.get(e, ()), onto),
            tuple(sorted(facts.flags.get(e, ()))),
            assessed.get(e),
        )
        members.setdefault(d, []).append(element)
        if named := minimums.named(element.name):
            facts.named[e] = set(named)
        if (r := minimums.element(element)) > 0:
            facts.minimum[e] = r
    special = (set(impacts) | set(counts) | set(reviews) | set(facts.flags) | set(members)) - set(facts.elements)
    by_floor: dict[int, list[str]] = {}
    for category in onto.categories:
        by_floor.setdefault(minimums.asset(AssetFacts("", category.iri)), []).append(category.iri)
    for rank in sorted(r for r in by_floor if r > 0):  # ascending: an asset in two categories keeps the higher
        values = " ".join(sparql_term(URIRef(c)) for c in sorted(by_floor[rank]))
        for (x,) in store.rows(
            f"SELECT ?x WHERE {{ GRAPH {inv} {{ VALUES ?c {{ {values} }} ?x <{MG.hasCategory}> ?c }} }}"
        ):
            if x is not None and x not in special and x not in facts.elements:
                facts.minimum[x] = rank
    ordered = sorted(special)
    for values in values_blocks("x", map(URIRef, ordered)):
        for x, c in store.rows(f"SELECT ?x ?c WHERE {{ GRAPH {inv} {{ {values} ?x <{MG.hasCategory}> ?c }} }}"):
            if x is not None and c is not None:
                categories.setdefault(x, []).append(c)
    for x in ordered:
        r = minimums.asset(
            AssetFacts(
                x,
                strictest_category(categories.get(x, ()), onto),
                tuple(sorted(impacts.get(x, ()))),
                tuple(sorted(facts.flags.get(x, ()))),
                counts.get(x),
                tuple(members.get(x, ())),
                reviews.get(x),
            )
        )
        if r > 0:
            facts.minimum[x] = r


def _read_derivations(store: Store, onto: Ontology, facts: Facts, targets: list[str] | None = None) -> None:
    """Derivations with their caps (of ``targets`` only, when given). A derivation ``x <- s`` is
    made in one or more *ways*: by each activity that generated x (prov:wasGeneratedBy) and
    used s (prov:used), by each qualified derivation of x from s (prov:qualifiedDerivation, one
    per run and column pair), or, when neither says how, plainly. A way caps what it passes
    when its activity is an approved level-reducing transformation, or when it is a masked
    derivation approved on itself or on its activity; several ways: the least reducing one
    decides (an unapproved or unmasked way passes everything)."""
    inv = sparql_term(Graphs.INVENTORY)
    only = "VALUES ?x { " + " ".join(sparql_term(URIRef(x)) for x in targets) + " } " if targets is not None else ""
    pi = frozenset(p.iri for p in onto.personal_information)
    types = {t.iri: t for t in onto.transformations}
    masking = types.get(onto.policy.masking_transformation or "")
    made: dict[str, list[str]] = {}
    kind_of: dict[str, str | None] = {}
    for x, act, type_iri in store.rows(
        _P + f"SELECT ?x ?act ?type WHERE {{ GRAPH {inv} {{ {only}?x prov:wasGeneratedBy ?act "
        "OPTIONAL { ?act mg:transformationType ?type } } }"
    ):
        if x is not None and act is not None:
            made.setdefault(x, []).append(act)
            kind_of[act] = type_iri if kind_of.get(act) is None else kind_of[act]
    qualified: dict[tuple[str, str], list[tuple[str | None, bool, str | None]]] = {}  # (x, s) -> ways
    for x, s, act, masked, approval in store.rows(
        _P
        + f"""SELECT ?x ?s ?act ?masked ?approval WHERE {{ GRAPH {inv} {{ {only}
        ?x prov:qualifiedDerivation ?q . ?q prov:entity ?s OPTIONAL {{ ?q prov:hadActivity ?act }}
        OPTIONAL {{ ?q mg:masking ?masked }} OPTIONAL {{ ?q mg:approval ?approval }} }} }}"""
    ):
        if x is not None and s is not None:
            qualified.setdefault((x, s), []).append((act, masked in ("true", "1"), approval))
    acts = sorted({a for xs in made.values() for a in xs} | {w[0] for ws in qualified.values() for w in ws if w[0]})
    if targets is None:
        approved_acts = {
            a for (a,) in store.rows(_P + f"SELECT DISTINCT ?a WHERE {{ GRAPH {inv} {{ ?a mg:approval ?x }} }}")
        }
        used = set(_pairs(store, PROV.used)) if made else set()
        edges = store.rows(  # (source, target), as Facts.plain holds them
            _P + f"SELECT ?s ?x WHERE {{ GRAPH {inv} {{ ?x prov:wasDerivedFrom ?s }} }}"
        )
        if not made and not qualified and not facts.elements:  # the bulk of a large inventory
            facts.plain.extend(edges)  # type: ignore[arg-type]
            return
    else:
        values = "VALUES ?a { " + " ".join(sparql_term(URIRef(a)) for a in acts) + " } " if acts else "FILTER(false) "
        approved_acts = {
            a for (a,) in store.rows(_P + f"SELECT DISTINCT ?a WHERE {{ GRAPH {inv} {{ {values}?a mg:approval ?x }} }}")
        }
        used = {
            (a, s)
            for a, s in store.rows(_P + f"SELECT ?a ?s WHERE {{ GRAPH {inv} {{ {values}?a prov:used ?s }} }}")
            if a and s
        }
        edges = store.rows(_P + f"SELECT ?s ?x WHERE {{ GRAPH {inv} {{ {only}?x prov:wasDerivedFrom ?s }} }}")

    def way(act: str | None, masked: bool = False, approval: str | None = None) -> Way:
        kind = types.get(kind_of.get(act) or "") if act else None
        return way_of(kind, act in approved_acts, masked, approval is not None, masking, pi, act)

    elements, plain = facts.elements, facts.plain
    for s, x in edges:
        assert s is not None and x is not None
        generated, quals = made.get(x), qualified.get((x, s))
        if generated is None and quals is None:  # the bulk of a large inventory: nothing to work out
            if x in elements and s in elements:
                facts.element_derivations.append(Derivation(s, x))
            else:
                plain.append((s, x))
            continue
        ways = [way(act, is_masked, approval) for act, is_masked, approval in quals or ()]
        qualified_by = {act for act, _, _ in quals or ()}
        ways += [way(act) for act in generated or () if act not in qualified_by and (act, s) in used]
        cap, clears = least_reducing(ways)
        activity = next(
            (w.activity for w in sorted(ways, key=lambda w: (w.cap is not None, w.activity or "")) if w.activity), None
        )
        derivation = Derivation(s, x, activity, cap, clears)
        target = facts.element_derivations if x in elements and s in elements else facts.derivations
        target.append(derivation)


@dataclass(frozen=True, slots=True)
class Way:
    """One way a derivation was made (by an activity, a qualified derivation, or plainly), with
    the cap it passes at most (None: everything) and the personal information it clears."""

    activity: str | None = None
    cap: int | None = None
    clears: frozenset[str] = frozenset()


def way_of(
    kind: TransformationType | None,
    activity_approved: bool,
    masked: bool,
    derivation_approved: bool,
    masking: TransformationType | None,
    personal: frozenset[str],
    activity: str | None = None,
) -> Way:
    """R8: an activity of a level-reducing type caps what it passes only with an approval; a
    masked column derivation counts as the policy's masking transformation, approved on itself
    or on its activity. Without an approval, nothing is capped."""
    reducing = kind is not None and kind.level_reducing and activity_approved
    cap = kind.cap.rank if reducing and kind is not None and kind.cap is not None else None
    clears = personal if reducing and kind is not None and kind.removes_personal_information else frozenset()
    if masked and (derivation_approved or activity_approved) and masking is not None and masking.cap is not None:
        cap = masking.cap.rank if cap is None else min(cap, masking.cap.rank)
    return Way(activity, cap, clears)


def least_reducing(ways: Iterable[Way]) -> tuple[int | None, frozenset[str]]:
    """What a derivation made in several ways passes: the least reducing way decides (an
    unapproved or unmasked way passes everything); a flag is cleared only if every way clears
    it. No way recorded: a plain derivation."""
    found = list(ways)
    if not found:
        return None, frozenset()
    caps = [w.cap for w in found]
    cap = None if any(c is None for c in caps) else max(c for c in caps if c is not None)
    return cap, frozenset.intersection(*(w.clears for w in found))


def derivations_of(store: Store, onto: Ontology, targets: list[str]) -> list[Derivation]:
    """Every derivation of ``targets`` (assets) as a full propagation reads it, caps worked out:
    what an incremental change gives the lineage after a write touching them."""
    facts = Facts()
    _read_derivations(store, onto, facts, sorted(set(targets)))
    return facts.derivations + [Derivation(s, x) for s, x in facts.plain] + facts.element_derivations


# The inferred graph, encoded: one int64 per triple, ``subject << 32 | predicate << 28 | object``,
# where subjects and node objects are node numbers, levels their ranks and flags their bits.
_PREDICATES = (
    MG.effectiveLevel,
    MG.inheritedLevel,
    MG.levelOrigin,
    MG.inheritedFrom,
    MG.inheritedPersonalInformation,
    MG.minimumLevel,
    MG.personalInformationByName,
)
EFF, INH, ORG, VIA, PI, MIN, NPI = range(len(_PREDICATES))
_OBJECT_BITS = 28


class Codec:
    """Encodes what the inferred graph holds (or should hold) about a lineage model as sorted
    int64 keys, so that a million assets' triples are compared with numpy, not as strings."""

    def __init__(self, model: LineageModel, onto: Ontology) -> None:
        if len(model.nodes) >= 1 << _OBJECT_BITS:
            raise ValueError(f"at most {1 << _OBJECT_BITS:,} lineage nodes")
        self.model = model
        self.level_iri = {lv.rank: lv.iri for lv in onto.levels}
        self.lowest = onto.ordered_levels()[0].rank
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
        minimum = self.model.minimum[idx]
        m = minimum > self.lowest  # the lowest level is no requirement: every level is at least that
        parts.append(self._keys(idx[m], MIN, minimum[m]))
        carried = result.flags[idx] & ~g.flags[idx]
        named = self.model.named[idx]
        for bit in self.pi_bits:
            for pred, bits in ((PI, carried), (NPI, named)):
                m = ((bits >> np.uint64(bit)) & np.uint64(1)).astype(bool)
                if m.any():
                    parts.append(self._keys(idx[m], pred, np.full(int(m.sum()), bit)))
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
            for values in values_blocks("s", map(URIRef, subjects)):
                rows += store.rows(f"SELECT ?s ?p ?o ?iri WHERE {{ GRAPH {_INF} {{ {values} {where} }} }}")
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
                if code in (EFF, INH, MIN):
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
            if code in (EFF, INH, MIN):
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
    triples (or the store's ``capabilities.max_update_triples``: a SPARQL server's request limit); beyond,
    under a journal entry in the meta graph, in batches of that size (or one bulk load into an
    empty graph, which a remote store streams in batches too). A journal left by an interrupted run is cleared by the next write,
    which compares with what the graph actually holds and so repairs it."""
    report.repaired = journal_open(store)
    assert subjects is None or not report.repaired, "an interrupted write is repaired by a full write"
    held, foreign, other = codec.held(store, subjects)
    added, removed = _minus(wanted, held), _minus(held, wanted)
    report.added, report.removed = len(added), len(removed) + len(foreign)
    changed = codec.subjects(added) | codec.subjects(removed) | {f.split(">", 1)[0][1:] for f in foreign}
    report.changed = sorted(changed) if len(changed) <= 10_000 else list(changed)  # a million: sorting costs seconds
    plus, minus = codec.lines(added), codec.lines(removed) + foreign
    limit = min(ATOMIC_LIMIT, store.capabilities.max_update_triples or ATOMIC_LIMIT)  # a server's request limit
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
    for part in chunks(minus, limit):
        store.update(_update([], list(part), False))
    if len(held) == 0 and len(plus) > limit:  # an empty graph: the bulk loader
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "inferred.nt"
            path.write_text("\n".join(plus) + "\n", encoding="utf-8")
            store.bulk_load(path, "nt", Graphs.INFERRED, trusted=True)  # IRIs the store holds: no re-checking
    else:
        for part in chunks(plus, limit):
            store.update(_update(list(part), [], False))
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
            datasets=len(self.model.nodes) - (elements := len(self.facts.elements.keys() & self.model.index.keys())),
            elements=elements,
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
        set_levels: Mapping[str, int],
        add: Iterable[Derivation],
        remove: Iterable[tuple[str, str]],
        write: bool = True,
        *,
        minimums: Mapping[str, int] | None = None,
        named: Mapping[str, Iterable[str]] | None = None,
    ) -> tuple[list[LevelChange], PropagationReport]:
        """Apply changes to the lineage incrementally (only what derives from the changed
        resources is recomputed) and, with ``write``, store the inferred triples that changed
        in one atomic update. Returns the effective-level changes (old -> new).

        ``set_levels``: assessed ranks; ``minimums``: ranks of the rules' minimum (0: none);
        ``named``: the personal information element names denote. A node's own rank is the
        higher of its assessed level and its minimum."""
        idx, model = self.index, self.model
        touched: set[int] = set()
        rewrite: set[int] = set()  # described differently even if no level moves

        def node(iri: str) -> int:
            if iri not in model.index:
                model.add_node(iri, idx.add_node())
            return model.index[iri]

        for iri, rank in set_levels.items():
            i = node(iri)
            model.assessed[i] = rank
            touched.add(i)
        for iri, rank in (minimums or {}).items():
            i = node(iri)
            if int(model.minimum[i]) != rank:
                model.minimum[i] = rank
                touched.add(i)
                rewrite.add(i)
        for iri, kinds in (named or {}).items():
            i = node(iri)
            bits = np.uint64(model.mask(kinds))
            if model.named[i] != bits:
                assert idx.g.flags is not None
                idx.g.flags[i] = (idx.g.flags[i] & ~model.named[i]) | bits
                model.named[i] = bits
                touched.add(i)
                rewrite.add(i)
        for i in touched:
            idx.g.own[i] = model.own(i)
        for source, target in remove:  # first: a derivation re-described is removed, then added
            if source in model.index and target in model.index:
                for e in idx.find_edges(model.index[source], model.index[target]):
                    idx.remove_edge(e)
                touched.add(model.index[target])
        for d in add:
            s, x = node(d.source), node(d.target)
            idx.add_edge(s, x, NO_CAP if d.cap is None else d.cap, int(ALL_FLAGS) & ~model.mask(d.clears))
            touched.add(x)
        t0 = time.perf_counter()
        changed = idx.update(touched) if touched else []
        result = self.result
        report = PropagationReport(seconds={"compute": time.perf_counter() - t0})  # counts: see report()
        levels = [
            LevelChange(model.nodes[i], result.previous.get(i, 0), int(result.effective[i]))
            for i in changed
            if result.previous.get(i, 0) != int(result.effective[i])
        ]
        written = sorted(set(changed) | rewrite)
        if write and written:
            t1 = time.perf_counter()
            self._write_nodes(written, report)
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
    """The data assets whose effective level would change (old -> new) if the inventory changed
    so (their elements follow them); nothing is written."""
    lineage = Lineage(store, onto)
    changes, _ = lineage.change(set_levels, add, remove, write=False)
    return [c for c in changes if c.asset not in lineage.facts.elements]
