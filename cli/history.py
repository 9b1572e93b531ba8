"""The organisation's history: `campaign units history CODE` prints a unit's dated changes
(parent, kind, name, status), with who made each, as a table or JSON."""

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from cli.connection import engine_for
from cli.parameters import Actor, DatabaseUrl, Format, chosen_format
from cli.terminal import out
from models.db import transaction

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from campaign.member_history import MemberHistoryView
    from campaign.roster_history import ChangeView, UnitHistoryView

V = TypeVar("V", bound=BaseModel)


def units_history_command(
    code: Annotated[str, typer.Argument(help="A unit's code.")],
    format_: Format = "table",
    database_url: DatabaseUrl = None,
    actor: Actor = None,
) -> None:
    """A unit's changes of parent, kind, name and status: the day each holds from (the units
    file's Từ ngày, else the day it was imported), from what to what, and who imported it."""
    from campaign.roster_history import unit_history

    _show(format_, database_url, lambda session: unit_history(session, code), print_unit_history)


def _show(
    format_: str,
    database_url: str | None,
    read: "Callable[[Session], V]",
    printed: "Callable[[Console, V], None]",
) -> None:
    """A history read in one transaction, printed as a table or JSON."""
    fmt = chosen_format(format_, ("table", "json"))
    with transaction(engine_for(database_url)) as session:
        history = read(session)
    if fmt == "json":
        print(history.model_dump_json(by_alias=True, indent=2))
    else:
        printed(out, history)


def print_unit_history(console: Console, history: "UnitHistoryView") -> None:
    """The unit's changes, one row each, oldest first, dates dd/mm/yyyy."""
    title = f"{history.unit} {history.name} ({history.kind})"
    if history.dissolved_on is not None:
        title += f", dissolved from {history.dissolved_on:%d/%m/%Y}"
    console.print(_changes_table(title, history.changes, "no change since the unit was imported"))


def members_history_command(
    code: Annotated[str, typer.Argument(help="A member's code.")],
    format_: Format = "table",
    database_url: DatabaseUrl = None,
    actor: Actor = None,
) -> None:
    """A member's changes of unit, status and leader flag, and their joining: the day each
    holds from (the members file's Từ ngày, else the day it was imported), from what to what,
    and who imported it."""
    from campaign.member_history import member_history

    _show(
        format_, database_url, lambda session: member_history(session, code), print_member_history
    )


def print_member_history(console: Console, history: "MemberHistoryView") -> None:
    """The member's changes, one row each, oldest first, dates dd/mm/yyyy."""
    title = f"{history.member} {history.name} ({history.unit}, {history.status}"
    title += ", leader)" if history.leader else ")"
    console.print(_changes_table(title, history.changes, "no change since imported"))


def _changes_table(title: str, changes: "list[ChangeView]", none: str) -> Table:
    """Dated changes, one row each, oldest first, dates dd/mm/yyyy (`none`: the caption when
    there is none)."""
    table = Table("from day", "change", "was", "now", "by", title=title, title_justify="left")
    for change in changes:
        table.add_row(
            f"{change.on:%d/%m/%Y}",
            change.field,
            change.from_ or "—",
            change.to or "—",
            change.actor or "—",
        )
    if not changes:
        table.caption = none
    return table
