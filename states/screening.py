"""Screening of a weak or degraded member, per the guidance the seeds cite (Hướng dẫn 03-HD/TU,
09-HD/TU): review (rà soát) → detect (phát hiện) → educate (giáo dục) → help (giúp đỡ) →
screen (sàng lọc) → cleared, or removed from the party (đưa ra khỏi Đảng)."""

from enum import Enum

from models.casework import ScreeningCase
from states.lifecycle import Lifecycle, step


class ScreeningState(Enum):
    """Where a screening case stands."""

    reviewing = "reviewing"
    detected = "detected"
    educating = "educating"
    helping = "helping"
    screening = "screening"
    cleared = "cleared"
    removed = "removed"


SCREENING = Lifecycle(
    name="screening",
    states=ScreeningState,
    initial="reviewing",
    steps=(
        step("detect", "reviewing", "detected"),
        step("educate", "detected", "educating"),
        step("help", "educating", "helping"),
        step("screen", "helping", "screening"),
        step("clear", ("reviewing", "detected", "educating", "helping", "screening"), "cleared"),
        step("remove", "screening", "removed"),
    ),
    table=ScreeningCase.__table__,  # type: ignore[arg-type]
    finals=frozenset({"cleared", "removed"}),
    audit_columns={"campaign_id": "campaign_id", "unit_id": "unit_id", "member_id": "member_id"},
)
