"""The command line through a running server: while ``medgrade serve`` holds an embedded store
(and advertises itself, :mod:`kg.advert`), the commands that support it send their work to the
server's API with the server's local admin token, and print the same output with the same exit
codes. A command that does not go through the server yet says so and names the server, instead
of failing on the store's lock."""

from __future__ import annotations

import contextlib
import io
import zipfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from kg import errors
from kg.advert import Advertisement
from kg.errors import MedgradeError, Problem, StoreError
from kg.ontology import Ontology, load_ontology
from kg.settings import Settings
from kg.validation import Report

TIMEOUT = 3600.0  # seconds: an import of the year's inventory may take minutes
_BY_STATUS: dict[int, type[MedgradeError]] = {
    cls.status: cls
    for cls in (
        errors.InputError,
        errors.AuthenticationError,
        errors.ForbiddenError,
        errors.NotFoundError,
        errors.ReadOnlyError,
        errors.NotAcceptable,
        errors.ConflictError,
        errors.TooLargeError,
        errors.UnsupportedMediaType,
        errors.ImportProblem,
        errors.StoreError,
    )
}


class Unreachable(StoreError):
    """The advertised server does not answer (it may have just stopped)."""


class RemoteReport:
    """A report the server summarised (its ``summary()`` is what the command prints)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def summary(self) -> dict[str, Any]:
        return self.data

    def to_dict(self) -> dict[str, Any]:
        return self.data


class RemoteService:
    """The part of :class:`kg.service.Service` the command line uses, over a server's API."""

    def __init__(self, ad: Advertisement, settings: Settings) -> None:
        self.ad = ad
        self.settings = settings
        self.as_of = None
        self._ontology: Ontology | None = None
        self._names: dict[str, str] = {}  # asset names the server sent with a report
        headers = {
            "Authorization": f"Bearer {ad.token}",
            "X-Medgrade-User": quote(settings.user, safe=""),
        }  # UTF-8, percent-encoded
        self._http = httpx.Client(base_url=ad.url, headers=headers, timeout=TIMEOUT, trust_env=False)

    # --- plumbing ------------------------------------------------------------------------------
    def __enter__(self) -> RemoteService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def recover(self) -> list[str]:
        return []  # the server recovered the store when it started

    @property
    def ontology(self) -> Ontology:
        if self._ontology is None:
            self._ontology = load_ontology(self.settings.resolved_ontology_dir())
        return self._ontology

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from exc
        if response.status_code >= 400:
            raise _error(response)
        return response.json() if response.content else None

    def _unreachable(self, exc: Exception) -> Unreachable:
        return Unreachable(
            f"the server holding this store ({self.ad.url}, process {self.ad.pid}) did not answer: {exc}",
            f"占用本存储的服务（{self.ad.url}，进程 {self.ad.pid}）无应答：{exc}",
        )

    def unsupported(self, command: str) -> MedgradeError:
        return errors.ConflictError(
            f"'medgrade {command}' does not go through a running server yet, and medgrade serve (process "
            f"{self.ad.pid}, {self.ad.url}) holds this store: stop the server first, or use its API",
            f"“medgrade {command}”暂不能经由运行中的服务执行，而 medgrade serve（进程 {self.ad.pid}，{self.ad.url}）"
            "正占用本存储：请先停止服务，或使用其 API",
        )

    # --- what goes through the server ------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        data: dict[str, Any] = self._call("GET", "/api/status")
        return data

    def level(self, ref: str) -> dict[str, Any]:
        data: dict[str, Any] = self._call("GET", f"/api/assets/{quote(ref, safe='')}/level")
        return data

    def lineage(self, ref: str, direction: str = "both", depth: int = 5) -> dict[str, Any]:
        params = {"direction": direction, "depth": depth}
        data: dict[str, Any] = self._call("GET", f"/api/assets/{quote(ref, safe='')}/lineage", params=params)
        return data

    def check_transfer(
        self, asset: str, destination: str, measures: Sequence[str], purpose: str | None, evidence: Sequence[str]
    ) -> dict[str, Any]:
        from kg.transfer_records import parse_evidence

        given = parse_evidence(self.ontology, evidence)  # KIND=ID as typed → kind IRI → ID (the server reads IRIs)
        body = {"asset": asset, "destination": destination, "measures": list(measures), "evidence": given}
        if purpose:
            body["purpose"] = purpose
        data: dict[str, Any] = self._call("POST", "/api/transfers/check", json=body)
        return data

    def query(self, text: str, accept: str) -> bytes:
        """A SPARQL query through the server's endpoint: the answer's bytes as ``accept`` asks."""
        try:
            response = self._http.post("/sparql", data={"query": text}, headers={"Accept": accept})
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from exc
        if response.status_code >= 400:
            raise _error(response)
        return response.content

    def institution(self) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self._call("GET", "/api/institution")["institution"]
        return found

    def set_institution(
        self, *, actor: str, name: str | None = None, ciio: bool | None = None, justification: str = ""
    ) -> dict[str, Any]:
        body = {"name": name, "ciio": ciio, "justification": justification}
        data: dict[str, Any] = self._call("PUT", "/api/institution", json=body)
        return data

    def identify_important(
        self, ref: str, *, identified: bool, by: str, actor: str, justification: str
    ) -> dict[str, Any]:
        body = {"identified": identified, "by": by, "justification": justification}
        data: dict[str, Any] = self._call("PUT", f"/api/assets/{quote(ref, safe='')}/important-data", json=body)
        return data

    def record_transfer(
        self,
        asset: str,
        destination: str,
        *,
        subjects: int,
        actor: str,
        sensitive: int | None = None,
        on: Any = None,
        purpose: str | None = None,
        evidence: Sequence[str] = (),
        justification: str = "",
    ) -> dict[str, Any]:
        from kg.transfer_records import parse_evidence

        body: dict[str, Any] = {
            "asset": asset,
            "destination": destination,
            "subjects": subjects,
            "sensitive_subjects": sensitive,
            "provided_on": on.isoformat() if on is not None else None,
            "purpose": purpose,
            "evidence": parse_evidence(self.ontology, evidence),
            "justification": justification,
        }
        data: dict[str, Any] = self._call("POST", "/api/transfers", json=body)
        return data

    def add_transfer_evidence(
        self, record: str, evidence: Sequence[str], *, actor: str, justification: str = ""
    ) -> dict[str, Any]:
        from kg.transfer_records import parse_evidence

        body = {"evidence": parse_evidence(self.ontology, evidence), "justification": justification}
        data: dict[str, Any] = self._call("POST", f"/api/transfers/{quote(record, safe='')}/evidence", json=body)
        return data

    def transfer_records(self, year: int | None = None) -> dict[str, Any]:
        data: dict[str, Any] = self._call("GET", "/api/transfers", params={"year": year} if year else None)
        return data

    def _as_of(self) -> dict[str, str]:
        return {"as_of": self.as_of.isoformat()} if self.as_of is not None else {}

    def validate(self) -> Report:
        data = self._call("POST", "/api/admin/validate", params=self._as_of())
        report = Report.from_dict(data)
        self._names.update(data.get("names") or {})
        return report

    def report_names(self, report: Report) -> dict[str, str]:
        owners = {r.focus_id.split("/")[1] if r.focus_id.startswith("asset/") else r.focus_id for r in report.results}
        return {k: v for k, v in self._names.items() if k in owners}

    def review(self, refs: Sequence[str], *, actor: str, justification: str) -> dict[str, Any]:
        body: dict[str, Any] = {"assets": list(refs), "justification": justification}
        if self.as_of is not None:
            body["reviewed_on"] = self.as_of.isoformat()
        data: dict[str, Any] = self._call("POST", "/api/reviews", json=body)
        return data

    def overdue(self) -> dict[str, Any]:
        data: dict[str, Any] = self._call("GET", "/api/reviews/overdue", params=self._as_of())
        return data

    def export(self, fmt: str, path: Path) -> list[Path]:
        """The server's export written to ``path`` (CSV: the files of its zip, named after ``path``)."""
        try:
            response = self._http.get("/api/export", params={"format": fmt})
        except httpx.HTTPError as exc:
            raise self._unreachable(exc) from exc
        if response.status_code >= 400:
            raise _error(response)
        if fmt != "csv":
            path.write_bytes(response.content)
            return [path]
        written = []
        with zipfile.ZipFile(io.BytesIO(response.content)) as z:
            for name in z.namelist():  # the server's order: the asset sheet first
                local = Path(name).name.replace("medgrade-inventory", path.stem, 1)
                target = path.with_name(local.removesuffix(".csv") + path.suffix)
                target.write_bytes(z.read(name))
                written.append(target)
        return written

    def classification_queue(self, limit: int = 50, offset: int = 0) -> RemoteReport:
        return RemoteReport(self._call("GET", "/api/unclassified", params={"limit": limit, "offset": offset}))

    def propagate(self) -> RemoteReport:
        return RemoteReport(self._call("POST", "/api/admin/propagate"))

    def import_files(self, paths: Sequence[Path], progress: Callable[[int], None] | None = None) -> Any:
        from kg.service import ImportReport

        with contextlib.ExitStack() as stack:
            files = [("files", (p.name, stack.enter_context(_open(p)))) for p in paths]
            data = self._call("POST", "/api/imports", files=files)
        report = ImportReport(
            files=data["files"],
            added=data["added"],
            changed=data["changed"],
            unchanged=data["unchanged"],
            warnings=[Problem(**w) for w in data["warnings"]],
            triples=data["triples"],
            bulk=data["bulk"],
            record=data["record"],
        )
        return report


@contextlib.contextmanager
def _open(path: Path) -> Iterator[Any]:
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise errors.InputError(f"cannot read {path}: {exc.strerror}", f"无法读取 {path}：{exc.strerror}") from exc
    with handle:
        yield handle


def _error(response: httpx.Response) -> MedgradeError:
    """The server's problem+json answer as the error the command would have raised itself."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    en = str(body.get("detail") or response.reason_phrase or response.status_code)
    zh = str(body.get("detail_zh") or en)
    cls = _BY_STATUS.get(response.status_code, MedgradeError)
    return cls(en, zh, problems=[_Told(str(p), str(p)) for p in body.get("problems") or []])


class _Told(Problem):
    """A problem as the server worded it (already in both languages)."""

    def __str__(self) -> str:
        return self.message_en
