"""One exception tree for medgrade; each error knows its HTTP status and a bilingual title.

::

    MedgradeError                500  内部错误 / Internal error
    ├── InputError               400  输入有误 / Bad input
    │   ├── UnknownTermError     422  未知术语 / Unknown term
    │   ├── ImportProblem        422  导入内容有误 / Import rejected
    │   ├── QueryError           400  查询有误 / Bad query
    │   └── TooLargeError        413  请求过大 / Request too large
    ├── AuthenticationError      401  需要认证 / Authentication required
    ├── ForbiddenError           403  无权操作 / Forbidden
    ├── NotFoundError            404  未找到 / Not found
    ├── ConflictError            409  冲突 / Conflict
    ├── OntologyError            500  本体不可用 / Ontology cannot be used
    └── StoreError               503  存储不可用 / Store unavailable

Messages are bilingual: ``message_en`` and ``message_zh``. ``problems`` carries one line per
defect when an error sums up several (e.g. every broken term of an edited ontology).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One defect, located: where (file, term, line) and what, in both languages; ``code`` names
    the kind of defect and ``subject`` what it is about (a name, an id), for callers that group
    or count them (e.g. ``element-name-unresolved`` and the element name)."""

    message_en: str
    message_zh: str
    where: str = ""
    code: str = ""
    subject: str = ""

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


class ImportProblem(InputError):
    """An import was refused: every problem is listed (file, sheet, row, column); nothing written."""

    status = 422
    title_en = "Import rejected"
    title_zh = "导入内容有误"


class QueryError(InputError):
    """A SPARQL query or update is malformed or not allowed."""

    status = 400
    title_en = "Bad query"
    title_zh = "查询有误"


class LimitExceeded(QueryError):
    """A query ran past the time limit or returned more than the result-size limit."""

    status = 503
    title_en = "Query stopped"
    title_zh = "查询已终止"


class NotAcceptable(InputError):
    """No format the client accepts can carry the answer (HTTP content negotiation)."""

    status = 406
    title_en = "Not acceptable"
    title_zh = "无可接受的格式"


class UnsupportedMediaType(InputError):
    """A request body is of a media type the route does not take."""

    status = 415
    title_en = "Unsupported media type"
    title_zh = "不支持的媒体类型"


class AuthenticationError(MedgradeError):
    """No valid API key was presented where one is needed."""

    status = 401
    title_en = "Authentication required"
    title_zh = "需要认证"


class ForbiddenError(MedgradeError):
    """The API key's role does not allow the operation."""

    status = 403
    title_en = "Forbidden"
    title_zh = "无权操作"


class TooLargeError(InputError):
    """A request body is larger than the configured limit."""

    status = 413
    title_en = "Request too large"
    title_zh = "请求过大"


class NotFoundError(MedgradeError):
    """The requested thing does not exist."""

    status = 404
    title_en = "Not found"
    title_zh = "未找到"


class ConflictError(MedgradeError):
    """The request conflicts with the current state (e.g. it would create a derivation cycle)."""

    status = 409
    title_en = "Conflict"
    title_zh = "冲突"


class ReadOnlyError(MedgradeError):
    """This server is a read-only replica (``MEDGRADE_READ_ONLY``): writes go to the writer."""

    status = 405
    title_en = "Read-only server"
    title_zh = "只读服务"


class OntologyError(MedgradeError):
    """The ontology files cannot be read, or lack what medgrade needs from them."""

    status = 500
    title_en = "Ontology cannot be used"
    title_zh = "本体不可用"


class StoreError(MedgradeError):
    """The triple store cannot be opened or reached, or refused an operation."""

    status = 503
    title_en = "Store unavailable"
    title_zh = "存储不可用"
