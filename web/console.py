"""The console's application: its routes, signed sessions, and where failures become pages
(an anonymous visitor to /login, a request out of scope to 403 recorded, a refusal to a page
saying what to fix)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from anyio import to_thread
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware.sessions import SessionMiddleware

from campaign.access import Viewer, console_key, now, record_refusal
from models.db import POOL_SIZE, get_engine, transaction
from models.errors import CampaignError, NotFound
from models.settings import get_settings
from web import login
from web.page import page
from web.session import Forbidden, LoginRequired, current_viewer

SESSION_COOKIE = "campaign_session"
SESSION_SECONDS = 8 * 3600  # a working day; then the login again
STATIC = Path(__file__).parent / "static"


def create_app(engine: Engine, *, https: bool | None = None) -> FastAPI:
    """The console of the database behind `engine`."""
    with transaction(engine) as session:
        key = console_key(session)
    app = FastAPI(
        title="Campaign console",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=_few_threads,
    )
    app.state.engine = engine
    app.add_middleware(
        SessionMiddleware,
        secret_key=key,
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_SECONDS,
        same_site="strict",
        https_only=get_settings().console_https if https is None else https,
    )
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(login.router)
    for router in _page_routers():
        app.include_router(router)
    app.add_exception_handler(LoginRequired, _to_login)
    app.add_exception_handler(Forbidden, _forbidden)
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(CampaignError, _refused)
    app.add_exception_handler(HTTPException, _http_error)
    return app


@asynccontextmanager
async def _few_threads(_app: FastAPI) -> AsyncIterator[None]:
    """Pages run on as many threads as the database pool keeps connections: more threads only
    contend for the interpreter's lock and open connections that start with a cold cache."""
    to_thread.current_default_thread_limiter().total_tokens = POOL_SIZE
    yield


def app_of_settings() -> FastAPI:
    """The console of the settings' database: what each process of `campaign serve --workers N`
    builds for itself."""
    return create_app(get_engine())


def _page_routers() -> "list[APIRouter]":
    """The routers of the console's pages, added as they are written."""
    from web import dashboard, escalations, unit_page  # the reading pages (issue 22)
    from web.audit_review import router as audit_review  # the audit review (issue 22)
    from web.member_page import router as member_page  # a member's page (issue 25)
    from web.recording import router as recording  # recording, uploads and runs (issue 22)
    from web.run_pages import router as runs
    from web.uploads import router as uploads

    return [
        dashboard.router,
        unit_page.router,
        member_page,
        escalations.router,
        recording,
        uploads,
        runs,
        audit_review,
    ]


async def _to_login(request: Request, _exc: Exception) -> Response:
    return RedirectResponse("/login", status_code=303)


async def _forbidden(request: Request, exc: Exception) -> HTMLResponse:
    assert isinstance(exc, Forbidden)
    who = await run_in_threadpool(_recorded, request, exc)
    return page(
        request,
        "error.html.j2",
        title="Không được phép",
        who=who,
        status_code=403,
        heading="Không được phép (403)",
        message=exc.reason,
    )


def _recorded(request: Request, refused: Forbidden) -> Viewer | None:
    """Who was refused, once the refusal is stored (None: an anonymous form without its token,
    nobody to record)."""
    try:
        who = current_viewer(request)
    except LoginRequired:
        return None
    with transaction(request.app.state.engine) as session:
        record_refusal(session, who, request.method, str(request.url.path), refused.reason, now())
    return who


async def _not_found(request: Request, exc: Exception) -> Response:
    if "login" not in request.session:
        return RedirectResponse("/login", status_code=303)
    return _error_page(request, 404, "Không tìm thấy (404)", str(exc))


async def _refused(request: Request, exc: Exception) -> HTMLResponse:
    assert isinstance(exc, CampaignError)
    return _error_page(request, 400, "Yêu cầu bị từ chối", "; ".join(exc.lines()))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if "login" not in request.session:  # an anonymous visitor learns no address but /login
        return RedirectResponse("/login", status_code=303)
    return _error_page(request, exc.status_code, f"Lỗi {exc.status_code}", str(exc.detail))


def _error_page(request: Request, status: int, heading: str, message: str) -> HTMLResponse:
    try:
        who = current_viewer(request)
    except LoginRequired:
        who = None
    return page(
        request,
        "error.html.j2",
        title=heading,
        who=who,
        status_code=status,
        heading=heading,
        message=message,
    )
