"""Export, then import into a fresh store, gives the same inventory (README: "export then import
gives the same graph"), for a store that holds the demo hospital and datasets that arrived by
OpenLineage: unclassified (待分类), some without a name, some in our own namespace without an
``mg:identifier``, one made by a de-identification run that a steward approved.

* xlsx and csv carry the dataset level: assets with their names, categories (待分类 included),
  assessed levels, equipment, elements, personal information, impacts, owners and notes;
  dataset derivations with the type of the activity that made them, the sources it used and its
  approval; transfers; devices; destinations. Activities and approvals are compared by what they
  say (the spreadsheet mints one activity per derived asset where OpenLineage names the run), and
  runs without a transformation type, column lineage and masking are not in a spreadsheet.
* ttl and jsonld carry the whole inventory graph, runs, column lineage and masking included.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import graph_diff, to_isomorphic

from kg.exporters import export
from kg.importers.openlineage import dataset_id
from kg.namespaces import MG, PROV, RDF, RDFS, XSD
from kg.ontology import Ontology
from kg.service import Service
from kg.settings import Settings
from kg.store import Changeset, Graphs
from kg.unclassified import unclassified

OPENLINEAGE = Path(__file__).parent / "data" / "openlineage"
DOSE_RUN = "01932f5e-7d1a-7c3e-9b1e-5a0c2e6f4a10"  # dose_registry.jsonl: a 去标识化 run
# what a dataset-level record says of an asset, beyond its category, derivations and activity
ASSET_FACTS = (
    RDFS.label,
    MG.assessedLevel,
    MG.producedBy,
    MG.producedByType,
    MG.hasElement,
    MG.hasPersonalInformation,
    MG.subjectCount,
    MG.responsibleDepartment,
    RDFS.comment,
)

Fact = tuple[str, ...]


@pytest.fixture(scope="module")
def source(onto: Ontology) -> Iterator[Service]:
    svc = Service(Settings(store="memory:"), ontology=onto)
    svc.initialize(demo=True)
    svc.import_files([OPENLINEAGE / "dose_registry.jsonl"])
    for path in sorted((OPENLINEAGE / "spark").glob("*.json")):
        svc.import_files([path])
    # a steward approves the run's de-identification (R8), as the stewardship API would record it
    run, approval = URIRef(f"{svc.ids.base}run/{DOSE_RUN}"), URIRef(f"{svc.ids.base}run/{DOSE_RUN}/approval")
    when = Literal(dt.datetime(2026, 11, 2).isoformat(), datatype=XSD.dateTime)
    svc.change(
        Changeset(
            Graphs.INVENTORY,
            triples=[
                (run, MG.approval, approval),
                (approval, RDF.type, MG.Approval),
                (approval, MG.actor, Literal("王敏")),
                (approval, MG.performedAt, when),
                (approval, MG.justification, Literal("住院号经加盐散列，数据安全小组批准")),
            ],
        ),
        [run, approval],
    )
    svc.propagate()
    yield svc
    svc.close()


def _inventory(svc: Service) -> Graph:
    g = Graph()
    for t in svc.store.triples(Graphs.INVENTORY):
        g.add(t)
    return g


def dataset_level(svc: Service) -> set[Fact]:
    """The inventory at the dataset level, with assets, devices and destinations named by id and
    activities and approvals by the asset they made."""
    g, ids = _inventory(svc), svc.ids
    state = unclassified(svc.ontology).label_zh
    assets = set(g.subjects(RDF.type, MG.DataAsset))

    def name(node: object, kind: str = "asset") -> str:
        return ids.local_id(str(node), kind) or str(node)

    facts: set[Fact] = set()
    for a in assets:
        me = name(a)
        facts.add((me, "a", "DataAsset"))
        categories = [str(c) for c in g.objects(a, MG.hasCategory)]
        facts |= {(me, "category", c) for c in categories or [state]}
        for p in ASSET_FACTS:
            facts |= {(me, str(p), name(o, "device") if p == MG.producedBy else str(o)) for o in g.objects(a, p)}
        for i in g.objects(a, MG.hasImpact):
            facts.add((me, "impact", str(g.value(i, MG.impactObject)), str(g.value(i, MG.impactDegree))))
        for e in g.objects(a, MG.hasElement):
            facts |= {(me, "element", str(e), str(label)) for label in g.objects(e, RDFS.label)}
        facts |= {(me, "derived from", name(s)) for s in g.objects(a, PROV.wasDerivedFrom) if s in assets}
        for act in g.objects(a, PROV.wasGeneratedBy):
            kind = g.value(act, MG.transformationType)
            if kind is None:  # a run of no known type: a spreadsheet has no activity to write
                continue
            facts.add((me, "activity", str(kind)))
            facts |= {(me, "activity used", name(u)) for u in g.objects(act, PROV.used)}
            for ap in g.objects(act, MG.approval):
                who, when, why = (g.value(ap, p) for p in (MG.actor, MG.performedAt, MG.justification))
                facts.add((me, "approval", str(who), str(when), str(why)))
    for t in g.subjects(RDF.type, MG.Transfer):
        facts.add(
            (name(g.value(t, MG.transfersAsset)), "transfer to", name(g.value(t, MG.toDestination), "destination"))
        )
    for kind, cls in (("device", MG.Equipment), ("destination", MG.Destination)):
        for d in g.subjects(RDF.type, cls):
            facts |= {(kind, name(d, kind), str(p), str(o)) for p, o in g.predicate_objects(d)}
    return facts


def _diff(before: set[Fact], after: set[Fact]) -> str:
    lost, gained = sorted(before - after), sorted(after - before)
    lines = [f"{len(lost)} lost, {len(gained)} gained in the round trip"]
    lines += [f"  - {f}" for f in lost[:40]] + [f"  + {f}" for f in gained[:40]]
    return "\n".join(lines)


def _fresh(onto: Ontology) -> Service:
    svc = Service(Settings(store="memory:"), ontology=onto)
    svc.initialize()
    return svc


def test_the_source_holds_what_the_round_trip_must_carry(source: Service, onto: Ontology) -> None:
    facts = dataset_level(source)
    state = unclassified(onto).label_zh
    out = dataset_id("postgres://dw.hospital:5432", "registry.ct_dose_daily", source.settings.openlineage_namespace)
    unclassified_ids = {f[0] for f in facts if f[1:] == ("category", state)}
    assert {"ct-01-dose", out} <= unclassified_ids
    assert (out, "derived from", "ct-01-dose") in facts  # a source with no mg:identifier
    assert (out, "activity", str(MG.Deidentification)) in facts
    assert any(f[:2] == (out, "approval") for f in facts)
    assert not any(f[0] == "ct-01-dose" and f[1] == str(RDFS.label) for f in facts)  # no name either
    assert any(f[1] == "approval" for f in facts if f[0] != out)  # the demo's own approvals


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_spreadsheets_carry_the_dataset_level_graph(source: Service, onto: Ontology, tmp_path: Path, fmt: str) -> None:
    written = export(source.store, onto, source.ids, fmt, tmp_path / f"清单.{fmt}")
    fresh = _fresh(onto)
    try:
        fresh.import_files(written)
        before, after = dataset_level(source), dataset_level(fresh)
        assert before == after, _diff(before, after)
        assert not fresh.import_files(written).wrote  # importing it once more changes nothing
    finally:
        fresh.close()


@pytest.mark.parametrize("fmt", ["ttl", "jsonld"])
def test_rdf_carries_the_whole_inventory_graph(source: Service, onto: Ontology, tmp_path: Path, fmt: str) -> None:
    written = export(source.store, onto, source.ids, fmt, tmp_path / f"inventory.{fmt}")
    fresh = _fresh(onto)
    try:
        fresh.import_files(written)
        before, after = to_isomorphic(_inventory(source)), to_isomorphic(_inventory(fresh))
        if before != after:
            _, lost, gained = graph_diff(before, after)
            pytest.fail(
                f"{len(lost)} triples lost, {len(gained)} gained:\n"
                + "\n".join([f"  - {t}" for t in sorted(lost)[:20]] + [f"  + {t}" for t in sorted(gained)[:20]])
            )
        assert any(p == MG.masking for _, p, _ in after)  # column lineage with its masking came along
    finally:
        fresh.close()


def test_unclassified_datasets_keep_their_effective_level_from_their_sources(source: Service) -> None:
    """R7 for an unclassified dataset: it has no assessed level, yet its effective level comes
    from its sources (here the source is unclassified too and inherits through its elements)."""
    out = dataset_id("postgres://dw.hospital:5432", "registry.ct_dose_daily", source.settings.openlineage_namespace)
    level = source.level(out)
    assert level["assessed"] is None and level["effective"] is not None
    assert level["set_by"] == "inherited" and level["witness"]


def test_unclassified_is_a_state_not_a_thirteenth_category(onto: Ontology) -> None:
    from rdflib.namespace import SKOS

    state = unclassified(onto)
    assert (state.label_zh, state.label_en) == ("待分类", "unclassified")
    assert state.definition_zh and state.definition_en
    assert state.iri not in onto.categories
    assert len([c for c in onto.categories if c.parent is None]) == 12
    assert (None, SKOS.hasTopConcept, URIRef(state.iri)) not in onto.graph
    assert (URIRef(state.iri), RDF.type, MG.ClassificationStatus) in onto.graph


def test_the_queue_is_the_same_through_the_api_and_the_cli(tmp_path: Path) -> None:
    """``GET /api/unclassified`` and ``medgrade unclassified --json`` answer the same queue: the
    datasets OpenLineage brought without a category, each with a suggestion from its names."""
    from fastapi.testclient import TestClient

    from api import create_app
    from tests.test_cli_store import medgrade

    store = f"oxigraph:{tmp_path / 'store'}"
    assert medgrade("--store", store, "init", "--demo", cwd=tmp_path).returncode == 0
    imported = medgrade("--store", store, "import", str(OPENLINEAGE / "dose_registry.jsonl"), cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    cli = medgrade("--store", store, "unclassified", "--json", cwd=tmp_path)
    assert cli.returncode == 0, cli.stderr
    queue = json.loads(cli.stdout)
    assert queue["status"]["label_zh"] == "待分类" and queue["total"] == len(queue["items"]) == 2
    assert {i["id"] for i in queue["items"]} >= {"ct-01-dose"}
    daily = next(i for i in queue["items"] if i["name"] == "registry.ct_dose_daily")
    assert daily["effective"] is not None  # inherited from its sources (R7) while unclassified
    assert daily["suggestion"]["category"]["label_zh"] == "患者剂量记录"
    svc = Service(Settings(store=store))
    try:
        with TestClient(create_app(service=svc)) as client:
            assert client.get("/api/unclassified").json() == queue
            page = client.get("/api/unclassified", params={"limit": 1, "offset": 1}).json()
            assert page["total"] == 2 and [i["id"] for i in page["items"]] == [queue["items"][1]["id"]]
            assert client.get("/api/unclassified", params={"limit": 0}).status_code == 422
    finally:
        svc.close()
    table = medgrade("--store", store, "unclassified", cwd=tmp_path)
    assert table.returncode == 0 and "待分类 / unclassified: 2" in table.stdout and "患者剂量记录" in table.stdout
