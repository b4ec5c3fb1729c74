"""REST routes of SPEC §9 over :class:`kg.service.Service`: the same answers as the CLI's
``--json``. Reads are open unless keys are required for reads; writes need a steward key."""

from __future__ import annotations

import datetime as dt
import io
import tempfile
import zipfile
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StringConstraints

from api.auth import Caller, require
from kg.errors import InputError
from kg.exporters import ExportFormat
from kg.service import Service

router = APIRouter(prefix="/api")
Reader = Annotated[Caller, Depends(require("reader"))]


def service(request: Request) -> Service:
    return request.app.state.service  # type: ignore[no-any-return]


class Direction(StrEnum):
    upstream = "upstream"
    downstream = "downstream"
    both = "both"


@router.get("/assets", summary="数据资产列表 / list and filter assets")
def list_assets(
    request: Request,
    _: Reader,
    min_rank: Annotated[int | None, Query(ge=1, le=10, description="最低有效级别 / minimum effective rank")] = None,
    category: Annotated[str | None, Query(description="分类（任意名称或编码，含下级）/ category by any name")] = None,
    equipment: Annotated[str | None, Query(description="设备标识或设备类型 / device id or equipment type")] = None,
    q: Annotated[str | None, Query(max_length=200, description="标识或名称中的文字 / text in id or name")] = None,
    overdue: Annotated[
        bool,
        Query(
            description="仅列出复核已到期的资产（R15，按 MEDGRADE_TODAY 或今天判断）/ only the assets due for their "
            "periodic review (R15, judged by MEDGRADE_TODAY or today)"
        ),
    ] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    return service(request).assets(
        min_rank=min_rank, category=category, equipment=equipment, q=q, overdue=overdue, limit=limit, offset=offset
    )


@router.get(
    "/unclassified",
    summary="待分类队列 / the classification queue",
    description="没有分类的数据资产（待分类，多来自 OpenLineage 或 RDF），按标识排列，各附分类助手据名称与数据元素"
    "名称给出的建议、其元素与由来源继承的生效级别。 / Data assets with no category (unclassified, usually from "
    "OpenLineage or RDF), by id, each with the classification assistant's suggestion from its name and its "
    "elements' names, its elements and the effective level it inherits from its sources.",
)
def unclassified_queue(
    request: Request,
    _: Reader,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    return service(request).classification_queue(limit=limit, offset=offset).to_dict()


@router.get(
    "/assets/{id:path}/level",
    summary="级别答复 / the level answer",
    description="评估级别、规则最低级别、继承级别与生效级别（三者中最高者，R7）及其决定者 `set_by`"
    "（inherited | rules | assessed），级别来源、见证路径、防护措施与理由。评估低于规则最低级别时照录，但不降低生效级别。"
    " / The assessed level, the rules' minimum, the inherited level and the effective level (the highest of "
    "the three, R7) with what sets it, `set_by` (inherited | rules | assessed); origin, witness path, measures "
    "and reasons. An assessment below the rules' minimum stays recorded but never lowers the effective level.",
    response_model=dict[str, Any],
)
async def asset_level(id: str, request: Request, _: Reader) -> JSONResponse:
    # the hottest route: point lookups of well under a millisecond, run on the event loop (no
    # thread hand-off) and serialised directly (no response-model pass over the answer)
    return JSONResponse(service(request).level(id))


@router.get("/assets/{id:path}/lineage", summary="数据血缘 / lineage around an asset")
def asset_lineage(
    id: str,
    request: Request,
    _: Reader,
    direction: Direction = Direction.both,
    depth: Annotated[int, Query(ge=0, le=100)] = 5,
    max_nodes: Annotated[
        int | None, Query(ge=1, le=50_000, description="最多节点数（广度优先）/ stop after this many nodes")
    ] = None,
) -> dict[str, Any]:
    return service(request).lineage(id, direction.value, depth, max_nodes)


class Assessment(BaseModel):
    justification: str = Field(min_length=1, max_length=4000, description="理由（R13）/ why (R13)")
    category: str | None = Field(default=None, description="分类，任意名称或编码 / category, any name or code")
    level: str | None = Field(default=None, description="级别，名称或级次 / level, name or rank")
    impacts: dict[str, str] | None = Field(default=None, description="影响对象 → 影响程度 / impact object → degree")
    suggestion: str | None = Field(
        default=None,
        max_length=500,
        description="采纳该数据元素的分类建议（补足未给出的分类与级别，记入审计）/ accept the classification "
        "suggestion for this element: it fills the category and level not given, and the record says so",
    )
    elements_considered: (
        list[Annotated[str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True)]] | None
    ) = Field(
        default=None,
        max_length=20,
        description="所考虑的定级要素（GB/T 43697-2024 §6.3，名称或英文名；给出时替换原有的）/ grading elements "
        "considered (GB/T 43697-2024 §6.3, by name; when given they replace the asset's)",
    )


@router.put("/assets/{id:path}/assessment", summary="定级评估（数据管理员）/ set an assessment (steward)")
def put_assessment(
    id: str, body: Assessment, request: Request, who: Annotated[Caller, Depends(require("steward"))]
) -> dict[str, Any]:
    return service(request).assess(
        id,
        actor=who.name,
        justification=body.justification,
        category=body.category,
        level=body.level,
        impacts=body.impacts,
        suggestion=body.suggestion,
        elements_considered=body.elements_considered,
    )


class Review(BaseModel):
    justification: str = Field(min_length=1, max_length=4000, description="复核说明（R13）/ why: what the review found")
    reviewed_on: dt.date | None = Field(
        default=None,
        description="复核日期（默认今天，北京时间；不得晚于今天）/ the review date (default today, Asia/Shanghai)",
    )


@router.post(
    "/assets/{id:path}/review",
    summary="记录定期复核（数据管理员）/ record a periodic review (steward)",
    description="记录对该资产分类与级别的定期复核（R15，默认每年）：一条复核记录（人、时、因）并刷新上次复核日期，"
    "然后增量校验，R15 提示随之消除。 / Records the periodic review (R15, by default yearly) of the asset's "
    "category and level: a review record (who, when, why) and a new last-reviewed date, then re-validates the "
    "asset incrementally, which clears its R15 result.",
)
def post_review(
    id: str, body: Review, request: Request, who: Annotated[Caller, Depends(require("steward"))]
) -> dict[str, Any]:
    return service(request).review([id], actor=who.name, justification=body.justification, day=body.reviewed_on)


class ImportantData(BaseModel):
    identified: bool = Field(
        description="有关部门已告知或公开发布其为重要数据 / whether the authorities have notified or published it as "
        "important data"
    )
    by: str = Field(min_length=1, max_length=1000, description="依据：部门、文号或目录 / what the finding rests on")
    justification: str = Field(min_length=1, max_length=4000, description="说明（R13）/ why")


@router.put(
    "/assets/{id:path}/important-data",
    summary="记录重要数据识别结论（数据管理员）/ record the identification as important data (steward)",
    description="《促进和规范数据跨境流动规定》（2024）第二条：未被告知或公开发布为重要数据的，不需要作为重要数据申报出境安全评估。"
    "记录结论及其依据（审计）；未记录时按生效级别判断（就高从严）。 / 2024 cross-border provisions art. 2: data not "
    "notified or published as important data need not be declared as such. Records the finding and what it rests "
    "on (audited); while unrecorded the effective level decides (the stricter reading).",
)
def put_important_data(
    id: str, body: ImportantData, request: Request, who: Annotated[Caller, Depends(require("steward"))]
) -> dict[str, Any]:
    return service(request).identify_important(
        id, identified=body.identified, by=body.by, actor=who.name, justification=body.justification
    )


@router.get("/assets/{id:path}", summary="单个数据资产 / one asset")
def get_asset(id: str, request: Request, _: Reader) -> dict[str, Any]:
    return service(request).asset(id)


class DerivationChange(BaseModel):
    source: str = Field(description="来源资产 / source asset (id or IRI)")
    target: str = Field(description="衍生资产 / derived asset (id or IRI)")
    activity: str | None = Field(default=None, description="加工方式 / transformation type, any name")
    approved: bool = Field(default=False, description="降级已审批 / the reduction is approved")


class PreviewRequest(BaseModel):
    set_levels: dict[str, str] = Field(default_factory=dict, description="资产 → 级别 / asset → level (any name)")
    add: list[DerivationChange] = Field(default_factory=list)
    remove: list[DerivationChange] = Field(default_factory=list)


@router.post(
    "/preview",
    summary="假设分析 / what-if: effective levels that would change",
    description="不写入任何内容；未知的资产或元素答 404，不作计算。评估低于规则最低级别时生效级别不变。"
    " / Writes nothing; an unknown asset or element is a 404 and nothing is computed. A level set below an "
    "asset's rules' minimum leaves its effective level as it is.",
)
def preview(body: PreviewRequest, request: Request, _: Reader) -> dict[str, Any]:
    changes = service(request).preview(
        set_levels=body.set_levels,
        add=[d.model_dump() for d in body.add],
        remove=[{"source": d.source, "target": d.target} for d in body.remove],
    )
    return {"changes": changes}


@router.get("/validation", summary="SHACL 校验报告 / the SHACL report as JSON")
def validation(request: Request, _: Reader) -> dict[str, Any]:
    svc = service(request)
    if request.app.state.settings.read_only:  # a replica reads the report the writer keeps
        return svc.validator().stored().to_dict()
    return svc.validate().to_dict()


_MEDIA = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ttl": "text/turtle",
    "jsonld": "application/ld+json",
    "csv": "application/zip",
}


@router.get("/export", summary="导出分类分级清单 / export the list", response_class=Response)
def export(request: Request, _: Reader, format: ExportFormat = ExportFormat.xlsx) -> Response:
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / f"medgrade-inventory.{format.value}"
        written = service(request).export(format.value, target)
        if format is ExportFormat.csv:
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
                for path in written:
                    z.write(path, path.name)
            body, name = buffer.getvalue(), "medgrade-inventory-csv.zip"
        else:
            body, name = written[0].read_bytes(), written[0].name
    return Response(
        body, media_type=_MEDIA[format.value], headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


class Approval(BaseModel):
    approved_by: str = Field(min_length=1, max_length=200)
    approved_on: str | None = Field(default=None, description="YYYY-MM-DD")
    approval_note: str | None = Field(default=None, max_length=4000)


class NewDerivation(BaseModel):
    source: str = Field(description="来源资产 / source asset (id or IRI)")
    target: str = Field(description="衍生资产 / derived asset (id or IRI)")
    activity: str | None = Field(default=None, description="加工方式 / transformation type, any name")
    approval: Approval | None = None
    justification: str = Field(min_length=1, max_length=4000)


@router.post("/derivations", status_code=201, summary="新增衍生关系（环路 409）/ add a derivation (409 on a cycle)")
def post_derivation(
    body: NewDerivation, request: Request, who: Annotated[Caller, Depends(require("steward"))]
) -> dict[str, Any]:
    return service(request).add_derivation(
        body.source,
        body.target,
        actor=who.name,
        justification=body.justification,
        activity=body.activity,
        approval=body.approval.model_dump() if body.approval else None,
    )


@router.post("/admin/reload", summary="重新载入本体与规则（管理员）/ reload ontology and shapes (admin)")
def reload(request: Request, who: Annotated[Caller, Depends(require("admin"))]) -> dict[str, Any]:
    return service(request).reload(actor=who.name)


@router.post("/admin/propagate", summary="全量级别传递（管理员）/ propagate every level again (admin)")
def propagate(request: Request, _: Annotated[Caller, Depends(require("admin"))]) -> dict[str, Any]:
    """Recompute the inherited and effective levels of the whole inventory (as `medgrade propagate`)."""
    return service(request).propagate().summary()


AsOf = Annotated[
    dt.date | None,
    Query(description="按此日期判断复核是否到期（R15）/ judge reviews as of this date (YYYY-MM-DD; default today)"),
]


@router.post(
    "/admin/validate",
    summary="全量 SHACL 校验（管理员）/ validate the whole store (admin)",
    description="与 `medgrade validate` 相同：全量校验并保存报告；`names` 给出结果涉及的资产名称。 / As "
    "`medgrade validate`: validates everything and keeps the report; `names` maps the asset ids the results "
    "concern to their names.",
)
def post_validate(
    request: Request, _: Annotated[Caller, Depends(require("admin"))], as_of: AsOf = None
) -> dict[str, Any]:
    svc = service(request)
    report = svc.validate(as_of=as_of)
    return {**report.to_dict(), "names": svc.report_names(report)}


class Reviews(Review):
    assets: list[str] = Field(
        min_length=1, max_length=10_000, description="已复核的资产 / the assets reviewed (id or IRI)"
    )


@router.post(
    "/reviews",
    summary="记录多项资产的定期复核（数据管理员；全部或全不）/ record the periodic review of several assets (steward; all or nothing)",
    description="与 `medgrade review ASSET…` 相同：一个事务记录全部复核；任一资产未知则全部拒绝（404）。 / As "
    "`medgrade review ASSET…`: one transaction for all; an unknown asset refuses them all (404).",
)
def post_reviews(
    body: Reviews, request: Request, who: Annotated[Caller, Depends(require("steward"))]
) -> dict[str, Any]:
    return service(request).review(body.assets, actor=who.name, justification=body.justification, day=body.reviewed_on)


@router.get("/reviews/overdue", summary="复核已到期的资产（R15）/ the assets due for their periodic review (R15)")
def overdue(
    request: Request,
    _: Reader,
    as_of: AsOf = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    return service(request).overdue(limit=limit, offset=offset, as_of=as_of)


@router.get("/status", summary="存储中的图与数量 / the store's graphs and counts")
def status(request: Request, _: Reader) -> dict[str, Any]:
    return service(request).status()


@router.post(
    "/imports",
    status_code=201,
    summary="导入清单文件（数据管理员；全部成功或全部不写入）/ import inventory files (steward; all or nothing)",
    description="上传一个或多个清单文件（multipart 字段 `files`：.csv .xlsx .ttl .jsonld .nq .nt 或 OpenLineage 事件 .json），"
    "与 `medgrade import` 相同：全部检查通过才写入，任何问题都拒绝全部文件（422，逐条列出）。 / One or more inventory "
    "files (multipart field `files`), as `medgrade import`: written only when every file passes its checks; any "
    "problem refuses them all (422, each listed).",
)
def post_imports(
    files: list[UploadFile], request: Request, who: Annotated[Caller, Depends(require("steward"))]
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        paths: list[Path] = []
        for upload in files:
            name = Path(upload.filename or "").name  # no directories from the client
            if not name or name in (".", "..") or any(p.name == name for p in paths):
                raise InputError(
                    f"every uploaded file needs its own file name (got '{upload.filename}')",
                    f"每个上传文件须有各自的文件名（收到“{upload.filename}”）",
                )
            path = Path(tmp) / name
            with path.open("wb") as out:
                while chunk := upload.file.read(1 << 20):
                    out.write(chunk)
            paths.append(path)
        report = service(request).import_files(paths, actor=who.name)
    return report.to_dict()


Evidence = Annotated[
    dict[Annotated[str, StringConstraints(max_length=200)], Annotated[str, StringConstraints(max_length=500)]],
    Field(
        max_length=20,
        description="已具备的证明材料：种类 → 编号 / evidence in hand: kind (e.g. standard_contract_filing, "
        "separate_consent, pi_impact_assessment, security_assessment_approval, pi_protection_certification, "
        "hgr_filing_and_backup) → reference",
    ),
]
PURPOSE = "申报的出境目的（可免予申报）/ the declared purpose that may exempt it: contract | hr | emergency"


class TransferCheck(BaseModel):
    asset: str = Field(description="资产 / asset (id or IRI)")
    destination: str = Field(description="去向 / destination (id or IRI)")
    measures: list[str] = Field(default_factory=list, description="提供方声明的措施 / measures the provider declares")
    purpose: str | None = Field(default=None, max_length=200, description=PURPOSE)
    evidence: Evidence = Field(default_factory=dict)


class FixFirst(BaseModel):
    """One defect that must be fixed before the asset may leave."""

    rule: str = Field(description="规则 / rule id (R1–R6, R7 no effective level, R8)")
    severity: str = Field(description="严重程度 / severity (Violation)")
    focus: str = Field(description="出问题的节点 / the node at fault: the asset, an element, a witness activity (IRI)")
    focus_id: str = Field(description="其标识 / its id")
    message_zh: str
    message_en: str


class TransferAnswer(BaseModel):
    model_config = {"extra": "allow"}  # keys added to the answer later pass through

    asset: str = Field(description="资产 / asset IRI")
    destination: str = Field(description="去向 / destination IRI")
    allowed: bool = Field(
        description="无 R12 违规、无须先修正的问题、无出境禁止且不缺证明材料时才允许 / true only with no R12 "
        "violation, nothing to fix first, no cross-border prohibition and no missing evidence"
    )
    effective: dict[str, Any] | None = Field(description="生效级别 / effective level")
    clearance: dict[str, Any] | None = Field(description="去向准入级别 / destination cleared up to")
    declared_measures: list[dict[str, Any]]
    missing_measures: list[dict[str, Any]]
    problems: list[dict[str, Any]] = Field(description="R12 检查结果 / the R12 results for this transfer")
    fix_first: list[FixFirst] = Field(
        description="须先修正：本次检查时校验发现的资产及其元素的 R1–R6 违规、其级别见证路径上加工活动的 R8 违规、"
        "缺少分类或生效级别；按规则、标识、信息排序 / fix first: R1–R6 violations on the asset and its elements, "
        "R8 violations on the activities of its level's witness path (validated at check time), a missing category "
        "or effective level; ordered by rule, focus id and message"
    )
    mechanism: str | None = Field(
        default=None,
        description="数据出境机制（去向在境外时）：prohibited、security_assessment、standard_contract_or_certification、"
        "exempt；境内去向为 null / the cross-border mechanism for a destination abroad (null for a domestic one)",
    )
    prohibitions: list[dict[str, Any]] = Field(
        default_factory=list, description="适用的出境禁止 / the cross-border prohibitions that apply"
    )
    basis: list[dict[str, Any]] = Field(
        default_factory=list,
        description="适用的出境规则及出处、条文 / the cross-border rules that apply, with sources and texts",
    )
    counts: dict[str, Any] = Field(
        default_factory=dict,
        description="自当年1月1日起出境人数 / people provided abroad since 1 January: subjects, sensitive_subjects, "
        "year_before, with_this",
    )
    missing_evidence: list[dict[str, Any]] = Field(
        default_factory=list,
        description="出境前须具备而尚未登记的证明材料 / evidence required before leaving the country and not recorded",
    )


@router.post(
    "/transfers/check",
    summary="数据出院检查 / may this asset go to that destination",
    description="检查数据能否提供给某去向：R12（准入级别、所需措施）之外，级别本身须可靠——资产或其元素违反 R1–R6、"
    "级别见证路径上的降级加工未经审批（R8）、或缺少分类或生效级别时，一律不允许，并在 `fix_first` 中列出须先修正的问题。"
    "检查不写入任何内容；无法完成检查时返回错误，绝不答复允许。\n\n"
    "May this asset go to that destination? Besides R12 (clearance, required measures) the level itself must be "
    "sound: an R1–R6 violation on the asset or its elements, an unapproved level-reducing activity on its "
    "witness path (R8), or a missing category or effective level blocks it, and `fix_first` lists what must be "
    "fixed first. A check writes nothing; when it cannot be completed the answer is an error, never allowed.",
    response_model=TransferAnswer,
)
def transfer_check(body: TransferCheck, request: Request, _: Reader) -> dict[str, Any]:
    return service(request).check_transfer(body.asset, body.destination, body.measures, body.purpose, body.evidence)


class TransferRecordIn(BaseModel):
    asset: str = Field(max_length=500, description="所提供的资产 / the asset provided (id or IRI)")
    destination: str = Field(max_length=500, description="去向 / destination (id or IRI)")
    subjects: int = Field(ge=0, le=10**12, description="所涉人数（含敏感）/ people whose information it carried")
    sensitive_subjects: int | None = Field(
        default=None,
        ge=0,
        le=10**12,
        description="其中敏感个人信息人数（默认：资产含敏感个人信息时为全部，否则 0）/ of whom with sensitive personal "
        "information (default: all when the asset carries sensitive personal information, else 0)",
    )
    provided_on: dt.date | None = Field(
        default=None, description="提供日期（默认今天，北京时间）/ the day (default today, Asia/Shanghai)"
    )
    purpose: str | None = Field(default=None, max_length=200, description=PURPOSE)
    evidence: Evidence = Field(default_factory=dict)
    justification: str = Field(default="", max_length=4000, description="说明（R13）/ why")


@router.post(
    "/transfers",
    summary="登记数据提供记录（数据管理员）/ record a provision that happened (steward)",
    description="登记一次已发生的数据提供（审计，R13）。去向在境外时，按自当年1月1日起（北京时间）各记录累计的人数判定出境机制"
    "并保存在记录上；补登较早日期的记录时，当年其后的记录随之重新判定（`rechecked`）。缺少证明材料或被禁止的记录违反 R16。\n\n"
    "Records a provision that happened (audited, R13). For a destination abroad the mechanism is judged from the "
    "people of the year's records since 1 January (Asia/Shanghai), this one included, and kept on the record; a "
    "back-dated record judges the later ones of its year again (`rechecked`). A record without the evidence its "
    "mechanism requires, or one a prohibition forbids, violates R16.",
)
def post_transfer(
    body: TransferRecordIn, request: Request, who: Annotated[Caller, Depends(require("steward"))]
) -> dict[str, Any]:
    return service(request).record_transfer(
        body.asset,
        body.destination,
        subjects=body.subjects,
        sensitive=body.sensitive_subjects,
        on=body.provided_on,
        purpose=body.purpose,
        evidence=body.evidence,
        actor=who.name,
        justification=body.justification,
    )


class EvidenceIn(BaseModel):
    evidence: Evidence
    justification: str = Field(default="", max_length=4000, description="说明（R13）/ why")


@router.post(
    "/transfers/{id}/evidence",
    summary="为提供记录补充证明材料（数据管理员）/ add evidence to a transfer record (steward)",
    description="为已登记的提供记录补充后来取得的证明材料（如标准合同备案编号），审计（R13）并重新校验 R16。 / "
    "Attaches evidence obtained later (such as the standard-contract filing number) to a transfer record, audited "
    "(R13), and validates R16 again.",
)
def post_transfer_evidence(
    id: str, body: EvidenceIn, request: Request, who: Annotated[Caller, Depends(require("steward"))]
) -> dict[str, Any]:
    return service(request).add_transfer_evidence(id, body.evidence, actor=who.name, justification=body.justification)


@router.get(
    "/transfers",
    summary="某年的数据提供记录与出境累计 / a year's transfer records and cross-border totals",
)
def list_transfers(
    request: Request,
    _: Reader,
    year: Annotated[
        int | None, Query(ge=1900, le=9999, description="年份（默认今年）/ year (default this year)")
    ] = None,
) -> dict[str, Any]:
    return service(request).transfer_records(year)


class InstitutionIn(BaseModel):
    name: str | None = Field(default=None, max_length=500, description="机构名称 / the institution's name")
    ciio: bool | None = Field(
        default=None,
        description="是否为关键信息基础设施运营者 / whether it is a critical information infrastructure operator",
    )
    justification: str = Field(default="", max_length=4000, description="说明（R13）/ why")


@router.get("/institution", summary="本机构记录 / the institution record")
def get_institution(request: Request, _: Reader) -> dict[str, Any]:
    return {"institution": service(request).institution()}


@router.put("/institution", summary="设置本机构记录（管理员）/ set the institution record (admin)")
def put_institution(
    body: InstitutionIn, request: Request, who: Annotated[Caller, Depends(require("admin"))]
) -> dict[str, Any]:
    return service(request).set_institution(
        actor=who.name, name=body.name, ciio=body.ciio, justification=body.justification
    )


MAX_CLASSIFY = 10_000


ElementName = Annotated[str, StringConstraints(min_length=1, max_length=500, strip_whitespace=True)]


class ElementInput(BaseModel):
    name: str = Field(min_length=1, max_length=500, description="名称、DICOM 标签、HL7 字段、FHIR 路径或 BICEPS 成员")
    description: str | None = Field(default=None, max_length=4000, description="说明 / description")


class ClassifyRequest(BaseModel):
    elements: list[ElementName | ElementInput] = Field(
        min_length=1,
        max_length=MAX_CLASSIFY,
        description="数据元素（至多 10000 个）：字符串或 {name, description} / up to 10,000 elements: "
        "strings or {name, description}",
    )


@router.post("/classify", summary="分类建议 / classification suggestions for data elements")
def classify(body: ClassifyRequest, request: Request, _: Reader) -> dict[str, Any]:
    items = [e if isinstance(e, str) else (e.name, e.description) for e in body.elements]
    return {"suggestions": service(request).classify(items)}


@router.get(
    "/admin/backup",
    summary="备份整个存储（管理员，一致快照）/ back up the whole store (admin, a consistent snapshot)",
    response_class=Response,
    responses={200: {"content": {"application/n-quads": {}}}},
)
def admin_backup(request: Request, who: Annotated[Caller, Depends(require("admin"))]) -> Response:
    from starlette.background import BackgroundTask
    from starlette.responses import FileResponse

    from kg.backup import dump_snapshot, header

    svc = service(request)
    if not svc.store.capabilities.native:
        from kg.errors import InputError

        raise InputError(
            "this server's store is a remote SPARQL store: back it up with the triple store's own tools",
            "本服务的存储为远程 SPARQL 存储：请用该三元组存储自带的工具备份",
        )
    fd, name = tempfile.mkstemp(prefix="medgrade-backup-", suffix=".nq")
    with open(fd, "wb") as out:
        out.write(header(svc.store.descriptor))
        count = dump_snapshot(svc.store, out)
    return FileResponse(
        name,
        media_type="application/n-quads",
        filename="medgrade-backup.nq",
        headers={"X-Medgrade-Quads": str(count)},
        background=BackgroundTask(Path(name).unlink, missing_ok=True),
    )
