"""``medgrade ontology method``: the grading guide as data (issue #19): principles with their
sources, the grading elements in the order of GB/T 43697-2024 §6.3, the classification and
level-determination methods as ordered steps, each level's handling; all read from the ontology."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from markupsafe import escape
from rdflib import Literal, Namespace
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from kg import MG
from kg.errors import OntologyError
from kg.ontology import Ontology, load_ontology
from tests.helpers import demo_client, edit_module
from tests.test_cli import medgrade

M = Namespace(MG)

NHC_PRINCIPLES = ["合法合规原则", "可执行原则", "时效性原则", "自主性原则", "差异性原则", "客观性原则"]
GBT_PRINCIPLES = ["科学实用原则", "边界清晰原则", "就高从严原则", "点面结合原则", "动态更新原则"]
ELEMENTS = ["领域", "群体", "区域", "精度", "规模", "深度", "覆盖度", "重要性"]
PKG = "pkg-nhic-dose-ct-2026-10"  # the demo's CT dose package (important data after aggregation)


def _flat(text: str) -> str:
    """The printed tables without borders and line breaks, so wrapped cells read as one text."""
    for ch in "│┃┆┊":
        text = text.replace(ch, " ")
    return "".join(text.split())


@pytest.fixture(scope="module")
def printed() -> str:
    proc = medgrade("ontology", "method", env={"COLUMNS": "1000"})  # no cell wraps
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def data() -> dict:  # type: ignore[type-arg]
    proc = medgrade("ontology", "method", "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def test_the_eleven_principles_with_their_sources(onto: Ontology) -> None:
    assert [p.label_zh for p in onto.principles] == NHC_PRINCIPLES + GBT_PRINCIPLES
    for p in onto.principles:
        assert p.label_en and p.definition_zh and p.definition_en
        assert p.status == "cited" and p.note_zh and p.note_en
        want = "第二十条" if p.label_zh in NHC_PRINCIPLES else "GB/T 43697-2024 §4"
        assert any(want in s for s in p.sources), (p.label_zh, p.sources)


def test_the_elements_are_in_the_standards_order(onto: Ontology) -> None:
    assert [e.label_zh for e in onto.grading_elements] == ELEMENTS
    assert [e.order for e in onto.grading_elements] == list(range(1, 9))


def test_the_methods_and_their_ordered_steps(onto: Ontology) -> None:
    assert [m.notation for m in onto.methods] == ["classification", "level-determination"]
    classification, determination = onto.methods
    assert any("§5.2" in s for s in classification.sources) and any("§6.6" in s for s in determination.sources)
    for m in onto.methods:
        assert [st.order for st in m.steps] == list(range(1, len(m.steps) + 1)) and len(m.steps) >= 5
        for st in m.steps:
            assert st.method == m.iri and st.label_zh and st.label_en and st.definition_zh and st.definition_en
            assert st.status == "unconfirmed" and st.note_zh and st.note_en  # summaries, marked as such
    assert "综合确定级别" in [st.label_zh for st in determination.steps]
    assert "就高从严" in next(st for st in determination.steps if st.label_zh == "综合确定级别").definition_zh


def test_every_level_has_its_handling_in_both_languages(onto: Ontology) -> None:
    for lv in onto.levels:
        assert [h.key for h in lv.handling] == ["sharing", "opening", "storage", "leaving"], lv.label_en
        assert all(h.text_zh and h.text_en and h.label_zh and h.label_en for h in lv.handling)
    core = onto.level("核心数据")
    assert "不得向机构外提供" in {h.key: h for h in core.handling}["leaving"].text_zh


def test_derived_data_is_broader_than_the_processed_degrees(onto: Ontology) -> None:
    derived = onto.processing_degrees.find("衍生数据")
    raw = onto.processing_degrees.find("原始")
    assert derived.parent is None and raw.parent is None  # both top concepts
    narrower = {c.label_zh for c in onto.processing_degrees if c.parent == derived.iri}
    assert narrower == {"去标识化", "假名化", "匿名化", "统计", "融合"}
    scheme = M.ProcessingDegreeScheme
    assert set(onto.graph.objects(scheme, SKOS.hasTopConcept)) == {M.Raw, M.Derived}


def test_cli_prints_principles_elements_steps_and_handling(printed: str, onto: Ontology) -> None:
    flat = _flat(printed)
    for p in onto.principles:
        assert p.label_zh in printed and p.label_en in printed
        assert _flat(p.sources[0]) in flat  # the source, in both languages
    assert "art.20" in flat and "GB/T43697-2024§4" in flat
    positions = [printed.index(f" {e} ") for e in ELEMENTS]
    assert positions == sorted(positions)  # 领域、群体、区域、精度、规模、深度、覆盖度、重要性
    for e in onto.grading_elements:
        assert e.label_en in printed
    for m in onto.methods:
        assert m.label_zh in printed and m.label_en in printed
        cursor = flat.index(_flat(f"steps of the {m.label_en}"))
        for st in m.steps:  # each step after the one before it, in its table
            cursor = flat.index(_flat(f"{st.order}{st.label_zh}{st.label_en}"), cursor)
        assert all(_flat(st.label_en) in flat for st in m.steps)
    for lv in onto.levels:
        for h in lv.handling:
            assert h.text_zh in printed and h.text_en in printed
    for status in ("引用标准 / cited", "待确认 / unconfirmed", "项目默认 / project default"):
        assert status in printed


def test_cli_json_structure(data: dict, onto: Ontology) -> None:  # type: ignore[type-arg]
    assert set(data) >= {"principles", "grading_elements", "methods", "handling", "handling_status"}
    assert [p["label_zh"] for p in data["principles"]] == NHC_PRINCIPLES + GBT_PRINCIPLES
    assert all(p["status"] == "cited" and p["sources"] and p["label_en"] for p in data["principles"])
    assert [e["label_zh"] for e in data["grading_elements"]] == ELEMENTS
    assert [m["notation"] for m in data["methods"]] == ["classification", "level-determination"]
    for m in data["methods"]:
        assert [s["order"] for s in m["steps"]] == list(range(1, len(m["steps"]) + 1))
        assert all(s["status"] == "unconfirmed" and s["status_en"] == "unconfirmed" for s in m["steps"])
    assert [h["level"]["rank"] for h in data["handling"]] == sorted((lv.rank for lv in onto.levels), reverse=True)
    first = data["handling"][0]["handling"][0]
    assert set(first) == {"aspect", "iri", "label_zh", "label_en", "text_zh", "text_en"}
    assert data["handling_status"]["status"] == "default" and data["handling_status"]["note_en"]


def test_editing_the_ontology_changes_what_is_printed(ontology_copy: Path) -> None:
    """The ontology is the source of truth: a new handling text and swapped steps are printed."""

    def edit_handling(g):  # type: ignore[no-untyped-def]
        g.remove((M.CoreData, M.publicOpeningHandling, None))
        g.add((M.CoreData, M.publicOpeningHandling, Literal("绝不公开（测试）", lang="zh")))
        g.add((M.CoreData, M.publicOpeningHandling, Literal("never published (test)", lang="en")))

    def swap_steps(g):  # type: ignore[no-untyped-def]
        a, b = M.ClassificationMethodStep1, M.ClassificationMethodStep2
        g.remove((a, M.order, None))
        g.remove((b, M.order, None))
        g.add((a, M.order, Literal(2)))
        g.add((b, M.order, Literal(1)))

    edit_module(ontology_copy, "measures.ttl", edit_handling)
    edit_module(ontology_copy, "method.ttl", swap_steps)
    proc = medgrade("ontology", "method", "--json", "--ontology-dir", str(ontology_copy))
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    core = next(h for h in got["handling"] if h["level"]["iri"] == f"{MG}CoreData")
    opening = next(h for h in core["handling"] if h["aspect"] == "opening")
    assert (opening["text_zh"], opening["text_en"]) == ("绝不公开（测试）", "never published (test)")
    steps = next(m for m in got["methods"] if m["notation"] == "classification")["steps"]
    assert [s["label_zh"] for s in steps[:2]] == ["梳理业务", "识别行业领域"]
    text = medgrade("ontology", "method", "--ontology-dir", str(ontology_copy), env={"COLUMNS": "400"}).stdout
    assert "绝不公开（测试）" in text and "never published (test)" in text
    assert text.index("梳理业务") < text.index("识别行业领域")


def test_a_step_without_an_order_is_a_located_load_error(ontology_copy: Path) -> None:
    edit_module(ontology_copy, "method.ttl", lambda g: g.remove((M.LevelDeterminationMethodStep3, M.order, None)))
    with pytest.raises(OntologyError) as err:
        load_ontology(ontology_copy)
    found = [p for p in err.value.problems if "mg:order" in p.message_en]
    assert len(found) == 1
    assert "method.ttl" in found[0].where and "LevelDeterminationMethodStep3" in found[0].where
    assert "顺序" in found[0].message_zh
    proc = medgrade("ontology", "method", "--ontology-dir", str(ontology_copy))
    assert proc.returncode == 2 and "LevelDeterminationMethodStep3" in proc.stderr and proc.stdout == ""


def test_a_step_without_a_method_or_with_a_duplicate_order_is_an_error(ontology_copy: Path) -> None:
    def edit(g):  # type: ignore[no-untyped-def]
        g.remove((M.ClassificationMethodStep1, M.stepOf, None))
        g.remove((M.ClassificationMethodStep3, M.order, None))
        g.add((M.ClassificationMethodStep3, M.order, Literal(2)))

    edit_module(ontology_copy, "method.ttl", edit)
    with pytest.raises(OntologyError) as err:
        load_ontology(ontology_copy)
    text = " ".join(f"{p.where} {p.message_en}" for p in err.value.problems)
    assert "ClassificationMethodStep1" in text and "mg:stepOf" in text
    assert "ClassificationMethodStep3" in text and "must differ" in text


def test_handling_in_one_language_only_is_an_error(ontology_copy: Path) -> None:
    def edit(g):  # type: ignore[no-untyped-def]
        for o in list(g.objects(M.GeneralData1, M.sharingHandling)):
            if o.language == "en":
                g.remove((M.GeneralData1, M.sharingHandling, o))

    edit_module(ontology_copy, "measures.ttl", edit)
    with pytest.raises(OntologyError) as err:
        load_ontology(ontology_copy)
    assert any("GeneralData1" in p.where and "sharingHandling" in p.message_en for p in err.value.problems)


def test_a_new_aspect_is_picked_up_from_the_ontology(ontology_copy: Path) -> None:
    def edit(g):  # type: ignore[no-untyped-def]
        g.add((M.destructionHandling, RDF.type, OWL.AnnotationProperty))
        g.add((M.destructionHandling, RDFS.subPropertyOf, M.handling))
        g.add((M.destructionHandling, RDFS.label, Literal("销毁", lang="zh")))
        g.add((M.destructionHandling, RDFS.label, Literal("destruction", lang="en")))
        g.add((M.destructionHandling, SKOS.notation, Literal("destruction")))
        g.add((M.destructionHandling, M.order, Literal(5)))
        g.add((M.CoreData, M.destructionHandling, Literal("按规定销毁", lang="zh")))
        g.add((M.CoreData, M.destructionHandling, Literal("destroyed as required", lang="en")))

    edit_module(ontology_copy, "measures.ttl", edit)
    onto = load_ontology(ontology_copy)
    assert [h.key for h in onto.level("核心数据").handling][-1] == "destruction"


def test_the_level_answer_and_asset_page_show_the_handling(tmp_path: Path, onto: Ontology) -> None:
    with demo_client(tmp_path, ("reader",), "hm") as client:
        headers = {"Authorization": f"Bearer {client.tokens['reader']}"}  # type: ignore[attr-defined]
        r = client.get(f"/api/assets/{PKG}/level", headers=headers)  # type: ignore[attr-defined]
        assert r.status_code == 200, r.text
        answer = r.json()
        effective = onto.levels.by_iri[answer["effective"]["iri"]]
        assert [h["aspect"] for h in answer["handling"]] == ["sharing", "opening", "storage", "leaving"]
        assert [h["text_zh"] for h in answer["handling"]] == [h.text_zh for h in effective.handling]
        assert [h["text_en"] for h in answer["handling"]] == [h.text_en for h in effective.handling]
        page = client.get(f"/ui/assets/{PKG}", headers=headers).text  # type: ignore[attr-defined]
        assert 'data-testid="handling"' in page and "处理原则" in page
        assert all(h.text_zh in page for h in effective.handling)
        en = client.get(f"/ui/assets/{PKG}?lang=en", headers=headers).text  # type: ignore[attr-defined]
        assert "Handling" in en and all(str(escape(h.text_en)) in en for h in effective.handling)
