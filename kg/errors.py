"""One exception tree for medgrade; each error knows its HTTP status and a bilingual title.

::

    MedgradeError                500  内部错误 / Internal error
    ├── InputError               400  输入有误 / Bad input
    │   └── UnknownTermError     422  未知术语 / Unknown term
    ├── NotFoundError            404  未找到 / Not found
    └── OntologyError            500  本体不可用 / Ontology cannot be used

Messages are bilingual: ``message_en`` and ``message_zh``. ``problems`` carries one line per
defect when an error sums up several (e.g. every broken term of an edited ontology).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One defect, located: where (file, term, line) and what, in both languages."""

    message_en: str
    message_zh: str
    where: str = ""

    def __str__(self) -> str:
        prefix = f"{self.where}: " if self.where else ""
        return f"{prefix}{self.message_en} / {self.message_zh}"


class MedgradeError(Exception):
    """Base of every error medgrade raises on purpose."""

    status: int = 500
    title_en: str = "Internal error"
    title_zh: str = "内部错误"

    def __init__(self, message_en: str, message_zh: str | None = None, *, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message_en)
        self.message_en = message_en
        self.message_zh = message_zh or message_en
        self.problems = tuple(problems)

    def __str__(self) -> str:
        lines = [f"{self.message_en} / {self.message_zh}"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


class InputError(MedgradeError):
    """The caller's input is malformed or inconsistent; nothing was changed."""

    status = 400
    title_en = "Bad input"
    title_zh = "输入有误"


class UnknownTermError(InputError):
    """A name, code or IRI does not denote any term of the ontology (or denotes several)."""

    status = 422
    title_en = "Unknown term"
    title_zh = "未知术语"


class NotFoundError(MedgradeError):
    """The requested thing does not exist."""

    status = 404
    title_en = "Not found"
    title_zh = "未找到"


class OntologyError(MedgradeError):
    """The ontology files cannot be read, or lack what medgrade needs from them."""

    status = 500
    title_en = "Ontology cannot be used"
    title_zh = "本体不可用"
