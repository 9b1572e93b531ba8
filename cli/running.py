"""Running a campaign and following it: `run` at a date, then its runs, status, open
escalations and forecast (the reading commands never start Prefect)."""

from typing import Annotated

import typer

from cli.connection import engine_for, full_url
from cli.parameters import (
    Actor,
    CampaignCode,
    DatabaseUrl,
    Format,
    actor_name,
    chosen_format,
    date_option,
    day_or_today,
    optional_day,
)
from cli.terminal import out, progress_bar
from models.db import transaction

OnlyUnit = Annotated[str | None, typer.Option(help="Only this unit and its subtree.")]


def run_command(
    campaign: CampaignCode,
    as_of: Annotated[str | None, date_option("Run as of this date", "--as-of")] = None,
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
    day = day_or_today(as_of)
    with progress_bar() as bar:
        running = f"{campaign} {day:%d/%m/%Y}"
        job = bar.add_task(f"{running}: starting Prefect", total=None)

        def task_ended(task: str, total: int) -> None:
            bar.update(job, description=f"{running}: {task}", total=total, advance=1)

        result = run_campaign(
            campaign,
            day,
            actor=actor_name(actor),
            database_url=full_url(engine),
            progress=task_ended,
        )
    print_run(out, result)


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
    from cli.printing import print_runs

    with transaction(engine_for(database_url)) as session:
        runs = list_runs(session, campaign)
    if chosen_format(format_, ("table", "json")) == "json":
        print(TypeAdapter(list[RunView]).dump_json(runs, indent=2).decode())
    else:
        print_runs(out, campaign, runs)


RosterDay = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Count the roster as it stood on this date (default: the last run's).",
        metavar="<date>",
    ),
]


def status_command(
    campaign: CampaignCode,
    unit: OnlyUnit = None,
    as_of: RosterDay = None,
    format_: Format = "table",
    database_url: DatabaseUrl = None,
    actor: Actor = None,
) -> None:
    """Progress against the targets, by unit, rolled up the hierarchy."""
    from campaign.status import campaign_status
    from cli.printing import print_status

    with transaction(engine_for(database_url)) as session:
        status = campaign_status(session, campaign, unit, as_of=optional_day(as_of))
    if chosen_format(format_, ("table", "json")) == "json":
        print(status.model_dump_json(indent=2))
    else:
        print_status(out, status, focused=unit is not None)


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
    if chosen_format(format_, ("table", "json")) == "json":
        print(TypeAdapter(list[EscalationView]).dump_json(found, indent=2).decode())
    else:
        print_escalations(out, campaign, found)


def forecast_command(
    campaign: CampaignCode,
    as_of: Annotated[str | None, date_option("Forecast from this date", "--as-of")] = None,
    unit: OnlyUnit = None,
    format_: Format = "table",
    database_url: DatabaseUrl = None,
    actor: Actor = None,
) -> None:
    """Who will be reminded, overdue and escalated when if nothing new arrives, and each
    target's pace; read-only, by the rules a run uses."""
    from campaign.forecast import forecast
    from cli.printing import print_forecast
    from models.db import read_only

    day = day_or_today(as_of)
    with read_only(engine_for(database_url)) as session:
        view = forecast(session, campaign, day, unit)
    if chosen_format(format_, ("table", "json")) == "json":
        print(view.model_dump_json(indent=2))
    else:
        print_forecast(out, view)
