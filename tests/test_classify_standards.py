"""Standard data-element references resolve from the installed standards packages: HL7 v2 fields
(hl7apy), FHIR element paths (fhir.resources) and BICEPS members (sdc11073's participant-model XSD)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kg.classify import biceps, fhir, hl7v2
from kg.classify.standards import StandardElement

Resolver = Callable[[str], StandardElement | None]
RESOLVERS: dict[str, Resolver] = {"hl7v2": hl7v2.resolve, "fhir": fhir.resolve, "biceps": biceps.resolve}


def resolved(resolver: Resolver, text: str) -> StandardElement:
    element = resolver(text)
    assert element is not None, f"{text!r} did not resolve"
    return element


# --- HL7 v2 -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["PID-5", "PID.5", "pid-5", " PID-5 "])
def test_hl7_patient_name_in_every_spelling(text: str) -> None:
    e = resolved(hl7v2.resolve, text)
    assert e.standard == "HL7 v2"
    assert e.ident == "PID-5"
    assert "Patient Name" in e.name
    assert e.context_key == "PID" and e.context.startswith("PID")
    assert e.source.startswith("hl7apy ") and "(HL7 v2.8.2)" in e.source
    assert "XPN" in e.description  # the data type hl7apy gives


def test_hl7_component_and_subcomponent_names() -> None:
    assert resolved(hl7v2.resolve, "PID-5.1").name == "Patient Name / Family Name"
    assert resolved(hl7v2.resolve, "PID-5.1").ident == "PID-5.1"
    assert resolved(hl7v2.resolve, "PID-5.2").name == "Patient Name / Given Name"
    assert resolved(hl7v2.resolve, "PID-5.1.1").name == "Patient Name / Family Name / Surname"
    assert resolved(hl7v2.resolve, "EQU-1.1").name == "Equipment Instance Identifier / Entity Identifier"


def test_hl7_equipment_and_participation_fields() -> None:
    equ = resolved(hl7v2.resolve, "EQU-1")
    assert equ.name == "Equipment Instance Identifier" and equ.context_key == "EQU"
    prt = resolved(hl7v2.resolve, "PRT-10")
    assert prt.name == "Participation Device" and prt.context_key == "PRT"
    # PRT first appears in v2.7: it is read from the newest version hl7apy ships
    assert "(HL7 v2.8.2)" in prt.source


def test_hl7_other_fields() -> None:
    assert resolved(hl7v2.resolve, "OBX-5").name == "Observation Value"
    msh = resolved(hl7v2.resolve, "MSH-3")
    assert msh.name == "Sending Application" and msh.context_key == "MSH"
    sex = resolved(hl7v2.resolve, "PID-8")
    assert sex.name == "Administrative Sex" and "HL70001" in sex.description
    assert resolved(hl7v2.resolve, "PID-7").name == "Date Time of Birth"
    assert "Withdrawn" in resolved(hl7v2.resolve, "PID-2").description


def test_hl7_segment_only_in_older_versions_falls_back() -> None:
    # hl7apy's v2.7+ define QRD without fields; the newest version with its fields is used
    qrd = resolved(hl7v2.resolve, "QRD-1")
    assert qrd.name == "Query Date Time" and "(HL7 v2.6)" in qrd.source


@pytest.mark.parametrize(
    "text",
    ["XYZ-1", "ZZ1-1", "PID-0", "PID-99", "PID-abc", "PID-", "PID", "PID-5.0", "PID-5.99", "PID-7.1", "", "-5", "5"],
)
def test_hl7_not_a_field(text: str) -> None:
    assert hl7v2.resolve(text) is None


def test_hl7_elements() -> None:
    all_fields = list(hl7v2.elements())
    assert len(all_fields) > 100
    assert len({e.ident for e in all_fields}) == len(all_fields)
    assert {e.context_key for e in all_fields} == set(hl7v2.DEFAULT_SEGMENTS)
    equ = list(hl7v2.elements(["equ", "XYZ"]))
    assert [e.ident for e in equ][:2] == ["EQU-1", "EQU-2"] and {e.context_key for e in equ} == {"EQU"}
    assert all(hl7v2.resolve(e.ident) == e for e in all_fields)


def test_readable_long_names() -> None:
    assert hl7v2.readable("PATIENT_NAME") == "Patient Name"
    assert hl7v2.readable("PATIENT_ID") == "Patient ID"
    assert hl7v2.readable("DATE_TIME_OF_BIRTH") == "Date Time of Birth"


# --- FHIR -------------------------------------------------------------------------------------


def test_fhir_device_serial_number() -> None:
    e = resolved(fhir.resolve, "Device.serialNumber")
    assert (e.standard, e.ident, e.name, e.context, e.context_key) == (
        "FHIR",
        "Device.serialNumber",
        "serialNumber",
        "Device",
        "Device",
    )
    assert "serial number" in e.description.lower()
    assert e.source.startswith("fhir.resources ") and e.source.endswith("(FHIR R5)")


def test_fhir_top_level_elements() -> None:
    assert "date of birth" in resolved(fhir.resolve, "Patient.birthDate").description
    assert resolved(fhir.resolve, "Patient.name").context_key == "Patient"
    assert resolved(fhir.resolve, "Observation.valueQuantity").name == "valueQuantity"
    status = resolved(fhir.resolve, "DeviceMetric.operationalStatus")
    assert status.name == "operationalStatus" and "on | off | standby" in status.description
    # a Python keyword: fhir.resources names the field class_fhir, FHIR calls it class
    assert resolved(fhir.resolve, "Encounter.class").ident == "Encounter.class"


def test_fhir_backbone_paths() -> None:
    state = resolved(fhir.resolve, "DeviceMetric.calibration.state")
    assert (state.name, state.context, state.context_key) == ("state", "DeviceMetric.calibration", "DeviceMetric")
    assert "calibrat" in state.description
    di = resolved(fhir.resolve, "Device.udiCarrier.deviceIdentifier")
    assert di.context == "Device.udiCarrier" and "UDI" in di.description
    # through a data type too
    assert resolved(fhir.resolve, "Patient.name.family").context == "Patient.name"


@pytest.mark.parametrize("text", ["Observation.value[x]", "Observation.value"])
def test_fhir_choice_maps_to_first_type(text: str) -> None:
    e = resolved(fhir.resolve, text)
    assert e.ident == "Observation.valueQuantity" and e.name == "valueQuantity"
    assert resolved(fhir.resolve, "Observation.component.value[x]").ident == "Observation.component.valueQuantity"


@pytest.mark.parametrize(
    "text",
    [
        "NotAResource.foo",
        "Device.",
        "Device",
        "Device.notAnElement",
        "Device.serialNumber.more",
        "device.serialNumber",  # resource types are capitalised
        "Fhirtypes.x",  # a module of fhir.resources that is no resource
        "Base.id",
        "HumanName.family",  # a data type, not a resource
        "Device..serialNumber",
        "Observation.valueQuantity[x]",
        "",
        ".",
        "e.g.",
    ],
)
def test_fhir_not_an_element(text: str) -> None:
    assert fhir.resolve(text) is None


def test_fhir_elements() -> None:
    all_elements = list(fhir.elements())
    assert len(all_elements) > 100
    assert len({e.ident for e in all_elements}) == len(all_elements)
    idents = {e.ident for e in all_elements}
    assert {"Device.serialNumber", "DeviceMetric.calibration.state", "Observation.valueQuantity"} <= idents
    generic = {"id", "meta", "implicitRules", "language", "text", "contained", "extension", "modifierExtension"}
    assert not any(e.name in generic or "__ext" in e.name or e.name == "resource_type" for e in all_elements)
    assert {e.context_key for e in all_elements} == set(fhir.DEFAULT_RESOURCES)
    metric = [e.ident for e in fhir.elements(["DeviceMetric", "NotAResource"])]
    assert "DeviceMetric.operationalStatus" in metric and all(i.startswith("DeviceMetric.") for i in metric)
    assert all(fhir.resolve(e.ident) == e for e in all_elements)


# --- BICEPS -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "SerialNumber",
        "pm:SerialNumber",
        "MetaData/SerialNumber",
        "MetaData.SerialNumber",
        "MdsDescriptor/MetaData/SerialNumber",
        "pm:MetaData/SerialNumber",
    ],
)
def test_biceps_serial_number(text: str) -> None:
    e = resolved(biceps.resolve, text)
    assert e.standard == "IEEE 11073 SDC (BICEPS)"
    assert (e.ident, e.name, e.context_key) == ("pm:MetaData/SerialNumber", "SerialNumber", "MetaData")
    assert "serial number" in e.description.lower()
    assert e.source.startswith("sdc11073 ") and e.source.endswith("BICEPS_ParticipantModel.xsd")


def test_biceps_attributes() -> None:
    hours = resolved(biceps.resolve, "OperatingHours")
    assert hours.context_key == "AbstractDeviceComponentState" and "operating hours" in hours.description
    for text in ("ActivationState", "@ActivationState"):
        state = resolved(biceps.resolve, text)
        # declared in several types: the first in document order, the others named in the context
        assert state.context_key == "AbstractDeviceComponentState"
        assert state.ident == "pm:AbstractDeviceComponentState/ActivationState"
        assert "also:" in state.context and "AbstractAlertState" in state.context
        assert "ComponentActivation" in state.description


def test_biceps_types_and_inherited_members() -> None:
    patient = resolved(biceps.resolve, "PatientContextState")
    assert patient.ident == "pm:PatientContextState" and "patient" in patient.description.lower()
    inherited = resolved(biceps.resolve, "PatientContextState/@ContextAssociation")
    assert inherited.context_key == "AbstractContextState" and "PatientContextState" in inherited.context
    version = resolved(biceps.resolve, "Mdib/@MdibVersion")  # from the attributeGroup Mdib references
    assert version.context_key == "MdibVersionGroup"


@pytest.mark.parametrize("word", ["Value", "Type", "Handle", "Code", "State", "Udi"])
def test_biceps_bare_common_words_stay_free_text(word: str) -> None:
    assert biceps.resolve(word) is None
    assert resolved(biceps.resolve, f"pm:{word}").name == word


def test_biceps_qualified_single_words() -> None:
    assert resolved(biceps.resolve, "@Handle").context_key == "AbstractDescriptor"
    assert resolved(biceps.resolve, "AbstractMultiState/Handle").context_key == "AbstractMultiState"
    assert resolved(biceps.resolve, "MetaData/Udi").ident == "pm:MetaData/Udi"


@pytest.mark.parametrize(
    "text",
    [
        "pm:",
        "",
        "@",
        "/",
        "MetaData/",
        "MetaData/@SerialNumber",  # an element, not an attribute
        "serialNumber",
        "Serial Number",
        "NoSuchMember",
        "Device.serialNumber",
        "Patient.name",
    ],
)
def test_biceps_not_a_member(text: str) -> None:
    assert biceps.resolve(text) is None


def test_biceps_elements() -> None:
    members = list(biceps.elements())
    assert len(members) > 100
    assert len({e.ident for e in members}) == len(members)
    assert sum(1 for e in members if e.description) > len(members) // 2
    meta = [e.name for e in biceps.elements(["pm:MetaData"])]
    assert "SerialNumber" in meta and "LotNumber" in meta
    assert all(resolved(biceps.resolve, e.ident) == e for e in members)


def test_biceps_compound_names() -> None:
    assert biceps.is_compound("SerialNumber") and biceps.is_compound("MdibVersion")
    assert not biceps.is_compound("Value") and not biceps.is_compound("serialNumber")


# --- all three --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(RESOLVERS))
@pytest.mark.parametrize("text", ["", " ", "PID-0", "PID-abc", "Device.", "pm:", "Value", "患者姓名", "a" * 10_000])
def test_malformed_inputs_are_none(name: str, text: str) -> None:
    assert RESOLVERS[name](text) is None


def test_standards_do_not_claim_each_other() -> None:
    assert fhir.resolve("PID-5") is None and biceps.resolve("PID-5") is None
    assert hl7v2.resolve("Device.serialNumber") is None and biceps.resolve("Device.serialNumber") is None
    assert hl7v2.resolve("SerialNumber") is None and fhir.resolve("SerialNumber") is None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_resolvers_never_raise(text: str) -> None:
    for resolver in RESOLVERS.values():
        result = resolver(text)
        assert result is None or isinstance(result, StandardElement)


def test_first_build_is_fast_offline_and_lazy() -> None:
    """In a fresh interpreter with sockets disabled: each index builds in well under a second,
    and resolving a FHIR path imports that resource's module, not all of them."""
    script = textwrap.dedent(
        """
        import json, sys, time

        def no_network(event, args):
            if event in ("socket.connect", "socket.getaddrinfo"):
                raise OSError(f"network access attempted: {event} {args}")

        sys.addaudithook(no_network)
        from kg.classify import biceps, fhir, hl7v2

        timings = {}
        for name, build in (("hl7v2", lambda: hl7v2.resolve("PID-5")),
                            ("fhir", lambda: fhir.resolve("Device.serialNumber")),
                            ("biceps", lambda: biceps.resolve("SerialNumber"))):
            start = time.perf_counter()
            assert build() is not None, name
            timings[name] = time.perf_counter() - start
        loaded = [m for m in sys.modules if m.startswith("fhir.resources.")]
        start = time.perf_counter()
        for _ in range(1000):
            hl7v2.resolve("PID-5"); fhir.resolve("Device.serialNumber"); biceps.resolve("SerialNumber")
        timings["warm_per_call"] = (time.perf_counter() - start) / 3000
        print(json.dumps({"timings": timings, "patient_loaded": "fhir.resources.patient" in loaded,
                          "modules": len(loaded), "sdc11073_imported": "sdc11073" in sys.modules}))
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    for name in ("hl7v2", "fhir", "biceps"):
        assert report["timings"][name] < 2.0, report  # ~0.1-0.3 s here; generous for a loaded CI machine
    assert report["timings"]["warm_per_call"] < 1e-3, report
    assert not report["patient_loaded"] and report["modules"] < 60, report
    assert not report["sdc11073_imported"], report
