"""Classify every attribute of a real DICOM file's header and write inventory rows ready to import.

The file is read with pydicom (header only: pixel data is not loaded but is listed when
present). Attributes inside sequences are classified too, once per tag. When the file holds
patient-identifying data, device identifiers count as personal information (R4): the
suggestions are made with ``linked=True``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kg.classify.engine import Classifier, Suggestion
from kg.errors import InputError


@dataclass(frozen=True, slots=True)
class AttributeSuggestion:
    tag: str
    keyword: str
    vr: str
    suggestion: Suggestion


def read_header(path: Path) -> Any:
    """The data set of ``path`` without its pixel data; a clear error for anything else."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    if not path.is_file():
        raise InputError(f"{path}: no such file", f"{path}：文件不存在")
    try:
        return pydicom.dcmread(path, stop_before_pixels=True)
    except InvalidDicomError as exc:
        raise InputError(f"{path}: not a DICOM file ({exc})", f"{path}：不是 DICOM 文件（{exc}）") from exc
    except Exception as exc:  # pydicom raises many kinds on truncated or corrupt files
        raise InputError(
            f"{path}: cannot read the DICOM header: {exc}", f"{path}：无法读取 DICOM 文件头：{exc}"
        ) from exc


def classify_file(path: Path, classifier: Classifier) -> tuple[list[AttributeSuggestion], list[str]]:
    """Suggestions for each public attribute present (sequences included, each tag once), and
    the private attributes, which PS3.15 removes unless a safe-private list keeps them."""
    from pydicom.tag import Tag

    ds = read_header(path)
    seen: dict[int, Any] = {}
    private: list[str] = []
    for elem in ds.iterall():
        tag = int(elem.tag)
        if elem.tag.is_private:
            private.append(f"({elem.tag.group:04X},{elem.tag.element:04X}) {elem.name}")
            continue
        seen.setdefault(tag, elem)
    if "PixelData" in ds or getattr(ds, "_pixel_data_present", False):
        seen.setdefault(int(Tag(0x7FE0, 0x0010)), None)
    linked = any(str(ds.get(k, "") or "").strip() for k in ("PatientName", "PatientID", "PatientBirthDate"))
    out = []
    for tag in sorted(seen):
        text = f"({tag >> 16:04X},{tag & 0xFFFF:04X})"
        s = classifier.classify(text, linked=linked)
        elem = seen[tag]
        out.append(AttributeSuggestion(text, getattr(elem, "keyword", "") or "PixelData", getattr(elem, "VR", ""), s))
    return out, sorted(set(private))


def inventory_rows(path: Path, results: list[AttributeSuggestion]) -> list[dict[str, Any]]:
    """Rows of the assets sheet, one per attribute with a suggestion: the steward reviews them
    and imports the sheet, which is the acceptance (recorded in the audit trail)."""
    stem = re.sub(r"[^A-Za-z0-9._~-]+", "-", path.stem).strip("-") or "dicom"
    rows = []
    for r in results:
        s = r.suggestion
        if s.category is None:
            continue
        name = s.element.name if s.element else r.keyword
        rows.append(
            {
                "id": f"{stem}-{r.keyword or r.tag.strip('()').replace(',', '')}",
                "name": f"DICOM {r.tag} {name}",
                "category": s.category.label_zh,
                "level": s.min_level.label_zh,
                "personal": ";".join(p.label_zh for p in s.personal) if s.personal else "否",
                "notes": f"分类建议 / suggestion, confidence {s.confidence:.2f}: " + " | ".join(s.reasons[:3]),
            }
        )
    return rows
