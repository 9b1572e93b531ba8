"""What every command's options and arguments are, and how their values are read: the database
URL, the actor, a campaign's code, input files, dates and output formats."""

import os
import pwd
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from typer.models import ArgumentInfo, OptionInfo

from models.calendar import today
from models.dates import DAY_FORMATS, parse_day

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="CAMPAIGN_DATABASE_URL",
        help="SQLAlchemy URL of the database.",
        show_default="the SQLite file campaign.db here",
    ),
]


def actor_name(actor: str | None) -> str:
    """The acting operator, checked: `--actor`, else the OS account this process runs as.

    The account is the real one (the effective uid's), not LOGNAME or USER, which anyone can
    set; no name may be the reserved `system`, longer than the audit's column, or hold a control
    character. Every command's `--actor` passes here (its option's callback)."""
    from states.actors import check_actor

    if actor is None:
        actor = _os_account()
    try:
        return check_actor(actor)
    except ValueError as exc:
        from models.errors import InputError, Problem

        raise InputError([Problem("--actor", None, None, str(exc))]) from exc


def _os_account() -> str:
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:  # a uid with no account (containers): still who it is
        return f"uid-{os.geteuid()}"


Actor = Annotated[
    str | None,
    typer.Option(
        "--actor",
        help="Who acts, as the audit trail records it.",
        show_default="your login name",
        callback=actor_name,
    ),
]


def existing_file(help_text: str) -> ArgumentInfo:
    """A file argument that must exist and not be a folder (Typer refuses it as a usage
    error before the command runs)."""
    return typer.Argument(help=help_text, exists=True, dir_okay=False)


InputFile = Annotated[Path, existing_file("A CSV (UTF-8) or XLSX file.")]
CampaignCode = Annotated[str, typer.Argument(help="The campaign's code, as in its plan.")]
Format = Annotated[str, typer.Option("--format", help="table or json.")]


def date_option(help_text: str, *names: str) -> OptionInfo:
    """A date option that defaults to today, in either of the two ways a date is written."""
    return typer.Option(
        *names,
        help=f"{help_text} ({DAY_FORMATS}).",
        show_default="today",
        metavar="<date>",
    )


def chosen_format(value: str, allowed: tuple[str, ...]) -> str:
    """`--format`'s value, if it is one of `allowed` (else a usage error)."""
    if value not in allowed:
        raise typer.BadParameter(f"choose one of {', '.join(allowed)}", param_hint="--format")
    return value


def parse_date(text: str) -> date:
    """A date given on the command line (YYYY-MM-DD or DD/MM/YYYY); a usage error if it names
    none."""
    try:
        return parse_day(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


def day_or_today(text: str | None) -> date:
    """The date given on the command line, or today's when none is."""
    return parse_date(text) if text else today()


def optional_day(text: str | None) -> date | None:
    """The date given on the command line, if any."""
    return parse_date(text) if text else None
