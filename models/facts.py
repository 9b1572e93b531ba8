"""Facts: what units report (sessions held, self-assessments, screening steps, nominations,
reports), their input schema and the `fact` table. Validation against the lifecycles lives in
`campaign/intake/fact_sheet.py`, which may use the state machines."""

import datetime as dt
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints, field_validator
from sqlalchemy import (
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column

from models.base import Base
from models.dates import DAY_FORMATS, parse_day
from models.files import Column
from models.members import Member
from models.units import Unit
from models.validation import CODE_LENGTH

PATH_TYPE = String(1024).with_variant(String(1024, collation="C"), "postgresql")


class FactKind(StrEnum):
    """Every kind of fact a unit can report (SPEC §6); what each does is the table of
    `campaign/fact_kinds.py`."""

    plan_issued = "plan_issued"
    session_held = "session_held"
    self_assessment_submitted = "self_assessment_submitted"
    self_assessment_accepted = "self_assessment_accepted"
    self_assessment_returned = "self_assessment_returned"
    screening_opened = "screening_opened"
    screening_step = "screening_step"
    exemplar_nominated = "exemplar_nominated"
    exemplar_approved = "exemplar_approved"
    exemplar_rejected = "exemplar_rejected"
    activity_held = "activity_held"
    report_submitted = "report_submitted"


class Fact(Base):
    """A recorded fact of a campaign; applied by the first run whose date reaches it."""

    __tablename__ = "fact"
    __table_args__ = (
        UniqueConstraint("campaign_id", "key", name="uq_fact_campaign_id"),
        Index("ix_fact_campaign_applied", "campaign_id", "applied_on", "date"),
        # A part of the tree's pending facts, one range per subtree (`campaign.within`).
        Index("ix_fact_pending_path", "campaign_id", "applied_on", "path", "date", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    date: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(32))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    # date|kind|unit|member|note: the same fact imported twice is recognised and skipped.
    key: Mapped[str] = mapped_column(String(400))
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_on: Mapped[dt.date] = mapped_column(Date)
    applied_on: Mapped[dt.date | None] = mapped_column(Date)
    # The path of the unit whose part of the tree takes the fact in: the member's unit for a
    # member's fact (where the member is now: `fact_paths` moves it with the roster), else the
    # fact's unit. Compared byte by byte: collation "C" on PostgreSQL.
    path: Mapped[str] = mapped_column(PATH_TYPE, server_default="")


def path_of(
    member_id: ColumnElement[int | None], unit_id: ColumnElement[int]
) -> ColumnElement[str]:
    """The path a fact of this member (or, with none, this unit) lies at now: its `path`."""
    members_unit = (
        select(Unit.path).join(Member, Member.unit_id == Unit.id).where(Member.id == member_id)
    )
    own = select(Unit.path).where(Unit.id == unit_id)
    return func.coalesce(members_unit.scalar_subquery(), own.scalar_subquery())


def fact_paths(session: Session, campaign_id: int) -> int:
    """Move the campaign's pending facts to where their members (and units) are now, after the
    roster moved; returns how many moved. One set-based statement, by joins (a fact's member,
    the member's unit, the fact's own unit), writing only the facts whose path changed."""
    members_unit, own = aliased(Unit), aliased(Unit)
    now = (
        select(Fact.id, func.coalesce(members_unit.path, own.path).label("path"))
        .outerjoin(Member, Member.id == Fact.member_id)
        .outerjoin(members_unit, members_unit.id == Member.unit_id)
        .join(own, own.id == Fact.unit_id)
        .where(Fact.campaign_id == campaign_id, Fact.applied_on.is_(None))
        .subquery()
    )
    moved = (
        update(Fact)
        .where(Fact.id == now.c.id, Fact.path != now.c.path)
        .values(path=now.c.path)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(session.execute(moved), "rowcount", 0))


FACT_COLUMNS = [
    Column("date", "Ngày"),
    Column("kind", "Loại"),
    # A member's fact may leave the unit out: it is the member's unit at the fact's date.
    Column("unit", "Đơn vị", required=False),
    Column("member", "Đảng viên", required=False),
    Column("note", "Ghi chú", required=False),
]


NOTE_LENGTH = 200


class FactRow(BaseModel):
    """One row of a facts file."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    date: dt.date
    kind: FactKind
    # Empty for a member's fact: the import fills in the member's unit at the fact's date.
    unit: Annotated[str, StringConstraints(max_length=CODE_LENGTH)] = ""
    member: Annotated[str, StringConstraints(max_length=CODE_LENGTH)] = ""
    # The note is part of the key, a String(400) with the date, kind, unit and member codes.
    note: Annotated[str, StringConstraints(max_length=NOTE_LENGTH)] = ""

    @field_validator("date", mode="before")
    @classmethod
    def _vietnamese_or_iso(cls, value: object) -> object:
        # DD/MM/YYYY is read here; any other form by pydantic's date parsing, in its core (ISO,
        # or a datetime at midnight), as facts files have always been read.
        if isinstance(value, str) and "/" in value:
            try:
                return parse_day(value)
            except ValueError as exc:  # the problem quotes the cell itself, clipped
                raise ValueError(f"is not a date ({DAY_FORMATS})") from exc
        return value

    @property
    def key(self) -> str:
        """The fact's identity: the same fact imported twice has the same key."""
        # A StrEnum formats as its value (and `.value` is slow on a hot path).
        return f"{self.date.isoformat()}|{self.kind}|{self.unit}|{self.member}|{self.note}"
