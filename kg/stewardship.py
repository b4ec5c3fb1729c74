"""A steward's writes, one asset at a time (the API's PUT assessment and POST derivations):
each is one transaction with its governance record (who, when, why), then re-validated
incrementally and propagated incrementally. Bulk changes go through imports instead."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rdflib import Literal, URIRef
from rdflib.namespace import RDF, XSD

from kg.answers import resolve
from kg.errors import ConflictError, InputError
from kg.importers.inventory import parse_date
from kg.namespaces import MG, SPARQL_PREFIXES
from kg.propagation import derivations_of
from kg.provenance import approval_triples, derivation_triples
from kg.store import Changeset, Graphs, sparql_term
from kg.store.base import Quad, Triple

if TYPE_CHECKING:
    from kg.propagation import PropagationReport
    from kg.service import Service

_P = SPARQL_PREFIXES
INV = sparql_term(Graphs.INVENTORY)


def _now() -> Literal:
    now = dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")  # microseconds: writes stay ordered
    return Literal(now, datatype=XSD.dateTime)


def _why(justification: str) -> str:
    text = (justification or "").strip()
    if not text:
        raise InputError("a justification is required (R13: who, when and why)", "须说明理由（R13：何人、何时、为何）")
    if len(text) > 4000:
        raise InputError("the justification is longer than 4,000 characters", "理由超过 4000 个字符")
    return text


def governance_record(
    svc: Service, kind: URIRef, actor: str, why: str, concerns: URIRef | None = None
) -> tuple[URIRef, list[Quad]]:
    """A governance record (who, when, why, about what) as audit-graph quads."""
    rec = svc.ids.record()
    quads: list[Quad] = [
        (rec, RDF.type, kind, Graphs.AUDIT),
        (rec, MG.actor, Literal(actor), Graphs.AUDIT),
        (rec, MG.performedAt, _now(), Graphs.AUDIT),
        (rec, MG.justification, Literal(why), Graphs.AUDIT),
    ]
    if concerns is not None:
        quads.append((rec, MG.concerns, concerns, Graphs.AUDIT))
    return rec, quads


def _existing(svc: Service, subject: URIRef, predicate: URIRef) -> list[Triple]:
    rows = svc.store.select(
        f"SELECT ?o WHERE {{ GRAPH {INV} {{ {sparql_term(subject)} {sparql_term(predicate)} ?o }} }}"
    )
    return [(subject, predicate, r["o"]) for r in rows if "o" in r]


def reviewed_on(svc: Service, asset: URIRef, day: dt.date) -> tuple[list[Triple], list[Triple]]:
    """The removals and triples that set ``asset``'s last-reviewed date (R15) to ``day``: a
    periodic review and an assessment both count as a review of the asset."""
    return _existing(svc, asset, MG.lastReviewed), [
        (asset, MG.lastReviewed, Literal(day.isoformat(), datatype=XSD.date))
    ]


def assess(
    svc: Service,
    ref: str,
    *,
    actor: str,
    justification: str,
    category: str | None = None,
    level: str | None = None,
    impacts: Mapping[str, str] | None = None,
    suggestion: str | None = None,
    elements_considered: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Set an asset's category, assessed level, impacts and/or the grading elements considered
    (GB/T 43697 §6.3; when given they replace the asset's), with an assessment record that
    carries the same. A level below the rules' minimum is stored and reported by validation (the
    steward's record is evidence), but never lowers the effective level, which takes the rules'
    minimum (R7, R11). An assessment is a review of its asset: it sets the last-reviewed date
    to today (R15).

    ``suggestion``: accept the classification assistant's suggestion for this element (a name,
    tag, field or path): its category and minimum level fill what is not given, and the record
    says which suggestion was accepted (the assistant never assesses by itself)."""
    if suggestion is not None:
        s = svc.classifier.classify(suggestion)
        if s.category is None:
            raise InputError(
                f"the classification assistant has no suggestion for '{suggestion}'",
                f"分类建议功能对“{suggestion}”没有建议",
            )
        category = category or s.category.iri
        level = level or s.min_level.iri
        justification = (
            f"{justification}（采纳分类建议 / accepted the classification suggestion for '{suggestion}': "
            f"{s.category.label_zh} / {s.category.label_en}, ≥ {s.min_level.label_en}, "
            f"confidence {s.confidence:.2f}）"
        )
    onto, why = svc.ontology, _why(justification)
    a = resolve(svc.store, svc.ids, ref)
    cat = onto.categories.find(category) if category else None
    lv = onto.level(level) if level else None
    pairs = [(onto.impact_objects.find(o), onto.impact_degrees.find(d)) for o, d in (impacts or {}).items()]
    considered = (
        list({g.iri: g for g in (onto.grading_elements.find(x) for x in elements_considered)}.values())
        if elements_considered is not None
        else None
    )
    if cat is None and lv is None and impacts is None and considered is None:
        raise InputError(
            "give a category, a level, impacts or the grading elements considered to assess",
            "请至少给出分类、级别、影响评估或所考虑的定级要素之一",
        )
    svc.lineage_state()  # as before the change
    removals: list[Triple] = []
    triples: list[Triple] = []
    rec, quads = governance_record(svc, MG.Assessment, actor, why, a)
    if cat is not None:
        removals += _existing(svc, a, MG.hasCategory)
        triples.append((a, MG.hasCategory, URIRef(cat.iri)))
        quads.append((rec, MG.assignedCategory, URIRef(cat.iri), Graphs.AUDIT))
    if lv is not None:
        removals += _existing(svc, a, MG.assessedLevel)
        triples.append((a, MG.assessedLevel, URIRef(lv.iri)))
        quads.append((rec, MG.assignedLevel, URIRef(lv.iri), Graphs.AUDIT))
    if considered is not None:
        removals += _existing(svc, a, MG.elementConsidered)
        triples += [(a, MG.elementConsidered, URIRef(g.iri)) for g in considered]
        quads += [(rec, MG.elementConsidered, URIRef(g.iri), Graphs.AUDIT) for g in considered]
    stale, stamp = reviewed_on(svc, a, svc.today())  # an assessment is a review of its asset
    removals += stale
    triples += stamp
    if impacts is not None:
        for _, _, node in _existing(svc, a, MG.hasImpact):
            removals.append((a, MG.hasImpact, node))
            statement = URIRef(str(node))
            removals += [
                (statement, p, o)
                for p in (RDF.type, MG.impactObject, MG.impactDegree)
                for _, _, o in _existing(svc, statement, p)
            ]
        for obj, deg in pairs:
            node = URIRef(f"{a}/impact/{obj.local_name}")
            triples += [
                (a, MG.hasImpact, node),
                (node, RDF.type, MG.ImpactStatement),
                (node, MG.impactObject, URIRef(obj.iri)),
                (node, MG.impactDegree, URIRef(deg.iri)),
            ]

    def levels() -> PropagationReport:  # after the write: the rules' minimum reads the new category and impacts
        return svc.lineage_change(
            set_levels={str(a): lv.rank} if lv is not None else {}, minimums={str(a): svc.minimum_rank(a)}
        )

    pending = svc.submit(
        Changeset(Graphs.INVENTORY, triples=triples, removals=removals, extra=quads), {a}, False, levels
    )
    answer = svc.level(str(a))  # as this write left it, before the writes grouped with it
    return {"record": str(rec), "level": answer, "validation": pending.report().to_dict()}


def add_derivation(
    svc: Service,
    source_ref: str,
    target_ref: str,
    *,
    actor: str,
    justification: str,
    activity: str | None = None,
    approval: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """``target`` derived from ``source`` (through a transformation, optionally with the
    approval of a level reduction). 409 when it would close a derivation cycle (R10) or when
    the target's existing activity is of another type."""
    onto, why = svc.ontology, _why(justification)
    s = resolve(svc.store, svc.ids, source_ref)
    t = resolve(svc.store, svc.ids, target_ref)
    if s == t or svc.store.ask(
        _P + f"ASK {{ GRAPH {INV} {{ {sparql_term(s)} prov:wasDerivedFrom* {sparql_term(t)} }} }}"
    ):
        raise ConflictError(
            f"{target_ref} is already upstream of {source_ref}: this derivation would close a cycle (R10)",
            f"{target_ref} 已是 {source_ref} 的上游：该衍生关系会形成环路（R10）",
        )
    kind = onto.transformations.find(activity) if activity else None
    if approval and (kind is None or not kind.level_reducing):
        raise InputError(
            "an approval needs a level-reducing transformation (activity)", "审批需对应降级加工方式（activity）"
        )
    if approval and not (approval.get("approved_by") or "").strip():
        raise InputError("an approval needs who approved it (approved_by)", "审批须填写审批人（approved_by）")
    svc.lineage_state()  # as before the change
    target_id = svc.ids.local_id(str(t))
    if kind is not None and target_id is None:
        raise InputError(
            "a transformation can be recorded only for assets with an id", "仅能为有标识的资产记录加工方式"
        )
    rec, quads = governance_record(svc, MG.ChangeRecord, actor, why, t)
    act = None
    if kind is not None and target_id is not None:
        act = svc.ids.activity(target_id)
        existing = [o for _, _, o in _existing(svc, act, MG.transformationType)]
        if existing and str(existing[0]) != kind.iri:
            raise ConflictError(
                f"{target_ref} is already made by another transformation ({existing[0]}); one activity per asset",
                f"{target_ref} 已由另一加工方式生成（{existing[0]}）；每项资产只有一项加工活动",
            )
    triples = derivation_triples(t, [s], act, kind.iri if kind is not None and act is not None else None)
    if approval and act is not None and target_id is not None:
        when = parse_date(approval["approved_on"]) if approval.get("approved_on") else dt.datetime.now(dt.UTC)
        if when is None:
            raise InputError(
                f"approved_on '{approval['approved_on']}' is not a date (YYYY-MM-DD)",
                f"审批日期“{approval['approved_on']}”不是日期（YYYY-MM-DD）",
            )
        triples += approval_triples(
            act, svc.ids.approval(target_id), approval["approved_by"], when, approval.get("approval_note")
        )

    def levels() -> PropagationReport:  # after the write: the target's derivations as a full run reads them
        found = derivations_of(svc.store, onto, [str(t)])
        return svc.lineage_change(add=found, remove=[(d.source, d.target) for d in found])

    pending = svc.submit(Changeset(Graphs.INVENTORY, triples=triples, extra=quads), {s, t}, True, levels)
    level = svc.level(str(t))  # as this write left it, before the writes grouped with it
    return {"record": str(rec), "level": level, "validation": pending.report().to_dict()}


def review(
    svc: Service, refs: Sequence[str], *, actor: str, justification: str, day: dt.date | None = None
) -> dict[str, Any]:
    """Record the periodic review (R15) of the assets ``refs``: for each, a review record (who,
    when, why, which asset) and its last-reviewed date set to ``day`` (default: today by the
    clock), all in one transaction; an unknown asset refuses the whole request. A review changes
    no level; the assets are re-validated incrementally, so their R15 results go."""
    why = _why(justification)
    if not refs:
        raise InputError("name at least one asset to review", "请至少指定一项要复核的资产")
    assets = list(dict.fromkeys(resolve(svc.store, svc.ids, r) for r in refs))
    today = svc.today()
    when = day or today
    if when > today:
        raise InputError(
            f"a review cannot be dated after today ({today.isoformat()})",
            f"复核日期不能晚于今天（{today.isoformat()}）",
        )
    removals: list[Triple] = []
    triples: list[Triple] = []
    quads: list[Quad] = []
    records = []
    for a in assets:
        rec, q = governance_record(svc, MG.PeriodicReview, actor, why, a)
        gone, added = reviewed_on(svc, a, when)
        removals += gone
        triples += added
        quads += q
        records.append({"id": svc.ids.local_id(str(a)) or str(a), "asset": str(a), "record": str(rec)})
    svc.lineage_state()  # as before the change
    report = svc.change(  # no level changes; the empty propagation clears the pending-levels marker
        Changeset(Graphs.INVENTORY, triples=triples, removals=removals, extra=quads),
        set(assets),
        False,
        svc.lineage_change,
    )
    return {"reviewed_on": when.isoformat(), "reviewed": records, "validation": report.to_dict()}


def identify_important(
    svc: Service, ref: str, *, identified: bool, by: str, actor: str, justification: str
) -> dict[str, Any]:
    """Record whether the authorities have notified or published ``ref`` as important data
    (2024 cross-border provisions art. 2), with what the finding rests on (``by``: the notice,
    catalogue or authority), audited (R13). The cross-border decision reads it: identified, the
    data is important data whatever its level; not identified, it need not be declared as
    important data (XB-important-not-notified); unrecorded, the level decides. Transfer records
    keep their judgment until a record of their year is written."""
    why = _why(justification)
    basis = (by or "").strip()
    if not basis:
        raise InputError(
            "say what the finding rests on (--by: the notice, catalogue or authority)",
            "请说明识别结论的依据（--by：告知或发布的部门、文号或目录）",
        )
    if len(basis) > 1000:
        raise InputError("--by is longer than 1,000 characters", "识别依据超过 1000 个字符")
    asset = resolve(svc.store, svc.ids, ref)
    removals = _existing(svc, asset, MG.importantDataIdentified) + _existing(svc, asset, MG.importantDataIdentifiedBy)
    triples: list[Triple] = [
        (asset, MG.importantDataIdentified, Literal(identified, datatype=XSD.boolean)),
        (asset, MG.importantDataIdentifiedBy, Literal(basis)),
    ]
    rec, quads = governance_record(svc, MG.ChangeRecord, actor, why, asset)
    svc.lineage_state()  # as before the change
    report = svc.change(
        Changeset(Graphs.INVENTORY, triples=triples, removals=removals, extra=quads),
        {asset},
        False,
        svc.lineage_change,
    )
    return {
        "asset": str(asset),
        "id": svc.ids.local_id(str(asset)) or str(asset),
        "identified": identified,
        "by": basis,
        "record": str(rec),
        "validation": report.to_dict(),
    }
