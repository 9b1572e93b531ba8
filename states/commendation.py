"""A commendation of an exemplary member or organisation: nominated → approved or rejected."""

from enum import StrEnum

from models.casework import Commendation
from states.lifecycle import Lifecycle, transition


class CommendationState(StrEnum):
    """Where a nomination stands."""

    nominated = "nominated"
    approved = "approved"
    rejected = "rejected"


COMMENDATION = Lifecycle(
    name="commendation",
    states=CommendationState,
    initial=CommendationState.nominated,
    transitions=(
        transition("approve", CommendationState.nominated, CommendationState.approved),
        transition("reject", CommendationState.nominated, CommendationState.rejected),
    ),
    table=Commendation.__table__,  # type: ignore[arg-type]
    finals=frozenset({CommendationState.approved, CommendationState.rejected}),
    audit_columns={"campaign_id": "campaign_id", "unit_id": "unit_id", "member_id": "member_id"},
)
