"""May this asset go to that destination, and what is missing? (``check-transfer``,
``POST /api/transfers/check``)

The answer comes from the shapes themselves, not from a second copy of the rules, and it fails
closed (issue #15: a level is never silently too low):

* R12: a hypothetical transfer (asset → destination, with the measures the provider declares)
  is added to a small in-memory view holding the ontology, the asset, the destination and the
  records about the asset, and the validator runs the shapes that target transfers on it
  (clearance, data that may not leave, required measures, the risk assessment of important
  data).
* fix first: the validator runs on the store itself, restricted to the asset, its elements and
  the activities on the witness path of its level. A Violation of R1–R6 on the asset or an
  element (its assessed level is below what the rules require), an R8 Violation on a witness
  activity (a level reduction nobody approved), or an asset with no category or no effective
  level blocks the transfer until it is fixed: the level the check compares is then not one
  to rely on.

* leaving the country (issue #20): for a destination not recorded as domestic (``mg:crossBorder
  false``), :func:`kg.crossborder.decide` gives the mechanism, the prohibitions, the basis, the
  counts (people provided abroad this year by the transfer records, plus this asset's) and the
  evidence the mechanism and PIPL require, of which the check lists what the caller did not give
  (``evidence``: kind → reference) and the declared ``purpose`` may exempt. For a domestic
  destination ``mechanism`` is null and the other keys are empty.

``allowed`` is true only when none of these finds anything. An error while checking propagates
(the caller answers with an error, never "allowed"). Nothing is written.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox
from rdflib import Literal, URIRef

from kg.answers import asset_facts, resolve
from kg.crossborder import decide, facts_of, missing_evidence
from kg.errors import MedgradeError, NotFoundError
from kg.ids import Ids, check_id
from kg.namespaces import MG, PROV, RDF
from kg.store import Graphs, sparql_term
from kg.validation import Result, Validator

if TYPE_CHECKING:
    from kg.service import Service

_SCRATCH = ox.NamedNode("https://w3id.org/medgrade/graph/what-if")
GRADING_RULES = frozenset({"R1", "R2", "R3", "R4", "R5", "R6"})  # on the asset and its elements
LINEAGE_RULES = frozenset({"R8"})  # on the activities of the witness path
FIX_FIRST_KEYS = ("rule", "severity", "focus", "focus_id", "message_zh", "message_en")


def destination_iri(svc: Service, ref: str) -> URIRef:
    """A destination of the inventory by id or IRI; NotFoundError when there is none."""
    text = ref.strip()
    iri = URIRef(text) if text.startswith(("http://", "https://", "urn:")) else svc.ids.destination(check_id(text))
    if not svc.store.ask(
        f"ASK {{ GRAPH {sparql_term(Graphs.INVENTORY)} {{ {sparql_term(iri)} a <{MG}Destination> }} }}"
    ):
        raise NotFoundError(f"no destination '{ref}' in the inventory", f"清单中没有去向“{ref}”")
    return iri


def _validator(svc: Service) -> Validator:
    """A validator of this check's own over the service's shapes: a run keeps the store it reads
    on the validator (``Validator.view``), so the shared one could read another request's what-if
    view midway through this check's run on the store, find no targets there and report nothing."""
    shared = svc.validator()
    unchecked = sorted((GRADING_RULES | LINEAGE_RULES | {"R12"}) - set(shared.rule_of.values()))
    if unchecked:  # fail closed: a rule without shapes would pass everything
        raise MedgradeError(
            f"cannot check transfers: no shapes for {', '.join(unchecked)} are loaded",
            f"无法进行出院检查：未载入 {'、'.join(unchecked)} 的规则",
        )
    return Validator(shared.store, shared.shapes, shared.ids)


def check_transfer(
    svc: Service,
    asset_ref: str,
    destination_ref: str,
    measures: Iterable[str] = (),
    purpose: str | None = None,
    evidence: Iterable[str] | Mapping[str, str] = (),
) -> dict[str, Any]:
    from kg.transfer_records import parse_evidence, purpose_iri

    onto = svc.ontology
    declared_purpose = purpose_iri(onto, purpose)
    given = parse_evidence(onto, evidence)
    asset = resolve(svc.store, svc.ids, asset_ref)
    dest = destination_iri(svc, destination_ref)
    declared = [onto.measures.find(m) for m in measures]
    validator = _validator(svc)
    view = ox.Store()
    view.load(onto.graph.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES, to_graph=_SCRATCH)
    a, d = sparql_term(asset), sparql_term(dest)
    facts = svc.store.construct(
        f"""CONSTRUCT {{ ?s ?p ?o }} WHERE {{
        {{ GRAPH ?g {{ VALUES ?s {{ {a} {d} }} ?s ?p ?o }} }}
        UNION {{ GRAPH ?g {{ ?s <{MG}concerns> {a} ; ?p ?o }} }} }}"""
    )
    view.load(facts.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES, to_graph=_SCRATCH)
    t = ox.NamedNode(f"{svc.ids.base}transfer-check/{uuid.uuid4().hex}")
    quads = [
        ox.Quad(t, ox.NamedNode(str(RDF.type)), ox.NamedNode(f"{MG}Transfer"), _SCRATCH),
        ox.Quad(t, ox.NamedNode(f"{MG}transfersAsset"), ox.NamedNode(str(asset)), _SCRATCH),
        ox.Quad(t, ox.NamedNode(f"{MG}toDestination"), ox.NamedNode(str(dest)), _SCRATCH),
    ]
    quads += [ox.Quad(t, ox.NamedNode(f"{MG}declaresMeasure"), ox.NamedNode(m.iri), _SCRATCH) for m in declared]
    view.extend(quads)
    results = validator.run({URIRef(t.value)}, view=view)
    level = svc.level(str(asset))
    fix = fix_first(svc, validator, asset, level)
    missing = sorted(
        {r.value for r in results if r.value and r.value in onto.measures},
        key=lambda iri: onto.measures.by_iri[iri].notation or iri,
    )
    clearance = facts.value(dest, URIRef(f"{MG}clearedUpTo"))
    cleared = onto.levels.get(str(clearance)) if clearance is not None else None
    flag = facts.value(dest, URIRef(f"{MG}crossBorder"))
    # fail closed: only a recorded boolean false makes a destination domestic
    domestic = isinstance(flag, Literal) and flag.toPython() is False
    border = (
        _domestic()
        if domestic
        else cross_border(svc, asset, level, flag_recorded=flag is not None, purpose=declared_purpose, evidence=given)
    )
    return {
        "asset": str(asset),
        "destination": str(dest),
        "allowed": not any(r.severity == "Violation" for r in results)
        and not fix
        and not border["prohibitions"]
        and not border["missing_evidence"],
        "effective": level["effective"],
        "clearance": cleared.ref() if cleared else None,
        "declared_measures": [m.ref() for m in declared],
        "missing_measures": [onto.measures.by_iri[m].ref() for m in missing],
        "problems": [{k: v for k, v in r.to_dict().items() if k not in ("focus", "focus_id")} for r in results],
        "fix_first": fix,
        **border,
    }


def _domestic() -> dict[str, Any]:
    return {"mechanism": None, "prohibitions": [], "basis": [], "counts": {}, "missing_evidence": []}


def asset_personal_information(svc: Service, asset: URIRef) -> tuple[set[str], set[str], int | None]:
    """The personal-information concepts ``asset`` carries (stated on it or its elements, denoted
    by an element's name, carried in from its sources by propagation (``mg:inheritedPersonalInformation``),
    or always carried by its or an element's business category, and what its categories count as
    next to personal information), its business categories with their
    broader ones, and its subject count: its own ``mg:subjectCount``, else, for a derived product,
    the highest of its direct sources' (None when it or a source has none: unknown)."""
    onto = svc.ontology
    af = asset_facts(svc.store, onto, asset)
    personal = set(af.personal)
    categories = [
        c for c in (onto.categories.get(x or "") for x in [af.category, *(e.category for e in af.elements)]) if c
    ]
    carried = (str(MG.inheritedPersonalInformation), str(MG.personalInformationByName))
    for node in [str(asset), *(e.iri for e in af.elements)]:  # what propagation carried in from sources
        personal |= {o for p, o in svc.store.about(node, Graphs.INFERRED) if p in carried}
    for e in af.elements:
        personal |= set(e.personal) | {m.personal.iri for m in onto.personal_information_named(e.name)}
    personal |= {c.personal_kind for c in categories if c.personal_kind}
    if personal:
        personal |= {c.linked_personal_kind for c in categories if c.linked_personal_kind}
    broader = {x.iri for c in categories for x in onto.category_path(c)}
    count = af.subject_count
    if count is None:
        sources = [URIRef(o) for p, o in svc.store.about(str(asset), Graphs.INVENTORY) if p == str(PROV.wasDerivedFrom)]
        counts = [asset_facts(svc.store, onto, s).subject_count for s in sources]
        count = max(counts) if counts and all(n is not None for n in counts) else None  # type: ignore[type-var]
    return personal, broader, count


def important_identification(svc: Service, asset: URIRef) -> bool | None:
    """Whether the authorities identified ``asset`` as important data (None: not recorded)."""
    value = next(
        (o for p, o in svc.store.about(str(asset), Graphs.INVENTORY) if p == str(MG.importantDataIdentified)), None
    )
    return None if value is None else value in ("true", "1")


UNRECORDED_FLAG: dict[str, Any] = {
    "rule": None,
    "iri": None,
    "label_zh": "去向未记录是否在境外",
    "label_en": "the destination does not say whether it is abroad",
    "mechanism": None,
    "status": "default",
    "sources": [],
    "text_zh": "去向没有“境外”（mg:crossBorder）记录，按境外处理（失败即关闭）；请在去向表填写 境外 是/否。",
    "text_en": "The destination has no 境外 (mg:crossBorder) flag, so it is taken to be abroad (fail closed); "
    "fill in the destinations sheet's column 境外 / cross_border.",
}


def cross_border(
    svc: Service,
    asset: URIRef,
    level: dict[str, Any],
    flag_recorded: bool = True,
    purpose: str | None = None,
    evidence: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The leaving-the-country keys of the check for ``asset`` (``level``: its level answer) as if
    provided today: mechanism, prohibitions, basis, counts (this year's transfer records before
    it) and the evidence still missing from ``evidence`` (kind IRI → reference). ``purpose``: the
    declared purpose (IRI). ``flag_recorded`` false: the destination does not say whether it is
    abroad (境外) and is taken to be."""
    from kg.transfer_records import handler_is_ciio, year_before

    onto = svc.ontology
    personal, categories, count = asset_personal_information(svc, asset)
    effective = level["effective"]["iri"] if level.get("effective") else None
    facts = facts_of(
        onto,
        effective,
        personal,
        categories,
        count,
        ciio=handler_is_ciio(svc),
        year_before=year_before(svc, svc.today()),
        purpose=purpose,
        important_identified=important_identification(svc, asset),
    )
    decision = decide(onto, facts)
    answer = decision.to_dict()
    basis = answer["basis"]
    if not flag_recorded:
        basis = [*basis, UNRECORDED_FLAG]
    return {
        "mechanism": answer["mechanism"],
        "prohibitions": answer["prohibitions"],
        "basis": basis,
        "counts": answer["counts"],
        "missing_evidence": missing_evidence(decision.evidence, (evidence or {}).keys()),
    }


def fix_first(svc: Service, validator: Validator, asset: URIRef, level: dict[str, Any]) -> list[dict[str, str]]:
    """What must be fixed before ``asset`` may leave: the Violations of R1–R6 on it and its
    elements and of R8 on the activities of its witness path (``level``: its level answer),
    found by a validation run now, and a missing category or effective level. Ordered by rule,
    focus and message."""
    facts = svc.store.about(str(asset), Graphs.INVENTORY)
    elements = {URIRef(o) for p, o in facts if p == str(MG.hasElement)}
    activities = {URIRef(h["activity"]) for h in level["witness"] if h.get("activity")}
    results = validator.run({asset} | elements | activities)
    items: list[dict[str, str]] = []
    covered: set[str] = set()  # paths of the shapes' R1 results that an entry below already says
    # R1 reports a missing category as a Warning (待分类, SPEC R1), which the loop below skips:
    # this item is what keeps an unclassified asset in, whatever level it inherits.
    if not any(p == str(MG.hasCategory) for p, _ in facts):
        covered.add(str(MG.hasCategory))
        items.append(
            _item(
                "R1",
                asset,
                validator,
                "R1：数据资产尚无业务分类（待分类）；请先确定其分类",
                "R1: the data asset has no business category (unclassified); classify it first",
            )
        )
    if level["effective"] is None:
        covered.add(str(MG.assessedLevel))
        items.append(
            _item(
                "R7",
                asset,
                validator,
                "R7：数据资产没有生效级别（无评估级别、规则最低级别或继承级别）；请先定级",
                "R7: the data asset has no effective level (no assessed level, rules' minimum or inherited level); "
                "grade it first",
            )
        )
    on_asset = {asset} | elements
    for r in results:
        if r.severity != "Violation":
            continue
        focus = URIRef(r.focus)
        if r.rule in GRADING_RULES and focus in on_asset:
            if r.rule == "R1" and focus == asset and r.path in covered:
                continue
        elif not (r.rule in LINEAGE_RULES and focus in activities):
            continue
        items.append(_as_item(r))
    unique = {tuple(i[k] for k in FIX_FIRST_KEYS): i for i in items}
    return sorted(unique.values(), key=_order)


def _item(rule: str, focus: URIRef, validator: Validator, zh: str, en: str) -> dict[str, str]:
    return {
        "rule": rule,
        "severity": "Violation",
        "focus": str(focus),
        "focus_id": validator.focus_id(str(focus)),
        "message_zh": zh,
        "message_en": en,
    }


def _as_item(r: Result) -> dict[str, str]:
    return {k: str(getattr(r, k)) for k in FIX_FIRST_KEYS}


def _order(item: dict[str, str]) -> tuple[int, str, str, str, str]:
    number = item["rule"][1:]
    return (
        int(number) if number.isdigit() else 99,
        item["rule"],
        item["focus_id"],
        item["message_en"],
        item["message_zh"],
    )


def asset_of(ids: Ids, checked: str, focus: str) -> str | None:
    """The asset (id, or IRI when not minted here) whose page shows a fix-first item's
    ``focus``: the ``checked`` asset for itself and its elements; for an activity minted under
    an asset (``asset/ID/activity``), the asset that activity made; else None."""
    if focus == checked or focus.startswith(checked + "/"):
        return ids.local_id(checked) or checked
    return ids.owner(focus)
