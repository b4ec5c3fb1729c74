"""Evaluate the classification assistant on a labelled set of elements from public standards:

    python -m benchmarks.eval_classify [--errors] [--json]

The set: ``benchmarks/data/classify_gold.tsv`` (HL7 v2 fields, FHIR R5 elements, BICEPS members,
DICOM attributes and common Chinese hospital column names, each labelled by the team from the
element's definition; the groups are defined in the file's header), plus every attribute that
DICOM PS3.15 Table E.1-1 keeps under its Retain Device Identity option (labelled ``device`` by
the standard itself). Every reference must resolve in its standard's package (checked), so the
set is built from the standards' own element lists.

A suggestion's group is read from its category's top-level category in the ontology:
patient information → patient; equipment master data → device; operational, usage, QC and
maintenance data → operational; clinical data → clinical; anything else (or no suggestion) → other.

Also times the suggestions for every element the four resolvers list (DICOM dictionary, HL7 v2
segments, FHIR resources, BICEPS members). Prints per-group precision, recall and F1, the confusion table, figures per source, and the two
targets of issue #7: patient information (patient-identifying) recall ≥ 0.95 at precision ≥ 0.90,
and device / operational / clinical macro-F1 ≥ 0.85.

DICOM files (issue #17): ``classify --dicom`` over pydicom's installed test files that have a
patient (Patient's Name, ID or Birth Date), each attribute's two flags against what the standard
says it is:

- E.1-1 attributes: every public attribute PS3.15 Table E.1-1 lists must carry ``ps315``;
- about a person: E.1-1 attributes with VR PN (patient or staff names), of group 0010 (Patient),
  or governed by the Retain Patient Characteristics, Retain Longitudinal Temporal Information or
  Retain UIDs options (the patient's characteristics, the dates of their care, the identifiers
  of their study) must be ``personal`` (target ≥ 98 %);
- technical: public attributes outside E.1-1 of groups 0002 (file meta: encoding), 0018
  (acquisition), 0020 (geometry), 0028 (image pixel description and display), and the General
  Equipment module attributes outside E.1-1 (PS3.3 Table C.7-8: Manufacturer,
  Manufacturer's Model Name, Specific Character Set) must not be ``personal`` (target ≤ 2 %);
- every image (a file in which pydicom's full read finds Pixel Data, Float or Double Float
  Pixel Data) must list it.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from collections import Counter, defaultdict
from pathlib import Path

from kg.classify import (
    Classifier,
    biceps,
    dicom,
    fhir,
    hl7v2,
)
from kg.classify.text import has_cjk
from kg.ontology import load_ontology

HERE = Path(__file__).resolve().parent

GROUPS = ("patient", "device", "operational", "clinical", "other")
TOP = {
    "PatientInformation": "patient",
    "EquipmentMasterData": "device",
    "OperationalData": "operational",
    "UsageData": "operational",
    "QualityControlData": "operational",
    "MaintenanceData": "operational",
    "ClinicalData": "clinical",
}


def source_of(ref: str) -> str:
    if has_cjk(ref):
        return "zh column names"
    for name, mod in (("DICOM", dicom), ("HL7 v2", hl7v2), ("FHIR", fhir), ("BICEPS", biceps)):
        if mod.resolve(ref) is not None:
            return name
    raise SystemExit(f"gold reference {ref!r} resolves in no standard's package")


def labelled_set() -> list[tuple[str, str, str]]:
    """(reference, gold group, source)."""
    rows: list[tuple[str, str, str]] = []
    text = (HERE / "data" / "classify_gold.tsv").read_text(encoding="utf-8")
    for r in csv.DictReader((ln for ln in text.splitlines() if not ln.startswith("#")), delimiter="\t"):
        if r["group"] not in GROUPS:
            raise SystemExit(f"{r['input']}: unknown group {r['group']!r}")
        rows.append((r["input"], r["group"], source_of(r["input"])))
    seen = {ref for ref, _, _ in rows}
    for tag, row in sorted(dicom.profile_table().items()):
        a = dicom.attribute(tag)
        if a is None or not a.keyword or a.retired:
            continue
        ref = dicom.resolve(a.keyword)
        if row.kept_by("retain_device_identity") and ref is not None and row.tag not in seen:
            rows.append((row.tag, "device", "DICOM PS3.15 Retain Device Identity"))
    return rows


def group_of(suggestion, onto) -> str:  # type: ignore[no-untyped-def]
    cat = suggestion.category
    if cat is None:
        return "other"
    while cat.parent:
        cat = onto.categories.get(cat.parent) or cat
        if cat.parent is None:
            break
    return TOP.get(cat.local_name, "other")


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="list the misclassified elements")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    onto = load_ontology()
    clf = Classifier(onto)
    data = labelled_set()
    t0 = time.perf_counter()
    suggestions = [clf.classify(ref) for ref, _, _ in data]
    elapsed = time.perf_counter() - t0
    pairs = [(gold, group_of(s, onto), src, ref, s) for (ref, gold, src), s in zip(data, suggestions, strict=True)]

    confusion: Counter[tuple[str, str]] = Counter((g, p) for g, p, *_ in pairs)
    per_group = {}
    for grp in GROUPS:
        tp = confusion[(grp, grp)]
        fp = sum(confusion[(g, grp)] for g in GROUPS if g != grp)
        fn = sum(confusion[(grp, p)] for p in GROUPS if p != grp)
        per_group[grp] = (*prf(tp, fp, fn), tp + fn)
    three = ("device", "operational", "clinical")
    macro = sum(per_group[g][2] for g in three) / 3
    patient_p, patient_r, _, _ = per_group["patient"]
    by_source: dict[str, list[bool]] = defaultdict(list)
    for gold, pred, src, *_ in pairs:
        by_source[src].append(gold == pred)
    figures = {
        "elements": len(pairs),
        "seconds": round(elapsed, 3),
        "per_group": {
            g: dict(zip(("precision", "recall", "f1", "support"), v, strict=True)) for g, v in per_group.items()
        },
        "patient_precision": patient_p,
        "patient_recall": patient_r,
        "macro_f1_device_operational_clinical": macro,
        "accuracy_by_source": {s: sum(v) / len(v) for s, v in sorted(by_source.items())},
        "confusion": {g: {p: confusion[(g, p)] for p in GROUPS} for g in GROUPS},
    }
    every = [a.keyword for a in dicom.elements()] + [e.ident for m in (hl7v2, fhir, biceps) for e in m.elements()]
    t0 = time.perf_counter()
    for ref in every:
        clf.classify(ref)
    figures["throughput"] = {"elements": len(every), "seconds": round(time.perf_counter() - t0, 3)}
    figures["dicom_files"] = dicom_file_figures(clf)
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    count, secs = figures["throughput"]["elements"], figures["throughput"]["seconds"]
    print(f"{len(pairs)} labelled elements; every element the four standards list ({count:,}) in {secs:.1f} s")
    print(f"({secs / count * 1000:.2f} ms each once the standards' indexes are loaded)\n")
    print(f"{'group':12} {'precision':>9} {'recall':>7} {'F1':>6} {'support':>8}")
    for g, (p, r, f, n) in per_group.items():
        print(f"{g:12} {p:9.3f} {r:7.3f} {f:6.3f} {n:8d}")
    print("\nconfusion (rows: gold, columns: suggested)")
    print(" " * 12 + "".join(f"{p:>12}" for p in GROUPS))
    for g in GROUPS:
        print(f"{g:12}" + "".join(f"{confusion[(g, p)]:12d}" for p in GROUPS))
    print("\naccuracy by source")
    for s, v in sorted(by_source.items()):
        print(f"  {s:38} {sum(v) / len(v):.3f} ({len(v)})")
    ok1 = patient_r >= 0.95 and patient_p >= 0.90
    ok2 = macro >= 0.85
    print(
        f"\npatient-identifying: recall {patient_r:.3f}, precision {patient_p:.3f} (target ≥ 0.95 at ≥ 0.90): {'met' if ok1 else 'NOT met'}"
    )
    print(f"device / operational / clinical macro-F1 {macro:.3f} (target ≥ 0.85): {'met' if ok2 else 'NOT met'}")
    d = figures["dicom_files"]
    print(f"\nDICOM files with a patient: {d['files']} of pydicom's test files, {d['attributes']} attributes")
    for key, label, target in (
        ("e11_with_ps315", "E.1-1 attributes carrying ps315", "≥ 0.99"),
        ("person_personal", "E.1-1 attributes about a person flagged personal", "≥ 0.98"),
        ("technical_personal", "technical attributes outside E.1-1 flagged personal", "≤ 0.02"),
        ("pixel_data_listed", "images whose Pixel Data is listed", "= 1.00"),
        ("outside_e11_personal", "all public attributes outside E.1-1 flagged personal", "—"),
    ):
        hit, n = d[key]
        print(f"  {label:54} {hit:6d}/{n:<6d} {hit / n if n else 0:.3f} (target {target})")
    if args.errors:
        print("\nerrors (gold → suggested: element, category)")
        for gold, pred, src, ref, s in pairs:
            if gold != pred:
                cat = s.category.label_en if s.category else "—"
                print(f"  {gold:11} → {pred:11} {ref:40} {cat}  [{src}]")


EQUIPMENT_MODULE = {0x00080005, 0x00080070, 0x00081090}  # outside E.1-1: PS3.3 Table C.7-8 and encoding
TECHNICAL_GROUPS = {0x0002, 0x0018, 0x0020, 0x0028}
PERSON_OPTIONS = (
    "retain_patient_characteristics",
    "retain_longitudinal_full_dates",
    "retain_longitudinal_modified_dates",
    "retain_uids",
)


def dicom_file_figures(clf: Classifier) -> dict[str, object]:
    """The issue #17 figures over pydicom's test files that have a patient (see the docstring)."""
    import warnings

    import pydicom
    from pydicom.data import get_testdata_files

    from kg.classify.dicom_file import PIXEL_TAGS, classify_file, has_patient
    from kg.errors import InputError

    counts = {k: [0, 0] for k in ("e11_with_ps315", "person_personal", "technical_personal", "pixel_data_listed")}
    counts["outside_e11_personal"] = [0, 0]
    files = attributes = 0
    warnings.simplefilter("ignore")
    for name in sorted(get_testdata_files()):
        try:
            header = pydicom.dcmread(name, stop_before_pixels=True)
            if not has_patient(header):
                continue
            results, _ = classify_file(Path(name), clf)
        except (InputError, Exception):
            continue
        files += 1
        attributes += len(results)
        for r in results:
            tag = int(r.tag.strip("()").replace(",", ""), 16)
            row = dicom.profile_row(tag)
            if row is not None:
                counts["e11_with_ps315"][0] += r.ps315 is not None
                counts["e11_with_ps315"][1] += 1
                if r.vr == "PN" or tag >> 16 == 0x0010 or any(row.options.get(o) for o in PERSON_OPTIONS):
                    counts["person_personal"][0] += r.personal
                    counts["person_personal"][1] += 1
                continue
            counts["outside_e11_personal"][0] += r.personal
            counts["outside_e11_personal"][1] += 1
            if (tag >> 16 in TECHNICAL_GROUPS or tag in EQUIPMENT_MODULE) and tag not in PIXEL_TAGS:
                counts["technical_personal"][0] += r.personal
                counts["technical_personal"][1] += 1
        try:
            full = pydicom.dcmread(name)
        except Exception:
            continue
        if any(t in full for t in PIXEL_TAGS):
            counts["pixel_data_listed"][0] += any(
                r.tag == f"({t >> 16:04X},{t & 0xFFFF:04X})" for r in results for t in PIXEL_TAGS
            )
            counts["pixel_data_listed"][1] += 1
    return {"files": files, "attributes": attributes, **{k: tuple(v) for k, v in counts.items()}}


if __name__ == "__main__":
    main()
