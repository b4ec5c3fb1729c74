"""``/sparql``: the SPARQL 1.1 Protocol (query and update operations) on the store's own engine.

GET with ``query``; POST form-encoded (``query`` or ``update``) or direct
(``application/sparql-query``, ``application/sparql-update``); ``default-graph-uri`` /
``named-graph-uri`` and ``using-graph-uri`` / ``using-named-graph-uri``; results chosen by
``Accept``. Without a query or update: the service description. Updates need a steward or
admin key; each is one transaction together with its audit record, and lineage is propagated
after it.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from rdflib import BNode, Graph, URIRef
from rdflib.namespace import RDF, Namespace
from starlette.concurrency import run_in_threadpool

from api.auth import Caller, caller
from kg.errors import NotAcceptable, QueryError, TooLargeError, UnsupportedMediaType
from kg.sparql_endpoint import Dataset, Limits, negotiate, query

router = APIRouter()
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
FORMATS = Namespace("http://www.w3.org/ns/formats/")
_RDFLIB = {
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/ld+json": "json-ld",
    "application/rdf+xml": "xml",
    "text/plain": "nt",
}
_FORM = "application/x-www-form-urlencoded"
_PROTOCOL_FIELDS = {
    "query",
    "update",
    "default-graph-uri",
    "named-graph-uri",
    "using-graph-uri",
    "using-named-graph-uri",
}


def _fields(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, v in pairs:
        out.setdefault(k, []).append(v)
    return out


def _one(fields: dict[str, list[str]], name: str) -> str | None:
    values = fields.get(name)
    if values is None:
        return None
    if len(values) > 1:
        raise QueryError(f"'{name}' given {len(values)} times; give it once", f"参数“{name}”出现了 {len(values)} 次")
    return values[0]


def _iris(fields: dict[str, list[str]], name: str) -> tuple[str, ...]:
    values = tuple(fields.get(name, ()))
    for v in values:
        if not v or any(c in v for c in ' <>"{}|^`\\') or ":" not in v:
            raise QueryError(f"{name}: '{v}' is not an absolute IRI", f"{name}：“{v}”不是绝对 IRI")
    return values


async def _request_fields(request: Request) -> dict[str, list[str]]:
    """Protocol fields from the URL and, for POST, from the body (form or direct)."""
    limit = request.app.state.settings.max_body_bytes
    if len(request.url.query) > limit:
        raise TooLargeError(
            f"the query string is longer than {limit:,} bytes (MEDGRADE_MAX_BODY_BYTES): POST long requests",
            f"查询字符串超过 {limit:,} 字节（MEDGRADE_MAX_BODY_BYTES）：长请求请用 POST",
        )
    fields = _fields(list(request.query_params.multi_items()))
    if request.method != "POST":
        if "update" in fields:
            raise QueryError("an update must be sent with POST", "更新操作须用 POST 发送")
        return fields
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = (await request.body()).decode("utf-8", errors="strict") if media else ""
    if media == _FORM:
        for k, vs in _fields(parse_qsl(body, keep_blank_values=True)).items():
            fields.setdefault(k, []).extend(vs)
    elif media == "application/sparql-query":
        fields.setdefault("query", []).append(body)
    elif media == "application/sparql-update":
        fields.setdefault("update", []).append(body)
    else:
        raise UnsupportedMediaType(
            f"POST /sparql takes {_FORM}, application/sparql-query or application/sparql-update, not '{media or 'nothing'}'",
            f"POST /sparql 只接受 {_FORM}、application/sparql-query 或 application/sparql-update，而非“{media or '空'}”",
        )
    return fields


_DESCRIPTION = "SPARQL 1.1 Protocol: query (GET or POST) and update (POST, steward or admin key). No query: the service description."


@router.get("/sparql", summary="SPARQL 1.1 查询 / SPARQL 1.1 query", description=_DESCRIPTION, response_class=Response)
async def sparql_get(request: Request) -> Response:
    return await sparql(request)


@router.post(
    "/sparql",
    summary="SPARQL 1.1 查询与更新 / SPARQL 1.1 query and update",
    description=_DESCRIPTION,
    response_class=Response,
)
async def sparql_post(request: Request) -> Response:
    return await sparql(request)


async def sparql(request: Request) -> Response:
    try:
        fields = await _request_fields(request)
    except UnicodeDecodeError as exc:
        raise QueryError("the request body is not UTF-8", "请求体不是 UTF-8 编码") from exc
    text_query, text_update = _one(fields, "query"), _one(fields, "update")
    if text_query is not None and text_update is not None:
        raise QueryError("give either 'query' or 'update', not both", "只能给出 query 或 update 之一")
    if text_query is None and text_update is None:
        caller(request, "reader")
        return _description(request)
    if text_update is not None:
        who = caller(request, "steward")
        using = Dataset(_iris(fields, "using-graph-uri"), _iris(fields, "using-named-graph-uri"))
        if fields.get("default-graph-uri") or fields.get("named-graph-uri"):
            raise QueryError("an update takes using-graph-uri, not default-graph-uri", "更新操作应使用 using-graph-uri")
        await run_in_threadpool(_update, request, text_update, using, who)
        return Response(status_code=204)
    caller(request, "reader")
    assert text_query is not None
    dataset = Dataset(_iris(fields, "default-graph-uri"), _iris(fields, "named-graph-uri"))
    state = request.app.state
    limits = Limits(state.settings.query_timeout, state.settings.query_max_results)
    answer = await run_in_threadpool(
        query, state.service.store, text_query, dataset, request.headers.get("accept"), limits, state.workers
    )
    return Response(answer.body, media_type=answer.media_type, headers={"Vary": "Accept"})


def _update(request: Request, text: str, using: Dataset, who: Caller) -> None:
    request.app.state.service.sparql_update(text, using, actor=who.name)


def _description(request: Request) -> Response:
    offers = list(_RDFLIB)
    media = negotiate(request.headers.get("accept"), offers)
    if media is None:
        raise NotAcceptable(
            f"the service description is offered as {', '.join(offers)}", f"服务描述可提供：{', '.join(offers)}"
        )
    g = Graph()
    g.bind("sd", SD)
    svc, dataset, default = BNode(), BNode(), BNode()
    endpoint = URIRef(str(request.url.replace(query="")))
    g.add((svc, RDF.type, SD.Service))
    g.add((svc, SD.endpoint, endpoint))
    g.add((svc, SD.supportedLanguage, SD.SPARQL11Query))
    g.add((svc, SD.supportedLanguage, SD.SPARQL11Update))
    g.add((svc, SD.feature, SD.UnionDefaultGraph))
    for f in ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV"):
        g.add((svc, SD.resultFormat, FORMATS[f]))
    for f in ("Turtle", "N-Triples", "JSON-LD", "RDF_XML"):
        g.add((svc, SD.resultFormat, FORMATS[f]))
    g.add((svc, SD.defaultDataset, dataset))
    g.add((dataset, RDF.type, SD.Dataset))
    g.add((dataset, SD.defaultGraph, default))
    g.add((default, RDF.type, SD.Graph))
    for name in sorted(request.app.state.service.store.graphs()):
        node = BNode()
        g.add((dataset, SD.namedGraph, node))
        g.add((node, SD.name, URIRef(name)))
    return Response(g.serialize(format=_RDFLIB[media]), media_type=media, headers={"Vary": "Accept"})
