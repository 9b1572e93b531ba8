"""Every table of the schema, imported in one place so the metadata is complete."""

from models.members import Member, MemberChange
from models.plans import Campaign
from models.units import Unit

__all__ = ["Campaign", "Member", "MemberChange", "Unit"]
