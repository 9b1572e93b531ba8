"""The audit trail as the console reads it: one page of events at a time (a province's trail is
millions of events), the full names of the accounts that acted, whether a member lies in an
account's subtree, and the chain's verification told as a result rather than raised."""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.status import AuditFilter, audit_trail
from models.accounts import Account
from models.errors import AuditBroken
from models.members import Member
from models.units import Unit, units_under
from models.views import AuditHeadView, AuditView
from states.audit_chain import chain_head, verify_chain

PAGE_SIZE = 100


@dataclass(frozen=True)
class AuditPage:
    """Up to a page of events in order, and whether more follow the last of them."""

    events: list[AuditView]
    more: bool


def audit_page(
    session: Session, code: str, where: AuditFilter, size: int | None = None
) -> AuditPage:
    """The first `size` (PAGE_SIZE) events of campaign `code`'s trail that `where` keeps
    (start a later page with `where.after`, the last seq shown): the query stops there."""
    size = size or PAGE_SIZE
    # The trail's generator, dropped here, closes its cursor: no row past the page is read.
    events = list(islice(audit_trail(session, code, where, batch=size + 1), size + 1))
    return AuditPage(events[:size], len(events) > size)


def account_names(session: Session, logins: Iterable[str]) -> dict[str, str]:
    """The full names of those of `logins` that are console accounts."""
    wanted = sorted(set(logins))
    if not wanted:
        return {}
    query = select(Account.login, Account.full_name).where(Account.login.in_(wanted))
    return {login: name for login, name in session.execute(query)}


def logins_within(session: Session, root_path: str) -> list[str]:
    """The logins of the accounts bound to a unit in the subtree at `root_path`."""
    under = units_under([root_path], dialect=session.get_bind().dialect.name)
    query = (
        select(Account.login)
        .join(Unit, Unit.id == Account.unit_id)
        .where(under)
        .order_by(Account.login)
    )
    return list(session.scalars(query))


def member_within(session: Session, code: str, root_path: str) -> bool | None:
    """Whether member `code` is now in a unit of the subtree at `root_path` (None: no such
    member)."""
    under = units_under([root_path], dialect=session.get_bind().dialect.name)
    inside = select(Member.id).join(Unit, Unit.id == Member.unit_id).where(under)
    if session.scalar(inside.where(Member.code == code)) is not None:
        return True
    return None if session.scalar(select(Member.id).where(Member.code == code)) is None else False


@dataclass(frozen=True)
class ChainCheck:
    """What verifying the chain found: the events verified and the head, or what is broken
    (AuditBroken's words) and the event it names."""

    events: int
    head: AuditHeadView | None
    broken: str | None = None
    at_event: int | None = None

    @property
    def intact(self) -> bool:
        """Whether the whole chain verified."""
        return self.broken is None


_EVENT = re.compile(r"\bevent (\d+)")


def check_chain(session: Session) -> ChainCheck:
    """Recompute the whole chain (`verify_chain`, reading only) and read its head."""
    try:
        count = verify_chain(session)
        head = chain_head(session)
    except AuditBroken as broken:
        named = _EVENT.search(str(broken))
        return ChainCheck(0, None, str(broken), int(named[1]) if named else None)
    return ChainCheck(count, head)
