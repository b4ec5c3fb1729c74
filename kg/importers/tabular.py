"""Read spreadsheets (.xlsx, .csv) into plain rows, each cell located by file, sheet, row, column."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kg.errors import Problem
from kg.importers.template import SheetSpec, detect, match_header

MAX_CELL_CHARS = 32_767  # Excel's own limit
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Cell:
    value: str
    column: str  # header as written, for messages
    raw: object = None  # the typed value from Excel (date, number), when there is one


@dataclass
class Row:
    number: int  # 1-based row number as a spreadsheet shows it
    cells: dict[str, Cell]  # column key -> cell

    def get(self, key: str) -> str:
        cell = self.cells.get(key)
        return cell.value if cell else ""


@dataclass
class Sheet:
    file: str
    name: str  # sheet name ("" for csv)
    spec: SheetSpec
    rows: list[Row] = field(default_factory=list)
    unknown_headers: list[str] = field(default_factory=list)

    def where(self, row: int | None = None, key: str | None = None) -> str:
        parts = [self.file]
        if self.name:
            parts.append(f"sheet {self.name}")
        if row is not None:
            parts.append(f"row {row}")
        if key is not None:
            c = self.spec.column(key)
            parts.append(f"column {c.zh}/{c.en}")
        return ", ".join(parts)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    if text.startswith("'") and text.lstrip("'").startswith(_DANGEROUS):  # neutralised by medgrade export
        text = text[1:]
    return text


def _sheet(
    file: str, name: str, rows: Iterator[tuple[int, list[object]]], problems: list[Problem], strict: bool
) -> Sheet | None:
    """The sheet, if its header row is one of ours; ``strict``: say so when it is not."""
    header_row = next(rows, None)
    if header_row is None:
        return None
    number, headers = header_row
    spec = detect(headers)
    if spec is None:
        if strict and any(_text(h) for h in headers):
            problems.append(
                Problem(
                    "header row is not one of the medgrade sheets (assets, devices, destinations)",
                    "表头不是 medgrade 的任何一种表（数据资产、设备、数据去向）",
                    where=f"{file}{', sheet ' + name if name else ''}, row {number}",
                )
            )
        return None
    sheet = Sheet(file=file, name=name, spec=spec)
    keys: dict[int, str] = {}
    for i, h in enumerate(headers):
        key = match_header(spec, h)
        if key is None:
            if _text(h):
                sheet.unknown_headers.append(_text(h))
        elif not spec.column(key).computed:
            keys[i] = key
    for number, values in rows:
        cells = {}
        for i, key in keys.items():
            raw = values[i] if i < len(values) else None
            text = _text(raw)
            if len(text) > MAX_CELL_CHARS:
                problems.append(
                    Problem(
                        f"cell longer than {MAX_CELL_CHARS} characters",
                        f"单元格超过 {MAX_CELL_CHARS} 个字符",
                        where=sheet.where(number, key),
                    )
                )
                text = text[:MAX_CELL_CHARS]
            if text:
                cells[key] = Cell(text, _text(headers[i]), raw)
        if cells:  # blank rows are skipped
            sheet.rows.append(Row(number, cells))
    return sheet


def read_csv(path: Path, problems: list[Problem]) -> list[Sheet]:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte sequence
        problems.append(Problem("not UTF-8 or GB18030 text", "不是 UTF-8 或 GB18030 编码的文本", where=path.name))
        return []
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        rows: list[tuple[int, list[object]]] = [(i, list(r)) for i, r in enumerate(reader, start=1)]
    except csv.Error as exc:
        problems.append(Problem(f"malformed CSV: {exc}", f"CSV 格式错误：{exc}", where=path.name))
        return []
    sheet = _sheet(path.name, "", iter(rows), problems, strict=True)
    return [sheet] if sheet else []


MAX_XLSX_UNCOMPRESSED = 512 * 1024 * 1024  # bytes of XML inside one workbook
MAX_XLSX_RATIO = 200  # uncompressed / compressed size of one member beyond which it is a bomb
MAX_COLUMNS = 200


def _zip_problem(path: Path) -> Problem | None:
    """A zip bomb or a member claiming absurd sizes, found from the zip directory alone."""
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        return Problem(f"not a readable .xlsx workbook ({exc})", f"不是可读取的 .xlsx 工作簿（{exc}）", where=path.name)
    total = sum(i.file_size for i in infos)
    if total > MAX_XLSX_UNCOMPRESSED:
        return Problem(
            f"the workbook unpacks to {total:,} bytes, more than the limit {MAX_XLSX_UNCOMPRESSED:,}",
            f"工作簿解压后为 {total:,} 字节，超过上限 {MAX_XLSX_UNCOMPRESSED:,}",
            where=path.name,
        )
    for i in infos:
        if i.file_size > 10 * 1024 * 1024 and i.file_size > MAX_XLSX_RATIO * max(i.compress_size, 1):
            return Problem(
                f"member {i.filename} expands {i.file_size // max(i.compress_size, 1):,} times: refused as a zip bomb",
                f"成员 {i.filename} 解压后膨胀 {i.file_size // max(i.compress_size, 1):,} 倍，按压缩炸弹拒绝",
                where=path.name,
            )
    return None


def read_xlsx(path: Path, problems: list[Problem], max_rows: int = 2_000_000) -> list[Sheet]:
    """The sheets of a workbook. openpyxl reads its XML through defusedxml (installed with
    medgrade): entity declarations (XXE, "billion laughs") are refused, as are zip bombs and
    sheets over the row or column limits, each as a problem with the file and sheet."""
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    bomb = _zip_problem(path)
    if bomb is not None:
        problems.append(bomb)
        return []
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        problems.append(
            Problem(f"not a readable .xlsx workbook ({exc})", f"不是可读取的 .xlsx 工作簿（{exc}）", where=path.name)
        )
        return []
    except Exception as exc:  # defusedxml's refusals (DTDForbidden, EntitiesForbidden, ...) and XML errors
        problems.append(
            Problem(
                f"refused .xlsx workbook: {type(exc).__name__}: {exc}",
                f"拒绝该 .xlsx 工作簿：{type(exc).__name__}：{exc}",
                where=path.name,
            )
        )
        return []
    sheets: list[Sheet] = []
    try:
        for ws in workbook.worksheets:
            too_large = [
                Problem(
                    f"sheet has {size} {en}, more than the limit {limit}",
                    f"工作表有 {size} {zh}，超过上限 {limit}",
                    where=f"{path.name}, sheet {ws.title}",
                )
                for size, limit, en, zh in (
                    (ws.max_column, MAX_COLUMNS, "columns", "列"),
                    (ws.max_row, max_rows, "rows", "行"),
                )
                if size is not None and size > limit
            ]
            if too_large:
                problems.append(too_large[0])  # the columns first, as a reader meets them
                continue
            rows = ((i, list(r)) for i, r in enumerate(ws.iter_rows(values_only=True), start=1))
            try:
                sheet = _sheet(path.name, ws.title, rows, problems, strict=False)  # other sheets may be notes
            except Exception as exc:  # the sheet's XML is parsed here, lazily: refusals surface now
                problems.append(
                    Problem(
                        f"refused sheet: {type(exc).__name__}: {exc}",
                        f"拒绝该工作表：{type(exc).__name__}：{exc}",
                        where=f"{path.name}, sheet {ws.title}",
                    )
                )
                continue
            if sheet:
                sheets.append(sheet)
    except Exception as exc:  # worksheets are listed lazily too
        problems.append(
            Problem(
                f"refused .xlsx workbook: {type(exc).__name__}: {exc}", f"拒绝该 .xlsx 工作簿：{exc}", where=path.name
            )
        )
    finally:
        workbook.close()
    if not sheets and not problems:
        problems.append(
            Problem(
                "no sheet of assets, devices or destinations found (see `medgrade template`)",
                "未找到数据资产、设备或数据去向表（参见 `medgrade template`）",
                where=path.name,
            )
        )
    return sheets
