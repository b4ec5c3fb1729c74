"""Errors as RFC 9457 ``application/problem+json``: typed medgrade errors keep their status and
bilingual detail; anything unexpected becomes an opaque 500 with a log line."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from kg.errors import MedgradeError

log = logging.getLogger("medgrade.api")
PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    """A problem+json response."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(MedgradeError)
    async def _medgrade(_: Request, exc: MedgradeError) -> JSONResponse:
        if exc.status >= 500:
            log.error("medgrade error: %s", exc)
        return problem(
            exc.status,
            f"{exc.title_zh} / {exc.title_en}",
            exc.message_en,
            detail_zh=exc.message_zh,
            problems=[str(p) for p in exc.problems],
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        response = problem(exc.status_code, str(exc.detail), str(exc.detail))
        response.headers.update(exc.headers or {})  # a redirect's Location, a 405's Allow
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors()]
        return problem(422, "请求参数有误 / Invalid request", "; ".join(errors))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return problem(500, "内部错误 / Internal error", "an unexpected error occurred; see the server log")
