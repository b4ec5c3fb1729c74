"""Grading: the lowest lawful level of some data, with the reasons that set it (rules R2–R6).

Plain functions over plain facts; every parameter (floors, the impact matrix, personal-
information floors, the R6 threshold and candidate level) comes from the ontology. Each reason
names its rule and the ontology term that triggered it, in Chinese and English:

    R4：数据元素“身份证号”属于身份证件信息 → 至少一般数据4级
    R4: element 身份证号 is identity document information → at least General-4
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kg.ontology import Ontology
from kg.vocabulary import Level, PersonalInfoCategory


@dataclass(frozen=True, slots=True)
class ElementFacts:
    """What is known about one data element."""

    iri: str
    name: str
    category: str | None = None  # IRI
    personal: tuple[str, ...] = ()  # IRIs of personal-information categories
    level: str | None = None  # IRI of its own assessed level, if any


@dataclass(frozen=True, slots=True)
class AssetFacts:
    """What grading needs to know about one data asset (or element graded on its own)."""

    iri: str
    category: str | None = None
    impacts: tuple[tuple[str, str], ...] = ()  # (impact object IRI, impact degree IRI)
    personal: tuple[str, ...] = ()
    subject_count: int | None = None
    elements: tuple[ElementFacts, ...] = ()
    review: str | None = None  # IRI of an important-data review decision (R6), if recorded


@dataclass(frozen=True, slots=True)
class Reason:
    """One rule that requires at least ``level``, triggered by ontology term ``term``."""

    rule: str
    level: Level
    term: str
    text_zh: str
    text_en: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "level": self.level.ref(),
            "term": self.term,
            "text_zh": self.text_zh,
            "text_en": self.text_en,
        }


@dataclass(frozen=True, slots=True)
class Grade:
    """The lowest lawful level and every reason considered (highest first)."""

    level: Level
    reasons: tuple[Reason, ...] = field(default=())

    def deciding(self) -> tuple[Reason, ...]:
        """The reasons that set the level (several may tie)."""
        return tuple(r for r in self.reasons if r.level.rank == self.level.rank)

    def violated_by(self, assessed: Level) -> tuple[Reason, ...]:
        """The reasons an assessment at ``assessed`` falls short of (a steward may go higher, never lower)."""
        return tuple(r for r in self.reasons if r.level.rank > assessed.rank)


def _at_least(level: Level) -> tuple[str, str]:
    return f" → 至少{level.label_zh}", f" → at least {level.label_en}"


def grade(facts: AssetFacts, onto: Ontology) -> Grade:
    """Grade ``facts`` by rules R2–R6 (R3 category floor, R2 impact matrix, R4 personal
    information, R5 elements, R6 scale)."""
    reasons: list[Reason] = []
    reasons += _category(facts, onto)
    reasons += _impacts(facts, onto)
    personal = _personal(facts, onto)
    reasons += personal
    reasons += _elements(facts, onto)
    reasons += _scale(facts, onto, has_personal=bool(personal))
    reasons.sort(key=lambda r: (-r.level.rank, r.rule, r.term))
    lowest = onto.ordered_levels()[0]
    return Grade(onto.highest(r.level for r in reasons) if reasons else lowest, tuple(reasons))


def _category(facts: AssetFacts, onto: Ontology) -> Iterable[Reason]:
    cat = onto.categories.get(facts.category or "")
    if cat is not None and cat.floor is not None:
        zh, en = _at_least(cat.floor)
        yield Reason(
            "R3",
            cat.floor,
            cat.iri,
            f"R3：分类“{cat.label_zh}”的最低级别{zh}",
            f"R3: category '{cat.label_en}' has a floor{en}",
        )


def _impacts(facts: AssetFacts, onto: Ontology) -> Iterable[Reason]:
    for obj_iri, deg_iri in facts.impacts:
        cell = onto.matrix.get((obj_iri, deg_iri))
        obj, deg = onto.impact_objects.get(obj_iri), onto.impact_degrees.get(deg_iri)
        if cell is None or obj is None or deg is None:
            continue
        zh, en = _at_least(cell.level)
        yield Reason(
            "R2",
            cell.level,
            cell.iri,
            f"R2：对{obj.label_zh}造成{deg.label_zh}危害{zh}",
            f"R2: {deg.label_en} harm to {obj.label_en}{en}",
        )


def _pi_reason(pi: PersonalInfoCategory, where_zh: str, where_en: str) -> Reason | None:
    if pi.floor is None:
        return None
    zh, en = _at_least(pi.floor)
    kind = "（敏感个人信息）" if pi.sensitive and pi.label_zh != "敏感个人信息" else ""
    return Reason(
        "R4",
        pi.floor,
        pi.iri,
        f"R4：{where_zh}含{pi.label_zh}{kind}{zh}",
        f"R4: {where_en} is {pi.label_en}{' (sensitive)' if pi.sensitive else ''}{en}",
    )


def _personal(facts: AssetFacts, onto: Ontology) -> list[Reason]:
    """R4: personal information in the asset or its elements, and identifiers next to it."""
    out: list[Reason] = []
    for pi_iri in facts.personal:
        pi = onto.personal_information.get(pi_iri)
        if pi is not None and (r := _pi_reason(pi, "数据", "the data")) is not None:
            out.append(r)
    for e in facts.elements:
        for pi_iri in e.personal:
            pi = onto.personal_information.get(pi_iri)
            if pi is not None and (r := _pi_reason(pi, f"数据元素“{e.name}”", f"element {e.name}")) is not None:
                out.append(r)
    if not out:
        return out
    linked = [(facts.category, "数据", "the data")] + [
        (e.category, f"数据元素“{e.name}”", f"element {e.name}") for e in facts.elements
    ]
    for cat_iri, where_zh, where_en in linked:
        cat = onto.categories.get(cat_iri or "")
        pi = onto.personal_information.get(cat.identifies_person_as or "") if cat else None
        if cat is None or pi is None or pi.floor is None:
            continue
        zh, en = _at_least(pi.floor)
        out.append(
            Reason(
                "R4",
                pi.floor,
                cat.iri,
                f"R4：{where_zh}（{cat.label_zh}）与个人信息在一起，可识别个人，按{pi.label_zh}处理{zh}",
                f"R4: {where_en} ({cat.label_en}) sits next to personal information and identifies "
                f"the person, as {pi.label_en}{en}",
            )
        )
    return out


def element_level(e: ElementFacts, onto: Ontology) -> Level | None:
    """An element's level: its own assessment, else the floors of its category and personal information."""
    own = onto.levels.get(e.level or "")
    if own is not None:
        return own
    floors = [c.floor for c in [onto.categories.get(e.category or "")] if c is not None and c.floor is not None]
    floors += [p.floor for p in (onto.personal_information.get(x) for x in e.personal) if p and p.floor]
    return onto.highest(floors) if floors else None


def _elements(facts: AssetFacts, onto: Ontology) -> Iterable[Reason]:
    for e in facts.elements:
        lv = element_level(e, onto)
        if lv is not None:
            zh, en = _at_least(lv)
            yield Reason(
                "R5",
                lv,
                e.iri,
                f"R5：数据元素“{e.name}”为{lv.label_zh}，数据集不低于其元素{zh}",
                f"R5: element {e.name} is {lv.label_en}; a dataset is at least its elements{en}",
            )


def _scale(facts: AssetFacts, onto: Ontology, has_personal: bool) -> Iterable[Reason]:
    policy = onto.policy
    n = facts.subject_count
    if n is None or not has_personal or n < policy.important_data_threshold:
        return
    if facts.review is not None and facts.review == policy.exempting_decision:
        return
    lv = policy.important_data_level
    zh, en = _at_least(lv)
    yield Reason(
        "R6",
        lv,
        policy.iri,
        f"R6：涉及 {n:,} 人的个人信息，达到重要数据识别阈值 {policy.important_data_threshold:,}{zh}"
        "（评审认定不属于重要数据的除外）",
        f"R6: personal data about {n:,} people reaches the important-data threshold of "
        f"{policy.important_data_threshold:,}{en} (unless a review decides it is not important data)",
    )
