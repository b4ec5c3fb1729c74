"""From plain facts about datasets, elements and derivations to the arrays of :mod:`core`.

Dataset-level lineage: a derived dataset takes what its sources pass. Element (column)
lineage, when known, refines it: an output element takes the highest level of the input
elements it comes from (any number of them), a masking transformation is a candidate reduction
for that element only, and a dataset is at least its elements (R5). A dataset edge ``s -> x``
is superseded when element lineage runs between an element of s and an element of x; without
element lineage the dataset edge stands (the fall-back).

Nodes: every dataset, and every element that has its own level or takes part in element
lineage. An element with no own level and no element sources holds its dataset's level (edge
dataset -> element); any other element contributes to its dataset (edge element -> dataset).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from kg.lineage.core import ALL_FLAGS, NO_CAP, LineageGraph


@dataclass(frozen=True, slots=True)
class Derivation:
    """``target`` derived from ``source``; ``cap`` set when an approved level-reducing activity
    stands between them; ``clears`` the flags an approved anonymisation removes."""

    source: str
    target: str
    activity: str | None = None
    cap: int | None = None
    clears: frozenset[str] = frozenset()


@dataclass
class Facts:
    """What the store knows, as plain data (IRIs as strings)."""

    levels: dict[str, int] = field(default_factory=dict)  # dataset or element -> own rank (0: none)
    flags: dict[str, set[str]] = field(default_factory=dict)  # node -> category / personal-information IRIs
    elements: dict[str, str] = field(default_factory=dict)  # element -> its dataset
    derivations: list[Derivation] = field(default_factory=list)  # between datasets
    plain: list[tuple[str, str]] = field(default_factory=list)  # (source, target): datasets, no activity or cap
    element_derivations: list[Derivation] = field(default_factory=list)  # between elements


@dataclass
class LineageModel:
    nodes: list[str]
    index: dict[str, int]
    graph: LineageGraph
    bits: dict[str, int]  # flag IRI -> bit

    def flag_names(self, mask: int) -> list[str]:
        return sorted(name for name, bit in self.bits.items() if mask >> bit & 1)

    def mask(self, names: Iterable[str]) -> int:
        """The flag bits of ``names`` (names without a bit are ignored)."""
        return _mask(names, self.bits)


def build(facts: Facts, flag_iris: Iterable[str] = ()) -> LineageModel:
    """The lineage graph of ``facts``; ``flag_iris`` fixes the order of flag bits (max 64)."""
    names = sorted(set(flag_iris) | {f for fs in facts.flags.values() for f in fs})
    if len(names) > 64:
        raise ValueError(f"at most 64 distinct categories and personal-information kinds flow, got {len(names)}")
    bits = {name: i for i, name in enumerate(names)}

    in_element_lineage = {d.source for d in facts.element_derivations} | {d.target for d in facts.element_derivations}
    graded = {e for e in facts.elements if facts.levels.get(e, 0) > 0}
    element_nodes = sorted(in_element_lineage | graded)
    dataset_set = (
        (set(facts.levels) - set(facts.elements))
        | {d.source for d in facts.derivations}
        | {d.target for d in facts.derivations}
        | {x for pair in facts.plain for x in pair}
        | {facts.elements[e] for e in element_nodes if e in facts.elements}
    )
    nodes = sorted(dataset_set) + [e for e in element_nodes if e not in dataset_set]
    index = {iri: i for i, iri in enumerate(nodes)}

    own = np.array([facts.levels.get(iri, 0) for iri in nodes], dtype=np.int8)
    flags = np.zeros(len(nodes), dtype=np.uint64)
    for iri, names_of in facts.flags.items():
        if iri in index:
            flags[index[iri]] = _mask(names_of, bits)

    superseded = {(facts.elements.get(d.source), facts.elements.get(d.target)) for d in facts.element_derivations}
    derivations = [d for d in facts.derivations if (d.source, d.target) not in superseded] + list(
        facts.element_derivations
    )
    plain = [(s, t) for s, t in facts.plain if (s, t) not in superseded] if superseded else facts.plain
    element_sources = {d.target for d in facts.element_derivations}
    ties = [  # (source, target) per element: "holds" its dataset's level, or R5 "element" -> dataset
        (dataset, e) if facts.levels.get(e, 0) == 0 and e not in element_sources else (e, dataset)
        for e in element_nodes
        if (dataset := facts.elements.get(e)) is not None
    ]
    full = int(ALL_FLAGS)
    src = [index[d.source] for d in derivations] + [index[s] for s, _ in plain] + [index[s] for s, _ in ties]
    dst = [index[d.target] for d in derivations] + [index[t] for _, t in plain] + [index[t] for _, t in ties]
    cap = [NO_CAP if d.cap is None else d.cap for d in derivations] + [NO_CAP] * (len(plain) + len(ties))
    keep = [full & ~_mask(d.clears, bits) if d.clears else full for d in derivations] + [full] * (
        len(plain) + len(ties)
    )
    graph = LineageGraph(
        own=own,
        src=np.array(src, dtype=np.int32),
        dst=np.array(dst, dtype=np.int32),
        cap=np.array(cap, dtype=np.int8),
        flags=flags,
        keep=np.array(keep, dtype=np.uint64),
    )
    return LineageModel(nodes=nodes, index=index, graph=graph, bits=bits)


def _mask(names: Iterable[str], bits: Mapping[str, int]) -> int:
    m = 0
    for n in names:
        if n in bits:
            m |= 1 << bits[n]
    return m
