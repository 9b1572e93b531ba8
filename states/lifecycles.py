"""Every lifecycle of the engine, and what the machine says of a (state, trigger) pair."""

from functools import lru_cache

from transitions import MachineError

from states.assessment import ASSESSMENT
from states.campaign import CAMPAIGN
from states.commendation import COMMENDATION
from states.lifecycle import Lifecycle
from states.obligation import OBLIGATION
from states.screening import SCREENING

ALL: tuple[Lifecycle, ...] = (CAMPAIGN, OBLIGATION, ASSESSMENT, SCREENING, COMMENDATION)
BY_NAME = {lifecycle.name: lifecycle for lifecycle in ALL}
# A screening case is opened by the review and at once moved to "detected" by its first fact.
OPENING = {SCREENING.name: "detect"}

__all__ = [
    "ALL",
    "ASSESSMENT",
    "CAMPAIGN",
    "COMMENDATION",
    "OBLIGATION",
    "SCREENING",
    "Lifecycle",
    "next_state",
    "opening_state",
]


class _Probe:
    def __init__(self, state: str) -> None:
        self.state = state


def next_state(lifecycle: Lifecycle, state: str, trigger: str) -> str | None:
    """Where `trigger` takes an entity in `state`, for unguarded transitions; None if refused.

    The machine answers; its answer depends on the pair alone, so it is asked once per pair
    (replaying a roster's facts asks hundreds of thousands of times)."""
    return _ask_machine(lifecycle.name, state, trigger)


@lru_cache(maxsize=4096)
def _ask_machine(name: str, state: str, trigger: str) -> str | None:
    lifecycle = BY_NAME[name]
    if trigger not in lifecycle.machine.events:
        return None
    probe = _Probe(state)
    try:
        moved = lifecycle.machine.events[trigger].trigger(probe, ctx=None)
    except MachineError:
        return None
    return probe.state if moved else None


def opening_state(lifecycle: Lifecycle) -> str:
    """The state a newly opened entity stands in once its opening fact is applied."""
    opening = OPENING.get(lifecycle.name)
    if opening is None:
        return lifecycle.initial
    return next_state(lifecycle, lifecycle.initial, opening) or lifecycle.initial
