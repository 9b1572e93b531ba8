"""A member's page: who they are, their unit, their duties in the campaign and their dated
history. The member must lie in the account's subtree now or at any time of their history
(`campaign.member_views.member_within`, in the query); otherwise 403, recorded."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from campaign.access import Viewer
from campaign.member_views import member_exists, member_page, member_within
from models.errors import NotFound
from web.page import page
from web.scope import reach
from web.session import Forbidden, current_viewer, reading

router = APIRouter()
Who = Annotated[Viewer, Depends(current_viewer)]


@router.get("/campaigns/{code}/members/{member}")
def member_view(request: Request, code: str, member: str, who: Who) -> HTMLResponse:
    """The page of `member` in campaign `code`."""
    with reading(request) as session:
        where = reach(session, who, code)
        found = member_within(session, member, where.root_path)
        if found is None:
            if not member_exists(session, member):
                raise NotFound(f"không có đảng viên '{member}'")
            raise Forbidden(f"đảng viên {member} nằm ngoài phạm vi của tài khoản")
        view = member_page(session, code, found, where.root_path)
    return page(request, "member.html.j2", title=view.full_name, who=who, view=view)
