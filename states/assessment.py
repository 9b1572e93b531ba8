"""A member's self-assessment: pending → submitted → accepted, or returned for rework and
submitted again; members outside the targets (exempt, transferred out) are excluded."""

from enum import Enum

from models.casework import Assessment
from states.lifecycle import Lifecycle, step


class AssessmentState(Enum):
    """Where a member's self-assessment stands."""

    pending = "pending"
    submitted = "submitted"
    returned = "returned"
    accepted = "accepted"
    excluded = "excluded"


ASSESSMENT = Lifecycle(
    name="assessment",
    states=AssessmentState,
    initial="pending",
    steps=(
        step("submit", ("pending", "returned"), "submitted"),
        step("accept", "submitted", "accepted"),
        step("send_back", "submitted", "returned"),
        step("exclude", ("pending", "returned"), "excluded"),
        step("reinstate", "excluded", "pending"),
    ),
    table=Assessment.__table__,  # type: ignore[arg-type]
    finals=frozenset({"accepted"}),
    audit_columns={"campaign_id": "campaign_id", "unit_id": "unit_id", "member_id": "member_id"},
)
