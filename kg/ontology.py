"""The ontology as typed Python objects: levels, categories, matrix, equipment, measures.

Everything the grading, lineage and transfer rules use is read here from the ontology files;
nothing is hard-coded. Editing a floor, a rank or the matrix in Protégé changes behaviour on
the next load. :func:`load_ontology` checks what it reads and reports every defect at once,
with the file and term it concerns.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SKOS
from rdflib.term import Node

from kg import MG as MG_IRI
from kg.errors import OntologyError, Problem, UnknownTermError
from kg.ontology_files import OntologyFiles, load_files
from kg.ontology_sources import STATUSES
from kg.vocabulary import (
    Category,
    Concept,
    CrossBorderMechanism,
    CrossBorderRule,
    CrossBorderRules,
    DataTemplate,
    EquipmentGroup,
    EquipmentType,
    EvidenceKind,
    GradingElement,
    GradingPolicy,
    Handling,
    ImpactCell,
    ImpactDegree,
    Level,
    Measure,
    Method,
    MethodStep,
    PersonalInfoCategory,
    Principle,
    Sourced,
    TemplateItem,
    Term,
    TransformationType,
)

MG = Namespace(MG_IRI)
T = TypeVar("T", bound=Term)
C = TypeVar("C", bound=Concept)


def _norm(text: str) -> str:
    """Normalise a name for lookup: NFKC (full-width -> ASCII), case-folded, spaces squeezed."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def name_key(text: str) -> str:
    """The key an element name is resolved by: NFKC (width), case-folded, without spaces,
    underscores or a possessive ``'s``, so ``Patient ID``, ``patient_id``, ``PatientID`` and
    ``ＰａｔｉｅｎｔＩＤ`` agree, and ``Patient's Sex`` is its DICOM keyword ``PatientSex``."""
    folded = unicodedata.normalize("NFKC", text).casefold().replace("’", "'").replace("'s", "")
    return "".join(folded.replace("_", " ").split())


@dataclass(frozen=True, slots=True)
class NameMatch:
    """An element name that is a term of the ontology's vocabulary: ``term`` (a personal-information
    concept, or a business category whose data is personal information) names ``personal``."""

    term: Concept
    personal: PersonalInfoCategory


class TermIndex(Generic[T]):
    """Find a term by IRI, local name, label, code (notation) or, failing those, a synonym."""

    def __init__(self, kind_en: str, kind_zh: str, terms: Iterable[T]) -> None:
        self.kind_en, self.kind_zh = kind_en, kind_zh
        self.by_iri: dict[str, T] = {}
        self._exact: dict[str, list[T]] = defaultdict(list)
        self._alt: dict[str, list[T]] = defaultdict(list)
        for t in terms:
            self.by_iri[t.iri] = t
            for key in {t.iri, t.local_name, t.label_zh, t.label_en, t.notation or ""} - {""}:
                self._exact[_norm(key)].append(t)
            for alt in t.alt_labels:
                self._alt[_norm(alt)].append(t)

    def __iter__(self) -> Iterator[T]:
        return iter(self.by_iri.values())

    def __len__(self) -> int:
        return len(self.by_iri)

    def __contains__(self, iri: object) -> bool:
        return iri in self.by_iri

    def get(self, iri: str) -> T | None:
        return self.by_iri.get(iri)

    def find(self, key: str) -> T:
        """The one term ``key`` names; :class:`UnknownTermError` if none or several."""
        k = _norm(key)
        for table in (self._exact, self._alt):
            hits = list(dict.fromkeys(table.get(k, ())))
            if len(hits) == 1:
                return hits[0]
            if len(hits) > 1:
                names = ", ".join(f"{h.label_zh} ({h.notation or h.local_name})" for h in hits)
                raise UnknownTermError(
                    f"'{key}' is ambiguous: it names several {self.kind_en}s: {names}",
                    f"“{key}”有歧义，对应多个{self.kind_zh}：{names}",
                )
        close = difflib.get_close_matches(k, list(self._exact) + list(self._alt), n=3, cutoff=0.6)
        hint_en = f"; did you mean {', '.join(close)}?" if close else ""
        hint_zh = f"；是否指：{'、'.join(close)}？" if close else ""
        raise UnknownTermError(f"unknown {self.kind_en} '{key}'{hint_en}", f"未知的{self.kind_zh}“{key}”{hint_zh}")


@dataclass
class Ontology:
    """The loaded ontology: typed terms with lookups. Build with :func:`load_ontology`."""

    directory: Path
    graph: Graph
    files: dict[str, Path]
    levels: TermIndex[Level]
    categories: TermIndex[Category]
    personal_information: TermIndex[PersonalInfoCategory]
    health_data_types: TermIndex[Concept]
    processing_degrees: TermIndex[Concept]
    impact_objects: TermIndex[Term]
    impact_degrees: TermIndex[ImpactDegree]
    matrix: dict[tuple[str, str], ImpactCell]
    transformations: TermIndex[TransformationType]
    measures: TermIndex[Measure]
    equipment_groups: TermIndex[EquipmentGroup]
    equipment_types: TermIndex[EquipmentType]
    templates: TermIndex[DataTemplate]
    policy: GradingPolicy
    grading_elements: TermIndex[GradingElement] = field(
        default_factory=lambda: TermIndex("grading element", "定级要素", [])
    )
    principles: TermIndex[Principle] = field(default_factory=lambda: TermIndex("principle", "原则", []))
    methods: tuple[Method, ...] = ()  # the classification and level-determination methods, steps in order
    cross_border: CrossBorderRules = field(default_factory=CrossBorderRules)  # crossborder.ttl
    schemes: dict[str, Term] = field(default_factory=dict)
    # level names the ontology marks mg:ambiguousName, by _norm key: (question zh, question en)
    ambiguous_level_names: dict[str, tuple[str, str]] = field(default_factory=dict)
    _names: dict[str, tuple[NameMatch, ...]] | None = field(default=None, repr=False, compare=False)

    def ordered_levels(self) -> list[Level]:
        """Levels from lowest to highest rank."""
        return sorted(self.levels, key=lambda lv: lv.rank)

    def level(self, key: str | int) -> Level:
        """A level by IRI, label, code or synonym, or by rank (``4`` or ``"4"``): the one resolver
        of level names for imports, the API and the CLI.

        A name the ontology marks ``mg:ambiguousName`` ("5级", "六级", "5": GB/T 39725-2020 grades
        health data 1 to 5) is refused, with its level's ``mg:ambiguityQuestion``, even as a rank
        written as text; an ``int`` is always a rank (code, not a person, wrote it)."""
        if isinstance(key, int):
            for lv in self.levels:
                if lv.rank == key:
                    return lv
            raise UnknownTermError(f"no security level has rank {key}", f"没有秩为 {key} 的数据级别")
        text = str(key).strip()
        if question := self.ambiguous_level_names.get(_norm(text)):
            raise UnknownTermError(f"'{text}' {question[1]}", f"“{text}”{question[0]}")
        if text.isdigit():
            for lv in self.levels:
                if lv.rank == int(text):
                    return lv
        return self.levels.find(text)

    def highest(self, levels: Iterable[Level]) -> Level:
        """The highest of ``levels`` (就高从严); the lowest level when there are none."""
        return max(levels, key=lambda lv: lv.rank, default=self.ordered_levels()[0])

    def impact_level(self, impact_object: str, degree: str) -> Level:
        """The minimum level the matrix gives for an (object, degree) pair, by any name."""
        obj = self.impact_objects.find(impact_object)
        deg = self.impact_degrees.find(degree)
        return self.matrix[(obj.iri, deg.iri)].level

    def measures_for(self, level: Level) -> list[Measure]:
        """The protection measures ``level`` requires, in notation order."""
        found = [self.measures.by_iri[m] for m in level.measures if m in self.measures]
        return sorted(found, key=lambda m: (m.notation or "", m.iri))

    def personal_information_root(self) -> PersonalInfoCategory:
        """The top concept of the personal-information axis: what "personal: yes" means."""
        roots = [c for c in self.personal_information if c.parent not in self.personal_information]
        if len(roots) != 1:
            raise OntologyError(
                f"the personal-information axis needs exactly one top concept, found {len(roots)}",
                f"个人信息分类应有且只有一个顶层概念，实际 {len(roots)} 个",
            )
        return roots[0]

    def personal_information_named(self, name: str) -> tuple[NameMatch, ...]:
        """What personal information an element name denotes by the ontology's vocabulary (R4):
        the name, normalised by :func:`name_key`, equals a label, ``skos:altLabel`` or
        ``skos:hiddenLabel`` of a personal-information concept, or of a business category with a
        personal-information kind (``mg:personalInformationKind``). Exact matches only: the
        classification assistant's fuzzy suggestions never raise a level by themselves."""
        if self._names is None:
            index: dict[str, dict[tuple[str, str], NameMatch]] = defaultdict(dict)
            terms: list[tuple[Concept, PersonalInfoCategory]] = [(p, p) for p in self.personal_information]
            for c in self.categories:
                kind = self.personal_information.get(c.personal_kind or "")
                if kind is not None:
                    terms.append((c, kind))
            for term, kind in terms:
                for label in {term.label_zh, term.label_en, *term.alt_labels, *term.hidden_labels}:
                    if key := name_key(label):
                        index[key][(term.iri, kind.iri)] = NameMatch(term, kind)
            self._names = {k: tuple(v[x] for x in sorted(v)) for k, v in index.items()}
        return self._names.get(name_key(name), ())

    def category_path(self, category: Category) -> list[Category]:
        """The category and its broader categories, top first."""
        path = [category]
        while path[-1].parent and path[-1].parent in self.categories:
            path.append(self.categories.by_iri[path[-1].parent])
        return path[::-1]

    def groups_of(self, equipment_type: EquipmentType) -> dict[str, EquipmentGroup]:
        """The groups of an equipment type keyed by scheme IRI (catalogue category, area)."""
        out: dict[str, EquipmentGroup] = {}
        for g in equipment_type.groups:
            group = self.equipment_groups.by_iri[g]
            out.setdefault(group.scheme, group)
        return out


S = TypeVar("S", bound=Sourced)


def in_order(terms: Iterable[S]) -> list[S]:
    """Terms by ``mg:order`` (those without one last), then by notation and IRI."""
    return sorted(terms, key=lambda t: (t.order is None, t.order or 0, t.notation or "", t.iri))


def load_ontology(directory: Path | str | None = None) -> Ontology:
    """Load and check the ontology in ``directory`` (default: the configured or shipped one)."""
    if directory is None:
        from kg.settings import Settings

        directory = Settings().resolved_ontology_dir()
    files = load_files(Path(directory))
    return _Builder(files).build()


class _Builder:
    """Turns the merged ontology graph into typed terms, collecting every defect."""

    def __init__(self, files: OntologyFiles) -> None:
        self.files = files
        self.g = files.merged()
        self.problems: list[Problem] = []
        # levels that exist but are broken (reported once, not again at every use)
        self.broken_levels: set[str] = set()

    # --- reading helpers ------------------------------------------------------------------
    def problem(self, subject: URIRef | str, en: str, zh: str) -> None:
        s = URIRef(str(subject))
        where = f"{self.files.file_of(s)} {self.g.namespace_manager.normalizeUri(s)}"
        self.problems.append(Problem(en, zh, where=where))

    def instances(self, cls: URIRef) -> list[URIRef]:
        """Named instances of ``cls`` or of any of its subclasses, sorted for stable output."""
        classes = set(self.g.transitive_subjects(RDFS.subClassOf, cls))
        found = {s for c in classes for s in self.g.subjects(RDF.type, c) if isinstance(s, URIRef)}
        return sorted(found)

    def text(self, s: URIRef, p: URIRef, lang: str) -> str:
        values = [o for o in self.g.objects(s, p) if isinstance(o, Literal)]
        for o in values:
            if o.language == lang:
                return str(o)
        return ""

    def texts(self, s: URIRef, p: URIRef) -> tuple[str, ...]:
        return tuple(sorted(str(o) for o in self.g.objects(s, p) if isinstance(o, Literal)))

    def iris(self, s: URIRef, p: URIRef) -> tuple[str, ...]:
        return tuple(sorted(str(o) for o in self.g.objects(s, p) if isinstance(o, URIRef)))

    def one(self, s: URIRef, p: URIRef) -> Node | None:
        values = list(self.g.objects(s, p))
        if len(values) > 1:
            name = self.g.namespace_manager.normalizeUri(p)
            self.problem(
                s, f"has {len(values)} values of {name}, expected one", f"{name} 有 {len(values)} 个值，应只有一个"
            )
        return values[0] if values else None

    def flag(self, s: URIRef, p: URIRef) -> bool:
        value = self.one(s, p)
        return bool(value.toPython()) if isinstance(value, Literal) else False

    def term_fields(self, s: URIRef) -> dict[str, Any]:
        zh, en = self.text(s, RDFS.label, "zh"), self.text(s, RDFS.label, "en")
        if not zh and not en:
            self.problem(s, "has no rdfs:label in zh or en", "缺少中文或英文 rdfs:label")
        notation = self.one(s, SKOS.notation)
        local = str(s).rsplit("#", 1)[-1]
        return {
            "iri": str(s),
            "label_zh": zh or en or local,
            "label_en": en or zh or local,
            "notation": str(notation) if notation is not None else None,
            "definition_zh": self.text(s, SKOS.definition, "zh"),
            "definition_en": self.text(s, SKOS.definition, "en"),
            "alt_labels": self.texts(s, SKOS.altLabel),
        }

    def level_ref(self, s: URIRef, p: URIRef, levels: dict[str, Level], required: bool) -> Level | None:
        value = self.one(s, p)
        name = self.g.namespace_manager.normalizeUri(p)
        if value is None:
            if required:
                self.problem(s, f"has no {name}", f"缺少 {name}")
            return None
        if str(value) not in levels:
            if str(value) in self.broken_levels:
                return None
            self.problem(s, f"{name} <{value}> is not a security level", f"{name} 的值 <{value}> 不是数据安全级别")
            return None
        return levels[str(value)]

    # --- the terms ----------------------------------------------------------------------------
    def build(self) -> Ontology:
        levels = self.build_levels()
        by_iri = {lv.iri: lv for lv in levels}
        categories = self.build_concepts(
            MG.DataCategory,
            by_iri,
            Category,
            need_floor=True,
            identifies_person_as=lambda s: next((str(o) for o in self.g.objects(s, MG.identifiesPersonAs)), None),
            personal_kind=lambda s: self.inherited_iri(s, MG.personalInformationKind),
            linked_personal_kind=lambda s: self.inherited_iri(s, MG.linkedPersonalInformationKind),
            health_data_type=lambda s: self.inherited_iri(s, MG.healthDataType),
        )
        pi = self.build_personal_information(by_iri)
        objects = [Term(**self.term_fields(s)) for s in self.instances(MG.ImpactObject)]
        degrees = self.build_degrees()
        matrix = self.build_matrix(objects, degrees, by_iri)
        groups, schemes = self.build_equipment_groups()
        policy = self.build_policy(by_iri)
        ontology = Ontology(
            directory=self.files.directory,
            graph=self.g,
            files=self.files.files,
            levels=TermIndex("security level", "数据级别", levels),
            categories=TermIndex("data category", "数据分类", categories),
            personal_information=TermIndex("personal-information category", "个人信息类别", pi),
            health_data_types=TermIndex(
                "health data type", "健康医疗数据类别", self.build_concepts(MG.HealthDataType, by_iri, Concept)
            ),
            processing_degrees=TermIndex(
                "processing degree", "加工程度", self.build_concepts(MG.ProcessingDegree, by_iri, Concept)
            ),
            impact_objects=TermIndex("impact object", "影响对象", objects),
            impact_degrees=TermIndex("impact degree", "影响程度", degrees),
            matrix=matrix,
            transformations=TermIndex("transformation type", "加工方式", self.build_transformations(by_iri)),
            measures=TermIndex("protection measure", "防护措施", self.build_measures()),
            equipment_groups=TermIndex("equipment group", "装备分组", groups),
            equipment_types=TermIndex("equipment type", "装备类型", self.build_equipment_types(groups)),
            templates=TermIndex("data template", "数据模板", self.build_templates()),
            grading_elements=TermIndex(
                "grading element",
                "定级要素",
                in_order(GradingElement(**self.sourced_fields(s)) for s in self.instances(MG.GradingElement)),
            ),
            principles=TermIndex(
                "principle",
                "原则",
                in_order(Principle(**self.sourced_fields(s)) for s in self.instances(MG.GradingPrinciple)),
            ),
            methods=self.build_methods(),
            cross_border=self.build_cross_border(by_iri),
            policy=policy,  # type: ignore[arg-type]  # None only with problems, raised below
            schemes=schemes,
            ambiguous_level_names=self.build_ambiguous_level_names(),
        )
        if self.problems or policy is None:
            raise OntologyError(
                f"the ontology in {self.files.directory} has {len(self.problems)} problem(s)",
                f"{self.files.directory} 中的本体有 {len(self.problems)} 处问题",
                problems=self.problems,
            )
        return ontology

    def build_levels(self) -> list[Level]:
        aspects = self.handling_aspects()
        levels: list[Level] = []
        seen: dict[int, str] = {}
        for s in self.instances(MG.SecurityLevel):
            rank = self.one(s, MG.rank)
            if not isinstance(rank, Literal) or not isinstance(rank.toPython(), int):
                self.problem(s, "has no integer mg:rank", "缺少整数 mg:rank（级别秩）")
                self.broken_levels.add(str(s))
                continue
            r = int(rank.toPython())
            if r in seen:
                self.problem(
                    s,
                    f"has rank {r}, like <{seen[r]}>; ranks must differ",
                    f"秩 {r} 与 <{seen[r]}> 相同，级别秩不得重复",
                )
            seen[r] = str(s)
            may_leave = self.one(s, MG.mayLeaveInstitution)
            levels.append(
                Level(
                    **self.term_fields(s),
                    rank=r,
                    may_leave_institution=bool(may_leave.toPython()) if isinstance(may_leave, Literal) else True,
                    measures=self.iris(s, MG.requiresMeasure),
                    handling=self.build_handling(s, aspects),
                )
            )
        if not levels:
            self.problems.append(
                Problem("defines no mg:SecurityLevel", "未定义任何数据安全级别", where=str(self.files.directory))
            )
        return sorted(levels, key=lambda lv: lv.rank)

    def handling_aspects(self) -> list[tuple[URIRef, dict[str, Any]]]:
        """The sub-properties of ``mg:handling`` (sharing, opening, ...) in their ``mg:order``."""
        found = {p for p in self.g.transitive_subjects(RDFS.subPropertyOf, MG.handling) if isinstance(p, URIRef)} - {
            MG.handling
        }
        aspects = [(p, self.sourced_fields(p)) for p in found]
        return sorted(aspects, key=lambda a: (a[1]["order"] is None, a[1]["order"] or 0, str(a[0])))

    def build_handling(self, level: URIRef, aspects: list[tuple[URIRef, dict[str, Any]]]) -> tuple[Handling, ...]:
        """How data of ``level`` is handled, aspect by aspect; each aspect stated in zh and en."""
        out = []
        for prop, f in aspects:
            zh, en = self.text(level, prop, "zh"), self.text(level, prop, "en")
            if not (zh or en):
                continue
            name = self.g.namespace_manager.normalizeUri(prop)
            if not (zh and en):
                self.problem(level, f"states {name} in only one of zh and en", f"{name}（处理原则）须有中英文各一条")
            out.append(
                Handling(
                    key=f["notation"] or prop.rsplit("#", 1)[-1],
                    aspect_iri=str(prop),
                    label_zh=f["label_zh"],
                    label_en=f["label_en"],
                    text_zh=zh or en,
                    text_en=en or zh,
                )
            )
        return tuple(out)

    def sourced_fields(self, s: URIRef, need_order: bool = False) -> dict[str, Any]:
        """:meth:`term_fields` with ``mg:order``, the source status, sources and editorial note."""
        order = self.one(s, MG.order)
        value = order.toPython() if isinstance(order, Literal) else None
        if order is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            self.problem(s, f"mg:order {order} is not a positive whole number", f"mg:order（顺序）{order} 不是正整数")
            value = None
        elif order is None and need_order:
            self.problem(s, "has no mg:order (its position in its method)", "缺少 mg:order（在所属方法中的顺序）")
        status = [STATUSES.get(o) for o in self.g.objects(s, MG.sourceStatus) if isinstance(o, URIRef)]
        return {
            **self.term_fields(s),
            "order": value,
            "status": status[0] if len(status) == 1 else None,
            "sources": self.texts(s, DCTERMS.source),
            "note_zh": self.text(s, SKOS.editorialNote, "zh"),
            "note_en": self.text(s, SKOS.editorialNote, "en"),
        }

    def build_methods(self) -> tuple[Method, ...]:
        """The methods with their steps, each step in its ``mg:order``; a step with no method, no
        order or the order of another step of its method is a problem."""
        methods = {str(m): m for m in self.instances(MG.GradingMethod)}
        steps: dict[str, list[MethodStep]] = defaultdict(list)
        for s in self.instances(MG.MethodStep):
            fields = self.sourced_fields(s, need_order=True)
            method = self.one(s, MG.stepOf)
            if method is None or str(method) not in methods:
                self.problem(
                    s,
                    f"mg:stepOf <{method}> is not a mg:GradingMethod" if method else "has no mg:stepOf (its method)",
                    f"mg:stepOf 的值 <{method}> 不是分类分级方法" if method else "缺少 mg:stepOf（所属方法）",
                )
                continue
            if fields["order"] is None:
                continue
            step = MethodStep(**fields, method=str(method))
            for other in steps[str(method)]:
                if other.order == step.order:
                    self.problem(
                        s,
                        f"has mg:order {step.order}, like <{other.iri}>; steps of a method must differ",
                        f"mg:order {step.order} 与 <{other.iri}> 相同，同一方法的步骤顺序不得重复",
                    )
            steps[str(method)].append(step)
        out = [
            Method(**self.sourced_fields(m), steps=tuple(sorted(steps[iri], key=lambda st: st.order or 0)))
            for iri, m in methods.items()
        ]
        return tuple(in_order(out))

    def build_ambiguous_level_names(self) -> dict[str, tuple[str, str]]:
        """Spellings of levels that may mean a level of another scheme, with the question to ask."""
        out: dict[str, tuple[str, str]] = {}
        for s in self.instances(MG.SecurityLevel):
            names = self.texts(s, MG.ambiguousName)
            zh, en = self.text(s, MG.ambiguityQuestion, "zh"), self.text(s, MG.ambiguityQuestion, "en")
            if names and not (zh and en):
                self.problem(
                    s,
                    "has mg:ambiguousName but no mg:ambiguityQuestion in zh and en",
                    "有 mg:ambiguousName，但缺少中英文 mg:ambiguityQuestion（歧义提问）",
                )
            for name in names:
                out[_norm(name)] = (zh, en)
        return out

    def build_concepts(
        self,
        cls: URIRef,
        levels: dict[str, Level],
        kind: type[C],
        need_floor: bool = False,
        **extra: Callable[[URIRef], Any],
    ) -> list[C]:
        subjects = self.instances(cls)
        own = {str(s): self.level_ref(s, MG.floorLevel, levels, required=False) for s in subjects}
        parent = {str(s): next((str(b) for b in self.g.objects(s, SKOS.broader)), None) for s in subjects}
        out = []
        for s in subjects:
            iri = str(s)
            floor, inherited, cursor, hops = own[iri], False, parent[iri], 0
            while floor is None and cursor in own and hops < 50:  # nearest broader floor
                floor, inherited, cursor, hops = own[cursor], True, parent[cursor], hops + 1
            if need_floor and floor is None:
                self.problem(
                    s,
                    "has no mg:floorLevel and no broader concept with one",
                    "缺少 mg:floorLevel（最低级别），其上位概念也没有",
                )
            out.append(
                kind(
                    **self.term_fields(s),
                    scheme=next((str(x) for x in self.g.objects(s, SKOS.inScheme)), None),
                    parent=parent[iri],
                    floor=floor,
                    floor_inherited=inherited,
                    examples=self.texts(s, SKOS.example),
                    close_matches=self.iris(s, SKOS.closeMatch),
                    hidden_labels=self.texts(s, SKOS.hiddenLabel),
                    **self.extras(s, extra),
                )
            )
        return out

    def inherited_iri(self, s: URIRef, p: URIRef) -> str | None:
        """The IRI value of ``p`` on ``s`` or on its nearest broader concept that has one."""
        cursor: URIRef | None = s
        for _ in range(50):
            if cursor is None:
                return None
            kind = next((str(o) for o in self.g.objects(cursor, p)), None)
            if kind is not None:
                return kind
            b = next(self.g.objects(cursor, SKOS.broader), None)
            cursor = b if isinstance(b, URIRef) else None
        return None

    @staticmethod
    def extras(s: URIRef, extra: dict[str, Callable[[URIRef], Any]]) -> dict[str, Any]:
        return {k: fn(s) for k, fn in extra.items()}

    def build_personal_information(self, levels: dict[str, Level]) -> list[PersonalInfoCategory]:
        sensitive = set(self.instances(MG.SensitivePersonalInformationCategory))
        special = set(self.instances(MG.SpecialPersonalInformationCategory))
        return self.build_concepts(
            MG.PersonalInformationCategory,
            levels,
            PersonalInfoCategory,
            need_floor=True,
            sensitive=lambda s: s in sensitive,
            special=lambda s: s in special,
        )

    def build_degrees(self) -> list[ImpactDegree]:
        out = []
        for s in self.instances(MG.ImpactDegree):
            sev = self.one(s, MG.severityRank)
            if not isinstance(sev, Literal) or not isinstance(sev.toPython(), int):
                self.problem(s, "has no integer mg:severityRank", "缺少整数 mg:severityRank（程度秩）")
                continue
            out.append(ImpactDegree(**self.term_fields(s), severity=int(sev.toPython())))
        return out

    def build_matrix(
        self, objects: list[Term], degrees: list[ImpactDegree], levels: dict[str, Level]
    ) -> dict[tuple[str, str], ImpactCell]:
        matrix: dict[tuple[str, str], ImpactCell] = {}
        for s in self.instances(MG.ImpactMatrixCell):
            obj, deg = self.one(s, MG.impactObject), self.one(s, MG.impactDegree)
            level = self.level_ref(s, MG.resultLevel, levels, required=True)
            if obj is None or deg is None:
                self.problem(
                    s,
                    "needs mg:impactObject and mg:impactDegree",
                    "影响矩阵单元须有 mg:impactObject 和 mg:impactDegree",
                )
                continue
            key = (str(obj), str(deg))
            if key in matrix and level is not None:
                self.problem(s, f"duplicates the cell <{matrix[key].iri}>", f"与单元 <{matrix[key].iri}> 重复")
            if level is not None:
                matrix[key] = ImpactCell(iri=str(s), impact_object=key[0], degree=key[1], level=level)
        for o in objects:
            for d in degrees:
                if (o.iri, d.iri) not in matrix:
                    self.problem(
                        URIRef(o.iri),
                        f"the impact matrix has no cell for ({o.label_en}, {d.label_en})",
                        f"影响矩阵缺少（{o.label_zh}，{d.label_zh}）单元",
                    )
        return matrix

    def build_transformations(self, levels: dict[str, Level]) -> list[TransformationType]:
        out = []
        for s in self.instances(MG.TransformationType):
            reducing = self.flag(s, MG.levelReducing)
            size = self.one(s, MG.minimumCellSize)
            degree = self.one(s, MG.resultingDegree)
            out.append(
                TransformationType(
                    **self.term_fields(s),
                    level_reducing=reducing,
                    cap=self.level_ref(s, MG.capLevel, levels, required=reducing),
                    removes_personal_information=self.flag(s, MG.removesPersonalInformation),
                    triggers_scale_recheck=self.flag(s, MG.triggersScaleRecheck),
                    minimum_cell_size=int(size.toPython()) if isinstance(size, Literal) else None,
                    resulting_degree=str(degree) if degree is not None else None,
                )
            )
        return out

    def build_measures(self) -> list[Measure]:
        technical = set(self.instances(MG.TechnicalMeasure))
        organisational = set(self.instances(MG.OrganisationalMeasure))
        return [
            Measure(
                **self.term_fields(s),
                kind="technical" if s in technical else "organisational" if s in organisational else None,
                required_for_transfer=self.flag(s, MG.requiredForTransfer),
            )
            for s in self.instances(MG.ProtectionMeasure)
        ]

    def equipment_classes(self) -> set[URIRef]:
        return {
            c
            for c in self.g.transitive_subjects(RDFS.subClassOf, MG.Equipment)
            if isinstance(c, URIRef) and c != MG.Equipment
        }

    def build_equipment_groups(self) -> tuple[list[EquipmentGroup], dict[str, Term]]:
        groups, schemes = [], {}
        for c in sorted(self.equipment_classes()):
            scheme = self.one(c, MG.classificationScheme)
            if scheme is None:
                continue
            sch = URIRef(str(scheme))
            if str(sch) not in schemes:
                schemes[str(sch)] = Term(**self.term_fields(sch))
            groups.append(
                EquipmentGroup(
                    **self.term_fields(c),
                    scheme=str(sch),
                    scheme_label_zh=schemes[str(sch)].label_zh,
                    scheme_label_en=schemes[str(sch)].label_en,
                )
            )
        return groups, schemes

    def build_equipment_types(self, groups: list[EquipmentGroup]) -> list[EquipmentType]:
        group_iris = {g.iri for g in groups}
        out = []
        for c in sorted(self.equipment_classes()):
            if str(c) in group_iris:
                continue
            supers = {str(x) for x in self.g.transitive_objects(c, RDFS.subClassOf)}
            out.append(
                EquipmentType(
                    **self.term_fields(c),
                    groups=tuple(sorted(supers & group_iris)),
                    parents=self.iris(c, RDFS.subClassOf),
                )
            )
        return out

    def build_templates(self) -> list[DataTemplate]:
        out = []
        for s in self.instances(MG.DataTemplate):
            items = []
            for i in sorted(o for o in self.g.objects(s, MG.templateItem) if isinstance(o, URIRef)):
                cat = self.one(i, MG.hasCategory)
                fmt = self.one(i, MG.dataFormat)
                items.append(
                    TemplateItem(
                        **self.term_fields(i),
                        category=str(cat) if cat is not None else None,
                        personal_information=self.iris(i, MG.hasPersonalInformation),
                        data_format=str(fmt) if fmt is not None else None,
                    )
                )
            target = self.one(s, MG.templateFor)
            out.append(
                DataTemplate(
                    **self.term_fields(s),
                    items=tuple(items),
                    equipment_type=str(target) if target is not None else None,
                )
            )
        return out

    def build_policy(self, levels: dict[str, Level]) -> GradingPolicy | None:
        policies = self.instances(MG.GradingPolicy)
        if len(policies) != 1:
            self.problems.append(
                Problem(
                    f"expected exactly one mg:GradingPolicy, found {len(policies)}",
                    f"应有且只有一个 mg:GradingPolicy（定级策略），实际 {len(policies)} 个",
                    where=str(self.files.directory),
                )
            )
            return None
        s = policies[0]
        threshold = self.one(s, MG.importantDataSubjectThreshold)
        level = self.level_ref(s, MG.importantDataCandidateLevel, levels, required=True)
        if not isinstance(threshold, Literal) or not isinstance(threshold.toPython(), int):
            self.problem(
                s,
                "has no integer mg:importantDataSubjectThreshold",
                "缺少整数 mg:importantDataSubjectThreshold（重要数据规模阈值）",
            )
            return None
        if level is None:
            return None
        exempt = self.one(s, MG.exemptingDecision)
        masking = self.one(s, MG.maskingTransformation)
        interval = self.one(s, MG.reviewIntervalMonths)
        months = interval.toPython() if isinstance(interval, Literal) else 12  # absent: yearly (NHC art. 20)
        if not isinstance(months, int) or months < 1:
            self.problem(
                s,
                "mg:reviewIntervalMonths is not a positive whole number of months",
                "mg:reviewIntervalMonths（复核周期）不是正整数月数",
            )
            return None
        return GradingPolicy(
            **self.term_fields(s),
            important_data_threshold=int(threshold.toPython()),
            important_data_level=level,
            exempting_decision=str(exempt) if exempt is not None else None,
            masking_transformation=str(masking) if masking is not None else None,
            review_interval_months=months,
        )

    # --- cross-border rules (crossborder.ttl) ----------------------------------------------------
    # the data kinds the decision (kg.crossborder) computes facts for, by notation
    DATA_KINDS = ("core", "important", "personal", "health_personal", "human_genetic", "none")

    def bound(self, s: URIRef, p: URIRef) -> int | None:
        """A whole-number bound of a cross-border rule; anything else is a problem."""
        value = self.one(s, p)
        if value is None:
            return None
        number = value.toPython() if isinstance(value, Literal) else None
        if not isinstance(number, int) or isinstance(number, bool) or number < 0:
            name = self.g.namespace_manager.normalizeUri(p)
            self.problem(s, f"{name} {value} is not a whole number", f"{name} 的值 {value} 不是非负整数")
            raise ValueError(name)
        return number

    def boolean(self, s: URIRef, p: URIRef) -> bool | None:
        value = self.one(s, p)
        if value is None:
            return None
        if not isinstance(value, Literal) or not isinstance(value.toPython(), bool):
            name = self.g.namespace_manager.normalizeUri(p)
            self.problem(s, f"{name} {value} is not true or false", f"{name} 的值 {value} 不是 true 或 false")
            raise ValueError(name)
        return bool(value.toPython())

    def marked(self, p: URIRef) -> frozenset[str]:
        """Classification concepts whose nearest own-or-broader value of ``p`` is true."""
        out = set()
        for s in self.instances(MG.ClassificationConcept):
            cursor: URIRef | None = s
            for _ in range(50):
                if cursor is None:
                    break
                value = next((o for o in self.g.objects(cursor, p) if isinstance(o, Literal)), None)
                if value is not None:
                    if value.toPython() is True:
                        out.add(str(s))
                    break
                b = next(self.g.objects(cursor, SKOS.broader), None)
                cursor = b if isinstance(b, URIRef) else None
        return frozenset(out)

    def build_cross_border(self, levels: dict[str, Level]) -> CrossBorderRules:
        """The cross-border module; a malformed mechanism or rule (no mechanism, a bound that is
        not a whole number, an unknown data kind) is a located problem."""
        evidence = in_order(EvidenceKind(**self.sourced_fields(s)) for s in self.instances(MG.EvidenceKind))
        evidence_iris = {e.iri for e in evidence}
        mechanisms: dict[str, CrossBorderMechanism] = {}
        for s in self.instances(MG.CrossBorderMechanism):
            strictness = self.one(s, MG.strictness)
            value = strictness.toPython() if isinstance(strictness, Literal) else None
            if not isinstance(value, int) or isinstance(value, bool):
                self.problem(s, "has no integer mg:strictness", "缺少整数 mg:strictness（严格程度）")
                continue
            try:
                permits = self.boolean(s, MG.permitsTransfer)
            except ValueError:
                continue
            satisfied = self.iris(s, MG.satisfiedBy)
            for e in set(satisfied) - evidence_iris:
                self.problem(
                    s, f"mg:satisfiedBy <{e}> is not a mg:EvidenceKind", f"mg:satisfiedBy 的值 <{e}> 不是证明材料种类"
                )
            mechanisms[str(s)] = CrossBorderMechanism(
                **self.sourced_fields(s),
                strictness=value,
                permits_transfer=True if permits is None else permits,
                satisfied_by=satisfied,
            )
        kinds = in_order(Sourced(**self.sourced_fields(s)) for s in self.instances(MG.CrossBorderDataKind))
        kind_iris = {k.iri for k in kinds}
        notations = {k.notation for k in kinds}
        if mechanisms or kinds or self.instances(MG.CrossBorderRule):
            for missing in [n for n in self.DATA_KINDS if n not in notations]:
                self.problems.append(
                    Problem(
                        f"no mg:CrossBorderDataKind has the notation '{missing}'",
                        f"没有记号为“{missing}”的出境数据种类（mg:CrossBorderDataKind）",
                        where=str(self.files.directory),
                    )
                )
        prohibitions = set(self.instances(MG.Prohibition))
        purposes = in_order(Sourced(**self.sourced_fields(s)) for s in self.instances(MG.TransferPurpose))
        purpose_iris = {p.iri for p in purposes}
        rules = []
        for s in self.instances(MG.CrossBorderRule):
            mechanism = self.one(s, MG.mechanism)
            if mechanism is None or str(mechanism) not in mechanisms:
                self.problem(
                    s,
                    f"mg:mechanism <{mechanism}> is not a mg:CrossBorderMechanism"
                    if mechanism
                    else "has no mg:mechanism",
                    f"mg:mechanism 的值 <{mechanism}> 不是出境机制" if mechanism else "缺少 mg:mechanism（出境机制）",
                )
                continue
            applies = self.iris(s, MG.appliesToDataKind)
            if not applies or set(applies) - kind_iris:
                self.problem(
                    s,
                    "mg:appliesToDataKind is missing or not a mg:CrossBorderDataKind",
                    "mg:appliesToDataKind（适用数据种类）缺失或不是出境数据种类",
                )
                continue
            required = self.iris(s, MG.requiresEvidence)
            if set(required) - evidence_iris:
                self.problem(
                    s, "mg:requiresEvidence is not a mg:EvidenceKind", "mg:requiresEvidence 的值不是证明材料种类"
                )
                continue
            try:
                identified = self.boolean(s, MG.whenIdentifiedAsImportant)
                ciio = self.boolean(s, MG.handlerIsCIIO)
                unknown = bool(self.boolean(s, MG.subjectCountUnknown))
                bounds = [
                    self.bound(s, p)
                    for p in (
                        MG.subjectsAtLeast,
                        MG.subjectsAtMost,
                        MG.sensitiveSubjectsAtLeast,
                        MG.sensitiveSubjectsAtMost,
                    )
                ]
            except ValueError:
                continue
            fields = self.sourced_fields(s)
            if not (fields["definition_zh"] and fields["definition_en"]):
                self.problem(
                    s, "has no skos:definition in zh and en (its text)", "缺少中英文 skos:definition（规则文字）"
                )
            for_purposes = self.iris(s, MG.forPurpose)
            if set(for_purposes) - purpose_iris:
                self.problem(s, "mg:forPurpose is not a mg:TransferPurpose", "mg:forPurpose 的值不是出境目的")
                continue
            rules.append(
                CrossBorderRule(
                    **fields,
                    purposes=for_purposes,
                    when_identified=identified,
                    lifts=self.iris(s, MG.lifts),
                    mechanism=mechanisms[str(mechanism)],
                    data_kinds=applies,
                    evidence=required,
                    prohibition=s in prohibitions,
                    handler_ciio=ciio,
                    count_unknown=unknown,
                    subjects_at_least=bounds[0],
                    subjects_at_most=bounds[1],
                    sensitive_at_least=bounds[2],
                    sensitive_at_most=bounds[3],
                )
            )
        rule_iris = {r.iri for r in rules}
        for r in rules:
            for lifted in r.lifts:
                if lifted not in rule_iris or URIRef(lifted) in prohibitions:
                    self.problem(
                        URIRef(r.iri),
                        f"mg:lifts <{lifted}> is not a cross-border rule that may be lifted (a prohibition never is)",
                        f"mg:lifts 的值 <{lifted}> 不是可免除的出境规则（禁止性规则不能被免除）",
                    )
        level_kinds = {}
        for lv in levels:
            kind = self.one(URIRef(lv), MG.crossBorderDataKind)
            if kind is not None:
                if str(kind) not in kind_iris:
                    self.problem(
                        URIRef(lv),
                        f"mg:crossBorderDataKind <{kind}> is not a mg:CrossBorderDataKind",
                        f"mg:crossBorderDataKind 的值 <{kind}> 不是出境数据种类",
                    )
                    continue
                level_kinds[lv] = str(kind)
        return CrossBorderRules(
            mechanisms=tuple(sorted(mechanisms.values(), key=lambda m: (m.strictness, m.iri))),
            data_kinds=tuple(kinds),
            evidence=tuple(evidence),
            rules=tuple(in_order(rules)),
            purposes=tuple(purposes),
            level_kinds=level_kinds,
            health_related=self.marked(MG.healthRelatedInformation),
            human_genetic=self.marked(MG.humanGeneticResourceInformation),
        )
