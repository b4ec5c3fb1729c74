"""What a SPARQL request may not do here: reach the network or the file system.

``SERVICE`` (federated query) and ``LOAD`` (fetch a document) make the engine open a
connection — Oxigraph does both over HTTP — so they are refused before the engine sees the
request. The check works on tokens, not on raw text: a keyword inside a string literal, an IRI,
a comment, a variable (``?service``) or a prefixed name (``ex:load``) is not a keyword. SPARQL
lets ``\\uXXXX`` escapes stand anywhere in a request (they are decoded before parsing), so the
text is checked both as written and with the escapes decoded; a request refused by either
reading is refused.

``FROM``/``FROM NAMED``/``USING``/``WITH`` and the protocol's ``default-graph-uri`` name graphs
*in the store*: the engines used here never dereference them, so they are allowed.
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
