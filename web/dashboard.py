"""The campaign's dashboard: its three targets, the chart and tree of progress by unit, the late
units and the last runs — all within the account's subtree (`web.scope.reach`)."""

import threading
from typing import Annotated
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from campaign.access import Viewer
from campaign.console_views import Dashboard, TreeNode, dashboard
from models.settings import get_settings
from templates.render import environment
from web.page import page
from web.scope import reach
from web.session import current_viewer, engine_of, reading

router = APIRouter()
Who = Annotated[Viewer, Depends(current_viewer)]


@router.get("/campaigns/{code}")
def dashboard_page(request: Request, code: str, who: Who) -> HTMLResponse:
    """The dashboard of campaign `code`, rooted at the account's own unit (or the owner)."""
    with reading(request) as session:
        where = reach(session, who, code)
        zone = ZoneInfo(get_settings().timezone)
        view = dashboard(session, code, where.root_code, where.root_path, zone)
    tree = _tree_html(str(engine_of(request).url), view)
    return page(request, "dashboard.html.j2", title=view.title, who=who, view=view, tree_html=tree)


# The tree's HTML by database, campaign and root, with the tree it was rendered from: the same
# for every account of that root while the figures stand (a province's is a thousand rows).
_trees: dict[tuple[str, str, str], tuple[TreeNode, Markup]] = {}
_lock = threading.Lock()


def _tree_html(database: str, view: Dashboard) -> Markup:
    key = (database, view.code, view.root_code)
    with _lock:
        kept = _trees.get(key)
    if kept is not None and kept[0] is view.tree:  # the campaign's kept figures are the same
        return kept[1]
    base = f"/campaigns/{quote(view.code, safe='')}"
    html = Markup(
        environment().get_template("console/_tree.html.j2").render(tree=view.tree, base=base)
    )
    with _lock:
        _trees[key] = (view.tree, html)
    return html
