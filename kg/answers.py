"""Answers about one asset, shared by the CLI and the API: its level (SPEC §9) and its lineage."""

from __future__ import annotations

import datetime as dt
import weakref
from collections import deque
from collections.abc import Iterable
from typing import Any

from rdflib import Literal, URIRef
from rdflib.namespace import XSD

from kg.errors import InputError, NotFoundError
from kg.grading import AssetFacts, ElementFacts, grade, strictest_category
from kg.ids import Ids
from kg.namespaces import MG, PROV, RDF, RDFS, SPARQL_PREFIXES
from kg.ontology import Ontology
from kg.propagation import Way, least_reducing, way_of
from kg.store import Graphs, Store, sparql_term
from kg.vocabulary import Level, Term, TransformationType

_P = SPARQL_PREFIXES
INV, INF = sparql_term(Graphs.INVENTORY), sparql_term(Graphs.INFERRED)
MAX_HOPS = 10_000


def resolve(
    store: Store, ids: Ids, ref: str, props: dict[str, list[str]] | None = None, *, elements: bool = False
) -> URIRef:
    """The asset ``ref`` names (id or IRI), which must exist in the inventory (``props``: its
    inventory properties, when the caller has read them); with ``elements``, a data element
    (by IRI) will do too."""
    iri = ids.resolve_asset(ref)
    types = (props if props is not None else _properties(store, Graphs.INVENTORY, iri)).get(str(RDF.type), [])
    if str(MG.DataAsset) not in types and not (elements and str(MG.DataElement) in types):
        what_en, what_zh = ("data asset or element", "数据资产或数据元素") if elements else ("data asset", "数据资产")
        raise NotFoundError(f"no {what_en} '{ref}' in the inventory", f"清单中没有{what_zh}“{ref}”")
    return iri


def _properties(store: Store, graph: URIRef, iri: URIRef) -> dict[str, list[str]]:
    """Every property of ``iri`` in ``graph`` (a point lookup), impact statements flattened to
    ``object|degree`` under ``mg:hasImpact``."""
    props: dict[str, list[str]] = {}
    for p, o in store.about(str(iri), graph):
        if p == str(MG.hasImpact):
            parts = dict(store.about(o, graph))
            io, degree = parts.get(str(MG.impactObject)), parts.get(str(MG.impactDegree))
            if io and degree:
                o = f"{io}|{degree}"
        props.setdefault(p, []).append(o)
    return props


def _first(props: dict[str, list[str]], p: URIRef) -> str | None:
    values = props.get(str(p))
    return min(values) if values else None


def asset_facts(store: Store, onto: Ontology, iri: URIRef, props: dict[str, list[str]] | None = None) -> AssetFacts:
    """What grading needs about one asset, from the inventory (``props``: its properties, if
    already read)."""
    a = sparql_term(iri)
    props = _properties(store, Graphs.INVENTORY, iri) if props is None else props
    impacts = [tuple(v.split("|", 1)) for v in props.get(str(MG.hasImpact), []) if "|" in v]
    count = _first(props, MG.subjectCount)
    elements: dict[str, dict[str, Any]] = {}
    if props.get(str(MG.hasElement)):
        for e, name, cat, pi, lv in store.rows(
            _P
            + f"""SELECT ?e ?name ?c ?p ?l WHERE {{ GRAPH {INV} {{ {a} mg:hasElement ?e
                OPTIONAL {{ ?e rdfs:label ?name }} OPTIONAL {{ ?e mg:hasCategory ?c }}
                OPTIONAL {{ ?e mg:hasPersonalInformation ?p }} OPTIONAL {{ ?e mg:assessedLevel ?l }} }} }}"""
        ):
            if e is None:
                continue
            entry = elements.setdefault(e, {"name": name or e, "categories": set(), "personal": set(), "level": lv})
            if pi:
                entry["personal"].add(pi)
            if cat:
                entry["categories"].add(cat)
    # the important-data reviews of the asset only (every write adds a record concerning it)
    decisions = store.rows(
        _P
        + f"SELECT ?d WHERE {{ GRAPH ?g {{ ?r mg:concerns {a} ; a mg:ImportantDataReview ; mg:reviewDecision ?d }} }}"
    )
    review = min((str(d) for (d,) in decisions if d is not None), default=None)
    return AssetFacts(
        iri=str(iri),
        category=strictest_category(props.get(str(MG.hasCategory), []), onto),
        impacts=tuple(sorted(impacts)),  # type: ignore[arg-type]
        personal=tuple(sorted(props.get(str(MG.hasPersonalInformation), []))),
        subject_count=int(count) if count and count.isdigit() else None,
        elements=tuple(
            ElementFacts(
                e, v["name"], strictest_category(v["categories"], onto), tuple(sorted(v["personal"])), v["level"]
            )
            for e, v in sorted(elements.items())
        ),
        review=review,
    )


def review_status(onto: Ontology, last: str | None, as_of: dt.date | None = None) -> dict[str, Any]:
    """R15 for one asset: its last-reviewed date, the policy's interval, when the next review is
    due and whether it is overdue by the clock (``as_of``, else MEDGRADE_TODAY, else today in
    Asia/Shanghai). An asset never reviewed is not judged (``overdue`` false, ``due`` null)."""
    from kg import clock

    months = onto.policy.review_interval_months
    try:
        day = dt.date.fromisoformat(last[:10]) if last else None
    except ValueError:  # a malformed value: R15's datatype check reports it
        day = None
    cutoff = clock.review_cutoff(clock.today(as_of), months)
    return {
        "last_reviewed": day.isoformat() if day else None,
        "interval_months": months,
        "due": clock.months_before(day, -months).isoformat() if day else None,
        "overdue": day is not None and day < cutoff,
    }


def level_answer(store: Store, onto: Ontology, ids: Ids, ref: str, as_of: dt.date | None = None) -> dict[str, Any]:
    """The level answer of SPEC §9: assessed, minimum, inherited, effective and which of the
    three sets it, origin, witness, measures, reasons.

    The effective level is the highest of the assessed level, the rules' minimum (R2–R6,
    graded now from the inventory) and the inherited level (R7); what propagation wrote is
    taken too, so a stale inferred graph can only make the answer stricter, never lower."""
    iri = ids.resolve_asset(ref)
    props = _properties(store, Graphs.INVENTORY, iri)
    resolve(store, ids, ref, props)
    inferred = _properties(store, Graphs.INFERRED, iri)
    assessed = onto.levels.get(_first(props, MG.assessedLevel) or "")
    inherited = onto.levels.get(_first(inferred, MG.inheritedLevel) or "")
    grading = grade(asset_facts(store, onto, iri, props), onto)
    minimum = grading.level if grading.reasons else None
    parts = [
        lv for lv in (assessed, minimum, inherited, onto.levels.get(_first(inferred, MG.effectiveLevel) or "")) if lv
    ]
    effective = onto.highest(parts) if parts else None
    review = review_status(onto, max(props.get(str(MG.lastReviewed)) or [""]) or None, as_of)
    origin = _first(inferred, MG.levelOrigin)
    measures = onto.measures_for(effective) if effective else []
    reasons = [f"{r.text_zh} / {r.text_en}" for r in grading.reasons]
    if assessed is not None and minimum is not None and assessed.rank < minimum.rank:
        reasons.insert(
            0,
            f"R11：评估级别{assessed.label_zh}低于规则要求的{minimum.label_zh}，生效级别不因此降低；请修正评估 / "
            f"R11: the assessed level {assessed.label_en} is below the rules' minimum {minimum.label_en}; "
            "the effective level is not lowered by it; correct the assessment",
        )
    return {
        "asset": str(iri),
        "id": ids.local_id(str(iri)) or str(iri),
        "assessed": assessed.ref() if assessed else None,
        "minimum": minimum.ref() if minimum else None,
        "inherited": inherited.ref() if inherited else None,
        "effective": effective.ref() if effective else None,
        "set_by": set_by(effective, assessed, minimum, inherited),
        "origin": origin,
        "witness": witness(store, onto, iri, origin) if inherited else [],
        "measures": [m.ref() for m in measures],
        "handling": [h.to_dict() for h in effective.handling] if effective else [],
        "reasons": reasons,
        "elements_considered": [g.ref() for g in grading_elements(onto, props.get(str(MG.elementConsidered), []))],
        "last_reviewed": review["last_reviewed"],
        "review": review,
    }


def grading_elements(onto: Ontology, iris: Iterable[str]) -> list[Term]:
    """The grading elements ``iris`` name (others are left out), in the ontology's order
    (``mg:order``: GB/T 43697-2024 §6.3 as shipped)."""
    wanted = {str(i) for i in iris}
    return [t for t in onto.grading_elements if t.iri in wanted]


def set_by(
    effective: Level | None, assessed: Level | None, minimum: Level | None, inherited: Level | None
) -> str | None:
    """Which part sets the effective level: ``inherited`` (sources), ``rules`` (R2–R6) or
    ``assessed`` (the steward), the first of these that reaches it: a steward's assessment is
    named only when it is what holds the level up."""
    if effective is None:
        return None
    for name, lv in (("inherited", inherited), ("rules", minimum), ("assessed", assessed)):
        if lv is not None and lv.rank == effective.rank:
            return name
    return "inherited"  # only what propagation wrote reaches it: lineage the answer did not see


class _HopCache:
    """Witness hops by node, for stores that count their writes (``generation``): the upstream
    part of witness paths is shared by many assets, so most hops of a lookup are cached. An
    entry is used only while the store's generation is the one read before computing it."""

    LIMIT = 500_000

    def __init__(self) -> None:
        self.entries: dict[str, tuple[int, tuple[str, dict[str, Any]] | None]] = {}

    def hop(self, store: Store, onto: Ontology, node: str) -> tuple[str, dict[str, Any]] | None:
        if not store.capabilities.counts_writes:
            return _hop(store, onto, node)
        generation = store.generation
        hit = self.entries.get(node)
        if hit is not None and hit[0] == generation:
            return hit[1]
        value = _hop(store, onto, node)
        if len(self.entries) >= self.LIMIT:
            self.entries.clear()
        self.entries[node] = (generation, value)
        return value


_CACHES: weakref.WeakKeyDictionary[Any, _HopCache] = weakref.WeakKeyDictionary()


def _hop(store: Store, onto: Ontology, node: str) -> tuple[str, dict[str, Any]] | None:
    source = min((o for p, o in store.about(node, Graphs.INFERRED) if p == _INHERITED_FROM), default=None)
    return None if source is None else (source, _hop_activity(store, onto, source, node))


def witness(store: Store, onto: Ontology, iri: URIRef, origin: str | None) -> list[dict[str, Any]]:
    """The witness path of an inherited level, origin first: each hop with the activity that
    made the target from the source and its type. Followed hop by hop with point lookups."""
    cache = _CACHES.get(store)
    if cache is None:
        cache = _CACHES.setdefault(store, _HopCache())
    hops: list[dict[str, Any]] = []
    current, seen = str(iri), set()
    while origin and current != origin and current not in seen and len(hops) < MAX_HOPS:
        seen.add(current)
        step = cache.hop(store, onto, current)
        if step is None:
            break
        source, activity = step
        hops.append({"source": source, "target": current, **activity})
        current = source
    return hops[::-1]


_INHERITED_FROM, _GENERATED, _QUALIFIED = str(MG.inheritedFrom), str(PROV.wasGeneratedBy), str(PROV.qualifiedDerivation)
_TYPE, _APPROVAL, _ENTITY, _MASKING = str(MG.transformationType), str(MG.approval), str(PROV.entity), str(MG.masking)
_USED, _HAD_ACTIVITY = str(PROV.used), str(PROV.hadActivity)


def _hop_activity(store: Store, onto: Ontology, source: str, target: str) -> dict[str, Any]:
    """How ``target`` was made from ``source``, by point lookups: the activity that generated
    ``target`` and its type, and whether the derivation passes a reduced level (``approved``:
    every way it was made is an approved reduction, as propagation reads it)."""
    made = store.about(target, Graphs.INVENTORY)
    acts = sorted(o for p, o in made if p == _GENERATED)
    about: dict[str, list[tuple[str, str]]] = {a: store.about(a, Graphs.INVENTORY) for a in acts}
    masking = onto.transformations.get(onto.policy.masking_transformation or "")
    personal = frozenset(p.iri for p in onto.personal_information)

    def activity_facts(act: str) -> tuple[TransformationType | None, bool]:
        facts = about.setdefault(act, store.about(act, Graphs.INVENTORY))
        kind = next((onto.transformations.get(o) for p, o in facts if p == _TYPE), None)
        return kind, any(p == _APPROVAL for p, _ in facts)

    ways: list[Way] = []
    qualified_by: set[str] = set()
    for q in (o for p, o in made if p == _QUALIFIED):
        about_q = store.about(q, Graphs.INVENTORY)
        if (_ENTITY, source) not in about_q:
            continue
        act = next((o for p, o in about_q if p == _HAD_ACTIVITY), None)
        kind, approved = activity_facts(act) if act else (None, False)
        masked = (_MASKING, "true") in about_q
        ways.append(way_of(kind, approved, masked, any(p == _APPROVAL for p, _ in about_q), masking, personal, act))
        qualified_by.add(act or "")
    for act in acts:
        if act not in qualified_by and (_USED, source) in about[act]:
            kind, approved = activity_facts(act)
            ways.append(way_of(kind, approved, False, False, masking, personal, act))
    cap, _ = least_reducing(ways)
    act = acts[0] if acts else None
    kind_iri = next((o for p, o in about.get(act, []) if p == _TYPE), None) if act else None
    term = onto.transformations.get(kind_iri or "")
    return {
        "activity": act,
        "activity_type": kind_iri,
        "activity_label_zh": term.label_zh if term else None,
        "activity_label_en": term.label_en if term else None,
        "approved": cap is not None,
    }


def lineage_graph(
    store: Store,
    onto: Ontology,
    ids: Ids,
    ref: str,
    direction: str = "both",
    depth: int = 5,
    max_nodes: int | None = None,
) -> dict[str, Any]:
    """Nodes and edges around an asset: ``upstream`` (sources), ``downstream`` or ``both``,
    breadth first; with ``max_nodes`` the walk stops there and the answer says ``truncated``."""
    if direction not in ("upstream", "downstream", "both", "up", "down"):
        raise InputError(
            f"direction must be upstream, downstream or both, not '{direction}'",
            f"方向须为 upstream、downstream 或 both，而不是“{direction}”",
        )
    if depth < 0 or depth > 100:
        raise InputError("depth must be between 0 and 100", "深度须在 0 到 100 之间")
    root = resolve(store, ids, ref)
    ups, downs = direction in ("upstream", "up", "both"), direction in ("downstream", "down", "both")
    edges: set[tuple[str, str]] = set()
    distance = {str(root): 0}
    queue = deque([str(root)])
    truncated = False
    while queue:
        x = queue.popleft()
        if distance[x] >= depth:
            continue
        term = sparql_term(URIRef(x))
        neighbours: list[tuple[str, str, str]] = []
        if ups:
            neighbours += [
                (s, x, s)
                for (s,) in store.rows(_P + f"SELECT ?s WHERE {{ GRAPH {INV} {{ {term} prov:wasDerivedFrom ?s }} }}")
                if s
            ]
        if downs:
            neighbours += [
                (x, d, d)
                for (d,) in store.rows(
                    _P + f"SELECT ?d WHERE {{ GRAPH {INV} {{ ?d prov:wasDerivedFrom {term} . ?d a mg:DataAsset }} }}"
                )
                if d
            ]
        for s, d, nxt in neighbours:
            if nxt not in distance:
                if max_nodes is not None and len(distance) >= max_nodes:
                    truncated = True
                    continue
                distance[nxt] = distance[x] + 1
                queue.append(nxt)
            edges.add((s, d))
    nodes = [
        _node(store, onto, ids, iri, dist) for iri, dist in sorted(distance.items(), key=lambda kv: (kv[1], kv[0]))
    ]
    edge_list = [{"source": s, "target": d, **_hop_activity(store, onto, s, d)} for s, d in sorted(edges)]
    return {
        "root": str(root),
        "direction": direction,
        "depth": depth,
        "truncated": truncated,
        "nodes": nodes,
        "edges": edge_list,
    }


def _node(store: Store, onto: Ontology, ids: Ids, iri: str, distance: int) -> dict[str, Any]:
    t = sparql_term(URIRef(iri))
    rows = store.rows(
        _P
        + f"""SELECT ?name ?assessed ?effective WHERE {{
        OPTIONAL {{ GRAPH {INV} {{ {t} rdfs:label ?name }} }} OPTIONAL {{ GRAPH {INV} {{ {t} mg:assessedLevel ?assessed }} }}
        OPTIONAL {{ GRAPH {INF} {{ {t} mg:effectiveLevel ?effective }} }} }}"""
    )
    name, assessed, effective = rows[0] if rows else (None, None, None)
    eff = onto.levels.get(effective or "") or onto.levels.get(assessed or "")
    return {
        "iri": iri,
        "id": ids.local_id(iri) or iri,
        "name": name,
        "distance": distance,
        "effective": eff.ref() if eff else None,
    }


def _level_of(onto: Ontology, iri: str | None) -> dict[str, Any] | None:
    lv = onto.levels.get(iri or "")
    return lv.ref() if lv else None


def _category_of(onto: Ontology, iri: str | None) -> dict[str, Any] | None:
    c = onto.categories.get(iri or "")
    return c.ref() if c else ({"iri": iri, "label_zh": None, "label_en": None} if iri else None)


def asset_list(
    store: Store,
    onto: Ontology,
    ids: Ids,
    *,
    min_rank: int | None = None,
    category: str | None = None,
    equipment: str | None = None,
    q: str | None = None,
    reviewed_before: dt.date | None = None,
    limit: int = 50,
    offset: int = 0,
) -> dict[str, Any]:
    """Assets filtered and paged: ``min_rank`` on the effective level (else the assessed one),
    ``category`` by any name, with its narrower categories; ``equipment`` a device id or an
    equipment type by any name; ``q`` text in the id or the name; ``reviewed_before`` a
    last-reviewed date before this day (R15's cutoff: the overdue assets). Sorted by id."""
    if not 1 <= limit <= 1000 or offset < 0:
        raise InputError("limit must be 1–1000 and offset ≥ 0", "limit 须在 1–1000 之间，offset ≥ 0")
    filters = []
    if min_rank is not None:
        wanted = [lv.iri for lv in onto.levels if lv.rank >= min_rank]
        filters.append(f"VALUES ?eff {{ {' '.join(f'<{i}>' for i in wanted)} }}" if wanted else "FILTER(false)")
    if category:
        top = onto.categories.find(category)
        below = [c.iri for c in onto.categories if top in onto.category_path(c)]
        filters.append(f"?a mg:hasCategory ?fc . VALUES ?fc {{ {' '.join(f'<{i}>' for i in below)} }}")
    if equipment:
        try:
            kind = onto.equipment_types.find(equipment)
        except InputError:
            kind = None
        if kind is not None:
            filters.append(
                f"{{ ?a mg:producedByType <{kind.iri}> }} UNION {{ ?a mg:producedBy ?fd . ?fd a <{kind.iri}> }}"
            )
        else:
            filters.append(f"?a mg:producedBy {sparql_term(ids.device(equipment))}")
    if q:
        needle = sparql_term(Literal(q.lower()))
        filters.append(
            f'FILTER(CONTAINS(LCASE(STR(?a)), {needle}) || CONTAINS(LCASE(STR(COALESCE(?name, ""))), {needle}))'
        )
    if reviewed_before is not None:
        date = sparql_term(XSD.date)
        filters.append(
            f"?a mg:lastReviewed ?fr . FILTER(datatype(?fr) = {date} && "
            f"?fr < {sparql_term(Literal(reviewed_before.isoformat(), datatype=XSD.date))})"
        )
    # the scan for the filters and the page reads only what the filters need; the columns are
    # read for the page's assets alone (every asset's joins cost ~80 µs each on the demo)
    reads = (" OPTIONAL { ?a mg:assessedLevel ?assessed }" if min_rank is not None else "") + (
        " OPTIONAL { ?a rdfs:label ?name }" if q else ""
    )
    effective = f"""OPTIONAL {{ GRAPH {INF} {{ ?a mg:effectiveLevel ?inferred }} }}
        BIND(COALESCE(?inferred, ?assessed) AS ?eff)"""
    scan = f"GRAPH {INV} {{ ?a a mg:DataAsset{reads} }}" + ("\n" + effective if min_rank is not None else "")
    scan += "\n" + " ".join(f"GRAPH {INV} {{ {f} }}" if not f.startswith(("VALUES", "FILTER")) else f for f in filters)
    total = store.rows(_P + f"SELECT (COUNT(DISTINCT ?a) AS ?n) WHERE {{ {scan} }}")
    page = [
        a
        for (a,) in store.rows(_P + f"SELECT DISTINCT ?a WHERE {{ {scan} }} ORDER BY ?a LIMIT {limit} OFFSET {offset}")
        if a
    ]
    rows = (
        store.rows(
            _P
            + f"""SELECT ?a (SAMPLE(?name) AS ?n) (SAMPLE(?assessed) AS ?as) (SAMPLE(?eff) AS ?ef)
            (SAMPLE(?cat) AS ?c) (SAMPLE(?dev) AS ?d) (MAX(STR(?rev)) AS ?r) WHERE {{
            GRAPH {INV} {{ VALUES ?a {{ {" ".join(sparql_term(URIRef(a)) for a in page)} }}
                ?a a mg:DataAsset OPTIONAL {{ ?a rdfs:label ?name }} OPTIONAL {{ ?a mg:assessedLevel ?assessed }}
                OPTIONAL {{ ?a mg:hasCategory ?cat }} OPTIONAL {{ ?a mg:producedBy ?dev }}
                OPTIONAL {{ ?a mg:lastReviewed ?rev }} }}
            {effective}
            }} GROUP BY ?a ORDER BY ?a"""
        )
        if page
        else []
    )
    items = [
        {
            "asset": a,
            "id": ids.local_id(a or "") or a,
            "name": name,
            "category": _category_of(onto, cat),
            "assessed": _level_of(onto, assessed),
            "effective": _level_of(onto, eff),
            "equipment": dev,
            "last_reviewed": reviewed or None,
        }
        for a, name, assessed, eff, cat, dev, reviewed in rows
        if a
    ]
    return {"total": int(total[0][0] or 0) if total else 0, "limit": limit, "offset": offset, "items": items}


def asset_detail(store: Store, onto: Ontology, ids: Ids, ref: str) -> dict[str, Any]:
    """One asset: category (with its path), levels, equipment, elements, owner."""
    iri = ids.resolve_asset(ref)
    props = _properties(store, Graphs.INVENTORY, iri)
    resolve(store, ids, ref, props)
    a = sparql_term(iri)
    inferred = _properties(store, Graphs.INFERRED, iri)

    def first(p: URIRef) -> str | None:
        return _first(props, p)

    cat = onto.categories.get(first(MG.hasCategory) or "")
    device = first(MG.producedBy)
    elements = []
    for e, name, ecat, lv in store.rows(
        _P
        + f"""SELECT ?e (SAMPLE(?n) AS ?name) (SAMPLE(?c) AS ?cat) (SAMPLE(?l) AS ?level) WHERE {{ GRAPH {INV} {{
        {a} mg:hasElement ?e OPTIONAL {{ ?e rdfs:label ?n }} OPTIONAL {{ ?e mg:hasCategory ?c }}
        OPTIONAL {{ ?e mg:assessedLevel ?l }} }} }} GROUP BY ?e ORDER BY ?e"""
    ):
        if e:
            elements.append(
                {"iri": e, "name": name, "category": _category_of(onto, ecat), "assessed": _level_of(onto, lv)}
            )
    kind = onto.equipment_types.get(first(MG.producedByType) or "")
    return {
        "asset": str(iri),
        "id": ids.local_id(str(iri)) or str(iri),
        "name": first(RDFS.label),
        "category": cat.ref() if cat else _category_of(onto, first(MG.hasCategory)),
        "category_path": [c.ref() for c in onto.category_path(cat)] if cat else [],
        "assessed": _level_of(onto, first(MG.assessedLevel)),
        "minimum": _level_of(onto, _first(inferred, MG.minimumLevel)),
        "inherited": _level_of(onto, _first(inferred, MG.inheritedLevel)),
        "effective": _level_of(onto, _first(inferred, MG.effectiveLevel) or first(MG.assessedLevel)),
        "equipment": {"iri": device, "id": ids.local_id(device, "device")} if device else None,
        "equipment_type": kind.ref() if kind else None,
        "personal": sorted(props.get(str(MG.hasPersonalInformation), [])),
        "subject_count": int(n) if (n := first(MG.subjectCount)) and n.isdigit() else None,
        "owner": first(MG.responsibleDepartment),
        "derived_from": sorted(props.get(str(PROV.wasDerivedFrom), [])),
        "elements": elements,
    }
