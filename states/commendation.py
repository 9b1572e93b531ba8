"""A commendation of an exemplary member or organisation: nominated → approved or rejected."""

from enum import Enum

from models.casework import Commendation
from states.lifecycle import Lifecycle, step


class CommendationState(Enum):
    """Where a nomination stands."""

    nominated = "nominated"
    approved = "approved"
    rejected = "rejected"


COMMENDATION = Lifecycle(
    name="commendation",
    states=CommendationState,
    initial="nominated",
    steps=(
        step("approve", "nominated", "approved"),
        step("reject", "nominated", "rejected"),
    ),
    table=Commendation.__table__,  # type: ignore[arg-type]
    finals=frozenset({"approved", "rejected"}),
    audit_columns={"campaign_id": "campaign_id", "unit_id": "unit_id", "member_id": "member_id"},
)
