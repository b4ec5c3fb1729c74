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

Every event is checked against the OpenLineage 2-0-2 JSON Schema first (``kg.importers.schemas``:
``Draft202012Validator`` with its format checker, the definition chosen by the event's shape):
an event whose envelope does not conform — an ``eventTime`` that is not an RFC 3339 date-time, a
``runId`` that is not a UUID, no ``producer`` or ``schemaURL``, an ``eventType`` outside the
enum — is refused with one problem per JSON path and rule (``$.run.runId: format 'uuid'``), and
the import writes nothing. Facets are lenient: a facet map must be a JSON object, but what is
inside a facet is not checked against the schema (``_producer``/``_schemaURL`` may be missing),
unknown facets are ignored, and a malformed entry of a facet medgrade reads is skipped instead of
refusing the event (a schema field without a name silently, a column-lineage input field without
namespace, name or field with a warning). Only medgrade's own ``medgrade`` facet is strict: an
unknown transformation type refuses the event, because it would change grading.

No ill-typed literal reaches the store: the run's time is a ``xsd:dateTime`` made from the
validated ``eventTime`` (``T`` and ``Z`` upper-cased, as XSD wants them) and refused when XSD
cannot represent it (an offset beyond ±14:00).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from rdflib import Literal, URIRef

from kg.errors import InputError, Problem
from kg.ids import ID_PATTERN, Ids
from kg.importers.plan import ImportPlan, Record
from kg.importers.schemas import violations
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
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        plan = ImportPlan(files=[path.name])
        plan.problems.append(Problem("not UTF-8 text", "不是 UTF-8 编码的文本", where=path.name))
        return plan
    return plan_events(text, path.name, ids, own_namespace, transformation, lines=path.suffix.lower() == ".jsonl")


def plan_events(
    text: str, name: str, ids: Ids, own_namespace: str, transformation: Callable[[str], str], lines: bool = False
) -> ImportPlan:
    """Records from OpenLineage events as text named ``name`` (one event or a list; with
    ``lines``, one per line), as :func:`plan_openlineage` reads a file."""
    plan = ImportPlan(files=[name])
    events: list[tuple[str, Any]] = []
    if lines:
        for n, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                events.append((f"{name}, line {n}", _load(line, f"{name}, line {n}", plan)))
    else:
        data = _load(text, name, plan)
        items = data if isinstance(data, list) else [data]
        events += [(f"{name}, event {i + 1}", e) for i, e in enumerate(items)]
    for where, event in events:
        if event is None:
            continue
        refused = schema_problems(event, where)
        if refused:
            plan.problems += refused
            continue
        try:
            for record in event_records(event, ids, own_namespace, where, transformation, plan.warnings):
                plan.add(record)
        except InputError as exc:
            plan.problems.append(Problem(exc.message_en, exc.message_zh, where=where))
    return plan


def schema_problems(event: Any, where: str) -> list[Problem]:
    """One problem per JSON path and rule by which ``event`` breaks OpenLineage 2-0-2."""
    return [
        Problem(
            f"not an OpenLineage 2-0-2 event: {v.path}: {v.rule_en}" + (f" ({v.detail})" if v.detail else ""),
            f"不符合 OpenLineage 2-0-2 规范：{v.path}：{v.rule_zh}" + (f"（{v.detail}）" if v.detail else ""),
            where=where,
            code="openlineage-schema",
            subject=v.path,
        )
        for v in violations(event)
    ]


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
    event: Any,
    ids: Ids,
    own_namespace: str,
    where: str,
    transformation: Callable[[str], str],
    warnings: list[Problem] | None = None,
) -> list[Record]:
    """The records of one run, dataset or job event (checked against the schema beforehand:
    :func:`schema_problems`): one per resource it describes. Skipped facet entries are
    appended to ``warnings``."""
    warned: list[Problem] = [] if warnings is None else warnings
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
        t.append((act, prop, xsd_datetime(when)))
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
        for root, column_triples in _columns(d, out, act, ids, own_namespace, where, warned).items():
            put(root, column_triples)
    return _records(triples, where)


def xsd_datetime(text: str) -> Literal:
    """An ``xsd:dateTime`` literal of an RFC 3339 date-time, or InputError when XSD has no such value."""
    lexical = text.upper()  # RFC 3339 allows "t" and "z"; XSD does not
    try:
        value = datetime.fromisoformat(lexical)
    except ValueError:
        value = None
    offset = value.utcoffset() if value is not None else None
    if value is None or offset is None or abs(offset) > timedelta(hours=14):
        raise InputError(
            f"eventTime '{text}' is not a representable xsd:dateTime", f"eventTime“{text}”无法表示为 xsd:dateTime"
        )
    return Literal(lexical, datatype=XSD.dateTime)


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
    t: list[Triple] = [(a, RDF.type, MG.DataAsset), *_naming(a, local, ns, name)]
    facets = d.get("facets") if isinstance(d, dict) else None
    schema = facets.get("schema") if isinstance(facets, dict) else None
    fields = schema.get("fields") if isinstance(schema, dict) else None
    for field in fields if isinstance(fields, list) else []:
        if isinstance(field, dict) and isinstance(field.get("name"), str) and field["name"]:
            e = ids.element(local, field["name"])
            t += [(a, MG.hasElement, e), (e, RDF.type, MG.DataElement), (e, RDFS.label, Literal(field["name"]))]
    return t


def _naming(a: URIRef, local: str, ns: str, name: str) -> list[Triple]:
    """A dataset only OpenLineage knows is named by its namespace and name."""
    if not local.startswith("ol-"):
        return []
    return [
        (a, MG.identifier, Literal(local)),
        (a, RDFS.label, Literal(name)),
        (a, MG.openLineageNamespace, Literal(ns)),
        (a, MG.openLineageName, Literal(name)),
    ]


def _columns(
    d: Any, out: URIRef, act: URIRef, ids: Ids, own_namespace: str, where: str, warnings: list[Problem]
) -> dict[URIRef, list[Triple]]:
    """Column lineage: output field <- input fields, masking marked on a qualified derivation.
    Triples are grouped by the dataset they describe (an element is part of its dataset). An
    input field without namespace, name or field is skipped with a warning (facets are lenient)."""
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
        sources = spec.get("inputFields")
        for source in sources if isinstance(sources, list) else []:
            raw = [source.get(k) if isinstance(source, dict) else None for k in ("namespace", "name", "field")]
            keys = [k for k in raw if isinstance(k, str) and k]
            if len(keys) < 3:
                warnings.append(
                    Problem(
                        f"columnLineage of '{field}': an input field without namespace, name or field is ignored",
                        f"“{field}”的 columnLineage 中缺少 namespace、name 或 field 的输入字段已忽略",
                        where=where,
                        code="openlineage-facet-ignored",
                        subject=str(field),
                    )
                )
                continue
            src_id = dataset_id(keys[0], keys[1], own_namespace)
            src, src_field = ids.asset(src_id), keys[2]
            ie = ids.element(src_id, src_field)
            if ie == oe:  # an in-place update reads the column it writes: not a derivation of itself
                continue
            by_root.setdefault(src, []).extend(
                [
                    (src, RDF.type, MG.DataAsset),
                    *_naming(src, src_id, keys[0], keys[1]),
                    (src, MG.hasElement, ie),
                    (ie, RDF.type, MG.DataElement),
                    (ie, RDFS.label, Literal(src_field)),
                ]
            )
            transformations = source.get("transformations") or spec.get("transformations")
            masked = isinstance(transformations, list) and any(
                isinstance(x, dict) and x.get("masking") is True for x in transformations
            )
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
