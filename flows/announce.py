"""What a run publishes to Prefect: one event per notice (or per ladder step and level), the
audit head it ended on, and its artifacts (progress by unit, a summary). Notices are announced
from an outbox: each notice's event id is drawn when it is stored, so an event sent again is
recorded once by Prefect."""

import datetime as dt
import uuid
from typing import Any

from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.events import emit_event
from prefect.settings import get_current_settings
from sqlalchemy import select

from campaign.notices import LADDER_TITLES, mark_announced, pending_notices
from campaign.partition import partitions
from flows.database_url import database
from models.campaigns import get_campaign
from models.db import transaction
from models.settings import EventsPer, get_settings
from models.units import Unit
from models.views import AuditHeadView, CampaignStatus, NoticeView, RunResult
from states.audit_chain import chain_head
from states.obligation import LATE
from templates.filters import markdown_text

# Each ladder step's event name (SPEC §6: reminded, overdue, escalation).
EVENT_NAMES = {"reminder": "campaign.obligation.reminded"}

# The related resources Prefect's events worker adds to an event from the run it is emitted in
# (flow run, flow, deployment, work queue and pool, tags): room left for them when a grouped
# event names late units, within Prefect's maximum of related resources (100 by default).
RUN_RELATED = 10

# CAMPAIGN_EVENTS_PER=auto (the default): a day's notices up to this many are announced one
# event each, more by ladder step and level (a province's run issues thousands: ~90 times fewer
# events, each costing Prefect's server 1.3-1.6 ms of CPU).
AUTO_NOTICES = 100

# A partition's event lists up to this many notices of a step and level in its payload (each
# about 200 bytes: the event stays well under Prefect's maximum size, 1.5 MB by default).
EVENT_NOTICES = 1_000
# The partition of the notices of units in none (the owner's own, or outside its tree).
OWNER_PART = "owner"


def announcements(
    code: str,
    as_of: dt.date,
    notices: list[NoticeView],
    per: EventsPer,
    ids: dict[str, uuid.UUID] | None = None,
    part_of: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The Prefect events (`emit_event`'s arguments) that announce the notices issued at
    `as_of`: one per notice; or one per ladder step and level naming its late units as related
    resources (~90 an event); or one per partition (`part_of`: a unit's partition, by unit code;
    the owner's part when it has none), ladder step and level, listing its late units in its
    payload (up to `EVENT_NOTICES`) and naming the first ~90 as related resources; `auto`: per
    notice up to `AUTO_NOTICES` notices, else per partition. An event's id is its notice's
    (`ids`, by document; drawn when the notice was stored), or derived from its notices' ids, so
    sending it again (a run killed before it recorded the announcement) is the same event,
    which Prefect stores once."""
    known = ids or {}
    if per == "auto":
        per = "notice" if len(notices) <= AUTO_NOTICES else "partition"
    if per == "notice":
        return [_notice_event(code, as_of, notice, known) for notice in notices]
    room = max(1, get_current_settings().server.events.maximum_related_resources - RUN_RELATED)
    size = room if per == "step" else EVENT_NOTICES
    parts = part_of or {}
    groups: dict[tuple[str | None, str, int], list[NoticeView]] = {}
    for notice in notices:
        part = None if per == "step" else parts.get(notice.unit, OWNER_PART)
        groups.setdefault((part, notice.step, notice.level), []).append(notice)
    return [
        _step_event(code, as_of, (step, level, part), units[start : start + size], known, room)
        for (part, step, level), units in groups.items()
        for start in range(0, len(units), size)
    ]


# The namespace of the events' ids derived from their notices'.
EVENTS = uuid.uuid5(uuid.NAMESPACE_URL, "urn:campaign-engine:announcement")


def _event_id(code: str, notices: list[NoticeView], ids: dict[str, uuid.UUID]) -> uuid.UUID:
    """The id of the event announcing `notices`: a lone notice's own, else derived from theirs
    (a notice without one: from its campaign and document)."""
    own = [ids.get(n.document) or uuid.uuid5(EVENTS, f"{code}\n{n.document}") for n in notices]
    return own[0] if len(own) == 1 else uuid.uuid5(EVENTS, "\n".join(map(str, own)))


def _event_name(step: str) -> str:
    return EVENT_NAMES.get(step, f"campaign.obligation.{step}")


def _unit(code: str, notice: NoticeView) -> dict[str, str]:
    """A late unit as a Prefect resource, labelled with its code and ladder level; its name is
    what Prefect's UI and a notification show."""
    return {
        "prefect.resource.id": f"campaign.{code}.unit.{notice.unit}",
        "prefect.resource.name": notice.unit_name,
        "campaign.unit": notice.unit,
        "campaign.level": str(notice.level),
    }


def _contents(notice: NoticeView) -> dict[str, Any]:
    return {
        "obligations": notice.obligations,
        "members": notice.members,
        "document": notice.document,
    }


def _notice_event(
    code: str, as_of: dt.date, notice: NoticeView, ids: dict[str, uuid.UUID]
) -> dict[str, Any]:
    return {
        "event": _event_name(notice.step),
        "id": _event_id(code, [notice], ids),
        "resource": {**_unit(code, notice), "campaign.code": code},
        "payload": {
            "as_of": as_of.isoformat(),
            "title": LADDER_TITLES[notice.step],
            **_contents(notice),
        },
    }


def _step_event(
    code: str,
    as_of: dt.date,
    group: tuple[str, int, str | None],
    notices: list[NoticeView],
    ids: dict[str, uuid.UUID],
    room: int,
) -> dict[str, Any]:
    """The event of a ladder step and level (and partition, unless None): its notices in its
    payload, the first `room` of their units as related resources."""
    step, level, part = group
    resource = {
        "prefect.resource.id": f"campaign.{code}.step.{step}.{level}",
        "campaign.code": code,
        "campaign.step": step,
        "campaign.level": str(level),
    }
    if part is not None:
        resource["prefect.resource.id"] += f".{part}"
        resource["campaign.partition"] = part
    named = notices[:room]
    return {
        "event": _event_name(step),
        "id": _event_id(code, notices, ids),
        "resource": resource,
        "related": [{**_unit(code, n), "prefect.resource.role": "late-unit"} for n in named],
        "payload": {
            "as_of": as_of.isoformat(),
            "title": LADDER_TITLES[step],
            "notices": [
                {"unit": n.unit, "unit_name": n.unit_name, **_contents(n)} for n in notices
            ],
        },
    }


def announce(code: str, url: str | None) -> int:
    """Announce every notice of the campaign not yet announced (this run's and any a killed run
    left), wait until the events are sent, then record them announced; returns how many."""
    with transaction(database(url)) as session:
        pending = pending_notices(session, get_campaign(session, code).id)
    if not pending:
        return 0
    by_date: dict[dt.date, list[NoticeView]] = {}
    for p in pending:
        by_date.setdefault(p.issued_on, []).append(p.notice)
    ids = {p.notice.document: p.event_id for p in pending}
    per = get_settings().events_per
    units = {p.notice.unit for p in pending}
    part_of = _partitions_of(code, units, url) if per in ("auto", "partition") else {}
    for day, notices in by_date.items():
        for event in announcements(code, day, notices, per, ids, part_of):
            emit_event(**event)
    _send_events()
    with transaction(database(url)) as session:
        return mark_announced(session, get_campaign(session, code).id, list(ids))


def _partitions_of(code: str, units: set[str], url: str | None) -> dict[str, str]:
    """The partition of each unit of `units` (by code) that is in one."""
    engine = database(url)
    parts = partitions(engine, code)
    codes, paths = sorted(units), dict[str, str]()
    with transaction(engine) as session:
        for start in range(0, len(codes), 5_000):
            chosen = Unit.code.in_(codes[start : start + 5_000])
            paths.update(session.execute(select(Unit.code, Unit.path).where(chosen)).tuples().all())
    return {
        unit: part.key
        for unit, path in paths.items()
        for part in parts
        if any(path.startswith(prefix) for prefix in part.paths)
    }


def _send_events() -> None:
    """Wait until Prefect's events worker has sent every event emitted so far."""
    from prefect.events.utilities import should_emit_events
    from prefect.events.worker import EventsWorker

    if should_emit_events():
        EventsWorker.instance().wait_until_empty()


def publish_head(code: str, day: dt.date, url: str | None) -> AuditHeadView:
    """The audit chain's head as the run ends, announced as a Prefect event
    (`campaign.run.finished`, its resource the campaign): Prefect's own database then keeps an
    independent record of every head, which `audit verify --expect` checks."""
    with transaction(database(url)) as session:
        head = chain_head(session)
    emit_event(
        "campaign.run.finished",
        resource={"prefect.resource.id": f"campaign.{code}", "campaign.code": code},
        payload={"as_of": day.isoformat(), "audit_head": head.model_dump()},
    )
    return head


def artifact_key(code: str, what: str) -> str:
    """Artifact keys allow lowercase letters, digits and dashes only."""
    return "".join(c if c.isascii() and c.isalnum() else "-" for c in f"{code}-{what}".lower())


def publish_progress(status: CampaignStatus) -> None:
    """A table artifact of progress by unit, down to the grassroots organisations."""
    rows = [
        {
            "unit": f"{u.code} {u.name}",
            "kind": u.kind,
            "self-assessed %": u.targets.members_self_assessed.percent,
            "leaders %": u.targets.leaders_self_assessed.percent,
            "sessions %": u.targets.branches_with_sessions.percent,
            "late": sum(o.state in LATE for o in u.obligations),
        }
        for u in status.units
    ]
    create_table_artifact(
        rows,
        key=artifact_key(status.campaign, "progress"),
        description=f"{status.campaign}: progress by unit as of {status.as_of}",
    )


def publish_summary(result: RunResult) -> None:
    """A Markdown artifact of the run: its targets, the audit head it ended on, its notices."""
    targets = result.targets.model_dump()
    lines = [
        f"# {markdown_text(result.campaign)} as of {result.as_of:%d/%m/%Y}",
        "",
        f"Campaign **{result.state}**, {result.transitions} transitions.",
        "",
        "| target | done | eligible | % |",
        "| --- | --- | --- | --- |",
    ]
    lines += [
        f"| {n} | {v['done']} | {v['eligible']} | {v['percent']} |" for n, v in targets.items()
    ]
    if head := result.audit_head:
        lines += [
            "",
            f"Audit head: event {head.seq}, recorded {head.recorded_at}. A reviewer keeps "
            f"`{head.seq}:{head.hash}` and checks it with `campaign audit verify --expect`.",
        ]
    lines += ["", f"## New notices ({len(result.notices)})", ""]
    lines += [
        f"- {markdown_text(n.unit)} {markdown_text(n.unit_name)}: {n.step} level {n.level} — "
        f"{', '.join(n.obligations)}" + (f", {n.members} members" if n.members else "")
        for n in result.notices[:200]
    ]
    create_markdown_artifact("\n".join(lines), key=artifact_key(result.campaign, "summary"))
