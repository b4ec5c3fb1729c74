"""May this data leave the country (数据出境), and by which mechanism? (issue #20, first slice)

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
* A rule applies when one of its data kinds is the asset's, its ``mg:handlerIsCIIO`` (if any)
  equals the handler's status, and the counts lie within its bounds (rules with bounds need a
  known count; ``mg:subjectCountUnknown`` rules apply only without one). The handler's CIIO
  status is unknown until the institution record exists: unknown is taken as a CIIO (就高从严),
  and the basis says so.
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
from kg.ontology import Ontology
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


def facts_of(
    onto: Ontology,
    level: str | None,
    personal: Iterable[str],
    categories: Iterable[str] = (),
    subjects: int | None = None,
    ciio: bool | None = None,
    year_before: Counts | None = None,
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


def _applies(rule: CrossBorderRule, kinds: set[str], by_iri: dict[str, str], ciio: bool, counts: Counts | None) -> bool:
    if not {by_iri.get(k) for k in rule.data_kinds} & kinds:
        return False
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
    ciio = True if facts.ciio is None else facts.ciio
    this = (
        Counts()
        if not facts.personal
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
    rules = tuple(r for r in cb.rules if _applies(r, kinds, by_iri, ciio, with_this))
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
    evidence: list[dict[str, Any]] = []
    if not prohibitions and mechanism.permits_transfer:
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
                    evidence.append(
                        {"required_by": r.notation, "any_of": [_evidence_ref(e)], "sources": list(e.sources)}
                    )
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
        evidence=tuple(evidence),
    )
