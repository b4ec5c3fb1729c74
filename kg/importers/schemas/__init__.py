"""The OpenLineage 2-0-2 JSON Schema (vendored, see NOTICE.md) and the envelope check built on it.

Every event is validated with ``jsonschema``'s ``Draft202012Validator`` and its format checker
(``date-time`` by rfc3339-validator, ``uri`` by rfc3986-validator, ``uuid`` built in: the
``jsonschema[format-nongpl]`` extra). The definition is chosen by the event's shape, not by the
root ``oneOf`` (whose errors say only "not valid under any of the given schemas"): an event with
``run`` is a ``RunEvent``, one with ``dataset`` a ``DatasetEvent``, one with ``job`` a
``JobEvent``; anything else is checked as a ``RunEvent`` (the common case) so that the missing
``run`` and ``job`` are named.

Facets are lenient: the envelope (``eventTime``, ``producer``, ``schemaURL``, ``eventType``,
``run.runId``, job and dataset ``namespace``/``name``, the lists of inputs and outputs, each
facet map being an object) must conform, but what is inside a facet is not checked. The
validators use a copy of the schema in which the facet definitions (``BaseFacet``,
``RunFacet``, ``JobFacet``, ``DatasetFacet``, ``InputDatasetFacet``, ``OutputDatasetFacet``)
accept any value: integrations send facets without ``_producer``/``_schemaURL``, custom facets
(medgrade's own ``medgrade`` facet among them) and facets of later versions, and a facet medgrade
does not read should not cost the lineage of the event. The importer reads the facets it uses
(``schema``, ``columnLineage``, ``medgrade``) defensively.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

SCHEMA_FILE = Path(__file__).with_name("OpenLineage-2-0-2.json")
SCHEMA_ID = "https://openlineage.io/spec/2-0-2/OpenLineage.json"
FACET_DEFINITIONS = ("BaseFacet", "RunFacet", "JobFacet", "DatasetFacet", "InputDatasetFacet", "OutputDatasetFacet")
EVENT_KINDS = ("RunEvent", "DatasetEvent", "JobEvent")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True, slots=True)
class SchemaViolation:
    """One way an event breaks the spec: the JSON path in the event and the rule, in both languages."""

    path: str  # "$.run.runId"
    rule_en: str  # "format 'uuid'"
    rule_zh: str
    detail: str = ""  # what was found, e.g. "'r' is not a 'uuid'"


def event_kind(event: dict[str, Any]) -> str:
    """The ``$defs`` definition an event is checked against, chosen by its shape."""
    if "run" in event:
        return "RunEvent"
    if "dataset" in event:
        return "DatasetEvent"
    if "job" in event:
        return "JobEvent"
    return "RunEvent"


@cache
def _schema(lenient_facets: bool) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    if schema.get("$id") != SCHEMA_ID:
        raise RuntimeError(f"{SCHEMA_FILE} is not the OpenLineage 2-0-2 schema")
    if lenient_facets:
        schema = copy.deepcopy(schema)
        for name in FACET_DEFINITIONS:
            schema["$defs"][name] = {"description": f"{name}: not checked by medgrade (lenient facets)"}
    return schema


@cache
def validator(kind: str, *, lenient_facets: bool = True) -> Draft202012Validator:
    """The validator of one event definition (``RunEvent``, ``DatasetEvent``, ``JobEvent``),
    with the format checker; ``lenient_facets=False`` checks facets too (for tests)."""
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown OpenLineage event kind {kind!r}")
    schema = {k: v for k, v in _schema(lenient_facets).items() if k not in ("oneOf", "anyOf")}
    schema["$ref"] = f"#/$defs/{kind}"
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def json_path(parts: Any) -> str:
    """A JSONPath for a jsonschema path deque: ``$.inputs[0].namespace``."""
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _NAME.fullmatch(str(part)):
            out += f".{part}"
        else:
            out += "[" + json.dumps(str(part), ensure_ascii=False) + "]"
    return out


def violations(event: Any) -> list[SchemaViolation]:
    """How an event breaks OpenLineage 2-0-2 (empty when it conforms), in document order."""
    if not isinstance(event, dict):
        return [SchemaViolation("$", "type 'object'", "类型须为“object”", "an event is a JSON object")]
    found: dict[tuple[str, str], SchemaViolation] = {}
    for error in validator(event_kind(event)).iter_errors(event):
        for v in _explain(error):
            found.setdefault((v.path, v.rule_en), v)
    return sorted(found.values(), key=lambda v: v.path)


def _explain(error: ValidationError) -> list[SchemaViolation]:
    if error.validator in ("anyOf", "oneOf") and error.context:
        return [v for sub in error.context for v in _explain(sub)]
    path = json_path(error.absolute_path)
    kind, value = error.validator, error.validator_value
    if kind == "required":
        present = error.instance if isinstance(error.instance, dict) else {}
        missing = [name for name in value if name not in present]
        return [
            SchemaViolation(
                json_path([*error.absolute_path, name]), f"required property '{name}'", f"缺少必需属性“{name}”"
            )
            for name in missing
        ]
    detail = error.message if len(error.message) <= 200 else error.message[:200] + "…"
    if kind == "format":
        return [SchemaViolation(path, f"format '{value}'", f"不符合格式“{value}”", detail)]
    if kind == "type":
        return [SchemaViolation(path, f"type '{value}'", f"类型须为“{value}”", detail)]
    if kind == "enum":
        allowed = ", ".join(str(x) for x in value)
        return [SchemaViolation(path, f"one of {allowed}", f"须为 {allowed} 之一", detail)]
    if kind == "not":
        return [SchemaViolation(path, f"not {json.dumps(value)}", f"不得满足 {json.dumps(value)}", detail)]
    return [SchemaViolation(path, f"{kind} {json.dumps(value, ensure_ascii=False)}", f"违反 {kind} 规则", detail)]
