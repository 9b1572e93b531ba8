"""The audit trail as files a reviewer takes away: a JSON list and CSV, written piece by piece
(a province's trail is millions of events, never held whole), every CSV cell made safe for a
spreadsheet. `campaign audit --format json|csv` and the console's exports write these same
pieces, so the two give the same document."""

import csv
import io
import json
from collections.abc import Iterable, Iterator

from campaign.exports import spreadsheet_cell
from models.views import AuditView

AUDIT_COLUMNS = [
    "seq",
    "at",
    "actor",
    "entity",
    "entity_id",
    "trigger",
    "from",
    "to",
    "reason",
    "hash",
    "unit",
    "member",
]
ROWS_PER_PIECE = 1_000


def audit_record(event: AuditView) -> dict[str, object]:
    """One event as the exports write it: AUDIT_COLUMNS, dates in ISO."""
    data = event.model_dump(mode="json", by_alias=True)
    return {key: data[key] for key in AUDIT_COLUMNS}


def audit_json(events: Iterable[AuditView]) -> Iterator[str]:
    """The events as a JSON list, one event a line, in pieces."""
    yield "["
    for index, event in enumerate(events):
        yield ("," if index else "") + "\n  " + json.dumps(audit_record(event), ensure_ascii=False)
    yield "\n]\n"


def audit_csv(events: Iterable[AuditView]) -> Iterator[str]:
    """The events as CSV with a header, in pieces of ROWS_PER_PIECE rows; a cell beginning
    like a formula is shown as text (campaign.exports.spreadsheet_cell)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(AUDIT_COLUMNS)
    for count, event in enumerate(events, start=1):
        record = audit_record(event)
        writer.writerow([spreadsheet_cell(record[key]) for key in AUDIT_COLUMNS])
        if count % ROWS_PER_PIECE == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
