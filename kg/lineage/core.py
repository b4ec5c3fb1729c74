"""The highest level flows downstream: propagation over a derivation graph (numpy, no rdflib).

Nodes carry their own rank (0: none); an edge ``src -> dst`` (dst derived from src) passes
``min(effective[src], cap)``, where ``cap`` is the cap of an approved level-reducing
transformation and :data:`NO_CAP` otherwise. Then

    inherited[x] = max over in-edges of what they pass        (0 when nothing arrives)
    effective[x] = max(own[x], inherited[x])                 (R7, R8, R11)

Every node with an inherited level has a witness hop ``via[x]`` (the in-edge that passes the
maximum) and an ``origin[x]``: the node whose own level, or a cap on the way out of it, sets
the inherited level. Following ``via`` from x back to its origin gives the witness path.
Members of a derivation cycle share one level (their strongly connected component's
maximum), so cycles terminate; ``component[x]`` names the cycle x is in (-1: none).

Flags (categories, personal information) flow by union as bit masks; an edge passes
``flags & keep[edge]`` (an approved anonymisation clears what it removes).

The acyclic bulk of a graph is processed layer by layer with numpy; nodes in or below a cycle
go through one pure-Python routine, :meth:`LineageIndex.recompute`. An incremental update
(:meth:`LineageIndex.update`) walks down from what changed in topological order and stops
wherever a result stays the same, so its cost is the part of the graph whose results change,
not the size of the graph; the topological order is kept up to date as edges are added.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

NO_CAP = 127
ALL_FLAGS = np.uint64(0xFFFFFFFFFFFFFFFF)

I8 = npt.NDArray[np.int8]
I32 = npt.NDArray[np.int32]
U64 = npt.NDArray[np.uint64]


@dataclass
class LineageGraph:
    """Nodes and derivation edges as arrays."""

    own: I8  # per node: own (assessed) rank, 0 = none
    src: I32  # per edge: the source
    dst: I32  # per edge: the derived node
    cap: I8  # per edge: cap rank, NO_CAP = passes everything
    flags: U64 | None = None  # per node: own category / personal-information bits
    keep: U64 | None = None  # per edge: the flag bits it passes

    def __post_init__(self) -> None:
        self.own = np.asarray(self.own, dtype=np.int8)
        self.src = np.asarray(self.src, dtype=np.int32)
        self.dst = np.asarray(self.dst, dtype=np.int32)
        self.cap = np.asarray(self.cap, dtype=np.int8)
        if self.flags is None:
            self.flags = np.zeros(len(self.own), dtype=np.uint64)
        if self.keep is None:
            self.keep = np.full(len(self.src), ALL_FLAGS, dtype=np.uint64)
        self.flags = np.asarray(self.flags, dtype=np.uint64)
        self.keep = np.asarray(self.keep, dtype=np.uint64)

    @property
    def n(self) -> int:
        return len(self.own)


@dataclass
class Propagation:
    """Per node: effective and inherited rank, witness hop (edge), origin (node), cycle, flags."""

    effective: I8
    inherited: I8
    via: I32
    origin: I32
    component: I32
    flags: U64  # own | inherited flags
    hops: I32  # length of the witness path (0: no inherited level, or the node's own sets it)
    changed: list[int] = field(default_factory=list)  # nodes an update changed
    previous: dict[int, int] = field(default_factory=dict)  # their effective rank before it


def _gather(ptr: I32, index: I32, nodes: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """The edge ids of ``nodes`` in a CSR (``ptr``, ``index``), concatenated."""
    starts, ends = ptr[nodes], ptr[nodes + 1]
    counts = ends - starts
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - np.cumsum(counts) + counts, counts)
    gathered: npt.NDArray[np.int64] = index[np.arange(total, dtype=np.int64) + offsets].astype(np.int64, copy=False)
    return gathered


class LineageIndex:
    """A lineage graph kept in memory with its propagation, updatable edge by edge.

    Edges are array rows; removed edges are masked out, added ones go to small overlays, so
    an update costs what it touches, not the size of the graph.
    """

    def __init__(self, graph: LineageGraph) -> None:
        self.g = graph
        n = graph.n
        self.alive = np.ones(len(graph.src), dtype=bool)
        out_order = np.argsort(graph.src, kind="stable").astype(np.int32)
        in_order = np.argsort(graph.dst, kind="stable").astype(np.int32)
        self.out_ptr = np.concatenate([[0], np.cumsum(np.bincount(graph.src, minlength=n))]).astype(np.int32)
        self.in_ptr = np.concatenate([[0], np.cumsum(np.bincount(graph.dst, minlength=n))]).astype(np.int32)
        self.out_index, self.in_index = out_order, in_order
        self.extra_out: dict[int, list[int]] = {}
        self.extra_in: dict[int, list[int]] = {}
        self.result: Propagation | None = None
        # a topological order: sources before what derives from them, one value per cycle
        self.order = np.zeros(n, dtype=np.int64)
        self._stale = False  # an added edge closed a cycle: the next update runs in full

    # --- structure -----------------------------------------------------------------------------
    @property
    def n(self) -> int:
        return self.g.n

    def in_edges(self, node: int) -> Iterator[int]:
        for e in self.in_index[self.in_ptr[node] : self.in_ptr[node + 1]]:
            if self.alive[e]:
                yield int(e)
        for e in self.extra_in.get(node, ()):
            if self.alive[e]:
                yield e

    def out_edges(self, node: int) -> Iterator[int]:
        for e in self.out_index[self.out_ptr[node] : self.out_ptr[node + 1]]:
            if self.alive[e]:
                yield int(e)
        for e in self.extra_out.get(node, ()):
            if self.alive[e]:
                yield e

    def add_node(self, own: int = 0, flags: int = 0) -> int:
        g = self.g
        g.own = np.append(g.own, np.int8(own))
        g.flags = np.append(g.flags, np.uint64(flags))  # type: ignore[arg-type]
        self.out_ptr = np.append(self.out_ptr, self.out_ptr[-1])
        self.in_ptr = np.append(self.in_ptr, self.in_ptr[-1])
        self.order = np.append(self.order, np.int64(0))
        if self.result is not None:
            r = self.result
            r.effective = np.append(r.effective, np.int8(own))
            r.inherited = np.append(r.inherited, np.int8(0))
            r.via = np.append(r.via, np.int32(-1))
            r.origin = np.append(r.origin, np.int32(-1))
            r.component = np.append(r.component, np.int32(-1))
            r.hops = np.append(r.hops, np.int32(0))
            r.flags = np.append(r.flags, np.uint64(flags))
        return self.n - 1

    def add_edge(self, src: int, dst: int, cap: int = NO_CAP, keep: int | np.uint64 = ALL_FLAGS) -> int:
        g = self.g
        e = len(g.src)
        g.src = np.append(g.src, np.int32(src))
        g.dst = np.append(g.dst, np.int32(dst))
        g.cap = np.append(g.cap, np.int8(cap))
        g.keep = np.append(g.keep, np.uint64(keep))  # type: ignore[arg-type]
        self.alive = np.append(self.alive, True)
        self.extra_out.setdefault(src, []).append(e)
        self.extra_in.setdefault(dst, []).append(e)
        if self.result is not None and not self._stale and not self._reorder(src, dst):
            self._stale = True
        return e

    def _members(self, node: int) -> list[int]:
        """The cycle ``node`` is in (as last computed), or just the node."""
        assert self.result is not None
        cid = int(self.result.component[node])
        return np.flatnonzero(self.result.component == cid).tolist() if cid >= 0 else [node]

    def _reorder(self, src: int, dst: int) -> bool:
        """Keep the order topological after adding ``src -> dst``: raise ``dst`` and what derives
        from it above ``src``. False when the edge closes a cycle (then nothing is reordered
        reliably and the next update is a full run)."""
        order = self.order
        if order[dst] > order[src]:
            return True
        stack = [(dst, int(order[src]) + 1)]
        while stack:
            u, k = stack.pop()
            if order[u] >= k:
                continue
            group = self._members(u)
            if src in group:
                return False
            order[group] = k
            inside = set(group)
            stack.extend(
                (d, k + 1) for m in group for e in self.out_edges(m) if (d := int(self.g.dst[e])) not in inside
            )
        return True

    def remove_edge(self, e: int) -> None:
        self.alive[e] = False

    def find_edges(self, src: int, dst: int) -> list[int]:
        return [e for e in self.in_edges(dst) if int(self.g.src[e]) == src]

    def descendants(self, nodes: Iterable[int]) -> set[int]:
        """``nodes`` and everything derived from them."""
        seen = set(nodes)
        stack = list(seen)
        while stack:
            node = stack.pop()
            for e in self.out_edges(node):
                d = int(self.g.dst[e])
                if d not in seen:
                    seen.add(d)
                    stack.append(d)
        return seen

    # --- full propagation -----------------------------------------------------------------------
    def propagate(self) -> Propagation:
        """Propagate over the whole graph: numpy over the acyclic layers, then the rest."""
        g, n = self.g, self.g.n
        own = g.own
        assert g.flags is not None and g.keep is not None
        r = Propagation(
            effective=own.copy(),
            inherited=np.zeros(n, dtype=np.int8),
            via=np.full(n, -1, dtype=np.int32),
            origin=np.full(n, -1, dtype=np.int32),
            component=np.full(n, -1, dtype=np.int32),
            flags=g.flags.copy(),
            hops=np.zeros(n, dtype=np.int32),
        )
        self.result = r
        dst = g.dst
        live = np.flatnonzero(self.alive).astype(np.int64)
        indeg = np.bincount(dst[live], minlength=n).astype(np.int64)
        frontier = np.flatnonzero(indeg == 0)
        done = np.zeros(n, dtype=bool)
        self.order = np.zeros(n, dtype=np.int64)
        self._stale = False
        layer = 0
        while frontier.size:
            done[frontier] = True
            self.order[frontier] = layer
            layer += 1
            out = _gather(self.out_ptr, self.out_index, frontier)
            out = out[self.alive[out]]
            if out.size == 0:
                break
            targets = dst[out]
            uniq, counts = np.unique(targets, return_counts=True)
            indeg[uniq] -= counts
            ready = uniq[indeg[uniq] == 0]
            if ready.size:
                self._layer(ready)
            frontier = ready
        rest = np.flatnonzero(~done)
        if rest.size:
            self.recompute(rest.tolist(), order_base=layer)
        return r

    def _layer(self, nodes: npt.NDArray[np.int64]) -> None:
        """Compute ``nodes``, whose sources are all final, from their in-edges (vectorised)."""
        g, r = self.g, self.result
        assert r is not None and g.keep is not None
        edges = _gather(self.in_ptr, self.in_index, nodes)
        extra = [e for x in nodes.tolist() for e in self.extra_in.get(x, ())]
        if extra:
            edges = np.concatenate([edges, np.asarray(extra, dtype=np.int64)])
        edges = edges[self.alive[edges]]
        if edges.size == 0:
            return
        s, d = g.src[edges], g.dst[edges]
        passed = np.minimum(r.effective[s], g.cap[edges])
        # a source is the origin itself when a cap on the way out of it, or its own level, sets
        # what it passes; otherwise the witness continues through it
        sets = (g.cap[edges] < r.effective[s]) | (g.own[s] >= passed)
        hops = np.where(sets, 1, r.hops[s] + 1).astype(np.int32)
        # the witness: highest passed, then an uncapped edge, then the shortest path, then the lowest source
        order = np.lexsort((s, hops, g.cap[edges] != NO_CAP, -passed.astype(np.int16), d))
        d_sorted = d[order]
        first = np.ones(len(order), dtype=bool)
        first[1:] = d_sorted[1:] != d_sorted[:-1]
        best = edges[order[first]]
        targets = g.dst[best]
        value = np.minimum(r.effective[g.src[best]], g.cap[best])
        arrives = value > 0  # nothing arrives from sources without any level
        r.inherited[targets] = value
        r.via[targets] = np.where(arrives, best, -1).astype(np.int32)
        r.effective[targets] = np.maximum(g.own[targets], value)
        bs = g.src[best]
        capped = g.cap[best] < r.effective[bs]
        by_own = g.own[bs] >= value
        r.origin[targets] = np.where(arrives, np.where(capped | by_own, bs, r.origin[bs]), -1)
        r.hops[targets] = np.where(arrives, hops[order[first]], 0)
        inherited_flags = np.zeros(len(edges), dtype=np.uint64)
        np.bitwise_and(r.flags[s], g.keep[edges], out=inherited_flags)
        np.bitwise_or.at(r.flags, d, inherited_flags)

    # --- the general routine -------------------------------------------------------------------
    def recompute(self, nodes: Iterable[int], order_base: int | None = None) -> list[int]:
        """Recompute ``nodes`` from their in-edges, everything else held fixed: components of the
        subgraph they induce (cycles among them) in topological order (numbered from
        ``order_base`` into :attr:`order` when given). Returns the nodes whose effective or
        inherited level, origin or flags changed."""
        g, r = self.g, self.result
        assert r is not None and g.flags is not None and g.keep is not None
        todo = set(int(x) for x in nodes)

        def state(x: int) -> tuple[int, ...]:
            return (
                int(r.effective[x]),
                int(r.inherited[x]),
                int(r.origin[x]),
                int(r.flags[x]),
                int(r.component[x]),
                int(r.via[x]),
                int(r.hops[x]),
            )

        before = {x: state(x) for x in todo}
        for position, comp in enumerate(_components(todo, lambda x: (int(g.dst[e]) for e in self.out_edges(x)))):
            if order_base is not None:
                self.order[comp] = order_base + position
            members = set(comp)
            cyclic = len(comp) > 1 or any(int(g.dst[e]) == comp[0] for e in self.out_edges(comp[0]))
            external = [e for x in comp for e in self.in_edges(x) if int(g.src[e]) not in members]
            flags = 0
            best_e, best_v, best_key = -1, 0, None
            for e in external:
                s = int(g.src[e])
                v = min(int(r.effective[s]), int(g.cap[e]))
                flags |= int(r.flags[s]) & int(g.keep[e])
                key = (v, g.cap[e] == NO_CAP, -self._hops_via(e, v), -s)  # as in _layer
                if best_key is None or key > best_key:
                    best_e, best_v, best_key = e, v, key
            own_max = max(int(g.own[x]) for x in comp)
            level = max(own_max, best_v)
            for x in comp:
                flags |= int(g.flags[x])
            if not cyclic:
                x = comp[0]
                r.effective[x], r.inherited[x] = level, best_v
                r.via[x] = best_e
                r.component[x] = -1
                if best_e >= 0 and best_v > 0:
                    s = int(g.src[best_e])
                    r.origin[x] = (
                        s if (int(g.cap[best_e]) < int(r.effective[s]) or int(g.own[s]) >= best_v) else int(r.origin[s])
                    )
                    r.hops[x] = self._hops_via(best_e, best_v)
                else:
                    r.origin[x] = r.via[x] = -1
                    r.hops[x] = 0
                r.flags[x] = flags
            else:
                self._cycle(comp, members, level, own_max, best_e, best_v, flags)
        changed = [x for x in sorted(todo) if state(x) != before[x]]
        r.changed = changed
        return changed

    def _hops_via(self, e: int, passed: int) -> int:
        """The witness length through edge ``e`` passing ``passed``: 1 when its source is the
        origin (a cap out of it, or its own level, sets what it passes), else one more than the
        source's."""
        g, r = self.g, self.result
        assert r is not None
        s = int(g.src[e])
        sets = int(g.cap[e]) < int(r.effective[s]) or int(g.own[s]) >= passed
        return 1 if sets else int(r.hops[s]) + 1

    def _cycle(
        self, comp: list[int], members: set[int], level: int, own_max: int, best_e: int, best_v: int, flags: int
    ) -> None:
        """Members of a cycle share one level; witness hops form a tree inside the cycle."""
        g, r = self.g, self.result
        assert r is not None
        cid = min(comp)
        if best_v >= own_max and best_e >= 0 and best_v > 0:  # the level arrives from outside
            s = int(g.src[best_e])
            origin = s if (int(g.cap[best_e]) < int(r.effective[s]) or int(g.own[s]) >= best_v) else int(r.origin[s])
            start, start_via = int(g.dst[best_e]), best_e
            start_hops = self._hops_via(best_e, best_v)
        else:  # a member's own level sets it
            start = min(x for x in comp if int(g.own[x]) == own_max)
            origin, start_via, start_hops = start, -1, 0
        for x in comp:
            r.effective[x] = level
            r.component[x] = cid
            r.flags[x] = flags
            r.origin[x] = origin
        r.via[start] = start_via
        r.hops[start] = start_hops
        r.inherited[start] = best_v if start_via >= 0 else 0
        if start_via < 0:
            r.origin[start] = -1
        seen, queue = {start}, [start]
        while queue:  # breadth first from the start along internal edges
            x = queue.pop(0)
            for e in self.out_edges(x):
                d = int(g.dst[e])
                if d in members and d not in seen:
                    seen.add(d)
                    queue.append(d)
                    r.via[d] = e
                    r.hops[d] = int(r.hops[x]) + 1
                    r.inherited[d] = min(level, int(g.cap[e]))

    def update(self, changed: Iterable[int]) -> list[int]:
        """After changing the own levels, flags or in-edges of ``changed`` nodes: recompute them,
        then, in topological order, whatever derives from a node whose result changed. Returns
        the nodes whose results changed (their old effective ranks in ``result.previous``)."""
        r = self.result
        assert r is not None
        if self._stale:
            return self._rerun()
        start = set(changed)
        heap = [(int(self.order[x]), x) for x in start]
        heapq.heapify(heap)
        queued = set(start)
        previous: dict[int, int] = {}
        done: list[int] = []
        while heap:
            _, x = heapq.heappop(heap)
            if x not in queued:
                continue
            group = self._members(x)
            queued.difference_update(group)
            for m in group:
                previous.setdefault(m, int(r.effective[m]))
            inside = set(group)
            recomputed = self.recompute(group)
            done += recomputed
            # a changed own level can matter below even when the node's result stays (origins)
            for m in set(recomputed) | (start & inside):
                for e in self.out_edges(m):
                    d = int(self.g.dst[e])
                    if d not in inside and d not in queued:
                        queued.add(d)
                        heapq.heappush(heap, (int(self.order[d]), d))
        changed_nodes = sorted(set(done))
        r.changed = changed_nodes
        r.previous = {x: previous[x] for x in changed_nodes}
        return changed_nodes

    def _rerun(self) -> list[int]:
        """A full propagation, reporting what changed: after an edge closed a cycle."""
        old = self.result
        assert old is not None
        new = self.propagate()
        differs = (
            (old.effective != new.effective)
            | (old.inherited != new.inherited)
            | (old.origin != new.origin)
            | (old.via != new.via)
            | (old.component != new.component)
            | (old.flags != new.flags)
            | (old.hops != new.hops)
        )
        changed_nodes = np.flatnonzero(differs).tolist()
        new.changed = changed_nodes
        new.previous = {x: int(old.effective[x]) for x in changed_nodes}
        return changed_nodes

    def witness(self, node: int) -> list[int]:
        """The edges from the origin of ``node``'s inherited level to ``node`` (origin first)."""
        r = self.result
        assert r is not None
        path: list[int] = []
        origin = int(r.origin[node])
        x, seen = node, set()
        while origin >= 0 and x != origin and int(r.via[x]) >= 0 and x not in seen:
            seen.add(x)
            e = int(r.via[x])
            path.append(e)
            x = int(self.g.src[e])
        return path[::-1]


def _components(nodes: set[int], successors: object) -> list[list[int]]:
    """Strongly connected components of the subgraph induced by ``nodes``, in topological order
    (sources first): Tarjan's algorithm, iterative."""
    succ = successors  # callable: node -> iterable of successors
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    out: list[list[int]] = []
    counter = 0
    for root in sorted(nodes):
        if root in index:
            continue
        work = [(root, iter([s for s in succ(root) if s in nodes]))]  # type: ignore[operator]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter([s for s in succ(w) if s in nodes])))  # type: ignore[operator]
                    advanced = True
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append(sorted(comp))
    return out[::-1]  # Tarjan emits sinks first


def propagate(graph: LineageGraph) -> Propagation:
    """Propagate levels over a whole graph (see the module docstring)."""
    return LineageIndex(graph).propagate()
