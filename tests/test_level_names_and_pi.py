"""Issue #18 (part A): level names mean one thing everywhere, the sensitive personal information
of PIPL art. 28 and GB/T 35273-2020 Annex B is complete, and a name the ontology has is found.

Level names: a bare 1–4级 / 一级–四级 / 1–4 is 一般数据N级 (a project convention, noted on the
levels module); 5级, 五级, 6级, 六级, 5 and 6 may be a level of GB/T 39725-2020's health data as
well, so the one resolver (:meth:`kg.ontology.Ontology.level`) refuses them with the question the
ontology holds (``mg:ambiguousName``, ``mg:ambiguityQuestion``), in imports, the API and the CLI.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import URIRef
from rdflib.namespace import DCTERMS, SKOS

from kg.classify import Classifier
from kg.errors import ImportProblem, UnknownTermError
from kg.ontology import Ontology, load_ontology
from kg.service import Service
from kg.settings import Settings
from kg.store import Graphs, open_store
from tests.helpers import demo_client
from tests.test_cli import medgrade
from tests.test_import import HEADER, write

MG = "https://w3id.org/medgrade/def#"


@pytest.fixture(scope="module")
def clf(ontology_dir: Path) -> Classifier:
    return Classifier(load_ontology(ontology_dir))


# --- 1. level names ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "rank"),
    [
        ("1级", 1),
        ("二级", 2),
        ("三级", 3),
        ("四级", 4),
        ("4", 4),
        ("一般数据4级", 4),
        ("General-3", 3),
        ("L5", 5),
        ("Important", 5),
        ("重要数据", 5),
        ("L6", 6),
        ("Core", 6),
        ("核心数据", 6),
    ],
)
def test_unambiguous_level_names(onto: Ontology, name: str, rank: int) -> None:
    assert onto.level(name).rank == rank


@pytest.mark.parametrize("name", ["5级", "五级", "6级", "六级", "5", "6", " 5级 "])
def test_ambiguous_level_names_are_refused_with_a_question(onto: Ontology, name: str) -> None:
    with pytest.raises(UnknownTermError) as info:
        onto.level(name)
    err = info.value
    assert "GB/T 43697" in err.message_zh and "GB/T 39725" in err.message_zh and "有歧义" in err.message_zh
    assert "GB/T 43697" in err.message_en and "GB/T 39725" in err.message_en and "ambiguous" in err.message_en
    assert err.status == 422


def test_ranks_given_by_code_are_not_names(onto: Ontology) -> None:
    assert onto.level(5).label_en == "Important" and onto.level(6).label_en == "Core"


def test_the_ambiguous_names_and_the_convention_are_in_the_ontology(onto: Ontology) -> None:
    assert {"5级", "五级", "6级", "六级", "5", "6"} <= set(onto.ambiguous_level_names)
    for lv in onto.levels:
        assert not {"5级", "6级"} & set(lv.alt_labels), lv.iri
    notes = [str(o) for o in onto.graph.objects(None, SKOS.editorialNote)]
    assert any("级别名称的项目约定" in n for n in notes) and any("convention for level names" in n for n in notes)


def test_gb_t_39725_levels_are_their_own_scheme_with_a_crosswalk(onto: Ontology) -> None:
    level5 = URIRef(f"{MG}HealthDataLevel5")
    assert (level5, SKOS.inScheme, URIRef(f"{MG}HealthDataLevelScheme")) in onto.graph
    assert (level5, SKOS.closeMatch, URIRef(f"{MG}GeneralData4")) in onto.graph  # not 重要数据
    assert f"{MG}HealthDataLevel5" not in onto.levels


def test_an_import_with_level_5级_is_refused_with_the_question(onto: Ontology, tmp_path: Path) -> None:
    svc = Service(Settings(store="memory:"), store=open_store("memory:"), ontology=onto)
    path = write(tmp_path, "levels.csv", "x1,名称,设备运行数据,5级,,,,,,,,,,,,,\n")
    with pytest.raises(ImportProblem) as info:
        svc.import_files([path])
    problems = [str(p) for p in info.value.problems]
    assert any("数据级别/level" in p and "GB/T 39725" in p and "“5级”有歧义" in p for p in problems), problems
    assert svc.store.count(Graphs.INVENTORY) == 0


def test_the_cli_import_exits_2_naming_the_schemes(tmp_path: Path) -> None:
    path = tmp_path / "levels.csv"
    path.write_text(HEADER + "x1,名称,设备运行数据,六级,,,,,,,,,,,,,\n", encoding="utf-8")
    proc = medgrade("--store", f"oxigraph:{tmp_path / 'db'}", "import", str(path))
    assert proc.returncode == 2, proc.stderr
    assert "GB/T 39725" in proc.stderr and "GB/T 43697" in proc.stderr and "六级" in proc.stderr


def test_the_api_answers_422_to_an_ambiguous_level(tmp_path: Path) -> None:
    with demo_client(tmp_path, ("steward",)) as client:
        h = {"Authorization": f"Bearer {client.tokens['steward']}"}  # type: ignore[attr-defined]
        asset = "ct-01-dicom-2026-09"
        r = client.put(f"/api/assets/{asset}/assessment", json={"level": "5级", "justification": "x"}, headers=h)
        assert r.status_code == 422 and "GB/T 39725" in r.json()["detail"] and "5级" in r.json()["detail_zh"]
        r = client.post("/api/preview", json={"set_levels": {asset: "6"}})
        assert r.status_code == 422 and "GB/T 39725" in r.json()["detail"]
        ok = client.post("/api/preview", json={"set_levels": {asset: "L6"}})
        assert ok.status_code == 200


# --- 2. sensitive personal information: PIPL art. 28, GB/T 35273-2020 Annex B Table B.2 ---------------
@pytest.mark.parametrize(
    "label",
    [
        "宗教信仰",
        "特定身份",
        "性取向",
        "婚史",
        "未公开的违法犯罪记录",
        "通信记录和内容",
        "个人财产信息",
        "个人身份信息",
    ],
)
def test_the_standards_sensitive_kinds_are_concepts(onto: Ontology, label: str) -> None:
    concept = onto.personal_information.find(label)
    assert concept.label_zh == label and concept.sensitive
    assert concept.floor is not None and concept.floor.rank == 4
    sources = {str(o) for o in onto.graph.objects(URIRef(concept.iri), DCTERMS.source)}
    assert any("35273" in s or "个人信息保护法" in s for s in sources), sources


def test_financial_accounts_are_personal_property(onto: Ontology) -> None:
    account = onto.personal_information.find("金融账户信息")
    assert account.parent == f"{MG}PersonalPropertyInformation"
    for name in ("驾驶证", "工作证", "居住证"):
        assert onto.personal_information.find(name).local_name == "IdentityDocumentInformation"


def test_religion_is_sensitive(clf: Classifier) -> None:
    s = clf.classify("宗教信仰")
    assert s.sensitive and s.min_level.rank == 4 and s.min_level.label_zh == "一般数据4级"
    assert f"{MG}ReligiousBeliefInformation" in {p.iri for p in s.personal}


@pytest.mark.parametrize("ref", ["PatientWeight", "PatientSize", "(0010,1030)"])
def test_height_and_weight_are_health_information(clf: Classifier, ref: str) -> None:
    s = clf.classify(ref)
    assert s.sensitive and s.min_level.rank == 4
    assert f"{MG}HealthPhysiologicalInformation" in {p.iri for p in s.personal}


@pytest.mark.parametrize("ref", ["PID-16", "Patient.maritalStatus", "婚姻状况"])
def test_marital_status_counts_as_marital_history(clf: Classifier, ref: str) -> None:
    s = clf.classify(ref)
    assert s.sensitive and s.min_level.rank == 4
    assert f"{MG}MaritalHistoryInformation" in {p.iri for p in s.personal}


# --- 3. a name the ontology has is found ----------------------------------------------------------------
# Names deliberately not expected back, and why:
NOT_BACK = {
    # "MAC address": its first word is DICOM's keyword MAC (0400,0404), a Message Authentication Code
    # (the assistant reads references inside a text first); the ontology's words then do not decide
    ("NetworkConfiguration", "MAC address"),
}


def test_classify_finds_precise_location_by_its_names(clf: Classifier) -> None:
    for name in ("行踪轨迹", "住宿信息", "精准定位信息"):
        s = clf.classify(name)
        assert f"{MG}PreciseLocationInformation" in {p.iri for p in s.personal}, name
        assert s.category is None or s.category.local_name != "AccountInformation", name
        assert s.sensitive and s.min_level.rank == 4


def test_every_name_of_a_personal_information_concept_finds_it(onto: Ontology, clf: Classifier) -> None:
    missed = []
    for p in onto.personal_information:
        for name in sorted({p.label_zh, p.label_en, *p.alt_labels}):
            found = [q.iri for q in clf.classify(name).personal]
            if p.iri not in found and (p.local_name, name) not in NOT_BACK:
                missed.append((p.local_name, name, found))
    assert missed == []


def test_every_name_of_a_business_category_finds_it(onto: Ontology, clf: Classifier) -> None:
    missed = []
    for c in onto.categories:
        for name in sorted({c.label_zh, c.label_en, *c.alt_labels}):
            found = clf.classify(name).category
            if (found is None or found.iri != c.iri) and (c.local_name, name) not in NOT_BACK:
                missed.append((c.local_name, name, found and found.local_name))
    assert missed == []


# --- 4. 检测 alone is not quality control ----------------------------------------------------------------
@pytest.mark.parametrize("name", ["血常规检测", "尿常规检测", "生化检测"])
def test_laboratory_tests_are_clinical_measurements(clf: Classifier, name: str) -> None:
    s = clf.classify(name)
    assert s.category is not None and s.category.local_name == "ClinicalMeasurements", name


def test_equipment_tests_stay_quality_control(clf: Classifier) -> None:
    s = clf.classify("CT 年度状态检测")
    assert s.category is not None and s.category.local_name == "AcceptanceConstancyTests"
