"""Real rows for tests: a town, a campaign, members and obligations, inserted through Core."""

import datetime as dt
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from models.campaigns import Campaign
from models.members import Member
from models.obligations import Obligation
from models.units import Unit

PLAN = {
    "code": "T",
    "title": "Giữ trọn lời thề đảng viên",
    "owner": "TOWN",
    "number": "1-KH/TU",
    "issued_on": "2023-01-30",
    "place": "La Gi",
    "period": {"start": "2023-02-01", "end": "2023-05-19"},
    "sessions": {"per": "branch", "cadence": "period", "minimum": 1},
    "implementation_plan_due": "2023-02-15",
    "self_assessment_due": "2023-05-19",
    "reports": {"grassroots_due": "2023-06-23", "synthesis_due": "2023-06-30"},
    "escalation": {"remind_days_before": 7, "step_days": 7},
}


def town(session: Session) -> tuple[int, int, int]:
    """A town with one grassroots organisation and one branch: (town, grassroots, branch) ids."""
    session.execute(
        insert(Unit),
        [
            {
                "code": "TOWN",
                "name": "Thị ủy",
                "kind": "district",
                "path": "/TOWN/",
                "holds_members": False,
            },
        ],
    )
    town_id = session.scalar(select(Unit.id).where(Unit.code == "TOWN"))
    session.execute(
        insert(Unit),
        [
            {
                "code": "G",
                "name": "Đảng bộ xã",
                "kind": "grassroots",
                "path": "/TOWN/G/",
                "holds_members": False,
                "parent_id": town_id,
            }
        ],
    )
    g = session.scalar(select(Unit.id).where(Unit.code == "G"))
    session.execute(
        insert(Unit),
        [
            {
                "code": "B",
                "name": "Chi bộ thôn 1",
                "kind": "branch",
                "path": "/TOWN/G/B/",
                "holds_members": True,
                "parent_id": g,
            }
        ],
    )
    b = session.scalar(select(Unit.id).where(Unit.code == "B"))
    assert town_id and g and b
    return town_id, g, b


def campaign(session: Session, owner_id: int, code: str = "T") -> int:
    """A registered campaign owned by `owner_id`."""
    row = Campaign(
        code=code,
        title=PLAN["title"],
        owner_id=owner_id,
        period_start=dt.date(2023, 2, 1),
        period_end=dt.date(2023, 5, 19),
        plan={**PLAN, "code": code},
    )
    session.add(row)
    session.flush()
    return row.id


def members(session: Session, unit_id: int, count: int) -> list[int]:
    """`count` active members of `unit_id`."""
    start = session.scalar(select(Member.id).order_by(Member.id.desc()).limit(1)) or 0
    session.execute(
        insert(Member),
        [
            {
                "code": f"M{start + i:05d}",
                "full_name": f"Nguyễn Văn {i}",
                "unit_id": unit_id,
                "leader": i % 10 == 0,
                "position": "",
                "status": "active",
            }
            for i in range(count)
        ],
    )
    return list(session.scalars(select(Member.id).where(Member.unit_id == unit_id)))


def obligations(
    session: Session, campaign_id: int, unit_id: int, rows: list[dict[str, Any]]
) -> list[int]:
    """Obligations of `unit_id` with the given fields (state, due, level, evidence_on …)."""
    base = {
        "campaign_id": campaign_id,
        "kind": "hold_session",
        "unit_id": unit_id,
        "member_id": None,
        "window": "",
        "due": dt.date(2023, 5, 19),
        "state": "open",
        "escalation_level": 0,
        "evidence_on": None,
    }
    session.execute(
        insert(Obligation), [{**base, "key": f"o{i}", **row} for i, row in enumerate(rows)]
    )
    query = select(Obligation.id).where(Obligation.campaign_id == campaign_id)
    return list(session.scalars(query.order_by(Obligation.id)))


def audit_event(n: int) -> dict[str, Any]:
    """An obligation's lapse as an event for `append_events`, entity `n`, in no campaign."""
    return {
        "at": dt.date(2023, 5, 20),
        "actor": "tester",
        "entity": "obligation",
        "entity_id": n,
        "campaign_id": None,
        "unit_id": None,
        "member_id": None,
        "trigger": "lapse",
        "from_state": "open",
        "to_state": "overdue",
        "reason": None,
        "payload": "{}",
    }
