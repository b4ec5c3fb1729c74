"""The calendar medgrade judges dates by: dates are in Asia/Shanghai (UTC+8), and "today" may be
fixed (``MEDGRADE_TODAY`` or a command's ``--as-of``) so tests and demos do not drift.

The annual review (R15) asks whether an asset's last review is older than the grading policy's
interval: :func:`review_cutoff` is the earliest last-reviewed date that is still current."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from kg.errors import InputError

ZONE = ZoneInfo("Asia/Shanghai")


def now() -> dt.datetime:
    """The current time in UTC (one place to read the clock from)."""
    return dt.datetime.now(dt.UTC)


def today(fixed: dt.date | None = None) -> dt.date:
    """``fixed`` when given (``--as-of``), else ``MEDGRADE_TODAY``, else today in Asia/Shanghai."""
    if fixed is not None:
        return fixed
    from kg.settings import Settings

    configured = Settings().today
    return configured if configured is not None else local_date(now())


def local_date(moment: dt.datetime) -> dt.date:
    """The Asia/Shanghai calendar date of ``moment`` (a naive time is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(ZONE).date()


def parse_day(text: str, field: str = "date") -> dt.date:
    """A ``YYYY-MM-DD`` date, or a bilingual InputError naming ``field``."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(
            f"{field} '{text}' is not a date (YYYY-MM-DD)", f"{field}“{text}”不是日期（YYYY-MM-DD）"
        ) from None


def months_before(day: dt.date, months: int) -> dt.date:
    """``day`` minus ``months`` calendar months; the 31st of a shorter month becomes its last day."""
    total = day.year * 12 + (day.month - 1) - months
    year, month = divmod(total, 12)
    month += 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def review_cutoff(as_of: dt.date, interval_months: int) -> dt.date:
    """The earliest last-reviewed date that is not overdue on ``as_of``: an asset last reviewed
    before it is overdue (R15). With a 12-month interval on 2026-12-07 the cutoff is 2025-12-07:
    reviewed 2025-12-07 is current, 2025-12-06 is overdue."""
    return months_before(as_of, interval_months)
