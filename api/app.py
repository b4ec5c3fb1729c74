"""The FastAPI application factory: ``create_app(settings)``. No module-level app, no globals."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request

from api import problems
from kg import __version__
from kg.errors import NotFoundError
from kg.ontology import Ontology, load_ontology
from kg.settings import Settings


def create_app(settings: Settings | None = None, ontology: Ontology | None = None) -> FastAPI:
    """Build the API for ``settings``; ``ontology`` may be given to skip loading it from files."""
    settings = settings or Settings()
    onto = ontology or load_ontology(settings.resolved_ontology_dir())
    app = FastAPI(
        title="medgrade",
        version=__version__,
        description="医疗装备使用数据分类分级 / classification and grading of medical-equipment usage data",
    )
    app.state.settings = settings
    app.state.ontology = onto
    problems.install(app)

    @app.get("/health", summary="存活与状态 / liveness and status")
    async def health(request: Request) -> dict[str, Any]:
        o: Ontology = request.app.state.ontology
        return {
            "status": "ok",
            "version": __version__,
            "ontology": {"directory": str(o.directory), "triples": len(o.graph), "levels": len(o.levels)},
        }

    @app.get("/api/ontology/{section}", summary="本体内容 / what the ontology defines")
    async def ontology_section(section: str, request: Request) -> Any:
        from kg.ontology_report import SECTIONS

        if section not in SECTIONS:
            raise NotFoundError(
                f"no ontology section '{section}'; one of: {', '.join(SECTIONS)}",
                f"没有本体部分“{section}”，可选：{'、'.join(SECTIONS)}",
            )
        data, _render = SECTIONS[section]
        return data(request.app.state.ontology)

    return app
