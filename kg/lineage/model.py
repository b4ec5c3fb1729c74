"""From plain facts about datasets, elements and derivations to the arrays of :mod:`core`.

Dataset-level lineage: a derived dataset takes what its sources pass. Element (column)
lineage, when known, refines it: an output element takes the highest level of the input
elements it comes from (any number of them), a masking transformation is a candidate reduction
for that element only, and a dataset is at least its elements (R5). A dataset edge ``s -> x``
is superseded when element lineage runs between an element of s and an element of x; without
element lineage the dataset edge stands (the fall-back).

Each node's own rank is the higher of its assessed level and its rules' minimum (R2–R6, worked
out by :mod:`kg.grading` before it gets here): an assessment never lowers what the rules
require (R7, R11).

Nodes: every dataset, and every element that has its own level (assessed or a rules' minimum)
or takes part in element lineage. An element with no assessed level and no element sources
holds its dataset's level (edge dataset -> element), and at least its own minimum, which its
dataset's minimum includes already (R5); any other element contributes to its dataset (edge
element -> dataset).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import chain

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

    levels: dict[str, int] = field(default_factory=dict)  # dataset or element -> assessed rank (0: none)
    minimum: dict[str, int] = field(default_factory=dict)  # dataset or element -> rank of the rules' minimum
    named: dict[str, set[str]] = field(default_factory=dict)  # element -> personal information its name denotes
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
    assessed: np.ndarray  # per node: assessed rank (int8, 0: none)
    minimum: np.ndarray  # per node: rank of the rules' minimum (int8, 0: none)
    named: np.ndarray  # per node: bits of the personal information its name denotes (uint64)

    def add_node(self, iri: str, node: int) -> None:
        """Record node ``node`` (just added to the index) for ``iri``, with nothing known yet."""
        self.index[iri] = node
        self.nodes.append(iri)
        self.assessed = np.append(self.assessed, np.int8(0))
        self.minimum = np.append(self.minimum, np.int8(0))
        self.named = np.append(self.named, np.uint64(0))

    def own(self, node: int) -> int:
        """A node's own rank: the higher of its assessed level and its rules' minimum."""
        return max(int(self.assessed[node]), int(self.minimum[node]))

    def flag_names(self, mask: int) -> list[str]:
        return sorted(name for name, bit in self.bits.items() if mask >> bit & 1)

    def mask(self, names: Iterable[str]) -> int:
        """The flag bits of ``names`` (names without a bit are ignored)."""
        return _mask(names, self.bits)


def build(facts: Facts, flag_iris: Iterable[str] = ()) -> LineageModel:
    """The lineage graph of ``facts``; ``flag_iris`` fixes the order of flag bits (max 64)."""
    names = sorted(
        set(flag_iris) | {f for fs in facts.flags.values() for f in fs} | {f for fs in facts.named.values() for f in fs}
    )
    if len(names) > 64:
        raise ValueError(f"at most 64 distinct categories and personal-information kinds flow, got {len(names)}")
    bits = {name: i for i, name in enumerate(names)}

    levels, minimums, elements = facts.levels, facts.minimum, facts.elements
    in_element_lineage = {d.source for d in facts.element_derivations} | {d.target for d in facts.element_derivations}
    graded = {e for e in elements if levels.get(e, 0) > 0 or minimums.get(e, 0) > 0}
    element_nodes = sorted(in_element_lineage | graded)
    dataset_set = {x for x, r in levels.items() if r > 0}
    dataset_set.update(x for x, r in minimums.items() if r > 0)
    dataset_set.difference_update(elements)
    dataset_set.update(d.source for d in facts.derivations)
    dataset_set.update(d.target for d in facts.derivations)
    dataset_set.update(chain.from_iterable(facts.plain))
    dataset_set.update(elements[e] for e in element_nodes if e in elements)
    nodes = sorted(dataset_set) + [e for e in element_nodes if e not in dataset_set]
    index = {iri: i for i, iri in enumerate(nodes)}

    assessed = np.array([levels.get(iri, 0) for iri in nodes], dtype=np.int8)
    minimum = np.array([minimums.get(iri, 0) for iri in nodes], dtype=np.int8) if minimums else np.zeros_like(assessed)
    own = np.maximum(assessed, minimum)
    named = np.zeros(len(nodes), dtype=np.uint64)
    for iri, names_of in facts.named.items():
        if iri in index:
            named[index[iri]] = _mask(names_of, bits)
    flags = np.zeros(len(nodes), dtype=np.uint64)
    for iri, names_of in facts.flags.items():
        if iri in index:
            flags[index[iri]] = _mask(names_of, bits)
    flags |= named  # what an element's name denotes flows like what is stated of it

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
    return LineageModel(
        nodes=nodes, index=index, graph=graph, bits=bits, assessed=assessed, minimum=minimum, named=named
    )


def _mask(names: Iterable[str], bits: Mapping[str, int]) -> int:
    m = 0
    for n in names:
        if n in bits:
            m |= 1 << bits[n]
    return m
