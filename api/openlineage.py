"""OpenLineage over HTTP: ``POST /api/v1/lineage`` takes run, dataset and job events as the
OpenLineage client's HTTP transport sends them (JSON, optionally gzip-compressed, bearer key).
The Marquez-shaped reads (``GET /api/v1/lineage``, ``GET /api/v1/column-lineage``) are in
:mod:`api.marquez`.

An event goes through the same importer as ``medgrade import events.json``: checked whole,
written atomically with an audit record, idempotent under the client's retries (201 each time);
events that clients send while others are being written are written together
(:meth:`kg.service.Service.receive_events`), each client with its own answer and audit record.
Each event is checked against the OpenLineage 2-0-2 JSON Schema (facets lenient, see
:mod:`kg.importers.schemas`): one that does not conform is 422 problem+json listing each JSON
path and rule in English and Chinese, and nothing is written; a body that is not JSON is 400.
"""

from __future__ import annotations

import json
import zlib
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.auth import Caller, require
from kg.errors import InputError, TooLargeError

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
        text = body.decode("utf-8")
        json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"the body is not JSON: {exc}", f"请求体不是 JSON：{exc}") from exc
    except RecursionError as exc:
        raise InputError("the JSON body is nested too deeply", "请求体 JSON 嵌套过深") from exc

    def write() -> dict[str, Any]:
        report = state.service.receive_events(
            text, "openlineage-event.json", why="OpenLineage 事件 / OpenLineage event", actor=who.name
        )
        return {"added": report.added, "changed": report.changed, "record": report.record}

    return JSONResponse(await run_in_threadpool(write), status_code=201)
