"""Pages: the engine's one Jinja2 environment renders templates/console/, every page given the
account, its CSRF token and where it stands."""

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from campaign.access import Viewer
from templates.render import environment
from web.scope import ROLE_NAMES
from web.session import CSRF_FIELD, csrf_token


def page(
    request: Request,
    template: str,
    *,
    title: str,
    who: Viewer | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """`templates/console/<template>` rendered as a page (HTML-escaped by the environment)."""
    names = {
        "title": title,
        "who": who,
        "role_name": ROLE_NAMES[who.role] if who else "",
        "csrf_field": CSRF_FIELD,
        "csrf": csrf_token(request),
        "path": request.url.path,
        **context,
    }
    html = environment().get_template(f"console/{template}").render(names)
    return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)


# No framing (clickjacking), no sniffing, no referrer leaking a unit's address, scripts and
# styles from this server only.
SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'",
    "Cache-Control": "no-store",
}
