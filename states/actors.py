"""Who acts: the names the audit trail records, under one rule for every edge that takes one.

`system` is the engine itself (the scheduled daily run); an operator can never record it."""

import unicodedata

from models.audit import AuditEvent

SYSTEM_ACTOR = "system"
# The audit column's own size: SQLite would store a longer name, PostgreSQL refuse the run.
ACTOR_LENGTH: int = AuditEvent.__table__.c.actor.type.length  # type: ignore[attr-defined]
# Control characters, invisible formatting (bidirectional overrides that reorder what a
# reviewer reads), line and paragraph separators, surrogates, private and unassigned points.
_UNPRINTABLE = frozenset(("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"))


def check_actor(name: str, *, scheduled: bool = False) -> str:
    """`name` as an operator may record it (stripped); ValueError says why it may not.

    `scheduled`: the caller is the scheduled flow, which alone may record `system`."""
    name = name.strip()
    if not name:
        raise ValueError("is empty")
    if len(name) > ACTOR_LENGTH:
        raise ValueError(f"is {len(name):,} characters long, at most {ACTOR_LENGTH}")
    if bad := next((c for c in name if unicodedata.category(c) in _UNPRINTABLE), None):
        raise ValueError(f"holds the control character U+{ord(bad):04X}")
    if not scheduled and unicodedata.normalize("NFKC", name).casefold() == SYSTEM_ACTOR:
        raise ValueError(f"'{SYSTEM_ACTOR}' is reserved for the scheduled runs")
    return name
