"""Classify every attribute of a real DICOM file and write inventory rows ready to import.

The header is read with pydicom without loading pixel values; Pixel Data, Float and Double
Float Pixel Data are listed when present (a second, deferred read sees them without reading
them), Overlay Data and Waveform Data as any attribute. Attributes inside sequences are
classified too, once per tag. Each attribute carries two flags kept apart: ``ps315``, what
PS3.15 Table E.1-1 does with it, and ``personal``, whether its value is about a natural person
(:func:`kg.classify.dicom.subject`, from what the standard says the attribute is). Only the
image or signal itself is personal because the file has a patient; Burned In Annotation YES
says the pixels identify the person even without one.

The rows name one device typed from the file (Modality -> the ontology's equipment type,
``data/dicom_modalities.csv``), so imported rows satisfy R14.
"""

from __future__ import annotations

import csv
import dataclasses
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from kg.classify import dicom
from kg.classify.engine import Classifier, Suggestion
from kg.errors import InputError, UnknownTermError
from kg.ontology import Ontology

_MG = "https://w3id.org/medgrade/def#"
PIXEL_TAGS = (0x7FE00008, 0x7FE00009, 0x7FE00010)  # read apart: stop_before_pixels stops at them
_PATIENT = ("PatientName", "PatientID", "PatientBirthDate")
_SLUG = re.compile(r"[^A-Za-z0-9._~-]+")


@dataclass(frozen=True, slots=True)
class AttributeSuggestion:
    tag: str
    keyword: str
    vr: str
    suggestion: Suggestion
    ps315: dicom.ProfileRow | None = None  # the attribute's row of PS3.15 Table E.1-1
    personal: bool = False  # its value is about a natural person (patient or staff)

    def ps315_dict(self) -> dict[str, Any] | None:
        row = self.ps315
        return None if row is None else {"action": row.basic_profile, "retained_by": row.retained_by()}


def _read(path: Path, **options: Any) -> Any:
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        return pydicom.dcmread(path, **options)
    except InvalidDicomError as exc:
        raise InputError(f"{path}: not a DICOM file ({exc})", f"{path}：不是 DICOM 文件（{exc}）") from exc
    except Exception as exc:  # pydicom raises many kinds on truncated or corrupt files
        raise InputError(
            f"{path}: cannot read the DICOM header: {exc}", f"{path}：无法读取 DICOM 文件头：{exc}"
        ) from exc


def read_header(path: Path) -> Any:
    """The data set of ``path`` without its pixel data; a clear error for anything else."""
    if not path.is_file():
        raise InputError(f"{path}: no such file", f"{path}：文件不存在")
    return _read(path, stop_before_pixels=True)


def pixel_tags(path: Path) -> list[int]:
    """The pixel data elements present in ``path``; their values are deferred, never read."""
    ds = _read(path, defer_size=256)
    return [t for t in PIXEL_TAGS if t in ds]


def has_patient(ds: Any) -> bool:
    return any(str(ds.get(k, "") or "").strip() for k in _PATIENT)


def classify_file(path: Path, classifier: Classifier) -> tuple[list[AttributeSuggestion], list[str]]:
    """Suggestions for each public attribute present (sequences included, each tag once), and
    the private attributes, which PS3.15 removes unless a safe-private list keeps them."""
    ds = read_header(path)
    seen: dict[int, Any] = {}
    private: list[str] = []
    for elem in ds.iterall():
        if elem.tag.is_private:
            private.append(f"({elem.tag.group:04X},{elem.tag.element:04X}) {elem.name}")
            continue
        seen.setdefault(int(elem.tag), elem)
    for tag in pixel_tags(path):
        seen.setdefault(tag, None)
    patient = has_patient(ds)
    burned = str(ds.get("BurnedInAnnotation", "") or "").strip().upper()
    out = []
    for tag in sorted(seen):
        text = f"({tag >> 16:04X},{tag & 0xFFFF:04X})"
        attr = dicom.attribute(tag)
        about = dicom.subject(attr) if attr is not None else None
        # next to the patient (or burned into the pixels) only the image and clinical content are theirs
        linked = (patient or burned == "YES") and not (attr is not None and dicom.technical(attr))
        s = classifier.classify(text, linked=linked)
        if about == "content" and burned:
            s = dataclasses.replace(s, reasons=(*s.reasons, _burned_reason(burned)))
        elem = seen[tag]
        keyword = getattr(elem, "keyword", "") or (attr.keyword if attr else "")
        vr = getattr(elem, "VR", "") or (attr.vr if attr else "")
        out.append(AttributeSuggestion(text, keyword, vr, s, attr.profile if attr else None, s.is_personal))
    return out, sorted(set(private))


def _burned_reason(value: str) -> str:
    if value == "YES":
        return (
            "Burned In Annotation (0028,0301) = YES：像素中烧录了可识别信息，图像本身可识别个人"
            " / Burned In Annotation (0028,0301) = YES: identifying text is burned into the pixels,"
            " the image itself identifies the person"
        )
    return f"Burned In Annotation (0028,0301) = {value} / Burned In Annotation (0028,0301) = {value}"


def slug(text: str) -> str:
    return _SLUG.sub("-", text).strip("-")


def _text(ds: Any, keyword: str) -> str:
    value = ds.get(keyword, "")
    return " ".join(str(value).split()) if value else ""


@cache
def _modality_table() -> dict[str, str]:
    text = resources.files("kg.classify").joinpath("data/dicom_modalities.csv").read_text(encoding="utf-8")
    return {
        r["modality"]: r["equipment"] for r in csv.DictReader(x for x in text.splitlines() if not x.startswith("#"))
    }


def equipment_type(ds: Any, onto: Ontology) -> Any:
    """The ontology's equipment type for the file's Modality (see ``data/dicom_modalities.csv``)."""
    modality = _text(ds, "Modality").upper()
    local = _modality_table().get(modality)
    found = onto.equipment_types.get(f"{_MG}{local}") if local else None
    for key in (modality, _text(ds, "ManufacturerModelName")):
        if found is None and key:
            try:
                found = onto.equipment_types.find(key)
            except UnknownTermError:
                found = None
    return found or onto.equipment_types.get(f"{_MG}PACS")


def device_row(path: Path, onto: Ontology, ds: Any | None = None) -> dict[str, Any]:
    """One row of the devices sheet for the equipment the file names (General Equipment module)."""
    ds = read_header(path) if ds is None else ds
    manufacturer, model = _text(ds, "Manufacturer"), _text(ds, "ManufacturerModelName")
    station, serial = _text(ds, "StationName"), _text(ds, "DeviceSerialNumber")
    parts = [p for p in (station or model, serial) if p] or [p for p in (manufacturer, _text(ds, "Modality")) if p]
    ident = slug("-".join(parts)) or f"{slug(path.stem) or 'dicom'}-device"
    kind = equipment_type(ds, onto)
    name = " ".join(p for p in (manufacturer, model) if p) or (kind.label_zh if kind else ident)
    extras = [f"station {station}" if station else "", f"SN {serial}" if serial else ""]
    if any(extras):
        name += f" ({', '.join(e for e in extras if e)})"
    location = " ".join(p for p in (_text(ds, "InstitutionName"), _text(ds, "InstitutionalDepartmentName")) if p)
    return {
        "id": ident,
        "type": kind.label_zh if kind else "",
        "name": name,
        "model": model,
        "manufacturer": manufacturer,
        "location": location,
    }


def inventory_rows(path: Path, results: list[AttributeSuggestion], device: str | None = None) -> list[dict[str, Any]]:
    """Rows of the assets sheet, one per attribute reported, produced by ``device``: the steward
    reviews them and imports the sheet, which is the acceptance (recorded in the audit trail)."""
    stem = slug(path.stem) or "dicom"
    rows: list[dict[str, Any]] = []
    used: set[str] = set()
    for r in results:
        s = r.suggestion
        ident = f"{stem}-{r.keyword or r.tag.strip('()').replace(',', '')}"
        if ident in used:
            ident += "-" + r.tag.strip("()").replace(",", "")
        used.add(ident)
        name = s.element.name if s.element and s.element.name else (r.keyword or r.tag)
        ps315 = r.ps315_dict()
        profile = (
            f"PS3.15 E.1-1: {ps315['action']}"
            + (f" (kept by {', '.join(ps315['retained_by'])})" if ps315["retained_by"] else "")
            if ps315
            else "PS3.15 E.1-1: —"
        )
        rows.append(
            {
                "id": ident,
                "name": f"DICOM {r.tag} {name}",
                "category": s.category.label_zh if s.category else "待分类",
                "level": s.min_level.label_zh if s.category else "",
                "equipment": device or "",
                "personal": ";".join(p.label_zh for p in s.personal) if s.personal else "否",
                "notes": f"分类建议 / suggestion, confidence {s.confidence:.2f}; {profile}: "
                + " | ".join(s.reasons[:3]),
            }
        )
    return rows
