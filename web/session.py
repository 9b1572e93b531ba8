"""Who is asking: the signed session cookie's account, the CSRF token of every form, and the
database sessions a request reads or writes through."""

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from campaign.access import Viewer, viewer
from models.db import read_only, transaction
from models.errors import NotFound

LOGIN, GENERATION, CSRF = "login", "generation", "csrf"
CSRF_FIELD = "csrf_token"


class LoginRequired(Exception):
    """No valid session: the visitor is sent to the login page."""


class Forbidden(Exception):
    """A request outside the account's subtree or beyond its role (403, recorded)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def engine_of(request: Request) -> Engine:
    """The database the console serves."""
    engine: Engine = request.app.state.engine
    return engine


@contextmanager
def reading(request: Request) -> Iterator[Session]:
    """A read-only session (the database itself refuses writes through it)."""
    with read_only(engine_of(request)) as session:
        yield session


@contextmanager
def writing(request: Request) -> Iterator[Session]:
    """A session in one transaction, committed on success."""
    with transaction(engine_of(request)) as session:
        yield session


def current_viewer(request: Request) -> Viewer:
    """The logged-in account, read again from the database at every request: a disabled
    account, or one whose password changed since the session began, is logged out."""
    login = request.session.get(LOGIN)
    if not isinstance(login, str):
        raise LoginRequired
    try:
        with reading(request) as session:
            found = viewer(session, login)
    except NotFound:
        request.session.clear()
        raise LoginRequired from None
    if request.session.get(GENERATION) != found.generation:
        request.session.clear()
        raise LoginRequired
    return found


def begin_session(request: Request, who: Viewer) -> None:
    """Log `who` in: a fresh session (a new CSRF token too, against session fixation)."""
    request.session.clear()
    request.session.update({LOGIN: who.login, GENERATION: who.generation})
    request.session[CSRF] = secrets.token_urlsafe(32)


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use (the login form has one too)."""
    token = request.session.get(CSRF)
    if not isinstance(token, str):
        token = request.session[CSRF] = secrets.token_urlsafe(32)
    return token


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF token matches the session's; Forbidden otherwise."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    expected = request.session.get(CSRF)
    if not (
        isinstance(sent, str)
        and isinstance(expected, str)
        and secrets.compare_digest(sent.encode(), expected.encode())
    ):
        raise Forbidden("biểu mẫu không có mã chống giả mạo (CSRF) hợp lệ")
    return form


# A posted form whose CSRF token was checked, as an endpoint's parameter: the check runs on the
# event loop, the endpoint (a plain `def`) on a worker thread, so its database work and password
# hashing never hold up the other requests.
CheckedForm = Annotated[FormData, Depends(checked_form)]
