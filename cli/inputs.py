"""What goes in: the organisation tree, the roster, plans and facts imported; the working
calendar deadlines count on; synthetic files shaped like real ones, to try them on."""

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from campaign.intake.unit_tree import ImportSummary
from cli.connection import engine_for
from cli.parameters import (
    Actor,
    CampaignCode,
    DatabaseUrl,
    InputFile,
    actor_name,
    date_option,
    day_or_today,
    existing_file,
)
from cli.terminal import out
from models.calendar import today
from models.db import transaction

units_app = typer.Typer(help="The organisation tree.", no_args_is_help=True)
members_app = typer.Typer(help="The member roster.", no_args_is_help=True)
plan_app = typer.Typer(help="Campaign plans.", no_args_is_help=True)
facts_app = typer.Typer(help="What units report.", no_args_is_help=True)
calendar_app = typer.Typer(
    help="The working calendar deadlines may count on.", no_args_is_help=True
)


@units_app.command("import")
def units_import(
    file: InputFile,
    database_url: DatabaseUrl = None,
    actor: Actor = None,
    on: Annotated[str | None, date_option("Date the changes of the tree take effect")] = None,
) -> None:
    """Load or update the organisation tree (code, name, kind, parent, status, merged_into,
    since).

    Headers may be the English keys or the Vietnamese ones: Mã đơn vị, Tên đơn vị, Loại,
    Đơn vị cấp trên, Tình trạng, Sáp nhập vào, Từ ngày (since: when a change holds; default
    --on). Kinds: central, province, district, grassroots, branch. Status: active (default) or
    dissolved (giải thể: it must hold no member and no unit). merged_into names the unit a
    dissolved one merged into: its members move there. A unit left out of the file stays."""
    from campaign.intake.unit_tree import import_units

    with transaction(engine_for(database_url)) as session:
        summary = import_units(file, session=session, actor=actor_name(actor), on=day_or_today(on))
    _print_summary("units", summary)


@members_app.command("import")
def members_import(
    file: InputFile,
    database_url: DatabaseUrl = None,
    actor: Actor = None,
    on: Annotated[str | None, date_option("Date the changes of unit or status take effect")] = None,
) -> None:
    """Load or update the roster (code, full_name, unit, leader, position, status).

    Headers may be the English keys or the Vietnamese ones: Mã đảng viên, Họ và tên, Chi bộ,
    Lãnh đạo, quản lý, Chức vụ, Tình trạng, Từ ngày (since: when a change holds; default --on).
    Status: active, exempt, transferred_out, died, expelled."""
    from campaign.intake.member_roster import import_members

    with transaction(engine_for(database_url)) as session, out.status(f"importing {file.name} …"):
        summary = import_members(
            file, session=session, on=day_or_today(on), actor=actor_name(actor)
        )
    _print_summary("members", summary)


@plan_app.command("register")
def plan_register(
    file: Annotated[Path, existing_file("The plan, a YAML file.")],
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


def _print_summary(what: str, s: ImportSummary) -> None:
    out.print(
        f"{s.file}: {s.rows:,} {what} read — {s.created:,} created, {s.updated:,} updated, "
        f"{s.unchanged:,} unchanged"
    )


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
    from cli.printing import print_calendar
    from models.calendar import load_calendar

    print_calendar(out, load_calendar(calendar), year)


def generate_command(
    members: Annotated[int, typer.Option(min=1, help="How many members to generate.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the files into.")],
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same files.")] = 1,
    shape: Annotated[
        str,
        typer.Option(
            help="province (districts under a province), town (one district) or nation (the "
            "central committee over up to 63 provinces: one per 6,000 members)."
        ),
    ] = "province",
    actor: Actor = None,
) -> None:
    """Write a synthetic organisation, roster, plan and facts shaped like a real one.

    Files: units.csv, members.csv, plan.yaml, facts.csv, written as they are made (a nation of
    millions of members takes little memory)."""
    from cli.printing import print_generated
    from devtools.generate import SHAPES, generate

    chosen = next((s for s in SHAPES if s == shape), None)
    if chosen is None:
        raise typer.BadParameter(
            "shape must be 'province', 'town' or 'nation'", param_hint="--shape"
        )
    files = generate(members, out_dir, seed=seed, shape=chosen)
    print_generated(out, files.counts, out_dir)
