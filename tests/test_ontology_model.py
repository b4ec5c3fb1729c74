"""kg.ontology: lookups by any name, and precise errors for broken ontology folders."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, Namespace

from kg import MG
from kg.errors import OntologyError, UnknownTermError
from kg.ontology import Ontology, load_ontology
from tests.helpers import edit_module

MGNS = Namespace(MG)


@pytest.mark.parametrize(
    "key",
    [
        "一般数据4级",
        "General-4",
        "general-4",
        "L4",
        "4",
        4,
        "一般数据四级",
        f"{MG}GeneralData4",
        "GeneralData4",
        " 一般数据4级 ",
    ],
)
def test_level_lookup_by_any_name(onto: Ontology, key: str | int) -> None:
    assert onto.level(key).iri == f"{MG}GeneralData4"


@pytest.mark.parametrize("key", ["患者信息", "patient information", "C09", "PatientInformation"])
def test_category_lookup(onto: Ontology, key: str) -> None:
    assert onto.categories.find(key).iri == f"{MG}PatientInformation"


def test_fullwidth_and_case_are_normalised(onto: Ontology) -> None:
    assert onto.categories.find("ｃ０９").label_zh == "患者信息"
    assert onto.level("ｌ６").rank == 6


def test_unknown_term_is_a_bilingual_422_with_suggestions(onto: Ontology) -> None:
    with pytest.raises(UnknownTermError) as info:
        onto.categories.find("患者信")
    err = info.value
    assert err.status == 422
    assert "unknown data category '患者信'" in err.message_en
    assert "未知的数据分类" in err.message_zh
    assert "患者信息" in err.message_en  # the suggestion


def test_level_rank_out_of_range_is_unknown(onto: Ontology) -> None:
    with pytest.raises(UnknownTermError):
        onto.level(9)


def test_category_path_and_floor(onto: Ontology) -> None:
    cred = onto.categories.find("口令与密钥")
    assert [c.label_zh for c in onto.category_path(cred)] == ["网络安全数据", "口令与密钥"]
    assert cred.floor is not None and cred.floor.rank == 4


def test_highest_takes_the_max_rank(onto: Ontology) -> None:
    assert onto.highest([onto.level(2), onto.level(5), onto.level(3)]).rank == 5
    assert onto.highest([]).rank == 1


def test_measures_for_follow_the_ontology(onto: Ontology) -> None:
    g3 = {m.label_zh for m in onto.measures_for(onto.level(3))}
    assert {"传输加密", "最小权限", "访问控制"} <= g3
    assert "存储加密" not in g3


def test_missing_catalog(tmp_path: Path) -> None:
    with pytest.raises(OntologyError, match=r"catalog-v001\.xml"):
        load_ontology(tmp_path)


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(OntologyError, match="does not exist"):
        load_ontology(tmp_path / "nope")


def test_syntax_error_names_file_and_line(ontology_copy: Path) -> None:
    levels = ontology_copy / "levels.ttl"
    text = levels.read_text(encoding="utf-8").replace("mg:rank 4 ;", "mg:rank 4 ;;; ]", 1)
    levels.write_text(text, encoding="utf-8")
    with pytest.raises(OntologyError) as info:
        load_ontology(ontology_copy)
    assert info.value.message_en.startswith("levels.ttl: cannot parse as turtle")


def test_unmapped_import_is_reported(ontology_copy: Path) -> None:
    catalog = ontology_copy / "catalog-v001.xml"
    lines = [ln for ln in catalog.read_text().splitlines() if "def/measures" not in ln]
    catalog.write_text("\n".join(lines))
    with pytest.raises(OntologyError) as info:
        load_ontology(ontology_copy)
    assert any(
        "https://w3id.org/medgrade/def/measures" in str(p) and "medgrade.ttl" in p.where for p in info.value.problems
    )


def test_every_defect_is_reported_at_once(ontology_copy: Path) -> None:
    def edit(g: Graph) -> None:
        g.remove((MGNS.GeneralData3, MGNS.rank, None))  # General-3 loses its rank
        g.remove((MGNS.Cell_EconomicOperation_Serious, None, None))  # a matrix cell disappears
        g.add((MGNS.Cell_SocialOrder_General, MGNS.resultLevel, MGNS.NoSuchLevel))

    edit_module(ontology_copy, "levels.ttl", edit)
    with pytest.raises(OntologyError) as info:
        load_ontology(ontology_copy)
    messages = [str(p) for p in info.value.problems]
    assert any(m.startswith("levels.ttl mg:GeneralData3: has no integer mg:rank") for m in messages), messages
    assert any("no cell for (economic operation, serious harm)" in m for m in messages), messages
    assert any("mg:Cell_SocialOrder_General" in m and "2 values of mg:resultLevel" in m for m in messages)
