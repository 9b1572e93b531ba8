"""What the console's dashboard and escalations pages show of a campaign, within one account's
subtree (its root unit's code and path, `web.scope.reach`): every query filtered by that path in
SQL, and each page a handful of set-based queries, never one per unit or member.

The progress figures are `campaign.status.campaign_status`'s, the chart the synthesis' own
(`doc_contents.completion_chart`), the forecast `campaign.forecast`'s."""

import datetime as dt
from collections import Counter
from typing import NamedTuple
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from campaign.console_words import (
    CAMPAIGN_STATE_NAMES,
    ladder_step,
    obligation_name,
    obligation_state_name,
)
from campaign.doc_contents import TARGET_LABELS, completion_chart, target_rows
from campaign.doc_views import Chart, TargetRow
from campaign.forecast import forecast
from campaign.run_record import RunView, list_runs
from campaign.status import obligation_groups
from campaign.status_cache import KeptStatus, kept_status
from models.bulk import in_lists
from models.campaigns import Campaign, get_campaign
from models.members import Member
from models.obligations import Obligation, TargetName
from models.units import Unit, UnitKind, units_under
from models.views import ForecastStep, ForecastView, Targets, UnitStatus
from states.obligation import LATE, ObligationState

LAST_RUNS = 5  # runs the dashboard lists, newest first
LATE_SHOWN = 30  # late units the dashboard lists, most escalated first (all: escalations page)
STEPS_SHOWN = 300  # forecast entries the escalations page lists, soonest first
ESCALATIONS_SHOWN = 500  # open escalations it lists, most escalated first

# A tree of more units stops at the grassroots organisations (a province's thousand, not its
# eight thousand branches); a grassroots organisation's page lists its branches.
TREE_UNITS = 400


class TreeNode(BaseModel):
    """A unit in the progress tree: its figures over its subtree, its units shown below it,
    and how many branches under it are left to its own page."""

    code: str
    name: str
    kind: str
    targets: Targets
    children: list["TreeNode"] = []
    branches_hidden: int = 0


class LateUnit(BaseModel):
    """A unit with duties overdue or escalated: how high on the ladder, what, since when."""

    code: str
    name: str
    state: str
    state_name: str
    level: int
    ladder: str
    duties: list[str]
    members: int
    due: dt.date


class RunLine(BaseModel):
    """A run as the dashboard lists it: its date, who ran it, when (local time, dd/mm/yyyy
    hh:mm) and how many transitions it made; unfinished if killed or crashed."""

    as_of: dt.date
    actor: str
    started: str
    finished: str | None
    transitions: int


def _run_line(run: RunView, zone: ZoneInfo) -> RunLine:
    def local(stamp: str) -> str:
        return f"{dt.datetime.fromisoformat(stamp).astimezone(zone):%d/%m/%Y %H:%M}"

    return RunLine(
        as_of=run.as_of,
        actor=run.actor,
        started=local(run.started_at),
        finished=local(run.finished_at) if run.finished_at else None,
        transitions=run.transitions,
    )


class Dashboard(BaseModel):
    """The campaign as an account's root unit sees it."""

    code: str
    title: str
    state_name: str
    as_of: dt.date | None
    root_code: str
    root_name: str
    targets: list[TargetRow]
    chart: Chart | None
    tree: TreeNode
    late: list[LateUnit]
    late_count: int
    runs: list[RunLine]


def dashboard(
    session: Session, code: str, root_code: str, root_path: str, zone: ZoneInfo
) -> Dashboard:
    """The dashboard of campaign `code` over the subtree at `root_path` (unit `root_code`),
    its runs' times in `zone`."""
    campaign = get_campaign(session, code)
    kept = kept_status(session, code)
    progress = _progress(kept, root_code)
    # Late duties change only by audited transitions, which move the kept status on too.
    late = kept.derived.get(("late", root_path))
    if not isinstance(late, list):
        late = kept.derived[("late", root_path)] = late_units(session, campaign.id, root_path)
    return Dashboard(
        code=campaign.code,
        title=campaign.title,
        state_name=CAMPAIGN_STATE_NAMES.get(campaign.state, campaign.state),  # type: ignore[call-overload]
        as_of=progress.as_of,
        root_code=progress.root.code,
        root_name=progress.root.name,
        targets=target_rows(progress.root.targets),
        chart=progress.chart,
        tree=progress.tree,
        late=late[:LATE_SHOWN],
        late_count=len(late),
        runs=[_run_line(run, zone) for run in list_runs(session, code)[::-1][:LAST_RUNS]],
    )


class _Progress(NamedTuple):
    as_of: dt.date | None
    root: UnitStatus
    chart: Chart | None
    tree: TreeNode


def _progress(kept: KeptStatus, root_code: str) -> _Progress:
    """The figures, chart and tree of the subtree at `root_code`: made once per kept status."""
    key = ("dashboard", root_code)
    made = kept.derived.get(key)
    if not isinstance(made, _Progress):
        units = kept.subtree(root_code)
        children = [u for u in units if u.parent == root_code]
        chart = completion_chart(children) if children else None
        tree = progress_tree(units, wide=len(units) > TREE_UNITS)
        made = kept.derived[key] = _Progress(kept.as_of, units[0], chart, tree)
    return made


def progress_tree(units: list[UnitStatus], *, wide: bool = False) -> TreeNode:
    """`units` as a tree (the root first, each unit after its parent); `wide`, without the
    branches, each unit counting those right under it instead."""
    shown = [u for u in units if not (wide and u.kind == UnitKind.branch)]
    hidden = Counter(u.parent for u in units if wide and u.kind == UnitKind.branch)
    nodes = {
        u.code: TreeNode(
            code=u.code,
            name=u.name,
            kind=u.kind,
            targets=u.targets,
            branches_hidden=hidden.get(u.code, 0),
        )
        for u in shown
    }
    for unit in shown[1:]:
        nodes[unit.parent or ""].children.append(nodes[unit.code])
    return nodes[units[0].code]


def _under(session: Session, root_path: str) -> ColumnElement[bool]:
    return units_under([root_path], dialect=session.get_bind().dialect.name)


def late_units(session: Session, campaign_id: int, root_path: str) -> list[LateUnit]:
    """Units of the subtree with duties overdue or escalated (their own, or their members'),
    most escalated first, then by the oldest due date: one grouped query."""
    query = (
        select(
            Unit.code,
            Unit.name,
            Unit.path,
            Obligation.kind,
            func.max(Obligation.escalation_level),
            func.count(Obligation.member_id),
            func.min(Obligation.due),
        )
        .join(Unit, Unit.id == Obligation.unit_id)
        .where(
            Obligation.campaign_id == campaign_id,
            Obligation.state.in_(LATE),
            _under(session, root_path),
        )
        .group_by(Unit.code, Unit.name, Unit.path, Obligation.kind)
    )
    found: dict[str, LateUnit] = {}
    paths: dict[str, str] = {}
    for unit, name, path, kind, level, members, due in session.execute(query):
        late = found.get(unit)
        if late is None:
            late = found[unit] = LateUnit(
                code=unit,
                name=name,
                state="",
                state_name="",
                level=0,
                ladder="",
                duties=[],
                members=0,
                due=due,
            )
            paths[unit] = path
        late.duties.append(obligation_name(kind))
        late.level = max(late.level, level)
        late.members += members
        late.due = min(late.due, due)
    for late in found.values():
        # An obligation is escalated from level 1 up; overdue ones stay at 0.
        state = ObligationState.escalated if late.level else ObligationState.overdue
        late.state, late.state_name = state, obligation_state_name(state)
        late.ladder = ladder_step(state, late.level)
        late.duties.sort()
    return sorted(found.values(), key=lambda u: (-u.level, u.due, paths[u.code]))


class Escalation(BaseModel):
    """An open escalation as the notices group it: a unit's own duty, or its members' of one
    kind, quarter, due date, state and level (named)."""

    unit: str
    unit_name: str
    duty: str
    due: dt.date
    state: str
    state_name: str
    level: int
    ladder: str
    since: dt.date | None
    members: list[str] | None  # "code name", for a members' duty


class NextStep(BaseModel):
    """What the next run would do to a duty not yet met, and when, if nothing new arrives."""

    unit: str
    unit_name: str
    duty: str
    due: dt.date
    state_name: str
    step: str
    on: dt.date
    members: int


class Pace(BaseModel):
    """A target's pace: done so far, and the percent it reaches by its due date at that pace."""

    label: str
    done: int
    eligible: int
    percent: float
    due: dt.date
    projected_percent: float


class Escalations(BaseModel):
    """The escalations page: what is late now, and what the runs will do next."""

    code: str
    title: str
    root_code: str
    root_name: str
    escalations: list[Escalation]
    escalation_count: int
    as_of: dt.date | None  # the forecast's date; None: the campaign has not run yet
    next_steps: list[NextStep]
    next_count: int
    paces: list[Pace]


def escalations(session: Session, code: str, root_code: str, today: dt.date) -> Escalations:
    """Open escalations of the subtree at unit `root_code`, and the forecast from the later of
    `today` and the campaign's last run (none before its first run)."""
    campaign = get_campaign(session, code)
    every = obligation_groups(session, campaign, LATE, root_code)
    groups = every[:ESCALATIONS_SHOWN]
    names = _member_names(session, [m for g in groups for m in g.members or []])
    found = [
        Escalation(
            unit=g.unit,
            unit_name=g.unit_name,
            duty=obligation_name(g.obligation, g.window),
            due=g.due,
            state=g.state,
            state_name=obligation_state_name(g.state),
            level=g.level,
            ladder=ladder_step(g.state, g.level),
            since=g.since,
            members=None if g.members is None else [f"{m} {names.get(m, '')}" for m in g.members],
        )
        for g in groups
    ]
    view = Escalations(
        code=campaign.code,
        title=campaign.title,
        root_code=root_code,
        root_name=session.scalar(select(Unit.name).where(Unit.code == root_code)) or root_code,
        escalations=found,
        escalation_count=len(every),
        as_of=None,
        next_steps=[],
        next_count=0,
        paces=[],
    )
    if campaign.last_run_on is not None:
        _add_forecast(session, campaign, view, max(today, campaign.last_run_on))
    return view


def _add_forecast(session: Session, campaign: Campaign, view: Escalations, as_of: dt.date) -> None:
    # The forecast moves only with the data (or the day): made once per kept status, root, day.
    kept, key = kept_status(session, campaign.code), ("forecast", view.root_code, as_of)
    ahead = kept.derived.get(key)
    if not isinstance(ahead, ForecastView):
        ahead = kept.derived[key] = forecast(session, campaign.code, as_of, view.root_code)
    steps = [
        NextStep(
            unit=o.unit,
            unit_name=o.unit_name,
            duty=obligation_name(o.obligation, o.window),
            due=o.due,
            state_name=obligation_state_name(o.state),
            step=_step_name(o.steps[0]),
            on=o.steps[0].on,
            members=len(o.members or []),
        )
        for o in ahead.obligations
        if o.steps
    ]
    steps.sort(key=lambda s: s.on)  # stable: within a day, in the forecast's unit order
    view.as_of, view.next_steps, view.next_count = as_of, steps[:STEPS_SHOWN], len(steps)
    view.paces = [
        Pace(
            label=TARGET_LABELS[TargetName(t.name)],
            done=t.done,
            eligible=t.eligible,
            percent=t.percent,
            due=t.due,
            projected_percent=t.projected_percent,
        )
        for t in ahead.targets
    ]


def _step_name(step: ForecastStep) -> str:
    return ladder_step(step.to, step.level) or obligation_state_name(step.to)


def _member_names(session: Session, codes: list[str]) -> dict[str, str]:
    query = select(Member.code, Member.full_name)
    return {
        code: name
        for statement in in_lists(query, Member.code, codes)
        for code, name in session.execute(statement)
    }
