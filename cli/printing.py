"""How the CLI shows things: rich tables an operator can read, JSON, CSV.

The CLI's console, which these functions are given, reads no markup (`Console(markup=False)`):
unit and member names, notes and file names are shown as they are, never read as Rich's
`[style]` tags; styles come from `Text`."""

import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from campaign.audit_export import audit_csv, audit_json
from campaign.run_record import RunView
from models.calendar import WEEKDAYS_VI, WorkingCalendar
from models.obligations import TargetName
from models.views import (
    AuditHeadView,
    AuditView,
    CampaignStatus,
    EscalationView,
    ForecastView,
    ObligationForecast,
    ObligationView,
    RunResult,
    Targets,
)
from states.obligation import ObligationState

TARGET_LABELS: dict[str, str] = {
    TargetName.members_self_assessed: "members self-assessed",
    TargetName.leaders_self_assessed: "leaders self-assessed",
    TargetName.branches_with_sessions: "branches with sessions",
}
STATE_STYLES: dict[str, str] = {
    ObligationState.met: "green",
    ObligationState.met_late: "yellow",
    ObligationState.overdue: "red",
    ObligationState.escalated: "bold red",
    ObligationState.reminded: "cyan",
    ObligationState.waived: "dim",
    ObligationState.open: "",
}


def targets_table(targets: Targets, title: str) -> Table:
    """The three targets as a small table."""
    table = Table("target", "done", "eligible", "percent", title=title, title_justify="left")
    for name, label in TARGET_LABELS.items():
        t = getattr(targets, name)
        style = "green" if t.percent >= 100 else ("yellow" if t.percent >= 80 else "red")
        table.add_row(label, f"{t.done:,}", f"{t.eligible:,}", Text(f"{t.percent:.1f}%", style))
    return table


def print_run(out: Console, result: RunResult) -> None:
    """What a run did: targets, new notices and where its documents are."""
    out.print(
        Text.assemble(
            (result.campaign, "bold"),
            f" as of {result.as_of:%d/%m/%Y}: campaign ",
            (result.state, "bold"),
            f", {result.transitions:,} transitions, {result.facts_applied:,} facts applied, "
            f"{result.obligations_created:,} obligations created ({result.seconds:.1f} s)",
        )
    )
    if head := result.audit_head:
        # On one line, however narrow the terminal: a reviewer copies SEQ:HASH whole.
        out.print(f"audit head: event {head.seq:,} (keep {head.seq}:{head.hash})", soft_wrap=True)
    out.print(targets_table(result.targets, "targets"))
    if not result.notices:
        out.print("no new notices")
        return
    steps: dict[tuple[str, int], list[str]] = {}
    for n in result.notices:
        steps.setdefault((n.step, n.level), []).append(n.unit)
    table = Table(
        "step", "notices", "units", "members listed", title="new notices", title_justify="left"
    )
    for (step, level), units in sorted(steps.items()):
        members = sum(n.members for n in result.notices if (n.step, n.level) == (step, level))
        shown = ", ".join(units[:6]) + (f" … (+{len(units) - 6})" if len(units) > 6 else "")
        table.add_row(
            f"{step} (level {level})" if level else step,
            str(len(units)),
            shown,
            f"{members:,} {_LISTED.get(step, 'late')}",
        )
    out.print(table)


def print_runs(out: Console, campaign: str, runs: list[RunView]) -> None:
    """The campaign's runs, one row each; a run that never finished is marked in red."""
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


# What a notice's members are: a reminder's are not late yet (their due date is still ahead).
_LISTED = {"reminder": "not yet in"}


def print_status(out: Console, status: CampaignStatus, *, focused: bool) -> None:
    """The campaign's targets and a table of units (down to grassroots unless focused)."""
    when = f"{status.as_of:%d/%m/%Y}" if status.as_of else "never run"
    out.print(
        Text.assemble(
            (status.campaign, "bold"), f" — {status.title} — {status.state}, as of {when}"
        )
    )
    out.print(targets_table(status.targets, "targets"))
    table = Table(
        "unit",
        "kind",
        "self-assessed",
        "leaders",
        "sessions",
        "obligations",
        title="by unit",
        title_justify="left",
    )
    shown = status.units if focused else [u for u in status.units if u.kind != "branch"]
    for unit in shown:
        t = unit.targets
        table.add_row(
            f"{unit.code} {unit.name}",
            unit.kind,
            *(
                f"{x.done:,}/{x.eligible:,} ({x.percent:.1f}%)"
                for x in (
                    t.members_self_assessed,
                    t.leaders_self_assessed,
                    t.branches_with_sessions,
                )
            ),
            _obligations_text(unit.obligations),
        )
    out.print(table)
    for left_out in status.excluded:  # new members the plan's cut-off leaves out
        who = f"{left_out.member} {left_out.name} ({left_out.unit})"
        out.print(f"excluded: {who} — {left_out.reason}", highlight=False)


def _obligations_text(obligations: list[ObligationView]) -> Text:
    parts: list[str | tuple[str, str]] = []
    for o in obligations:
        label = f"{o.kind}{'/' + o.window if o.window else ''}:{o.state}"
        parts += [(label, STATE_STYLES.get(o.state, "")), " "]
    return Text.assemble(*parts)


def print_escalations(out: Console, campaign: str, found: list[EscalationView]) -> None:
    """Open escalations, most severe first."""
    if not found:
        out.print(f"{campaign}: no open escalations")
        return
    table = Table(
        "unit",
        "obligation",
        "due",
        "state",
        "level",
        "since",
        "late members",
        title=f"{campaign}: {len(found)} open escalations",
        title_justify="left",
    )
    for e in found:
        members = (
            f"{len(e.members)}: {', '.join(e.members[:5])}{' …' if len(e.members) > 5 else ''}"
            if e.members
            else ""
        )
        table.add_row(
            f"{e.unit} {e.unit_name}",
            e.obligation + (f" {e.window}" if e.window else ""),
            f"{e.due:%d/%m/%Y}",
            Text(e.state, STATE_STYLES[e.state]),
            str(e.level),
            f"{e.since:%d/%m/%Y}" if e.since else "",
            members,
        )
    out.print(table)


# The ladder's steps a forecast row shows, each with its level.
FORECAST_STEPS: list[tuple[str, int]] = [
    (ObligationState.reminded, 0),
    (ObligationState.overdue, 0),
    (ObligationState.escalated, 1),
    (ObligationState.escalated, 2),
]


def print_forecast(out: Console, view: ForecastView) -> None:
    """The forecast: one row per obligation not yet met, grouped by unit, with the date of each
    step ahead of it; then each target's pace."""
    out.print(
        Text.assemble(
            (view.campaign, "bold"),
            f" forecast as of {view.as_of:%d/%m/%Y}, if nothing new arrives: "
            f"{len(view.obligations):,} obligations not yet met",
        )
    )
    if view.obligations:
        out.print(_forecast_table(view.obligations))
    table = Table(
        "target",
        "done",
        "eligible",
        "percent",
        "due",
        "per day",
        "projected",
        title="pace",
        title_justify="left",
    )
    for t in view.targets:
        table.add_row(
            TARGET_LABELS.get(t.name, t.name),
            f"{t.done:,}",
            f"{t.eligible:,}",
            f"{t.percent:.1f}%",
            f"{t.due:%d/%m/%Y}",
            f"{t.per_day:,.2f}",
            Text(f"{t.projected_percent:.1f}%", "green" if t.projected_percent >= 100 else "red"),
        )
    out.print(table)


def _forecast_table(obligations: list[ObligationForecast]) -> Table:
    table = Table(
        "unit",
        "obligation",
        "due",
        "now",
        "members",
        "reminded",
        "overdue",
        "level 1",
        "level 2",
        title="steps ahead",
        title_justify="left",
    )
    previous = None
    for o in obligations:
        if previous is not None and o.unit != previous:
            table.add_section()
        on = {(s.to, s.level): f"{s.on:%d/%m/%Y}" for s in o.steps}
        members = o.members or []
        table.add_row(
            f"{o.unit} {o.unit_name}" if o.unit != previous else "",
            o.obligation + (f" {o.window}" if o.window else ""),
            f"{o.due:%d/%m/%Y}",
            Text(f"{o.state} {o.level}" if o.level else o.state, STATE_STYLES[o.state]),
            f"{len(members)}: {', '.join(members[:5])}{' …' if len(members) > 5 else ''}"
            if members
            else "",
            *(on.get(step, "") for step in FORECAST_STEPS),
        )
        previous = o.unit
    return table


def write_audit(out: Console, events: Iterable[AuditView], fmt: str) -> None:
    """Write the audit trail as a table, a JSON list or CSV (its cells never formulas)."""
    if fmt in ("json", "csv"):  # the console's exports write the same pieces
        sys.stdout.writelines((audit_json if fmt == "json" else audit_csv)(events))
    else:
        table = Table(
            "seq",
            "at",
            "actor",
            "entity",
            "unit / member",
            "trigger",
            "from → to",
            "reason",
            "hash",
        )
        for e in events:
            table.add_row(
                str(e.seq),
                f"{e.at:%d/%m/%Y}",
                e.actor,
                f"{e.entity} {e.entity_id}",
                e.member or e.unit or "",
                e.trigger,
                f"{e.from_} → {e.to}",
                e.reason or "",
                e.hash[:12],
            )
        out.print(table)


def print_audit_head(out: Console, head: AuditHeadView) -> None:
    """The chain's head as plain lines, never wrapped or cut: the hash is copied from here."""
    lines = [
        f"event        {head.seq:,}",
        f"hash         {head.hash}",
        f"recorded at  {head.recorded_at or '(no event yet)'}",
        f"keep         {head.seq}:{head.hash}",
    ]
    out.print("\n".join(lines), soft_wrap=True)


def print_generated(out: Console, counts: Mapping[str, int], folder: Path) -> None:
    """What `generate` wrote, and how many of each."""
    table = Table("generated", "count", title=f"written to {folder}")
    for key, value in counts.items():
        table.add_row(key, f"{value:,}")
    out.print(table)


def print_calendar(out: Console, days: WorkingCalendar, year: int) -> None:
    """The days off of `year` besides weekends and the weekend days a swap makes worked, by
    date."""
    rows = [(d.date, d.name, d.source.value) for d in days.days_off(year)]
    rows += [(d, "Làm bù (ngày làm việc)", "worked") for d in days.worked_days(year)]
    table = Table("date", "weekday", "name", "source", title=f"days off in {year}")
    for day, name, source in sorted(rows):
        table.add_row(f"{day:%d/%m/%Y}", WEEKDAYS_VI[day.weekday()], name, source)
    out.print(table)
