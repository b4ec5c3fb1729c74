"""Text normalisation for matching element names against the ontology's terms.

English: NFKC, case-folded words; CamelCase and snake_case split (``PatientName`` → patient
name, ``CTDIvol`` → ctdivol and ctd ivol), possessives dropped, plurals folded. Chinese: the
normalised string itself (terms are matched as substrings) and its character bigrams.
"""

from __future__ import annotations

import re
import unicodedata

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*|[0-9]+")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_STOP = frozenset({"of", "the", "a", "an", "and", "or", "for", "in", "on", "to", "at", "by", "with", "s", "is", "this"})


def normalise(text: str) -> str:
    """NFKC, case-folded, whitespace squeezed."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def has_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


def stem(word: str) -> str:
    """A light English stem: plural and possessive endings folded (``studies`` → study)."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def words(text: str) -> list[str]:
    """The English words of ``text``, split at CamelCase, stemmed, stop words dropped.

    ``"Patient's Name"`` and ``"PatientName"`` both give ``["patient", "name"]``.
    """
    text = unicodedata.normalize("NFKC", text).replace("'s", " ").replace("’s", " ")
    out: list[str] = []
    for raw in _WORD.findall(text):
        parts = _CAMEL.findall(raw) if not raw.isupper() and not raw.islower() else [raw]
        for part in parts:
            w = stem(part.casefold())
            if w and w not in _STOP:
                out.append(w)
    return out


def phrase_key(text: str) -> tuple[str, ...]:
    """The word sequence a term is indexed under."""
    return tuple(words(text))


def bigrams(text: str) -> set[str]:
    """Character bigrams of the Chinese runs of ``text``."""
    out: set[str] = set()
    for run in re.findall(r"[\u3400-\u9fff\uf900-\ufaff]+", text):
        out.update(run[i : i + 2] for i in range(len(run) - 1))
    return out
