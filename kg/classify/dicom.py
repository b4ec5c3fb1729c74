"""DICOM attributes: the data dictionary (pydicom) and the confidentiality profile (PS3.15 E.1-1).

``resolve`` accepts a tag (``(0010,0010)``, ``0010,0010``, ``00100010``, ``0x00100010``) or a
keyword (``PatientName``) and returns the attribute's name, VR and keyword from pydicom's data
dictionary, with its row of PS3.15 Table E.1-1 when the attribute is in the table. The table is
read from ``data/dicom_ps315_e1_1.csv`` (an extract with its provenance in the file's header;
re-create it with ``scripts/extract_dicom_ps315.py``) and, for the repeating groups (60xx
overlays, 50xx curves), ``data/dicom_ps315_e1_1_repeating.csv``.

:func:`subject` says whether an attribute's value is about a natural person, from what the
standard says the attribute is (VR, group, E.1-1 row and options), never from the file it is in.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

from pydicom.datadict import DicomDictionary, get_entry, keyword_dict  # type: ignore[attr-defined]  # re-exported, untyped

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

    def retained_by(self) -> list[str]:
        """The options (their names in the standard) under which the attribute is kept."""
        return [OPTIONS[k] for k in self.options if self.kept_by(k)]

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
    """PS3.15 Table E.1-1 keyed by tag (a repeating group by its first group, 6000 or 5000)."""
    out: dict[int, ProfileRow] = {}
    for name in ("data/dicom_ps315_e1_1.csv", "data/dicom_ps315_e1_1_repeating.csv"):
        text = resources.files("kg.classify").joinpath(name).read_text(encoding="utf-8")
        for r in csv.DictReader(line for line in text.splitlines() if not line.startswith("#")):
            m = TAG.match(r["tag"].replace("xx", "00"))
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


def _repeating_base(tag: int) -> int:
    """Overlays (60xx) and curves (50xx) repeat in every even group of their range."""
    group = tag >> 16
    if group & 0xFF00 in (0x6000, 0x5000) and group & 0xFF01 == group & 0xFF00:
        return ((group & 0xFF00) << 16) | (tag & 0xFFFF)
    return tag


def profile_row(tag: int) -> ProfileRow | None:
    """The attribute's row of PS3.15 Table E.1-1, or None when the table does not list it."""
    table = profile_table()
    return table.get(tag) or table.get(_repeating_base(tag))


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
    if entry is None:
        try:
            entry = get_entry(tag)  # the repeaters dictionary: (60xx,3000) Overlay Data
        except KeyError:
            entry = None
    profile = profile_row(tag)
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


# Where the image or signal itself is: Pixel Data, Float and Double Float Pixel Data, Waveform
# Data, Overlay Data (PS3.3 C.7.6.3, C.7.6.24, C.10.9, C.10.10).
CONTENT_TAGS = frozenset({0x7FE00010, 0x7FE00008, 0x7FE00009, 0x54001010, 0x60003000})
Subject = Literal["person", "content"] | None


def subject(attr: DicomAttribute) -> Subject:
    """Whether the attribute's value is about a natural person, by what the standard says it is.

    ``"person"``: a person name (VR PN: patient or staff), the Patient group (0010), or a row of
    PS3.15 Table E.1-1 (removed or replaced because it may identify the patient) that neither the
    Retain Device Identity nor the Retain Institution Identity option keeps. ``"content"``: the
    image or signal itself, about the person only in a file with one. None: everything else —
    acquisition, geometry, display, encoding, equipment — in any file.
    """
    if _repeating_base(attr.tag) in CONTENT_TAGS:
        return "content"
    if attr.vr == "PN" or attr.tag >> 16 == 0x0010:
        return "person"
    row = attr.profile
    if row is not None and not (row.kept_by("retain_device_identity") or row.kept_by("retain_institution_identity")):
        return "person"
    return None


# Groups whose public attributes describe the acquisition, not the person: file meta (0002),
# identification and image type (0008), acquisition (0018), geometry (0020), pixel description
# and display (0028) — PS3.6's group layout.
TECHNICAL_GROUPS = frozenset({0x0002, 0x0008, 0x0018, 0x0020, 0x0028})


def technical(attr: DicomAttribute) -> bool:
    """About the acquisition or the equipment in any file: not about a person (:func:`subject`)
    and in a technical group, or kept by the Retain Device or Institution Identity option."""
    if subject(attr) is not None:
        return False
    row = attr.profile
    kept = row is not None and (row.kept_by("retain_device_identity") or row.kept_by("retain_institution_identity"))
    return kept or attr.tag >> 16 in TECHNICAL_GROUPS
