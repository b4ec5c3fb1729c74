"""Typed views of the ontology's terms: what the rest of medgrade works with.

Plain frozen dataclasses, no rdflib: built by :mod:`kg.ontology` from the ontology files.
Every term carries its IRI, bilingual labels and definition, notation (code) and synonyms.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class Term:
    """A named term of the ontology."""

    iri: str
    label_zh: str
    label_en: str
    notation: str | None = None
    definition_zh: str = ""
    definition_en: str = ""
    alt_labels: tuple[str, ...] = ()

    @property
    def local_name(self) -> str:
        return self.iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]

    def ref(self) -> dict[str, Any]:
        """The short JSON form used inside other answers: ``{"iri", "label_zh", "label_en"}``."""
        return {"iri": self.iri, "label_zh": self.label_zh, "label_en": self.label_en}

    def to_dict(self) -> dict[str, Any]:
        """The full JSON form."""
        return {
            **self.ref(),
            "notation": self.notation,
            "definition_zh": self.definition_zh,
            "definition_en": self.definition_en,
            "alt_labels": list(self.alt_labels),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Handling:
    """One aspect of how data of a level is handled (sharing, opening, storage, leaving): the
    aspect is a sub-property of ``mg:handling``, ``key`` its notation, the text its value."""

    key: str
    aspect_iri: str
    label_zh: str
    label_en: str
    text_zh: str
    text_en: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "aspect": self.key,
            "iri": self.aspect_iri,
            "label_zh": self.label_zh,
            "label_en": self.label_en,
            "text_zh": self.text_zh,
            "text_en": self.text_en,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Level(Term):
    """A security level; a higher rank is a stricter level."""

    rank: int
    may_leave_institution: bool = True
    measures: tuple[str, ...] = ()  # IRIs of the protection measures it requires
    handling: tuple[Handling, ...] = ()  # in the aspects' mg:order

    def ref(self) -> dict[str, Any]:
        """The level object of the interface contract: ``{"iri", "rank", "label_zh", "label_en"}``."""
        return {"iri": self.iri, "rank": self.rank, "label_zh": self.label_zh, "label_en": self.label_en}

    def to_dict(self) -> dict[str, Any]:
        return {
            **Term.to_dict(self),
            "rank": self.rank,
            "may_leave_institution": self.may_leave_institution,
            "measures": list(self.measures),
            "handling": [h.to_dict() for h in self.handling],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Concept(Term):
    """A concept of a classification axis, with its floor (minimum level)."""

    scheme: str | None = None
    parent: str | None = None  # IRI of the broader concept
    floor: Level | None = None  # own floor, else the nearest broader concept's
    floor_inherited: bool = False
    examples: tuple[str, ...] = ()
    close_matches: tuple[str, ...] = ()
    hidden_labels: tuple[str, ...] = ()  # skos:hiddenLabel: terms the classifier matches, never shown

    def to_dict(self) -> dict[str, Any]:
        return {
            **Term.to_dict(self),
            "scheme": self.scheme,
            "parent": self.parent,
            "floor": self.floor.ref() if self.floor else None,
            "floor_inherited": self.floor_inherited,
            "examples": list(self.examples),
            "close_matches": list(self.close_matches),
            "hidden_labels": list(self.hidden_labels),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Category(Concept):
    """A business category of equipment usage data (what the data is about).

    ``identifies_person_as``: the personal-information category data of this category counts
    as when it sits next to personal data (a device serial number next to patient data).
    ``personal_kind``: the personal-information category data of this category always is
    (``mg:personalInformationKind``, own or from the nearest broader category);
    ``linked_personal_kind``: what it is next to data identifying a person
    (``mg:linkedPersonalInformationKind``: clinical content about an identified patient).
    ``health_data_type``: the GB/T 39725-2020 health data type the category's data corresponds
    to (``mg:healthDataType``, own or from the nearest broader category; the project's crosswalk).
    """

    identifies_person_as: str | None = None
    personal_kind: str | None = None
    linked_personal_kind: str | None = None
    health_data_type: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            **Concept.to_dict(self),
            "identifies_person_as": self.identifies_person_as,
            "personal_kind": self.personal_kind,
            "linked_personal_kind": self.linked_personal_kind,
            "health_data_type": self.health_data_type,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class PersonalInfoCategory(Concept):
    """A kind of personal information; sensitive and special kinds are flagged."""

    sensitive: bool = False
    special: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {**Concept.to_dict(self), "sensitive": self.sensitive, "special": self.special}


@dataclass(frozen=True, slots=True, kw_only=True)
class ImpactDegree(Term):
    """How badly an impact object is harmed; a higher severity is worse."""

    severity: int

    def to_dict(self) -> dict[str, Any]:
        return {**Term.to_dict(self), "severity": self.severity}


@dataclass(frozen=True, slots=True, kw_only=True)
class ImpactCell:
    """One cell of the impact matrix: (object, degree) -> minimum level."""

    iri: str
    impact_object: str
    degree: str
    level: Level

    def to_dict(self) -> dict[str, Any]:
        return {
            "iri": self.iri,
            "impact_object": self.impact_object,
            "degree": self.degree,
            "level": self.level.ref(),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class TransformationType(Term):
    """A kind of processing; a level-reducing one passes at most ``cap`` once approved."""

    level_reducing: bool = False
    cap: Level | None = None
    removes_personal_information: bool = False
    triggers_scale_recheck: bool = False
    minimum_cell_size: int | None = None
    resulting_degree: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            **Term.to_dict(self),
            "level_reducing": self.level_reducing,
            "cap": self.cap.ref() if self.cap else None,
            "removes_personal_information": self.removes_personal_information,
            "triggers_scale_recheck": self.triggers_scale_recheck,
            "minimum_cell_size": self.minimum_cell_size,
            "resulting_degree": self.resulting_degree,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Measure(Term):
    """A protection measure; ``kind`` is "technical", "organisational" or None."""

    kind: str | None = None
    required_for_transfer: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            **Term.to_dict(self),
            "kind": self.kind,
            "required_for_transfer": self.required_for_transfer,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class EquipmentGroup(Term):
    """A grouping class of an official equipment classification (a catalogue category or area)."""

    scheme: str  # IRI of the classification scheme
    scheme_label_zh: str = ""
    scheme_label_en: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            **Term.to_dict(self),
            "scheme": self.scheme,
            "scheme_label_zh": self.scheme_label_zh,
            "scheme_label_en": self.scheme_label_en,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class EquipmentType(Term):
    """A concrete equipment type (a class of the taxonomy) and the groups it falls in."""

    groups: tuple[str, ...] = ()  # IRIs of EquipmentGroup classes (direct or inherited)
    parents: tuple[str, ...] = ()  # IRIs of direct superclasses

    def to_dict(self) -> dict[str, Any]:
        return {**Term.to_dict(self), "groups": list(self.groups), "parents": list(self.parents)}


@dataclass(frozen=True, slots=True, kw_only=True)
class TemplateItem(Term):
    """One named data item a type of equipment typically produces."""

    category: str | None = None
    personal_information: tuple[str, ...] = ()
    data_format: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            **Term.to_dict(self),
            "category": self.category,
            "personal_information": list(self.personal_information),
            "data_format": self.data_format,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class DataTemplate(Term):
    """The data items a type of equipment typically produces."""

    equipment_type: str | None = None
    items: tuple[TemplateItem, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            **Term.to_dict(self),
            "equipment_type": self.equipment_type,
            "items": [i.to_dict() for i in self.items],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class GradingPolicy(Term):
    """Editable parameters of the grading rules (R6 threshold and candidate level)."""

    important_data_threshold: int
    important_data_level: Level
    exempting_decision: str | None = None  # IRI of the review decision that exempts data from it
    masking_transformation: str | None = None  # IRI of the transformation type a masking column counts as
    review_interval_months: int = 12  # R15: the longest interval between two reviews of an asset

    def to_dict(self) -> dict[str, Any]:
        return {
            **Term.to_dict(self),
            "important_data_threshold": self.important_data_threshold,
            "important_data_level": self.important_data_level.ref(),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Sourced(Term):
    """A term of the grading guide with its position, source status and sources."""

    order: int | None = None  # mg:order
    status: str | None = None  # "cited", "default" or "unconfirmed" (kg.ontology_sources)
    sources: tuple[str, ...] = ()  # dcterms:source
    note_zh: str = ""  # skos:editorialNote
    note_en: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            **Term.to_dict(self),
            "order": self.order,
            "status": self.status,
            "sources": list(self.sources),
            "note_zh": self.note_zh,
            "note_en": self.note_en,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Principle(Sourced):
    """A principle classification and grading follow (NHC 2022 art. 20, GB/T 43697-2024 §4)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class GradingElement(Sourced):
    """A grading element of GB/T 43697-2024 §6.3, in the standard's order."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MethodStep(Sourced):
    """One step of a method; ``order`` is its position in it."""

    method: str  # IRI of the method

    def to_dict(self) -> dict[str, Any]:
        return {**Sourced.to_dict(self), "method": self.method}


@dataclass(frozen=True, slots=True, kw_only=True)
class Method(Sourced):
    """A documented classification or level-determination method, with its ordered steps."""

    steps: tuple[MethodStep, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {**Sourced.to_dict(self), "steps": [st.to_dict() for st in self.steps]}


@dataclass(frozen=True, slots=True, kw_only=True)
class EvidenceKind(Sourced):
    """A kind of evidence required before data goes abroad (``mg:EvidenceKind``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CrossBorderMechanism(Sourced):
    """A route by which data may go abroad; a higher ``strictness`` is stricter. ``satisfied_by``:
    IRIs of the evidence kinds any one of which satisfies it; ``permits_transfer`` false for
    "prohibited"."""

    strictness: int
    permits_transfer: bool = True
    satisfied_by: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            **Sourced.to_dict(self),
            "strictness": self.strictness,
            "permits_transfer": self.permits_transfer,
            "satisfied_by": list(self.satisfied_by),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class CrossBorderRule(Sourced):
    """One cross-border rule (``mg:CrossBorderRule``): it applies when the data is of one of
    ``data_kinds`` (IRIs of ``mg:CrossBorderDataKind``), the handler's CIIO status equals
    ``handler_ciio`` (None: either way), and the counts of people provided abroad since 1 January
    (this transfer included) lie within the inclusive bounds; ``count_unknown`` rules apply only
    when the count is not recorded, rules with bounds only when it is. ``prohibition``: an
    ``mg:Prohibition`` (no approval lifts it)."""

    mechanism: CrossBorderMechanism
    data_kinds: tuple[str, ...]
    handler_ciio: bool | None = None
    count_unknown: bool = False
    subjects_at_least: int | None = None
    subjects_at_most: int | None = None
    sensitive_at_least: int | None = None
    sensitive_at_most: int | None = None
    evidence: tuple[str, ...] = ()  # IRIs of mg:EvidenceKind, all required
    prohibition: bool = False
    purposes: tuple[str, ...] = ()  # IRIs of mg:TransferPurpose: applies only when one is declared
    when_identified: bool | None = None  # applies only when the asset's important-data identification is this
    lifts: tuple[str, ...] = ()  # IRIs of the rules that no longer apply when this one does

    @property
    def counted(self) -> bool:
        """Whether the rule has a bound on a count."""
        return any(
            b is not None
            for b in (self.subjects_at_least, self.subjects_at_most, self.sensitive_at_least, self.sensitive_at_most)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            **Sourced.to_dict(self),
            "mechanism": self.mechanism.notation,
            "data_kinds": list(self.data_kinds),
            "handler_ciio": self.handler_ciio,
            "count_unknown": self.count_unknown,
            "subjects_at_least": self.subjects_at_least,
            "subjects_at_most": self.subjects_at_most,
            "sensitive_at_least": self.sensitive_at_least,
            "sensitive_at_most": self.sensitive_at_most,
            "evidence": list(self.evidence),
            "prohibition": self.prohibition,
            "purposes": list(self.purposes),
            "when_identified": self.when_identified,
            "lifts": list(self.lifts),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class CrossBorderRules:
    """The cross-border module: mechanisms (strictest last), data kinds, evidence kinds, rules in
    ``mg:order``, which level counts as which data kind (level IRI -> kind IRI) and which
    classification concepts are health-related or human genetic resource information (IRIs,
    narrower concepts included)."""

    mechanisms: tuple[CrossBorderMechanism, ...] = ()
    data_kinds: tuple[Sourced, ...] = ()
    evidence: tuple[EvidenceKind, ...] = ()
    rules: tuple[CrossBorderRule, ...] = ()
    purposes: tuple[Sourced, ...] = ()  # mg:TransferPurpose
    level_kinds: dict[str, str] = field(default_factory=dict)
    health_related: frozenset[str] = frozenset()
    human_genetic: frozenset[str] = frozenset()

    def kind(self, notation: str) -> Sourced | None:
        """The data kind with ``notation`` ("core", "important", "personal", ...)."""
        return next((k for k in self.data_kinds if k.notation == notation), None)

    def evidence_kind(self, iri: str) -> EvidenceKind | None:
        return next((e for e in self.evidence if e.iri == iri), None)

    def rule(self, iri: str) -> CrossBorderRule | None:
        return next((r for r in self.rules if r.iri == iri), None)
