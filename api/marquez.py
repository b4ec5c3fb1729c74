"""Marquez-shaped lineage reads over HTTP: ``GET /api/v1/lineage`` (dataset and job node ids)
and ``GET /api/v1/column-lineage`` (field and dataset node ids). The answers are built by
:class:`kg.marquez.MarquezReader`; its docstring says where they follow Marquez's OpenAPI.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from api.auth import Caller, require
from kg.marquez import MarquezReader, NodeId

router = APIRouter(prefix="/api/v1")


def _reader(request: Request) -> MarquezReader:
    return MarquezReader(request.app.state.service, request.app.state.settings.openlineage_namespace)


_NODE_DOC = "dataset:NAMESPACE:NAME | job:NAMESPACE:NAME (names may contain ':'; Marquez's NodeId rules)"


@router.get(
    "/lineage",
    summary="Marquez 形式的数据集/作业血缘 / dataset and job lineage in Marquez's shape",
    description="节点为 dataset:命名空间:名称 或 job:命名空间:名称；答复为 Marquez OpenAPI 的 LineageGraph。"
    " / nodeId is dataset:NAMESPACE:NAME or job:NAMESPACE:NAME; the answer is Marquez's LineageGraph.",
)
def get_lineage(
    request: Request,
    caller: Annotated[Caller, Depends(require("reader"))],
    node_id: Annotated[str, Query(alias="nodeId", description=_NODE_DOC)],
    depth: Annotated[int, Query(ge=0, le=100, description="jobs deep / 作业层数")] = 20,
) -> dict[str, Any]:
    node = NodeId.parse(node_id, ("dataset", "job"))
    return {"graph": _reader(request).lineage(node, depth)}


@router.get(
    "/column-lineage",
    summary="Marquez 形式的字段血缘 / column lineage in Marquez's shape",
    description="节点为 datasetField:命名空间:名称:字段 或 dataset:命名空间:名称（其全部字段）；默认上游，"
    "withDownstream=true 时含下游；每个输入字段注明加工（脱敏为 MASKED）。"
    " / nodeId is datasetField:NAMESPACE:NAME:FIELD or dataset:NAMESPACE:NAME (all its fields); upstream,"
    " and downstream too with withDownstream=true; each input field names its transformation (MASKED when masked).",
)
def get_column_lineage(
    request: Request,
    caller: Annotated[Caller, Depends(require("reader"))],
    node_id: Annotated[
        str, Query(alias="nodeId", description="datasetField:NAMESPACE:NAME:FIELD | dataset:NAMESPACE:NAME")
    ],
    depth: Annotated[int, Query(ge=0, le=100, description="derivations deep / 派生层数")] = 20,
    with_downstream: Annotated[bool, Query(alias="withDownstream", description="include downstream / 含下游")] = False,
) -> dict[str, Any]:
    node = NodeId.parse(node_id, ("datasetField", "dataset"))
    return {"graph": _reader(request).column_lineage(node, depth, with_downstream)}
