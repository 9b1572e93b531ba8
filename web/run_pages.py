"""Runs from the console (an operator whose reach is the whole campaign): the list of runs, a
form to run today or at a date, and a run's page, which refreshes itself until the run ends and
then shows its result and the notices it issued. The actor is the logged-in account."""

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from campaign.access import Viewer
from campaign.run_record import check_run, list_runs
from campaign.run_views import run_detail
from flows.on_demand import flow_run_link, flow_run_state, prefect_server_configured
from models.calendar import today
from models.dates import DAY_FORMATS, parse_day
from models.errors import NotFound, OutOfScope
from web import run_jobs
from web.page import page
from web.scope import RUNNERS, Reach, reach, require_role
from web.session import Forbidden, checked_form, current_viewer, reading

router = APIRouter()
Who = Annotated[Viewer, Depends(current_viewer)]
WHAT = "chạy đợt sinh hoạt"
STEP_NAMES = {"reminder": "nhắc nhở", "overdue": "quá hạn", "escalation": "báo cáo cấp trên"}
CAMPAIGN_STATES = {
    "registered": "đã đăng ký",
    "active": "đang triển khai",
    "reporting": "đang báo cáo",
    "closed": "đã kết thúc",
}


def _whole(request: Request, who: Viewer, code: str) -> Reach:
    """The campaign, if `who` may run it: an operator whose reach is all of it."""
    require_role(who, RUNNERS, WHAT)
    with reading(request) as session:
        where = reach(session, who, code)
    if not where.whole:
        raise Forbidden(f"chỉ văn phòng cấp ủy chủ trì đợt {code} mới được chạy đợt")
    return where


@router.get("/campaigns/{code}/runs")
def runs_page(request: Request, code: str, who: Who) -> HTMLResponse:
    """The campaign's runs, latest first, and the form to start one."""
    where = _whole(request, who, code)
    with reading(request) as session:
        runs = list(reversed(list_runs(session, where.campaign.code)))
    return page(
        request,
        "runs.html.j2",
        title=f"Các lần chạy · {where.campaign.code}",
        who=who,
        campaign=where.campaign.code,
        campaign_title=where.campaign.title,
        runs=runs,
        links={r.id: flow_run_link(r.flow_run_id) for r in runs},
        today=today().isoformat(),
        deployment=run_jobs.through_deployment(),
    )


@router.post("/campaigns/{code}/runs")
async def start_run(request: Request, code: str, who: Who) -> RedirectResponse:
    """Start a run at the posted `as_of` (empty: today) and go to its page."""
    form = await checked_form(request)
    where = _whole(request, who, code)
    day = _day(str(form.get("as_of", "")))
    with reading(request) as session:
        check_run(session, where.campaign.code, day)  # a date gone by is refused at once
    # Off the event loop: Prefect's client, called from a coroutine, would hand back one.
    handle = await run_in_threadpool(
        run_jobs.start, request.app, where.campaign.code, day, who.login
    )
    return RedirectResponse(f"/campaigns/{where.campaign.code}/runs/{handle}", status_code=303)


def _day(text: str) -> dt.date:
    if not text.strip():
        return today()
    try:
        return parse_day(text.strip())
    except ValueError:
        raise OutOfScope(f"ngày chạy '{text.strip()[:20]}' không hợp lệ ({DAY_FORMATS})") from None


@router.get("/campaigns/{code}/runs/{handle}")
def run_page(request: Request, code: str, handle: str, who: Who) -> HTMLResponse:
    """A run: while it goes, its state (the page refreshes itself); once ended, its result."""
    where = _whole(request, who, code)
    context = _followed(request, where, handle)
    title = f"Lần chạy {where.campaign.code}"
    return page(
        request,
        "run.html.j2",
        title=title,
        who=who,
        campaign=where.campaign.code,
        campaign_title=where.campaign.title,
        step_names=STEP_NAMES,
        campaign_states=CAMPAIGN_STATES,
        **context,
    )


def _prefect_says(flow_run: str, code: str) -> tuple[bool, list[str], str]:
    """Whether the flow run of the deployment still goes, what failed, and its state's name;
    NotFound unless it is a run of campaign `code`."""
    state = flow_run_state(flow_run) if prefect_server_configured() else None
    if state is None or state.code != code:
        raise NotFound(f"không có lần chạy {flow_run} của đợt {code}")
    failed = [state.message or state.name] if state.failed else []
    return not state.final, failed, f"Prefect: {state.name}"


def _followed(request: Request, where: Reach, handle: str) -> dict[str, Any]:
    """What the run's page shows: its record when there is one, else its job or flow run."""
    job = run_jobs.job_of(request.app, handle)
    flow_run = job.result.flow_run if job and job.result else handle
    with reading(request) as session:
        if handle.isdigit():
            detail = run_detail(session, where.campaign, run_id=int(handle))
        else:
            detail = run_detail(session, where.campaign, flow_run=flow_run or "")
    if handle.isdigit() and detail is None:
        raise NotFound(f"không có lần chạy {handle} của đợt {where.campaign.code}")
    running = detail is not None and detail.run.unfinished
    failed: list[str] = []
    waiting = ""
    if job is not None:
        if job.code != where.campaign.code:
            raise NotFound(f"không có lần chạy {handle} của đợt {where.campaign.code}")
        running, failed = job.state == "running", job.error
        waiting = f"{job.task} ({job.done}/{job.total})" if job.task else "đang khởi động Prefect"
    elif not handle.isdigit() and (detail is None or running):
        # A flow run of the deployment: Prefect knows whether it is waiting, or died.
        running, failed, waiting = _prefect_says(handle, where.campaign.code)
    return {
        "detail": detail,
        "job": job,
        "running": running,
        "failed": failed,
        "waiting": waiting,
        "link": flow_run_link(detail.run.flow_run_id if detail else flow_run),
    }
