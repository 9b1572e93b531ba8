"""The templates' filters: user-typed text goes into Markdown as text."""

import datetime as dt

import pytest

from campaign.doc_views import CommendationList, CommendationRow, Issuer
from templates.filters import markdown_text
from templates.render import render


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ("Chi bộ khu phố 2", "Chi bộ khu phố 2"),
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ('<img src=x onerror="x()">', '&lt;img src=x onerror="x()"&gt;'),
        ("A & B", "A &amp; B"),
        ("[click](http://evil.example/)", "\\[click\\](http://evil.example/)"),
        (
            "**đậm** _nghiêng_ `mã` ~~gạch~~",
            "\\*\\*đậm\\*\\* \\_nghiêng\\_ \\`mã\\` \\~\\~gạch\\~\\~",
        ),
        ("a | b", "a \\| b"),
        ("# tiêu đề", "\\# tiêu đề"),
        ("- mục", "\\- mục"),
        ("1. mục", "1\\. mục"),
        ("=cmd|' /C calc'!A0", "\\=cmd\\|' /C calc'!A0"),
        ("dòng 1\ndòng 2", "dòng 1 dòng 2"),
        ("a\\b", "a\\\\b"),
    ],
)
def test_markdown_text_escapes_html_and_markdown(typed: str, written: str) -> None:
    assert markdown_text(typed) == written


def test_a_hostile_name_is_text_in_every_markdown_document() -> None:
    """A unit named with raw HTML and Markdown keeps no tag, link or emphasis in the header
    every Markdown document includes."""
    hostile = '<a href="http://evil.example/">*Chi bộ*</a>'
    listed = CommendationList(
        title="Danh sách",
        issuer=Issuer(name=hostile),
        number="1-KH",
        place="La Gi",
        issued_on=dt.date(2023, 5, 20),
        heading="Danh sách",
        subject=hostile,
        theme="Học tập",
        plan_number="số 1-KH",
        period_start=dt.date(2023, 3, 1),
        period_end=dt.date(2023, 6, 30),
        rows=[CommendationRow(name=hostile, unit=hostile)],
        recipients=[hostile],
    )
    markdown = render("commendations.md.j2", listed)
    assert "<a" not in markdown and "</a>" not in markdown and "*Chi bộ*" not in markdown
    assert markdown.count('&lt;a href="http://evil.example/"&gt;\\*Chi bộ\\*&lt;/a&gt;') == 4
