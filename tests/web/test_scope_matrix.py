"""The scope matrix (issue 22's acceptance): every role × every page and form of the console ×
a unit inside and outside the account's subtree. A read outside the subtree and a write beyond
the role answer 403, and each 403 is recorded (who, what, when) where reviewers read it.

The pages are the app's own routes (tests/web/console_routes.py), so a page added later is in
the matrix: ALLOWED says which roles may use it inside their subtree; a route missing from
ALLOWED is still checked outside the subtree (403 for every account) and named in a warning."""

import datetime as dt
import warnings
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import Engine, func, select

from campaign.access import now, refusals
from models.accounts import AccessRefusal, Role
from models.db import transaction
from tests.web.console_routes import add_other_town, address, console_routes, parameters
from tests.web.console_server import Console, csrf_of

OPERATOR, SECRETARY, REVIEWER = Role.operator, Role.secretary, Role.reviewer
READERS = frozenset(Role)
RECORDERS = frozenset({OPERATOR, SECRETARY})
AUDITORS = frozenset({OPERATOR, REVIEWER})
RUNNERS = frozenset({OPERATOR})
NO_ANSWER = 0  # the server failed and closed the connection
UNSCOPED = None  # no campaign or unit in the address: every account, nothing outside
DOCUMENT = "mau-tu-soi-roi-dang-vien"  # a blank form every unit's page offers

# (method, address, form variant) → the roles that may use it inside their subtree.
ALLOWED: dict[tuple[str, str, str], frozenset[Role] | None] = {
    ("GET", "/", ""): UNSCOPED,
    ("GET", "/account/password", ""): UNSCOPED,
    ("POST", "/account/password", ""): UNSCOPED,
    ("GET", "/campaigns/{code}", ""): READERS,
    ("GET", "/campaigns/{code}/escalations", ""): READERS,
    ("GET", "/campaigns/{code}/units/{unit}", ""): READERS,
    ("GET", "/campaigns/{code}/units/{unit}/documents/{document}", ""): READERS,
    ("GET", "/campaigns/{code}/members/{member}", ""): READERS,  # now or once in the subtree
    ("GET", "/campaigns/{code}/units/{unit}/record", ""): RECORDERS,
    ("POST", "/campaigns/{code}/units/{unit}/record", ""): RECORDERS,
    ("GET", "/campaigns/{code}/upload", ""): RECORDERS,
    ("POST", "/campaigns/{code}/upload", "facts"): RECORDERS,
    ("POST", "/campaigns/{code}/upload", "units"): RUNNERS,  # the roster: the office only
    ("POST", "/campaigns/{code}/upload", "members"): RUNNERS,
    ("GET", "/campaigns/{code}/runs", ""): RUNNERS,
    ("POST", "/campaigns/{code}/runs", ""): RUNNERS,
    ("GET", "/campaigns/{code}/runs/{handle}", ""): RUNNERS,
    ("GET", "/campaigns/{code}/audit", ""): AUDITORS,
    ("GET", "/campaigns/{code}/audit.csv", ""): AUDITORS,
    ("GET", "/campaigns/{code}/audit.json", ""): AUDITORS,
    ("GET", "/campaigns/{code}/audit/verify", ""): AUDITORS,
    ("POST", "/campaigns/{code}/audit/verify", ""): AUDITORS,
    ("GET", "/campaigns/{code}/refusals", ""): AUDITORS,
}
PUBLIC = {"/login", "/logout"}
# The audit's reads take `?unit=`: a unit outside the subtree is refused as its address would be.
FILTERED_BY_UNIT = {
    "/campaigns/{code}/audit",
    "/campaigns/{code}/audit.csv",
    "/campaigns/{code}/audit.json",
}
# What each form posts: harmless where it is allowed (a date that is no date refuses the run
# with 400; an upload without its file is refused with 400), so "allowed" is any answer but 403.
FORMS = {
    "/account/password": {"old": "wrong-password", "new": "x" * 12, "again": "y" * 12},
    "/campaigns/{code}/units/{unit}/record": {"form": "session", "date": "2023-05-10"},
    "/campaigns/{code}/runs": {"as_of": "not-a-date"},
}


@dataclass(frozen=True)
class Account:
    """An account of the matrix, a unit inside its subtree and one outside it."""

    login: str
    role: Role
    inside: dict[str, str]
    outside_unit: dict[str, str]  # the same campaign, a unit outside the subtree
    outside_campaign: dict[str, str]  # a campaign whose organisation it is no part of


# A member of each unit the matrix names (G1 holds none: a member of its branch B1).
MEMBER_OF = {"B1": "M1", "B2": "M4", "G1": "M1", "G2": "M6", "X1": "MX1"}


def _values(code: str, unit: str) -> dict[str, str]:
    return {
        "code": code,
        "unit": unit,
        "member": MEMBER_OF[unit],
        "handle": "1",
        "document": DOCUMENT,
    }


ACCOUNTS = [
    Account("vp.thiuy", OPERATOR, _values("T23", "B1"), _values("T23", "X1"), _values("K23", "X1")),
    Account("bt.b1", SECRETARY, _values("T23", "B1"), _values("T23", "B2"), _values("K23", "X1")),
    Account("bt.g2", SECRETARY, _values("T23", "G2"), _values("T23", "B1"), _values("K23", "X1")),
    Account("ubkt", REVIEWER, _values("T23", "G1"), _values("T23", "X1"), _values("K23", "X1")),
    Account("vp.khac", OPERATOR, _values("K23", "X1"), _values("K23", "B1"), _values("T23", "B1")),
]


def _cases(engine: Engine) -> list[tuple[str, str, str]]:
    """(method, address template, form variant) of every route but the login's."""
    cases = []
    for method, path in console_routes(engine):
        if path in PUBLIC:
            continue
        if method == "POST" and path.endswith("/upload"):
            cases += [(method, path, what) for what in ("facts", "units", "members")]
        else:
            cases.append((method, path, ""))
    return cases


def _send(client: httpx.Client, method: str, path: str, template: str, what: str) -> int:
    """The answer's status (a page that fails in the server is reported, not fatal)."""
    data = {**FORMS.get(template, {}), "csrf_token": csrf_of(client, "/account/password")}
    if what:
        data["what"] = what
    try:
        if method == "GET":
            return client.get(path).status_code
        return client.request(method, path, data=data).status_code
    except httpx.TransportError:
        return NO_ANSWER


def _last_refusal(engine: Engine) -> int:
    with transaction(engine) as session:
        return int(session.scalar(select(func.max(AccessRefusal.id))) or 0)


def _recorded(engine: Engine, after: int, login: str, method: str, path: str) -> str | None:
    """What is wrong with the refusals recorded since `after` (None: one, as expected)."""
    with transaction(engine) as session:
        rows = list(session.scalars(select(AccessRefusal).where(AccessRefusal.id > after)))
    if len(rows) != 1:
        return f"{len(rows)} refusals recorded, not 1"
    row, moment = rows[0], rows[0].at
    at = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    if (row.login, row.method, row.path) != (login, method, path) or not row.reason:
        return f"recorded as {row.login} {row.method} {row.path} ({row.reason!r})"
    if not now() - dt.timedelta(minutes=5) < at <= now():
        return f"recorded at {at}"
    return None


def _expected(account: Account, allowed: frozenset[Role] | None, side: str) -> int | None:
    """403 for a refusal; None when any answer but 403 is right."""
    if not side.startswith("inside"):
        return 403
    return None if allowed is None or account.role in allowed else 403


def _sides(account: Account, template: str) -> dict[str, tuple[dict[str, str], str]]:
    """Where one account tries a route: inside, and outside in each way the route can name a
    place (its campaign, its unit, or the audit's `?unit=` filter); the values and query."""
    scoped = {"code", "unit", "member"} & set(parameters(template))
    sides = {"inside": (account.inside, "")}
    if scoped:
        sides["outside campaign"] = (account.outside_campaign, "")
    if scoped & {"unit", "member"}:
        sides["outside unit"] = (account.outside_unit, "")
    if template in FILTERED_BY_UNIT:
        sides["inside, filtered"] = (account.inside, f"?unit={account.inside['unit']}")
        sides["outside unit filter"] = (account.inside, f"?unit={account.outside_unit['unit']}")
    return sides


def _check(console: Console, engine: Engine, account: Account, wrong: list[str]) -> int:
    """Every case for one account; the mismatches appended to `wrong`; the checks made."""
    client, checked = console.login(account.login), 0
    for method, template, what in _cases(engine):
        allowed = ALLOWED.get((method, template, what), frozenset())
        for side, (values, query) in _sides(account, template).items():
            expected = _expected(account, allowed, side)
            if (method, template, what) not in ALLOWED and side.startswith("inside"):
                continue  # a route the table does not know: only the outside is checked
            path = address(template, values)
            before = _last_refusal(engine)
            status = _send(client, method, path + query, template, what)
            checked += 1
            case = f"{account.login} {method} {path}{query} {what} ({side})"
            if expected == 403 and status != 403:
                wrong.append(f"{case}: {status}, not 403")
            elif expected is None and status == 403:
                wrong.append(f"{case}: refused (403)")
            elif status == 403 and (
                problem := _recorded(engine, before, account.login, method, path)
            ):
                wrong.append(f"{case}: {problem}")
    return checked


def test_every_role_page_and_form_inside_and_outside_the_subtree(
    console: Console, town: Engine, tmp_path: Path
) -> None:
    add_other_town(town, tmp_path / "more")
    unknown = sorted({(m, p) for m, p, w in _cases(town) if (m, p, w) not in ALLOWED})
    if unknown:
        warnings.warn(f"routes the scope matrix checks only outside: {unknown}", stacklevel=1)
    wrong: list[str] = []
    checked = sum(_check(console, town, account, wrong) for account in ACCOUNTS)
    assert not wrong, f"{len(wrong)} of {checked} checks wrong:\n" + "\n".join(wrong)
    assert checked > 5 * len(ACCOUNTS)
    with transaction(town) as session:  # what a reviewer of TOWN reads: its accounts' only
        seen = {row.login for row in refusals(session, "/TOWN/")}
    assert {"bt.b1", "bt.g2"} <= seen and "vp.khac" not in seen
