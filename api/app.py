"""The FastAPI application factory: ``create_app(settings)``. No module-level app, no globals.

The application holds one :class:`kg.service.Service` (one store), the SPARQL query workers
(embedded store on disk), the API keys and a write gate: writes are serialised, reads run
concurrently; a read-only replica (``MEDGRADE_READ_ONLY``) refuses writes.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import problems
from api.auth import Keys, key_holder
from kg import __version__
from kg.errors import NotFoundError, TooLargeError
from kg.ontology import Ontology
from kg.query_workers import QueryWorkers
from kg.service import Service
from kg.settings import Settings

log = logging.getLogger("medgrade.api")


class BodyLimit:
    """413 for a body over ``limit`` bytes, declared (Content-Length) or streamed."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    def _error(self) -> TooLargeError:
        return TooLargeError(
            f"the request body is larger than {self.limit:,} bytes (MEDGRADE_MAX_BODY_BYTES)",
            f"请求体超过 {self.limit:,} 字节（MEDGRADE_MAX_BODY_BYTES）",
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            exc = self._error()
            response = problems.problem(
                413, f"{exc.title_zh} / {exc.title_en}", exc.message_en, detail_zh=exc.message_zh
            )
            await response(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise self._error()
            return message

        await self.app(scope, limited, send)


def create_app(
    settings: Settings | None = None,
    ontology: Ontology | None = None,
    service: Service | None = None,
    local_token: str | None = None,
) -> FastAPI:
    """Build the API for ``settings`` (or around ``service``, which the caller then closes);
    ``local_token``: an admin token for the command line on this machine (see :mod:`kg.advert`)."""
    settings = settings or (service.settings if service else Settings())
    owned = service is None
    service = service or Service(settings, ontology=ontology)
    if not settings.read_only:  # a replica leaves recovery to the writer
        for line in service.recover():  # what an interrupted process left: undone or finished first
            log.warning("recovery: %s", line)
    workers = QueryWorkers(service.store, settings.query_workers, settings.query_snapshot_quads)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        workers.close()
        if owned:
            service.close()

    app = FastAPI(
        title="medgrade",
        version=__version__,
        description="医疗装备使用数据分类分级 / classification and grading of medical-equipment usage data. "
        "Writes need `Authorization: Bearer <API key>` with the steward or admin role.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.service = service
    app.state.workers = workers if workers.store is not None else None
    app.state.keys = Keys(settings.api_keys, local_token)
    problems.install(app)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    origins = settings.cors_origin_list()
    if origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST", "PUT"], allow_headers=["*"]
        )

    from api.marquez import router as marquez_router
    from api.openlineage import router as openlineage_router
    from api.rest import router as rest_router
    from api.sparql import router as sparql_router

    app.include_router(sparql_router)
    app.include_router(rest_router)
    app.include_router(openlineage_router)
    app.include_router(marquez_router)

    from fastapi.responses import RedirectResponse
    from fastapi.staticfiles import StaticFiles

    from api.web import STATIC
    from api.web import router as web_router

    app.include_router(web_router)
    app.mount("/ui/static", StaticFiles(directory=STATIC), name="ui-static")

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/ui/")

    @app.get("/health", summary="存活与状态 / liveness and status")
    def health(request: Request) -> dict[str, Any]:
        svc: Service = request.app.state.service
        o = svc.ontology
        try:
            store: dict[str, Any] = {"descriptor": svc.store.descriptor, "initialized": svc.initialized(), "ok": True}
        except Exception as exc:  # health reports a broken store, never fails
            log.warning("health: store check failed: %s", exc)
            store = {"descriptor": svc.store.descriptor, "ok": False}
        answer = {
            "status": "ok" if store["ok"] else "degraded",
            "version": __version__,
            "read_only": request.app.state.settings.read_only,
            "store": store,
            "ontology": {"directory": str(o.directory), "triples": len(o.graph), "levels": len(o.levels)},
        }
        if store["ok"] and key_holder(request):  # who the institution is: for key holders only
            answer["institution"] = svc.institution()
        return answer

    @app.get("/api/ontology/{section}", summary="本体内容 / what the ontology defines")
    def ontology_section(section: str, request: Request) -> Any:
        from kg.ontology_report import SECTIONS

        if section not in SECTIONS:
            raise NotFoundError(
                f"no ontology section '{section}'; one of: {', '.join(SECTIONS)}",
                f"没有本体部分“{section}”，可选：{'、'.join(SECTIONS)}",
            )
        data, _render = SECTIONS[section]
        return data(request.app.state.service.ontology)

    return app
