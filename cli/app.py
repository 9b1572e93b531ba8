"""The operator's command line, `campaign`: parse, call one function, print.

Errors become exit codes in one place, `main`: 1 for a refusal (with `error: …` lines), 2 for a
usage error, never a traceback."""

import os
import pwd
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from typer.core import TyperGroup

from campaign.intake.unit_tree import ImportSummary
from models.calendar import today
from models.db import get_engine, migrate, transaction
from models.errors import CampaignError
from models.settings import get_settings

if TYPE_CHECKING:
    from models.views import AuditHeadView

app = typer.Typer(
    help="Run political-activity campaigns down a party organisation.\n\n"
    "Typical order: db init → units import → members import → plan register → "
    "facts import → run → status / escalations / audit / docs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="markdown",
)
db_app = typer.Typer(help="The campaign database.", no_args_is_help=True)
units_app = typer.Typer(help="The organisation tree.", no_args_is_help=True)
members_app = typer.Typer(help="The member roster.", no_args_is_help=True)
plan_app = typer.Typer(help="Campaign plans.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(units_app, name="units")
app.add_typer(members_app, name="members")
app.add_typer(plan_app, name="plan")

# What the commands print is data (names, notes, file names), never Rich markup.
out = Console(markup=False)

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
InputFile = Annotated[
    Path, typer.Argument(help="A CSV (UTF-8) or XLSX file.", exists=True, dir_okay=False)
]


def engine_for(database_url: str | None) -> Engine:
    """The engine of the chosen database, its schema brought up to date."""
    engine = connected_engine(database_url)
    migrate(engine)
    return engine


def connected_engine(database_url: str | None) -> Engine:
    """The engine of `database_url` once a connection to it works; a URL that cannot be read,
    has no driver or leads nowhere is one `error: --database-url …` line, its password
    hidden (the drivers' errors are as varied as the drivers, hence the broad except)."""
    from sqlalchemy.engine import make_url

    url = database_url or get_settings().database_url
    try:
        parsed = make_url(url)
    except Exception as exc:  # the raw text may hold a password: not shown
        message = "--database-url: not a database URL (dialect://user:password@host/name)"
        raise CampaignError(message) from exc
    shown = parsed.render_as_string(hide_password=True)
    try:
        engine = get_engine(database_url)
        with engine.connect():
            pass
    except Exception as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0:1] or ["failed"]
        password = parsed.password or ""
        text = reason[0].replace(password, "***") if len(password) > 3 else reason[0]
        raise CampaignError(f"--database-url {shown}: {type(exc).__name__}: {text}") from exc
    return engine


@db_app.command("init")
def db_init(database_url: DatabaseUrl = None, actor: Actor = None) -> None:
    """Create the schema, or migrate it to the newest revision."""
    engine = connected_engine(database_url)
    revision = migrate(engine)
    out.print(
        f"database ready at {engine.url.render_as_string(hide_password=True)} "
        f"(schema revision {revision})"
    )


@db_app.command("backup")
def db_backup(
    file: Annotated[Path, typer.Argument(help="The backup file to write.", dir_okay=False)],
    force: Annotated[bool, typer.Option("--force", help="Overwrite FILE if it exists.")] = False,
    database_url: DatabaseUrl = None,
    actor: Actor = None,
) -> None:
    """Copy the database into FILE, consistent while runs go on writing (SQLite's online
    backup); prints the audit head it holds, to keep beside it.

    On PostgreSQL a backup is `pg_dump`'s (see the README)."""
    from campaign.backup import backup_database
    from models.settings import get_settings

    made = backup_database(database_url or get_settings().database_url, file, force=force)
    out.print(
        f"backup written to {made.file} ({made.bytes:,} bytes); it holds the audit trail up to "
        f"event {made.seq:,}, hash {made.hash}",
        soft_wrap=True,
    )


@db_app.command("restore")
def db_restore(
    file: Annotated[
        Path, typer.Argument(help="A backup from `db backup`.", exists=True, dir_okay=False)
    ],
    database_url: DatabaseUrl = None,
    actor: Actor = None,
) -> None:
    """Replace the database with the backup in FILE, once its schema and its audit chain are
    verified; a backup that does not verify is refused and the database left as it was.

    On PostgreSQL a restore is `pg_restore`'s (see the README)."""
    from campaign.backup import restore_database
    from models.settings import get_settings

    done = restore_database(database_url or get_settings().database_url, file)
    out.print(
        f"restored {file} into {done.file}: {done.events:,} audit events verified, chain intact, "
        f"head event {done.seq:,}, hash {done.hash}",
        soft_wrap=True,
    )


@units_app.command("import")
def units_import(file: InputFile, database_url: DatabaseUrl = None, actor: Actor = None) -> None:
    """Load or update the organisation tree (code, name, kind, parent).

    Headers may be the English keys or the Vietnamese ones: Mã đơn vị, Tên đơn vị, Loại,
    Đơn vị cấp trên. Kinds: province, district, grassroots, branch."""
    from campaign.intake.unit_tree import import_units

    with transaction(engine_for(database_url)) as session:
        summary = import_units(file, session=session, actor=actor_name(actor))
    _print_summary("units", summary)


@members_app.command("import")
def members_import(
    file: InputFile,
    database_url: DatabaseUrl = None,
    actor: Actor = None,
    on: Annotated[
        str | None,
        typer.Option(
            help="Date the changes of unit or status take effect (YYYY-MM-DD or DD/MM/YYYY).",
            show_default="today",
            metavar="<date>",
        ),
    ] = None,
) -> None:
    """Load or update the roster (code, full_name, unit, leader, position, status).

    Headers may be the English keys or the Vietnamese ones: Mã đảng viên, Họ và tên, Chi bộ,
    Lãnh đạo, quản lý, Chức vụ, Tình trạng. Status: active, exempt, transferred_out."""
    from campaign.intake.member_roster import import_members

    with transaction(engine_for(database_url)) as session, out.status(f"importing {file.name} …"):
        summary = import_members(
            file, session=session, on=parse_date(on) if on else today(), actor=actor_name(actor)
        )
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
    from campaign.intake.plan_register import register_plan

    with transaction(engine_for(database_url)) as session:
        campaign, new = register_plan(file, session=session, actor=actor_name(actor))
        plan = campaign.plan_file
    verb = "registered" if new else "updated"
    out.print(
        Text.assemble(
            f"{verb} campaign ",
            (plan.code, "bold"),
            f" — {plan.title} ({plan.number or 'no number'}), period "
            f"{plan.period.start:%d/%m/%Y}–{plan.period.end:%d/%m/%Y}, owner {plan.owner}",
        )
    )


facts_app = typer.Typer(help="What units report.", no_args_is_help=True)
app.add_typer(facts_app, name="facts")

CampaignCode = Annotated[str, typer.Argument(help="The campaign's code, as in its plan.")]
Format = Annotated[str, typer.Option("--format", help="table or json.")]


@facts_app.command("import")
def facts_import(
    campaign: CampaignCode, file: InputFile, database_url: DatabaseUrl = None, actor: Actor = None
) -> None:
    """Record what units reported (sessions, self-assessments, screening, nominations, reports).

    Columns: date, kind, unit, member, note (Ngày, Loại, Đơn vị, Đảng viên, Ghi chú).

    Kinds: plan_issued, session_held, self_assessment_submitted, self_assessment_accepted,
    self_assessment_returned, screening_opened, screening_step (note: educate, help, screen,
    cleared, removed), exemplar_nominated, exemplar_approved, exemplar_rejected, activity_held
    (note: the activity), report_submitted. A fact already recorded is skipped, so importing
    the same file twice is harmless."""
    from campaign.intake.fact_sheet import import_facts

    working = out.status(f"validating {file.name} against the lifecycles …")
    with transaction(engine_for(database_url)) as session, working:
        summary = import_facts(
            campaign, file, session=session, actor=actor_name(actor), today=today()
        )
    out.print(
        f"{summary.file}: {summary.rows:,} facts read — {summary.recorded:,} recorded, "
        f"{summary.already_recorded:,} already recorded"
    )


@app.command("run")
def run_command(
    campaign: CampaignCode,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Run as of this date (YYYY-MM-DD or DD/MM/YYYY).",
            show_default="today",
            metavar="<date>",
        ),
    ] = None,
    database_url: DatabaseUrl = None,
    actor: Actor = None,
) -> None:
    """Run the campaign flow at a date.

    Applies the facts dated on or before it, advances the machines, checks every deadline and
    escalates. Running again at the same date changes nothing; an earlier date is refused.

    The run is a Prefect flow run in this process, recorded by the Prefect server at
    `PREFECT_API_URL` (its UI shows the run, its artifacts and its events); without it, Prefect
    starts a temporary server for the length of the command, on its database in `PREFECT_HOME`
    (~/.prefect by default), which `prefect server start` shows later."""
    from cli.printing import print_run
    from flows.campaign_flow import run_campaign

    engine = engine_for(database_url)
    day = parse_date(as_of) if as_of else today()
    with _progress() as bar:
        running = f"{campaign} {day:%d/%m/%Y}"
        job = bar.add_task(f"{running}: starting Prefect", total=None)

        def step(task: str, total: int) -> None:
            bar.update(job, description=f"{running}: {task}", total=total, advance=1)

        result = run_campaign(
            campaign, day, actor=actor_name(actor), database_url=_url(engine), steps=step
        )
    print_run(out, result)


@app.command("runs")
def runs_command(
    campaign: CampaignCode,
    format_: Format = "table",
    database_url: DatabaseUrl = None,
    actor: Actor = None,
) -> None:
    """The campaign's runs: date, who, when they started and finished, transitions, Prefect
    flow run.

    A run that started and never finished (killed, or crashed) is marked; the next run of the
    campaign finishes its work and marks its Prefect flow run crashed."""
    from pydantic import TypeAdapter

    from campaign.run_record import RunView, list_runs

    with transaction(engine_for(database_url)) as session:
        runs = list_runs(session, campaign)
    if _format(format_, ("table", "json")) == "json":
        print(TypeAdapter(list[RunView]).dump_json(runs, indent=2).decode())
        return
    table = Table("run", "as of", "actor", "started (UTC)", "finished (UTC)", "transitions")
    table.add_column("Prefect flow run")
    table.title, table.title_justify = f"{campaign}: {len(runs)} runs", "left"
    for run in runs:
        finished = (
            Text("unfinished (killed or crashed?)", "bold red")
            if run.unfinished
            else Text(_clock(run.finished_at))
        )
        table.add_row(
            str(run.id),
            f"{run.as_of:%d/%m/%Y}",
            run.actor,
            _clock(run.started_at),
            finished,
            f"{run.transitions:,}",
            run.flow_run_id or "",
        )
    out.print(table)


def _clock(stamp: str | None) -> str:
    """An ISO timestamp of the audit's clock, to the second."""
    return (stamp or "")[:19].replace("T", " ")


@app.command("status")
def status_command(
    campaign: CampaignCode,
    unit: Annotated[str | None, typer.Option(help="Only this unit and its subtree.")] = None,
    format_: Format = "table",
    database_url: DatabaseUrl = None,
    actor: Actor = None,
) -> None:
    """Progress against the targets, by unit, rolled up the hierarchy."""
    from campaign.status import campaign_status
    from cli.printing import print_status

    with transaction(engine_for(database_url)) as session:
        status = campaign_status(session, campaign, unit)
    if _format(format_, ("table", "json")) == "json":
        print(status.model_dump_json(indent=2))
    else:
        print_status(out, status, focused=unit is not None)


@app.command("escalations")
def escalations_command(
    campaign: CampaignCode,
    format_: Format = "table",
    database_url: DatabaseUrl = None,
    actor: Actor = None,
) -> None:
    """Open escalations: every obligation now overdue or escalated (late members grouped)."""
    from pydantic import TypeAdapter

    from campaign.status import open_escalations
    from cli.printing import print_escalations
    from models.views import EscalationView

    with transaction(engine_for(database_url)) as session:
        found = open_escalations(session, campaign)
    if _format(format_, ("table", "json")) == "json":
        print(TypeAdapter(list[EscalationView]).dump_json(found, indent=2).decode())
    else:
        print_escalations(out, campaign, found)


@app.command("forecast")
def forecast_command(
    campaign: CampaignCode,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Forecast from this date (YYYY-MM-DD or DD/MM/YYYY).",
            show_default="today",
            metavar="<date>",
        ),
    ] = None,
    unit: Annotated[str | None, typer.Option(help="Only this unit and its subtree.")] = None,
    format_: Format = "table",
    database_url: DatabaseUrl = None,
    actor: Actor = None,
) -> None:
    """Who will be reminded, overdue and escalated when if nothing new arrives, and each
    target's pace; read-only, by the rules a run uses."""
    from campaign.forecast import forecast, read_only
    from cli.printing import print_forecast

    day = parse_date(as_of) if as_of else today()
    with read_only(engine_for(database_url)) as session:
        view = forecast(session, campaign, day, unit)
    if _format(format_, ("table", "json")) == "json":
        print(view.model_dump_json(indent=2))
    else:
        print_forecast(out, view)


class _TrailByDefault(TyperGroup):
    """`campaign audit CODE …` is `campaign audit trail CODE …`: a first word that names no
    subcommand is a campaign's code, or one of its options (`audit trail head` shows a campaign
    coded `head`)."""

    # Typed loosely: Typer's own Context and Command classes differ between its versions.
    def parse_args(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["trail", *args]
        return super().parse_args(ctx, args)


audit_app = typer.Typer(
    cls=_TrailByDefault,
    help="The audit trail: `campaign audit CODE` shows a campaign's trail, `audit verify` "
    "proves nobody altered it, `audit head` prints the head a reviewer keeps.",
    no_args_is_help=True,
)
app.add_typer(audit_app, name="audit")
KeptHeads = Annotated[
    list[str] | None,
    typer.Option(
        "--expect",
        help="A head kept from `audit head`, as SEQ:HASH; the trail must still hold it "
        "(repeatable).",
        metavar="SEQ:HASH",
    ),
]
KeptHeadsFile = Annotated[
    Path | None,
    typer.Option(
        "--expect-file",
        help="A file of kept heads: one SEQ:HASH or `audit head --format json` line each "
        "(blank lines and # comments allowed).",
        exists=True,
        dir_okay=False,
    ),
]


@audit_app.command("trail")
def audit_command(
    target: Annotated[str, typer.Argument(help="A campaign's code.")],
    unit: Annotated[str | None, typer.Option(help="A unit: its subtree and members.")] = None,
    member: Annotated[str | None, typer.Option(help="One member's events.")] = None,
    since: Annotated[
        str | None, typer.Option(help="Events dated on or after.", metavar="<date>")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Events dated on or before.", metavar="<date>")
    ] = None,
    format_: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
    database_url: DatabaseUrl = None,
    actor: Actor = None,
) -> None:
    """The audit trail of a campaign (also `campaign audit CODE`)."""
    from campaign.status import AuditFilter, audit_trail
    from cli.printing import write_audit

    engine = engine_for(database_url)
    where = AuditFilter(
        unit,
        member,
        parse_date(since) if since else None,
        parse_date(until) if until else None,
    )
    fmt = _format(format_, ("table", "json", "csv"))
    with transaction(engine) as session:
        write_audit(out, audit_trail(session, target, where), fmt)


@app.command("docs")
def docs_command(
    campaign: CampaignCode,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the documents into.")],
    database_url: DatabaseUrl = None,
    actor: Actor = None,
) -> None:
    """Write every document the campaign issued, one folder per unit, with index.html."""
    from campaign.docs import write_documents

    with transaction(engine_for(database_url)) as session, _progress() as bar:
        job = bar.add_task(f"writing {campaign}'s documents", total=None)

        def written_so_far(done: int, total: int) -> None:
            bar.update(job, completed=done, total=total)

        written = write_documents(session, campaign, out_dir, written_so_far)
    out.print(
        f"{len(written):,} documents written to {out_dir}, each as HTML and Markdown "
        f"(open {out_dir / 'index.html'} in a browser; index.md lists the Markdown)"
    )


@audit_app.command("verify")
def audit_verify(
    expect: KeptHeads = None,
    expect_file: KeptHeadsFile = None,
    database_url: DatabaseUrl = None,
    actor: Actor = None,
) -> None:
    """Prove nobody altered the audit trail: recompute its hash chain, and check it still holds
    every head kept outside the database (a chain recomputed whole verifies by itself)."""
    from states.audit_chain import read_kept_heads, verify_chain

    kept = [_kept_head(text) for text in expect or []]
    if expect_file is not None:
        kept += read_kept_heads(expect_file)
    with transaction(engine_for(database_url)) as session:
        count = verify_chain(session, kept=kept)
    held = f", holds the {len(kept):,} kept heads" if kept else ""
    out.print(f"audit trail verified: {count:,} events, chain intact{held}")


@audit_app.command("head")
def audit_head(
    format_: Format = "table", database_url: DatabaseUrl = None, actor: Actor = None
) -> None:
    """The chain's head (last event, its hash and time): keep it outside the database, and
    check it later with `campaign audit verify --expect SEQ:HASH`."""
    from states.audit_chain import chain_head

    fmt = _format(format_, ("table", "json"))
    with transaction(engine_for(database_url)) as session:
        head = chain_head(session)
    if fmt == "json":
        print(head.model_dump_json())
        return
    # Plain lines, never wrapped or cut: the hash is copied from here.
    lines = [
        f"event        {head.seq:,}",
        f"hash         {head.hash}",
        f"recorded at  {head.recorded_at or '(no event yet)'}",
        f"keep         {head.seq}:{head.hash}",
    ]
    out.print("\n".join(lines), soft_wrap=True)


def _kept_head(text: str) -> "AuditHeadView":
    from states.audit_chain import parse_kept_head

    try:
        return parse_kept_head(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--expect") from exc


@db_app.command("grant")
def db_grant(
    role: Annotated[str, typer.Argument(help="The everyday PostgreSQL role; it must exist.")],
    database_url: DatabaseUrl = None,
    actor: Actor = None,
) -> None:
    """Grant the everyday role what runs, imports and the console need, and no more.

    On the audit only SELECT and INSERT (and SELECT, UPDATE on its head row), so it cannot
    alter, disable or get past the triggers that keep the trail append-only. Run it with the
    owner's URL after every `db init`: a table a migration adds is not granted until then."""
    from models.roles import grant_everyday

    engine = engine_for(database_url)
    with transaction(engine) as session:
        statements = grant_everyday(session, role)
    where = engine.url.render_as_string(hide_password=True)
    out.print(f"granted {role} its everyday privileges on {where} ({len(statements)} statements)")


def _format(value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise typer.BadParameter(f"choose one of {', '.join(allowed)}", param_hint="--format")
    return value


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


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
    """Write a synthetic organisation, roster, plan and facts shaped like a real one.

    Files: units.csv, members.csv, plan.yaml, facts.csv."""
    from devtools.generate import generate

    if shape not in ("province", "town"):
        raise typer.BadParameter("shape must be 'province' or 'town'", param_hint="--shape")
    files = generate(members, out_dir, seed=seed, shape="town" if shape == "town" else "province")
    table = Table("generated", "count", title=f"written to {out_dir}")
    for key, value in files.counts.items():
        table.add_row(key, f"{value:,}")
    out.print(table)


calendar_app = typer.Typer(
    help="The working calendar deadlines may count on.", no_args_is_help=True
)
app.add_typer(calendar_app, name="calendar")


@calendar_app.command("show")
def calendar_show(
    year: Annotated[int, typer.Argument(min=1900, max=2200, help="The year to list.")],
    calendar: Annotated[
        Path | None,
        typer.Option(help="A calendar file of swaps and local days off (default: the shipped)."),
    ] = None,
) -> None:
    """The days off of YEAR besides weekends (holidays, swaps, local days), and the weekend
    days a swap makes worked."""
    from models.calendar import WEEKDAYS_VI, load_calendar

    days = load_calendar(calendar)
    rows = [(d.date, d.name, d.source.value) for d in days.days_off(year)]
    rows += [(d, "Làm bù (ngày làm việc)", "worked") for d in days.worked_days(year)]
    table = Table("date", "weekday", "name", "source", title=f"days off in {year}")
    for day, name, source in sorted(rows):
        table.add_row(f"{day:%d/%m/%Y}", WEEKDAYS_VI[day.weekday()], name, source)
    out.print(table)


def _progress() -> Progress:
    """A progress bar for long work: what is being done, the bar, n/total, time elapsed; gone
    when the work ends (what it did is printed after it)."""
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    return Progress(*columns, TimeElapsedColumn(), console=out, transient=True)


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
    except Exception as exc:  # a bug of ours: still one line, never a traceback
        _fail([f"internal error ({type(exc).__name__}: {exc}); please report it"])


def _fail(lines: list[str]) -> NoReturn:
    for line in lines:
        print(f"error: {line}", file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
    main()
