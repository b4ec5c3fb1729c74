"""Schemathesis drives every operation of /openapi.json with generated requests (as a steward
and admin, so writes are exercised too) over the demo hospital: no answer is a server error,
and every answer matches the documented schema's status codes and content types."""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from api import create_app
from kg import apikeys
from kg.service import Service
from kg.settings import Settings

_KEYS = Path(tempfile.mkdtemp(prefix="medgrade-schemathesis-")) / "keys.toml"
_TOKEN = apikeys.create(_KEYS, "schemathesis", "admin")
_SERVICE = Service(Settings(store="memory:", api_keys=_KEYS, query_timeout=5.0))
_SERVICE.initialize(demo=True)
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(service=_SERVICE))


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_error(case) -> None:  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {_TOKEN}"}
    # no time limit to speak of: tests never time things (a reload runs HermiT and revalidates the demo)
    case.call_and_validate(headers=headers, checks=[not_a_server_error], timeout=300)
