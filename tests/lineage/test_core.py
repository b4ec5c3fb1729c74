"""kg.lineage.core: propagation against an independent reference, witness paths, cycles, caps,
flags; and incremental updates equal a full run (hypothesis, random graphs with cycles,
multi-paths and approvals)."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kg.lineage import NO_CAP, LineageGraph, LineageIndex, propagate

ALL = 0xFFFFFFFFFFFFFFFF


def reference(own: list[int], edges: list[tuple[int, int, int, int]], flags: list[int]) -> tuple[list[int], list[int]]:
    """Effective levels and flags by the definition, over networkx's condensation."""
    g = nx.DiGraph()
    g.add_nodes_from(range(len(own)))
    g.add_edges_from((s, d) for s, d, _, _ in edges)
    cond = nx.condensation(g)
    eff, fl = list(own), list(flags)
    for c in nx.topological_sort(cond):
        members = cond.nodes[c]["members"]
        incoming = [(s, cap, keep) for s, d, cap, keep in edges if d in members and s not in members]
        level = max([own[x] for x in members] + [min(eff[s], cap) for s, cap, _ in incoming])
        f = 0
        for x in members:
            f |= flags[x]
        for s, _, keep in incoming:
            f |= fl[s] & keep
        for x in members:
            eff[x], fl[x] = level, f
    return eff, fl


@st.composite
def graphs(
    draw: st.DrawFn, max_nodes: int = 14, dag: bool = False
) -> tuple[list[int], list[tuple[int, int, int, int]], list[int]]:
    """Random lineage graphs: dense ones full of cycles, or (``dag``) sparse mostly acyclic ones
    whose edges run from lower to higher node numbers, with multi-paths and caps."""
    n = draw(st.integers(1, max_nodes))
    own = draw(st.lists(st.integers(0, 6), min_size=n, max_size=n))
    flags = draw(st.lists(st.sampled_from([0, 1, 2, 4, 5]), min_size=n, max_size=n))
    edges = draw(
        st.lists(
            st.tuples(
                st.integers(0, n - 1),
                st.integers(0, n - 1),
                st.sampled_from([NO_CAP, NO_CAP, 2, 3]),
                st.sampled_from([ALL, ALL, ~1 & ALL]),
            ),
            max_size=2 * n if dag else 3 * n,
        )
    )
    if dag:
        edges = [(min(s, d), max(s, d), cap, keep) for s, d, cap, keep in edges if s != d]
    return own, edges, flags


def build(own: list[int], edges: list[tuple[int, int, int, int]], flags: list[int]) -> LineageGraph:
    return LineageGraph(
        own=own,
        src=[e[0] for e in edges],
        dst=[e[1] for e in edges],
        cap=[e[2] for e in edges],
        flags=np.array(flags, dtype=np.uint64),
        keep=np.array([e[3] for e in edges], dtype=np.uint64),
    )


def check_witnesses(idx: LineageIndex) -> None:
    r = idx.result
    assert r is not None
    g = idx.g
    for x in range(g.n):
        if r.inherited[x] == 0 or r.component[x] >= 0:
            continue
        path = idx.witness(x)
        assert path, x
        assert int(g.dst[path[-1]]) == x and int(g.src[path[0]]) == int(r.origin[x])
        assert len(path) == int(r.hops[x])
        for a, b in itertools.pairwise(path):
            assert int(g.dst[a]) == int(g.src[b])
        o = int(r.origin[x])
        if any(r.component[int(g.src[e])] >= 0 for e in path):
            continue  # a cycle's members share its level whatever caps lie inside it
        # what the origin passes along the path is what x inherits
        assert min([int(r.effective[o])] + [int(g.cap[e]) for e in path]) == int(r.inherited[x])
        # and the origin is where it is set: its own level, or the cap on the way out of it
        assert int(g.own[o]) >= int(r.inherited[x]) or int(g.cap[path[0]]) == int(r.inherited[x])


@settings(max_examples=300, deadline=None)
@given(graphs())
def test_full_propagation_matches_the_definition(
    data: tuple[list[int], list[tuple[int, int, int, int]], list[int]],
) -> None:
    own, edges, flags = data
    idx = LineageIndex(build(own, edges, flags))
    r = idx.propagate()
    eff, fl = reference(own, edges, flags)
    assert r.effective.tolist() == eff
    assert r.flags.tolist() == fl
    check_witnesses(idx)


edit = st.one_of(
    st.tuples(st.just("own"), st.integers(0, 40), st.integers(0, 6)),
    st.tuples(st.just("add"), st.integers(0, 40), st.integers(0, 40), st.sampled_from([NO_CAP, 2, 3])),
    st.tuples(st.just("remove"), st.integers(0, 100)),
    st.tuples(st.just("node"), st.integers(0, 6)),
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(graphs(), graphs(max_nodes=30, dag=True)), st.lists(edit, min_size=1, max_size=6))
def test_incremental_updates_equal_a_full_run(
    data: tuple[list[int], list[tuple[int, int, int, int]], list[int]], edits: list[tuple[int | str, ...]]
) -> None:
    """Edits on dense cyclic graphs, and on sparse DAGs where most added edges keep the graph
    acyclic (the pruned, order-keeping path) and some close a cycle (the full re-run)."""
    own, edges, flags = data
    idx = LineageIndex(build(own, edges, flags))
    idx.propagate()
    for e in edits:
        n = idx.n
        if e[0] == "own":
            x = int(e[1]) % n
            idx.g.own[x] = int(e[2])
            idx.update([x])
        elif e[0] == "add":
            s, d = int(e[1]) % n, int(e[2]) % n
            idx.add_edge(s, d, int(e[3]))
            idx.update([d])
        elif e[0] == "remove":
            live = np.flatnonzero(idx.alive)
            if live.size:
                victim = int(live[int(e[1]) % live.size])
                idx.remove_edge(victim)
                idx.update([int(idx.g.dst[victim])])
        else:
            idx.add_node(int(e[1]))
    r = idx.result
    assert r is not None
    live = idx.alive
    fresh = LineageIndex(
        LineageGraph(
            own=idx.g.own.copy(),
            src=idx.g.src[live],
            dst=idx.g.dst[live],
            cap=idx.g.cap[live],
            flags=idx.g.flags.copy(),
            keep=idx.g.keep[live],
        )
    )  # type: ignore[union-attr, index]
    f = fresh.propagate()
    assert r.effective.tolist() == f.effective.tolist()
    assert r.flags.tolist() == f.flags.tolist()
    assert r.component.tolist() == f.component.tolist()
    acyclic = f.component < 0
    assert r.inherited[acyclic].tolist() == f.inherited[acyclic].tolist()
    assert r.origin[acyclic].tolist() == f.origin[acyclic].tolist()
    assert r.hops[acyclic].tolist() == f.hops[acyclic].tolist()
    check_witnesses(idx)


CAP3 = 3


@pytest.mark.parametrize(
    ("name", "own", "edges", "effective", "inherited", "origin"),
    [
        ("passes the highest", [4, 2, 0], [(0, 2, NO_CAP), (1, 2, NO_CAP)], [4, 2, 4], [0, 0, 4], [-1, -1, 0]),
        ("an approved cap lowers", [4, 0], [(0, 1, CAP3)], [4, 3], [0, 3], [-1, 0]),
        ("own level above inherited", [2, 4], [(0, 1, NO_CAP)], [2, 4], [0, 2], [-1, 0]),
        (
            "a chain keeps the origin",
            [4, 0, 0, 0],
            [(0, 1, NO_CAP), (1, 2, NO_CAP), (2, 3, NO_CAP)],
            [4, 4, 4, 4],
            [0, 4, 4, 4],
            [-1, 0, 0, 0],
        ),
        (
            "another path survives a cap",
            [4, 0, 0],
            [(0, 1, CAP3), (0, 2, NO_CAP), (2, 1, NO_CAP)],
            [4, 4, 4],
            [0, 4, 4],
            [-1, 0, 0],
        ),
        (
            "a cycle shares one level",
            [0, 3, 0, 1],
            [(0, 1, NO_CAP), (1, 2, NO_CAP), (2, 1, NO_CAP), (3, 2, NO_CAP)],
            [0, 3, 3, 1],
            None,
            None,
        ),
        ("nothing known", [0, 0], [(0, 1, NO_CAP)], [0, 0], [0, 0], [-1, -1]),
    ],
)
def test_cases(
    name: str,
    own: list[int],
    edges: list[tuple[int, int, int]],
    effective: list[int],
    inherited: list[int] | None,
    origin: list[int] | None,
) -> None:
    r = propagate(
        LineageGraph(own=own, src=[e[0] for e in edges], dst=[e[1] for e in edges], cap=[e[2] for e in edges])
    )
    assert r.effective.tolist() == effective
    if inherited is not None:
        assert r.inherited.tolist() == inherited
    if origin is not None:
        assert r.origin.tolist() == origin


def test_multi_path_level_survives_a_removal() -> None:
    # 0 (level 4) reaches 3 through 1 and through 2; removing one path keeps the level
    idx = LineageIndex(LineageGraph(own=[4, 0, 0, 0], src=[0, 0, 1, 2], dst=[1, 2, 3, 3], cap=[NO_CAP] * 4))
    idx.propagate()
    idx.remove_edge(2)
    changed = idx.update([3])
    assert idx.result is not None and int(idx.result.effective[3]) == 4
    assert 3 in changed  # the witness hop moved to the other path
    assert idx.witness(3) == [1, 3]
    idx.remove_edge(3)
    idx.update([3])
    assert int(idx.result.effective[3]) == 0


def test_anonymisation_clears_personal_flags() -> None:
    pi, cat = 1, 2
    r = propagate(
        LineageGraph(
            own=[4, 0, 0],
            src=[0, 0],
            dst=[1, 2],
            cap=[2, NO_CAP],
            flags=np.array([pi | cat, 0, 0], dtype=np.uint64),
            keep=np.array([ALL & ~pi, ALL], dtype=np.uint64),
        )
    )
    assert r.flags.tolist() == [pi | cat, cat, pi | cat]


def test_the_witness_is_the_shortest_path_that_carries_the_level() -> None:
    """0 (rank 4) reaches 4 through 1-2-3 and directly through 5: the short path explains it."""
    own = [4, 0, 0, 0, 0, 0]
    edges = [
        (0, 1, NO_CAP, ALL),
        (1, 2, NO_CAP, ALL),
        (2, 3, NO_CAP, ALL),
        (3, 4, NO_CAP, ALL),
        (0, 5, NO_CAP, ALL),
        (5, 4, NO_CAP, ALL),
    ]
    idx = LineageIndex(build(own, edges, [0] * 6))
    r = idx.propagate()
    assert int(r.origin[4]) == 0 and int(r.hops[4]) == 2
    assert [int(idx.g.src[e]) for e in idx.witness(4)] == [0, 5]
