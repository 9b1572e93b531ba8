"""The organisation's dated changes as the console shows them: each member's or unit's change
said in Vietnamese words ("Chuyển sinh hoạt: B2 → B1"), with the day it holds from and who
made it (an account by its full name, any other actor as recorded)."""

import datetime as dt
from collections.abc import Callable, Iterable

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.console_words import MEMBER_STATUS_NAMES, UNIT_KIND_NAMES
from campaign.roster_history import Changed, dated_changes
from models.accounts import Account
from models.members import JOINED, LEADER, STATUS, UNIT, MemberChange
from models.units import UnitChange, UnitStatus

NONE = "—"
YES_NO = {"yes": "có", "no": "không"}
UNIT_STATUS_NAMES = {UnitStatus.active: "đang hoạt động", UnitStatus.dissolved: "giải thể"}
MEMBER_FIELDS = {
    UNIT: "Chuyển sinh hoạt",
    STATUS: "Tình trạng",
    LEADER: "Lãnh đạo, quản lý",
}
UNIT_FIELDS = {
    "parent": "Chuyển trực thuộc",
    "name": "Đổi tên",
    "kind": "Loại đơn vị",
    "status": "Tình trạng",
    "merged_into": "Sáp nhập vào",
}


class ChangeLine(BaseModel):
    """One dated change as a reader reads it."""

    on: dt.date
    what: str
    actor: str


def _lower(name: str) -> str:
    """'Đang sinh hoạt' → 'đang sinh hoạt' (the value inside a sentence)."""
    return name[:1].lower() + name[1:]


def _value(field: str, value: str) -> str:
    """A stored value of `field` in words: a status or kind by its name, yes/no as có/không."""
    if not value:
        return NONE
    if field == STATUS and value in MEMBER_STATUS_NAMES:
        return _lower(MEMBER_STATUS_NAMES[value])  # type: ignore[index]
    if field == "unit_status" and value in UNIT_STATUS_NAMES:
        return UNIT_STATUS_NAMES[value]  # type: ignore[index]
    if field == "kind" and value in UNIT_KIND_NAMES:
        return UNIT_KIND_NAMES[value]  # type: ignore[index]
    if field == LEADER:
        return YES_NO.get(value, value)
    return value


def member_change_text(field: str, old: str, new: str) -> str:
    """A member's change in words: 'Chuyển sinh hoạt: B2 → B1'."""
    if field == JOINED:
        return f"Bắt đầu sinh hoạt tại {new}"
    label = MEMBER_FIELDS.get(field, field)
    return f"{label}: {_value(field, old)} → {_value(field, new)}"


def unit_change_text(field: str, old: str, new: str) -> str:
    """A unit's change in words: 'Đổi tên: Chi bộ khu phố 1 → Chi bộ Tân An 1'."""
    if field == "merged_into" and not old:
        return f"Sáp nhập vào {new}"
    label = UNIT_FIELDS.get(field, field)
    how = "unit_status" if field == "status" else field
    return f"{label}: {_value(how, old)} → {_value(how, new)}"


def actor_names(session: Session, actors: Iterable[str]) -> dict[str, str]:
    """The full name of each actor that is an account's login (others are left out)."""
    wanted = {a for a in actors if a}
    if not wanted:
        return {}
    query = select(Account.login, Account.full_name).where(Account.login.in_(wanted))
    return {login: name for login, name in session.execute(query)}


def member_changes(session: Session, member_id: int) -> list[ChangeLine]:
    """A member's changes of unit, status and leader flag, and their joining, oldest first."""
    return _lines(session, dated_changes(session, MemberChange, member_id), member_change_text)


def unit_changes(session: Session, unit_id: int) -> list[ChangeLine]:
    """A unit's changes of parent, name, kind, status and merger, oldest first."""
    return _lines(session, dated_changes(session, UnitChange, unit_id), unit_change_text)


def _lines(
    session: Session, rows: list[Changed], text: Callable[[str, str, str], str]
) -> list[ChangeLine]:
    names = actor_names(session, (row[4] for row in rows))
    return [
        ChangeLine(on=on, what=text(field, old, new), actor=names.get(actor, actor) or NONE)
        for on, field, old, new, actor in rows
    ]
