"""The audit trail: append-only, hash-chained events in chains (the main chain "" and one per
partition of a campaign's work), and each chain's head (its append lock)."""

import datetime as dt

from sqlalchemy import Date, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base

GENESIS = "0" * 64


class AuditEvent(Base):
    """One transition: who, when (logical and wall clock), what moved from where to where; in
    which chain (not hashed: moving an event to another chain breaks both chains' links)."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_campaign_seq", "campaign_id", "seq"),
        Index("ix_audit_event_chain_seq", "chain", "seq"),
    )

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[dt.date] = mapped_column(Date)
    # Wall clock in UTC, ISO-8601 text: recomputes to the same hash on every backend.
    recorded_at: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int]
    campaign_id: Mapped[int | None]
    unit_id: Mapped[int | None] = mapped_column(index=True)
    member_id: Mapped[int | None] = mapped_column(index=True)
    trigger: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    chain: Mapped[str] = mapped_column(String(128), server_default="")


class AuditHead(Base):
    """A chain's last sequence number and hash; its row is that chain's append lock. The main
    chain's row (id 1, chain "") exists from the start, another chain's is made by its first
    append (its id from the database: SQLite's rowid, PostgreSQL's audit_head_id_seq)."""

    __tablename__ = "audit_head"
    __table_args__ = (Index("ix_audit_head_chain", "chain", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int]
    hash: Mapped[str] = mapped_column(String(64))
    chain: Mapped[str] = mapped_column(String(128), server_default="")
