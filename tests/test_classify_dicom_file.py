"""`classify --dicom` on whole files (issue #17): the PS3.15 action and the personal flag kept
apart and decided from what each attribute is, pixel and overlay data listed, Burned In
Annotation reported, and rows that import with their device (no R14)."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file

from kg.classify import Classifier
from kg.classify.dicom_file import classify_file, device_row, inventory_rows
from kg.ontology import Ontology, load_ontology

MG = "https://w3id.org/medgrade/def#"


@pytest.fixture(scope="module")
def clf(ontology_dir: Path) -> Classifier:
    return Classifier(load_ontology(ontology_dir))


def sample(name: str) -> Path:
    return Path(get_testdata_file(name))  # type: ignore[arg-type]


def local(iri: str | None) -> str | None:
    return iri.rsplit("#", 1)[-1] if iri else None


def test_technical_attributes_are_not_personal_in_a_file_with_a_patient(clf: Classifier) -> None:
    results, _ = classify_file(sample("MR_small.dcm"), clf)
    by = {r.keyword: r for r in results}
    assert by["PatientName"].personal
    for keyword in ("Rows", "Columns", "PixelSpacing", "BitsAllocated", "WindowCenter", "ImageType",
                    "ImagePositionPatient", "EchoTime", "ManufacturerModelName", "SoftwareVersions"):  # fmt: skip
        r = by[keyword]
        assert not r.personal and not r.suggestion.personal, (keyword, r.suggestion.reasons)
        assert r.suggestion.min_level.rank <= 2, keyword


@pytest.mark.parametrize(
    "keyword", ["ManufacturerModelName", "ReceiveCoilName", "CoverageOfKSpace", "TransmitCoilName"]
)
def test_names_and_coverage_words_do_not_make_personal_information(clf: Classifier, keyword: str) -> None:
    s = clf.classify(keyword, linked=True)
    assert not s.is_personal, s.reasons
    assert s.category is not None and s.category.personal_kind is None, s.reasons


def test_ps315_and_personal_are_kept_apart(clf: Classifier) -> None:
    results, _ = classify_file(sample("CT_small.dcm"), clf)
    by = {r.keyword: r for r in results}
    for keyword in ("InstitutionName", "StationName"):  # in E.1-1, about no person
        assert by[keyword].ps315 is not None and not by[keyword].personal
    assert by["StationName"].ps315_dict() == {"action": "X/Z/D", "retained_by": ["Retain Device Identity Option"]}
    assert by["ReferringPhysicianName"].personal and by["Rows"].ps315 is None


def test_pixel_data_and_overlay_data_are_listed(clf: Classifier) -> None:
    results, _ = classify_file(sample("CT_small.dcm"), clf)
    pixel = next(r for r in results if r.tag == "(7FE0,0010)")
    assert pixel.keyword == "PixelData" and pixel.personal
    assert local(pixel.suggestion.category.iri if pixel.suggestion.category else None) == "MedicalImages"
    results, _ = classify_file(sample("examples_overlay.dcm"), clf)
    by = {r.keyword: r for r in results}
    assert "PixelData" in by and by["OverlayData"].suggestion.category is not None and by["OverlayData"].personal
    address = by["InstitutionAddress"].suggestion.category
    assert address is not None and local(address.iri) != "AssetLedger" and not by["InstitutionAddress"].personal
    assert all(r.suggestion.category is not None for r in results), [
        r.tag for r in results if not r.suggestion.category
    ]


def test_burned_in_annotation_makes_the_image_identifying(tmp_path: Path, clf: Classifier) -> None:
    ds = pydicom.dcmread(sample("CT_small.dcm"))
    for keyword in ("PatientName", "PatientID", "PatientBirthDate"):
        delattr(ds, keyword)
    ds.BurnedInAnnotation = "YES"
    path = tmp_path / "burned.dcm"
    ds.save_as(path)
    results, _ = classify_file(path, clf)
    by = {r.keyword: r for r in results}
    assert "BurnedInAnnotation" in by
    assert by["PixelData"].personal and any("Burned In Annotation" in x for x in by["PixelData"].suggestion.reasons)
    ds.BurnedInAnnotation = "NO"
    ds.save_as(path)
    results, _ = classify_file(path, clf)
    assert not next(r for r in results if r.keyword == "PixelData").personal  # no patient, nothing burned in


def test_rows_are_every_attribute_and_name_the_device(clf: Classifier, onto: Ontology) -> None:
    path = sample("MR_small.dcm")
    results, _ = classify_file(path, clf)
    device = device_row(path, onto)
    assert device["type"] == onto.equipment_types.get(f"{MG}MRIScanner").label_zh  # type: ignore[union-attr]
    assert device["manufacturer"] == "TOSHIBA_MEC" and device["model"] == "MRT50H1" and "SN" in device["name"]
    rows = inventory_rows(path, results, device["id"])
    assert len(rows) == len(results) == len({r["id"] for r in rows})
    assert {r["equipment"] for r in rows} == {device["id"]}
