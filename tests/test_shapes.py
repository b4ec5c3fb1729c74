"""The SHACL shapes: for every rule a conforming and a violating fixture with the exact results;
medgrade's targeted runs agree with a plain pyshacl run, and Jena's SHACL engine agrees too."""

from __future__ import annotations

from pathlib import Path

import pyshacl
import pytest
from rdflib import Graph, Literal
from rdflib.namespace import DCTERMS, RDF, SH

from kg.ontology import Ontology
from kg.resources import bundled_dir
from tests.helpers import java, need, shared_tool
from tests.jena import runner as jena
from tests.shapes_support import FIXTURES, fixture_service, merged_data, merged_shapes, short, summary

V, W = "Violation", "Warning"
EXPECTED: dict[str, list[tuple[str, str, str, str]]] = {
    "R1-violates": [
        ("R1_AssetCategory", "a3", V, "notACategory"),
        ("R1_AssetCategory", "a6", V, ""),
        ("R1_AssetLevel", "a2", V, ""),
        ("R1_ClassifiedAssetLevel", "a4", V, "a4"),
        ("R1_ElementCategory", "e1", V, ""),
        ("R1_Unclassified", "a1", W, ""),
        ("R1_Unclassified", "a5", W, ""),
    ],
    "R2-violates": [("R2_ImpactMatrix", "a1", V, "GeneralData4")],
    "R3-violates": [("R3_CategoryFloor", "a1", V, "GeneralData2")],
    "R4-violates": [
        ("R4_PersonalInformation", "a1", V, "GeneralData3"),
        ("R4_PersonalInformation", "a2", V, "GeneralData2"),
        ("R4_PersonalInformation", "a2", V, "GeneralData2"),
        ("R4_PersonalInformation", "a4", V, "GeneralData3"),
    ],
    "R5-violates": [
        ("R5_Elements", "a1", V, "GeneralData2"),
        ("R5_Elements", "a1", V, "GeneralData2"),
        ("R5_Elements", "a2", V, "GeneralData2"),
    ],
    "R6-violates": [("R6_ReviewPending", "a2", W, "GeneralData4"), ("R6_Scale", "a1", V, "GeneralData4")],
    "R8-violates": [("R8_Approval", "d1-act", V, "Anonymisation")],
    "R10-violates": [("R10_NoCycle", "b", V, "b"), ("R10_NoCycle", "c", V, "c"), ("R10_NoCycle", "d", V, "d")],
    "R11-violates": [
        ("R11_Effective", "a", V, "GeneralData2"),
        ("R11_Effective", "b", V, "GeneralData2"),
        ("R11_Effective", "c", V, "GeneralData2"),
    ],
    "R12-violates": [
        ("R12_Clearance", "t1", V, "GeneralData4"),
        ("R12_MayLeave", "t2", V, "CoreData"),
        *[
            ("R12_Measures", "t1", V, m)
            for m in (
                "DeidentificationBeforeSharing",
                "DerivativeOnlyRelease",
                "DigitalWatermarking",
                "ReleaseApproval",
                "TwoPersonApproval",
            )
        ],
        ("R12_RiskAssessment", "t2", V, "CoreData"),
        ("R12_RiskAssessment", "t3", V, "ImportantData"),
    ],
    "R13-violates": [("R13_When", "as", V, "2026-03-01"), ("R13_Who", "as", V, ""), ("R13_Why", "ap", V, "")],
    "R14-violates": [("R14_DeviceTyped", "dev", V, "dev"), ("R14_RawData", "a", V, "a")],
    "R15-violates": [("R15_Date", "bad", V, "last year"), ("R15_Overdue", "old", W, "2025-06-29")],
    "R16-violates": [
        ("R16_Evidence", "r2", V, "SeparateConsent"),
        ("R16_Mechanism", "r1", V, "MechanismStandardContractOrCertification"),
        ("R16_Prohibited", "r3", V, "ProhibitionHealthDataStorageAbroad"),
    ],
}
RULES = ["R1", "R2", "R3", "R4", "R5", "R6", "R8", "R10", "R11", "R12", "R13", "R14", "R15", "R16"]
FILES = sorted(FIXTURES.glob("*.ttl"))


def test_every_rule_has_a_conforming_and_a_violating_fixture() -> None:
    names = {f.stem for f in FILES}
    assert names == {f"{r}-{kind}" for r in RULES for kind in ("conforms", "violates")}
    assert set(EXPECTED) == {f"{r}-violates" for r in RULES}


def test_every_shape_names_its_rule_and_speaks_both_languages() -> None:
    g = Graph()
    for f in bundled_dir("shapes").glob("*.ttl"):
        g.parse(f, format="turtle")
    shapes = {s for t in (SH.NodeShape, SH.PropertyShape) for s in g.subjects(RDF.type, t)}
    assert len(shapes) >= 20
    for s in shapes:
        assert str(g.value(s, DCTERMS.identifier)) in RULES, s
        if (s, SH.property, None) in g:
            continue  # a grouping node shape: its property shapes carry the messages
        owners = [s, *g.objects(s, SH.sparql)]
        langs = {m.language for o in owners for m in g.objects(o, SH.message) if isinstance(m, Literal)}
        assert langs == {"zh", "en"}, s
        assert g.value(s, SH.severity) in (SH.Violation, SH.Warning), s


@pytest.mark.parametrize("fixture", FILES, ids=lambda p: p.stem)
def test_fixture_gives_exactly_the_expected_results(onto: Ontology, fixture: Path) -> None:
    report = fixture_service(onto, fixture).validate()
    expected = EXPECTED.get(fixture.stem, [])
    assert summary(report) == sorted(expected)
    assert report.conforms == (not any(sev == V for _, _, sev, _ in expected))
    assert all(r.message_zh and r.message_en and r.message_zh != r.message_en for r in report.results)


_PLAIN: dict[str, tuple[bool, set[tuple[str, str, str]]]] = {}


def plain_pyshacl(fixture: Path) -> tuple[bool, set[tuple[str, str, str]]]:
    """pyshacl with no targeting by medgrade: every target, every constraint, over the ontology
    and the fixture (in an in-memory Oxigraph store, pyshacl's native Oxigraph data graph)."""
    if fixture.name not in _PLAIN:
        import pyoxigraph as ox
        from pyshacl.graph_abstraction import DataGraph

        store = ox.Store()
        for module in sorted(bundled_dir("ontology").glob("*.ttl")):
            store.load(path=str(module), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(f"file:{module.name}"))
        store.load(path=str(fixture), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode("file:fixture"))
        data = DataGraph.from_oxigraph_store(store)
        data.default_union = True
        shapes = Graph()
        for f in sorted(bundled_dir("shapes").glob("*.ttl")):
            shapes.parse(f, format="turtle")
        conforms, results, _ = pyshacl.validate(data, shacl_graph=shapes, allow_warnings=True, inplace=True)
        found = {
            (
                str(results.value(r, SH.focusNode)),
                str(results.value(r, SH.sourceShape)),
                str(results.value(r, SH.resultSeverity)).rsplit("#", 1)[-1],
            )
            for r in results.subjects(RDF.type, SH.ValidationResult)
        }
        _PLAIN[fixture.name] = (bool(conforms), found)
    return _PLAIN[fixture.name]


@pytest.mark.parametrize("fixture", FILES, ids=lambda p: p.stem)
def test_targeted_runs_agree_with_a_plain_pyshacl_run(onto: Ontology, fixture: Path) -> None:
    conforms, plain = plain_pyshacl(fixture)
    report = fixture_service(onto, fixture).validate()
    assert report.conforms == conforms
    assert {(r.focus, r.shape, r.severity) for r in report.results} == plain


def jena_shapes(path: Path) -> Path:
    """The shapes as Jena 4.5 can parse them: it refuses a SPARQL constraint with more than one
    sh:message (SHACL allows one per language), so only the English message is kept there.
    Messages take no part in the comparison; everything else is unchanged."""
    g = Graph().parse(path, format="turtle")
    for constraint in set(g.objects(None, SH.sparql)):
        for m in list(g.objects(constraint, SH.message)):
            if isinstance(m, Literal) and m.language != "en":
                g.remove((constraint, SH.message, m))
    g.serialize(path, format="turtle")
    return path


@pytest.mark.java
def test_jena_shacl_agrees_on_every_fixture(tmp_path: Path) -> None:
    java()
    shared_tool("jena")
    if jena.classpath() is None:  # the shared tool installs Debian's Jena on first use
        import subprocess

        subprocess.run([str(shared_tool("jena")), "riotcmd.riot", "--validate", str(FILES[0])], capture_output=True)
    built = jena.compile_compare(tmp_path / "build")
    need(built is not None, "Jena (libapache-jena-java) or javac is not installed")
    shapes = jena_shapes(merged_shapes(tmp_path / "shapes.ttl"))
    data = [merged_data(f, tmp_path / f.name) for f in FILES]
    by_jena = jena.compare(built, shapes, data)  # type: ignore[arg-type]
    assert set(by_jena) == {f.name for f in FILES}
    for f in FILES:
        conforms, plain = plain_pyshacl(f)
        jena_conforms, jena_results = by_jena[f.name]
        assert jena_conforms == conforms, f.name
        assert {(focus, shape) for focus, shape, _ in jena_results} == {(fo, sh) for fo, sh, _ in plain}, f.name
        assert {short(s) for _, s, _ in jena_results} == {short(sh) for _, sh, _ in plain}
