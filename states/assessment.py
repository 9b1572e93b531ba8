"""A member's self-assessment: pending → submitted → accepted, or returned for rework and
submitted again; members outside the targets (exempt, transferred out) are excluded."""

from enum import StrEnum

from models.casework import Assessment
from states.lifecycle import Lifecycle, transition


class AssessmentState(StrEnum):
    """Where a member's self-assessment stands."""

    pending = "pending"
    submitted = "submitted"
    returned = "returned"
    accepted = "accepted"
    excluded = "excluded"


ASSESSMENT = Lifecycle(
    name="assessment",
    states=AssessmentState,
    initial=AssessmentState.pending,
    transitions=(
        transition(
            "submit", (AssessmentState.pending, AssessmentState.returned), AssessmentState.submitted
        ),
        transition("accept", AssessmentState.submitted, AssessmentState.accepted),
        transition("send_back", AssessmentState.submitted, AssessmentState.returned),
        transition(
            "exclude", (AssessmentState.pending, AssessmentState.returned), AssessmentState.excluded
        ),
        transition("reinstate", AssessmentState.excluded, AssessmentState.pending),
    ),
    table=Assessment.__table__,  # type: ignore[arg-type]
    finals=frozenset({AssessmentState.accepted}),
    audit_columns={"campaign_id": "campaign_id", "unit_id": "unit_id", "member_id": "member_id"},
)
