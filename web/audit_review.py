"""The audit review (reviewers and operators): a campaign's trail filtered and paged, its CSV
and JSON exports (the very pieces `campaign audit --format csv|json` writes, streamed), the
chain's verification, and the requests the console refused.

Scope is part of every query: the events shown are those of units in the account's subtree
and of their members (`AuditFilter.within`); a unit or member asked for outside it is 403."""

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from sqlalchemy.orm import Session

from campaign.access import Viewer, refusals
from campaign.audit_export import audit_csv, audit_json
from campaign.audit_pages import (
    account_names,
    audit_page,
    check_chain,
    logins_within,
    member_within,
)
from campaign.status import AuditFilter, audit_trail
from models.dates import parse_day
from models.errors import CampaignError, NotFound
from models.settings import get_settings
from models.views import AuditView
from web.audit_words import ENTITIES, TRIGGERS, broken_words, state_word
from web.page import page
from web.scope import AUDITORS, Reach, reach, require_role, unit_within
from web.session import Forbidden, current_viewer, reading

router = APIRouter()
Who = Annotated[Viewer, Depends(current_viewer)]
READ_TRAIL = "xem nhật ký của đợt"
LONGEST = 255  # a filter's text beyond this names nothing the trail holds


class BadFilter(CampaignError):
    """A filter that names nothing (a date that is no date): 400, saying what to fix."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems

    def lines(self) -> list[str]:
        return self.problems


@dataclass(frozen=True)
class Asked:
    """The filters as typed into the form, shown back as they were."""

    unit: str = ""
    member: str = ""
    actor: str = ""
    since: str = ""
    until: str = ""

    @classmethod
    def of(cls, request: Request) -> "Asked":
        """The filters of the request's query string, trimmed."""
        given = request.query_params
        return cls(**{f.name: given.get(f.name, "").strip()[:LONGEST] for f in fields(cls)})

    def query(self, **more: object) -> str:
        """The query string of these filters (and `more`), for the page's links."""
        shown = {f.name: getattr(self, f.name) for f in fields(self)} | more
        return urlencode({key: value for key, value in shown.items() if value})


def _day(text: str, label: str, problems: list[str]) -> dt.date | None:
    if not text:
        return None
    try:
        return parse_day(text)
    except ValueError:
        problems.append(
            f"Ô “{label}”: “{text}” không phải một ngày. Xin ghi theo dạng ngày/tháng/năm "
            "(ví dụ 19/05/2023) hoặc năm-tháng-ngày (2023-05-19)."
        )
        return None


def audit_filter(session: Session, where: Reach, asked: Asked, after: str = "") -> AuditFilter:
    """The filter `asked` within the account's reach: BadFilter for a date that is none, 403
    for a unit or member outside the reach, 404 for one that does not exist."""
    problems: list[str] = []
    since, until = _day(asked.since, "Từ ngày", problems), _day(asked.until, "Đến ngày", problems)
    if since and until and since > until:
        problems.append("“Từ ngày” phải trước hoặc trùng “Đến ngày”.")
    if after and not (after.isdigit() and len(after) < 19):
        problems.append(f"Trang “{after}” không hợp lệ: xin mở lại từ trang đầu.")
    if problems:
        raise BadFilter(problems)
    if asked.unit:
        unit_within(session, where, asked.unit)
    if asked.member:
        inside = member_within(session, asked.member, where.root_path)
        if inside is None:
            raise NotFound(f"không có đảng viên '{asked.member}'")
        if not inside:
            raise Forbidden(f"đảng viên {asked.member} nằm ngoài phạm vi của tài khoản")
    return AuditFilter(
        asked.unit or None,
        asked.member or None,
        since,
        until,
        actor=asked.actor or None,
        within=None if where.whole else where.root_path,
        after=int(after or 0),
    )


@dataclass(frozen=True)
class AuditRow:
    """One event as the page shows it, in Vietnamese."""

    seq: int
    day: str
    recorded: str
    actor: str
    actor_name: str | None
    entity: str
    entity_id: int
    unit: str | None
    member: str | None
    trigger: str
    trigger_code: str
    moved: str
    reason: str


def _row(event: AuditView, names: dict[str, str]) -> AuditRow:
    return AuditRow(
        seq=event.seq,
        day=f"{event.at:%d/%m/%Y}",
        recorded=local_time(event.recorded_at),
        actor=event.actor,
        actor_name=names.get(event.actor),
        entity=ENTITIES.get(event.entity, event.entity),
        entity_id=event.entity_id,
        unit=event.unit,
        member=event.member,
        trigger=TRIGGERS.get(event.trigger, event.trigger),
        trigger_code=event.trigger,
        moved=f"{state_word(event.entity, event.from_)} → {state_word(event.entity, event.to)}",
        reason=event.reason or "",
    )


def local_time(moment: str | dt.datetime | None) -> str:
    """A moment of the wall clock (UTC, or ISO text) where the campaign is run: 03/12/2026
    19:04:40."""
    if moment is None:
        return ""
    try:
        stamp = dt.datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    except ValueError:
        return str(moment)
    if stamp.tzinfo is None:  # SQLite hands timestamps back naive: stored in UTC
        stamp = stamp.replace(tzinfo=dt.UTC)
    return f"{stamp.astimezone(ZoneInfo(get_settings().timezone)):%d/%m/%Y %H:%M:%S}"


@router.get("/campaigns/{code}/audit")
def audit_review(request: Request, code: str, who: Who) -> HTMLResponse:
    """The campaign's trail within the account's reach, filtered, a page at a time."""
    asked, after = Asked.of(request), request.query_params.get("after", "").strip()
    problems: list[str] = []
    rows: list[AuditRow] = []
    more = False
    with reading(request) as session:
        require_role(who, AUDITORS, READ_TRAIL)
        where = reach(session, who, code)
        try:
            chosen = audit_filter(session, where, asked, after)
        except BadFilter as bad:
            problems = bad.problems
        else:
            found = audit_page(session, code, chosen)
            names = account_names(session, (event.actor for event in found.events))
            rows, more = [_row(event, names) for event in found.events], found.more
        accounts = logins_within(session, where.root_path)
    return page(
        request,
        "audit.html.j2",
        title=f"Nhật ký đợt {where.campaign.code}",
        who=who,
        status_code=400 if problems else 200,
        code=where.campaign.code,
        campaign_title=where.campaign.title,
        scope=None if where.whole else where.root_code,
        asked=asked,
        problems=problems,
        rows=rows,
        first_page=not after,
        next_query=asked.query(after=rows[-1].seq) if more else None,
        export_query=asked.query(),
        accounts=accounts,
    )


@router.get("/campaigns/{code}/audit.csv")
def audit_csv_export(request: Request, code: str, who: Who) -> StreamingResponse:
    """The filtered trail as `campaign audit --format csv` writes it (cells never formulas)."""
    return _export(request, code, who, "csv")


@router.get("/campaigns/{code}/audit.json")
def audit_json_export(request: Request, code: str, who: Who) -> StreamingResponse:
    """The filtered trail as `campaign audit --format json` writes it."""
    return _export(request, code, who, "json")


MEDIA = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


def _export(request: Request, code: str, who: Viewer, fmt: str) -> StreamingResponse:
    """The filters and scope checked first (a refusal is a page); then the trail streamed from
    a read-only session of its own, piece by piece."""
    asked = Asked.of(request)
    with reading(request) as session:
        require_role(who, AUDITORS, READ_TRAIL)
        where = reach(session, who, code)
        chosen = audit_filter(session, where, asked)
    write = audit_csv if fmt == "csv" else audit_json
    campaign = where.campaign.code

    def pieces() -> Iterator[bytes]:
        with reading(request) as session:
            for piece in write(audit_trail(session, campaign, chosen)):
                yield piece.encode("utf-8")

    name = "-".join(["nhat-ky", campaign, *filter(None, (asked.unit, asked.member))])
    headers = {
        "Content-Disposition": f'attachment; filename="{name}.{fmt}"',
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }
    return StreamingResponse(pieces(), media_type=MEDIA[fmt], headers=headers)


@router.get("/campaigns/{code}/audit/verify")
def audit_verify(request: Request, code: str, who: Who) -> HTMLResponse:
    """Recompute the whole chain (reading only: verifying changes nothing) and say what it
    found."""
    with reading(request) as session:
        require_role(who, AUDITORS, "kiểm tra chuỗi nhật ký")
        where = reach(session, who, code)
        check = check_chain(session)
    return page(
        request,
        "audit_verify.html.j2",
        title="Kiểm tra chuỗi nhật ký",
        who=who,
        status_code=200,
        code=where.campaign.code,
        campaign_title=where.campaign.title,
        check=check,
        recorded=local_time(check.head.recorded_at if check.head else None),
        meaning=broken_words(check.broken) if check.broken else "",
    )


@dataclass(frozen=True)
class RefusalRow:
    """A refused request as the page shows it."""

    at: str
    login: str
    name: str | None
    method: str
    path: str
    reason: str


@router.get("/campaigns/{code}/refusals")
def refusals_page(request: Request, code: str, who: Who) -> HTMLResponse:
    """The latest requests refused to accounts within the reach: who, what, when, why."""
    with reading(request) as session:
        require_role(who, AUDITORS, "xem các yêu cầu bị từ chối")
        where = reach(session, who, code)
        found = refusals(session, where.root_path)
        names = account_names(session, (refusal.login for refusal in found))
        rows = [
            RefusalRow(local_time(r.at), r.login, names.get(r.login), r.method, r.path, r.reason)
            for r in found
        ]
    return page(
        request,
        "refusals.html.j2",
        title="Yêu cầu bị từ chối",
        who=who,
        code=where.campaign.code,
        campaign_title=where.campaign.title,
        scope=None if where.whole else where.root_code,
        rows=rows,
    )
