"""Verifying the audit trail: every chain recomputed in one streaming pass, each chain's head row,
the checkpoints that bind the campaigns' chains to the main chain, and the heads a reviewer kept
outside the database; and reading those kept heads."""

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import ValidationError
from sqlalchemy import String, select, type_coerce
from sqlalchemy.orm import Session

from models.audit import GENESIS, AuditEvent, AuditHead
from models.errors import AuditBroken, InputError, Problem
from models.views import AuditHeadView
from states.audit_hash import CHECKPOINT, CONTENT, MAIN, digest


class Verified(NamedTuple):
    """What a verification went through: events, chains, checkpoints, the last seq."""

    events: int
    chains: int
    checkpoints: int
    last: int


def verify_chain(
    session: Session, *, kept: Iterable[AuditHeadView] = (), batch: int = 50_000
) -> int:
    """Verify the whole trail (`verify_chains`); returns how many events it holds."""
    return verify_chains(session, kept=kept, batch=batch).events


def verify_chains(
    session: Session, *, kept: Iterable[AuditHeadView] = (), batch: int = 50_000
) -> Verified:
    """Recompute every chain in one pass in seq order (keeping only each chain's last event),
    check each chain's head row and each checkpoint's heads, and that the trail still holds
    every kept head; raise AuditBroken naming the first event that does not hold."""
    expected = _by_seq(kept)
    if 0 in expected:
        _check_kept(0, GENESIS, expected.pop(0))
    columns = [
        type_coerce(AuditEvent.at, String).label("at") if c == "at" else getattr(AuditEvent, c)
        for c in (*CONTENT, "prev_hash", "hash", "chain")
    ]
    lasts: dict[str, tuple[int, str]] = {}  # each chain's last event: seq, hash
    events = checkpoints = last = 0
    query = select(*columns).order_by(AuditEvent.seq).execution_options(yield_per=batch)
    # Closed on a failure too: a server-side cursor left open would hold the table.
    with session.execute(query) as rows:
        for row in rows:
            event = row._mapping
            chain, seq = event["chain"], event["seq"]
            _check_event(event, lasts.get(chain, (0, GENESIS)), last)
            if expected and seq in expected:
                _check_kept(seq, event["hash"], expected.pop(seq))
            if chain == MAIN and event["entity"] == CHECKPOINT:
                _check_checkpoint(session, event, lasts)
                checkpoints += 1
            lasts[chain] = (seq, event["hash"])
            events, last = events + 1, seq
    chains = _check_heads(session, lasts)
    if expected:
        beyond = max(expected)
        if beyond > last:
            raise AuditBroken(f"the trail ends at event {last}; the kept head is event {beyond}")
        raise AuditBroken(f"event {min(expected)} of a kept head is not in the trail")
    return Verified(events, chains, checkpoints, last)


def _of(chain: str) -> str:
    return "" if chain == MAIN else f" in chain {chain!r}"


def _check_event(event: Mapping[Any, Any], previous: tuple[int, str], last: int) -> None:
    """One event against its chain's previous one (`previous`: seq, hash; 0 and GENESIS at the
    chain's start); `last` is the trail's previous event, of any chain."""
    seq, where = event["seq"], _of(event["chain"])
    before, prev = previous
    try:  # as appended: its content hashed onto the hash it says it follows
        intact = digest(event["prev_hash"], event) == event["hash"]
    except (TypeError, ValueError):  # a value no append could have written (SQLite's types)
        intact = False
    if event["prev_hash"] != prev:
        if intact and before == last and seq > last + 1:
            # It was appended after an event numbered between the two: none is left.
            gap = f"event {last + 1}" if seq == last + 2 else f"an event of {last + 1}…{seq - 1}"
            raise AuditBroken(f"{gap} is missing (found {seq} next){where}")
        missing = ": the event it was appended after is not in its chain" if intact else ""
        raise AuditBroken(f"event {seq} does not follow event {before}{where}{missing}")
    if not intact:
        raise AuditBroken(f"event {seq} was altered{where}: its content does not match its hash")


def _check_checkpoint(
    session: Session, event: Mapping[Any, Any], lasts: Mapping[str, tuple[int, str]]
) -> None:
    """Each chain a checkpoint binds holds the event it recorded, with the recorded hash."""
    try:
        heads = json.loads(event["payload"])
        bound = [(str(c), int(s), str(h)) for c, (s, h) in heads.items()]
    except (TypeError, ValueError, AttributeError) as exc:
        raise AuditBroken(f"checkpoint event {event['seq']} cannot be read ({exc})") from exc
    for chain, seq, hash_ in bound:
        found = lasts.get(chain)
        if found is not None and found[0] != seq:  # events of the chain came after it: look
            row = session.execute(
                select(AuditEvent.hash).where(AuditEvent.seq == seq, AuditEvent.chain == chain)
            ).one_or_none()
            found = None if row is None or seq > found[0] else (seq, row.hash)
        if found is None:
            raise AuditBroken(
                f"event {seq} is missing in chain {chain!r}: checkpoint event {event['seq']} "
                "recorded it as the chain's head"
            )
        if found[1] != hash_:
            raise AuditBroken(
                f"event {seq} in chain {chain!r} has hash {_short(found[1])}, checkpoint event "
                f"{event['seq']} recorded {_short(hash_)}: the chain was rewritten"
            )


def _by_seq(kept: Iterable[AuditHeadView]) -> dict[int, list[str]]:
    expected: dict[int, list[str]] = {}
    for head in kept:
        expected.setdefault(head.seq, []).append(head.hash.lower())
    return expected


def _check_kept(seq: int, found: str, hashes: list[str]) -> None:
    for kept in hashes:
        if kept != found:
            raise AuditBroken(
                f"the trail holds event {seq} with hash {_short(found)}, "
                f"the kept head says {_short(kept)}"
            )


def _short(hash_: object) -> str:
    return f"{hash_!s:.16}…"


def _check_heads(session: Session, lasts: dict[str, tuple[int, str]]) -> int:
    """Each chain's head row records its last event; returns the chains (the main one counted
    even when empty)."""
    heads = {
        chain: (seq, hash_)
        for chain, seq, hash_ in session.execute(
            select(AuditHead.chain, AuditHead.seq, AuditHead.hash).order_by(AuditHead.id)
        )
    }
    if MAIN not in heads:
        raise AuditBroken("the chain's head row is missing")
    for chain, (seq, hash_) in heads.items():
        _check_head(chain, seq, hash_, *lasts.get(chain, (0, GENESIS)))
    if headless := sorted(set(lasts) - set(heads)):
        chain = headless[0]
        raise AuditBroken(
            f"event {lasts[chain][0]} in chain {chain!r} ends a chain that has no head row"
        )
    return len(heads)


def _check_head(chain: str, seq: object, hash_: object, last: int, last_hash: str) -> None:
    row = "the chain's head row" if chain == MAIN else f"the head row of chain {chain!r}"
    trail = "the trail" if chain == MAIN else "the chain"
    if seq == last and hash_ != last_hash:
        raise AuditBroken(
            f"{row} records event {last} with hash {_short(hash_)}, {trail}'s event {last} "
            f"has hash {_short(last_hash)}"
        )
    if isinstance(seq, int) and seq < last:
        raise AuditBroken(
            f"{row} records event {seq}, {trail} goes on to event {last}: events were added "
            "behind the head's back, or the head row was reset"
        )
    if (seq, hash_) != (last, last_hash):
        raise AuditBroken(
            f"event {seq} is missing{_of(chain)}: {row} records event {seq}, {trail} ends at {last}"
        )


# `SEQ:HASH`, as `--expect` takes it; the `keep` line of `audit head`'s table reads as one too.
_KEPT = re.compile(r"(?:keep\s+)?([0-9]+):([0-9a-fA-F]{64})")


def parse_kept_head(text: str) -> AuditHeadView:
    """A kept head given as `SEQ:HASH`, or as the JSON `audit head --format json` prints."""
    text = text.strip()
    if text.startswith("{"):
        try:
            head = AuditHeadView.model_validate_json(text)
        except ValidationError as exc:
            raise ValueError(f"not a kept head: {exc.errors()[0]['msg']}") from exc
        if _KEPT.fullmatch(f"{head.seq}:{head.hash}"):
            return head
    elif found := _KEPT.fullmatch(text):
        return AuditHeadView(seq=int(found[1]), hash=found[2].lower())
    raise ValueError(f"'{text[:80]}' is not a kept head (SEQ:HASH, a 64-hex-digit hash)")


def read_kept_heads(path: Path) -> list[AuditHeadView]:
    """The kept heads of a file: one `SEQ:HASH` or JSON head a line (blank lines and `#`
    comments skipped), or one JSON head or list of them; refused whole, line by line."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        problem = f"not UTF-8 text (byte {exc.start}): save it as UTF-8"
        raise InputError([Problem(path.name, None, None, problem)]) from exc
    lines = _whole_json(text)
    if lines is None:
        lines = [
            (number, line)
            for number, line in enumerate(text.splitlines(), start=1)
            if line.strip() and not line.lstrip().startswith("#")
        ]
    heads, problems = [], []
    for number, line in lines:
        try:
            heads.append(parse_kept_head(line))
        except ValueError as exc:
            problems.append(Problem(path.name, number, None, str(exc)))
    if problems:
        raise InputError(problems)
    return heads


def _whole_json(text: str) -> list[tuple[int | None, str]] | None:
    # A pretty-printed head (or a list of heads) spans lines: read it whole when it parses.
    try:
        data = json.loads(text)
    except ValueError:
        return None
    items = data if isinstance(data, list) else [data]
    if not all(isinstance(item, dict) for item in items):
        return None
    return [(None, json.dumps(item)) for item in items]
