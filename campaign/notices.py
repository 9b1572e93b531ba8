"""Notices of the escalation ladder: one per unit and step, listing what is late and the late
members, issued once (a deterministic key per unit, step and date) and announced as Prefect
events by the flow.

The notices not yet announced are an outbox: a run announces every one of its campaign's (its
own and any a killed run left), then marks them announced, so each is delivered at least once
and, by its event's deterministic id, recorded once."""

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from models.bulk import in_chunks, in_lists
from models.campaigns import Campaign
from models.documents import Document, last_registered, register_number, register_suffix
from models.errors import ConcurrentChange
from models.members import Member
from models.obligations import Obligation, ObligationKind
from models.units import Unit
from models.views import NoticeView
from states.audit_chain import now_utc
from states.obligation import ObligationState

# The escalation ladder: the state an obligation reaches → the step of the ladder (what its
# notice is called) and the Vietnamese title of the notice.
LADDER = {
    ObligationState.reminded: ("reminder", "Công văn nhắc nhở"),
    ObligationState.overdue: ("overdue", "Công văn đôn đốc (quá hạn)"),
    ObligationState.escalated: ("escalation", "Công văn đôn đốc (báo cáo cấp trên)"),
}
LADDER_TITLES = dict(LADDER.values())  # a ladder step → its notice's title
OBLIGATION_NAMES = {
    ObligationKind.issue_plan: "Ban hành kế hoạch thực hiện",
    ObligationKind.hold_session: "Tổ chức sinh hoạt chuyên đề",
    ObligationKind.self_assess: "Đảng viên tự soi rọi, tự nhận xét",
    ObligationKind.report_upward: "Báo cáo kết quả lên cấp trên",
}


@dataclass
class _Notice:
    unit_id: int
    unit: str
    unit_name: str
    unit_path: str
    parent: str | None
    parent_name: str | None
    state: str
    level: int
    items: list[dict[str, str]] = field(default_factory=list)
    members: list[dict[str, str]] = field(default_factory=list)
    # The members' duties listed so far (kind, due, window): one item each, not one per member.
    duties: set[tuple[str, str, str | None]] = field(default_factory=set)

    @property
    def step(self) -> str:
        return LADDER[ObligationState(self.state)][0]

    def key(self, as_of: dt.date) -> str:
        return f"notice:{self.unit}:{self.step}:{self.level}:{as_of.isoformat()}"


def _moved_today(session: Session, campaign_id: int, as_of: dt.date) -> list[_Notice]:
    parent = aliased(Unit)
    query = (
        select(
            Obligation.kind,
            Obligation.due,
            Obligation.window,
            Obligation.state,
            Obligation.escalation_level,
            Unit.id,
            Unit.code,
            Unit.name,
            Unit.path,
            parent.code,
            parent.name,
            Member.code,
            Member.full_name,
        )
        .join(Unit, Unit.id == Obligation.unit_id)
        .outerjoin(parent, parent.id == Unit.parent_id)
        .outerjoin(Member, Member.id == Obligation.member_id)
        .where(
            Obligation.campaign_id == campaign_id,
            Obligation.since == as_of,
            Obligation.state.in_(list(LADDER)),
        )
        .order_by(Unit.path, Obligation.kind, Member.code)
    )
    notices: dict[tuple[int, str, int], _Notice] = {}
    for row in session.execute(query):
        kind, due, window, state, level, uid, code, name, path, up, up_name, member, full = row
        key = (uid, state, level)
        notice = notices.get(key)
        if notice is None:
            notice = notices[key] = _Notice(uid, code, name, path, up, up_name, state, level)
        day = due.isoformat()
        if member is not None:
            notice.members.append({"code": member, "full_name": full, "due": day})
            if (kind, day, window) in notice.duties:
                continue
            notice.duties.add((kind, day, window))
        notice.items.append(
            {
                "kind": kind,
                "name": OBLIGATION_NAMES[ObligationKind(kind)],
                "due": day,
                "window": window,
            }
        )
    return list(notices.values())


Addressee = tuple[str, str]  # a unit's (code, name)


def _addressees(notice: _Notice, owner: Addressee) -> tuple[Addressee, list[Addressee]]:
    """Who receives the notice, and who is copied: the ladder of SPEC §5."""
    unit = (notice.unit, notice.unit_name)
    parent = (notice.parent, notice.parent_name or notice.parent) if notice.parent else None
    if notice.state == ObligationState.reminded:
        return unit, []
    if notice.state == ObligationState.overdue:
        return unit, [parent] if parent else []
    recipient = (parent or owner) if notice.level <= 1 else owner
    return recipient, [unit]


def issue_notices(
    session: Session, campaign: Campaign, as_of: dt.date, owner: Unit
) -> list[NoticeView]:
    """Store a notice for every unit whose obligations moved up the ladder at `as_of`; return
    only the ones not issued before (a re-run at the same date issues nothing)."""
    notices = _moved_today(session, campaign.id, as_of)
    query = select(Document.key).where(Document.campaign_id == campaign.id)
    keys = {n.key(as_of) for n in notices}
    issued = {
        key
        for statement in in_lists(query, Document.key, keys)
        for key in session.scalars(statement)
    }
    fresh = [n for n in notices if n.key(as_of) not in issued]
    if fresh:
        plan = campaign.plan_file  # validated once, not per notice
        header: dict[str, object] = {
            "code": campaign.code,
            "title": campaign.title,
            "number": plan.number,
            "place": plan.place,
        }
        numbers = _numbers(
            session, fresh, as_of, owner, plan.register_start(NOTICE_KIND, as_of.year)
        )
        suffix = register_suffix(plan.number, owner.name)
        rows = [
            _document(n, campaign.id, header, as_of, owner, (numbers[n.key(as_of)], suffix))
            for n in fresh
        ]
        try:
            session.execute(insert(Document), rows)
        except IntegrityError as exc:
            raise ConcurrentChange(
                f"the {NOTICE_KIND} register of {owner.name} for {as_of.year} moved on while "
                "this run numbered its notices (another campaign of the committee ran at the "
                "same time): run again"
            ) from exc
    return [_view(n, as_of) for n in fresh]


# The register kind of notices: công văn.
NOTICE_KIND = "CV"


def _numbers(
    session: Session, fresh: list[_Notice], as_of: dt.date, owner: Unit, start: int
) -> dict[str, int]:
    """The new notices' numbers in the issuing committee's register of the year, in key order,
    after the last it gave (or where the plan says the office's register stands)."""
    last = last_registered(session, committee_id=owner.id, year=as_of.year, kind=NOTICE_KIND)
    keys = sorted(n.key(as_of) for n in fresh)
    return {key: number for number, key in enumerate(keys, max(last, start) + 1)}


def _document(
    notice: _Notice,
    campaign_id: int,
    header: dict[str, object],
    as_of: dt.date,
    owner: Unit,
    number: tuple[int, str],
) -> dict[str, object]:
    (recipient, recipient_name), copied = _addressees(notice, (owner.code, owner.name))
    title = LADDER[ObligationState(notice.state)][1]
    context = {
        "kind": f"notice_{notice.step}",
        "campaign": header,
        "issuer": {"code": owner.code, "name": owner.name},
        "issued_on": as_of.isoformat(),
        "number": register_number(number[0], NOTICE_KIND, number[1]),
        "step": notice.step,
        "level": notice.level,
        "unit": {"code": notice.unit, "name": notice.unit_name},
        "recipient": recipient,
        "copied": [code for code, _ in copied],
        # "Nơi nhận" names units by name (notices stored before these keys show codes).
        "recipient_name": recipient_name,
        "copied_names": [name for _, name in copied],
        "items": notice.items,
        "members": notice.members,
    }
    return {
        "campaign_id": campaign_id,
        "key": notice.key(as_of),
        "kind": f"notice_{notice.step}",
        "unit_id": notice.unit_id,
        "issued_on": as_of,
        "title": f"{title} — {notice.unit_name}",
        "context": context,
        "markdown": _markdown(title, context),
        "event_id": str(uuid.uuid4()),
        "register_committee_id": owner.id,
        "register_year": as_of.year,
        "register_kind": NOTICE_KIND,
        "register_number": number[0],
    }


def _markdown(title: str, context: dict[str, object]) -> str:
    from templates.render import render

    return render("notice.md.j2", {"title": title, **context})


def _view(notice: _Notice, as_of: dt.date) -> NoticeView:
    return NoticeView(
        unit=notice.unit,
        unit_name=notice.unit_name,
        step=notice.step,
        level=notice.level,
        obligations=sorted({i["kind"] for i in notice.items}),
        members=len(notice.members),
        document=notice.key(as_of),
    )


@dataclass(frozen=True)
class Pending:
    """A notice not yet announced: its date, its view, and the id its event is sent with (drawn
    when the notice was stored, so a re-send is the same event)."""

    issued_on: dt.date
    notice: NoticeView
    event_id: uuid.UUID


def pending_notices(session: Session, campaign_id: int) -> list[Pending]:
    """The campaign's notices not yet announced, oldest date first, each date's in the order of
    their keys."""
    rows = session.execute(
        select(Document.issued_on, Document.key, Document.context, Document.event_id)
        .where(
            Document.campaign_id == campaign_id,
            Document.kind.like("notice%"),
            Document.announced_at.is_(None),
        )
        .order_by(Document.issued_on, Document.key)
    )
    return [
        Pending(issued_on, _stored_view(key, context), _uuid(event_id, key))
        for issued_on, key, context, event_id in rows
    ]


def _uuid(event_id: str | None, key: str) -> uuid.UUID:
    """A notice's event id; one derived from its key for a notice stored without one."""
    return uuid.UUID(event_id) if event_id else uuid.uuid5(uuid.NAMESPACE_URL, key)


def _stored_view(key: str, context: dict[str, Any]) -> NoticeView:
    """A stored notice's view, as `_view` made it when the notice was issued."""
    return NoticeView(
        unit=context["unit"]["code"],
        unit_name=context["unit"]["name"],
        step=context["step"],
        level=context["level"],
        obligations=sorted({i["kind"] for i in context["items"]}),
        members=len(context["members"]),
        document=key,
    )


def mark_announced(session: Session, campaign_id: int, keys: list[str]) -> int:
    """Record that the notices of `keys` were announced; returns how many were still pending."""
    statement = (
        update(Document)
        .where(Document.campaign_id == campaign_id, Document.announced_at.is_(None))
        .values(announced_at=now_utc())
    )
    return sum(
        int(getattr(session.execute(statement.where(Document.key.in_(chunk))), "rowcount", 0))
        for chunk in in_chunks(sorted(set(keys)))
    )
