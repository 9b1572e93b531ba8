"""A campaign's lifecycle: registered → active (period started) → reporting (period ended) →
closed (the committee's synthesis is in, or an operator closes it)."""

from enum import Enum

from models.campaigns import Campaign
from states.lifecycle import Lifecycle, step


class CampaignState(Enum):
    """Where a campaign stands."""

    registered = "registered"
    active = "active"
    reporting = "reporting"
    closed = "closed"


CAMPAIGN = Lifecycle(
    name="campaign",
    states=CampaignState,
    initial="registered",
    steps=(
        step("activate", "registered", "active"),
        step("enter_reporting", "active", "reporting"),
        step("close", ("active", "reporting"), "closed"),
    ),
    table=Campaign.__table__,  # type: ignore[arg-type]
    finals=frozenset({"closed"}),
    audit_columns={"campaign_id": "id", "unit_id": "owner_id"},
)
