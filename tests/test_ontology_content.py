"""The ontology holds what SPEC §2–§6 asks for, with bilingual labels and definitions."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from kg import MG, ONTOLOGY_IRI
from kg.ontology import Ontology
from kg.ontology_files import parse_file, read_catalog

DECLARED = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty, OWL.NamedIndividual)

# SPEC §9: these zh labels are used verbatim in spreadsheets.
TOP_CATEGORIES = [
    "设备基础信息",
    "设备运行数据",
    "设备使用数据",
    "质量控制数据",
    "运维数据",
    "安全事件数据",
    "网络安全数据",
    "临床业务数据",
    "患者信息",
    "人员信息",
    "管理经营数据",
    "统计分析数据",
]
LEVELS = {6: "核心数据", 5: "重要数据", 4: "一般数据4级", 3: "一般数据3级", 2: "一般数据2级", 1: "一般数据1级"}
TRANSFORMATIONS = ["原始提取", "转换", "关联融合", "汇聚统计", "去标识化", "假名化", "匿名化"]
AREAS = [
    "诊断检验装备",
    "治疗装备",
    "监护与生命支持装备",
    "中医诊疗装备",
    "妇幼健康装备",
    "保健康复装备",
    "有源植介入器械",
]
CATALOGUE = {
    "01": "有源手术器械",
    "02": "无源手术器械",
    "03": "神经和心血管手术器械",
    "04": "骨科手术器械",
    "05": "放射治疗器械",
    "06": "医用成像器械",
    "07": "医用诊察和监护器械",
    "08": "呼吸、麻醉和急救器械",
    "09": "物理治疗器械",
    "10": "输血、透析和体外循环器械",
    "11": "医疗器械消毒灭菌器械",
    "12": "有源植入器械",
    "13": "无源植入器械",
    "14": "注输、护理和防护器械",
    "15": "患者承载器械",
    "16": "眼科器械",
    "17": "口腔科器械",
    "18": "妇产科、辅助生殖和避孕器械",
    "19": "医用康复器械",
    "20": "中医器械",
    "21": "医用软件",
    "22": "临床检验器械",
}
# SPEC §2 impact matrix: object -> (particularly serious, serious, general, none) as level ranks.
MATRIX = {
    "国家安全": (6, 6, 5, 1),
    "经济运行": (6, 5, 2, 1),
    "社会秩序": (6, 5, 2, 1),
    "公共利益": (6, 5, 2, 1),
    "组织权益": (4, 3, 2, 1),
    "个人权益": (4, 3, 2, 1),
}


def labels(g: Graph, s: URIRef, p: URIRef = RDFS.label) -> dict[str, str]:
    return {o.language: str(o) for o in g.objects(s, p) if isinstance(o, Literal) and o.language}


def test_every_project_term_has_bilingual_label_and_definition(onto: Ontology) -> None:
    g = onto.graph
    terms = {s for t in DECLARED for s in g.subjects(RDF.type, t) if str(s).startswith(MG)}
    assert len(terms) > 400
    missing = []
    for s in sorted(terms):
        for prop in (RDFS.label, SKOS.definition):
            have = labels(g, s, prop)
            if not (have.get("zh") and have.get("en")):
                missing.append(f"{s} {prop} has {sorted(have)}")
    assert missing == []


def test_levels_are_the_six_default_levels(onto: Ontology) -> None:
    assert {lv.rank: lv.label_zh for lv in onto.levels} == LEVELS
    assert [lv.label_en for lv in onto.ordered_levels()] == [
        "General-1",
        "General-2",
        "General-3",
        "General-4",
        "Important",
        "Core",
    ]
    assert not onto.level(6).may_leave_institution
    assert all(onto.level(r).may_leave_institution for r in range(1, 6))


def test_impact_matrix_is_data_and_matches_the_standard(onto: Ontology) -> None:
    assert len(onto.impact_objects) == 6 and len(onto.impact_degrees) == 4
    assert len(onto.matrix) == 24
    degrees = ["特别严重", "严重", "一般", "无"]
    got = {obj: tuple(onto.impact_level(obj, d).rank for d in degrees) for obj in MATRIX}
    assert got == MATRIX
    # readable by SPARQL, one individual per cell
    rows = onto.graph.query(
        """SELECT ?o ?d ?r WHERE { ?c a mg:ImpactMatrixCell ; mg:impactObject ?ob ; mg:impactDegree ?dg ;
             mg:resultLevel ?lv . ?ob rdfs:label ?o . ?dg rdfs:label ?d . ?lv mg:rank ?r .
             FILTER(lang(?o) = "zh" && lang(?d) = "zh") }""",
        initNs={"mg": MG, "rdfs": RDFS},
    )
    assert len(rows) == 24
    assert {(str(o), str(d), int(r)) for o, d, r in rows} >= {("国家安全", "一般危害", 5), ("个人权益", "严重危害", 3)}


def test_business_categories(onto: Ontology) -> None:
    cats = list(onto.categories)
    assert len(cats) >= 40
    top = [c for c in cats if c.parent is None]
    assert sorted(c.label_zh for c in top) == sorted(TOP_CATEGORIES)
    notations = Counter(c.notation for c in cats)
    assert all(n for n in notations) and max(notations.values()) == 1
    for c in cats:
        assert c.floor is not None and not c.floor_inherited, c.iri
        assert c.examples, f"{c.iri} has no skos:example"
        assert len(c.alt_labels) >= 2, f"{c.iri} has too few synonyms"
        assert c.definition_zh and c.definition_en
        assert c.parent is None or c.parent in onto.categories
    floors = {c.label_zh: c.floor.rank for c in top if c.floor}
    assert floors["患者信息"] == 4 and floors["临床业务数据"] == 4
    assert floors["网络安全数据"] == 3 and floors["设备运行数据"] == 2
    assert onto.categories.find("口令与密钥").floor.rank == 4  # type: ignore[union-attr]


def test_personal_information_axis(onto: Ontology) -> None:
    pi = onto.personal_information
    assert pi.find("个人信息").floor.rank == 3  # type: ignore[union-attr]
    sensitive = pi.find("敏感个人信息")
    assert sensitive.sensitive and sensitive.floor.rank == 4  # type: ignore[union-attr]
    special = [c for c in pi if c.special]
    assert {c.label_zh for c in special} >= {"基因信息", "精神卫生信息", "生殖健康信息"}
    assert any("传染病" in c.label_zh for c in special)
    assert all(c.sensitive for c in special)
    assert {c.label_zh for c in onto.health_data_types} == {
        "个人属性数据",
        "健康状况数据",
        "医疗应用数据",
        "医疗支付数据",
        "卫生资源数据",
        "公共卫生数据",
    }
    assert {c.label_zh for c in onto.processing_degrees} >= {"原始", "去标识化", "假名化", "匿名化", "统计", "融合"}


def test_transformations_and_caps(onto: Ontology) -> None:
    assert sorted(t.label_zh for t in onto.transformations) == sorted(TRANSFORMATIONS)
    reducing = {t.label_zh: t.cap.rank for t in onto.transformations if t.level_reducing and t.cap}
    assert set(reducing) == {"去标识化", "假名化", "匿名化", "汇聚统计"}
    assert all(not t.level_reducing for t in onto.transformations if t.label_zh in ("原始提取", "转换", "关联融合"))
    assert onto.transformations.find("匿名化").removes_personal_information
    assert not onto.transformations.find("假名化").removes_personal_information


def test_measures_by_level(onto: Ontology) -> None:
    previous: set[str] = set()
    for lv in onto.ordered_levels():
        current = {m.iri for m in onto.measures_for(lv)}
        assert current and previous <= current, f"{lv.label_en} drops a lower level's measure"
        previous = current
    core = {m.label_zh for m in onto.measures_for(onto.level(6))}
    assert "禁止对外提供" in core
    assert "处理和提供前风险评估" in {m.label_zh for m in onto.measures_for(onto.level(5))}


def test_equipment_taxonomy(onto: Ontology) -> None:
    by_scheme: dict[str, dict[str, str]] = {}
    for g in onto.equipment_groups:
        by_scheme.setdefault(g.scheme, {})[g.notation or ""] = g.label_zh
    assert sorted(map(len, by_scheme.values())) == [7, 22]
    catalogue = next(v for v in by_scheme.values() if len(v) == 22)
    areas = next(v for v in by_scheme.values() if len(v) == 7)
    assert catalogue == CATALOGUE
    assert sorted(areas.values()) == sorted(AREAS)
    types = list(onto.equipment_types)
    assert len(types) >= 60
    for t in types:
        groups = onto.groups_of(t)
        assert len(groups) == 2, f"{t.iri} should sit in one catalogue category and one area"
        per_scheme = Counter(onto.equipment_groups.by_iri[g].scheme for g in t.groups)
        assert max(per_scheme.values()) == 1, f"{t.iri} is in two groups of one scheme"
    ct = onto.equipment_types.find("CT")
    assert {g.label_zh for g in onto.groups_of(ct).values()} == {"医用成像器械", "诊断检验装备"}


@pytest.mark.parametrize(
    "name",
    [
        "CT",
        "MR",
        "PET/CT",
        "DR",
        "DSA",
        "超声",
        "直线加速器",
        "呼吸机",
        "麻醉机",
        "监护仪",
        "输液泵",
        "血液透析机",
        "心电图机",
        "内窥镜",
        "生化分析仪",
    ],
)
def test_templates_for_common_types(onto: Ontology, name: str) -> None:
    eq = onto.equipment_types.find(name)
    templates = [t for t in onto.templates if t.equipment_type == eq.iri]
    assert templates, f"no data template for {eq.label_zh}"
    items = [i for t in templates for i in t.items]
    assert len(items) >= 5
    for item in items:
        assert item.category in onto.categories, item.iri
        assert item.data_format
        assert all(p in onto.personal_information for p in item.personal_information)


def test_catalog_maps_every_module_and_the_umbrella_imports_them(ontology_dir: Path) -> None:
    catalog = read_catalog(ontology_dir)
    files = {p.resolve() for p in ontology_dir.glob("*.ttl")}
    assert set(catalog.values()) == files
    umbrella = parse_file(catalog[ONTOLOGY_IRI])
    imports = {str(o) for o in umbrella.objects(URIRef(ONTOLOGY_IRI), OWL.imports)}
    assert imports == set(catalog) - {ONTOLOGY_IRI}
    for iri, path in catalog.items():
        assert (URIRef(iri), RDF.type, OWL.Ontology) in parse_file(path), path.name


def test_stub_declarations_agree_with_the_defining_module(ontology_dir: Path) -> None:
    """Modules repeat bare declarations of terms they use (so each file is DL on its own);
    every such stub must give the term the type its defining module gives it."""
    graphs = {p.name: parse_file(p) for p in sorted(ontology_dir.glob("*.ttl"))}

    def is_stub(g: Graph, s: object) -> bool:
        return set(g.predicates(s, None)) == {RDF.type}  # type: ignore[arg-type]

    defined: dict[object, set[object]] = {}
    for g in graphs.values():
        for s in set(g.subjects(RDF.type, None)):
            if str(s).startswith(MG) and not is_stub(g, s):
                defined.setdefault(s, set()).update(g.objects(s, RDF.type))
    stubs = 0
    for name, g in graphs.items():
        for s in set(g.subjects(RDF.type, None)):
            if not str(s).startswith(MG) or not is_stub(g, s):
                continue
            stubs += 1
            assert s in defined, f"{name}: stub for {s} but no module defines it"
            extra = set(g.objects(s, RDF.type)) - defined[s] - {OWL.NamedIndividual}
            assert not extra, f"{name}: stub gives {s} the type(s) {extra} its module does not"
    assert stubs > 50
