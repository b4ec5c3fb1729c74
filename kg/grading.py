"""Grading: the rules' minimum of some data, with the reasons that set it (rules R2–R6).

Plain functions over plain facts; every parameter (floors, the impact matrix, personal-
information floors, the R6 threshold and candidate level) comes from the ontology. Each reason
names its rule and the ontology term that triggered it, in Chinese and English:

    R4：数据元素“身份证号”含个人身份信息（敏感个人信息；名称为本体用语）→ 至少一般数据4级
    R4: element 身份证号 is personal identity information (sensitive; its name is an ontology term) → at least General-4

An element's name counts when it *is* a term of the ontology's vocabulary (see
:meth:`kg.ontology.Ontology.personal_information_named`). The rules' minimum is one of the three
parts of the effective level (R7): an assessment below it is recorded and reported, never acted on.
:class:`Minimums` grades many assets at once, once per distinct set of facts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kg.ontology import NameMatch, Ontology
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
            f"R2：对{obj.label_zh}造成{deg.label_zh}{zh}",
            f"R2: {deg.label_en} to {obj.label_en}{en}",
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


def _named_reason(e: ElementFacts, match: NameMatch) -> Reason | None:
    pi = match.personal
    if pi.floor is None:
        return None
    zh, en = _at_least(pi.floor)
    sensitive_zh, sensitive_en = ("敏感个人信息；", "sensitive; ") if pi.sensitive else ("", "")
    return Reason(
        "R4",
        pi.floor,
        pi.iri,
        f"R4：数据元素“{e.name}”含{pi.label_zh}（{sensitive_zh}名称为本体中“{match.term.label_zh}”的用语）{zh}",
        f"R4: element {e.name} is {pi.label_en} ({sensitive_en}its name is a term of '{match.term.label_en}' "
        f"in the ontology){en}",
    )


def _personal(facts: AssetFacts, onto: Ontology) -> list[Reason]:
    """R4: personal information in the asset or its elements (stated, or by an element's name),
    and identifiers next to it."""
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
        stated = set(e.personal)
        out += [
            r
            for m in onto.personal_information_named(e.name)
            if m.personal.iri not in stated and (r := _named_reason(e, m)) is not None
        ]
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


def element_minimum(e: ElementFacts, onto: Ontology) -> Level | None:
    """The rules' minimum of an element on its own: the floors of its category and of the
    personal information it holds, stated or by its name (R3, R4); None when no rule applies."""
    floors = [c.floor for c in [onto.categories.get(e.category or "")] if c is not None and c.floor is not None]
    floors += [p.floor for p in (onto.personal_information.get(x) for x in e.personal) if p and p.floor]
    floors += [m.personal.floor for m in onto.personal_information_named(e.name) if m.personal.floor]
    return onto.highest(floors) if floors else None


def element_level(e: ElementFacts, onto: Ontology) -> Level | None:
    """An element's level: the higher of its own assessment and its rules' minimum (an
    assessment never lowers what the rules require)."""
    found = [lv for lv in (onto.levels.get(e.level or ""), element_minimum(e, onto)) if lv is not None]
    return onto.highest(found) if found else None


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


def strictest_category(iris: Iterable[str], onto: Ontology) -> str | None:
    """Of the categories some data carries (one, unless R1 is broken), the one with the highest
    floor (就高从严; ties: the first IRI): what grading reads as its category."""
    found = sorted(set(iris))
    if not found:
        return None

    def rank(iri: str) -> int:
        c = onto.categories.get(iri)
        return c.floor.rank if c is not None and c.floor is not None else 0

    return max(found, key=rank)  # the first of the highest: max keeps the first it meets


def minimum(facts: AssetFacts, onto: Ontology) -> Level | None:
    """The rules' minimum of ``facts`` (R2–R6), or None when no rule applies to them."""
    g = grade(facts, onto)
    return g.level if g.reasons else None


class Minimums:
    """The rules' minimum of many assets and elements, graded once per distinct set of facts:
    what makes two assets' minimum differ is only what the rules read (the category, impacts,
    personal information, whether the scale threshold is reached and exempted, and the same of
    the elements), so a million assets of a few kinds cost a few gradings."""

    def __init__(self, onto: Ontology) -> None:
        self.onto = onto
        self._assets: dict[AssetFacts, int] = {}
        self._elements: dict[ElementFacts, int] = {}
        self._named: dict[str, tuple[str, ...]] = {}

    def named(self, name: str) -> tuple[str, ...]:
        """The personal information (IRIs) an element name denotes."""
        found = self._named.get(name)
        if found is None:
            found = tuple(sorted({m.personal.iri for m in self.onto.personal_information_named(name)}))
            self._named[name] = found
        return found

    def _canonical(self, e: ElementFacts, level: bool = True) -> ElementFacts:
        """What grading reads of an element: its name counts only through what it denotes."""
        personal = tuple(sorted(set(e.personal) | set(self.named(e.name))))
        return ElementFacts("", "", e.category, personal, e.level if level else None)

    def element(self, e: ElementFacts) -> int:
        """The rank of an element's rules' minimum on its own (0: none)."""
        key = self._canonical(e, level=False)
        rank = self._elements.get(key)
        if rank is None:
            lv = element_minimum(key, self.onto)
            rank = self._elements[key] = lv.rank if lv is not None else 0
        return rank

    def asset(self, facts: AssetFacts) -> int:
        """The rank of an asset's rules' minimum (0: none)."""
        policy = self.onto.policy
        n = facts.subject_count
        key = AssetFacts(
            "",
            facts.category,
            facts.impacts,
            tuple(sorted(set(facts.personal))),
            policy.important_data_threshold if n is not None and n >= policy.important_data_threshold else None,
            tuple(sorted({self._canonical(e) for e in facts.elements}, key=_element_order)),
            facts.review if facts.review is not None and facts.review == policy.exempting_decision else None,
        )
        rank = self._assets.get(key)
        if rank is None:
            lv = minimum(key, self.onto)
            rank = self._assets[key] = lv.rank if lv is not None else 0
        return rank


def _element_order(e: ElementFacts) -> tuple[str, tuple[str, ...], str]:
    return (e.category or "", e.personal, e.level or "")
