"""The escalations page: what is overdue or escalated within the account's subtree, and who the
next runs will remind or escalate, and when (the forecast, once the campaign has run)."""

import datetime as dt
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from campaign.access import Viewer, now
from campaign.console_views import escalations
from models.settings import get_settings
from web.page import page
from web.scope import reach
from web.session import current_viewer, reading

router = APIRouter()
Who = Annotated[Viewer, Depends(current_viewer)]


@router.get("/campaigns/{code}/escalations")
def escalations_page(request: Request, code: str, who: Who) -> HTMLResponse:
    """Open escalations and the forecast of campaign `code` within the account's subtree."""
    with reading(request) as session:
        where = reach(session, who, code)
        view = escalations(session, code, where.root_code, today())
    return page(request, "escalations.html.j2", title="Đơn vị bị nhắc", who=who, view=view)


def today() -> dt.date:
    """Today where the campaign is run (the settings' time zone)."""
    return now().astimezone(ZoneInfo(get_settings().timezone)).date()
