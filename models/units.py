"""The organisation tree: the `unit` table, its dated changes, its paths and the roster's
revision (imported by `campaign.intake.unit_tree`)."""

from collections.abc import Sequence
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    String,
    and_,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base


class UnitKind(StrEnum):
    """Levels of the party organisation, from the top (the central committee owns a national
    campaign)."""

    central = "central"
    province = "province"
    district = "district"
    grassroots = "grassroots"
    branch = "branch"

    @property
    def level(self) -> int:
        """Depth of the level: central 0, province 1, branch 4."""
        return list(UnitKind).index(self)


class Unit(Base):
    """A party organisation: the central committee, a province, district/town, grassroots
    organisation or branch."""

    __tablename__ = "unit"
    __table_args__ = (
        # The paths in byte order on PostgreSQL, whose collation may order them otherwise.
        Index("ix_unit_path_bytes", text('path COLLATE "C"')).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    # Materialised path of codes, '/TINH/D01/D01-G003/': a subtree is a LIKE, or one range of
    # this index in byte order (units_under below; on PostgreSQL ix_unit_path_bytes).
    path: Mapped[str] = mapped_column(String(1024), index=True)
    # A branch, or a grassroots organisation with no branch under it (chi bộ cơ sở); never a
    # dissolved unit.
    holds_members: Mapped[bool] = mapped_column(default=False)
    # Dissolved (giải thể) or merged into another unit (sáp nhập) from this day; it stays in
    # the tree where it was, so what it did is still counted there, but takes nothing new.
    dissolved_on: Mapped[date | None] = mapped_column(Date, index=True)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))


class UnitStatus(StrEnum):
    """Whether a unit still works: a units file's `status` column."""

    active = "active"
    dissolved = "dissolved"  # giải thể, or sáp nhập into the unit its `merged_into` names


class UnitChange(Base):
    """A dated change of a unit's parent, kind, name or status, or its merger into another, kept
    when a newer tree replaces it: `changed_on` is the day it holds from (the file's `since`,
    else the import's date); `old` and `new` are unit codes, kinds, names or statuses ('' for
    none), and `actor` who imported it."""

    __tablename__ = "unit_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    changed_on: Mapped[date] = mapped_column(Date)
    field: Mapped[str] = mapped_column(String(16))
    old: Mapped[str] = mapped_column(String(255))
    new: Mapped[str] = mapped_column(String(255))
    actor: Mapped[str] = mapped_column(String(64))


def units_under(
    paths: Sequence[str], *, subtree: bool = True, dialect: str = ""
) -> ColumnElement[bool]:
    """Units in the subtrees at `paths` (or those units alone).

    On SQLite and PostgreSQL a subtree is one range of a path index in byte order: a path ends
    with '/', and '0' is the byte after it. (A LIKE reads every unit instead, in each of a sweep
    chunk's statements: a party's 250,000 units, dozens of times a chunk. SQLite compares text
    byte by byte; PostgreSQL's collation need not, so there the range is in collation "C", which
    ix_unit_path_bytes indexes.)"""
    if not subtree:
        return Unit.path.in_(paths)
    if dialect in ("sqlite", "postgresql"):
        return path_ranges(Unit.path.collate("C") if dialect == "postgresql" else Unit.path, paths)
    return or_(*(Unit.path.startswith(p, autoescape=True) for p in paths))


def path_ranges(column: Any, paths: Sequence[str]) -> ColumnElement[bool]:
    """`column` (a path, compared byte by byte) in the subtrees at `paths`: one index range
    each, from the path ('/A/B/', ending with '/') up to the next byte ('/A/B0')."""
    assert all(p.endswith("/") for p in paths), paths
    return or_(*(and_(column >= p, column < p[:-1] + "0") for p in paths))


class RosterRevision(Base):
    """A counter every import that changes units or members moves on: a run deploys the plan
    again only when the roster moved since its campaign was last deployed."""

    __tablename__ = "roster_revision"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    revision: Mapped[int]


def bump_roster_revision(session: Session) -> None:
    """Record that the roster changed."""
    session.execute(
        update(RosterRevision)
        .where(RosterRevision.id == 1)
        .values(revision=RosterRevision.revision + 1)
    )


def roster_revision(session: Session) -> int:
    """The roster's current revision."""
    return int(session.scalar(select(RosterRevision.revision).where(RosterRevision.id == 1)) or 0)


def refresh_paths(session: Session) -> None:
    """Recompute every unit's materialised path and whether it holds members."""
    rows = session.execute(
        select(Unit.id, Unit.code, Unit.kind, Unit.parent_id, Unit.dissolved_on)
    ).all()
    by_id = {r.id: r for r in rows}
    has_children = {r.parent_id for r in rows if r.parent_id is not None and r.dissolved_on is None}
    paths: dict[int, str] = {}

    def path_of(unit_id: int) -> str:
        if unit_id not in paths:
            row = by_id[unit_id]
            prefix = path_of(row.parent_id) if row.parent_id is not None else "/"
            paths[unit_id] = f"{prefix}{row.code}/"
        return paths[unit_id]

    session.execute(
        update(Unit),
        [
            {
                "id": r.id,
                "path": path_of(r.id),
                "holds_members": r.dissolved_on is None
                and (
                    r.kind == UnitKind.branch.value
                    or (r.kind == UnitKind.grassroots.value and r.id not in has_children)
                ),
            }
            for r in rows
        ],
    )


def count_by_kind(session: Session) -> dict[str, int]:
    """How many units of each kind are stored."""
    return dict(session.execute(select(Unit.kind, func.count()).group_by(Unit.kind)).all())
