"""The organisation's history: `campaign units history CODE` prints a unit's dated changes
(parent, kind, name, status), with who made each, as a table or JSON."""

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli.connection import engine_for
from cli.parameters import Actor, DatabaseUrl, Format, chosen_format
from cli.terminal import out
from models.db import transaction

if TYPE_CHECKING:
    from campaign.member_history import MemberHistoryView
    from campaign.roster_history import UnitHistoryView


def units_history_command(
    code: Annotated[str, typer.Argument(help="A unit's code.")],
    format_: Format = "table",
    database_url: DatabaseUrl = None,
    actor: Actor = None,
) -> None:
    """A unit's changes of parent, kind, name and status: the day each holds from (the units
    file's Từ ngày, else the day it was imported), from what to what, and who imported it."""
    from campaign.roster_history import unit_history

    fmt = chosen_format(format_, ("table", "json"))
    with transaction(engine_for(database_url)) as session:
        history = unit_history(session, code)
    if fmt == "json":
        print(history.model_dump_json(by_alias=True, indent=2))
    else:
        print_unit_history(out, history)


def print_unit_history(console: Console, history: "UnitHistoryView") -> None:
    """The unit's changes, one row each, oldest first, dates dd/mm/yyyy."""
    title = f"{history.unit} {history.name} ({history.kind})"
    if history.dissolved_on is not None:
        title += f", dissolved from {history.dissolved_on:%d/%m/%Y}"
    table = Table("from day", "change", "was", "now", "by", title=title, title_justify="left")
    for change in history.changes:
        table.add_row(
            f"{change.on:%d/%m/%Y}",
            change.field,
            change.from_ or "—",
            change.to or "—",
            change.actor,
        )
    if not history.changes:
        table.caption = "no change since the unit was imported"
    console.print(table)


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

    fmt = chosen_format(format_, ("table", "json"))
    with transaction(engine_for(database_url)) as session:
        history = member_history(session, code)
    if fmt == "json":
        print(history.model_dump_json(by_alias=True, indent=2))
    else:
        print_member_history(out, history)


def print_member_history(console: Console, history: "MemberHistoryView") -> None:
    """The member's changes, one row each, oldest first, dates dd/mm/yyyy."""
    title = f"{history.member} {history.name} ({history.unit}, {history.status}"
    title += ", leader)" if history.leader else ")"
    table = Table("from day", "change", "was", "now", "by", title=title, title_justify="left")
    for change in history.changes:
        table.add_row(
            f"{change.on:%d/%m/%Y}",
            change.field,
            change.from_ or "—",
            change.to or "—",
            change.actor or "—",
        )
    if not history.changes:
        table.caption = "no change since imported"
    console.print(table)
