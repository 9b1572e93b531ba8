"""A facts import's checked rows, staged in a table of the session's own (models/staging.py) as
the file is read, then recorded by SQL: the first row of each key that no stored fact of the
campaign has. The duplicates within the file and against what is stored are the database's set
work, not a set of every key in Python."""

from sqlalchemy import (
    Column,
    Date,
    Integer,
    String,
    Text,
    column,
    func,
    insert,
    literal,
    select,
    table,
)
from sqlalchemy.orm import Session

from models.facts import Fact, path_of
from models.staging import create_stage, drop_stage, index_stage, stage_table

# The file's valid rows: its row number (`line`), the fact's own columns, and the lifecycle it
# moves (None: it moves none).
FACT_STAGE = stage_table(
    "fact_stage",
    Column("line", Integer),
    Column("date", Date),
    Column("kind", String(32)),
    Column("unit_id", Integer),
    Column("member_id", Integer),
    Column("note", Text),
    Column("key", String(400)),
    Column("lifecycle", String(32)),
)
# The staged rows recorded now: the first of each key not stored before (as FACT_STAGE).
FRESH = "fact_fresh"

_FRESH = """
CREATE TEMPORARY TABLE fact_fresh AS
SELECT line, date, kind, unit_id, member_id, note, key, lifecycle FROM (
    SELECT s.*, ROW_NUMBER() OVER (PARTITION BY s.key ORDER BY s.line) AS nth
    FROM fact_stage s
) AS firsts
WHERE nth = 1 AND NOT EXISTS (
    SELECT 1 FROM fact f WHERE f.campaign_id = {campaign:d} AND f.key = firsts.key
)
"""

# The fresh rows (as FACT_STAGE, without its `lifecycle`), recorded in file order.
_FRESH_ROWS = table(
    FRESH,
    *(column(name) for name in ("line", "date", "kind", "unit_id", "member_id", "note", "key")),
)


def create_fact_stage(session: Session) -> None:
    """The staging tables of this import, empty."""
    drop_fresh(session)
    create_stage(session, FACT_STAGE)


def drop_fresh(session: Session) -> None:
    session.connection().exec_driver_sql(f"DROP TABLE IF EXISTS {FRESH}")


def record_staged(session: Session, campaign_id: int, actor: str, today: object) -> int:
    """Record the staged facts not stored yet (the first row of each key); how many."""
    index_stage(session, FACT_STAGE, "key")
    # The campaign's id written in (an int): a statement creating a table binds no parameter.
    connection = session.connection()
    connection.exec_driver_sql(_FRESH.format(campaign=campaign_id))
    drop_stage(session, FACT_STAGE)
    connection.exec_driver_sql(f"CREATE INDEX {FRESH}_entity ON {FRESH} (lifecycle, member_id)")
    fresh = _FRESH_ROWS.c
    rows = select(
        fresh.date,
        fresh.kind,
        fresh.unit_id,
        fresh.member_id,
        fresh.note,
        fresh.key,
        literal(campaign_id),
        literal(actor, String),
        literal(today, Date),
        path_of(fresh.member_id, fresh.unit_id),
    ).order_by(fresh.line)
    names = ["date", "kind", "unit_id", "member_id", "note", "key"]
    names += ["campaign_id", "recorded_by", "recorded_on", "path"]
    connection.execute(insert(Fact).from_select(names, rows))
    # every fresh row is recorded (psycopg reports no rowcount for this INSERT … SELECT)
    return int(session.scalar(select(func.count()).select_from(_FRESH_ROWS)) or 0)
