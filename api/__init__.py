"""medgrade's HTTP API (FastAPI). Build it with :func:`api.app.create_app`."""

from __future__ import annotations

from api.app import create_app

__all__ = ["create_app"]
