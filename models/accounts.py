"""Who may open the console: accounts bound to one unit, the refusals a reviewer reads, and the
key the console signs its sessions with."""

import datetime as dt
from enum import StrEnum

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class Role(StrEnum):
    """What an account may do, within the subtree of its unit."""

    operator = "operator"  # a committee's office: reads, records and runs
    secretary = "secretary"  # a grassroots organisation's or branch's secretary: reads, records
    reviewer = "reviewer"  # an inspection committee: reads and exports the audit trail


class Account(Base):
    """A person who logs in to the console; `login` is the actor the audit trail records."""

    __tablename__ = "account"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    # Argon2id, PHC string format (pwdlib): the parameters and salt travel with the hash.
    password_hash: Mapped[str] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(default=False)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Moves on at every change of password or disabling: a session signed for an older
    # generation is no longer honoured.
    generation: Mapped[int] = mapped_column(default=0)


class AccessRefusal(Base):
    """A request the console refused (outside the account's subtree or beyond its role)."""

    __tablename__ = "access_refusal"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    login: Mapped[str] = mapped_column(String(64), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))  # the account's unit
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(1024))
    reason: Mapped[str] = mapped_column(String(255))


class ConsoleKey(Base):
    """The console's session-signing key, made once by the first server on this database (so
    every server process of one database honours the same sessions)."""

    __tablename__ = "console_key"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    secret: Mapped[str] = mapped_column(String(128))
