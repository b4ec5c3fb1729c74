"""Whole HL7 v2 messages and FHIR resources classified in context, against public example files
(tests/conformance/hl7v2, tests/conformance/fhir: sources and licences in each README.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kg.classify import Classifier
from kg.classify.context import Context
from kg.classify.messages import _reference_type, classify_fhir, classify_hl7
from kg.cli import app
from kg.errors import InputError
from kg.ontology import load_ontology

HERE = Path(__file__).parent
PATIENT = Context(True, "同一消息含 PID 段", "in a message with a PID segment")


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier(load_ontology())


def _cases(folder: str) -> list[tuple[str, str, dict[str, object]]]:
    expected = json.loads((HERE / folder / "expected.json").read_text(encoding="utf-8"))
    return [
        (name, ref, want) for name, refs in expected.items() if not name.startswith("_") for ref, want in refs.items()
    ]


def _check(rows: dict[str, dict[str, object]], ref: str, want: dict[str, object]) -> None:
    assert ref in rows, f"{ref} not classified"
    row = rows[ref]
    assert row["personal"] is want["personal"], (ref, row["reasons"])
    if "sensitive" in want:
        assert row["sensitive"] is want["sensitive"], (ref, row["reasons"])
    if "category" in want:
        category = row["category"]
        assert isinstance(category, dict) and str(category["iri"]).endswith("#" + str(want["category"]))


@pytest.mark.parametrize(("name", "ref", "want"), _cases("hl7v2"))
def test_hl7v2_messages(classifier: Classifier, name: str, ref: str, want: dict[str, object]) -> None:
    rows = {r.ref: r.to_dict() for r in classify_hl7(HERE / "hl7v2" / name, classifier)}
    _check(rows, ref, want)


@pytest.mark.parametrize(("name", "ref", "want"), _cases("fhir"))
def test_fhir_resources(classifier: Classifier, name: str, ref: str, want: dict[str, object]) -> None:
    rows = {r.ref: r.to_dict() for r in classify_fhir(HERE / "fhir" / name, classifier)}
    _check(rows, ref, want)


def test_every_example_file_is_listed() -> None:
    for folder, suffixes in (("hl7v2", {".hl7"}), ("fhir", {".xml", ".json"})):
        files = {p.name for p in (HERE / folder).iterdir() if p.suffix in suffixes} - {"expected.json"}
        listed = set(json.loads((HERE / folder / "expected.json").read_text(encoding="utf-8")))
        assert files <= listed and {n for n in listed if not n.startswith("_")} <= files
        readme = (HERE / folder / "README.md").read_text(encoding="utf-8")
        assert all(name in readme for name in files)


@pytest.mark.parametrize(
    ("name", "ref", "why"),
    [
        # each entry of a Bundle in its own resource's context: its subject or patient, resolved in the Bundle
        ("ai-us-core.json", "entry[3].Observation.subject", "Observation.subject refers to a Patient resource"),
        (
            "ai-us-core.json",
            "entry[4].AllergyIntolerance.patient",
            "AllergyIntolerance.patient refers to a Patient resource",
        ),
        ("bundle-doc-good.xml", "entry[0].Composition.subject", "Composition.subject refers to a Patient resource"),
        (
            "PulseOxBundle_25Oct2022.json",
            "entry[1].Observation.valueQuantity",
            "Observation.subject refers to a Patient",
        ),
        ("bundle-urn.json", "entry[1].Patient.name", "the Patient resource itself"),
        # no patient context: the Organization, Location and Practitioner of a Bundle that holds a Patient
        ("bundle-urn.json", "entry[5].Organization.address", None),
        ("r4-caredove-bundle.json", "entry[4].Organization.name", None),
        ("r4-caredove-bundle.json", "entry[5].Location.address", None),
        ("ai-us-core.json", "entry[1].Practitioner.name", None),
        ("ai-us-core.json", "entry[2].Condition.code", None),  # no subject: the Bundle's Patient is not its own
    ],
)
def test_bundle_entries_in_their_own_context(classifier: Classifier, name: str, ref: str, why: str | None) -> None:
    rows = {r.ref: r.to_dict() for r in classify_fhir(HERE / "fhir" / name, classifier)}
    reasons = " | ".join(str(r) for r in rows[ref]["reasons"])
    if why is None:
        assert "context: " not in reasons, reasons
    else:
        assert f"context: {why}" in reasons, reasons


@pytest.mark.parametrize(
    ("ref", "target"),
    [
        ({"reference": "Patient/example"}, "Patient"),  # relative
        ({"reference": "http://acme.com/fhir/Patient/p1/_history/2"}, "Patient"),  # absolute, versioned
        ({"reference": "urn:uuid:61ebe359"}, "Patient"),  # a Bundle entry's fullUrl
        ({"reference": "#p1"}, "Patient"),  # contained
        ({"reference": "Patient?identifier=234234"}, "Patient"),  # conditional (transaction)
        ({"type": "Patient", "identifier": {"value": "1"}}, "Patient"),  # logical, typed
        ({"reference": "Group/101"}, "Group"),
        ({"reference": "urn:uuid:unknown"}, None),
        ({"display": "Peter James Chalmers"}, None),
    ],
)
def test_reference_targets(ref: dict[str, object], target: str | None) -> None:
    assert _reference_type(ref, {"urn:uuid:61ebe359": "Patient"}, {"p1": "Patient"}) == target


def test_elements_r5_lacks_belong_to_their_resource(classifier: Classifier) -> None:
    """Organization.telecom (R4; R5 moved it to Organization.contact) is unresolved, and still the organization's."""
    rows = {r.ref: r for r in classify_fhir(HERE / "fhir" / "organization-example.json", classifier)}
    s = rows["Organization.telecom"].suggestion
    assert s.element is None and not s.is_personal
    assert any("refers to no person" in r for r in s.reasons), s.reasons


# --- the defects of issue #17, each failing before it --------------------------------------------


@pytest.mark.parametrize(
    "ref", ["OBX-5", "OBR-2", "OBR-3", "ORC-2", "ORC-3", "PV1-3", "Observation.value[x]", "Observation.subject"]
)
def test_personal_in_patient_context(classifier: Classifier, ref: str) -> None:
    assert not classifier.classify(ref).is_personal or ref in ("Observation.subject",)
    s = classifier.classify(ref, context=PATIENT)
    assert s.is_personal, s.reasons
    assert any("context: in a message with a PID segment" in r for r in s.reasons)


def test_set_id_is_no_identifier(classifier: Classifier) -> None:
    s = classifier.classify("PID-1")
    assert not s.is_personal and any("SI (sequence ID)" in r for r in s.reasons)


@pytest.mark.parametrize("ref", ["Device.contact", "Device.name"])
def test_device_elements_are_not_a_persons(classifier: Classifier, ref: str) -> None:
    for context in (None, PATIENT):
        s = classifier.classify(ref, context=context)
        assert not s.is_personal, s.reasons
        assert s.category is not None and not s.category.personal_kind


def test_persons_stay_personal(classifier: Classifier) -> None:
    for ref in ("PID-5", "PID-3", "Patient.name", "Patient.telecom", "NK1-2"):
        assert classifier.classify(ref).is_personal


def test_cli_hl7_and_fhir(tmp_path: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["classify", "--hl7", str(HERE / "hl7v2" / "oru_r01_glucose.hl7"), "--json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.output)
    assert {"PID[1]-5", "OBX[2]-5"} <= {r["ref"] for r in rows}
    assert "EVERYWOMAN" not in out.output  # values are never printed
    out = runner.invoke(app, ["classify", "--fhir", str(HERE / "fhir" / "observation-example.xml")])
    assert out.exit_code == 0, out.output
    bad = tmp_path / "bad.hl7"
    bad.write_text("PID|1\r", encoding="utf-8")
    out = runner.invoke(app, ["classify", "--hl7", str(bad)])
    assert isinstance(out.exception, InputError) and "line 1" in str(out.exception)  # main() exits 2
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"resourceType": "NoSuchThing"}', encoding="utf-8")
    out = runner.invoke(app, ["classify", "--fhir", str(bad_json)])
    assert isinstance(out.exception, InputError) and "$.resourceType" in str(out.exception)
