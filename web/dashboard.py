"""The campaign's dashboard: its three targets, the chart and tree of progress by unit, the late
units and the last runs — all within the account's subtree (`web.scope.reach`)."""

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from campaign.access import Viewer
from campaign.console_views import dashboard
from models.settings import get_settings
from web.page import page
from web.scope import reach
from web.session import current_viewer, reading

router = APIRouter()
Who = Annotated[Viewer, Depends(current_viewer)]


@router.get("/campaigns/{code}")
def dashboard_page(request: Request, code: str, who: Who) -> HTMLResponse:
    """The dashboard of campaign `code`, rooted at the account's own unit (or the owner)."""
    with reading(request) as session:
        where = reach(session, who, code)
        zone = ZoneInfo(get_settings().timezone)
        view = dashboard(session, code, where.root_code, where.root_path, zone)
    return page(request, "dashboard.html.j2", title=view.title, who=who, view=view)
