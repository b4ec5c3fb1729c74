"""SPARQL query results as the W3C formats, written while the solutions are pulled, so that a
time limit and a result-size limit can stop a runaway query between two solutions.

SELECT results: JSON (``application/sparql-results+json``), XML (``…+xml``), CSV and TSV
(SPARQL 1.1 Query Results CSV and TSV Formats). Terms are pyoxigraph terms; ``str(term)`` is
their N-Triples form, which TSV uses as is.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from kg.errors import LimitExceeded

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

SELECT_TYPES = {
    "application/sparql-results+json": "json",
    "application/sparql-results+xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
    "application/json": "json",
    "application/xml": "xml",
}


def guarded(items: Iterable[Any], deadline: float, max_results: int) -> Iterator[Any]:
    """``items``, stopped with :class:`LimitExceeded` past ``deadline`` (``time.monotonic``) or
    after ``max_results`` items."""
    for n, item in enumerate(items, start=1):
        if n > max_results:
            raise LimitExceeded(
                f"the query returns more than {max_results:,} results (the result-size limit); add a LIMIT",
                f"查询结果超过 {max_results:,} 条（结果数量上限）；请加 LIMIT",
            )
        if time.monotonic() > deadline:
            raise time_limit()
        yield item


def time_limit(seconds: float | None = None) -> LimitExceeded:
    after = f" after {seconds:g} s" if seconds else ""
    after_zh = f"（{seconds:g} 秒）" if seconds else ""
    return LimitExceeded(
        f"the query was stopped at the time limit{after}; narrow it or add a LIMIT",
        f"查询已达到时间上限{after_zh}而被终止；请缩小范围或加 LIMIT",
    )


def _json_term(t: Any) -> dict[str, Any]:
    if isinstance(t, ox.NamedNode):
        return {"type": "uri", "value": t.value}
    if isinstance(t, ox.BlankNode):
        return {"type": "bnode", "value": t.value}
    if isinstance(t, ox.Literal):
        out: dict[str, Any] = {"type": "literal", "value": t.value}
        if t.language:
            out["xml:lang"] = t.language
        elif t.datatype.value != XSD_STRING:
            out["datatype"] = t.datatype.value
        return out
    if isinstance(t, ox.Triple):
        return {
            "type": "triple",
            "value": {
                "subject": _json_term(t.subject),
                "predicate": _json_term(t.predicate),
                "object": _json_term(t.object),
            },
        }
    raise TypeError(t)


def _xml_term(t: Any) -> str:
    if isinstance(t, ox.NamedNode):
        return f"<uri>{escape(t.value)}</uri>"
    if isinstance(t, ox.BlankNode):
        return f"<bnode>{escape(t.value)}</bnode>"
    if isinstance(t, ox.Literal):
        if t.language:
            return f"<literal xml:lang={quoteattr(t.language)}>{escape(t.value)}</literal>"
        if t.datatype.value != XSD_STRING:
            return f"<literal datatype={quoteattr(t.datatype.value)}>{escape(t.value)}</literal>"
        return f"<literal>{escape(t.value)}</literal>"
    if isinstance(t, ox.Triple):
        return (
            f"<triple><subject>{_xml_term(t.subject)}</subject><predicate>{_xml_term(t.predicate)}</predicate>"
            f"<object>{_xml_term(t.object)}</object></triple>"
        )
    raise TypeError(t)


def _csv_cell(t: Any) -> str:
    if t is None:
        return ""
    text = f"_:{t.value}" if isinstance(t, ox.BlankNode) else (t.value if hasattr(t, "value") else str(t))
    if any(c in text for c in ',"\r\n'):
        text = '"' + text.replace('"', '""') + '"'
    return text


def _tsv_cell(t: Any) -> str:
    return "" if t is None else str(t).replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def write_select(variables: Sequence[str], solutions: Iterable[Any], fmt: str) -> bytes:
    """Serialise SELECT solutions (pyoxigraph ``QuerySolution``s or sequences of terms)."""
    rows: Callable[[], Iterator[Sequence[Any]]] = lambda: (  # noqa: E731
        [s[i] for i in range(len(variables))] for s in solutions
    )
    if fmt == "json":
        bindings = [{v: _json_term(t) for v, t in zip(variables, row, strict=True) if t is not None} for row in rows()]
        return json.dumps(
            {"head": {"vars": list(variables)}, "results": {"bindings": bindings}}, ensure_ascii=False
        ).encode()
    if fmt == "xml":
        parts = [
            '<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head>',
            *(f"<variable name={quoteattr(v)}/>" for v in variables),
            "</head><results>",
        ]
        for row in rows():
            parts.append("<result>")
            parts += [
                f"<binding name={quoteattr(v)}>{_xml_term(t)}</binding>"
                for v, t in zip(variables, row, strict=True)
                if t is not None
            ]
            parts.append("</result>")
        parts.append("</results></sparql>\n")
        return "".join(parts).encode()
    if fmt == "csv":
        lines = [",".join(_csv_cell(v) for v in variables)]
        lines += [",".join(_csv_cell(t) for t in row) for row in rows()]
        return ("\r\n".join(lines) + "\r\n").encode()
    if fmt == "tsv":
        lines = ["\t".join(f"?{v}" for v in variables)]
        lines += ["\t".join(_tsv_cell(t) for t in row) for row in rows()]
        return ("\n".join(lines) + "\n").encode()
    raise ValueError(fmt)


def write_boolean(value: bool, fmt: str) -> bytes:
    """Serialise an ASK answer (CSV and TSV: the word, as most servers do)."""
    if fmt == "json":
        return json.dumps({"head": {}, "boolean": value}).encode()
    if fmt == "xml":
        return (
            '<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head/>'
            f"<boolean>{'true' if value else 'false'}</boolean></sparql>\n"
        ).encode()
    return (("true" if value else "false") + "\n").encode()
