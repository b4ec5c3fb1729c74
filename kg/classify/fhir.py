"""FHIR element paths (``Device.serialNumber``, ``DeviceMetric.calibration.state``) resolved with fhir.resources.

fhir.resources has one pydantic model per FHIR R5 resource and backbone element; each field
carries the element's short text as its ``title`` and its definition as its ``description``.
A resource's module is imported the first time a path names it (``fhir.resources.device``)
and never before, so asking about ``Device`` does not load the other ~150 resources.

Choice elements (``Observation.value[x]``) are fields per type in fhir.resources
(``valueQuantity``, ``valueCodeableConcept``…): ``value[x]`` and ``value`` resolve to the first
type in the specification's order (``Observation.valueQuantity``).
"""

from __future__ import annotations

import functools
import importlib
import re
import typing
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from kg.classify.standards import StandardElement, join_text, package_version

STANDARD = "FHIR"

#: the resources :func:`elements` enumerates when given no scope
DEFAULT_RESOURCES: tuple[str, ...] = (
    "Patient", "Practitioner", "RelatedPerson", "Device", "DeviceDefinition", "DeviceMetric", "DeviceUsage",
    "Observation", "DiagnosticReport", "ImagingStudy", "Procedure", "Encounter", "Location", "Organization",
    "AdverseEvent", "Consent", "Specimen",
)  # fmt: skip

#: elements every resource inherits from Resource / DomainResource, and every backbone from Element
GENERIC_ELEMENTS = frozenset(
    {"id", "meta", "implicitRules", "language", "text", "contained", "extension", "modifierExtension"}
)

_RESOURCE_NAME = re.compile(r"[A-Z][A-Za-z]{1,63}")
_ELEMENT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
_MAX_DEPTH = 6  # path segments after the resource type


@functools.cache
def _source() -> str:
    try:
        import fhir.resources as package

        version = str(getattr(package, "__fhir_version__", ""))
    except ImportError:  # pragma: no cover - a runtime dependency
        version = ""
    major, _, rest = version.partition(".")
    release = f"R{major}" if major.isdigit() and rest.startswith("0") else version
    return f"fhir.resources {package_version('fhir.resources')} (FHIR {release or 'unknown'})"


@functools.lru_cache(maxsize=1024)
def resource_class(name: str) -> type[BaseModel] | None:
    """fhir.resources' model of the resource type ``name`` (``Device``), imported on first use; else None."""
    if not _RESOURCE_NAME.fullmatch(name):
        return None
    try:
        module = importlib.import_module(f"fhir.resources.{name.lower()}")
    except ImportError:
        return None
    from fhir.resources.resource import Resource

    cls = getattr(module, name, None)
    if not (isinstance(cls, type) and issubclass(cls, Resource)):
        return None
    if getattr(cls, "__resource_type__", None) != name:
        return None
    return cls


@dataclass(frozen=True, slots=True)
class _Field:
    name: str  # the FHIR element name (the pydantic alias: "class", not "class_fhir")
    info: FieldInfo
    model: type[BaseModel] | None  # the FHIR complex type or backbone model the element holds, if any


@dataclass(frozen=True, slots=True)
class _Fields:
    by_name: Mapping[str, _Field]  # in the specification's order
    choices: Mapping[str, str]  # "value" → "valueQuantity" (first type of value[x])


def _extra(info: FieldInfo) -> Mapping[str, Any]:
    extra = info.json_schema_extra
    return extra if isinstance(extra, Mapping) else {}


def _model_of(annotation: Any, depth: int = 0) -> type[BaseModel] | None:
    """The fhir.resources model behind a field annotation (Optional[List[abc.DeviceUdiCarrierType]] → DeviceUdiCarrier)."""
    if depth > 6 or annotation is None:
        return None
    klass = getattr(annotation, "get_model_klass", None)
    if callable(klass):
        try:
            model = klass()
        except Exception:  # a type fhir.resources cannot load is just not followed
            return None
        return model if isinstance(model, type) and issubclass(model, BaseModel) else None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        model = _model_of(arg, depth + 1)
        if model is not None:
            return model
    return None


@functools.cache
def _fields(model: type[BaseModel]) -> _Fields:
    """The FHIR elements of ``model``: element fields only (no ``*__ext``, no ``fhir_comments``)."""
    declared: dict[str, _Field] = {}
    for attr, info in model.model_fields.items():
        extra = _extra(info)
        if attr.endswith("__ext") or not extra.get("element_property"):
            continue
        name = info.alias or attr
        declared[name] = _Field(name, info, None)
    order_of = getattr(model, "elements_sequence", None)
    order: list[str] = list(order_of()) if callable(order_of) else []
    ordered = [n for n in order if n in declared] + [n for n in declared if n not in order]
    by_name: dict[str, _Field] = {}
    choices: dict[str, str] = {}
    for name in ordered:
        field = declared[name]
        by_name[name] = _Field(name, field.info, _model_of(field.info.annotation))
        base = _extra(field.info).get("one_of_many")
        if isinstance(base, str) and base not in choices:
            choices[base] = name
    return _Fields(by_name, choices)


def _lookup(model: type[BaseModel], segment: str) -> _Field | None:
    fields = _fields(model)
    base = segment.removesuffix("[x]")
    if base != segment:  # value[x] is only ever the choice
        name = fields.choices.get(base)
        return None if name is None else fields.by_name[name]
    field = fields.by_name.get(segment)
    if field is None and segment in fields.choices:
        field = fields.by_name[fields.choices[segment]]
    return field


PERSON_RESOURCES = frozenset({"Patient", "Practitioner", "RelatedPerson", "Person", "Group"})


@functools.cache
def _describes_person(resource: str) -> bool | None:
    """Whether the resource is about a person, from its definition: True when it describes one
    (``gender`` and ``birthDate``: Patient, Practitioner, RelatedPerson, Person); None when it can
    refer to one (a top-level ``Reference`` that may target a Patient, a RelatedPerson, a
    Practitioner, a Person or a Group: Observation, Encounter, Coverage… are about a person, its
    elements decide); False when it can do neither (Device, Organization, Location…)."""
    model = resource_class(resource)
    if model is None:
        return None
    fields = _fields(model).by_name
    if {"gender", "birthDate"} <= set(fields):
        return True
    for field in fields.values():
        targets = _extra(field.info).get("enum_reference_types")
        if isinstance(targets, list) and PERSON_RESOURCES & set(targets):
            return None
    return False


def _element(resource: str, parents: tuple[str, ...], field: _Field) -> StandardElement:
    context = ".".join((resource, *parents))
    return StandardElement(
        standard=STANDARD,
        ident=f"{context}.{field.name}",
        name=field.name,
        description=join_text(field.info.title, field.info.description),
        context=context,
        context_key=resource,
        source=_source(),
        datatype=field.model.__name__ if field.model is not None else "",
        person=_describes_person(resource),
    )


@functools.lru_cache(maxsize=4096)
def _resolve(resource: str, path: tuple[str, ...]) -> StandardElement | None:
    model = resource_class(resource)
    if model is None:
        return None
    parents: list[str] = []
    for i, segment in enumerate(path):
        field = _lookup(model, segment)
        if field is None:
            return None
        if i == len(path) - 1:
            return _element(resource, tuple(parents), field)
        if field.model is None:
            return None
        parents.append(field.name)
        model = field.model
    return None


def resolve(text: str) -> StandardElement | None:
    """The FHIR element ``text`` names (``Resource.element[.element…]``), or None when it is not one."""
    if not isinstance(text, str):
        return None
    resource, dot, rest = text.strip().partition(".")
    if not dot or not _RESOURCE_NAME.fullmatch(resource):
        return None
    path = tuple(rest.split("."))
    if not 1 <= len(path) <= _MAX_DEPTH:
        return None
    for segment in path:
        if not _ELEMENT_NAME.fullmatch(segment.removesuffix("[x]")):
            return None
    return _resolve(resource, path)


def is_backbone(text: str) -> bool:
    """Whether the element ``text`` (``Patient.contact``) is a backbone element whose children are elements too."""
    resource, _, rest = text.partition(".")
    model = resource_class(resource)
    for segment in rest.split(".") if rest else ():
        field = None if model is None else _lookup(model, segment)
        if field is None:
            return False
        model = field.model
    return _is_backbone(model)


def _is_backbone(model: type[BaseModel] | None) -> bool:
    if model is None:
        return False
    from fhir.resources.backboneelement import BackboneElement

    return issubclass(model, BackboneElement)


def _walk(resource: str, model: type[BaseModel], parents: tuple[str, ...], depth: int) -> Iterator[StandardElement]:
    for field in _fields(model).by_name.values():
        if field.name in GENERIC_ELEMENTS:
            continue
        yield _element(resource, parents, field)
        if depth > 0 and _is_backbone(field.model) and field.model is not None:
            yield from _walk(resource, field.model, (*parents, field.name), depth - 1)


def elements(scope: Iterable[str] | None = None) -> Iterator[StandardElement]:
    """The elements of the resources in ``scope`` (default :data:`DEFAULT_RESOURCES`): top-level ones
    and those of their backbone elements (nested backbones too, up to three levels)."""
    seen: set[str] = set()
    for raw in DEFAULT_RESOURCES if scope is None else scope:
        name = raw.strip()
        model = resource_class(name)
        if model is None or name in seen:
            continue
        seen.add(name)
        yield from _walk(name, model, (), depth=3)
