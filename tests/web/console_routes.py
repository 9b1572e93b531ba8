"""The console's addresses as its app declares them (so a page added later is checked too),
and the test data the security and scope tests add beside tests/town.py's: a second town
outside TOWN with its own campaign and operator, and a branch whose names are hostile."""

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import yaml
from fastapi.routing import APIRoute
from sqlalchemy import Engine
from starlette.routing import BaseRoute

from campaign.access import add_account
from campaign.intake.member_roster import import_members
from campaign.intake.plan_register import register_plan
from campaign.intake.unit_tree import import_units
from models.accounts import Role
from models.db import transaction
from tests.input_files import MEMBER_HEADER, UNIT_HEADER, write_csv
from tests.town import MEMBERS, PLANS, UNITS
from tests.web.console_server import PASSWORD
from web.console import create_app

SCRIPT = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("http://evil","x")'
# Outside TOWN: another district with a branch, its own campaign K23 and its own office.
OTHER_UNITS = [
    ["TOWN2", "Huyện ủy Khác", "district", ""],
    ["GX", "Đảng bộ xã Khác", "grassroots", "TOWN2"],
    ["X1", "Chi bộ thôn Khác", "branch", "GX"],
]
OTHER_MEMBERS = [
    ["MX1", "Bùi Văn Khác", "X1", "yes", "Bí thư chi bộ", "active"],
    ["MX2", "Đỗ Thị Ngoài", "X1", "no", "", "active"],
]
OTHER_OPERATOR = ("vp.khac", "Văn phòng Huyện ủy Khác", Role.operator, "TOWN2")
# Inside TOWN: a branch of G1 whose name, and whose member's name, hold markup and a formula.
HOSTILE_UNITS = [["BX", f"Chi bộ {SCRIPT} {FORMULA}", "branch", "G1"]]
HOSTILE_MEMBERS = [["MX9", f"{SCRIPT} {FORMULA}", "BX", "no", "", "active"]]
HOSTILE_ACCOUNT = ("hostile", f"{SCRIPT} {FORMULA}", Role.secretary, "BX")


def console_routes(engine: Engine) -> list[tuple[str, str]]:
    """Every (method, address template) the console's app serves, /static aside."""
    found = {
        (method, path)
        for path, methods in _walk(create_app(engine).routes)
        for method in methods
        if method != "HEAD"
    }
    return sorted(found, key=lambda pair: (pair[1], pair[0]))


def _walk(routes: Sequence[BaseRoute], prefix: str = "") -> Iterator[tuple[str, set[str]]]:
    """The routes' addresses and methods, into included routers (FastAPI keeps an included
    router whole since 0.150, its routes inside it)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, set(route.methods or ())
        elif (inner := getattr(route, "original_router", None)) is not None:
            context = getattr(route, "include_context", None)
            yield from _walk(inner.routes, prefix + str(getattr(context, "prefix", "")))


def parameters(template: str) -> list[str]:
    """The names of an address template's parameters: '/campaigns/{code}' → ['code']."""
    return re.findall(r"{(\w+)(?::\w+)?}", template)


def address(template: str, values: dict[str, str]) -> str:
    """The template with its parameters filled (a missing value fails, naming it)."""
    missing = [name for name in parameters(template) if name not in values]
    assert not missing, f"no test value for {missing} of {template}: add one"
    return re.sub(r"{(\w+)(?::\w+)?}", lambda found: values[found[1]], template)


def add_units(
    engine: Engine, folder: Path, units: list[list[str]], members: list[list[str]]
) -> None:
    """tests/town.py's organisation with `units` and `members` added (its own rows unchanged)."""
    folder.mkdir(parents=True, exist_ok=True)
    with transaction(engine) as session:
        import_units(write_csv(folder / "units+.csv", UNIT_HEADER, UNITS + units), session=session)
        import_members(
            write_csv(folder / "members+.csv", MEMBER_HEADER, MEMBERS + members),
            session=session,
            on=dt.date(2023, 1, 30),
        )


def add_other_town(engine: Engine, folder: Path) -> None:
    """TOWN2 beside TOWN (with the hostile branch too), its campaign K23, its office's account."""
    add_units(engine, folder, OTHER_UNITS + HOSTILE_UNITS, OTHER_MEMBERS + HOSTILE_MEMBERS)
    data = yaml.safe_load((PLANS / "la-gi-2023.yaml").read_text(encoding="utf-8"))
    data.update(owner="TOWN2", code="K23")
    plan = folder / "k23.yaml"
    plan.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with transaction(engine) as session:
        register_plan(plan, session=session)
        for login, name, role, unit in (OTHER_OPERATOR, HOSTILE_ACCOUNT):
            add_account(session, login, full_name=name, role=role, unit=unit, password=PASSWORD)
