"""Output schemas: what `status`, `escalations` and `audit` print (SPEC §6), as pydantic models
so the JSON shapes are defined once and checked."""

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


class Target(BaseModel):
    """Progress against one target."""

    done: int
    eligible: int
    percent: float

    @classmethod
    def of(cls, done: int, eligible: int) -> "Target":
        """A target from its counts; 100.0 when nothing is eligible."""
        percent = round(100 * done / eligible, 1) if eligible else 100.0
        return cls(done=done, eligible=eligible, percent=percent)


class Targets(BaseModel):
    """The three targets both seed plans set."""

    members_self_assessed: Target
    leaders_self_assessed: Target
    branches_with_sessions: Target


class ObligationView(BaseModel):
    """One obligation of a unit, as status shows it."""

    kind: str
    due: dt.date
    state: str
    escalation_level: int
    window: str | None = Field(default=None, exclude_if=lambda v: v is None)


class UnitStatus(BaseModel):
    """A unit's progress, rolled up over its subtree, and its own obligations."""

    code: str
    name: str
    kind: str
    parent: str | None
    targets: Targets
    obligations: list[ObligationView]


class ExcludedMember(BaseModel):
    """A member the plan sets no duty, and why (a new member admitted after its cut-off)."""

    member: str
    name: str
    unit: str
    joined: dt.date
    reason: str


class CampaignStatus(BaseModel):
    """`status --format json`."""

    campaign: str
    title: str
    as_of: dt.date | None
    state: str
    targets: Targets
    units: list[UnitStatus]
    excluded: list[ExcludedMember] = Field(default_factory=list, exclude_if=lambda v: not v)


class EscalationView(BaseModel):
    """One open escalation: an obligation now overdue or escalated."""

    unit: str
    unit_name: str
    obligation: str
    due: dt.date
    state: str
    level: int
    since: dt.date | None
    window: str | None = Field(default=None, exclude_if=lambda v: v is None)
    members: list[str] | None = Field(default=None, exclude_if=lambda v: v is None)


class AuditView(BaseModel):
    """One audit event as a reviewer reads it."""

    model_config = ConfigDict(populate_by_name=True)

    seq: int
    at: dt.date
    recorded_at: str
    actor: str
    entity: str
    entity_id: int
    unit: str | None
    member: str | None
    trigger: str
    from_: str = Field(alias="from")
    to: str
    reason: str | None
    hash: str


class AuditHeadView(BaseModel):
    """The audit chain's head, for a reviewer to keep outside the database (`audit head`)."""

    seq: int
    hash: str
    recorded_at: str | None = None


class NoticeView(BaseModel):
    """A notice a run issued: to which unit, for which step, listing what is late."""

    unit: str
    unit_name: str
    step: str
    level: int
    obligations: list[str]
    members: int
    document: str


class RunResult(BaseModel):
    """What a run did, as the operator and the Prefect artifacts show it."""

    campaign: str
    as_of: dt.date
    state: str
    transitions: int
    facts_applied: int
    obligations_created: int
    targets: Targets
    notices: list[NoticeView]
    seconds: float = 0.0
    flow_run: str | None = None
    # The audit chain's head when the run ended: published to Prefect, for a reviewer to keep.
    audit_head: AuditHeadView | None = None


class ForecastStep(BaseModel):
    """A step of the ladder an obligation takes on a date if nothing new arrives."""

    to: str
    level: int
    on: dt.date


class ObligationForecast(BaseModel):
    """An obligation not yet met (a unit's own, or its members' of one kind, window, due date,
    state and level, grouped as the notices group them) and the steps still ahead of it."""

    unit: str
    unit_name: str
    obligation: str
    window: str | None = Field(default=None, exclude_if=lambda v: v is None)
    due: dt.date
    state: str
    level: int
    members: list[str] | None
    steps: list[ForecastStep]


class TargetPace(BaseModel):
    """A target's pace: done per day since the period started, and the percent reached by its
    due date at that pace (capped at what is eligible)."""

    name: str
    done: int
    eligible: int
    percent: float
    due: dt.date
    per_day: float
    projected_percent: float


class ForecastView(BaseModel):
    """What `forecast` prints: who will be reminded, overdue and escalated when, and each
    target's pace."""

    campaign: str
    as_of: dt.date
    obligations: list[ObligationForecast]
    targets: list[TargetPace]
