"""The inventory spreadsheet template (分类分级清单模板): sheets, columns, headers.

Headers are matched after Unicode normalisation and case folding; a header may give both names
("资产标识 / id"). Computed columns that ``medgrade export`` adds (category path, effective level,
origin, measures) are recognised and ignored on import, so an export can be imported back.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    zh: str
    en: str
    required: bool = False
    help_zh: str = ""
    help_en: str = ""
    computed: bool = False  # written by export, ignored by import


@dataclass(frozen=True, slots=True)
class SheetSpec:
    kind: str
    zh: str
    en: str
    columns: tuple[Column, ...]

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)


ASSETS = SheetSpec(
    "assets",
    "数据资产",
    "assets",
    (
        Column(
            "id",
            "资产标识",
            "id",
            True,
            "机构内唯一，字母、数字、. _ ~ -",
            "unique in the institution; letters, digits, . _ ~ -",
        ),
        Column(
            "name",
            "资产名称",
            "name",
            True,
            "资产的名称（待分类的资产可留空）",
            "the asset's name (may be empty for an unclassified asset)",
        ),
        Column(
            "category",
            "数据分类",
            "category",
            True,
            "分类名称或代码，如 设备使用数据 或 C03；尚未归类的填 待分类（不计算级别）",
            "category label or code, e.g. 设备使用数据 or C03; 待分类 (unclassified) for one not classified yet "
            "(no level is computed)",
        ),
        Column(
            "level",
            "数据级别",
            "level",
            False,
            "级别名称或秩（1–6）；留空则按规则计算",
            "level label or rank (1–6); empty: computed by the rules",
        ),
        Column(
            "equipment",
            "所属设备",
            "equipment",
            False,
            "产生数据的设备标识（见“设备”表）",
            "id of the device that produced it (see the devices sheet)",
        ),
        Column(
            "equipment_type",
            "设备类型",
            "equipment_type",
            False,
            "装备类型名称或代码，如 CT 或 EQ001",
            "equipment type label or code, e.g. CT or EQ001",
        ),
        Column(
            "elements", "数据元素", "elements", False, "数据元素名称，以 ; 分隔", "data element names, separated by ;"
        ),
        Column(
            "derived_from",
            "来源资产",
            "derived_from",
            False,
            "来源资产标识，以 ; 分隔",
            "ids of source assets, separated by ;",
        ),
        Column(
            "activity",
            "加工方式",
            "activity",
            False,
            "原始提取、转换、关联融合、汇聚统计、去标识化、假名化、匿名化",
            "extract, transform, join/fuse, aggregate, de-identify, pseudonymise, anonymise",
        ),
        Column(
            "personal",
            "个人信息",
            "personal",
            False,
            "是/否，或个人信息类别（以 ; 分隔）",
            "yes/no, or personal-information categories (separated by ;)",
        ),
        Column(
            "subject_count",
            "数据主体数量",
            "subject_count",
            False,
            "涉及的自然人数量（非负整数）",
            "number of people the data is about (a non-negative integer)",
        ),
        Column("owner", "责任部门", "owner", False, "负责该资产的部门", "the department responsible"),
        Column("notes", "备注", "notes", False, "", ""),
        Column(
            "approved_by",
            "审批人",
            "approved_by",
            False,
            "降级加工（去标识化等）的审批人",
            "who approved a level-reducing derivation",
        ),
        Column("approved_on", "审批日期", "approved_on", False, "YYYY-MM-DD", "YYYY-MM-DD"),
        Column("approval_note", "审批依据", "approval_note", False, "审批理由或依据", "why it was approved"),
        Column(
            "impacts",
            "影响评估",
            "impacts",
            False,
            "影响对象:影响程度，以 ; 分隔，如 个人权益:特别严重;公共利益:一般",
            "impact object:degree pairs separated by ;, e.g. individual rights:particularly serious;public interest:general",
        ),
        Column(
            "transfer_to",
            "提供去向",
            "transfer_to",
            False,
            "向其提供该资产的去向标识（见“数据去向”表），以 ; 分隔",
            "ids of destinations it is provided to (see the destinations sheet), separated by ;",
        ),
        Column(
            "grading_elements",
            "定级要素",
            "grading_elements",
            False,
            "定级时考虑的要素（GB/T 43697-2024 §6.3：领域、群体、区域、精度、规模、深度、覆盖度、重要性），以 ; 分隔",
            "grading elements considered (GB/T 43697-2024 §6.3: domain, group, region, precision, scale, depth, "
            "coverage, importance), separated by ;",
        ),
        Column(
            "last_reviewed",
            "上次复核",
            "last_reviewed",
            False,
            "上次复核分类与级别的日期（YYYY-MM-DD，北京时间）；重新导入时以本列为准，留空则不记复核日期",
            "the date the category and level were last reviewed (YYYY-MM-DD, Asia/Shanghai); a re-import "
            "takes this cell as it is: empty leaves no last-reviewed date",
        ),
        Column("category_path", "分类路径", "category_path", computed=True),
        Column("category_code", "分类代码", "category_code", computed=True),
        Column("effective_level", "生效级别", "effective_level", computed=True),
        Column("level_origin", "级别来源", "level_origin", computed=True),
        Column("measures", "防护措施", "measures", computed=True),
    ),
)

DEVICES = SheetSpec(
    "devices",
    "设备",
    "devices",
    (
        Column("id", "设备标识", "id", True, "机构内唯一", "unique in the institution"),
        Column("type", "设备类型", "type", True, "装备类型名称或代码", "equipment type label or code"),
        Column("name", "设备名称", "name", False),
        Column("model", "型号", "model", False),
        Column("manufacturer", "生产企业", "manufacturer", False),
        Column("location", "安装位置", "location", False),
    ),
)

DESTINATIONS = SheetSpec(
    "destinations",
    "数据去向",
    "destinations",
    (
        Column("id", "去向标识", "id", True, "机构内唯一", "unique in the institution"),
        Column("name", "去向名称", "name", True),
        Column("clearance", "准入级别", "clearance", True, "可接收的最高级别", "highest level it may receive"),
        Column("external", "院外", "external", False, "是/否（默认 是）", "yes/no (default yes)"),
        Column("cross_border", "境外", "cross_border", False, "是/否（默认 否）", "yes/no (default no)"),
        Column(
            "graded_protection",
            "等保级别",
            "graded_protection",
            False,
            "网络安全等级保护级别（1–5）",
            "graded-protection (等级保护) level (1–5)",
        ),
        Column(
            "measures",
            "具备措施",
            "measures",
            False,
            "已具备的防护措施，以 ; 分隔",
            "protection measures it provides, separated by ;",
        ),
    ),
)

SHEETS = (ASSETS, DEVICES, DESTINATIONS)


def normalise_header(text: object) -> str:
    return " ".join(unicodedata.normalize("NFKC", str(text or "")).casefold().split())


def header_keys(spec: SheetSpec) -> dict[str, str]:
    """Map every accepted spelling of a header to its column key."""
    out: dict[str, str] = {}
    for c in spec.columns:
        for name in (c.zh, c.en, c.key, f"{c.zh}/{c.en}", f"{c.zh} / {c.en}", f"{c.zh}({c.en})", f"{c.zh}（{c.en}）"):
            out[normalise_header(name)] = c.key
    return out


def match_header(spec: SheetSpec, header: object) -> str | None:
    """The column key a header cell names in ``spec``, or None."""
    return header_keys(spec).get(normalise_header(header))


def detect(headers: list[object]) -> SheetSpec | None:
    """Which kind of sheet a header row belongs to: the spec whose required columns all appear
    and that matches the most headers."""
    best, best_hits = None, 0
    for spec in SHEETS:
        keys = {match_header(spec, h) for h in headers} - {None}
        required = {c.key for c in spec.columns if c.required}
        if required <= keys and len(keys) > best_hits:
            best, best_hits = spec, len(keys)
    return best
