"""The stewards' web interface, served by the API process under ``/ui``: a dashboard, the asset
list, asset pages with the lineage graph, the queue of unclassified datasets (待分类) with the
classification assistant's suggestions, a SPARQL page with the saved governance queries, and
the transfer check.

Pages are rendered on the server (Jinja2) from the same service calls as the REST routes; the
lineage graph (Cytoscape.js) and the SPARQL editor (YASGUI) run in the browser against the API.
Every script and style sheet is vendored into ``api/static`` (no CDN: hospital networks are
often closed). Chinese by default; ``?lang=en`` switches to English and is remembered in a
cookie. When reads need a key, the pages take it from the ``medgrade_token`` cookie (set on
``/ui/login``) or the ``Authorization`` header, like the API.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, quote, urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from kg import apikeys
from kg.errors import AuthenticationError, MedgradeError, NotFoundError
from kg.saved_queries import saved_queries
from kg.service import Service
from kg.unclassified import unclassified
from kg.vocabulary import Term

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
templates = Jinja2Templates(directory=str(HERE / "templates"))
router = APIRouter(prefix="/ui", include_in_schema=False)
LANGS = ("zh", "en")
PAGE = 50


def lang_of(request: Request) -> str:
    asked = request.query_params.get("lang")
    if asked in LANGS:
        return asked
    cookie = request.cookies.get("medgrade_lang")
    return cookie if cookie in LANGS else "zh"


def _key_allows_reading(request: Request, token: str) -> bool:
    key = apikeys.authenticate(request.app.state.keys.current(), token.strip())
    return key is not None and key.allows("reader")


def reader(request: Request) -> None:
    """Reads need what the API needs: no key unless configured; then a key from the
    ``Authorization`` header or the ``medgrade_token`` cookie. Without a valid one the browser
    is sent to the login page."""
    if not request.app.state.settings.read_requires_key:
        return
    header = request.headers.get("authorization", "")
    token = header.partition(" ")[2] if header.lower().startswith("bearer ") else request.cookies.get("medgrade_token")
    if not token or not _key_allows_reading(request, token):
        raise HTTPException(303, headers={"Location": "/ui/login"})


Reader = Annotated[None, Depends(reader)]


def service(request: Request) -> Service:
    return request.app.state.service  # type: ignore[no-any-return]


def _status(svc: Service) -> Term | None:
    """The ontology's name for "no category yet" (待分类), or None when it lacks one."""
    try:
        return unclassified(svc.ontology)
    except MedgradeError:
        return None


def render(request: Request, name: str, **context: Any) -> HTMLResponse:
    lang = lang_of(request)

    def t(zh: str, en: str) -> str:
        return zh if lang == "zh" else en

    def label(term: Any, default: str = "—") -> str:
        if not term:
            return default
        if not isinstance(term, dict):  # an ontology term
            term = term.ref()
        return str(term.get(f"label_{lang}") or term.get("label_zh") or term.get("iri") or default)

    def toggle_url() -> str:
        params = dict(request.query_params)
        params["lang"] = "en" if lang == "zh" else "zh"
        return f"{request.url.path}?{urlencode(params)}"

    def asset_url(ident: str) -> str:
        return f"/ui/assets/{quote(ident, safe='')}"

    response = templates.TemplateResponse(
        request,
        name,
        {
            "lang": lang,
            "t": t,
            "label": label,
            "toggle_url": toggle_url(),
            "asset_url": asset_url,
            "onto": service(request).ontology,
            "unclassified": _status(service(request)),
            **context,
        },
    )
    if request.query_params.get("lang") in LANGS:
        response.set_cookie("medgrade_lang", lang, max_age=365 * 24 * 3600, samesite="lax")
    return response


@router.get("", response_class=HTMLResponse)
@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, _: Reader) -> HTMLResponse:
    svc = service(request)
    counts = svc.counts()
    report = svc.validator().stored()
    problems = sorted(report.results, key=lambda r: (r.severity != "Violation", r.rule, r.focus_id))
    severities: dict[str, int] = {}
    for r in report.results:
        severities[r.severity] = severities.get(r.severity, 0) + 1
    return render(
        request,
        "dashboard.html",
        total=counts.total,
        levels=counts.levels,
        unlevelled=counts.unlevelled,
        max_level=max([n for _, n in counts.levels] + [1]),
        categories=counts.categories,
        max_category=max([n for _, n in counts.categories] + [1]),
        no_category=counts.no_category,
        equipment=counts.equipment,
        severities=severities,
        problems=problems[:20],
        problem_count=len(problems),
        review=svc.overdue(limit=20),
        cross_border=_cross_border_year(svc),
        mechanisms=_mechanisms(svc),
    )


def _mechanisms(svc: Service) -> dict[str, Any]:
    """The ontology's cross-border mechanisms by notation (for their labels)."""
    return {m.notation: m for m in svc.ontology.cross_border.mechanisms if m.notation}


def _cross_border_year(svc: Service) -> dict[str, Any]:
    """This year's transfer records for the dashboard: the year's totals against the count
    thresholds (each marked reached or not), the totals by destination and mechanism, and how many
    records are not compliant (R16). When the records cannot be judged (a kept mechanism the
    ontology no longer has), the panel says so instead: ``{"error": ...}``."""
    try:
        records = svc.transfer_records()
    except MedgradeError as exc:
        return {"error": exc}
    totals = records["totals"]
    groups = totals["by_destination"]
    return {
        "year": records["year"],
        "ciio": records["ciio"],
        "records": len(records["items"]),
        "subjects": totals["subjects"],
        "sensitive_subjects": totals["sensitive_subjects"],
        "thresholds": [
            {**t, "total": totals.get(t["count"]) or 0, "reached": (totals.get(t["count"]) or 0) >= t["at_least"]}
            for t in records["thresholds"]
        ],
        "by_destination": groups,
        "not_compliant": sum(g["not_compliant"] for g in groups),
    }


@router.get("/assets", response_class=HTMLResponse)
def assets(
    request: Request,
    _: Reader,
    min_rank: Annotated[int | None, Query(ge=1, le=10)] = None,
    category: Annotated[str | None, Query(max_length=200)] = None,
    equipment: Annotated[str | None, Query(max_length=200)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
) -> HTMLResponse:
    svc = service(request)
    filters = {"min_rank": min_rank, "category": category or None, "equipment": equipment or None, "q": q or None}
    error = None
    try:
        result = svc.assets(**filters, limit=PAGE, offset=(page - 1) * PAGE)
    except MedgradeError as exc:  # an unknown category or equipment type: say so on the page
        result, error = {"total": 0, "items": []}, exc
    pages = max(1, (result["total"] + PAGE - 1) // PAGE)
    base = {k: v for k, v in filters.items() if v is not None}

    def page_url(n: int) -> str:
        return "/ui/assets?" + urlencode({**base, "page": n})

    onto = svc.ontology
    return render(
        request,
        "assets.html",
        result=result,
        filters=filters,
        page=page,
        pages=pages,
        page_url=page_url,
        error=error,
        top_categories=[c for c in onto.categories if c.parent is None],
        all_categories=sorted(onto.categories, key=lambda c: (c.notation or "", c.iri)),
        equipment_types=sorted(onto.equipment_types, key=lambda e: e.label_zh),
    )


@router.get("/unclassified", response_class=HTMLResponse)
def unclassified_page(request: Request, _: Reader, page: Annotated[int, Query(ge=1, le=100000)] = 1) -> HTMLResponse:
    """The datasets with no category yet (待分类), each with the assistant's suggestion."""
    queue = service(request).classification_queue(limit=PAGE, offset=(page - 1) * PAGE)
    pages = max(1, (queue.total + PAGE - 1) // PAGE)
    return render(
        request,
        "unclassified.html",
        queue=queue,
        page=page,
        pages=pages,
        page_url=lambda n: "/ui/unclassified?" + urlencode({"page": n}),
    )


@router.get("/assets/{id:path}", response_class=HTMLResponse)
def asset_page(id: str, request: Request, _: Reader) -> HTMLResponse:
    svc = service(request)
    try:
        detail = svc.asset(id)
    except NotFoundError as exc:
        response = render(request, "missing.html", error=exc, ident=id)
        response.status_code = 404
        return response
    level = svc.level(id)
    iri = detail["asset"]
    elements = {e["iri"] for e in detail.get("elements", [])}
    results = [r for r in svc.validator().stored().results if r.focus == iri or r.focus in elements]
    names = {n["iri"]: n.get("name") for n in svc.lineage(id, "upstream", 1)["nodes"]}
    witness_ids = {hop["source"] for hop in level["witness"]} | {hop["target"] for hop in level["witness"]}
    return render(
        request,
        "asset.html",
        a=detail,
        level=level,
        results=sorted(results, key=lambda r: (r.severity != "Violation", r.rule)),
        audit=svc.audit_trail(iri),
        names=names,
        sets_own_level=level["origin"] in (None, iri),
        personal=[p.ref() for p in map(svc.ontology.personal_information.get, detail.get("personal") or []) if p],
        graph_config=json.dumps(
            {
                "id": detail["id"],
                "iri": iri,
                "origin": level["origin"],
                "witness": sorted(witness_ids),
                "lang": lang_of(request),
            }
        ),
    )


@router.get("/sparql", response_class=HTMLResponse)
def sparql_page(request: Request, _: Reader) -> HTMLResponse:
    queries = [
        {"name": q.name, "title_zh": q.title_zh, "title_en": q.title_en, "text": q.text} for q in saved_queries()
    ]
    return render(request, "sparql.html", queries=queries, queries_json=json.dumps(queries, ensure_ascii=False))


@router.get("/transfer", response_class=HTMLResponse)
def transfer_page(
    request: Request,
    _: Reader,
    asset: Annotated[str | None, Query(max_length=500)] = None,
    destination: Annotated[str | None, Query(max_length=500)] = None,
    measures: Annotated[list[str] | None, Query()] = None,
    purpose: Annotated[str | None, Query(max_length=200)] = None,
    evidence: Annotated[list[str] | None, Query()] = None,
) -> HTMLResponse:
    from kg.transfer import asset_of

    svc = service(request)
    destinations = svc.destinations()
    result: dict[str, Any] | None = None
    error: MedgradeError | None = None
    # evidence for leaving the country: KIND=REFERENCE, one a line (blank lines ignored)
    evidence_lines = [line.strip() for text in evidence or [] for line in text.splitlines() if line.strip()]
    if asset and destination:
        try:
            result = svc.check_transfer(
                asset, destination, measures or [], purpose=purpose or None, evidence=evidence_lines
            )
        except MedgradeError as exc:
            error = exc
    return render(
        request,
        "transfer.html",
        destinations=destinations,
        asset=asset or "",
        destination=destination or "",
        chosen_measures=set(measures or []),
        measures=sorted(svc.ontology.measures, key=lambda m: m.label_zh),
        purpose=purpose or "",
        purposes=svc.ontology.cross_border.purposes,
        evidence_text="\n".join(evidence_lines),
        evidence_kinds=svc.ontology.cross_border.evidence,
        mechanisms=_mechanisms(svc),
        result=result,
        error=error,
        fix_links={f["focus"]: asset_of(svc.ids, result["asset"], f["focus"]) for f in result["fix_first"]}
        if result
        else {},
    )


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    return render(request, "login.html", error=None)


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    token = (form.get("token") or [""])[0].strip()[:200]
    if not token or not _key_allows_reading(request, token):
        error = AuthenticationError(
            "unknown or revoked API key, or not allowed to read", "API 密钥无效、已吊销或无读取权限"
        )
        response = render(request, "login.html", error=error)
        response.status_code = 401
        return response
    redirect = RedirectResponse("/ui/", status_code=303)
    redirect.set_cookie("medgrade_token", token, httponly=True, samesite="strict")
    return redirect
