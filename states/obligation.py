"""An obligation's lifecycle (SPEC §5): open → (reminded) → met; or → overdue → (escalated …)
→ met_late, or back to met when a fact recorded late shows the duty was done in time; anything
not yet met can be waived."""

from enum import Enum

from models.obligations import Obligation
from states.lifecycle import Lifecycle, step


class ObligationState(Enum):
    """Where a duty stands against its deadline."""

    open = "open"
    reminded = "reminded"
    met = "met"
    overdue = "overdue"
    escalated = "escalated"
    met_late = "met_late"
    waived = "waived"


UNMET = ("open", "reminded")
LATE = ("overdue", "escalated")

OBLIGATION = Lifecycle(
    name="obligation",
    states=ObligationState,
    initial="open",
    steps=(
        step("remind", "open", "reminded", conditions=["reminder_window_reached"]),
        step("meet", UNMET, "met", conditions=["evidence_in_time"]),
        step("lapse", UNMET, "overdue", conditions=["past_due"]),
        step(
            "escalate",
            LATE,
            "escalated",
            conditions=["escalation_step_reached"],
            after=["raise_escalation_level"],
        ),
        step("meet_late", LATE, "met_late", conditions=["evidence_late"]),
        step("confirm_in_time", (*LATE, "met_late"), "met", conditions=["evidence_in_time"]),
        step("waive", (*UNMET, *LATE), "waived"),
    ),
    table=Obligation.__table__,  # type: ignore[arg-type]
    finals=frozenset({"met", "waived"}),
    audit_columns={"campaign_id": "campaign_id", "unit_id": "unit_id", "member_id": "member_id"},
)
