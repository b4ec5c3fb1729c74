"""Transfer records (数据提供记录, issue #20): provisions that happened, as PROV activities, and
the cross-border mechanism each needed.

A record (``mg:TransferRecord``, at ``<base>transfer-record/ID``) says which asset went to which
destination on which day (Asia/Shanghai), how many people's personal information it carried
(N, of whom M with sensitive personal information), the purpose it declares and the evidence in
hand (kind and reference: approval number, filing number, consent record, ...). It is a record,
not a declared flow: the destinations sheet's 提供去向 (``mg:Transfer``, one per asset and
destination) stays what is *declared*.

For a destination abroad (any destination without a recorded ``mg:crossBorder false``, as in the
check), medgrade judges the record with :func:`kg.crossborder.decide`: the people provided abroad
since 1 January of the record's year (this record included) are the sum of the year's earlier
records of personal information, in the order (day, time recorded). Summing records gives a
conservative upper bound of people: one person may be in several records. The judgment is kept on
the record (``mg:judgedMechanism``, ``mg:judgedByRule``, ``mg:judgedDataKind``, ``mg:yearSubjects``,
``mg:yearSensitiveSubjects``), so it is the judgment under the rules in force when the record was
written; writing a record judges every record of its year again, so a back-dated record re-checks
the later ones. R16 (shapes/crossborder.ttl) reads the kept judgment and the record's evidence.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rdflib import Literal, URIRef
from rdflib.namespace import RDF, XSD

from kg.crossborder import Counts, Decision, decide, facts_of, missing_evidence, stored_decision
from kg.errors import InputError
from kg.namespaces import MG, PROV
from kg.ontology import Ontology, TermIndex
from kg.store import Changeset, Graphs, sparql_term
from kg.store.base import Triple

if TYPE_CHECKING:
    from kg.service import Service

INV = sparql_term(Graphs.INVENTORY)
MAX_REFERENCE = 500
MAX_SUBJECTS = 10**12
JUDGMENT = (MG.judgedMechanism, MG.judgedByRule, MG.judgedDataKind, MG.yearSubjects, MG.yearSensitiveSubjects)


@dataclass(frozen=True, slots=True)
class Stored:
    """A transfer record as the store holds it, with its kept judgment (None when domestic)."""

    iri: str
    asset: str
    destination: str
    day: dt.date
    recorded_at: str
    subjects: int
    sensitive: int
    purpose: str | None
    abroad: bool
    evidence: tuple[tuple[str, str], ...]  # (evidence kind IRI, reference)
    mechanism: str | None = None
    rules: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()  # IRIs of mg:CrossBorderDataKind
    year: Counts | None = None  # people provided abroad this year up to and including this record

    @property
    def order(self) -> tuple[dt.date, str, str]:
        return (self.day, self.recorded_at, self.iri)


@dataclass(frozen=True, slots=True)
class Judged:
    decision: Decision
    year: Counts  # with this record


def _int(text: str | None) -> int:
    return int(text) if text else 0


def stored_records(svc: Service, year: int | None = None, record: str | None = None) -> list[Stored]:
    """The transfer records (of ``year``, or the one ``record``), in the order they count: by day,
    then by the time they were recorded."""
    where = ""
    if year is not None:
        where = f'FILTER(STRSTARTS(STR(?day), "{int(year):04d}-"))'
    if record is not None:
        where += f" VALUES ?r {{ {sparql_term(URIRef(record))} }}"
    rows = svc.store.rows(
        f"""SELECT ?r ?asset ?dest ?day ?at ?n ?m ?purpose ?cb ?mech ?ys ?yss WHERE {{ GRAPH {INV} {{
        ?r a <{MG.TransferRecord}> ; <{MG.providedAsset}> ?asset ; <{MG.providedTo}> ?dest ;
           <{MG.providedOn}> ?day ; <{MG.recordedAt}> ?at ; <{MG.subjectsProvided}> ?n .
        OPTIONAL {{ ?r <{MG.sensitiveSubjectsProvided}> ?m }} OPTIONAL {{ ?r <{MG.declaredPurpose}> ?purpose }}
        OPTIONAL {{ ?dest <{MG.crossBorder}> ?cb }} OPTIONAL {{ ?r <{MG.judgedMechanism}> ?mech }}
        OPTIONAL {{ ?r <{MG.yearSubjects}> ?ys }} OPTIONAL {{ ?r <{MG.yearSensitiveSubjects}> ?yss }}
        {where} }} }}"""
    )
    if not rows:
        return []
    values = " ".join(sparql_term(URIRef(str(r[0]))) for r in rows)
    many: dict[str, dict[str, list[str]]] = {}
    for r, p, o in svc.store.rows(
        f"""SELECT ?r ?p ?o WHERE {{ GRAPH {INV} {{ VALUES ?r {{ {values} }}
        {{ ?r ?p ?o FILTER(?p IN (<{MG.judgedByRule}>, <{MG.judgedDataKind}>)) }}
        UNION {{ ?r <{MG.hasEvidence}> ?e . ?e <{MG.evidenceKind}> ?k ; <{MG.evidenceReference}> ?ref
                 BIND(?k AS ?p) BIND(?ref AS ?o) }} }} }}"""
    ):
        many.setdefault(str(r), {}).setdefault(str(p), []).append(str(o))
    rule_key, kind_key = str(MG.judgedByRule), str(MG.judgedDataKind)
    out = []
    for r, asset, dest, day, at, n, m, purpose, cb, mech, ys, yss in rows:
        extra = many.get(str(r), {})
        evidence = tuple(sorted((k, ref) for k, refs in extra.items() if k not in (rule_key, kind_key) for ref in refs))
        out.append(
            Stored(
                iri=str(r),
                asset=str(asset),
                destination=str(dest),
                day=dt.date.fromisoformat(str(day)),
                recorded_at=str(at),
                subjects=_int(n),
                sensitive=_int(m),
                purpose=purpose,
                abroad=cb not in ("false", "0"),  # fail closed: only a recorded false is domestic
                evidence=evidence,
                mechanism=mech,
                rules=tuple(sorted(extra.get(rule_key, []))),
                kinds=tuple(sorted(extra.get(kind_key, []))),
                year=Counts(_int(ys), _int(yss)) if ys is not None else None,
            )
        )
    return sorted(out, key=lambda s: s.order)


def handler_is_ciio(svc: Service) -> bool | None:
    from kg.institution import institution

    inst = institution(svc)
    return inst.ciio if inst is not None else None


def judge(svc: Service, records: Iterable[Stored]) -> dict[str, Judged]:
    """The cross-border judgment of each record abroad of one year (``records`` in order), with
    the people provided abroad counted from the year's earlier records of personal information."""
    onto = svc.ontology
    from kg.transfer import asset_personal_information, important_identification

    ciio = handler_is_ciio(svc)
    cache: dict[str, tuple[str | None, set[str], set[str], int | None, bool | None]] = {}
    running = Counts()
    out: dict[str, Judged] = {}
    for r in records:
        if not r.abroad:
            continue
        if r.asset not in cache:
            personal, categories, count = asset_personal_information(svc, URIRef(r.asset))
            effective = svc.level(r.asset)["effective"]
            identified = important_identification(svc, URIRef(r.asset))
            cache[r.asset] = (effective["iri"] if effective else None, personal, categories, count, identified)
        level, personal, categories, count, identified = cache[r.asset]
        facts = facts_of(
            onto,
            level,
            personal,
            categories,
            count,
            ciio=ciio,
            year_before=running,
            provided=Counts(r.subjects, r.sensitive),
            purpose=r.purpose,
            important_identified=identified,
        )
        decision = decide(onto, facts)
        if "personal" in decision.kinds:
            running = Counts(running.subjects + r.subjects, running.sensitive_subjects + r.sensitive)
        out[r.iri] = Judged(decision, running)
    return out


def _judgment_triples(onto: Ontology, record: URIRef, judged: Judged) -> list[Triple]:
    d = judged.decision
    kinds = {k.notation: k.iri for k in onto.cross_border.data_kinds}
    triples: list[Triple] = [
        (record, MG.judgedMechanism, URIRef(d.mechanism.iri)),
        (record, MG.yearSubjects, Literal(judged.year.subjects, datatype=XSD.nonNegativeInteger)),
        (record, MG.yearSensitiveSubjects, Literal(judged.year.sensitive_subjects, datatype=XSD.nonNegativeInteger)),
    ]
    triples += [(record, MG.judgedByRule, URIRef(r.iri)) for r in d.rules]
    triples += [(record, MG.judgedDataKind, URIRef(kinds[k])) for k in d.kinds if k in kinds]
    return triples


def _kept_triples(record: Stored) -> list[Triple]:
    node = URIRef(record.iri)
    if record.mechanism is None:
        return []
    triples: list[Triple] = [(node, MG.judgedMechanism, URIRef(record.mechanism))]
    if record.year is not None:
        triples += [
            (node, MG.yearSubjects, Literal(record.year.subjects, datatype=XSD.nonNegativeInteger)),
            (node, MG.yearSensitiveSubjects, Literal(record.year.sensitive_subjects, datatype=XSD.nonNegativeInteger)),
        ]
    triples += [(node, MG.judgedByRule, URIRef(r)) for r in record.rules]
    triples += [(node, MG.judgedDataKind, URIRef(k)) for k in record.kinds]
    return triples


def evidence_kinds(onto: Ontology) -> TermIndex[Any]:
    return TermIndex("evidence kind", "证明材料种类", onto.cross_border.evidence)


def purposes(onto: Ontology) -> TermIndex[Any]:
    return TermIndex("transfer purpose", "出境目的", onto.cross_border.purposes)


def parse_evidence(onto: Ontology, items: Iterable[str] | Mapping[str, str]) -> dict[str, str]:
    """``KIND=REFERENCE`` items (or a mapping kind → reference) as evidence kind IRI → reference;
    a kind is its notation, local name, IRI or label."""
    pairs: list[tuple[str, str]] = []
    if isinstance(items, Mapping):
        pairs = [(str(k), str(v)) for k, v in items.items()]
    else:
        for item in items:
            kind, sep, ref = item.partition("=")
            if not sep:
                raise InputError(
                    f"evidence '{item}' is not KIND=REFERENCE (e.g. standard_contract_filing=粤网信备-2026-001)",
                    f"证明材料“{item}”不是 种类=编号 的形式（如 standard_contract_filing=粤网信备-2026-001）",
                )
            pairs.append((kind, ref))
    index = evidence_kinds(onto)
    out: dict[str, str] = {}
    for kind, ref in pairs:
        term = index.find(kind.strip())
        text = ref.strip()
        if not text:
            raise InputError(f"evidence '{kind}' has no reference", f"证明材料“{kind}”缺少编号")
        if len(text) > MAX_REFERENCE:
            raise InputError(
                f"the reference of evidence '{kind}' is longer than {MAX_REFERENCE} characters",
                f"证明材料“{kind}”的编号超过 {MAX_REFERENCE} 个字符",
            )
        if term.iri in out:
            raise InputError(f"evidence of kind '{kind}' is given twice", f"证明材料种类“{kind}”重复")
        out[term.iri] = text
    return out


def purpose_iri(onto: Ontology, name: str | None) -> str | None:
    return purposes(onto).find(name.strip()).iri if name and name.strip() else None


def _count(value: int | None, what_en: str, what_zh: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > MAX_SUBJECTS:
        raise InputError(
            f"{what_en} must be a whole number from 0 to {MAX_SUBJECTS:,}", f"{what_zh}须为 0 至 {MAX_SUBJECTS} 的整数"
        )
    return value


def record_transfer(
    svc: Service,
    asset_ref: str,
    destination_ref: str,
    *,
    subjects: int,
    actor: str,
    sensitive: int | None = None,
    on: dt.date | None = None,
    purpose: str | None = None,
    evidence: Iterable[str] | Mapping[str, str] = (),
    justification: str = "",
    validate: bool = True,
) -> dict[str, Any]:
    """Record a provision that happened (see the module), audited (R13), and judge the records of
    its year again; then validate the records whose judgment changed (R16). Bad input changes
    nothing. ``sensitive`` defaults to all ``subjects`` when the asset carries sensitive personal
    information, else 0. ``validate`` false: no validation run now, for a loader that validates
    the whole store afterwards (the demo: ``Service.initialize``); the answer's ``validation`` is
    then null."""
    from kg.answers import resolve
    from kg.stewardship import governance_record
    from kg.transfer import asset_personal_information, destination_iri

    onto = svc.ontology
    asset = resolve(svc.store, svc.ids, asset_ref)
    dest = destination_iri(svc, destination_ref)
    n = _count(subjects, "--subjects", "提供人数")
    assert n is not None
    m = _count(sensitive, "--sensitive-subjects", "敏感个人信息人数")
    today = svc.today()
    day = on or today
    if day > today:
        raise InputError(
            f"a provision cannot be recorded after today ({today.isoformat()})",
            f"提供日期不能晚于今天（{today.isoformat()}）",
        )
    given = parse_evidence(onto, evidence)
    declared = purpose_iri(onto, purpose)
    personal, categories, count = asset_personal_information(svc, asset)
    if m is None:
        m = n if facts_of(onto, None, personal, categories, count).sensitive else 0
    if m > n:
        raise InputError(
            f"--sensitive-subjects ({m:,}) cannot exceed --subjects ({n:,})",
            f"敏感个人信息人数（{m}）不能多于提供人数（{n}）",
        )
    node = svc.ids.new_transfer_record()
    now = dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
    flag = next((o for p, o in svc.store.about(str(dest), Graphs.INVENTORY) if p == str(MG.crossBorder)), None)
    new = Stored(
        iri=str(node),
        asset=str(asset),
        destination=str(dest),
        day=day,
        recorded_at=now,
        subjects=n,
        sensitive=m,
        purpose=declared,
        abroad=flag not in ("false", "0"),  # fail closed, as the check
        evidence=tuple(sorted(given.items())),
    )
    if new.abroad and svc.level(str(asset))["effective"] is None:
        raise InputError(
            "the asset has no effective level: grade it before recording its provision abroad (R7)",
            "该资产没有生效级别：请先定级，再登记其出境提供（R7）",
        )
    year = stored_records(svc, day.year)
    judged = judge(svc, sorted([*year, new], key=lambda s: s.order))
    inst = URIRef(f"{svc.ids.base}institution")
    triples: list[Triple] = [
        (node, RDF.type, MG.TransferRecord),
        (node, RDF.type, PROV.Activity),
        (node, MG.providedAsset, asset),
        (node, MG.providedTo, dest),
        (node, MG.providedOn, Literal(day.isoformat(), datatype=XSD.date)),
        (node, MG.recordedAt, Literal(now, datatype=XSD.dateTime)),
        (node, MG.subjectsProvided, Literal(n, datatype=XSD.nonNegativeInteger)),
        (node, MG.sensitiveSubjectsProvided, Literal(m, datatype=XSD.nonNegativeInteger)),
    ]
    if handler_is_ciio(svc) is not None or svc.store.about(str(inst), Graphs.INVENTORY):
        triples.append((node, MG.providedBy, inst))
    if declared:
        triples.append((node, MG.declaredPurpose, URIRef(declared)))
    triples += evidence_triples(node, given)
    removals: list[Triple] = []
    changed = {node}
    if new.iri in judged:
        triples += _judgment_triples(onto, node, judged[new.iri])
    for r in year:  # the year's records judged again: a back-dated record re-checks the later ones
        before = set(_kept_triples(r))
        after = set(_judgment_triples(onto, URIRef(r.iri), judged[r.iri])) if r.iri in judged else set()
        if before != after:
            removals += sorted(before - after)
            triples += sorted(after - before)
            changed.add(URIRef(r.iri))
    why = justification.strip() or (
        f"登记数据提供 / transfer recorded: {svc.ids.local_id(str(asset)) or asset} → "
        f"{svc.ids.local_id(str(dest), 'destination') or dest} ({day.isoformat()})"
    )
    rec, audit = governance_record(svc, MG.ChangeRecord, actor, why, asset)
    audit += [(rec, MG.concerns, c, Graphs.AUDIT) for c in sorted(changed)]
    changes = Changeset(Graphs.INVENTORY, triples=triples, removals=removals, extra=audit)
    svc.lineage_state()  # as before the change
    pending = svc.submit(changes, changed, False, svc.lineage_change) if validate else None
    if pending is None:
        svc.write_unvalidated(changes)
    stored = {s.iri: s for s in stored_records(svc, day.year)}  # as this write left them
    answer = record_answer(svc, stored[str(node)])
    answer["rechecked"] = [record_answer(svc, stored[str(c)]) for c in sorted(changed - {node})]
    answer["validation"] = pending.report().to_dict() if pending is not None else None
    return answer


def evidence_triples(record: URIRef, given: Mapping[str, str]) -> list[Triple]:
    """The evidence items of ``record`` (kind IRI → reference), one per kind at
    ``<record>/evidence/<kind>`` (a kind given again replaces the item)."""
    triples: list[Triple] = []
    for kind, ref in given.items():
        item = URIRef(f"{record}/evidence/{kind.rsplit('#', 1)[-1]}")
        triples += [
            (record, MG.hasEvidence, item),
            (item, RDF.type, MG.EvidenceItem),
            (item, MG.evidenceKind, URIRef(kind)),
            (item, MG.evidenceReference, Literal(ref)),
        ]
    return triples


def record_iri(svc: Service, ref: str) -> URIRef:
    """A transfer record by id or IRI; NotFoundError when there is none."""
    from kg.errors import NotFoundError
    from kg.ids import check_id

    text = ref.strip()
    iri = (
        URIRef(text) if text.startswith(("http://", "https://", "urn:")) else svc.ids.transfer_record_of(check_id(text))
    )
    if not svc.store.ask(f"ASK {{ GRAPH {INV} {{ {sparql_term(iri)} a <{MG.TransferRecord}> }} }}"):
        raise NotFoundError(f"no transfer record '{ref}'", f"没有提供记录“{ref}”")
    return iri


def add_evidence(
    svc: Service, ref: str, evidence: Iterable[str] | Mapping[str, str], *, actor: str, justification: str = ""
) -> dict[str, Any]:
    """Attach evidence that came later (a standard-contract filing number, a consent record) to a
    transfer record, audited (R13); a kind the record already has is replaced. The judgment does
    not change (evidence does not change the counts); R16 is validated again for the record."""
    from kg.stewardship import governance_record

    node = record_iri(svc, ref)
    given = parse_evidence(svc.ontology, evidence)
    if not given:
        raise InputError("give at least one piece of evidence (KIND=REFERENCE)", "请至少给出一项证明材料（种类=编号）")
    triples = evidence_triples(node, given)
    items = {URIRef(str(o)) for _, p, o in triples if p == MG.hasEvidence}
    why = justification.strip() or "补充出境证明材料 / evidence added to a transfer record"
    (before,) = stored_records(svc, record=str(node))
    rec, audit = governance_record(svc, MG.ChangeRecord, actor, why, URIRef(before.asset))
    audit.append((rec, MG.concerns, node, Graphs.AUDIT))
    svc.lineage_state()
    pending = svc.submit(
        Changeset(Graphs.INVENTORY, subjects=items, triples=triples, extra=audit), {node}, False, svc.lineage_change
    )
    (stored,) = stored_records(svc, record=str(node))  # as this write left it
    return {**record_answer(svc, stored), "validation": pending.report().to_dict()}


def _term(onto: Ontology, iri: str | None) -> dict[str, Any] | None:
    if iri is None:
        return None
    for terms in (onto.cross_border.purposes, onto.cross_border.evidence, onto.cross_border.data_kinds):
        for t in terms:
            if t.iri == iri:
                return {"iri": t.iri, "notation": t.notation, "label_zh": t.label_zh, "label_en": t.label_en}
    return {"iri": iri, "notation": None, "label_zh": iri, "label_en": iri}


def record_answer(svc: Service, r: Stored) -> dict[str, Any]:
    """One record as the API and CLI show it: what was provided, and for a destination abroad
    the kept judgment with its basis, the evidence still missing and whether R16 holds."""
    onto = svc.ontology
    ids = svc.ids
    answer: dict[str, Any] = {
        "id": ids.local_id(r.iri, "transfer-record") or r.iri,
        "record": r.iri,
        "asset": r.asset,
        "asset_id": ids.local_id(r.asset) or r.asset,
        "destination": r.destination,
        "destination_id": ids.local_id(r.destination, "destination") or r.destination,
        "provided_on": r.day.isoformat(),
        "recorded_at": r.recorded_at,
        "subjects": r.subjects,
        "sensitive_subjects": r.sensitive,
        "purpose": _term(onto, r.purpose),
        "evidence": [{**(_term(onto, k) or {}), "reference": ref} for k, ref in r.evidence],
        "abroad": r.abroad,
        "mechanism": None,
        "data_kinds": [],
        "prohibitions": [],
        "basis": [],
        "counts": {},
        "missing_evidence": [],
        "compliant": True,
    }
    if not r.abroad or r.mechanism is None:
        return answer
    kinds = [t["notation"] for t in (_term(onto, k) for k in r.kinds) if t and t["notation"]]
    year = r.year or Counts()
    personal = "personal" in kinds
    before = Counts(year.subjects - r.subjects, year.sensitive_subjects - r.sensitive) if personal else year
    counts = {
        "subjects": r.subjects if personal else None,
        "sensitive_subjects": r.sensitive if personal else None,
        "year_before": before.to_dict(),
        "with_this": year.to_dict(),
    }
    decision = stored_decision(onto, r.mechanism, r.rules, kinds, counts)
    missing = missing_evidence(decision.evidence, [k for k, _ in r.evidence])
    return {
        **answer,
        **{k: v for k, v in decision.to_dict().items() if k != "evidence_required"},
        "missing_evidence": missing,
        "compliant": not decision.prohibited and not missing,
    }


def year_before(svc: Service, day: dt.date) -> Counts:
    """People provided abroad from 1 January of ``day``'s year up to and including ``day``, as the
    records of that year keep them."""
    kept = [r for r in stored_records(svc, day.year) if r.day <= day and r.year is not None]
    return (kept[-1].year or Counts()) if kept else Counts()


def transfer_records(svc: Service, year: int | None = None) -> dict[str, Any]:
    """The records of ``year`` (default: this year by the clock) with their judgments, the year's
    totals by destination and mechanism, and the count thresholds of the cross-border rules."""
    onto = svc.ontology
    year = year or svc.today().year
    if not 1900 <= year <= 9999:
        raise InputError(f"year {year} is out of range", f"年份 {year} 超出范围")
    records = stored_records(svc, year)
    items = [record_answer(svc, r) for r in records]
    groups: dict[tuple[str, str | None], dict[str, Any]] = {}
    for item in items:
        key = (item["destination"], item["mechanism"])
        g = groups.setdefault(
            key,
            {
                "destination": item["destination"],
                "destination_id": item["destination_id"],
                "mechanism": item["mechanism"],
                "records": 0,
                "subjects": 0,
                "sensitive_subjects": 0,
                "not_compliant": 0,
            },
        )
        g["records"] += 1
        g["subjects"] += item["counts"].get("subjects") or 0
        g["sensitive_subjects"] += item["counts"].get("sensitive_subjects") or 0
        g["not_compliant"] += not item["compliant"]
    kept = [r for r in records if r.year is not None]
    total = (kept[-1].year or Counts()) if kept else Counts()
    return {
        "year": year,
        "ciio": handler_is_ciio(svc),
        "items": items,
        "totals": {
            **total.to_dict(),
            "by_destination": sorted(groups.values(), key=lambda g: (g["destination_id"], g["mechanism"] or "")),
        },
        "thresholds": thresholds(onto),
    }


def thresholds(onto: Ontology) -> list[dict[str, Any]]:
    """The lower count bounds of the cross-border rules for a handler that is not a CIIO (what
    the year's totals are measured against), from the ontology."""
    out = []
    for r in onto.cross_border.rules:
        if r.handler_ciio is True:
            continue
        for field_name, at_least in (("subjects", r.subjects_at_least), ("sensitive_subjects", r.sensitive_at_least)):
            if at_least:
                out.append(
                    {
                        "rule": r.notation,
                        "count": field_name,
                        "at_least": at_least,
                        "mechanism": r.mechanism.notation,
                        "label_zh": r.label_zh,
                        "label_en": r.label_en,
                    }
                )
    return sorted(out, key=lambda t: (t["count"], t["at_least"]))
