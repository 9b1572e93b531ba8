"""Facts recorded by a console account: `import_facts` (the same validation, refusal and
idempotence as `campaign facts import`), and each fact it stored audited as that account's act in
the same transaction. A session a secretary records is theirs in the audit trail from the moment
it is recorded, not only through the duties a later run judges met with it.

The CLI's imports stay as they were: their actor is whatever `--actor` says (the administrator),
and a province's facts file would double the trail for no reader."""

import datetime as dt
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign.intake.fact_sheet import FactsSummary, import_facts
from models.campaigns import Campaign, get_campaign
from models.facts import Fact
from models.files import Sheet
from states.audit_chain import Entity, append_events, audit_event

FACT = "fact"
RECORD = "record"


def record_facts(
    code: str,
    source: Path | Sheet,
    *,
    session: Session,
    actor: str,
    today: dt.date,
    within: str | None = None,
) -> FactsSummary:
    """`import_facts` by the account `actor`, each new fact audited (`fact`, `record`,
    absent → recorded) under it; nothing of a refused source is stored or audited."""
    campaign = get_campaign(session, code)
    # The campaign's facts are imported one import at a time (import_facts takes the same lock):
    # the facts stored after `before` are this import's.
    session.execute(select(Campaign.id).where(Campaign.id == campaign.id).with_for_update())
    before = session.scalar(select(func.max(Fact.id))) or 0
    done = import_facts(code, source, session=session, actor=actor, today=today, within=within)
    _audit_new_facts(session, campaign.id, before, actor)
    return done


def _audit_new_facts(session: Session, campaign_id: int, after_id: int, actor: str) -> int:
    fresh = session.execute(
        select(Fact.id, Fact.date, Fact.kind, Fact.unit_id, Fact.member_id, Fact.note)
        .where(Fact.campaign_id == campaign_id, Fact.id > after_id)
        .order_by(Fact.id)
    )
    return append_events(
        session,
        (
            audit_event(
                at=day,
                actor=actor,
                about=Entity(FACT, fact_id, campaign_id, unit_id, member_id),
                trigger=RECORD,
                from_state="absent",
                to_state="recorded",
                reason=f"fact {kind} {note}".strip(),
                payload=None,
            )
            for fact_id, day, kind, unit_id, member_id, note in fresh
        ),
    )
