"""Screening of a weak or degraded member, per the guidance the seeds cite (Hướng dẫn 03-HD/TU,
09-HD/TU): review (rà soát) → detect (phát hiện) → educate (giáo dục) → help (giúp đỡ) →
screen (sàng lọc) → cleared, or removed from the party (đưa ra khỏi Đảng)."""

from enum import StrEnum

from models.casework import ScreeningCase
from states.lifecycle import Lifecycle, transition


class ScreeningState(StrEnum):
    """Where a screening case stands."""

    reviewing = "reviewing"
    detected = "detected"
    educating = "educating"
    helping = "helping"
    screening = "screening"
    cleared = "cleared"
    removed = "removed"


# A case may be cleared at any stage before the last.
CLEARABLE = (
    ScreeningState.reviewing,
    ScreeningState.detected,
    ScreeningState.educating,
    ScreeningState.helping,
    ScreeningState.screening,
)

SCREENING = Lifecycle(
    name="screening",
    states=ScreeningState,
    initial=ScreeningState.reviewing,
    transitions=(
        transition("detect", ScreeningState.reviewing, ScreeningState.detected),
        transition("educate", ScreeningState.detected, ScreeningState.educating),
        transition("help", ScreeningState.educating, ScreeningState.helping),
        transition("screen", ScreeningState.helping, ScreeningState.screening),
        transition("clear", CLEARABLE, ScreeningState.cleared),
        transition("remove", ScreeningState.screening, ScreeningState.removed),
    ),
    table=ScreeningCase.__table__,  # type: ignore[arg-type]
    finals=frozenset({ScreeningState.cleared, ScreeningState.removed}),
    audit_columns={"campaign_id": "campaign_id", "unit_id": "unit_id", "member_id": "member_id"},
)
