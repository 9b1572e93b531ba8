"""The forecast: for every obligation not yet met, the dates the ladder would take it to
reminded, overdue and each escalation level if nothing new arrives, and each target's pace.

Computed by the rules a run uses (`states.conditions.step_dates`, on the plan's working calendar
when its ladder counts working days), read-only and set-based: the obligations are read grouped
as the notices group them (`campaign.status.obligation_groups`), and the steps computed once per
distinct due date, state and level. Nothing here starts Prefect."""

import datetime as dt
from collections.abc import Callable
from functools import cache

from sqlalchemy.orm import Session

from campaign.status import ObligationGroup, campaign_status, obligation_groups
from models.campaigns import get_campaign
from models.errors import OutOfScope
from models.obligations import TargetName
from models.plans import Escalation, PlanFile
from models.views import ForecastStep, ForecastView, ObligationForecast, Target, TargetPace
from states.conditions import TOP_LEVEL, StepDates, step_dates
from states.obligation import LATE, UNMET, ObligationState

NOT_MET = (*UNMET, *LATE)


def forecast(session: Session, code: str, as_of: dt.date, unit: str | None = None) -> ForecastView:
    """Every obligation not yet met (of `unit`'s subtree if given) with the steps still ahead
    of it on or after `as_of` (not before the campaign's last run), and each target's pace."""
    campaign = get_campaign(session, code)
    if campaign.last_run_on is not None and as_of < campaign.last_run_on:
        raise OutOfScope(  # its obligations already stand where that run left them
            f"campaign {code} was run as of {campaign.last_run_on:%d/%m/%Y}: a forecast starts "
            "from that date or later"
        )
    plan = campaign.plan_file
    ahead = _ladder(plan.escalation, as_of)
    obligations = [
        _forecast_of(group, ahead(group.due, group.state, group.level))
        for group in sorted(obligation_groups(session, campaign, NOT_MET, unit), key=_by_unit)
    ]
    targets = campaign_status(session, code, unit, branches=False).targets
    return ForecastView(
        campaign=campaign.code,
        as_of=as_of,
        obligations=obligations,
        targets=[_pace(name, getattr(targets, name), plan, as_of) for name in TARGET_DUES],
    )


def _by_unit(group: ObligationGroup) -> tuple[str, dt.date, str, str]:
    return group.unit_path, group.due, group.obligation, group.window or ""


def _forecast_of(group: ObligationGroup, steps: list[ForecastStep]) -> ObligationForecast:
    return ObligationForecast(
        unit=group.unit,
        unit_name=group.unit_name,
        obligation=group.obligation,
        window=group.window,
        due=group.due,
        state=group.state,
        level=group.level,
        members=group.members,
        steps=steps,
    )


def _ladder(
    escalation: Escalation, as_of: dt.date
) -> Callable[[dt.date, str, int], list[ForecastStep]]:
    """The steps ahead of an obligation by its due date, state and level: computed once per
    distinct triple (a province has a few dozen), on the plan's calendar. A step whose date is
    already past but not yet taken (no run since) is taken by the next run: shown on `as_of`."""
    calendar = escalation.working_calendar()

    @cache
    def ahead(due: dt.date, state: str, level: int) -> list[ForecastStep]:
        dates = step_dates(due, escalation.remind_days_before, escalation.step_days, calendar)
        return [
            step.model_copy(update={"on": max(step.on, as_of)})
            for step in _steps(dates, state, level)
        ]

    return ahead


def _steps(dates: StepDates, state: str, level: int) -> list[ForecastStep]:
    """The ladder's steps after `state` at `level`, in the order a run takes them."""
    steps: list[ForecastStep] = []
    if state == ObligationState.open:
        steps.append(ForecastStep(to=ObligationState.reminded, level=0, on=dates.reminded))
    if state in UNMET:
        steps.append(ForecastStep(to=ObligationState.overdue, level=0, on=dates.overdue))
    for reached in range(level + 1, TOP_LEVEL + 1):
        on = dates.escalated[reached - 1]
        steps.append(ForecastStep(to=ObligationState.escalated, level=reached, on=on))
    return steps


# When each target is due: the self-assessments by their due date, the sessions by the period's
# end (the last window's), both as the plan keeps due dates (moved off a day off if it says so).
TARGET_DUES = {
    TargetName.members_self_assessed: lambda plan: plan.self_assessment_due or plan.period.end,
    TargetName.leaders_self_assessed: lambda plan: plan.self_assessment_due or plan.period.end,
    TargetName.branches_with_sessions: lambda plan: plan.period.end,
}


def _pace(name: TargetName, target: Target, plan: PlanFile, as_of: dt.date) -> TargetPace:
    """Done per day over the days of the period so far (`as_of` included), carried on to the
    target's due date and capped at what is eligible."""
    due = plan.escalation.due_on(TARGET_DUES[name](plan))
    days_so_far = (min(as_of, due) - plan.period.start).days + 1
    per_day = target.done / days_so_far if days_so_far > 0 else 0.0
    days_left = max((due - as_of).days, 0)
    projected = min(target.done + per_day * days_left, target.eligible)
    return TargetPace(
        name=name,
        done=target.done,
        eligible=target.eligible,
        percent=target.percent,
        due=due,
        per_day=round(per_day, 2),
        projected_percent=round(100 * projected / target.eligible, 1) if target.eligible else 100.0,
    )
