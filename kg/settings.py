"""Settings: one object, read from ``MEDGRADE_*`` environment variables (and nowhere else).

``MEDGRADE_ONTOLOGY_DIR``
    folder holding ``catalog-v001.xml`` and the ontology modules (default: the shipped one)
``MEDGRADE_SHAPES_DIR``
    folder holding the SHACL shapes (default: the shipped ones)
"""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from kg.resources import bundled_dir


class Settings(BaseSettings):
    """Everything configurable about medgrade."""

    model_config = SettingsConfigDict(env_prefix="MEDGRADE_", extra="ignore")

    ontology_dir: Path | None = None
    shapes_dir: Path | None = None

    def resolved_ontology_dir(self) -> Path:
        """The ontology folder to use: the configured one, else the shipped one."""
        return self.ontology_dir or bundled_dir("ontology")

    def resolved_shapes_dir(self) -> Path:
        """The shapes folder to use: the configured one, else the shipped one."""
        return self.shapes_dir or bundled_dir("shapes")
