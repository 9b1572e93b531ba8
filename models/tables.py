"""Every table of the schema, imported in one place so the metadata is complete."""

from models.accounts import AccessRefusal, Account, ConsoleKey
from models.audit import AuditEvent, AuditHead
from models.campaigns import Campaign
from models.casework import Assessment, Commendation, ScreeningCase
from models.documents import Document
from models.facts import Fact
from models.members import Member, MemberChange
from models.obligations import Obligation
from models.runs import Run
from models.units import RosterRevision, Unit

__all__ = [
    "AccessRefusal",
    "Account",
    "Assessment",
    "AuditEvent",
    "AuditHead",
    "Campaign",
    "Commendation",
    "ConsoleKey",
    "Document",
    "Fact",
    "Member",
    "MemberChange",
    "Obligation",
    "RosterRevision",
    "Run",
    "ScreeningCase",
    "Unit",
]
