"""medgrade: classify and grade medical-equipment usage data (医疗装备使用数据分类分级).

The library behind the ``medgrade`` command and the HTTP API: the ontology model
(:mod:`kg.ontology`), settings (:mod:`kg.settings`) and one exception tree (:mod:`kg.errors`).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("medgrade")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0+unknown"

MG = "https://w3id.org/medgrade/def#"
"""The one namespace of the project's ontology terms."""

ONTOLOGY_IRI = "https://w3id.org/medgrade/def"
"""The IRI of the umbrella ontology that imports every module."""
