"""IEEE 11073-10207 (BICEPS) participant-model members resolved from the schema sdc11073 ships.

The index is read from ``sdc11073/xsd/BICEPS_ParticipantModel.xsd`` with ElementTree (none of
sdc11073's Python modules is imported): every named ``xsd:element`` and ``xsd:attribute``
declared in a complexType, attributeGroup or inline element type, with its
``xsd:documentation`` and its owner (the complexType, or the element whose inline type declares
it: ``SerialNumber`` belongs to ``MetaData`` inside ``MdsDescriptor``). Named complexTypes and
simpleTypes (``PatientContextState``, ``ComponentActivation``) resolve too.

References: ``SerialNumber``, ``pm:SerialNumber``, ``MetaData/SerialNumber``,
``MetaData.SerialNumber``, ``MdsDescriptor/MetaData/SerialNumber``, ``@ActivationState``,
``pm:PatientContextState/@ContextAssociation`` (members a type inherits from its base types or
takes from an attributeGroup are found through the type). A bare name resolves only when it is a
CamelCase compound (``SerialNumber``, ``OperatingHours``); a bare single word (``Value``,
``Type``, ``Handle``) needs a qualifier (``pm:``, an owner or ``@``), so that free text is not
taken for a BICEPS member.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from kg.classify.standards import StandardElement, normalize_space, package_version

STANDARD = "IEEE 11073 SDC (BICEPS)"
SCHEMA_FILE = "BICEPS_ParticipantModel.xsd"
#: ``context_key`` of the schema's named types, which belong to no other container
SCHEMA_KEY = "pm"
SCHEMA_CONTEXT = "BICEPS participant model"

_XS = "{http://www.w3.org/2001/XMLSchema}"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,127}")
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z][a-z0-9]*")
_SEPARATOR = re.compile(r"[/.]")


def is_compound(name: str) -> bool:
    """``SerialNumber`` (two or more capitalised words) but not ``Value``, ``Udi`` or ``serialNumber``."""
    words = _WORDS.findall(name)
    return len(words) >= 2 and "".join(words) == name


@dataclass(frozen=True, slots=True)
class _Member:
    name: str
    attribute: bool
    owners: tuple[str, ...]  # from the top-level declaration: ("MdsDescriptor", "MetaData")
    documentation: str

    @property
    def owner(self) -> str:
        return self.owners[-1]


@dataclass(frozen=True, slots=True)
class _Type:
    name: str
    kind: str  # "complexType" | "simpleType" | "attributeGroup"
    documentation: str
    bases: tuple[str, ...]  # the extension / restriction base and the attributeGroups it references


@dataclass(frozen=True, slots=True)
class _Index:
    source: str
    members: tuple[_Member, ...]  # document order
    by_name: Mapping[str, tuple[_Member, ...]]
    by_owner: Mapping[str, Mapping[str, _Member]]
    types: Mapping[str, _Type]


def schema_path() -> str:
    """Where sdc11073 keeps the BICEPS participant-model schema.

    The package is found by its import spec, which does not run its ``__init__``; only a
    package that is not a plain directory (a zip) is opened through :mod:`importlib.resources`.
    """
    spec = importlib.util.find_spec("sdc11073")
    for location in (spec.submodule_search_locations or ()) if spec else ():
        candidate = Path(location) / "xsd" / SCHEMA_FILE
        if candidate.is_file():
            return str(candidate)
    return str(resources.files("sdc11073") / "xsd" / SCHEMA_FILE)


def _local(qname: str | None) -> str:
    """``pm:MdsDescriptor`` → ``MdsDescriptor``."""
    return (qname or "").rpartition(":")[2]


def _documentation(node: ET.Element) -> str:
    texts = [
        normalize_space("".join(doc.itertext()))
        for annotation in node.findall(f"{_XS}annotation")
        for doc in annotation.findall(f"{_XS}documentation")
    ]
    return " ".join(t for t in texts if t)


def _bases(node: ET.Element) -> tuple[str, ...]:
    """What a named type builds on: its extension/restriction base and attributeGroup references."""
    found: list[str] = []
    for child in node.iter():
        if child is node:
            continue
        if child.tag in (f"{_XS}extension", f"{_XS}restriction") and child.get("base", "").startswith("pm:"):
            found.append(_local(child.get("base")))
        elif child.tag == f"{_XS}attributeGroup" and child.get("ref", "").startswith("pm:"):
            found.append(_local(child.get("ref")))
    return tuple(dict.fromkeys(found))


def _collect(node: ET.Element, owners: tuple[str, ...], out: list[_Member]) -> None:
    for child in node:
        if child.tag == f"{_XS}annotation":
            continue
        name = child.get("name")
        if child.tag in (f"{_XS}element", f"{_XS}attribute") and name:
            out.append(_Member(name, child.tag == f"{_XS}attribute", owners, _documentation(child)))
            _collect(child, (*owners, name), out)  # an inline complexType declares members of its own
        else:
            _collect(child, owners, out)


@functools.cache
def _index() -> _Index:
    root = ET.parse(schema_path()).getroot()
    members: list[_Member] = []
    types: dict[str, _Type] = {}
    for node in root:
        name = node.get("name")
        if not name:
            continue
        kind = node.tag.removeprefix(_XS)
        if kind in ("complexType", "simpleType", "attributeGroup"):
            types.setdefault(name, _Type(name, kind, _documentation(node), _bases(node)))
            _collect(node, (name,), members)
        elif kind in ("element", "attribute"):  # top-level declarations (none in BICEPS 2017, but allowed)
            members.append(_Member(name, kind == "attribute", (), _documentation(node)))
            _collect(node, (name,), members)
    by_name: dict[str, list[_Member]] = {}
    by_owner: dict[str, dict[str, _Member]] = {}
    for member in members:
        by_name.setdefault(member.name, []).append(member)
        by_owner.setdefault(member.owners[-1] if member.owners else SCHEMA_KEY, {}).setdefault(member.name, member)
    return _Index(
        source=f"sdc11073 {package_version('sdc11073')} {SCHEMA_FILE}",
        members=tuple(members),
        by_name={k: tuple(v) for k, v in by_name.items()},
        by_owner=by_owner,
        types=types,
    )


def _owner_of(member: _Member) -> str:
    return member.owners[-1] if member.owners else SCHEMA_KEY


def _member_element(member: _Member, index: _Index, via: str | None = None) -> StandardElement:
    owner = _owner_of(member)
    others = [o for o in dict.fromkeys(_owner_of(m) for m in index.by_name[member.name]) if o != owner]
    context = owner
    if via and via != owner:
        context += f" (inherited by {via})"
    if others:
        context += f" (also: {', '.join(others)})"
    return StandardElement(
        standard=STANDARD,
        ident=f"pm:{owner}/{member.name}" if member.owners else f"pm:{member.name}",
        name=member.name,
        description=member.documentation,
        context=context,
        context_key=owner,
        source=index.source,
    )


def _type_element(declared: _Type, index: _Index) -> StandardElement:
    return StandardElement(
        standard=STANDARD,
        ident=f"pm:{declared.name}",
        name=declared.name,
        description=declared.documentation,
        context=SCHEMA_CONTEXT,
        context_key=SCHEMA_KEY,
        source=index.source,
    )


def _inherited(index: _Index, owner: str, name: str, attribute: bool | None) -> _Member | None:
    """``name`` declared in ``owner``, in the types it extends or the attributeGroups it references."""
    queue, seen = [owner], set()
    while queue:
        current = queue.pop(0)
        if current in seen:
            continue
        seen.add(current)
        member = index.by_owner.get(current, {}).get(name)
        if member is not None and (attribute is None or member.attribute == attribute):
            return member
        declared = index.types.get(current)
        if declared is not None:
            queue.extend(declared.bases)
    return None


def _find(owners: tuple[str, ...], name: str, attribute: bool | None, qualified: bool) -> StandardElement | None:
    index = _index()
    candidates = [
        m
        for m in index.by_name.get(name, ())
        if (attribute is None or m.attribute == attribute) and m.owners[len(m.owners) - len(owners) :] == owners
    ]
    if candidates:
        return _member_element(candidates[0], index)
    if len(owners) == 1:
        member = _inherited(index, owners[0], name, attribute)
        return None if member is None else _member_element(member, index, via=owners[0])
    if not owners and attribute is None and (qualified or is_compound(name)) and name in index.types:
        return _type_element(index.types[name], index)
    return None


@functools.lru_cache(maxsize=4096)
def _resolve(text: str) -> StandardElement | None:
    qualified = False
    if text.startswith("pm:"):
        text, qualified = text[3:], True
    parts = [p.removeprefix("pm:") for p in _SEPARATOR.split(text)]
    if not parts or any(not p for p in parts) or len(parts) > 8:
        return None
    *owners, last = parts
    attribute: bool | None = None
    if last.startswith("@"):
        last, attribute, qualified = last[1:], True, True
    if owners:
        qualified = True
    if not all(_NAME.fullmatch(p) for p in (*owners, last)):
        return None
    if not qualified and not is_compound(last):
        return None  # a bare "Value" or "Type" is free text, not a BICEPS member
    return _find(tuple(owners), last, attribute, qualified)


def resolve(text: str) -> StandardElement | None:
    """The BICEPS member (or named type) ``text`` refers to, or None when it is not one."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    if not text or len(text) > 512 or any(c.isspace() for c in text):
        return None
    return _resolve(text)


def elements(scope: Iterable[str] | None = None) -> Iterator[StandardElement]:
    """Every indexed member in document order; ``scope`` restricts to members whose owner is one of
    the given names (``MetaData``, ``AbstractDeviceComponentState``, with or without ``pm:``)."""
    index = _index()
    wanted = None if scope is None else {_local(s.strip()) for s in scope}
    for member in index.members:
        if wanted is None or _owner_of(member) in wanted:
            yield _member_element(member, index)
