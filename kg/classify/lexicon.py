"""The classifier's vocabulary, read from the ontology.

Every business category and personal-information category contributes its labels, synonyms
(``skos:altLabel``), cue words (``skos:hiddenLabel``) and examples, in Chinese and English. An
English term is indexed by its word sequence (:func:`kg.classify.text.phrase_key`), a Chinese
term as a string. Examples count only for the DICOM tags they cite ("DICOM Device Serial
Number (0018,1000)" ties that attribute to the category). Editing these in Protégé changes
what the classifier suggests, with no code change.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from kg.classify.text import has_cjk, normalise, phrase_key
from kg.ontology import Ontology
from kg.vocabulary import Concept

_TAG_IN_TEXT = re.compile(r"\(([0-9A-Fa-f]{4}),([0-9A-Fa-f]{4})\)")

# How much a match of each kind of term counts (a phrase counts more per extra word).
WEIGHTS = {"label": 3.0, "alt": 2.5, "hidden": 2.0}


@dataclass(frozen=True, slots=True)
class Entry:
    concept: str  # IRI
    term: str  # as written in the ontology
    kind: str  # label | alt | hidden
    weight: float


class Lexicon:
    """Terms of one family of concepts (business categories, or personal-information kinds)."""

    def __init__(self, concepts: list[Concept]) -> None:
        self.english: dict[tuple[str, ...], list[Entry]] = defaultdict(list)
        self.chinese: dict[str, list[Entry]] = defaultdict(list)
        self.dicom_examples: dict[int, list[Entry]] = defaultdict(list)
        self.max_words = 1
        for c in concepts:
            terms = [(c.label_zh, "label"), (c.label_en, "label")]
            terms += [(t, "alt") for t in c.alt_labels] + [(t, "hidden") for t in c.hidden_labels]
            for term, kind in terms:
                self._add(c.iri, term, kind)
            for example in c.examples:
                for g, e in _TAG_IN_TEXT.findall(example):
                    self.dicom_examples[int(g + e, 16)].append(Entry(c.iri, example, "example", 3.0))
        self.chinese_terms = sorted(self.chinese, key=len, reverse=True)

    def _add(self, iri: str, term: str, kind: str) -> None:
        if not term.strip():
            return
        if has_cjk(term):
            key = normalise(term)
            # Chinese terms: longer is more specific; one character alone says little.
            weight = WEIGHTS[kind] * min(max(len(key) - 1, 0.5), 3) / 1.5
            self.chinese[key].append(Entry(iri, term, kind, weight))
            return
        words = phrase_key(term)
        if not words:
            return
        weight = WEIGHTS[kind] * (1 + 0.6 * (len(words) - 1))
        if len(words) == 1 and len(words[0]) <= 2 and kind == "hidden":
            weight *= 0.6  # "ip", "qc": short cue words are weak on their own
        if any(e.concept == iri for e in self.english[words]):
            return
        self.english[words].append(Entry(iri, term, kind, weight))
        self.max_words = max(self.max_words, len(words))


def business_lexicon(onto: Ontology) -> Lexicon:
    return Lexicon(list(onto.categories))


def personal_lexicon(onto: Ontology) -> Lexicon:
    return Lexicon(list(onto.personal_information))
