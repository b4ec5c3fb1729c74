"""Lineage in the knowledge graph: propagate writes levels, origins and witness hops; only the
difference is written; rebuilds are journaled; changes and previews; element lineage."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from rdflib import Literal, URIRef

from kg import propagation
from kg.errors import InputError, NotFoundError
from kg.namespaces import MG
from kg.ontology import Ontology
from kg.propagation import JOURNAL, Lineage
from kg.service import Service
from kg.settings import Settings
from kg.store import Changeset, Graphs, open_store, sparql_term

SMALL = Path(__file__).parent / "data" / "small"


@pytest.fixture
def svc(onto: Ontology, tmp_path: Path) -> Service:
    s = Service(Settings(store="memory:"), store=open_store("memory:"), ontology=onto)
    shutil.copytree(SMALL, tmp_path / "small")
    s.import_files(sorted((tmp_path / "small").glob("*.csv")))  # propagates
    return s


def inferred(svc: Service) -> set[tuple[str, str, str]]:
    return {(str(s), str(p), str(o)) for s, p, o in svc.store.triples(Graphs.INFERRED)}


def effective(svc: Service, asset: str) -> str:
    return svc.level(asset)["effective"]["label_zh"]


def test_levels_flow_through_the_small_inventory(svc: Service) -> None:
    assert effective(svc, "ct-01-dose") == "一般数据4级"
    assert effective(svc, "dose-extract") == "一般数据4级"  # extraction passes everything
    deid = svc.level("dose-deid")  # approved de-identification: capped at General-3
    assert deid["inherited"]["label_zh"] == "一般数据3级" and deid["origin"].endswith("/dose-extract")
    package = svc.level("dose-package")  # fused from the de-identified data (3) and the tube log (2)
    assert package["effective"]["label_zh"] == "一般数据3级"
    # the de-identified data's own level (its category floor, General-3) is where it is set
    assert package["origin"].endswith("/dose-deid")
    assert [(h["source"].rsplit("/", 1)[-1], h["target"].rsplit("/", 1)[-1]) for h in package["witness"]] == [
        ("dose-deid", "dose-package")
    ]
    ids = svc.ids
    assert (str(ids.asset("dose-package")), str(MG.inheritedFrom), str(ids.asset("dose-deid"))) in inferred(svc)
    # de-identification keeps personal information (only an approved anonymisation removes it)
    assert (str(ids.asset("dose-deid")), str(MG.inheritedPersonalInformation), str(MG.PersonalInformation)) in inferred(
        svc
    )


def test_propagating_again_writes_nothing(svc: Service) -> None:
    report = svc.propagate()
    assert (report.added, report.removed, report.changed) == (0, 0, [])
    assert report.datasets == 6 and report.derivations == 4


def journal(svc: Service) -> bool:
    return svc.store.ask(f"ASK {{ GRAPH {sparql_term(Graphs.META)} {{ {sparql_term(JOURNAL)} ?p ?o }} }}")


STRAY = [
    (URIRef("urn:x:stray"), MG.effectiveLevel, MG.GeneralData5),  # a subject that is no lineage node
    (URIRef("urn:x:stray"), URIRef("urn:x:note"), Literal("hand-written")),  # not an IRI triple
]


def test_a_large_difference_is_written_in_steps_under_a_journal(svc: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    before = inferred(svc)
    svc.store.drop_graph(Graphs.INFERRED)
    monkeypatch.setattr(propagation, "ATOMIC_LIMIT", 3)
    report = svc.propagate()  # into an empty graph: one bulk load
    assert report.journaled and not report.repaired and report.added == len(before)
    assert inferred(svc) == before and not journal(svc)
    # stray and stale triples are removed in batches too, and nothing is dropped wholesale
    dose = svc.ids.asset("dose-package")
    stale = (dose, MG.effectiveLevel, MG.GeneralData1)
    svc.store.apply(Changeset(Graphs.INFERRED, triples=[*STRAY, stale]))
    monkeypatch.setattr(propagation, "ATOMIC_LIMIT", 1)
    report = svc.propagate()
    assert report.journaled and (report.added, report.removed) == (0, 2)  # + the literal, by a pattern
    assert inferred(svc) == before and not journal(svc)


def test_strays_go_in_the_one_atomic_update(svc: Service) -> None:
    before = inferred(svc)
    svc.store.apply(Changeset(Graphs.INFERRED, triples=STRAY))
    report = svc.propagate()
    assert not report.journaled and report.removed == 1 and "urn:x:stray" in report.changed
    assert inferred(svc) == before


def test_an_interrupted_write_is_repaired(svc: Service) -> None:
    before = inferred(svc)
    # what a crash in the middle of a large write leaves: the journal entry and half a graph
    svc.store.apply(Changeset(Graphs.META, triples=[(JOURNAL, URIRef("urn:x:started"), URIRef("urn:x:yes"))]))
    victims = list(svc.store.triples(Graphs.INFERRED))[:3]
    svc.store.apply(Changeset(Graphs.INFERRED, removals=victims))
    report = svc.propagate()
    assert report.repaired and report.added == 3 and inferred(svc) == before and not journal(svc)


def test_an_incremental_change_repairs_an_interrupted_write_in_full(svc: Service) -> None:
    before = inferred(svc)
    svc.store.apply(Changeset(Graphs.META, triples=[(JOURNAL, URIRef("urn:x:started"), URIRef("urn:x:yes"))]))
    far = next(t for t in svc.store.triples(Graphs.INFERRED) if str(t[0]).endswith("/ct-01-tube"))
    svc.store.apply(Changeset(Graphs.INFERRED, removals=[far]))
    lineage = Lineage(svc.store, svc.ontology)
    # a change far from ct-01-tube: the write still covers the whole graph while the journal is open
    levels, report = lineage.change({str(svc.ids.asset("dose-deid")): 4}, [], [])
    assert [c.asset.rsplit("/", 1)[1] for c in levels] == ["dose-deid", "dose-package"]
    assert report.repaired and far in set(svc.store.triples(Graphs.INFERRED)) and not journal(svc)
    lineage.change({str(svc.ids.asset("dose-deid")): 3}, [], [])
    assert inferred(svc) == before


def test_an_incremental_change_writes_what_changed_and_equals_a_full_run(svc: Service, onto: Ontology) -> None:
    lineage = Lineage(svc.store, onto)
    raise_tube = {str(svc.ids.asset("ct-01-tube")): 4}
    changes, report = lineage.change(raise_tube, [], [])
    assert {(c.asset.rsplit("/", 1)[-1], c.old, c.new) for c in changes} == {
        ("ct-01-tube", 2, 4),
        ("dose-package", 3, 4),
    }
    assert set(report.changed) == {str(svc.ids.asset("ct-01-tube")), str(svc.ids.asset("dose-package"))}
    written = inferred(svc)
    # the same change made in the inventory, then a full propagation, gives the same graph
    tube = svc.ids.asset("ct-01-tube")
    svc.store.apply(
        Changeset(
            Graphs.INVENTORY,
            removals=[(tube, MG.assessedLevel, MG.GeneralData2)],
            triples=[(tube, MG.assessedLevel, MG.GeneralData4)],
        )
    )
    svc.store.drop_graph(Graphs.INFERRED)
    svc.propagate()
    assert inferred(svc) == written


def test_preview_lists_changes_and_writes_nothing(svc: Service) -> None:
    before = inferred(svc)
    changes = svc.preview(remove=[{"source": "dose-deid", "target": "dose-package"}])
    assert [(c["id"], c["old"]["rank"], c["new"]["rank"]) for c in changes] == [("dose-package", 3, 2)]
    unapproved = svc.preview(
        add=[{"source": "dose-extract", "target": "dose-package", "activity": "去标识化", "approved": False}]
    )
    assert [(c["id"], c["new"]["rank"]) for c in unapproved] == [("dose-package", 4)]
    approved = svc.preview(
        add=[{"source": "dose-extract", "target": "dose-package", "activity": "去标识化", "approved": True}]
    )
    assert approved == []  # capped at General-3: nothing changes
    assert inferred(svc) == before


def test_level_answer_shape(svc: Service) -> None:
    answer = svc.level("dose-package")
    assert set(answer) >= {
        "asset",
        "id",
        "assessed",
        "inherited",
        "effective",
        "origin",
        "witness",
        "measures",
        "reasons",
    }
    assert set(answer["effective"]) == {"iri", "rank", "label_zh", "label_en"}
    # the contract's hop fields, plus the activity's labels and whether a reduction was approved
    assert all(
        set(h)
        == {"source", "target", "activity", "activity_type", "activity_label_zh", "activity_label_en", "approved"}
        for h in answer["witness"]
    )
    assert answer["witness"][0]["activity_type"] == str(MG.Fusion)
    assert any(r.startswith("R3：") for r in answer["reasons"])
    raw = svc.level("ct-01-tube")
    assert raw["inherited"] is None and raw["witness"] == [] and raw["origin"] is None
    with pytest.raises(NotFoundError):
        svc.level("no-such-asset")
    with pytest.raises(InputError):
        svc.level("not an id")


def test_lineage_graph(svc: Service) -> None:
    up = svc.lineage("dose-package", "upstream", 5)
    assert {n["id"] for n in up["nodes"]} == {"dose-package", "dose-deid", "dose-extract", "ct-01-dose", "ct-01-tube"}
    deid_edge = next(e for e in up["edges"] if e["target"].endswith("/dose-deid"))
    assert deid_edge["approved"] and deid_edge["activity_type"] == str(MG.Deidentification)
    shallow = svc.lineage("dose-package", "upstream", 1)
    assert {n["id"] for n in shallow["nodes"]} == {"dose-package", "dose-deid", "ct-01-tube"}
    down = svc.lineage("ct-01-dose", "downstream", 5)
    assert {n["id"] for n in down["nodes"]} == {"ct-01-dose", "dose-extract", "dose-deid", "dose-package"}
    with pytest.raises(InputError):
        svc.lineage("dose-package", "sideways", 2)


def test_cycles_share_one_level(svc: Service, tmp_path: Path) -> None:
    header = (SMALL / "assets.csv").read_text(encoding="utf-8").splitlines()[0]
    path = tmp_path / "cycle.csv"
    path.write_text(
        header + "\nc1,甲,汇总报表,一般数据2级,,CT,,c2;ct-01-tube,转换,,,,,,,,\nc2,乙,汇总报表,,,CT,,c1,转换,,,,,,,,\n",
        encoding="utf-8",
    )
    svc.import_files([path])
    assert effective(svc, "c1") == effective(svc, "c2") == "一般数据2级"
    assert svc.propagate().cycles == 1


def test_element_lineage_refines_the_dataset_level(svc: Service, tmp_path: Path) -> None:
    """An output column derived only from a masked (approved) column: the output dataset takes
    the element's capped level, not its source dataset's, and is at least its elements."""
    ids = svc.ids
    base = ids.base
    ttl = tmp_path / "columns.ttl"
    ttl.write_text(
        f"""@prefix mg: <{MG}> . @prefix prov: <http://www.w3.org/ns/prov#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<{base}asset/src> a mg:DataAsset ; mg:hasCategory mg:PatientDoseRecords ; mg:assessedLevel mg:GeneralData4 ;
    mg:producedByType mg:CTScanner ; mg:hasElement <{base}asset/src/element/name> , <{base}asset/src/element/dlp> .
<{base}asset/src/element/name> a mg:DataElement ; rdfs:label "姓名" ; mg:assessedLevel mg:GeneralData4 .
<{base}asset/src/element/dlp> a mg:DataElement ; rdfs:label "DLP" .
<{base}asset/out> a mg:DataAsset ; mg:hasCategory mg:AggregatedReports ; mg:assessedLevel mg:GeneralData1 ;
    prov:wasDerivedFrom <{base}asset/src> ; mg:hasElement <{base}asset/out/element/who> , <{base}asset/out/element/dlp> .
<{base}asset/out/element/who> a mg:DataElement ; rdfs:label "姓名（脱敏）" ;
    prov:wasDerivedFrom <{base}asset/src/element/name> ;
    prov:qualifiedDerivation <{base}asset/out/element/who/from/name> .
<{base}asset/out/element/who/from/name> a prov:Derivation ; prov:entity <{base}asset/src/element/name> ;
    mg:masking true ; mg:approval <{base}asset/out/element/who/from/name/approval> .
<{base}asset/out/element/who/from/name/approval> a mg:Approval ; mg:actor "王敏" ;
    mg:performedAt "2026-03-01T00:00:00"^^xsd:dateTime ; mg:justification "姓名哈希脱敏" .
<{base}asset/out/element/dlp> a mg:DataElement ; rdfs:label "DLP" ; prov:wasDerivedFrom <{base}asset/src/element/dlp> .
""",
        encoding="utf-8",
    )
    svc.import_files([ttl])
    out = svc.level("out")
    # the masked name column passes at most General-3 (the de-identification cap); the DLP column
    # holds its source dataset's level (General-4) -> the dataset is General-4 through its element
    assert out["effective"]["label_zh"] == "一般数据4级"
    who = {(str(s), str(p)): str(o) for s, p, o in svc.store.triples(Graphs.INFERRED)}
    assert who[(f"{base}asset/out/element/who", str(MG.effectiveLevel))] == str(MG.GeneralData3)
    assert who[(f"{base}asset/out/element/dlp", str(MG.effectiveLevel))] == str(MG.GeneralData4)
    # without the DLP column the output would be capped by the masking
    changes = svc.preview(remove=[{"source": f"{base}asset/src/element/dlp", "target": f"{base}asset/out/element/dlp"}])
    assert [(c["id"], c["new"]["rank"]) for c in changes if c["id"] == "out"] == [("out", 3)]
