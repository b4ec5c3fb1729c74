"""Settings: one object, read from ``MEDGRADE_*`` environment variables (and nowhere else).

``MEDGRADE_ONTOLOGY_DIR``
    folder holding ``catalog-v001.xml`` and the ontology modules (default: the shipped one)
``MEDGRADE_SHAPES_DIR``
    folder holding the SHACL shapes (default: the shipped ones)
``MEDGRADE_STORE``
    the store descriptor: ``oxigraph:PATH``, ``memory:`` or ``sparql:QUERY_URL|UPDATE_URL``
``MEDGRADE_SPARQL_USER``, ``MEDGRADE_SPARQL_PASSWORD``
    the account medgrade uses on a ``sparql:`` store (HTTP Basic or Digest, whichever the server
    asks for; e.g. Virtuoso's ``/sparql-auth`` wants Digest)
``MEDGRADE_BASE_IRI``
    the namespace under which the institution's assets, devices and records are named
``MEDGRADE_USER``
    who the command line acts as in the audit trail (default: the login name)
``MEDGRADE_OPENLINEAGE_NAMESPACE``
    the OpenLineage namespace whose dataset names are the inventory's asset ids (default ``medgrade``)
``MEDGRADE_API_KEYS``
    the API keys file (TOML, hashed tokens; ``medgrade apikey``), default ``./medgrade-apikeys.toml``
``MEDGRADE_READ_REQUIRES_KEY``
    whether reads through the API need a key too (default false: reads are open, writes need one)
``MEDGRADE_READ_ONLY``
    a read-only API process (default false): it answers reads from the shared store and refuses
    every write with 405; one writer process and any number of these share a SPARQL server
``MEDGRADE_QUERY_TIMEOUT``
    seconds a SPARQL query may run (default 30)
``MEDGRADE_QUERY_MAX_RESULTS``
    solutions or triples a SPARQL query may return (default 100000)
``MEDGRADE_QUERY_WORKERS``
    SPARQL query worker processes on the embedded store (default 2)
``MEDGRADE_QUERY_SNAPSHOT_QUADS``
    stores up to this many quads are also copied into each query worker's memory (default 10M; 0: never)
``MEDGRADE_MAX_BODY_BYTES``
    the largest request body the API accepts (default 16 MiB; gzip bodies count unpacked)
``MEDGRADE_CORS_ORIGINS``
    comma-separated origins allowed by CORS (default none: CORS off)
``MEDGRADE_TODAY``
    the date (YYYY-MM-DD) the annual-review rule R15 judges against (default: today in
    Asia/Shanghai); fixed in tests and demos so they do not drift with the calendar
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from kg.resources import bundled_dir

if TYPE_CHECKING:
    from kg.store import Store


class SparqlAccount(TypedDict):
    user: str | None
    password: str | None


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
    sparql_user: str | None = None
    sparql_password: SecretStr | None = None
    base_iri: str = "https://w3id.org/medgrade/id/"
    user: str = Field(default_factory=_login_name)
    openlineage_namespace: str = "medgrade"
    api_keys: Path = Path("medgrade-apikeys.toml")
    read_requires_key: bool = False
    read_only: bool = False
    query_timeout: float = Field(default=30.0, gt=0)
    query_max_results: int = Field(default=100_000, gt=0)
    query_workers: int = Field(default=2, ge=1, le=64)
    query_snapshot_quads: int = Field(default=10_000_000, ge=0)
    max_body_bytes: int = Field(default=16 * 1024 * 1024, gt=0)
    cors_origins: str = ""
    today: dt.date | None = None

    def sparql_account(self) -> SparqlAccount:
        """``user`` and ``password`` for a ``sparql:`` store (None when not configured)."""
        password = self.sparql_password.get_secret_value() if self.sparql_password else None
        return SparqlAccount(user=self.sparql_user, password=password)

    def open_store(self) -> Store:
        """The store :attr:`store` names, with the SPARQL account when one is configured."""
        from kg.store import open_store

        return open_store(self.store, **self.sparql_account())

    def cors_origin_list(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]

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
