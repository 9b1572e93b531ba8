"""A campaign's status as the console reads it, many times a minute: computed once over the
whole campaign (`campaign.status.campaign_status`, the figures `campaign status` prints) and kept
while the data it is computed from stands still; any subtree is then cut from it in memory.

What it is computed from changes only through what moves the data version read at every request
(four small lookups): a transition of an obligation or anything audited (the heads of the audit
chains), an import of units or members (the roster revision), a run started or finished (its
record). Facts recorded between runs change no figure until a run takes them in."""

import datetime as dt
import threading
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign.status import campaign_status
from models.audit import AuditHead
from models.campaigns import get_campaign
from models.runs import Run
from models.units import roster_revision
from models.views import UnitStatus


@dataclass(frozen=True)
class KeptStatus:
    """The whole campaign's units with their figures, each unit's units right below it."""

    as_of: dt.date | None
    units: dict[str, UnitStatus]
    children: dict[str, list[str]] = field(default_factory=dict)
    # Views made from it for a subtree (a dashboard's tree and chart), kept as long as it is.
    derived: dict[object, object] = field(default_factory=dict)

    def subtree(self, root: str) -> list[UnitStatus]:
        """The units of the subtree at `root`, each after its parent (the root first)."""
        found, stack = [], [root]
        while stack:
            code = stack.pop()
            found.append(self.units[code])
            stack.extend(reversed(self.children.get(code, [])))
        return found


_kept: dict[tuple[str, str], tuple[tuple[object, ...], KeptStatus]] = {}
_computing: dict[tuple[str, str], threading.Lock] = defaultdict(threading.Lock)
_lock = threading.Lock()


def kept_status(session: Session, code: str) -> KeptStatus:
    """Campaign `code`'s status over its whole organisation, as it stands now. Computed by one
    request at a time per campaign: the others wait for it rather than compute it again."""
    campaign = get_campaign(session, code)
    key = (session.get_bind().engine.url.render_as_string(hide_password=True), campaign.code)
    version = _version(session, campaign.id, campaign.last_run_on, campaign.state)
    with _lock:
        computing = _computing[key]
    with computing:
        with _lock:
            kept = _kept.get(key)
        if kept is not None and kept[0] == version:
            return kept[1]
        fresh = _computed(session, code)
        with _lock:
            _kept[key] = (version, fresh)
        return fresh


def _computed(session: Session, code: str) -> KeptStatus:
    status = campaign_status(session, code)
    children: dict[str, list[str]] = defaultdict(list)
    for unit in status.units:
        if unit.parent is not None:
            children[unit.parent].append(unit.code)
    return KeptStatus(status.as_of, {u.code: u for u in status.units}, dict(children))


def _version(
    session: Session, campaign_id: int, last_run_on: dt.date | None, state: str
) -> tuple[object, ...]:
    runs = select(func.max(Run.id), func.count(Run.finished_at)).where(
        Run.campaign_id == campaign_id
    )
    last_run, finished = session.execute(runs).one()
    # Every chain's head moves forward with each append it commits: their sum grows with every
    # audited change, even when chains commit out of the order of their numbers (the last seq of
    # the trail would not: a partition committing after a later-numbered one leaves it as it was).
    audited = session.execute(select(func.sum(AuditHead.seq), func.count())).one()
    return (*audited, roster_revision(session), last_run, finished, last_run_on, state)
