"""Logging in and out, and an account's own change of password."""

import asyncio
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from campaign.access import (
    MIN_PASSWORD,
    AccountError,
    LoginRefused,
    Viewer,
    WrongPassword,
    authenticate,
    change_password,
    end_sessions,
    now,
)
from models.settings import get_settings
from web.page import page
from web.scope import campaigns_within
from web.session import (
    GENERATION,
    CheckedForm,
    LoginRequired,
    begin_session,
    checked_form,
    current_viewer,
    reading,
    writing,
)

router = APIRouter()
Who = Annotated[Viewer, Depends(current_viewer)]
FAILED_LOGIN_DELAY = 1.0  # seconds a wrong password costs, on top of Argon2's own


@router.get("/login")
def login_form(request: Request) -> HTMLResponse:
    """The login form."""
    return page(request, "login.html.j2", title="Đăng nhập", who=None, error=None, login="")


@router.post("/login", response_model=None)
async def login_submit(request: Request) -> Response:
    """Check the login and password; on success start a session and open the campaigns."""
    form = await checked_form(request)
    login, password = str(form.get("login", "")), str(form.get("password", ""))
    # Argon2 takes a core for tens of milliseconds: on a worker thread, not the event loop.
    who, refused = await run_in_threadpool(_authenticated, request, login.strip(), password)
    if refused is not None:
        await asyncio.sleep(FAILED_LOGIN_DELAY)
        message = "Sai tên đăng nhập hoặc mật khẩu."
        if refused.locked_until is not None:
            local = refused.locked_until.astimezone(ZoneInfo(get_settings().timezone))
            message = f"Tài khoản tạm khóa đến {local:%H:%M} do nhập sai mật khẩu nhiều lần."
        return page(
            request,
            "login.html.j2",
            title="Đăng nhập",
            who=None,
            status_code=401,
            error=message,
            login=login,
        )
    assert who is not None
    begin_session(request, who)
    return RedirectResponse("/", status_code=303)


def _authenticated(
    request: Request, login: str, password: str
) -> tuple[Viewer | None, LoginRefused | None]:
    with writing(request) as session:
        try:
            return authenticate(session, login, password, now()), None
        except LoginRefused as error:  # caught inside: the failure counted must be committed
            return None, error


@router.post("/logout")
def logout(request: Request, _form: CheckedForm) -> RedirectResponse:
    """End the session, and the account's others: the cookie is signed, not stored, so a copy
    kept from before would still be honoured unless the account's generation moves on."""
    try:
        who = current_viewer(request)  # a session already ended ends nothing more
    except LoginRequired:
        who = None
    if who is not None:
        with writing(request) as session:
            end_sessions(session, who.login)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/")
def home(request: Request, who: Who) -> Response:
    """The campaigns the account reaches (straight to the only one, if one)."""
    with reading(request) as session:
        campaigns = campaigns_within(session, who)
    if len(campaigns) == 1:
        return RedirectResponse(f"/campaigns/{campaigns[0].code}", status_code=303)
    return page(request, "home.html.j2", title="Các đợt sinh hoạt", who=who, campaigns=campaigns)


@router.get("/account/password")
def password_form(request: Request, who: Who) -> HTMLResponse:
    """The form to change one's own password."""
    return page(request, "password.html.j2", title="Đổi mật khẩu", who=who, error=None, done=False)


@router.post("/account/password")
def password_submit(request: Request, who: Who, form: CheckedForm) -> HTMLResponse:
    """Change one's own password (the current one asked again); other sessions end."""
    new = str(form.get("new", ""))
    error = None
    if new != str(form.get("again", "")):
        error = "Hai lần nhập mật khẩu mới không khớp."
    else:
        try:
            with writing(request) as session:
                generation = change_password(session, who.login, str(form.get("old", "")), new)
            request.session[GENERATION] = generation
        except WrongPassword:
            error = "Mật khẩu hiện tại không đúng."
        except AccountError:
            error = (
                f"Mật khẩu mới cần ít nhất {MIN_PASSWORD} ký tự, không bắt đầu hay kết thúc "
                "bằng dấu cách."
            )
    return page(
        request,
        "password.html.j2",
        title="Đổi mật khẩu",
        who=who,
        status_code=400 if error else 200,
        error=error,
        done=error is None,
    )
