"""OpenLineage events (spec 2-0-2) -> additive lineage records.

A run is a PROV activity (``<base>run/<runId>``, an ``mg:Transformation``) that ``prov:used``
its inputs; each output ``prov:wasGeneratedBy`` the run and ``prov:wasDerivedFrom`` every
input. Column lineage (the ``columnLineage`` facet) becomes element-to-element derivations,
each with a qualified derivation per run (``prov:qualifiedDerivation``, ``prov:hadActivity``
the run, ``mg:masking`` true or false): a masked one is a candidate reduction that lowers
nothing until approved, on itself or on its run, and its approval covers that run's derivation
only. An output column listed among its own inputs (an in-place ``MERGE``/``UPDATE``) is not a
derivation of the column from itself; its other inputs stay.

Datasets are named by OpenLineage namespace + name: in the namespace
``MEDGRADE_OPENLINEAGE_NAMESPACE`` a name that is a valid id is the inventory asset of that id;
any other dataset gets the id ``ol-<hash of namespace/name>``. Records only add: the same event
received twice (a client retrying) changes nothing, and an event never removes what the
inventory holds. A run or job facet ``medgrade: {"transformation": "去标识化"}`` names the
transformation type.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from rdflib import Literal, URIRef

from kg.errors import InputError, Problem
from kg.ids import ID_PATTERN, Ids
from kg.importers.plan import ImportPlan, Record
from kg.namespaces import MG, PROV, RDF, RDFS, XSD
from kg.store.base import Triple

MAX_EVENT_BYTES = 5_000_000


def dataset_id(namespace: str, name: str, own_namespace: str) -> str:
    """The asset id of an OpenLineage dataset."""
    if namespace == own_namespace and ID_PATTERN.match(name):
        return name
    return "ol-" + hashlib.sha1(f"{namespace}/{name}".encode()).hexdigest()[:16]


def plan_openlineage(path: Path, ids: Ids, own_namespace: str, transformation: Callable[[str], str]) -> ImportPlan:
    """Records from a file of OpenLineage events (.json: one event or a list; .jsonl: one per
    line); ``transformation`` turns a transformation name into its IRI (or raises)."""
    plan = ImportPlan(files=[path.name])
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        plan.problems.append(Problem("not UTF-8 text", "不是 UTF-8 编码的文本", where=path.name))
        return plan
    events: list[tuple[str, Any]] = []
    if path.suffix.lower() == ".jsonl":
        for n, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                events.append((f"{path.name}, line {n}", _load(line, f"{path.name}, line {n}", plan)))
    else:
        data = _load(text, path.name, plan)
        items = data if isinstance(data, list) else [data]
        events += [(f"{path.name}, event {i + 1}", e) for i, e in enumerate(items)]
    for where, event in events:
        if event is None:
            continue
        try:
            for record in event_records(event, ids, own_namespace, where, transformation):
                plan.add(record)
        except InputError as exc:
            plan.problems.append(Problem(exc.message_en, exc.message_zh, where=where))
    return plan


def _load(text: str, where: str, plan: ImportPlan) -> Any:
    if len(text) > MAX_EVENT_BYTES:
        plan.problems.append(
            Problem(f"event larger than {MAX_EVENT_BYTES:,} bytes", f"事件超过 {MAX_EVENT_BYTES:,} 字节", where=where)
        )
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        plan.problems.append(Problem(f"malformed JSON: {exc}", f"JSON 格式错误：{exc}", where=where))
    except RecursionError:
        plan.problems.append(Problem("JSON nested too deeply", "JSON 嵌套过深", where=where))
    return None


def _text(obj: Any, key: str, where: str) -> str:
    value = obj.get(key) if isinstance(obj, dict) else None
    if not isinstance(value, str) or not value:
        raise InputError(f"missing or empty '{key}'", f"缺少“{key}”或其为空")
    return value


def event_records(
    event: Any, ids: Ids, own_namespace: str, where: str, transformation: Callable[[str], str]
) -> list[Record]:
    """The records of one run, dataset or job event: one per resource it describes."""
    if not isinstance(event, dict):
        raise InputError("an event is a JSON object", "事件应为 JSON 对象")
    triples: dict[URIRef, list[Triple]] = {}

    def put(root: URIRef, new: list[Triple]) -> None:
        triples.setdefault(root, []).extend(new)

    if "dataset" in event and "run" not in event:  # a DatasetEvent: only declares the dataset
        d = event["dataset"]
        put(_asset(d, ids, own_namespace, where), _dataset_triples(d, ids, own_namespace, where))
        return _records(triples, where)
    job = event.get("job")
    job_key = f"{_text(job, 'namespace', where)}:{_text(job, 'name', where)}"
    run = event.get("run")
    if run is None:  # a JobEvent: static lineage, no run
        act = URIRef(ids.base + "job/" + hashlib.sha1(job_key.encode()).hexdigest()[:16])
    else:
        act = URIRef(ids.base + "run/" + quote(_text(run, "runId", where), safe=""))
    inputs = [(d, _asset(d, ids, own_namespace, where)) for d in _list(event, "inputs")]
    outputs = [(d, _asset(d, ids, own_namespace, where)) for d in _list(event, "outputs")]
    t: list[Triple] = [(act, RDF.type, MG.Transformation), (act, MG.openLineageJob, Literal(job_key))]
    kind = _transformation(run, job)
    if kind:
        t.append((act, MG.transformationType, URIRef(transformation(kind))))
    when = event.get("eventTime")
    if isinstance(when, str) and run is not None and event.get("eventType") in ("START", "COMPLETE", "FAIL", "ABORT"):
        prop = PROV.startedAtTime if event.get("eventType") == "START" else PROV.endedAtTime
        t.append((act, prop, Literal(when, datatype=XSD.dateTime)))
    t += [(act, PROV.used, a) for _, a in inputs]
    put(act, t)
    for d, a in inputs:
        put(a, _dataset_triples(d, ids, own_namespace, where))
    for d, out in outputs:
        put(
            out,
            _dataset_triples(d, ids, own_namespace, where)
            + [(out, PROV.wasGeneratedBy, act)]
            + [(out, PROV.wasDerivedFrom, a) for _, a in inputs if a != out],
        )
        for root, column_triples in _columns(d, out, act, ids, own_namespace, where).items():
            put(root, column_triples)
    return _records(triples, where)


def _records(triples: dict[URIRef, list[Triple]], where: str) -> list[Record]:
    return [Record("lineage", root, list(dict.fromkeys(t)), where, additive=True) for root, t in triples.items()]


def _list(event: dict[str, Any], key: str) -> list[Any]:
    value = event.get(key) or []
    if not isinstance(value, list):
        raise InputError(f"'{key}' is not a list", f"“{key}”不是列表")
    return value


def _asset(d: Any, ids: Ids, own_namespace: str, where: str) -> URIRef:
    return ids.asset(dataset_id(_text(d, "namespace", where), _text(d, "name", where), own_namespace))


def _transformation(run: Any, job: Any) -> str | None:
    for holder in (run, job):
        facets = holder.get("facets") if isinstance(holder, dict) else None
        facet = facets.get("medgrade") if isinstance(facets, dict) else None
        value = facet.get("transformation") if isinstance(facet, dict) else None
        if isinstance(value, str):
            return value  # resolved against the ontology by the caller
    return None


def _dataset_triples(d: Any, ids: Ids, own_namespace: str, where: str) -> list[Triple]:
    ns, name = _text(d, "namespace", where), _text(d, "name", where)
    local = dataset_id(ns, name, own_namespace)
    a = ids.asset(local)
    t: list[Triple] = [(a, RDF.type, MG.DataAsset)]
    if local.startswith("ol-"):  # a dataset only OpenLineage knows: name it
        t += [
            (a, MG.identifier, Literal(local)),
            (a, RDFS.label, Literal(name)),
            (a, MG.openLineageNamespace, Literal(ns)),
            (a, MG.openLineageName, Literal(name)),
        ]
    facets = d.get("facets") if isinstance(d, dict) else None
    schema = facets.get("schema") if isinstance(facets, dict) else None
    for field in (schema or {}).get("fields") or [] if isinstance(schema, dict) else []:
        if isinstance(field, dict) and isinstance(field.get("name"), str) and field["name"]:
            e = ids.element(local, field["name"])
            t += [(a, MG.hasElement, e), (e, RDF.type, MG.DataElement), (e, RDFS.label, Literal(field["name"]))]
    return t


def _columns(d: Any, out: URIRef, act: URIRef, ids: Ids, own_namespace: str, where: str) -> dict[URIRef, list[Triple]]:
    """Column lineage: output field <- input fields, masking marked on a qualified derivation.
    Triples are grouped by the dataset they describe (an element is part of its dataset)."""
    facets = d.get("facets") if isinstance(d, dict) else None
    lineage = facets.get("columnLineage") if isinstance(facets, dict) else None
    fields = lineage.get("fields") if isinstance(lineage, dict) else None
    if not isinstance(fields, dict):
        return {}
    out_id = ids.local_id(str(out)) or ""
    by_root: dict[URIRef, list[Triple]] = {out: []}
    for field, spec in fields.items():
        if not isinstance(spec, dict):
            continue
        oe = ids.element(out_id, field)
        by_root[out] += [(out, MG.hasElement, oe), (oe, RDF.type, MG.DataElement), (oe, RDFS.label, Literal(field))]
        for source in spec.get("inputFields") or []:
            if not isinstance(source, dict):
                continue
            src_id = dataset_id(_text(source, "namespace", where), _text(source, "name", where), own_namespace)
            src, src_field = ids.asset(src_id), _text(source, "field", where)
            ie = ids.element(src_id, src_field)
            if ie == oe:  # an in-place update reads the column it writes: not a derivation of itself
                continue
            by_root.setdefault(src, []).extend(
                [
                    (src, RDF.type, MG.DataAsset),
                    (src, MG.hasElement, ie),
                    (ie, RDF.type, MG.DataElement),
                    (ie, RDFS.label, Literal(src_field)),
                ]
            )
            transformations = source.get("transformations") or spec.get("transformations") or []
            masked = any(isinstance(x, dict) and x.get("masking") is True for x in transformations)
            q = ids.derivation(str(oe), str(act), str(ie))
            by_root[out] += [
                (oe, PROV.wasDerivedFrom, ie),
                (oe, PROV.qualifiedDerivation, q),
                (q, RDF.type, PROV.Derivation),
                (q, PROV.entity, ie),
                (q, PROV.hadActivity, act),
                (q, MG.masking, Literal(masked)),
            ]
    return by_root
