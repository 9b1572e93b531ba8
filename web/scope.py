"""What an account may reach: the part of a campaign inside its subtree, by query.

Every page asks here first; the answer is a root path that its own queries are filtered by
(never a link hidden from the page). A unit outside the subtree, or an action beyond the role,
is Forbidden: the caller's handler answers 403 and records it."""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.access import Viewer
from models.accounts import Role
from models.campaigns import Campaign, get_campaign
from models.errors import NotFound
from models.units import Unit
from web.session import Forbidden

READERS = (Role.operator, Role.secretary, Role.reviewer)
RECORDERS = (Role.operator, Role.secretary)
AUDITORS = (Role.operator, Role.reviewer)
RUNNERS = (Role.operator,)

ROLE_NAMES = {
    Role.operator: "văn phòng cấp ủy",
    Role.secretary: "bí thư chi bộ",
    Role.reviewer: "ủy ban kiểm tra",
}


@dataclass(frozen=True)
class Reach:
    """A campaign as one account may see it: its root unit there, and that unit's path."""

    campaign: Campaign
    root_code: str
    root_path: str
    owner_path: str

    @property
    def whole(self) -> bool:
        """Whether the account sees the whole campaign (its owner's subtree)."""
        return self.root_path == self.owner_path


def require_role(who: Viewer, roles: tuple[Role, ...], what: str) -> None:
    """Forbidden unless `who` holds one of `roles`."""
    if who.role not in roles:
        raise Forbidden(f"vai trò {ROLE_NAMES[who.role]} không được {what}")


def reach(session: Session, who: Viewer, code: str) -> Reach:
    """The part of campaign `code` inside `who`'s subtree (all of it for an account at or
    above the owner); Forbidden if the two do not meet."""
    campaign = get_campaign(session, code)
    owner = session.execute(select(Unit.code, Unit.path).where(Unit.id == campaign.owner_id)).one()
    if who.covers(owner.path):
        return Reach(campaign, owner.code, owner.path, owner.path)
    if who.unit_path.startswith(owner.path):
        return Reach(campaign, who.unit_code, who.unit_path, owner.path)
    raise Forbidden(f"chiến dịch {code} nằm ngoài phạm vi của đơn vị {who.unit_code}")


def unit_within(session: Session, where: Reach, code: str) -> Unit:
    """The unit `code`, if it lies inside `where`; Forbidden if it lies outside, NotFound if
    there is no such unit (the subtree is part of the query)."""
    inside = session.scalar(
        select(Unit).where(
            Unit.code == code, Unit.path.startswith(where.root_path, autoescape=True)
        )
    )
    if inside is not None:
        return inside
    if session.scalar(select(Unit.id).where(Unit.code == code)) is None:
        raise NotFound(f"không có đơn vị '{code}'")
    raise Forbidden(f"đơn vị {code} nằm ngoài phạm vi của tài khoản")


def campaigns_within(session: Session, who: Viewer) -> list[Campaign]:
    """The campaigns an account reaches: those owned inside its subtree or above its unit."""
    owners = select(Unit.id).where(Unit.path.startswith(who.unit_path, autoescape=True))
    query = (
        select(Campaign)
        .join(Unit, Unit.id == Campaign.owner_id)
        .where(Campaign.owner_id.in_(owners) | Unit.path.in_(_ancestors(who.unit_path)))
        .order_by(Campaign.period_start.desc(), Campaign.code)
    )
    return list(session.scalars(query))


def _ancestors(path: str) -> list[str]:
    """'/A/B/C/' → ['/A/', '/A/B/', '/A/B/C/']."""
    codes = path.strip("/").split("/")
    return ["/" + "/".join(codes[: i + 1]) + "/" for i in range(len(codes))]
