"""The operator's command line, `campaign`: parse, call one function, print.

Errors become exit codes in one place, `main`: 1 for a refusal (with `error: …` lines), 2 for a
usage error, never a traceback."""

import getpass
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from models.calendar import today
from models.db import get_engine, migrate, transaction
from models.errors import CampaignError
from models.units import ImportSummary

app = typer.Typer(
    help="Run political-activity campaigns down a party organisation.\n\n"
    "Typical order: db init → units import → members import → plan register → "
    "facts import → run → status / escalations / audit / docs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="The campaign database.", no_args_is_help=True)
units_app = typer.Typer(help="The organisation tree.", no_args_is_help=True)
members_app = typer.Typer(help="The member roster.", no_args_is_help=True)
plan_app = typer.Typer(help="Campaign plans.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(units_app, name="units")
app.add_typer(members_app, name="members")
app.add_typer(plan_app, name="plan")

out = Console()

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="CAMPAIGN_DATABASE_URL",
        help="SQLAlchemy URL of the database [default: sqlite file campaign.db here].",
        show_default=False,
    ),
]
Actor = Annotated[
    str | None,
    typer.Option(
        "--actor",
        help="Who acts, as the audit trail records it [default: your login name].",
        show_default=False,
    ),
]
InputFile = Annotated[
    Path, typer.Argument(help="A CSV (UTF-8) or XLSX file.", exists=True, dir_okay=False)
]


def actor_name(actor: str | None) -> str:
    """The acting operator: `--actor`, else the login name."""
    if actor:
        return actor
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "operator"


def engine_for(database_url: str | None) -> Engine:
    """The engine of the chosen database, its schema brought up to date."""
    engine = get_engine(database_url)
    migrate(engine)
    return engine


@db_app.command("init")
def db_init(database_url: DatabaseUrl = None, actor: Actor = None) -> None:
    """Create the schema, or migrate it to the newest revision."""
    engine = get_engine(database_url)
    revision = migrate(engine)
    out.print(
        f"database ready at {engine.url.render_as_string(hide_password=True)} "
        f"(schema revision {revision})"
    )


@units_app.command("import")
def units_import(file: InputFile, database_url: DatabaseUrl = None, actor: Actor = None) -> None:
    """Load or update the organisation tree (code, name, kind, parent).

    Headers may be the English keys or the Vietnamese ones: Mã đơn vị, Tên đơn vị, Loại,
    Đơn vị cấp trên. Kinds: province, district, grassroots, branch."""
    from models.units import import_units

    with transaction(engine_for(database_url)) as session:
        summary = import_units(file, session=session)
    _print_summary("units", summary)


@members_app.command("import")
def members_import(
    file: InputFile,
    database_url: DatabaseUrl = None,
    actor: Actor = None,
    on: Annotated[
        str | None,
        typer.Option(help="Date the changes of unit or status take effect [default: today]."),
    ] = None,
) -> None:
    """Load or update the roster (code, full_name, unit, leader, position, status).

    Headers may be the English keys or the Vietnamese ones: Mã đảng viên, Họ và tên, Chi bộ,
    Lãnh đạo, quản lý, Chức vụ, Tình trạng. Status: active, exempt, transferred_out."""
    from models.members import import_members

    with transaction(engine_for(database_url)) as session:
        summary = import_members(file, session=session, on=parse_date(on) if on else today())
    _print_summary("members", summary)


@plan_app.command("register")
def plan_register(
    file: Annotated[
        Path, typer.Argument(help="The plan, a YAML file.", exists=True, dir_okay=False)
    ],
    database_url: DatabaseUrl = None,
    actor: Actor = None,
) -> None:
    """Validate a campaign plan and register it (again, harmlessly, if unchanged)."""
    from models.plans import register_plan

    with transaction(engine_for(database_url)) as session:
        campaign, new = register_plan(file, session=session)
        plan = campaign.plan_file
    verb = "registered" if new else "updated"
    out.print(
        f"{verb} campaign [bold]{plan.code}[/] — {plan.title} ({plan.number or 'no number'}), "
        f"period {plan.period.start:%d/%m/%Y}–{plan.period.end:%d/%m/%Y}, owner {plan.owner}"
    )


@app.command("generate")
def generate_command(
    members: Annotated[int, typer.Option(min=1, help="How many members to generate.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the files into.")],
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same files.")] = 1,
    shape: Annotated[
        str, typer.Option(help="province (districts under a province) or town (one district).")
    ] = "province",
    actor: Actor = None,
) -> None:
    """Write a synthetic organisation, roster, plan and facts (units.csv, members.csv,
    plan.yaml, facts.csv) shaped like a real one."""
    from flows.generate import generate

    if shape not in ("province", "town"):
        raise typer.BadParameter("shape must be 'province' or 'town'", param_hint="--shape")
    files = generate(members, out_dir, seed=seed, shape=shape)
    table = Table("generated", "count", title=f"written to {out_dir}")
    for key, value in files.counts.items():
        table.add_row(key, f"{value:,}")
    out.print(table)


def parse_date(text: str) -> date:
    """A date given on the command line (YYYY-MM-DD or DD/MM/YYYY)."""
    try:
        if "/" in text:
            day, month, year = text.split("/")
            return date(int(year), int(month), int(day))
        return date.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"'{text}' is not a date (YYYY-MM-DD or DD/MM/YYYY)") from exc


def _print_summary(what: str, s: ImportSummary) -> None:
    out.print(
        f"{s.file}: {s.rows:,} {what} read — {s.created:,} created, {s.updated:,} updated, "
        f"{s.unchanged:,} unchanged"
    )


def main() -> None:
    """Entry point of `campaign`: run the command, map every failure to its exit code.

    Typer already exits 2 on a usage error; what it lets through is ours to report."""
    try:
        app()
    except CampaignError as exc:
        _fail(exc.lines())
    except SQLAlchemyError as exc:
        _fail([f"database: {str(exc).splitlines()[0]}"])
    except OSError as exc:
        _fail([f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")])


def _fail(lines: list[str]) -> NoReturn:
    for line in lines:
        print(f"error: {line}", file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
    main()
