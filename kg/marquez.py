"""Marquez-shaped lineage answers, read from the store (served by :mod:`api.marquez` at
``GET /api/v1/lineage`` and ``GET /api/v1/column-lineage``).

The answers follow Marquez's OpenAPI (``spec/openapi.yml``, pinned in
``tests/data/marquez/openapi.yml``, which the tests validate every answer against): a
``LineageGraph`` of ``GraphNode``\\ s whose ``data`` is a ``Dataset`` or a ``Job``. Where
Marquez's server and its spec differ, the spec wins:

- ``data.type`` is ``DATASET`` or ``JOB``: the spec's discriminator maps those values to the
  ``Dataset`` and ``Job`` schemas (Marquez's server sends ``DB_TABLE`` / ``BATCH``, which no
  mapping names).
- Column-lineage nodes (ids ``datasetField:NS:NAME:FIELD``) have node type ``DATASET`` (the
  spec's ``NodeType`` has no ``DATASET_FIELD``); their ``data`` is a ``Dataset`` carrying Marquez's
  column-lineage keys too (``dataset``, ``field``, ``fieldType``, ``inputFields`` with
  ``transformationDescription``/``transformationType``), as the schema allows more properties.
  Edges are drawn as Marquez's ``ColumnLineageService`` draws them: a field's ``inEdges`` go
  from the field to each of its inputs.

medgrade's own knowledge (asset id, levels, category, transformation types) travels in one
extra key, ``medgrade``, which the ``Dataset`` and ``Job`` schemas allow. Node ids are parsed
the way Marquez's ``NodeId`` parses them (a ':' followed by ``//`` or a digit belongs to a URI).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rdflib import Literal

from kg.errors import InputError, NotFoundError
from kg.ids import ID_PATTERN
from kg.importers.openlineage import dataset_id
from kg.namespaces import MG, PROV, RDF, RDFS
from kg.service import Service
from kg.store import Graphs, sparql_term

FORMS = {
    "dataset": "dataset:NAMESPACE:NAME",
    "job": "job:NAMESPACE:NAME",
    "datasetField": "datasetField:NAMESPACE:NAME:FIELD",
}
_PARTS = {"dataset": 3, "job": 3, "datasetField": 4}
_SPLIT = re.compile(r"[:#]")
_NOT_IN_URI = re.compile(r":(?!//|\d)")  # Marquez: skip the ':' of scheme:// and of host:port
_INV, _INF = Graphs.INVENTORY, Graphs.INFERRED
_TYPE, _LABEL, _ELEMENT = str(RDF.type), str(RDFS.label), str(MG.hasElement)
_DERIVED, _GENERATED, _USED = str(PROV.wasDerivedFrom), str(PROV.wasGeneratedBy), str(PROV.used)
_QUALIFIED, _ENTITY, _HAD_ACTIVITY = str(PROV.qualifiedDerivation), str(PROV.entity), str(PROV.hadActivity)
_STARTED, _ENDED = str(PROV.startedAtTime), str(PROV.endedAtTime)


@dataclass(frozen=True, slots=True)
class NodeId:
    """A Marquez node id: ``dataset:NS:NAME``, ``job:NS:NAME`` or ``datasetField:NS:NAME:FIELD``."""

    kind: str
    namespace: str
    name: str
    field: str = ""

    @classmethod
    def parse(cls, value: str, accepted: tuple[str, ...]) -> NodeId:
        """Split as Marquez's ``NodeId.parts`` does; :class:`InputError` naming ``accepted``."""
        kind = value.split(":", 1)[0]
        parts = _marquez_parts(value, _PARTS[kind]) if kind in accepted and "#" not in value else None
        if not parts or not all(parts[1:]):
            forms = " | ".join(FORMS[k] for k in accepted)
            raise InputError(
                f"nodeId must be {forms} (no '#version'), not '{value}'",
                f"nodeId 须为 {forms}（不含“#版本”），而非“{value}”",
            )
        return cls(kind, parts[1], parts[2], parts[3] if kind == "datasetField" else "")

    def __str__(self) -> str:
        return ":".join([self.kind, self.namespace, self.name] + ([self.field] if self.kind == "datasetField" else []))


def _marquez_parts(value: str, expected: int) -> list[str] | None:
    parts = _SPLIT.split(value)
    while parts and not parts[-1]:  # Java's String.split drops trailing empty strings
        parts.pop()
    if len(parts) <= expected:
        return parts if len(parts) == expected else None
    out, start = [], 0
    matches = _NOT_IN_URI.finditer(value)
    for _ in range(expected - 1):
        m = next(matches, None)
        if m is None:
            return None
        out.append(value[start : m.start()])
        start = m.end()
    return [*out, value[start:]]


def _time(text: str) -> str | None:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _prune(data: dict[str, Any]) -> dict[str, Any]:
    """The spec's strings are not nullable: an unknown value is left out, as Marquez does."""
    return {k: v for k, v in data.items() if v is not None}


class MarquezReader:
    """Marquez-shaped answers from the store; point lookups in the inventory, each made once per
    answer (one reader per request)."""

    def __init__(self, svc: Service, own: str) -> None:
        self.svc, self.own, self.onto, self.ids = svc, own, svc.ontology, svc.ids
        self._about: dict[tuple[str, str], dict[str, list[str]]] = {}
        self._jobs: dict[str, dict[str, list[tuple[str, str]]]] = {}

    def about(self, iri: str, graph: Any = _INV) -> dict[str, list[str]]:
        key = (iri, str(graph))
        if key not in self._about:
            props: dict[str, list[str]] = {}
            for p, o in self.svc.store.about(iri, graph):
                props.setdefault(p, []).append(o)
            self._about[key] = props
        return self._about[key]

    def first(self, iri: str, p: str, graph: Any = _INV) -> str | None:
        values = self.about(iri, graph).get(p)
        return min(values) if values else None

    # --- datasets and fields -------------------------------------------------------------------
    def dataset_key(self, iri: str) -> tuple[str, str]:
        ns, name = self.first(iri, str(MG.openLineageNamespace)), self.first(iri, str(MG.openLineageName))
        return (ns, name) if ns and name else (self.own, self.ids.local_id(iri) or iri)

    def dataset_iri(self, namespace: str, name: str) -> str:
        iri = str(self.ids.asset(dataset_id(namespace, name, self.own)))
        if str(MG.DataAsset) not in self.about(iri).get(_TYPE, []):
            raise NotFoundError(f"no dataset {namespace}:{name}", f"没有数据集 {namespace}:{name}")
        return iri

    def field_iri(self, node: NodeId) -> str:
        iri = str(self.ids.element(dataset_id(node.namespace, node.name, self.own), node.field))
        if str(MG.DataElement) not in self.about(iri).get(_TYPE, []):
            raise NotFoundError(
                f"no field {node.field} in dataset {node.namespace}:{node.name}",
                f"数据集 {node.namespace}:{node.name} 中没有字段 {node.field}",
            )
        return iri

    def _ref(self, index: Any, iri: str | None) -> dict[str, Any] | None:
        term = index.get(iri or "")
        return term.ref() if term else None

    def dataset_data(self, iri: str) -> dict[str, Any]:
        ns, name = self.dataset_key(iri)
        label = self.first(iri, _LABEL)
        ends = [t for act in self.about(iri).get(_GENERATED, []) for t in self.about(act).get(_ENDED, [])]
        fields = sorted(self.ids.element_name(e) for e in self.about(iri).get(_ELEMENT, []))
        effective = self.first(iri, str(MG.effectiveLevel), _INF) or self.first(iri, str(MG.assessedLevel))
        return _prune(
            {
                "id": {"namespace": ns, "name": name},
                "type": "DATASET",
                "name": name,
                "physicalName": name,
                "namespace": ns,
                "sourceName": ns,
                "fields": [{"name": f, "type": "", "tags": []} for f in fields],
                "tags": [],
                "lastModifiedAt": max(filter(None, map(_time, ends)), default=None),
                "description": label if label and label != name else None,
                "facets": {},
                "medgrade": {
                    "asset": self.ids.local_id(iri) or iri,
                    "iri": iri,
                    "effective": self._ref(self.onto.levels, effective),
                    "assessed": self._ref(self.onto.levels, self.first(iri, str(MG.assessedLevel))),
                    "category": self._ref(self.onto.categories, self.first(iri, str(MG.hasCategory))),
                },
            }
        )

    # --- jobs ----------------------------------------------------------------------------------
    def jobs_by_source(self, target: str) -> dict[str, list[tuple[str, str]]]:
        """For each source of ``target``, the jobs that made ``target`` from it: the OpenLineage
        job of each run that used it, else the asset's own activity, else ``derive/<target>``."""
        if target not in self._jobs:
            tid = self.ids.local_id(target) or target
            acts = sorted(self.about(target).get(_GENERATED, []))
            out: dict[str, list[tuple[str, str]]] = {}
            for source in sorted(self.about(target).get(_DERIVED, [])):
                keys = [self.job_key(a, tid) for a in acts if source in self.about(a).get(_USED, [])]
                out[source] = sorted(set(keys)) or [(self.own, f"derive/{tid}")]
            self._jobs[target] = out
        return self._jobs[target]

    def job_key(self, act: str, target_id: str) -> tuple[str, str]:
        ol = self.first(act, str(MG.openLineageJob))
        if ol:
            parts = _marquez_parts(f"job:{ol}", 3)
            return (parts[1], parts[2]) if parts else (ol.partition(":")[0], ol.partition(":")[2])
        return (self.own, target_id if act == str(self.ids.activity(target_id)) else act)

    def job(self, namespace: str, name: str) -> tuple[set[str], set[str], list[str]]:
        """A job's input and output datasets and its activities; :class:`NotFoundError`."""
        key = (namespace, name)
        lit = sparql_term(Literal(f"{namespace}:{name}"))
        acts = sorted(
            a
            for (a,) in self.svc.store.rows(
                f"SELECT ?a WHERE {{ GRAPH {sparql_term(_INV)} {{ ?a {sparql_term(MG.openLineageJob)} {lit} }} }}"
            )
            if a
        )
        if acts:
            inputs = {d for a in acts for d in self.about(a).get(_USED, [])}
            outputs = {s for a in acts for s, g in self.svc.store.referring(_GENERATED, a) if g == str(_INV)}
            return inputs, outputs, acts
        target_id = name.removeprefix("derive/")
        if namespace == self.own and ID_PATTERN.match(target_id):
            target = str(self.ids.asset(target_id))
            inputs = {s for s, keys in self.jobs_by_source(target).items() if key in keys}
            if inputs:
                return inputs, {target}, [] if name.startswith("derive/") else [str(self.ids.activity(target_id))]
        raise NotFoundError(f"no job {namespace}:{name}", f"没有作业 {namespace}:{name}")

    def job_data(self, key: tuple[str, str]) -> dict[str, Any]:
        inputs, outputs, acts = self.job(*key)
        times = sorted(
            filter(None, (_time(t) for a in acts for p in (_STARTED, _ENDED) for t in self.about(a).get(p, [])))
        )
        kinds = sorted({k for a in acts for k in self.about(a).get(str(MG.transformationType), [])})

        def ids(datasets: set[str]) -> list[dict[str, str]]:
            return [{"namespace": ns, "name": n} for ns, n in sorted({self.dataset_key(d) for d in datasets})]

        return _prune(
            {
                "id": {"namespace": key[0], "name": key[1]},
                "type": "JOB",
                "name": key[1],
                "simpleName": key[1],
                "namespace": key[0],
                "createdAt": times[0] if times else None,
                "updatedAt": times[-1] if times else None,
                "inputs": ids(inputs),
                "outputs": ids(outputs),
                "facets": {},
                "medgrade": {
                    "activities": acts,
                    "transformations": [r for k in kinds if (r := self._ref(self.onto.transformations, k))],
                },
            }
        )

    # --- graphs --------------------------------------------------------------------------------
    def lineage(self, node: NodeId, depth: int) -> list[dict[str, Any]]:
        """The dataset/job graph around a dataset or a job, ``depth`` jobs deep."""
        pairs: set[tuple[str, str]] = set()
        datasets: set[str] = set()
        if node.kind == "dataset":
            seeds = [self.dataset_iri(node.namespace, node.name)]
        else:
            inputs, outputs, _ = self.job(node.namespace, node.name)
            seeds = sorted(inputs | outputs)
            key = (node.namespace, node.name)
            pairs |= {(s, t) for t in outputs for s, keys in self.jobs_by_source(t).items() if key in keys}
        for seed in seeds:
            g = self.svc.lineage(seed, "both", depth)
            datasets |= {n["iri"] for n in g["nodes"]}
            pairs |= {(e["source"], e["target"]) for e in g["edges"]}
        datasets |= {d for pair in pairs for d in pair}
        nodes: dict[str, dict[str, Any]] = {}
        for d in datasets:
            ns, name = self.dataset_key(d)
            nodes[f"dataset:{ns}:{name}"] = _node(f"dataset:{ns}:{name}", "DATASET", self.dataset_data(d))
        for s, t in pairs:
            src, dst = (f"dataset:{ns}:{n}" for ns, n in (self.dataset_key(s), self.dataset_key(t)))
            for key in self.jobs_by_source(t).get(s, []):
                job = f"job:{key[0]}:{key[1]}"
                if job not in nodes:
                    nodes[job] = _node(job, "JOB", self.job_data(key))
                _link(nodes[src], nodes[job])
                _link(nodes[job], nodes[dst])
        return _sorted(nodes)

    def column_lineage(self, node: NodeId, depth: int, downstream: bool) -> list[dict[str, Any]]:
        """Field-to-field lineage around a field or every field of a dataset: upstream, and
        downstream too with ``downstream``; ``depth`` derivations deep (at least one, as Marquez)."""
        if node.kind == "datasetField":
            starts = [self.field_iri(node)]
        else:
            starts = sorted(self.about(self.dataset_iri(node.namespace, node.name)).get(_ELEMENT, []))
        pairs: set[tuple[str, str]] = set()  # (output field, input field)
        for direction in ("up", "down") if downstream else ("up",):
            seen, frontier = set(starts), list(starts)
            for _ in range(max(depth, 1)):
                step = []
                for x in frontier:
                    if direction == "up":
                        found = [(x, i) for i in self.about(x).get(_DERIVED, []) if "/element/" in i]
                    else:
                        found = [
                            (o, x)
                            for o, g in self.svc.store.referring(_DERIVED, x)
                            if g == str(_INV) and "/element/" in o
                        ]
                    pairs |= set(found)
                    step += [p[0] if direction == "down" else p[1] for p in found]
                frontier = [n for n in dict.fromkeys(step) if n not in seen]
                seen |= set(frontier)
        nodes: dict[str, dict[str, Any]] = {}
        for field in {f for pair in pairs for f in pair}:
            key = self.field_key(field)
            inputs = sorted(i for o, i in pairs if o == field)
            nodes[key] = _node(key, "DATASET", self.field_data(field, inputs))
        for out, inp in pairs:  # Marquez: a field's in-edges run from it to its inputs
            edge = {"origin": self.field_key(out), "destination": self.field_key(inp)}
            nodes[edge["origin"]]["inEdges"].append(edge)
            nodes[edge["destination"]]["outEdges"].append(
                {"origin": edge["destination"], "destination": edge["origin"]}
            )
        return _sorted(nodes)

    def field_key(self, element: str) -> str:
        ns, name = self.dataset_key(element.rsplit("/element/", 1)[0])
        return f"datasetField:{ns}:{name}:{self.ids.element_name(element)}"

    def transformation(self, out: str, inp: str) -> dict[str, str | None]:
        """How ``out`` was made from ``inp``: MASKED when every recorded run masked it; the
        description names the runs' transformation types."""
        masked, kinds = [], set()
        for q in self.about(out).get(_QUALIFIED, []):
            facts = self.about(q)
            if inp in facts.get(_ENTITY, []):
                masked.append("true" in facts.get(str(MG.masking), []))
                for act in facts.get(_HAD_ACTIVITY, []):
                    kinds |= set(self.about(act).get(str(MG.transformationType), []))
        terms = [t for k in sorted(kinds) if (t := self.onto.transformations.get(k))]
        return {
            "transformationDescription": "; ".join(f"{t.label_zh} / {t.label_en}" for t in terms) or None,
            "transformationType": "MASKED" if masked and all(masked) else None,
        }

    def field_data(self, element: str, inputs: list[str]) -> dict[str, Any]:
        asset = element.rsplit("/element/", 1)[0]
        ns, name = self.dataset_key(asset)
        input_fields = []
        for i in inputs:
            ins, iname = self.dataset_key(i.rsplit("/element/", 1)[0])
            field = {"namespace": ins, "dataset": iname, "field": self.ids.element_name(i)}
            input_fields.append(_prune(field | self.transformation(element, i)))
        first = next((f for f in input_fields if "transformationType" in f or "transformationDescription" in f), {})
        effective = self.first(asset, str(MG.effectiveLevel), _INF) or self.first(asset, str(MG.assessedLevel))
        return _prune(
            {
                "id": {"namespace": ns, "name": name},
                "type": "DATASET",
                "name": name,
                "namespace": ns,
                "dataset": name,
                "field": self.ids.element_name(element),
                "fieldType": "",
                "transformationDescription": first.get("transformationDescription"),
                "transformationType": first.get("transformationType"),
                "inputFields": input_fields,
                "medgrade": {
                    "asset": self.ids.local_id(asset) or asset,
                    "element": element,
                    "effective": self._ref(self.onto.levels, effective),
                    "category": self._ref(self.onto.categories, self.first(element, str(MG.hasCategory))),
                    "assessed": self._ref(self.onto.levels, self.first(element, str(MG.assessedLevel))),
                },
            }
        )


def _node(key: str, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"id": key, "type": kind, "data": data, "inEdges": [], "outEdges": []}


def _link(origin: dict[str, Any], destination: dict[str, Any]) -> None:
    edge = {"origin": origin["id"], "destination": destination["id"]}
    if edge not in origin["outEdges"]:
        origin["outEdges"].append(edge)
        destination["inEdges"].append(edge)


def _sorted(nodes: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Nodes and edges in id order, as Marquez sorts them."""
    for n in nodes.values():
        for side in ("inEdges", "outEdges"):
            n[side] = sorted(
                {(e["origin"], e["destination"]): e for e in n[side]}.values(),
                key=lambda e: (e["origin"], e["destination"]),
            )
    return [nodes[k] for k in sorted(nodes)]
