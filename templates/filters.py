"""Jinja filters that write dates and numbers the Vietnamese way."""

import datetime as dt
from functools import lru_cache


def _as_date(value: dt.date | str) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


@lru_cache(maxsize=1024)  # a run's notices repeat a handful of due dates thousands of times
def vn_date(value: dt.date | str) -> str:
    """19/05/2023."""
    return f"{_as_date(value):%d/%m/%Y}"


def vn_date_line(value: dt.date | str) -> str:
    """ngày 19 tháng 5 năm 2023 — the date line of a party document."""
    day = _as_date(value)
    return f"ngày {day.day:02d} tháng {day.month:02d} năm {day.year}"


def vn_number(value: float | int, digits: int = 0) -> str:
    """1.234,5 — thousands with a dot, decimals with a comma."""
    text = f"{value:,.{digits}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


FILTERS = {"vn_date": vn_date, "vn_date_line": vn_date_line, "vn_number": vn_number}
