"""Classify whole HL7 v2 messages (``--hl7``) and FHIR resources or Bundles (``--fhir``) in context.

HL7 v2 is split by a tolerant ER7 splitter of our own, not ``hl7apy.parser.parse_message``:
hl7apy refuses messages whose segments end in ``\\n`` (files saved on Unix), versions it does not
ship and Z-segments, while only the field positions are needed here; the meaning of each field
still comes from hl7apy's definitions (:mod:`kg.classify.hl7v2`). FHIR JSON is read with
:mod:`json`; FHIR XML with defusedxml into the JSON form (``value`` attributes become primitives,
repeated elements lists, nested resources keep their type): fhir.resources 8's
``model_validate_xml`` rejects any element R5 lacks, which R4 files have. Each element present
is resolved with fhir.resources' definitions; one it does not know is still listed, unresolved.
No value is ever printed: a row says what the element is, not what the patient's name is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kg.classify import fhir
from kg.classify.context import FHIR_SUBJECT_ELEMENTS, Context
from kg.classify.engine import Classifier, Suggestion
from kg.errors import InputError

_SKIPPED = frozenset({"resourceType", "id", "meta", "text", "extension", "modifierExtension", "contained"})
_HL7_CONTEXT = Context(True, "同一消息含 PID 段", "in a message with a PID segment")


@dataclass(frozen=True, slots=True)
class Row:
    ref: str  # "OBX[2]-5" (HL7 segment occurrence), "entry[1].Observation.valueQuantity" (FHIR)
    element: str  # what was classified: "OBX-5", "Observation.valueQuantity"
    suggestion: Suggestion

    def to_dict(self) -> dict[str, Any]:
        return {"ref": self.ref, **self.suggestion.to_dict(), "value_present": True}


def _read(path: Path) -> str:
    if not path.is_file():
        raise InputError(f"{path}: no such file", f"{path}：文件不存在")
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        return path.read_bytes().decode("latin-1")


# --- HL7 v2 -------------------------------------------------------------------------------------


def split_messages(text: str, path: Path) -> list[list[tuple[int, str, list[str]]]]:
    """Messages of ER7 text: each a list of (line, segment id, fields); MSH-1 is the separator."""
    messages: list[list[tuple[int, str, list[str]]]] = []
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for number, line in enumerate(lines, start=1):
        line = line.strip("\x0b\x1c ")
        if not line or line[:3] in ("FHS", "BHS", "FTS", "BTS"):
            continue
        sid = line[:3]
        if sid == "MSH":
            if len(line) < 8:
                raise InputError(
                    f"{path}, line {number}: MSH segment too short for its encoding characters",
                    f"{path} 第 {number} 行：MSH 段过短，缺少编码字符",
                )
            sep = line[3]
            fields = ["MSH", sep, *line[4:].split(sep)]  # MSH-1 is the separator itself
            messages.append([(number, sid, fields)])
            continue
        if not messages:
            raise InputError(
                f"{path}, line {number}: segment {sid!r} before any MSH segment: not an HL7 v2 message",
                f"{path} 第 {number} 行：MSH 段之前出现 {sid!r} 段，不是 HL7 v2 消息",
            )
        if len(sid) != 3 or not sid.isalnum() or (len(line) > 3 and line[3] != messages[-1][0][2][1]):
            raise InputError(
                f"{path}, line {number}: {line[:12]!r} is not an HL7 v2 segment",
                f"{path} 第 {number} 行：{line[:12]!r} 不是 HL7 v2 段",
            )
        messages[-1].append((number, sid, line.split(messages[-1][0][2][1])))
    if not messages:
        raise InputError(f"{path}: no MSH segment: not an HL7 v2 message", f"{path}：没有 MSH 段，不是 HL7 v2 消息")
    return messages


def classify_hl7(path: Path, classifier: Classifier) -> list[Row]:
    """One row per populated field of every segment of every message in ``path``."""
    rows: list[Row] = []
    messages = split_messages(_read(path), path)
    for index, segments in enumerate(messages, start=1):
        has_pid = any(sid == "PID" and any(f.strip() for f in fields[1:]) for _, sid, fields in segments)
        context = _HL7_CONTEXT if has_pid else Context()
        seen: dict[str, int] = {}
        for _, sid, fields in segments:
            seen[sid] = seen.get(sid, 0) + 1
            for number, value in enumerate(fields[1:], start=1):
                if not value.strip() or value.strip() == '""':
                    continue
                element = f"{sid}-{number}"
                prefix = f"[{index}]" if len(messages) > 1 else ""
                rows.append(
                    Row(f"{prefix}{sid}[{seen[sid]}]-{number}", element, classifier.classify(element, context=context))
                )
    return rows


# --- FHIR ---------------------------------------------------------------------------------------


def _xml_value(node: Any) -> Any:
    children = list(node)
    if not children:
        return node.get("value", "")
    out: dict[str, Any] = {}
    for child in children:
        tag = child.tag.rpartition("}")[2] if isinstance(child.tag, str) else ""
        if not tag or tag == "div":
            continue
        grand = list(child)
        if tag in ("resource", "contained") and len(grand) == 1 and isinstance(grand[0].tag, str):
            value: Any = _xml_resource(grand[0])
        else:
            value = _xml_value(child)
        if tag in out:
            out[tag] = out[tag] if isinstance(out[tag], list) else [out[tag]]
            out[tag].append(value)
        else:
            out[tag] = value
    return out


def _xml_resource(node: Any) -> dict[str, Any]:
    body = _xml_value(node)
    return {"resourceType": node.tag.rpartition("}")[2], **(body if isinstance(body, dict) else {})}


def read_fhir(path: Path) -> dict[str, Any]:
    """The resource in ``path`` as FHIR JSON (XML converted); a precise error otherwise."""
    text = _read(path)
    if text.lstrip().startswith("<"):
        from defusedxml import ElementTree
        from defusedxml.common import DefusedXmlException

        try:
            root = ElementTree.fromstring(text.encode("utf-8"))
        except (ElementTree.ParseError, DefusedXmlException) as exc:
            raise InputError(f"{path}: not FHIR XML ({exc})", f"{path}：不是 FHIR XML（{exc}）") from exc
        data: Any = _xml_resource(root)
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"{path}, line {exc.lineno} column {exc.colno}: not JSON ({exc.msg})",
                f"{path} 第 {exc.lineno} 行第 {exc.colno} 列：不是 JSON（{exc.msg}）",
            ) from exc
    if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
        raise InputError(
            f"{path}: $.resourceType missing: not a FHIR resource", f"{path}：缺少 $.resourceType，不是 FHIR 资源"
        )
    if fhir.resource_class(data["resourceType"]) is None:
        raise InputError(
            f"{path}: $.resourceType {data['resourceType']!r} is no FHIR R5 resource",
            f"{path}：$.resourceType {data['resourceType']!r} 不是 FHIR R5 资源",
        )
    return data


#: a literal reference, relative or absolute: [base/]Type/id[/_history/vid] (FHIR R5 "Resource References")
_LITERAL_REFERENCE = re.compile(
    r"(?:^|/)(?P<type>[A-Z][A-Za-z]{1,63})/[A-Za-z0-9\-.]{1,64}(?:/_history/[A-Za-z0-9\-.]{1,64})?$"
)
#: a conditional reference of a transaction Bundle: Type?search-parameters
_CONDITIONAL_REFERENCE = re.compile(r"(?P<type>[A-Z][A-Za-z]{1,63})\?")
#: elements every resource inherits from Resource/DomainResource; a backbone element has only Element's
_RESOURCE_SKIPPED = _SKIPPED | {"implicitRules", "language"}
_ELEMENT_SKIPPED = frozenset({"id", "extension", "modifierExtension"})


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]  # XML gives one repetition as itself


def _reference_type(ref: Any, in_bundle: dict[str, str], contained: dict[str, str]) -> str | None:
    """The resource type a Reference points to: its ``type``, a contained resource (``#id``), a Bundle
    entry by ``fullUrl`` (``urn:uuid:…``), else the type a literal or conditional reference names."""
    if not isinstance(ref, dict):
        return None
    if isinstance(ref.get("type"), str) and fhir.resource_class(ref["type"]) is not None:
        return str(ref["type"])
    target = ref.get("reference")
    if not isinstance(target, str):
        return None
    if target.startswith("#"):
        return contained.get(target[1:])
    if target in in_bundle:
        return in_bundle[target]
    match = _LITERAL_REFERENCE.search(target) or _CONDITIONAL_REFERENCE.match(target)
    if match and fhir.resource_class(match["type"]) is not None:
        return match["type"]
    return None


def _context(resource: dict[str, Any], in_bundle: dict[str, str]) -> Context:
    """The resource's own context: a Patient, a record whose ``subject``/``patient`` is a Patient,
    or none; a resource whose definition refers to no person owns even elements R5 lacks."""
    rtype = str(resource["resourceType"])
    if rtype == "Patient":
        return Context(True, "Patient 资源本身", "the Patient resource itself")
    contained = {
        str(c["id"]): str(c["resourceType"])
        for c in _as_list(resource.get("contained"))
        if isinstance(c, dict) and "id" in c and "resourceType" in c
    }
    for name in sorted(FHIR_SUBJECT_ELEMENTS):
        for ref in _as_list(resource.get(name)):
            if _reference_type(ref, in_bundle, contained) == "Patient":
                return Context(
                    True, f"{rtype}.{name} 引用 Patient 资源", f"{rtype}.{name} refers to a Patient resource"
                )
    owner = fhir.resolve(f"{rtype}.id")  # Resource.id: every resource has it, with its owner's definition
    return Context(owner_no_person=rtype if owner is not None and owner.person is False else "")


def _paths(resource_type: str, node: dict[str, Any], parents: tuple[str, ...]) -> Iterator[str]:
    skipped = _ELEMENT_SKIPPED if parents else _RESOURCE_SKIPPED
    for key, value in node.items():
        if key in skipped or key.startswith("_") or key == "fhir_comments" or value in (None, "", [], {}):
            continue
        path = ".".join((resource_type, *parents, key))
        yield path
        if fhir.is_backbone(path):
            for item in _as_list(value):
                if isinstance(item, dict):
                    yield from _paths(resource_type, item, (*parents, key))


def classify_fhir(path: Path, classifier: Classifier) -> list[Row]:
    """One row per element present in the resource, or in each entry of a Bundle; each entry is
    classified in its own context (a Bundle's Organization stays the organization's, whatever else
    the Bundle holds), its references resolved within the Bundle."""
    data = read_fhir(path)
    entries: list[tuple[str, dict[str, Any]]] = [("", data)]
    in_bundle: dict[str, str] = {}
    if data["resourceType"] == "Bundle":
        entries = []
        for i, entry in enumerate(_as_list(data.get("entry") or [])):
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if not (isinstance(resource, dict) and isinstance(resource.get("resourceType"), str)):
                continue  # a transaction's DELETE or GET carries no resource
            entries.append((f"entry[{i}].", resource))
            if isinstance(entry.get("fullUrl"), str):
                in_bundle[entry["fullUrl"]] = resource["resourceType"]
    rows: list[Row] = []
    for prefix, resource in entries:
        rtype = str(resource["resourceType"])
        context = _context(resource, in_bundle)
        for element in dict.fromkeys(_paths(rtype, resource, ())):
            rows.append(Row(prefix + element, element, classifier.classify(element, context=context)))
    return rows
