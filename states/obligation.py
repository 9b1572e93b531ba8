"""An obligation's lifecycle (SPEC §5): open → (reminded) → met; or → overdue → (escalated …)
→ met_late, or back to met when a fact recorded late shows the duty was done in time; anything
not yet met can be waived, and a waived duty reinstated (its member came back)."""

from enum import StrEnum

from models.obligations import Obligation
from states.lifecycle import Lifecycle, transition


class ObligationState(StrEnum):
    """Where a duty stands against its deadline."""

    open = "open"
    reminded = "reminded"
    met = "met"
    overdue = "overdue"
    escalated = "escalated"
    met_late = "met_late"
    waived = "waived"


UNMET = (ObligationState.open, ObligationState.reminded)
LATE = (ObligationState.overdue, ObligationState.escalated)
DONE = (ObligationState.met, ObligationState.met_late)

OBLIGATION = Lifecycle(
    name="obligation",
    states=ObligationState,
    initial=ObligationState.open,
    transitions=(
        transition(
            "remind",
            ObligationState.open,
            ObligationState.reminded,
            conditions=["reminder_window_reached"],
        ),
        transition("meet", UNMET, ObligationState.met, conditions=["evidence_in_time"]),
        transition("lapse", UNMET, ObligationState.overdue, conditions=["past_due"]),
        transition(
            "escalate",
            LATE,
            ObligationState.escalated,
            conditions=["escalation_step_reached"],
            after=["raise_escalation_level"],
        ),
        transition("meet_late", LATE, ObligationState.met_late, conditions=["evidence_late"]),
        transition(
            "confirm_in_time",
            (*LATE, ObligationState.met_late),
            ObligationState.met,
            conditions=["evidence_in_time"],
        ),
        transition("waive", (*UNMET, *LATE), ObligationState.waived),
        # a member who left (or was exempted) and came back owes again what is still due
        transition("reinstate", ObligationState.waived, ObligationState.open),
    ),
    table=Obligation.__table__,  # type: ignore[arg-type]
    finals=frozenset({ObligationState.met}),
    audit_columns={"campaign_id": "campaign_id", "unit_id": "unit_id", "member_id": "member_id"},
)
