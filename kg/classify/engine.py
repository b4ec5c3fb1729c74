"""The classification assistant: suggest category, personal-information flags and a minimum
level for a data element, with a confidence and the reasons.

An input is first resolved against the standards (a DICOM tag or keyword, an HL7 v2 field, a
FHIR path, a BICEPS member); its English name, the standard's description and its container
then meet the ontology's vocabulary (:mod:`kg.classify.lexicon`). Evidence adds up per
category: terms in the name count most (the head word more than its modifiers), the
description and the container less, and standard-specific facts (PS3.15 Annex E) strongly.
Whether a DICOM attribute is personal comes from what the standard says it is
(:func:`kg.classify.dicom.subject`), not from the words of its name.
The minimum level is graded by :func:`kg.grading.grade` from the category and the personal
information found (R3, R4), so floors and rules come from the ontology too.
"""

from __future__ import annotations

import csv
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from kg.classify import biceps, dicom, fhir, hl7v2
from kg.classify.context import NO_CONTEXT, Adjustment, Context, adjust
from kg.classify.lexicon import Entry, Lexicon, business_lexicon, personal_lexicon
from kg.classify.standards import StandardElement
from kg.classify.text import bigrams, has_cjk, normalise, words
from kg.grading import AssetFacts, grade
from kg.ontology import NameMatch, Ontology, name_key
from kg.vocabulary import Category, Level, PersonalInfoCategory

NAME, DESCRIPTION, CONTEXT = 1.0, 0.3, 0.4  # how much a term counts by where it is found
DESCRIPTION_CAP = 3.0  # a long description adds at most this much to one category
PI_THRESHOLD = 2.0  # personal-information evidence needed to flag it from words alone
EXACT = 8.0  # a name that is a category's label or synonym: more than any partial match

RESOLVERS: tuple[tuple[str, Callable[[str], StandardElement | None]], ...] = (
    ("DICOM", dicom.resolve),
    ("HL7 v2", hl7v2.resolve),
    ("FHIR", fhir.resolve),
    ("BICEPS", biceps.resolve),
)


@dataclass(slots=True)
class Evidence:
    score: float
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class Suggestion:
    """What the assistant suggests for one element (SPEC §9); never an assessment by itself."""

    input: str
    category: Category | None
    personal: tuple[PersonalInfoCategory, ...]
    min_level: Level
    confidence: float
    reasons: tuple[str, ...]
    element: StandardElement | None = None
    alternatives: tuple[tuple[Category, float], ...] = ()

    @property
    def is_personal(self) -> bool:
        return bool(self.personal)

    @property
    def sensitive(self) -> bool:
        return any(p.sensitive for p in self.personal)

    def to_dict(self) -> dict[str, Any]:
        e = self.element
        return {
            "input": self.input,
            "category": self.category.ref() if self.category else None,
            "personal": self.is_personal,
            "sensitive": self.sensitive,
            "min_level": self.min_level.ref(),
            "confidence": round(self.confidence, 3),
            "reasons": list(self.reasons),
            "personal_information": [p.ref() for p in self.personal],
            "element": None
            if e is None
            else {
                "standard": e.standard,
                "ref": e.ident,
                "name": e.name,
                "context": e.context,
                "source": e.source,
            },
            "alternatives": [{**c.ref(), "confidence": round(s, 3)} for c, s in self.alternatives],
        }


@dataclass(frozen=True, slots=True)
class Prior:
    category: str
    weight: float
    why: str


@cache
def _priors_table() -> dict[tuple[str, str], list[tuple[str, float, str]]]:
    text = resources.files("kg.classify").joinpath("data/contexts.csv").read_text(encoding="utf-8")
    out: dict[tuple[str, str], list[tuple[str, float, str]]] = defaultdict(list)
    for r in csv.DictReader(line for line in text.splitlines() if not line.startswith("#")):
        out[(r["standard"], r["context"])].append((r["category"], float(r["weight"]), r["why"]))
    return out


@dataclass
class _Scores:
    by: dict[str, list[Evidence]] = field(default_factory=lambda: defaultdict(list))

    def add(self, iri: str, score: float, zh: str, en: str) -> None:
        self.by[iri].append(Evidence(score, zh, en))

    def total(self, iri: str) -> float:
        return sum(e.score for e in self.by.get(iri, ()))


class Classifier:
    """Suggestions from one loaded ontology; cheap to call, build once per ontology."""

    def __init__(self, onto: Ontology) -> None:
        self.onto = onto
        self.categories = business_lexicon(onto)
        self.personal = personal_lexicon(onto)
        self.priors: dict[tuple[str, str], list[Prior]] = defaultdict(list)
        for (std, ctx), rows in _priors_table().items():
            for local, weight, why in rows:
                cat = onto.categories.get(f"{_MG}{local}")
                if cat is not None:  # a category removed from the ontology: its prior goes too
                    self.priors[(std, ctx)].append(Prior(cat.iri, weight, why))
        self._exact: dict[str, set[str]] = defaultdict(set)  # name_key of a label or synonym -> categories
        for cat in onto.categories:
            for label in (cat.label_zh, cat.label_en, *cat.alt_labels):
                if key := name_key(label):
                    self._exact[key].add(cat.iri)
        self._bigram_index: dict[str, set[str]] = defaultdict(set)
        for term, entries in self.categories.chinese.items():
            if len(term) >= 3:
                for bg in bigrams(term):
                    self._bigram_index[bg].update(e.concept for e in entries)

    # --- evidence -------------------------------------------------------------------------------
    def _match(
        self,
        lex: Lexicon,
        text: str,
        where: float,
        scores: _Scores,
        label: tuple[str, str],
        cap: float = 1e9,
        pairs: bool = True,
    ) -> None:
        """Add the terms of ``lex`` found in ``text``: longest first, a contained shorter term
        not again; the head (last) word of a name counts more than a modifier. ``pairs``: also
        shared character pairs with the categories' terms, for words the ontology does not have."""
        gained: dict[str, float] = defaultdict(float)

        def add(iri: str, weight: float, zh: str, en: str) -> None:
            if gained[iri] >= cap:
                return
            weight = min(weight, cap - gained[iri])
            gained[iri] += weight
            scores.add(iri, weight, zh, en)

        def matched(entries: list[Entry], head: float) -> None:
            share = 1 / len(entries)  # a term two concepts share says less about each
            for e in entries:
                add(
                    e.concept,
                    e.weight * where * head * (0.5 + 0.5 * share),
                    f"{label[0]}含“{e.term}”",
                    f'{label[1]} has "{e.term}"',
                )

        w = words(text)
        covered = [False] * len(w)
        for n in range(min(lex.max_words, len(w)), 0, -1):
            for i in range(len(w) - n + 1):
                if all(covered[i : i + n]):
                    continue
                entries = lex.english.get(tuple(w[i : i + n]))
                if not entries:
                    continue
                for k in range(i, i + n):
                    covered[k] = True
                matched(entries, 1.3 if i + n == len(w) else 0.75)
        if not has_cjk(text):
            return
        norm = normalise(text)
        taken = [False] * len(norm)
        for term in lex.chinese_terms:
            start = norm.find(term)
            while start >= 0:
                end = start + len(term)
                if not all(taken[start:end]):
                    for k in range(start, end):
                        taken[k] = True
                    matched(lex.chinese[term], 1.3 if end == len(norm) or not has_cjk(norm[end:]) else 0.85)
                start = norm.find(term, start + 1)
        if lex is self.categories and pairs:  # words the ontology does not have: shared character pairs
            rest = "".join(ch if not taken[i] else " " for i, ch in enumerate(norm))
            for bg in bigrams(rest):
                hits = self._bigram_index.get(bg, ())
                for iri in hits:
                    add(iri, 0.8 * where / len(hits), f"{label[0]}含字组“{bg}”", f'{label[1]} shares "{bg}"')

    def _evidence(
        self, text: str, element: StandardElement | None, extra: str | None, named_pi: bool = False
    ) -> _Scores:
        """Evidence per category. A name (not a standard's element name: the standard says what that
        is) that is a category's label or synonym (by :func:`kg.ontology.name_key`) wins over
        partial matches; a name that is a term of the
        personal-information axis (``named_pi``) is a word the ontology has, so shared character
        pairs ("信息") say nothing."""
        s = _Scores()
        name = element.name if element else text
        self._match(self.categories, name, NAME, s, ("名称", "name"), pairs=not named_pi)
        for iri in sorted(self._exact.get(name_key(name), ()) if element is None else ()):  # a standard's name
            s.add(iri, EXACT, f"名称即本体用语“{name}”", f'the name is the ontology\'s term "{name}"')
        if element is not None:
            if element.description:
                self._match(
                    self.categories, element.description, DESCRIPTION, s, ("定义", "definition"), cap=DESCRIPTION_CAP
                )
            std = _std_key(element)
            for p in self.priors.get((std, element.context_key), ()) or self.priors.get((std, "*"), ()):
                s.add(
                    p.category,
                    p.weight,
                    f"{element.standard} {element.context}：{p.why}",
                    f"{element.standard} {element.context}: {p.why}",
                )
        if extra:
            self._match(self.categories, extra, DESCRIPTION, s, ("说明", "description"), cap=DESCRIPTION_CAP)
        return s

    def _dicom(self, attr: dicom.DicomAttribute, s: _Scores, onto: Ontology) -> list[str]:
        """PS3.15 Annex E and the ontology's DICOM examples; returns personal-information IRIs."""
        pi: list[str] = []
        for e in self.categories.dicom_examples.get(attr.tag, ()):
            s.add(e.concept, e.weight, f"本体示例：{e.term}", f"ontology example: {e.term}")
        row = attr.profile
        if row is None or dicom.subject(attr) == "content":  # the image itself: personal next to a patient
            return pi
        where = f"DICOM PS3.15 E.1-1: {row.name}"
        if row.kept_by("retain_device_identity"):
            s.add(
                f"{_MG}EquipmentIdentification",
                4.0,
                f"{where}，保留设备标识选项",
                f"{where}, Retain Device Identity option",
            )
        elif row.kept_by("retain_institution_identity"):
            s.add(  # General Equipment module: the institution where the equipment is
                f"{_MG}EquipmentMasterData",
                3.0,
                f"{where}，保留机构标识选项",
                f"{where}, Retain Institution Identity option",
            )
        elif row.kept_by("retain_patient_characteristics"):
            s.add(
                f"{_MG}PatientDemographics",
                3.0,
                f"{where}，保留患者特征选项",
                f"{where}, Retain Patient Characteristics option",
            )
        elif row.kept_by("retain_uids"):
            s.add(
                f"{_MG}PatientIdentifiers",
                2.5,
                f"{where}，UID 在基本规则中替换（保留 UID 选项）",
                f"{where}, UID replaced by the basic profile (Retain UIDs option)",
            )
        elif row.options.get("retain_longitudinal_full_dates") or row.options.get("retain_longitudinal_modified_dates"):
            s.add(
                f"{_MG}PatientLinkedUsageRecords",
                2.5,
                f"{where}，与患者相关的日期时间（保留纵向时间信息选项）",
                f"{where}, a date or time of the patient's care (Retain Longitudinal Temporal Information option)",
            )
        elif row.options.get("clean_descriptors") or row.options.get("clean_structured_content"):
            pass  # free text that may name the patient: the words decide, the flag follows below
        elif attr.vr == "PN" and not attr.keyword.startswith(("Patient", "OtherPatient", "Responsible")):
            s.add(
                f"{_MG}OperatorIdentity", 2.5, f"{where}，人名（非患者）", f"{where}, a person's name (not the patient)"
            )
        else:
            s.add(
                f"{_MG}PatientIdentifiers",
                3.5,
                f"{where}，基本规则删除或替换（可识别患者）",
                f"{where}, removed or replaced by the basic profile (identifies the patient)",
            )
        if not row.kept_by("retain_device_identity") and not row.kept_by("retain_institution_identity"):
            pi.append(f"{_MG}PersonalIdentifiers")
        return pi

    # --- the suggestion -------------------------------------------------------------------------
    def classify(
        self, text: str, description: str | None = None, linked: bool = False, context: Context | None = None
    ) -> Suggestion:
        """Suggest for one element named ``text`` (with an optional ``description``).

        ``linked``: the element sits next to personal data (a DICOM file with a patient), so
        identifiers of devices identify the person too (R4). ``context``: the HL7 v2 message or
        FHIR resource around it (:mod:`kg.classify.context`); about a patient, it implies ``linked``."""
        context = context or NO_CONTEXT
        linked = linked or context.about_patient
        element, attr = self._resolve(text)
        if element is None:  # "PID-7 Date/Time of Birth", "(0010,0030) Patient's Birth Date"
            for ref, rest in _embedded_references(text):
                element, attr = self._resolve(ref)
                if element is not None:
                    description = " ".join(x for x in (rest, description) if x)
                    break
        name = element.name if element else text
        named = self.onto.personal_information_named(name)  # exact terms of the PI axis (R4)
        s = self._evidence(text, element, description, named_pi=bool(named))
        rules = adjust(element, context, self._equipment(s))
        if rules.not_a_person:  # evidence for a person's categories says nothing here
            for iri in list(s.by):
                cat = self.onto.categories.get(iri)
                if cat is not None and cat.personal_kind:
                    del s.by[iri]
        personal_iris: list[str] = []
        about = dicom.subject(attr) if attr is not None else "unknown"
        if attr is not None:
            personal_iris += self._dicom(attr, s, self.onto)
        ranked = self._rank(s)
        if about is None:  # about no person: no category that always is personal; technical: no clinical content
            technical = attr is not None and dicom.technical(attr)
            ranked = [(c, sc) for c, sc in ranked if not (c.personal_kind or (technical and c.linked_personal_kind))]
        reasons: list[str] = []
        if element is not None:
            reasons.append(
                f"{element.standard} {element.ident}：{element.name}（{element.source}）"
                f" / {element.standard} {element.ident}: {element.name} ({element.source})"
            )
        if not ranked:
            reasons += rules.reasons
            found = self._personal(([] if about is None else self._words_personal(name, named, rules)) + rules.personal)
            if not found:
                reasons.append("没有匹配本体中的任何术语，请人工分类 / no ontology term matched: classify by hand")
                return Suggestion(text, None, (), self.onto.ordered_levels()[0], 0.0, tuple(reasons), element)
            reasons.append(
                "没有匹配的业务分类，请人工分类；名称是个人信息用语 / no business category matched: classify by hand;"
                " the name is a term of personal information"
            )
            g = grade(AssetFacts(iri=text, personal=tuple(p.iri for p in found)), self.onto)
            reasons += [f"{r.text_zh} / {r.text_en}" for r in g.deciding()]
            return Suggestion(text, None, found, g.level, 0.0, tuple(reasons), element)
        best, top = ranked[0]
        if about is None and best.linked_personal_kind:  # clinical content (an SR value): the patient's, if linked
            about = "content"
        second = next((sc for c, sc in ranked[1:] if not self._related(c, best)), 0.0)
        confidence = (top / (top + second)) * (1 - math.exp(-top / 2.5))
        for ev in sorted(self._chain_evidence(best, s), key=lambda e: -e.score)[:4]:
            reasons.append(f"{ev.zh} → {best.label_zh} / {ev.en} → {best.label_en}")
        # personal information: the category's own kind, words of the name, and DICOM's profile
        if best.personal_kind:
            personal_iris.append(best.personal_kind)
        if best.linked_personal_kind and not rules.says_nothing:  # a sequence number says nothing of the patient
            if linked:
                personal_iris.append(best.linked_personal_kind)
            else:
                reasons.append(
                    f"R4：与识别患者的数据同处时为{self._pi_label(best.linked_personal_kind, 'zh')}（敏感个人信息）"
                    f" / R4: next to data identifying the patient it is "
                    f"{self._pi_label(best.linked_personal_kind, 'en')} (sensitive personal information)"
                )
        personal_iris += self._words_personal(name, named, rules) + list(rules.personal)
        reasons += rules.reasons
        if about is None:  # the standard says what the attribute is: words of its name do not decide
            personal_iris = []
        elif about == "person" and not personal_iris:
            personal_iris.append(f"{_MG}PersonalInformation")
        if best.identifies_person_as and linked:  # next to patient data, a device serial identifies the patient
            personal_iris.append(best.identifies_person_as)
        elif best.identifies_person_as:  # alone it identifies no one, unless its name is that term (R4)
            exact = {m.personal.iri for m in named}
            personal_iris = [p for p in personal_iris if p != best.identifies_person_as or p in exact]
            reasons.append(
                f"R4：与患者数据同处时按{self._pi_label(best.identifies_person_as, 'zh')}处理"
                f" / R4: next to patient data it counts as {self._pi_label(best.identifies_person_as, 'en')}"
            )
        personal = self._personal(personal_iris)
        g = grade(AssetFacts(iri=text, category=best.iri, personal=tuple(p.iri for p in personal)), self.onto)
        reasons += [f"{r.text_zh} / {r.text_en}" for r in g.deciding()]
        total = sum(sc for _, sc in ranked[:5]) or 1.0
        alternatives = tuple((c, sc / total) for c, sc in ranked[1:4] if sc > 0)
        return Suggestion(text, best, personal, g.level, confidence, tuple(reasons), element, alternatives)

    def _words_personal(self, name: str, named: tuple[NameMatch, ...], rules: Adjustment) -> list[str]:
        """Personal information the words of a name denote: its exact terms (what grading reads,
        R4) win over partial matches, which count only above ``PI_THRESHOLD``."""
        if rules.not_a_person:
            return []
        if named:
            return [m.personal.iri for m in named]
        scores = _Scores()
        self._match(self.personal, name, NAME, scores, ("名称", "name"))
        return [iri for iri in scores.by if scores.total(iri) >= PI_THRESHOLD]

    def _personal(self, iris: Iterable[str]) -> tuple[PersonalInfoCategory, ...]:
        """The concepts of ``iris``, once each, without one whose narrower concept is there too."""
        found = tuple(p for p in dict.fromkeys(self.onto.personal_information.get(i) for i in iris) if p is not None)
        return tuple(p for p in found if not any(self._pi_broader(q, p) for q in found if q is not p))

    def _equipment(self, s: _Scores) -> bool:
        """The leading category identifies equipment (R4 decides those next to patient data)."""
        ranked = self._rank(s)
        return bool(ranked) and bool(ranked[0][0].identifies_person_as)

    @staticmethod
    def _resolve(text: str) -> tuple[StandardElement | None, dicom.DicomAttribute | None]:
        for label, resolve in RESOLVERS:
            if label == "DICOM":
                attr = dicom.lookup(text)
                if attr is not None:
                    return attr.element, attr
            elif (element := resolve(text)) is not None:
                return element, None
        return None, None

    def classify_many(self, items: Iterable[str | tuple[str, str | None]], linked: bool = False) -> list[Suggestion]:
        out = []
        for item in items:
            text, desc = (item, None) if isinstance(item, str) else item
            out.append(self.classify(text, desc, linked=linked))
        return out

    # --- helpers --------------------------------------------------------------------------------
    def _rank(self, s: _Scores) -> list[tuple[Category, float]]:
        """Categories by score; a category also gets a share of its broader categories' own
        evidence, so the most specific category the evidence supports comes first."""
        own = {iri: s.total(iri) for iri in s.by}
        out: list[tuple[Category, float]] = []
        for cat in self.onto.categories:
            score, factor, cursor = own.get(cat.iri, 0.0), 0.6, cat.parent
            if score <= 0:
                continue
            while cursor:
                score += factor * own.get(cursor, 0.0)
                parent = self.onto.categories.get(cursor)
                cursor, factor = (parent.parent if parent else None), factor / 2
            out.append((cat, score))
        out.sort(key=lambda cs: (-cs[1], cs[0].iri))
        return out

    def _related(self, a: Category, b: Category) -> bool:
        return a.iri in self._ancestors(b) or b.iri in self._ancestors(a)

    def _ancestors(self, c: Category) -> set[str]:
        out, cursor = set(), c.parent
        while cursor and cursor not in out:
            out.add(cursor)
            p = self.onto.categories.get(cursor)
            cursor = p.parent if p else None
        return out

    def _chain_evidence(self, c: Category, s: _Scores) -> list[Evidence]:
        return [e for iri in {c.iri} | self._ancestors(c) for e in s.by.get(iri, ())]

    def _pi_broader(self, broad: PersonalInfoCategory, narrow: PersonalInfoCategory) -> bool:
        cursor, seen = narrow.parent, 0
        while cursor and seen < 20:
            if cursor == broad.iri:
                return True
            p = self.onto.personal_information.get(cursor)
            cursor, seen = (p.parent if p else None), seen + 1
        return False

    def _pi_label(self, iri: str, lang: str) -> str:
        p = self.onto.personal_information.get(iri)
        return (p.label_zh if lang == "zh" else p.label_en) if p else iri


_MG = "https://w3id.org/medgrade/def#"
_TAG_ANYWHERE = re.compile(r"\(\s*[0-9A-Fa-f]{4}\s*,\s*[0-9A-Fa-f]{4}\s*\)")


def _embedded_references(text: str) -> list[tuple[str, str]]:
    """Candidate references inside a longer text, with the rest of the text: a DICOM tag
    anywhere, else the first or last word ("PID-7 Date/Time of Birth", "Birth date PID-7")."""
    out = []
    m = _TAG_ANYWHERE.search(text)
    if m:
        out.append((m.group(0), (text[: m.start()] + " " + text[m.end() :]).strip(" -:—|")))
    parts = text.split()
    if len(parts) > 1:
        out.append((parts[0].strip(" :,;|"), " ".join(parts[1:]).strip(" -:—|")))
        out.append((parts[-1].strip(" :,;|()"), " ".join(parts[:-1]).strip(" -:—|")))
    return out


def _std_key(element: StandardElement) -> str:
    return "IEEE 11073 SDC (BICEPS)" if element.standard.startswith("IEEE") else element.standard
