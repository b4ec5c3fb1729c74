"""Re-create kg/classify/data/dicom_ps315_e1_1.csv: DICOM PS3.15 Table E.1-1 (Application Level
Confidentiality Profile Attributes) with the basic-profile action and the option columns.

    pip install -e ".[extract]"
    python scripts/extract_dicom_ps315.py

Two maintained extracts of the standard's table are combined, and the file records both:

- the basic-profile action of every attribute comes from dicom-anonymizer 2.1.0
  (``dicomanonymizer.dicom_anonymization_databases.dicomfields_2026c``: DICOM 2026c, the
  newest edition either package covers);
- the option columns (Retain Device Identity, Retain Patient Characteristics, ...) come from
  Innolitics' dicom-standard 0.1.0 (``standard/confidentiality_profile_attributes.json``,
  parsed from the standard's own tables); attributes added to the table after that extract
  have their options empty.

Keywords come from pydicom's data dictionary. Nothing is retyped.
"""

from __future__ import annotations

import csv
import json
import sys
from importlib import metadata
from pathlib import Path

from dicomanonymizer.dicom_anonymization_databases import dicomfields_2026c as fields
from pydicom.datadict import dictionary_description, dictionary_keyword, keyword_for_tag

OUT = Path(__file__).resolve().parents[1] / "kg" / "classify" / "data" / "dicom_ps315_e1_1.csv"
GROUPS = {  # dicom-anonymizer's group name -> the table's action code
    "D_TAGS": "D",
    "Z_TAGS": "Z",
    "X_TAGS": "X",
    "U_TAGS": "U",
    "Z_D_TAGS": "Z/D",
    "X_Z_TAGS": "X/Z",
    "X_D_TAGS": "X/D",
    "X_Z_D_TAGS": "X/Z/D",
    "X_Z_U_STAR_TAGS": "X/Z/U*",
}
OPTIONS = {  # dicom-standard's key -> our column (the option's name in PS3.15 Table E.1-1)
    "rtnSafePrivOpt": "retain_safe_private",
    "rtnUIDsOpt": "retain_uids",
    "rtnDevIdOpt": "retain_device_identity",
    "rtnInstIdOpt": "retain_institution_identity",
    "rtnPatCharsOpt": "retain_patient_characteristics",
    "rtnLongFullDatesOpt": "retain_longitudinal_full_dates",
    "rtnLongModifDatesOpt": "retain_longitudinal_modified_dates",
    "cleanDescOpt": "clean_descriptors",
    "cleanStructContOpt": "clean_structured_content",
    "cleanGraphOpt": "clean_graphics",
}


def _standard_json() -> Path:
    dist = metadata.distribution("dicom-standard")
    for f in dist.files or ():
        if f.name == "confidentiality_profile_attributes.json":
            return Path(str(dist.locate_file(f)))
    raise SystemExit("dicom-standard's confidentiality_profile_attributes.json not found")


def _description(tag: int) -> str:
    try:
        return str(dictionary_description(tag))
    except KeyError:
        return ""


def main() -> None:
    options: dict[int, dict[str, str]] = {}
    names: dict[int, str] = {}
    for row in json.loads(_standard_json().read_text(encoding="utf-8")):
        if len(row["id"]) != 8 or any(c not in "0123456789abcdefABCDEF" for c in row["id"]):
            continue  # repeating groups (50xx,...) and private ranges: not single attributes
        tag = int(row["id"], 16)
        names.setdefault(tag, row["name"])
        opts = options.setdefault(tag, {})
        for key, column in OPTIONS.items():
            if row.get(key):
                opts[column] = row[key]
    rows: dict[int, dict[str, str]] = {}
    for group, action in GROUPS.items():
        for entry in getattr(fields, group):
            if len(entry) != 2:
                continue  # masked repeating groups (50xx,xxxx), (60xx,4000): not single attributes
            group_no, elem = entry
            tag = (group_no << 16) | elem
            rows[tag] = {"tag": f"({group_no:04X},{elem:04X})", "basic_profile": action}
    with OUT.open("w", encoding="utf-8", newline="") as f:
        f.write(
            "# DICOM PS3.15 Table E.1-1, Application Level Confidentiality Profile Attributes.\n"
            f"# basic_profile: dicom-anonymizer {metadata.version('dicom-anonymizer')} (dicomfields_2026c, DICOM 2026c).\n"
            f"# option columns: dicom-standard {metadata.version('dicom-standard')} (Innolitics), "
            "confidentiality_profile_attributes.json.\n"
            f"# keyword: pydicom {metadata.version('pydicom')} data dictionary. "
            "Re-create with scripts/extract_dicom_ps315.py.\n"
        )
        w = csv.DictWriter(f, ["tag", "keyword", "name", "basic_profile", *OPTIONS.values()])
        w.writeheader()
        for tag in sorted(rows):
            try:
                keyword = keyword_for_tag(tag) or dictionary_keyword(tag)
            except KeyError:
                keyword = ""
            w.writerow(
                {**rows[tag], "keyword": keyword, "name": names.get(tag) or _description(tag), **options.get(tag, {})}
            )
    print(f"wrote {len(rows)} attributes to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
