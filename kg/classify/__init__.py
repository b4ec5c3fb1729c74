"""Classification assistant (分类建议): suggest a category, personal-information flags, a minimum
level, a confidence and the reasons for data elements of medical equipment.

Inputs are element names or descriptions in Chinese or English, DICOM tags and keywords, HL7 v2
fields, FHIR paths and IEEE 11073 SDC (BICEPS) members. Knowledge comes from the ontology (labels,
synonyms, cue words, examples, floors) and from the standards as their maintained packages ship
them (pydicom, hl7apy, fhir.resources, sdc11073) plus an extract of DICOM PS3.15 Table E.1-1.
Suggestions are never assessments: a steward accepts them by import or through the API.
"""

from kg.classify.engine import Classifier, Suggestion

__all__ = ["Classifier", "Suggestion"]
