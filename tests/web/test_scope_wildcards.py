"""A subtree is a prefix of unit codes, compared as text: a code's `_` or `%` (LIKE's wildcards)
must not widen an account's reach to a unit whose code merely matches the pattern."""

import datetime as dt
from pathlib import Path

from sqlalchemy import Engine, select

from campaign.access import add_account
from campaign.intake.unit_tree import import_units
from models.accounts import AccessRefusal, Role
from models.db import transaction
from tests.input_files import UNIT_HEADER, write_csv
from tests.web.console_server import PASSWORD, serving


def test_an_underscore_in_a_code_reaches_no_look_alike_unit(town: Engine, tmp_path: Path) -> None:
    units = [
        ["G_9", "Chi bộ Gạch dưới", "grassroots", "TOWN"],
        ["GX9", "Chi bộ Giống tên", "grassroots", "TOWN"],
    ]
    with transaction(town) as session:
        import_units(
            write_csv(tmp_path / "more.csv", UNIT_HEADER, units),
            session=session,
            on=dt.date(2023, 1, 30),
        )
        add_account(
            session,
            "bt.g_9",
            full_name="Bí thư G_9",
            role=Role.secretary,
            unit="G_9",
            password=PASSWORD,
        )
    with serving(town) as console:
        client = console.login("bt.g_9")
        assert client.get("/campaigns/T23/units/G_9").status_code == 200
        assert client.get("/campaigns/T23/units/GX9").status_code == 403
    with transaction(town) as session:
        refused = session.scalars(select(AccessRefusal.path).where(AccessRefusal.login == "bt.g_9"))
        assert list(refused) == ["/campaigns/T23/units/GX9"]
