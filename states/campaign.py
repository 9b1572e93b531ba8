"""A campaign's lifecycle: registered → active (period started) → reporting (period ended) →
closed (the committee's synthesis is in, or an operator closes it)."""

from enum import StrEnum

from models.campaigns import Campaign
from states.lifecycle import Lifecycle, transition


class CampaignState(StrEnum):
    """Where a campaign stands."""

    registered = "registered"
    active = "active"
    reporting = "reporting"
    closed = "closed"


CAMPAIGN = Lifecycle(
    name="campaign",
    states=CampaignState,
    initial=CampaignState.registered,
    transitions=(
        transition("activate", CampaignState.registered, CampaignState.active),
        transition("enter_reporting", CampaignState.active, CampaignState.reporting),
        transition("close", (CampaignState.active, CampaignState.reporting), CampaignState.closed),
    ),
    table=Campaign.__table__,  # type: ignore[arg-type]
    finals=frozenset({CampaignState.closed}),
    audit_columns={"campaign_id": "id", "unit_id": "owner_id"},
)
