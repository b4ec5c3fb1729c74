"""A data element of a medical data standard, resolved from a reference such as ``PID-5``.

The resolvers (:mod:`kg.classify.hl7v2`, :mod:`kg.classify.fhir`, :mod:`kg.classify.biceps`)
read every name and description from the packages that ship the standards (hl7apy,
fhir.resources, sdc11073's copy of the BICEPS schema) at run time; nothing of a standard's
tables is copied into this repository.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import metadata


@dataclass(frozen=True, slots=True)
class StandardElement:
    standard: str  # "HL7 v2" | "FHIR" | "IEEE 11073 SDC (BICEPS)" | "DICOM"
    ident: str  # canonical reference: "PID-5", "Device.serialNumber", "pm:MetaData/SerialNumber"
    name: str  # English name of the element, e.g. "Patient Name", "serialNumber"
    description: str  # the standard's own longer text (FHIR short/definition, XSD documentation), "" if none
    context: str  # human name of the container: "PID Patient Identification", "Device", "MdsDescriptor"
    context_key: str  # machine key of the container: "PID", "Device", "MdsDescriptor"
    source: str  # provenance, e.g. "hl7apy 1.3.5 (HL7 v2.5)", "fhir.resources 8.3.0 (FHIR R5)"
    datatype: str = ""  # the standard's data type: HL7 "SI", "EI", "PL"; FHIR "ContactPoint", "Reference"
    person: bool | None = None  # the container describes a person (FHIR Patient, Practitioner); None: unknown


_WHITESPACE = re.compile(r"\s+")


def normalize_space(text: str | None) -> str:
    """``text`` with every run of whitespace made one space, stripped; "" for None."""
    return _WHITESPACE.sub(" ", text).strip() if text else ""


def package_version(distribution: str) -> str:
    """The installed version of ``distribution``, or "unknown" (never raises)."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"


def join_text(*parts: str | None) -> str:
    """Non-empty ``parts`` as one text, each ending in a full stop or other punctuation."""
    out: list[str] = []
    for part in parts:
        text = normalize_space(part)
        if not text or text in out:
            continue
        if out and not out[-1].endswith((".", "!", "?", ":", ";")):
            out[-1] += "."
        out.append(text)
    return " ".join(out)
