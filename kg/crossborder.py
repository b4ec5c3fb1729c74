"""May this data leave the country (数据出境), and by which mechanism? (issue #20)

:func:`decide` is a pure function of the ontology's cross-border module (``crossborder.ttl``:
mechanisms, data kinds, rules with their thresholds, prohibitions, evidence kinds, sources) and
of :class:`Facts` about one asset. Nothing here names a threshold, a level or a law: change the
module and the answer changes.

* The data kinds of the asset: the ``mg:crossBorderDataKind`` of its effective level (core,
  important), "personal" when it carries personal information, "health_personal" when a
  personal-information concept is marked ``mg:healthRelatedInformation``, "human_genetic" when
  a concept is marked ``mg:humanGeneticResourceInformation``, "none" when it is neither personal
  information nor core or important data.
* The counts: people provided abroad since 1 January of the current year (Asia/Shanghai), this
  transfer included (``with_this`` = ``year_before`` + this asset's subjects). Everyone whose
  personal information goes abroad counts toward the non-sensitive bounds (the stricter reading);
  when any of it is sensitive, they count toward the sensitive bounds too.
* A rule applies when one of its data kinds is the asset's, its ``mg:forPurpose`` (if any) is
  the purpose the transfer declares, its ``mg:whenIdentifiedAsImportant`` (if any) is the
  asset's recorded identification as important data (unrecorded matches neither value: the
  level decides, and the basis says so), its ``mg:handlerIsCIIO`` (if any)
  equals the handler's status, and the counts lie within its bounds (rules with bounds need a
  known count; ``mg:subjectCountUnknown`` rules apply only without one). The handler's CIIO
  status is unknown until the institution record exists: unknown is taken as a CIIO (就高从严),
  and the basis says so.
* A rule that applies removes the rules it ``mg:lifts`` (the exemptions by declared purpose
  lift the declarations by count; a prohibition is never lifted).
* A transfer record gives its own counts (``provided``: N people, M of them sensitive); a
  check reads the asset's subject count (all of them sensitive when any of its personal
  information is).
* The mechanism is the strictest (``mg:strictness``) of the rules that apply; the prohibitions
  are the ``mg:Prohibition`` rules that apply and any rule whose mechanism permits no transfer.
  The evidence required: one of the mechanism's ``mg:satisfiedBy`` kinds and every
  ``mg:requiresEvidence`` of the rules that apply (none when prohibited: nothing lifts it).

No rule applying is an error (fail closed), never "exempt".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kg.errors import MedgradeError
from kg.ontology import Ontology, in_order
from kg.vocabulary import CrossBorderMechanism, CrossBorderRule, EvidenceKind


@dataclass(frozen=True, slots=True)
class Counts:
    """People whose personal information (``subjects``) and sensitive personal information
    (``sensitive_subjects``) went abroad."""

    subjects: int = 0
    sensitive_subjects: int = 0

    def to_dict(self) -> dict[str, int]:
        return {"subjects": self.subjects, "sensitive_subjects": self.sensitive_subjects}


@dataclass(frozen=True, slots=True, kw_only=True)
class Facts:
    """What the decision reads about one asset and its handler."""

    level: str | None  # IRI of the effective level
    personal: bool = False  # carries personal information
    sensitive: bool = False  # some of it is sensitive
    subjects: int | None = None  # mg:subjectCount (None: not recorded)
    health: bool = False  # health-related personal information
    genetic: bool = False  # human genetic resource information
    ciio: bool | None = None  # the handler is a CIIO (None: unknown, taken as yes)
    year_before: Counts = field(default_factory=Counts)  # provided abroad earlier this year
    provided: Counts | None = None  # a transfer record's own counts (else from subjects/sensitive)
    purpose: str | None = None  # IRI of the mg:TransferPurpose the transfer declares
    important_identified: bool | None = None  # the authorities' identification as important data (None: unrecorded)


def facts_of(
    onto: Ontology,
    level: str | None,
    personal: Iterable[str],
    categories: Iterable[str] = (),
    subjects: int | None = None,
    ciio: bool | None = None,
    year_before: Counts | None = None,
    provided: Counts | None = None,
    purpose: str | None = None,
    important_identified: bool | None = None,
) -> Facts:
    """:class:`Facts` from IRIs: the effective level, the personal-information concepts the asset
    carries and its business categories (for the markers of the cross-border module)."""
    pi = [p for p in (onto.personal_information.get(i) for i in set(personal)) if p is not None]
    cb = onto.cross_border
    concepts = {p.iri for p in pi} | set(categories)
    return Facts(
        level=level,
        personal=bool(pi),
        sensitive=any(p.sensitive or p.special for p in pi),
        subjects=subjects,
        health=any(p.iri in cb.health_related for p in pi),
        genetic=bool(concepts & cb.human_genetic),
        ciio=ciio,
        year_before=year_before or Counts(),
        provided=provided,
        purpose=purpose,
        important_identified=important_identified,
    )


@dataclass(frozen=True, slots=True)
class Decision:
    """The cross-border answer for one asset."""

    mechanism: CrossBorderMechanism
    kinds: tuple[str, ...]  # notations of the asset's data kinds
    rules: tuple[CrossBorderRule, ...]  # the rules that apply, in mg:order
    prohibitions: tuple[CrossBorderRule, ...]
    basis: tuple[dict[str, Any], ...]
    counts: dict[str, Any]
    evidence: tuple[dict[str, Any], ...]  # what must be in hand, each: one of its kinds

    @property
    def prohibited(self) -> bool:
        return bool(self.prohibitions) or not self.mechanism.permits_transfer

    def to_dict(self) -> dict[str, Any]:
        return {
            "mechanism": self.mechanism.notation,
            "data_kinds": list(self.kinds),
            "prohibitions": [_rule_item(r) for r in self.prohibitions],
            "basis": list(self.basis),
            "counts": self.counts,
            "evidence_required": list(self.evidence),
        }


def mechanism_named(onto: Ontology, notation: str) -> CrossBorderMechanism | None:
    return next((m for m in onto.cross_border.mechanisms if m.notation == notation), None)


def _rule_item(rule: CrossBorderRule) -> dict[str, Any]:
    return {
        "rule": rule.notation,
        "iri": rule.iri,
        "label_zh": rule.label_zh,
        "label_en": rule.label_en,
        "mechanism": rule.mechanism.notation,
        "status": rule.status,
        "sources": list(rule.sources),
        "text_zh": rule.definition_zh,
        "text_en": rule.definition_en,
    }


def _kinds(onto: Ontology, facts: Facts) -> set[str]:
    cb = onto.cross_border
    by_iri = {k.iri: k.notation or "" for k in cb.data_kinds}
    kinds = {by_iri.get(cb.level_kinds.get(facts.level or "", "")) or ""} - {""}
    if facts.important_identified is True:  # the authorities' word counts whatever the level says
        kinds.add("important")
    if facts.personal:
        kinds.add("personal")
    if facts.health:
        kinds.add("health_personal")
    if facts.genetic:
        kinds.add("human_genetic")
    if not kinds & {"core", "important", "personal"}:
        kinds.add("none")
    return kinds


def _within(value: int, low: int | None, high: int | None) -> bool:
    return (low is None or value >= low) and (high is None or value <= high)


def _applies(
    rule: CrossBorderRule, kinds: set[str], by_iri: dict[str, str], facts: Facts, counts: Counts | None
) -> bool:
    if not {by_iri.get(k) for k in rule.data_kinds} & kinds:
        return False
    if rule.purposes and facts.purpose not in rule.purposes:
        return False
    if rule.when_identified is not None and facts.important_identified is not rule.when_identified:
        return False
    ciio = True if facts.ciio is None else facts.ciio
    if rule.handler_ciio is not None and rule.handler_ciio != ciio:
        return False
    if rule.count_unknown:
        return counts is None
    if rule.counted:
        return counts is not None and (
            _within(counts.subjects, rule.subjects_at_least, rule.subjects_at_most)
            and _within(counts.sensitive_subjects, rule.sensitive_at_least, rule.sensitive_at_most)
        )
    return True


def _evidence_ref(e: EvidenceKind) -> dict[str, Any]:
    return {"iri": e.iri, "notation": e.notation, "label_zh": e.label_zh, "label_en": e.label_en}


def decide(onto: Ontology, facts: Facts) -> Decision:
    """The cross-border decision for ``facts`` by the ontology's rules (see the module)."""
    cb = onto.cross_border
    if not cb.rules:
        raise MedgradeError(
            "cannot decide on leaving the country: the ontology has no cross-border rules (crossborder.ttl)",
            "无法判断数据出境：本体中没有数据出境规则（crossborder.ttl）",
        )
    by_iri = {k.iri: k.notation or "" for k in cb.data_kinds}
    kinds = _kinds(onto, facts)
    this = (
        Counts()
        if not facts.personal
        else facts.provided
        if facts.provided is not None
        else None
        if facts.subjects is None
        else Counts(facts.subjects, facts.subjects if facts.sensitive else 0)
    )
    before = facts.year_before
    with_this = (
        None
        if this is None
        else Counts(before.subjects + this.subjects, before.sensitive_subjects + this.sensitive_subjects)
    )
    applying = [r for r in cb.rules if _applies(r, kinds, by_iri, facts, with_this)]
    lifted = {i for r in applying for i in r.lifts}  # an exemption by declared purpose (never a prohibition)
    rules = tuple(r for r in applying if r.iri not in lifted or r.prohibition)
    if not rules:
        raise MedgradeError(
            f"no cross-border rule applies to data of kind {', '.join(sorted(kinds))}: the decision fails closed; "
            "complete crossborder.ttl",
            f"没有适用于{'、'.join(sorted(kinds))}类数据的出境规则，无法判断（失败即关闭）；请补全 crossborder.ttl",
        )
    mechanism = max((r.mechanism for r in rules), key=lambda m: (m.strictness, m.iri))
    prohibitions = tuple(r for r in rules if r.prohibition or not r.mechanism.permits_transfer)
    basis: list[dict[str, Any]] = [_rule_item(r) for r in rules]
    if facts.ciio is None and (kinds & {"personal", "important"}):
        basis.append(
            {
                "rule": None,
                "iri": None,
                "label_zh": "处理者是否为关键信息基础设施运营者未知",
                "label_en": "whether the handler is a CIIO is unknown",
                "mechanism": None,
                "status": "default",
                "sources": [],
                "text_zh": "尚无本机构记录，无法确认本机构是否为关键信息基础设施运营者；按运营者处理（就高从严）。",
                "text_en": "There is no institution record yet to say whether this institution is a critical information "
                "infrastructure operator; it is taken to be one (the stricter reading, 就高从严).",
            }
        )
    if "important" in kinds and facts.important_identified is None:
        basis.append(
            {
                "rule": None,
                "iri": None,
                "label_zh": "重要数据识别结论未记录",
                "label_en": "the identification as important data is not recorded",
                "mechanism": None,
                "status": "default",
                "sources": [],
                "text_zh": "资产的生效级别为重要数据，但尚未记录有关部门是否已告知或公开发布其为重要数据；按重要数据处理"
                "（就高从严）。记录识别结论：medgrade important-data。",
                "text_en": "The asset's effective level is important data, but whether the authorities have notified or "
                "published it as important data is not recorded; it is treated as important data (the stricter "
                "reading). Record the finding with medgrade important-data.",
            }
        )
    evidence = required_evidence(onto, mechanism, rules, prohibitions)
    counts: dict[str, Any] = {
        "subjects": None if this is None else this.subjects,
        "sensitive_subjects": None if this is None else this.sensitive_subjects,
        "year_before": before.to_dict(),
        "with_this": None if with_this is None else with_this.to_dict(),
    }
    return Decision(
        mechanism=mechanism,
        kinds=tuple(sorted(kinds)),
        rules=rules,
        prohibitions=prohibitions,
        basis=tuple(basis),
        counts=counts,
        evidence=evidence,
    )


def required_evidence(
    onto: Ontology,
    mechanism: CrossBorderMechanism,
    rules: Iterable[CrossBorderRule],
    prohibitions: Iterable[CrossBorderRule] = (),
) -> tuple[dict[str, Any], ...]:
    """What must be in hand: one of the mechanism's ``mg:satisfiedBy`` kinds, and every
    ``mg:requiresEvidence`` of ``rules``; nothing when prohibited (nothing lifts it). Each item:
    ``required_by`` (mechanism or rule notation), ``any_of`` (evidence kinds), ``sources``."""
    cb = onto.cross_border
    if list(prohibitions) or not mechanism.permits_transfer:
        return ()
    evidence: list[dict[str, Any]] = []
    alternatives = [e for e in (cb.evidence_kind(i) for i in mechanism.satisfied_by) if e is not None]
    if alternatives:
        evidence.append(
            {
                "required_by": mechanism.notation,
                "any_of": [_evidence_ref(e) for e in alternatives],
                "sources": list(mechanism.sources),
            }
        )
    seen: set[tuple[str | None, str]] = set()
    for r in rules:
        for iri in r.evidence:
            e = cb.evidence_kind(iri)
            if e is not None and (r.notation, iri) not in seen:
                seen.add((r.notation, iri))
                evidence.append({"required_by": r.notation, "any_of": [_evidence_ref(e)], "sources": list(e.sources)})
    return tuple(evidence)


def missing_evidence(required: Iterable[dict[str, Any]], given: Iterable[str]) -> list[dict[str, Any]]:
    """The items of ``required`` that none of the ``given`` evidence kinds (IRIs) satisfies, each
    with a bilingual message (severity Violation: R16 for a record, not allowed for a check)."""
    have = set(given)
    missing = []
    for item in required:
        if any(e["iri"] in have for e in item["any_of"]):
            continue
        names_zh = "或".join(e["label_zh"] for e in item["any_of"])
        names_en = " or ".join(e["label_en"] for e in item["any_of"])
        missing.append(
            {
                **item,
                "severity": "Violation",
                "message_zh": f"出境前须具备：{names_zh}（{item['required_by']}），尚未登记",
                "message_en": f"before leaving the country this needs: {names_en} ({item['required_by']}), "
                "which is not recorded",
            }
        )
    return missing


def stored_decision(
    onto: Ontology, mechanism: str, rules: Iterable[str], kinds: Iterable[str], counts: dict[str, Any]
) -> Decision:
    """A :class:`Decision` from what a transfer record keeps of its judgment (the mechanism and
    rule IRIs, the data-kind notations and the counts); rules no longer in the ontology are
    named by IRI only in the basis. Fails when the mechanism is unknown (fail closed)."""
    cb = onto.cross_border
    named = next((m for m in cb.mechanisms if m.iri == mechanism), None)
    if named is None:
        raise MedgradeError(
            f"a transfer record was judged by the mechanism <{mechanism}>, which the ontology no longer has",
            f"提供记录判定的出境机制 <{mechanism}> 已不在本体中",
        )
    found = [r for r in (cb.rule(i) for i in rules) if r is not None]
    ordered = tuple(in_order(found))
    prohibitions = tuple(r for r in ordered if r.prohibition or not r.mechanism.permits_transfer)
    return Decision(
        mechanism=named,
        kinds=tuple(sorted(kinds)),
        rules=ordered,
        prohibitions=prohibitions,
        basis=tuple(_rule_item(r) for r in ordered),
        counts=counts,
        evidence=required_evidence(onto, named, ordered, prohibitions),
    )
