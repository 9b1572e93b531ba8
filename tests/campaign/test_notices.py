"""The document register: each notice gets the next number of its issuing committee's register
for the year ("12-CV/TU"), once, kept with the notice, never given twice."""

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from campaign import notices
from campaign.docs import write_documents
from campaign.intake.plan_register import register_plan
from flows.campaign_flow import campaign_flow
from models.campaigns import Campaign
from models.db import transaction
from models.documents import Document, register_suffix
from models.errors import ConcurrentChange
from tests.town import plan_for

DAY = dt.date(2023, 5, 22)  # the town's units are all overdue or escalated: a notice each


def _run(engine: Engine, code: str) -> None:
    campaign_flow(code, DAY, "t", engine.url.render_as_string(hide_password=False))


def _numbers(engine: Engine, code: str) -> list[tuple[str, int | None, str]]:
    """The campaign's notices in key order: key, register number, number as printed."""
    with transaction(engine) as session:
        rows = session.execute(
            select(Document.key, Document.register_number, Document.context)
            .join(Campaign, Campaign.id == Document.campaign_id)
            .where(Campaign.code == code)
            .order_by(Document.key)
        )
        return [(key, number, context["number"]) for key, number, context in rows]


def _register(engine: Engine, tmp_path: Path, code: str, **changes: object) -> None:
    with transaction(engine) as session:
        register_plan(plan_for(tmp_path, "la-gi-2023.yaml", code=code, **changes), session=session)


def test_notices_are_numbered_in_key_order_once(town: Engine, tmp_path: Path) -> None:
    _run(town, "T23")
    issued = _numbers(town, "T23")
    assert len(issued) >= 3
    assert [(n, printed) for _, n, printed in issued] == [
        (i, f"{i}-CV/TU") for i in range(1, len(issued) + 1)
    ]
    _run(town, "T23")  # a re-run at the same date issues nothing and renumbers nothing
    assert _numbers(town, "T23") == issued
    for _ in range(2):  # and writing the documents again prints the same numbers
        with transaction(town) as session:
            write_documents(session, "T23", tmp_path / "docs")
        html = (tmp_path / "docs" / "B1" / "2023-05-22-overdue-0.html").read_text("utf-8")
        markdown = (tmp_path / "docs" / "B1" / "2023-05-22-overdue-0.md").read_text("utf-8")
        assert "Số 1-CV/TU" in html and "THỊ ỦY THỬ NGHIỆM — Số 1-CV/TU" in markdown


def test_the_register_starts_where_the_plan_says(town: Engine, tmp_path: Path) -> None:
    _register(town, tmp_path, "T23", register_stands_at={"CV": 11}, number="120-KH/TU")
    _run(town, "T23")
    assert [printed for _, _, printed in _numbers(town, "T23")][:2] == ["12-CV/TU", "13-CV/TU"]


def test_campaigns_of_one_committee_share_its_register(town: Engine, tmp_path: Path) -> None:
    _run(town, "T23")
    first = [n for _, n, _ in _numbers(town, "T23")]
    # The second plan says the register stood at 2: below what the engine gave already.
    _register(town, tmp_path, "T23B", register_stands_at={"CV": 2})
    _run(town, "T23B")
    second = [n for _, n, _ in _numbers(town, "T23B")]
    assert second == list(range(len(first) + 1, 2 * len(first) + 1))


def test_a_number_taken_meanwhile_fails_the_run_instead_of_repeating(
    town: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two campaigns of one committee run at once: the later to store its notices read the
    register before the other's were committed (a stale read, injected here); the register's
    unique numbers refuse it, and none of its notices are stored."""
    _run(town, "T23")
    _register(town, tmp_path, "T23B")
    monkeypatch.setattr(notices, "last_registered", lambda session, **_: 0)
    with pytest.raises(ConcurrentChange, match="CV register of Thị ủy Thử Nghiệm for 2023"):
        _run(town, "T23B")
    assert _numbers(town, "T23B") == []


def test_the_database_refuses_a_number_given_twice(town: Engine) -> None:
    _run(town, "T23")
    with transaction(town) as session:
        taken = session.scalars(select(Document).where(Document.register_number == 1)).one()
        session.add(
            Document(
                campaign_id=taken.campaign_id,
                key="notice:copy",
                kind=taken.kind,
                issued_on=taken.issued_on,
                title=taken.title,
                context=taken.context,
                markdown=taken.markdown,
                register_committee_id=taken.register_committee_id,
                register_year=2023,
                register_kind="CV",
                register_number=1,
            )
        )
        with pytest.raises(IntegrityError):
            session.flush()


@pytest.mark.parametrize(
    ("plan_number", "committee", "suffix"),
    [
        ("120-KH/TU", "Tỉnh ủy Bình Thuận", "TU"),
        ("262-KH/HU", "Huyện ủy Bù Gia Mập", "HU"),
        ("", "Thị ủy La Gi", "TU"),
        ("", "Đảng ủy xã Đông Hà", "ĐU"),
        ("", "Huyện uỷ Đức Linh", "HU"),
        ("", "Ban Tuyên giáo", ""),
    ],
)
def test_the_registers_mark_is_the_committees(
    plan_number: str, committee: str, suffix: str
) -> None:
    assert register_suffix(plan_number, committee) == suffix
