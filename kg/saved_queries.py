"""Saved governance queries (``kg/queries/*.rq``): plain SPARQL over the endpoint's default
graph (the union of the inventory, the inferred graph and the ontology), each with a title in
both languages in its leading comments."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

QUERIES = Path(__file__).resolve().parent / "queries"


@dataclass(frozen=True)
class SavedQuery:
    name: str
    title_zh: str
    title_en: str
    text: str


def saved_queries() -> list[SavedQuery]:
    out = []
    for path in sorted(QUERIES.glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        titles = {
            key.strip(): value.strip()
            for line in text.splitlines()
            if line.startswith("# title_")
            for key, _, value in [line[2:].partition(":")]
        }
        out.append(SavedQuery(path.stem, titles.get("title_zh", path.stem), titles.get("title_en", path.stem), text))
    return out
