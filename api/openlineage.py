"""OpenLineage over HTTP: ``POST /api/v1/lineage`` takes run, dataset and job events as the
OpenLineage client's HTTP transport sends them (JSON, optionally gzip-compressed, bearer key);
``GET /api/v1/lineage?nodeId=dataset:NS:NAME&depth=N`` answers in Marquez's lineage shape.

An event goes through the same importer as ``medgrade import events.json``: checked whole,
written atomically with an audit record, idempotent under the client's retries (201 each time).
"""

from __future__ import annotations

import json
import tempfile
import zlib
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.auth import Caller, require
from kg.errors import InputError, NotFoundError, TooLargeError
from kg.importers.openlineage import dataset_id
from kg.namespaces import MG
from kg.store import Graphs, sparql_term

router = APIRouter(prefix="/api/v1")


def _unpack(body: bytes, encoding: str, limit: int) -> bytes:
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "deflate"):
        raise InputError(f"unsupported Content-Encoding '{encoding}' (gzip or none)", f"不支持的内容编码“{encoding}”")
    inflater = zlib.decompressobj(wbits=47 if encoding == "gzip" else 15)  # 47: gzip or zlib header
    try:
        out = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise InputError(
            f"the {encoding} body cannot be decompressed: {exc}", f"无法解压 {encoding} 请求体：{exc}"
        ) from exc
    if len(out) > limit or inflater.unconsumed_tail:
        raise TooLargeError(
            f"the decompressed body is larger than {limit:,} bytes (MEDGRADE_MAX_BODY_BYTES)",
            f"解压后的请求体超过 {limit:,} 字节（MEDGRADE_MAX_BODY_BYTES）",
        )
    return out


@router.post("/lineage", status_code=201, summary="接收 OpenLineage 事件 / receive OpenLineage events")
async def post_lineage(request: Request, who: Annotated[Caller, Depends(require("steward"))]) -> JSONResponse:
    state = request.app.state
    body = _unpack(
        await request.body(), request.headers.get("content-encoding", "").lower(), state.settings.max_body_bytes
    )
    try:
        json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"the body is not JSON: {exc}", f"请求体不是 JSON：{exc}") from exc
    except RecursionError as exc:
        raise InputError("the JSON body is nested too deeply", "请求体 JSON 嵌套过深") from exc

    def write() -> dict[str, Any]:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "openlineage-event.json"
            path.write_bytes(body)
            with state.write_lock:
                report = state.service.import_files([path], why="OpenLineage 事件 / OpenLineage event", actor=who.name)
        return {"added": report.added, "changed": report.changed, "record": report.record}

    return JSONResponse(await run_in_threadpool(write), status_code=201)


def _dataset_node(svc: Any, iri: str, own: str) -> str:
    rows = svc.store.rows(
        f"SELECT ?ns ?name WHERE {{ GRAPH {sparql_term(Graphs.INVENTORY)} {{ <{iri}> <{MG}openLineageNamespace> ?ns ;"
        f" <{MG}openLineageName> ?name }} }}"
    )
    if rows and rows[0][0] and rows[0][1]:
        return f"dataset:{rows[0][0]}:{rows[0][1]}"
    return f"dataset:{own}:{svc.ids.local_id(iri) or iri}"


def _job_node(svc: Any, edge: dict[str, Any], own: str) -> str:
    act = edge.get("activity")
    if act:
        rows = svc.store.rows(
            f"SELECT ?job WHERE {{ GRAPH {sparql_term(Graphs.INVENTORY)} {{ <{act}> <{MG}openLineageJob> ?job }} }}"
        )
        if rows and rows[0][0]:
            return f"job:{rows[0][0]}"
        return f"job:{own}:{act.rsplit('/', 2)[-2] if act.endswith('/activity') else act}"
    target = svc.ids.local_id(edge["target"]) or edge["target"]
    return f"job:{own}:derive/{target}"


@router.get("/lineage", summary="Marquez 形式的血缘 / lineage in Marquez's shape")
def get_lineage(
    request: Request,
    caller: Annotated[Caller, Depends(require("reader"))],
    node_id: Annotated[str, Query(alias="nodeId", description="dataset:NAMESPACE:NAME")],
    depth: Annotated[int, Query(ge=0, le=100)] = 20,
) -> dict[str, Any]:
    svc = request.app.state.service
    own = request.app.state.settings.openlineage_namespace
    kind, _, rest = node_id.partition(":")
    namespace, _, name = rest.rpartition(":") if kind == "dataset" else ("", "", "")
    if kind != "dataset" or not namespace or not name:
        raise InputError(
            f"nodeId must be dataset:NAMESPACE:NAME, not '{node_id}'",
            f"nodeId 须为 dataset:命名空间:名称，而非“{node_id}”",
        )
    asset = dataset_id(namespace, name, own)
    try:
        graph = svc.lineage(asset, "both", depth)
    except NotFoundError:
        raise NotFoundError(f"no dataset {namespace}:{name}", f"没有数据集 {namespace}:{name}") from None
    nodes: dict[str, dict[str, Any]] = {}

    def node(key: str, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        return nodes.setdefault(key, {"id": key, "type": kind, "data": data, "inEdges": [], "outEdges": []})

    names = {n["iri"]: _dataset_node(svc, n["iri"], own) for n in graph["nodes"]}
    for n in graph["nodes"]:
        ns, _, nm = names[n["iri"]].removeprefix("dataset:").rpartition(":")
        node(names[n["iri"]], "DATASET", {"namespace": ns, "name": nm, "id": n["id"], "effective": n["effective"]})
    for e in graph["edges"]:
        job = _job_node(svc, e, own)
        jns, _, jname = job.removeprefix("job:").partition(":")
        j = node(
            job, "JOB", {"namespace": jns, "name": jname, "activity": e.get("activity"), "type": e.get("activity_type")}
        )
        src, dst = names[e["source"]], names[e["target"]]
        edge_in, edge_out = {"origin": src, "destination": job}, {"origin": job, "destination": dst}
        if edge_in not in j["inEdges"]:
            j["inEdges"].append(edge_in)
            nodes[src]["outEdges"].append(edge_in)
        if edge_out not in j["outEdges"]:
            j["outEdges"].append(edge_out)
            nodes[dst]["inEdges"].append(edge_out)
    return {"graph": list(nodes.values())}
