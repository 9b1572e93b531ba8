"""Jinja filters that write dates and numbers the Vietnamese way, and user-typed text into
Markdown as text."""

import datetime as dt
import re
from functools import lru_cache
from typing import Protocol

from markupsafe import Markup


def _as_date(value: dt.date | str) -> dt.date:
    # Views hold dates; a notice's Markdown is rendered from the context it is stored with
    # (JSON, so ISO dates).
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


class Figures(Protocol):
    """A target's figures (models.views.Target)."""

    done: int
    eligible: int
    percent: float


def figures(target: Figures) -> Markup:
    """'1.753/1.897 92,4%' as the console's tables show a target (numbers only: nothing to
    escape). A filter, not a macro: a district's table shows hundreds of them."""
    return Markup(
        f'<span class="num">{vn_number(target.done)}/{vn_number(target.eligible)}</span> '
        f"<strong>{vn_number(target.percent, 1)}%</strong>"
    )


# Markdown reads these anywhere in a line (emphasis, code, links, tables, strikethrough, raw
# HTML and its entities); a backslash escapes any ASCII punctuation, HTML's three go as entities.
_INLINE = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        "\\": "\\\\",
        "`": "\\`",
        "*": "\\*",
        "_": "\\_",
        "[": "\\[",
        "]": "\\]",
        "|": "\\|",
        "~": "\\~",
        "\n": " ",
        "\r": " ",
    }
)
# … and these at the start of a line: a heading, a list item, a quote (already an entity), a
# setext underline, an ordered list ('1. ', '2) ').
_LINE_START = re.compile(r"^(?:([#+=-])|(\d+)([.)]))")


def markdown_text(value: object) -> str:
    """`value` as text in Markdown: no raw HTML, no link, emphasis, table cell or heading that
    a name or note could open; it reads the same once rendered."""
    text = str(value).translate(_INLINE)
    return _LINE_START.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\{m[3]}", text, count=1)


FILTERS = {
    "vn_date": vn_date,
    "vn_date_line": vn_date_line,
    "vn_number": vn_number,
    "md": markdown_text,
    "figures": figures,
}
