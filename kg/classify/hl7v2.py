"""HL7 v2 field references (``PID-5``, ``PID.5``, ``PID-5.1``, ``EQU-1``) resolved with hl7apy.

hl7apy ships one module per HL7 v2 version with the segment, field and data-type tables
(``hl7apy.v2_8_2.SEGMENTS``, ``FIELDS``, ``DATATYPES``, ``DATATYPES_STRUCTS``, ``TABLES``).
A segment is read from the newest version that has it (the equipment segments EQU and PRT
only exist from v2.5 / v2.7 on); a field number that version lacks falls back to older ones.

hl7apy has the long names of fields, components and tables but none for segments, so
``context`` is ``"PID segment"``: the segment's long name is not retyped here.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, cast

from kg.classify.standards import StandardElement, package_version

STANDARD = "HL7 v2"

#: the segments :func:`elements` enumerates when given no scope: patient, visit, orders and
#: observations, equipment (EQU, EQP, INV, ECD, ECR, SAC), participation, message control
DEFAULT_SEGMENTS: tuple[str, ...] = (
    "PID", "PD1", "NK1", "PV1", "PV2", "OBR", "OBX", "EQU", "EQP", "INV", "ECD", "ECR", "SAC", "PRT",
    "ORC", "TQ1", "SPM", "NTE", "MSH", "EVN", "AL1", "DG1", "IN1", "GT1", "ROL", "STF", "PRA",
)  # fmt: skip

# PID-5, PID.5, pid-5, PID-5.1 (component), PID-5.1.1 (sub-component); a segment id is three
# characters, a letter first (Z-segments included, they just never resolve)
_REFERENCE = re.compile(r"([A-Za-z][A-Za-z0-9]{2})[-.](\d{1,3})(?:\.(\d{1,3})(?:\.(\d{1,3}))?)?")

# words that stay upper case when a long name like PATIENT_ID is made readable
_ACRONYMS = frozenset({"ID", "OID", "UID", "URI", "URL", "UDI", "SSN", "DNA", "NPI", "DEA", "II", "III", "IV"})
_SMALL_WORDS = frozenset({"OF", "AND", "OR", "THE", "FOR", "TO", "IN", "ON", "BY", "AT", "A", "AN", "PER", "WITH"})


def readable(long_name: str) -> str:
    """hl7apy's ``PATIENT_NAME`` as ``Patient Name`` (``DATE_TIME_OF_BIRTH`` → ``Date Time of Birth``)."""
    words = [w for w in long_name.split("_") if w]
    out: list[str] = []
    for i, word in enumerate(words):
        upper = word.upper()
        if upper in _ACRONYMS:
            out.append(upper)
        elif i and upper in _SMALL_WORDS:
            out.append(word.lower())
        else:
            out.append(word[:1].upper() + word[1:].lower())
    return " ".join(out)


# --- hl7apy's tables -------------------------------------------------------------------------
#
# A field or data-type component in hl7apy is a sequence
#   (kind, children, datatype, long_name, table, max_length)
# where kind is "leaf" or "sequence" and children (for a sequence) is a tuple of
#   (child_name, child_reference, (min, max), "CMP").
# A segment is ("sequence", ((field_name, field_reference, (min, max), "FIE"), ...)).


@dataclass(frozen=True, slots=True)
class _Node:
    """One field, component or sub-component as hl7apy describes it."""

    datatype: str
    long_name: str
    table: str | None
    children: tuple[tuple[int, _Node], ...]


def _node(reference: Sequence[Any], depth: int = 0) -> _Node:
    kind, children, datatype, long_name, table = reference[:5]
    parsed: list[tuple[int, _Node]] = []
    if kind == "sequence" and children and depth < 2:
        for child in children:
            number = _position(str(child[0]))
            if number is not None:
                parsed.append((number, _node(child[1], depth=depth + 1)))
    return _Node(str(datatype), str(long_name), str(table) if table else None, tuple(parsed))


def _position(name: str) -> int | None:
    """The number at the end of ``PID_5`` or ``XPN_1``."""
    _, _, tail = name.rpartition("_")
    return int(tail) if tail.isdigit() else None


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split(".") if p.isdigit())


@functools.cache
def _versions() -> tuple[str, ...]:
    """The HL7 versions hl7apy ships, newest first."""
    import hl7apy

    supported = cast(Mapping[str, str], hl7apy.SUPPORTED_LIBRARIES)
    return tuple(sorted(supported, key=_version_key, reverse=True))


@functools.cache
def _library(version: str) -> ModuleType:
    import hl7apy

    return cast(ModuleType, hl7apy.load_library(version))


@dataclass(frozen=True, slots=True)
class _Segment:
    segment_id: str
    version: str
    fields: Mapping[int, Sequence[Any]]  # field number → hl7apy's reference

    def field(self, number: int) -> _Node | None:
        entry = self.fields.get(number)
        return None if entry is None else _node(entry)


@functools.cache
def _index() -> dict[str, tuple[_Segment, ...]]:
    """Every segment id hl7apy knows → its definition in each version that has it, newest first."""
    index: dict[str, list[_Segment]] = {}
    for version in _versions():
        segments = cast(Mapping[str, Sequence[Any]], _library(version).SEGMENTS)
        for segment_id, definition in segments.items():
            if len(segment_id) != 3 or len(definition) < 2:  # v2.7 lists QRD, URD… without fields
                continue
            fields: dict[int, Sequence[Any]] = {}
            for entry in definition[1]:
                if not (isinstance(entry, tuple) and len(entry) == 4 and entry[1]):
                    continue  # v2.1's ORO is stored flattened; skip what is not (name, ref, (min, max), "FIE")
                field_name, reference, _, _ = entry
                number = _position(str(field_name))
                if number is not None:
                    fields[number] = reference
            index.setdefault(segment_id, []).append(_Segment(segment_id, version, fields))
    return {key: tuple(value) for key, value in index.items()}


@functools.cache
def _table_title(version: str, table: str) -> str:
    tables = cast(Mapping[str, Sequence[Any]], _library(version).TABLES)
    entry = tables.get(table)
    return str(entry[0]) if entry else ""


def _describe(node: _Node, version: str) -> str:
    """What hl7apy tells about a field beyond its name: its data type and its table."""
    if node.datatype == "WD":
        return f"Withdrawn in HL7 v{version}."
    text = f"Data type {node.datatype}."
    if node.table:
        title = _table_title(version, node.table)
        text += f" Table {node.table}" + (f" ({title})." if title else ".")
    return text


@functools.cache
def _source(version: str) -> str:
    return f"hl7apy {package_version('hl7apy')} (HL7 v{version})"


def _element(segment: _Segment, path: Sequence[int]) -> StandardElement | None:
    node = segment.field(path[0])
    if node is None:
        return None
    names = [readable(node.long_name)]
    for number in path[1:]:
        child = dict(node.children).get(number)
        if child is None:
            return None
        node = child
        names.append(readable(node.long_name))
    sid = segment.segment_id
    return StandardElement(
        standard=STANDARD,
        ident=f"{sid}-" + ".".join(str(n) for n in path),
        name=" / ".join(names),
        description=_describe(node, segment.version),
        context=f"{sid} segment",
        context_key=sid,
        source=_source(segment.version),
        datatype=node.datatype,
    )


@functools.lru_cache(maxsize=4096)
def _resolve(segment_id: str, path: tuple[int, ...]) -> StandardElement | None:
    for segment in _index().get(segment_id, ()):
        # the newest version with the segment decides; an older one only for a field number it lacks
        if path[0] in segment.fields:
            return _element(segment, path)
    return None


def resolve(text: str) -> StandardElement | None:
    """The HL7 v2 field (or component) ``text`` refers to, or None when it is not one."""
    match = _REFERENCE.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        return None
    path = tuple(int(g) for g in match.groups()[1:] if g is not None)
    if any(n == 0 for n in path):
        return None
    return _resolve(match.group(1).upper(), path)


def elements(scope: Iterable[str] | None = None) -> Iterator[StandardElement]:
    """Every field of the segments in ``scope`` (default :data:`DEFAULT_SEGMENTS`), newest version."""
    index = _index()
    seen: set[str] = set()
    for raw in DEFAULT_SEGMENTS if scope is None else scope:
        segment_id = raw.strip().upper()
        if segment_id in seen or segment_id not in index:
            continue
        seen.add(segment_id)
        segment = index[segment_id][0]
        for number in sorted(segment.fields):
            element = _element(segment, (number,))
            if element is not None:
                yield element
