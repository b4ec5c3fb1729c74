"""DICOM attributes: the data dictionary (pydicom) and the confidentiality profile (PS3.15 E.1-1).

``resolve`` accepts a tag (``(0010,0010)``, ``0010,0010``, ``00100010``, ``0x00100010``) or a
keyword (``PatientName``) and returns the attribute's name, VR and keyword from pydicom's data
dictionary, with its row of PS3.15 Table E.1-1 when the attribute is in the table. The table is
read from ``data/dicom_ps315_e1_1.csv`` (an extract with its provenance in the file's header;
re-create it with ``scripts/extract_dicom_ps315.py``).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources

from pydicom.datadict import DicomDictionary, keyword_dict  # type: ignore[attr-defined]  # re-exported, untyped

from kg.classify.standards import StandardElement, package_version

TAG = re.compile(r"^\s*\(?\s*(?:0x)?([0-9A-Fa-f]{4})\s*[,|\s]?\s*(?:0x)?([0-9A-Fa-f]{4})\s*\)?\s*$")
STANDARD = "DICOM"

# The options of PS3.15 Table E.1-1, as the extract's columns, with their names in the standard.
OPTIONS = {
    "retain_safe_private": "Retain Safe Private Option",
    "retain_uids": "Retain UIDs Option",
    "retain_device_identity": "Retain Device Identity Option",
    "retain_institution_identity": "Retain Institution Identity Option",
    "retain_patient_characteristics": "Retain Patient Characteristics Option",
    "retain_longitudinal_full_dates": "Retain Longitudinal Temporal Information with Full Dates Option",
    "retain_longitudinal_modified_dates": "Retain Longitudinal Temporal Information with Modified Dates Option",
    "clean_descriptors": "Clean Descriptors Option",
    "clean_structured_content": "Clean Structured Content Option",
    "clean_graphics": "Clean Graphics Option",
}
ACTIONS = {
    "D": "replace with a dummy value",
    "Z": "replace with an empty or dummy value",
    "X": "remove",
    "K": "keep",
    "C": "clean",
    "U": "replace with a consistent UID",
}


@dataclass(frozen=True, slots=True)
class ProfileRow:
    """One attribute's row of PS3.15 Table E.1-1."""

    tag: str
    name: str
    basic_profile: str  # the action code(s), "X/Z/D"
    options: dict[str, str]  # our column -> action code under that option

    def kept_by(self, option: str) -> bool:
        return self.options.get(option, "").startswith("K")

    def describe(self) -> str:
        """``Device Serial Number: basic profile X/Z/D; Retain Device Identity Option: K``."""
        parts = [f"basic profile {self.basic_profile}"]
        parts += [f"{OPTIONS[k]} {v}" for k, v in self.options.items() if v]
        return f"{self.name}: " + "; ".join(parts)


@dataclass(frozen=True, slots=True)
class DicomAttribute:
    element: StandardElement
    tag: int
    keyword: str
    vr: str
    retired: bool
    profile: ProfileRow | None


def _tag_text(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


@cache
def profile_table() -> dict[int, ProfileRow]:
    """PS3.15 Table E.1-1 keyed by tag."""
    text = resources.files("kg.classify").joinpath("data/dicom_ps315_e1_1.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    out: dict[int, ProfileRow] = {}
    for r in rows:
        m = TAG.match(r["tag"])
        if m is None:
            continue
        tag = int(m.group(1) + m.group(2), 16)
        out[tag] = ProfileRow(
            tag=r["tag"],
            name=r["name"],
            basic_profile=r["basic_profile"],
            options={k: r[k] for k in OPTIONS if r.get(k)},
        )
    return out


@cache
def profile_provenance() -> str:
    text = resources.files("kg.classify").joinpath("data/dicom_ps315_e1_1.csv").read_text(encoding="utf-8")
    return " ".join(line.lstrip("# ").strip() for line in text.splitlines()[:4] if line.startswith("#"))


@cache
def _source() -> str:
    return f"pydicom {package_version('pydicom')} data dictionary; DICOM PS3.15 Table E.1-1"


def attribute(tag: int) -> DicomAttribute | None:
    """The attribute with ``tag``; None when the dictionary does not know it."""
    entry = DicomDictionary.get(tag)
    profile = profile_table().get(tag)
    if entry is None and profile is None:
        return None
    vr, _vm, name, retired, keyword = entry if entry else ("", "", profile.name if profile else "", "", "")
    name = name or (profile.name if profile else "")
    element = StandardElement(
        standard=STANDARD,
        ident=f"{_tag_text(tag)} {keyword}".strip(),
        name=name,
        description=profile.describe() if profile else "",
        context=f"group {tag >> 16:04X}",
        context_key=f"{tag >> 16:04X}",
        source=_source(),
    )
    return DicomAttribute(element, tag, keyword, vr, retired == "Retired", profile)


def parse_tag(text: str) -> int | None:
    m = TAG.match(text)
    return int(m.group(1) + m.group(2), 16) if m else None


def lookup(text: str) -> DicomAttribute | None:
    """``text`` as a DICOM tag or keyword (exact, case-sensitive as in the dictionary)."""
    tag = parse_tag(text)
    if tag is None:
        key = text.strip()
        tag = keyword_dict.get(key)
        if tag is None:
            return None
    return attribute(tag)


def resolve(text: str) -> StandardElement | None:
    found = lookup(text)
    return found.element if found else None


def elements(scope: set[int] | None = None) -> Iterator[DicomAttribute]:
    """Every current (not retired) attribute of the dictionary, or those with a tag in ``scope``."""
    for tag in sorted(DicomDictionary) if scope is None else sorted(scope):
        a = attribute(tag)
        if a is not None and not a.retired:
            yield a
