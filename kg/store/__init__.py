"""Stores: one small protocol, backends chosen by a descriptor string.

=====================================  ==========================================================
descriptor                             backend
=====================================  ==========================================================
``oxigraph:PATH``                      embedded, persistent Oxigraph (the default, ``./medgrade-data``)
``memory:``                            in-process Oxigraph, nothing on disk (tests, experiments)
``sparql:QUERY_URL|UPDATE_URL``        any SPARQL 1.1 server (Protocol + Update) over HTTP
=====================================  ==========================================================
"""

from __future__ import annotations

from pathlib import Path

from kg.errors import InputError
from kg.store.base import Changeset, Graphs, Store, sparql_term

__all__ = ["Changeset", "Graphs", "Store", "embedded_path", "open_store", "sparql_term"]


def embedded_path(descriptor: str) -> Path | None:
    """Where the embedded store ``descriptor`` names lives on disk (None for any other store):
    for what is done to its files without opening it (backup, restore, a server's advertisement)."""
    kind, _, rest = descriptor.partition(":")
    return Path(rest) if kind == "oxigraph" and rest else None


def open_store(descriptor: str, *, user: str | None = None, password: str | None = None) -> Store:
    """Open the store a descriptor names; ``user``/``password``: the account on a SPARQL server
    (sent as HTTP Basic or Digest credentials, whichever the server challenges for)."""
    kind, _, rest = descriptor.partition(":")
    if kind == "memory" and rest == "":
        from kg.store.oxigraph import OxigraphStore

        return OxigraphStore(None)
    if kind == "oxigraph" and rest:
        from kg.store.oxigraph import OxigraphStore

        return OxigraphStore(rest)
    if kind == "sparql" and rest:
        from kg.store.sparql import SparqlStore

        query_url, _, update_url = rest.partition("|")
        return SparqlStore(query_url, update_url or None, user=user, password=password)
    raise InputError(
        f"unknown store descriptor '{descriptor}': use oxigraph:PATH, memory: or sparql:QUERY_URL|UPDATE_URL",
        f"无法识别的存储描述“{descriptor}”：请使用 oxigraph:路径、memory: 或 sparql:查询地址|更新地址",
    )
