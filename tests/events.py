"""OpenLineage run events for tests, written as the spec requires (RunEvent 2-0-2: an RFC 3339
``eventTime``, a UUID ``runId``, ``producer`` and ``schemaURL`` URIs)."""

from __future__ import annotations

from typing import Any

SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
PRODUCER = "https://github.com/medgrade/tests"


def run_event(
    run_id: str,
    job: tuple[str, str],
    inputs: list[tuple[str, str]] | None = None,
    outputs: list[tuple[str, str]] | None = None,
    *,
    when: str = "2026-11-27T08:00:00Z",
    producer: str = PRODUCER,
) -> dict[str, Any]:
    """A COMPLETE run event of job ``(namespace, name)`` reading ``inputs`` and writing
    ``outputs`` (each a ``(namespace, name)`` dataset); without lists when they are ``None``."""
    event: dict[str, Any] = {
        "eventType": "COMPLETE",
        "eventTime": when,
        "producer": producer,
        "schemaURL": SCHEMA_URL,
        "run": {"runId": run_id},
        "job": {"namespace": job[0], "name": job[1]},
    }
    for key, datasets in (("inputs", inputs), ("outputs", outputs)):
        if datasets is not None:
            event[key] = [{"namespace": ns, "name": name} for ns, name in datasets]
    return event
