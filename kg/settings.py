"""Settings: one object, read from ``MEDGRADE_*`` environment variables (and nowhere else).

``MEDGRADE_ONTOLOGY_DIR``
    folder holding ``catalog-v001.xml`` and the ontology modules (default: the shipped one)
``MEDGRADE_SHAPES_DIR``
    folder holding the SHACL shapes (default: the shipped ones)
``MEDGRADE_STORE``
    the store descriptor: ``oxigraph:PATH``, ``memory:`` or ``sparql:QUERY_URL|UPDATE_URL``
``MEDGRADE_BASE_IRI``
    the namespace under which the institution's assets, devices and records are named
``MEDGRADE_USER``
    who the command line acts as in the audit trail (default: the login name)
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from kg.resources import bundled_dir


def _login_name() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in some containers
        return "unknown"


class Settings(BaseSettings):
    """Everything configurable about medgrade."""

    model_config = SettingsConfigDict(env_prefix="MEDGRADE_", extra="ignore")

    ontology_dir: Path | None = None
    shapes_dir: Path | None = None
    store: str = "oxigraph:./medgrade-data"
    base_iri: str = "https://w3id.org/medgrade/id/"
    user: str = Field(default_factory=_login_name)

    @field_validator("base_iri")
    @classmethod
    def _base_iri(cls, value: str) -> str:
        if not value.startswith(("http://", "https://", "urn:")) or any(c in value for c in ' <>"{}|^`\\'):
            raise ValueError("base_iri must be an absolute IRI (http://, https:// or urn:)")
        return value if value.endswith(("/", "#", ":")) else value + "/"

    def resolved_ontology_dir(self) -> Path:
        """The ontology folder to use: the configured one, else the shipped one."""
        return self.ontology_dir or bundled_dir("ontology")

    def resolved_shapes_dir(self) -> Path:
        """The shapes folder to use: the configured one, else the shipped one."""
        return self.shapes_dir or bundled_dir("shapes")
