"""The daily flow: every campaign that is not closed, run as of today (what escalates late units
without anyone asking; `prefect.yaml`'s `daily` deployment)."""

import datetime as dt

from prefect import flow, get_run_logger
from sqlalchemy import select

from campaign.run_record import check_run
from flows.campaign_flow import campaign_flow
from flows.database_url import database, refuse_password
from models.calendar import today
from models.campaigns import Campaign
from models.db import transaction
from models.errors import OutOfScope
from states.campaign import CampaignState


@flow(name="daily-campaigns")
def daily_campaigns(as_of: dt.date | None = None, database_url: str | None = None) -> list[str]:
    """Run every campaign that is not closed, as of today: what escalates late units daily.

    Returns the campaigns that ran; one refused (already run at a later date, or being run by
    another process) is logged."""
    refuse_password(database_url)
    with transaction(database(database_url)) as session:
        codes = list(
            session.scalars(
                select(Campaign.code)
                .where(Campaign.state != CampaignState.closed)
                .order_by(Campaign.code)
            )
        )
    ran = []
    for code in codes:
        try:
            with transaction(database(database_url)) as session:
                check_run(session, code, as_of or today())
            campaign_flow(code, as_of, "system", database_url)
        except OutOfScope as refused:  # one campaign's refusal must not stop the others
            get_run_logger().warning("%s skipped: %s", code, refused)
            continue
        ran.append(code)
    return ran
