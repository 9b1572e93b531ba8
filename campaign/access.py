"""Accounts of the console: who they are, their passwords (Argon2id through pwdlib), the lock
after repeated failures, and the subtree each is kept to."""

import datetime as dt
import secrets
from dataclasses import dataclass

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.accounts import AccessRefusal, Account, ConsoleKey, Role
from models.errors import CampaignError, NotFound
from models.units import Unit
from states.actors import check_actor

PASSWORDS = PasswordHash((Argon2Hasher(),))
MIN_PASSWORD = 10
MAX_FAILURES = 5  # wrong passwords in a row before the account locks
LOCKED_FOR = dt.timedelta(minutes=15)
# Checked when the login is unknown, so that a wrong login costs what a wrong password does.
_UNKNOWN = PASSWORDS.hash(secrets.token_urlsafe(16))


class AccountError(CampaignError):
    """An account that cannot be created or changed as asked."""


class WrongPassword(AccountError):
    """The current password, asked again to change it, is wrong."""


class LoginRefused(CampaignError):
    """A login that did not succeed; it says no more than needed (not whether the login
    exists), but whether the account is locked, and until when."""

    def __init__(self, locked_until: dt.datetime | None = None) -> None:
        self.locked_until = locked_until
        until = f"; locked until {locked_until:%H:%M} UTC" if locked_until else ""
        super().__init__(f"wrong login or password{until}")


@dataclass(frozen=True)
class Viewer:
    """The logged-in account as every request sees it: its role and its subtree's path."""

    login: str
    full_name: str
    role: Role
    unit_id: int
    unit_code: str
    unit_name: str
    unit_path: str
    generation: int

    def covers(self, path: str) -> bool:
        """Whether the unit at `path` lies in this account's subtree."""
        return path.startswith(self.unit_path)


def now() -> dt.datetime:
    """The wall clock, in UTC."""
    return dt.datetime.now(dt.UTC)


def check_password(password: str) -> str:
    """`password` if it may be set; AccountError says why not."""
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
    if password.strip() != password:
        raise AccountError("a password may not start or end with a space")
    return password


def _unit(session: Session, code: str) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise NotFound(f"no unit '{code}'; import the units file first")
    return unit


def _account(session: Session, login: str) -> Account:
    account = session.scalar(select(Account).where(Account.login == login))
    if account is None:
        raise NotFound(f"no account '{login}'")
    return account


def add_account(
    session: Session, login: str, *, full_name: str, role: Role, unit: str, password: str
) -> Account:
    """Create an account bound to `unit`."""
    try:
        login = check_actor(login)
    except ValueError as error:
        raise AccountError(f"login {error}") from None
    if session.scalar(select(Account.id).where(Account.login == login)) is not None:
        raise AccountError(f"account '{login}' exists already")
    if not full_name.strip():
        raise AccountError("an account needs a full name")
    account = Account(
        login=login,
        full_name=full_name.strip(),
        role=role.value,
        unit_id=_unit(session, unit).id,
        password_hash=PASSWORDS.hash(check_password(password)),
        failed_logins=0,
        disabled=False,
        generation=0,
    )
    session.add(account)
    session.flush()
    return account


def list_accounts(session: Session) -> list[tuple[Account, Unit]]:
    """Every account with its unit, by login."""
    query = select(Account, Unit).join(Unit, Unit.id == Account.unit_id).order_by(Account.login)
    return [(a, u) for a, u in session.execute(query)]


def disable_account(session: Session, login: str) -> None:
    """Refuse every login of `login` from now on, and end its sessions."""
    account = _account(session, login)
    account.disabled = True
    account.generation += 1


def end_sessions(session: Session, login: str) -> None:
    """End every session of `login` (a signed cookie kept from one is no longer honoured)."""
    _account(session, login).generation += 1


def set_password(session: Session, login: str, password: str) -> None:
    """Give `login` a new password; unlock it and end its other sessions."""
    account = _account(session, login)
    account.password_hash = PASSWORDS.hash(check_password(password))
    account.failed_logins = 0
    account.locked_until = None
    account.generation += 1


def change_password(session: Session, login: str, old: str, new: str) -> int:
    """The account's own change of password: `old` must be right. Returns the new generation."""
    account = _account(session, login)
    if not PASSWORDS.verify(old, account.password_hash):
        raise WrongPassword("the current password is wrong")
    set_password(session, login, new)
    return account.generation


def authenticate(session: Session, login: str, password: str, at: dt.datetime) -> Viewer:
    """The viewer `login` becomes with `password`; LoginRefused otherwise. After MAX_FAILURES
    wrong passwords in a row the account is locked for LOCKED_FOR, whatever is typed."""
    account = session.scalar(select(Account).where(Account.login == login).with_for_update())
    if account is None:
        PASSWORDS.verify(password, _UNKNOWN)
        raise LoginRefused
    locked = account.locked_until
    if locked is not None and _aware(locked) > at:
        raise LoginRefused(_aware(locked))
    if not PASSWORDS.verify(password, account.password_hash) or account.disabled:
        account.failed_logins += 1
        if account.failed_logins >= MAX_FAILURES:
            account.locked_until = at + LOCKED_FOR
            account.failed_logins = 0
        raise LoginRefused
    account.failed_logins = 0
    account.locked_until = None
    return viewer(session, account.login)


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite hands a timezone-aware column back naive: it was stored in UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def viewer(session: Session, login: str) -> Viewer:
    """The enabled account `login` as a Viewer (NotFound if missing or disabled)."""
    query = (
        select(Account, Unit)
        .join(Unit, Unit.id == Account.unit_id)
        .where(Account.login == login, Account.disabled.is_(False))
    )
    found = session.execute(query).first()
    if found is None:
        raise NotFound(f"no enabled account '{login}'")
    account, unit = found
    return Viewer(
        login=account.login,
        full_name=account.full_name,
        role=Role(account.role),
        unit_id=unit.id,
        unit_code=unit.code,
        unit_name=unit.name,
        unit_path=unit.path,
        generation=account.generation,
    )


def record_refusal(
    session: Session, who: Viewer, method: str, path: str, reason: str, at: dt.datetime
) -> None:
    """Keep a refused request where reviewers read it."""
    session.add(
        AccessRefusal(
            at=at,
            login=who.login,
            unit_id=who.unit_id,
            method=method[:8],
            path=path[:1024],
            reason=reason[:255],
        )
    )


def refusals(session: Session, under: str, limit: int = 200) -> list[AccessRefusal]:
    """The latest refusals of accounts whose unit lies under the path `under`."""
    query = (
        select(AccessRefusal)
        .join(Unit, Unit.id == AccessRefusal.unit_id)
        .where(Unit.path.startswith(under, autoescape=True))
        .order_by(AccessRefusal.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def console_key(session: Session) -> str:
    """The key sessions are signed with: made once, kept in the database."""
    key = session.scalar(select(ConsoleKey.secret).where(ConsoleKey.id == 1))
    if key is None:
        session.add(ConsoleKey(id=1, secret=secrets.token_urlsafe(48)))
        session.flush()
        key = session.scalar(select(ConsoleKey.secret).where(ConsoleKey.id == 1))
    return str(key)
