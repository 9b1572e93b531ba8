"""A unit's page: its duties, members, notices and documents; and each document as print-ready
HTML at an address under the unit. The unit must lie in the account's subtree
(`web.scope.unit_within`), a stored document under that unit (in the query)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from campaign.access import Viewer
from campaign.history_lines import unit_changes
from campaign.unit_views import document_unit, generated_document, stored_document, unit_page
from models.errors import NotFound
from web.page import SECURITY_HEADERS, page
from web.scope import reach, unit_within
from web.session import Forbidden, current_viewer, reading

router = APIRouter()
Who = Annotated[Viewer, Depends(current_viewer)]


@router.get("/campaigns/{code}/units/{unit}")
def unit_view(request: Request, code: str, unit: str, who: Who) -> HTMLResponse:
    """The page of `unit` in campaign `code`."""
    with reading(request) as session:
        where = reach(session, who, code)
        found = unit_within(session, where, unit)
        view = unit_page(session, code, found, where.root_path)
        history = unit_changes(session, found.id)
    return page(request, "unit.html.j2", title=view.unit_name, who=who, view=view, history=history)


@router.get("/campaigns/{code}/units/{unit}/documents/{document}")
def document_view(request: Request, code: str, unit: str, document: str, who: Who) -> HTMLResponse:
    """A document of `unit`, print-ready: a stored notice by its number, or its plan, report,
    synthesis or a blank form by name."""
    with reading(request) as session:
        where = reach(session, who, code)
        found = unit_within(session, where, unit)
        if not document.isdigit():
            html = generated_document(session, code, found, document)
        elif (stored := stored_document(session, code, found, int(document))) is not None:
            html = stored
        else:
            filed = document_unit(session, int(document))
            if filed is not None and not filed.startswith(where.root_path):
                raise Forbidden(f"văn bản số {document} nằm ngoài phạm vi của tài khoản")
            raise NotFound(f"đơn vị {unit} không có văn bản số {document}")
    return HTMLResponse(html, headers=SECURITY_HEADERS)
