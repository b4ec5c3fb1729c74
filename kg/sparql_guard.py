"""What a SPARQL request may not do here: reach the network or the file system.

``SERVICE`` (federated query) and ``LOAD`` (fetch a document) make the engine open a
connection — Oxigraph does both over HTTP — so they are refused before the engine sees the
request. The check works on tokens, not on raw text: a keyword inside a string literal, an IRI,
a comment, a variable (``?service``) or a prefixed name (``ex:load``) is not a keyword. SPARQL
lets ``\\uXXXX`` escapes stand anywhere in a request (they are decoded before parsing), so the
text is checked both as written and with the escapes decoded; a request refused by either
reading is refused.

``FROM``/``FROM NAMED``/``USING``/``USING NAMED`` and the protocol's graph parameters name
graphs *in the store*: the engines used here never dereference them, but an IRI there that is
not a graph of this store (``FROM <http://intranet/…>``, ``FROM <file:///etc/passwd>``) can only
be a mistake or a probe, so it is refused by name (:func:`check_dataset`).
"""

from __future__ import annotations

import re

from kg.errors import QueryError

TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<comment>\#[^\n\r]*)
  | (?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
              | '''(?:[^'\\]|\\.|'(?!''))*'''
              | "(?:[^"\\\n\r]|\\.)*"
              | '(?:[^'\\\n\r]|\\.)*')
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<var>[?$][^\s(){}\[\],;.]+)
  | (?P<word>[^\s(){}\[\],;<>"'#=!&|+*/^@?$]+)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")

REFUSED = {
    "SERVICE": (
        "SERVICE (federated query) is not allowed: this endpoint never opens network connections",
        "不允许使用 SERVICE（联邦查询）：本端点不会发起任何网络连接",
    ),
    "LOAD": (
        "LOAD is not allowed: this endpoint never fetches documents; import files with 'medgrade import'",
        "不允许使用 LOAD：本端点不会抓取任何文档；请用 “medgrade import” 导入文件",
    ),
}


def _decode(text: str) -> str:
    def char(m: re.Match[str]) -> str:
        code = int(m.group(1) or m.group(2), 16)
        return chr(code) if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else m.group(0)

    return _ESCAPE.sub(char, text)


def keywords(text: str) -> set[str]:
    """The bare words of ``text`` (upper-cased) that can be SPARQL keywords."""
    found = set()
    for m in TOKEN.finditer(text):
        word = m.group("word")
        if word and ":" not in word:
            found.add(word.upper())
    return found


def check(text: str) -> None:
    """Refuse a query or update that would reach the network or the file system."""
    words = keywords(text)
    decoded = _decode(text)
    if decoded != text:
        words |= keywords(decoded)
    for word, (en, zh) in REFUSED.items():
        if word in words:
            raise QueryError(en, zh)


def dataset_iris(text: str) -> list[str]:
    """The IRIs a request's ``FROM``/``FROM NAMED``/``USING``/``USING NAMED`` clauses name
    (prefixed names expanded with the request's ``PREFIX`` declarations)."""
    prefixes: dict[str, str] = {}
    tokens = [
        (m.lastgroup, m.group(0)) for m in TOKEN.finditer(_decode(text)) if m.lastgroup not in ("space", "comment")
    ]
    out: list[str] = []
    for i, (kind, value) in enumerate(tokens):
        upper = value.upper() if kind == "word" else ""
        if upper == "PREFIX" and i + 2 < len(tokens) and tokens[i + 2][0] == "iri":
            prefixes[tokens[i + 1][1].rstrip(":")] = tokens[i + 2][1][1:-1]
        if upper not in ("FROM", "USING"):
            continue
        j = i + 1
        if j < len(tokens) and tokens[j][0] == "word" and tokens[j][1].upper() == "NAMED":
            j += 1
        if j >= len(tokens):
            continue
        kind2, ref = tokens[j]
        if kind2 == "iri":
            out.append(ref[1:-1])
        elif kind2 == "word" and ":" in ref:
            prefix, _, local = ref.partition(":")
            out.append(prefixes.get(prefix, ref + " (unknown prefix)") + local if prefix in prefixes else ref)
    return out


def check_dataset(iris: list[str], known: set[str]) -> None:
    """Refuse graph names that are not graphs of this store."""
    unknown = [iri for iri in iris if iri not in known]
    if unknown:
        shown = ", ".join(f"<{i}>" for i in unknown[:3])
        raise QueryError(
            f"{shown} names no graph of this store: FROM, USING and the graph parameters select graphs "
            "held here (medgrade never fetches data from elsewhere)",
            f"{shown} 不是本存储中的图：FROM、USING 与图参数只能选择本存储中的图（medgrade 从不从别处获取数据）",
        )
