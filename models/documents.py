"""Documents the engine issued (notices, plans, reports): kept as their view model, so any
format can be rendered again from the record, and a re-run never issues a document twice."""

import datetime as dt
import unicodedata
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, String, Text, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base


class Document(Base):
    """A document issued by a run: one per deterministic key (unit, step, date)."""

    __tablename__ = "document"
    __table_args__ = (
        UniqueConstraint("campaign_id", "key", name="uq_document_campaign_id"),
        # A number is given once in a committee's register of a year and kind, whichever
        # campaign's run gives it (runs of two campaigns of one committee may overlap).
        UniqueConstraint(
            "register_committee_id",
            "register_year",
            "register_kind",
            "register_number",
            name="uq_document_register",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    issued_on: Mapped[dt.date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(400))
    context: Mapped[dict[str, Any]] = mapped_column(JSON)
    markdown: Mapped[str] = mapped_column(Text)
    # The outbox of announcements: when a notice's Prefect event was delivered (NULL: not yet;
    # the next run announces it, whatever its date).
    announced_at: Mapped[str | None] = mapped_column(String(32))
    # The id of the Prefect event announcing it, drawn when it is stored: sent again (a run
    # killed before it recorded the announcement), it is the same event, which Prefect keeps
    # once. NULL for documents that are not notices, and notices from before the outbox.
    event_id: Mapped[str | None] = mapped_column(String(36))
    # Its number in the issuing committee's register ("12-CV/TU": number 12 of kind CV that
    # year), given when it is stored; NULL for documents outside the register.
    register_committee_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    register_year: Mapped[int | None]
    register_kind: Mapped[str | None] = mapped_column(String(8))
    register_number: Mapped[int | None]


def last_registered(session: Session, *, committee_id: int, year: int, kind: str) -> int:
    """The last number the engine gave in a committee's register of `kind` in `year` (0: none)."""
    query = select(func.max(Document.register_number)).where(
        Document.register_committee_id == committee_id,
        Document.register_year == year,
        Document.register_kind == kind,
    )
    return session.scalar(query) or 0


def register_suffix(plan_number: str, committee: str) -> str:
    """What follows a number of the committee's register: the mark its plan's own number bears
    ('120-KH/TU' → 'TU'), else the initials of its name up to 'ủy' ('Thị ủy La Gi' → 'TU',
    'Đảng ủy xã Đông Hà' → 'ĐU'); '' when neither gives one."""
    if "/" in plan_number:
        return plan_number.rsplit("/", 1)[1].strip()
    words = [_without_marks(word) for word in committee.split()]
    for end, word in enumerate(words, 1):
        if word.casefold() == "uy":
            return "".join(w[0].upper() for w in words[:end])
    return ""


def _without_marks(word: str) -> str:
    """A Vietnamese word without its tone and vowel marks ('ủy' → 'uy'; 'Đ' stays)."""
    return "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))


def register_number(number: int, kind: str, suffix: str) -> str:
    """A document's number as it is printed after 'Số': 12-CV/TU."""
    return f"{number}-{kind}/{suffix}" if suffix else f"{number}-{kind}"
