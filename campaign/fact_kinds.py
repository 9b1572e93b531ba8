"""What each kind of fact does, in one table: the lifecycle it moves and by which trigger, the
duty it is the evidence of, whether it names a member and which units may report it. The facts
import validates a file by it; a run applies the facts by it."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache

from models.facts import FactKind
from models.obligations import ObligationKind
from models.plans import SessionsPer
from models.units import UnitKind
from states.lifecycle import Lifecycle
from states.lifecycles import ASSESSMENT, COMMENDATION, SCREENING


@dataclass(frozen=True)
class Reporter:
    """A unit about to report a fact, with what decides whether it may."""

    kind: UnitKind
    holds_members: bool
    is_owner: bool  # the campaign's own committee
    sessions_per: SessionsPer  # the plan's choice of who owes the thematic sessions


def any_unit(unit: Reporter) -> bool:
    """Every unit may report it."""
    return True


def grassroots_only(unit: Reporter) -> bool:
    """Only a grassroots organisation reports it."""
    return unit.kind is UnitKind.grassroots


def session_holders(unit: Reporter) -> bool:
    """The units that owe the sessions: those holding members when the plan says per branch,
    else the grassroots organisations and their branches."""
    if unit.sessions_per is SessionsPer.branch:
        return unit.holds_members
    return unit.kind in (UnitKind.grassroots, UnitKind.branch)


def grassroots_or_owner(unit: Reporter) -> bool:
    """A grassroots organisation (its report) or the campaign's committee (its synthesis)."""
    return unit.kind is UnitKind.grassroots or unit.is_owner


@dataclass(frozen=True)
class FactKindSpec:
    """What a kind of fact does. With a lifecycle, `trigger` None means the fact opens a new
    entity (a screening case, a nomination), unless the note names the trigger
    (`trigger_by_note`)."""

    lifecycle: Lifecycle | None = None
    trigger: str | None = None
    trigger_by_note: Mapping[str, str] = field(default_factory=dict)
    evidence_of: ObligationKind | None = None  # the duty whose deadline it meets
    needs_member: bool = False
    reported_by: Callable[[Reporter], bool] = any_unit

    def transition(self, note: str) -> tuple[Lifecycle, str | None] | None:
        """The lifecycle and trigger a fact of this kind fires (trigger None: it opens a new
        entity), if any."""
        if self.lifecycle is None:
            return None
        if self.trigger_by_note:
            trigger = self.trigger_by_note.get(note)
            return (self.lifecycle, trigger) if trigger else None
        return self.lifecycle, self.trigger


# A screening step's note names the step (as the facts file writes it) → its trigger.
SCREENING_TRIGGERS = {
    "educate": "educate",
    "help": "help",
    "screen": "screen",
    "cleared": "clear",
    "removed": "remove",
}

FACT_KINDS: dict[FactKind, FactKindSpec] = {
    FactKind.plan_issued: FactKindSpec(
        evidence_of=ObligationKind.issue_plan, reported_by=grassroots_only
    ),
    FactKind.session_held: FactKindSpec(
        evidence_of=ObligationKind.hold_session, reported_by=session_holders
    ),
    FactKind.self_assessment_submitted: FactKindSpec(
        ASSESSMENT, "submit", evidence_of=ObligationKind.self_assess, needs_member=True
    ),
    FactKind.self_assessment_accepted: FactKindSpec(ASSESSMENT, "accept", needs_member=True),
    FactKind.self_assessment_returned: FactKindSpec(ASSESSMENT, "send_back", needs_member=True),
    FactKind.screening_opened: FactKindSpec(SCREENING, None, needs_member=True),
    FactKind.screening_step: FactKindSpec(
        SCREENING, trigger_by_note=SCREENING_TRIGGERS, needs_member=True
    ),
    FactKind.exemplar_nominated: FactKindSpec(COMMENDATION, None),
    FactKind.exemplar_approved: FactKindSpec(COMMENDATION, "approve"),
    FactKind.exemplar_rejected: FactKindSpec(COMMENDATION, "reject"),
    FactKind.activity_held: FactKindSpec(),
    FactKind.report_submitted: FactKindSpec(
        evidence_of=ObligationKind.report_upward, reported_by=grassroots_or_owner
    ),
}

# The kind of fact that is the evidence of each duty.
EVIDENCE: dict[ObligationKind, FactKind] = {
    spec.evidence_of: kind for kind, spec in FACT_KINDS.items() if spec.evidence_of is not None
}


def kinds_moving(lifecycle: Lifecycle | None = None) -> tuple[FactKind, ...]:
    """The kinds of fact that move `lifecycle` (any lifecycle when None), in table order."""
    return tuple(
        kind
        for kind, spec in FACT_KINDS.items()
        if spec.lifecycle is not None and (lifecycle is None or spec.lifecycle is lifecycle)
    )


@cache
def fact_transition(kind: str, note: str) -> tuple[Lifecycle, str | None] | None:
    """The lifecycle and trigger a fact fires (trigger None: it opens a new entity), if any;
    asked once per distinct (kind, note): a roster's facts ask hundreds of thousands of times."""
    return FACT_KINDS[FactKind(kind)].transition(note)
