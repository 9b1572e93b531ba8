"""Set-based vs per-entity transitions with audit, against a hand-written floor (issue 3).

    .venv/bin/python bench/transition_engine.py --rows 1000000 --sample 20000

Prints rows/s of: the engine's set-based `fire_many` (remind), per-entity `fire` on a sample,
and the floor: a hand-written UPDATE plus INSERT of the same audit rows with chained hashes."""

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

from sqlalchemy import Engine, insert, select, text

from models.campaigns import Campaign
from models.db import make_engine, migrate, transaction
from models.obligations import Obligation, ObligationKind
from models.plans import read_plan
from models.units import Unit
from states.audit_chain import Moves, append_moves, canonical_payload
from states.engine import FireContext, fire, fire_many
from states.obligation import OBLIGATION

DUE = dt.date(2023, 5, 19)
CTX = FireContext(actor="bench", as_of=dt.date(2023, 5, 15), reason="bench")


def _database(folder: Path, name: str, rows: int) -> tuple[Engine, int]:
    engine = make_engine(f"sqlite:///{folder / name}")
    migrate(engine)
    with transaction(engine) as session:
        owner = Unit(code="TOWN", name="Thị ủy", kind="district", path="/TOWN/")
        session.add(owner)
        session.flush()
        town = owner.id
        plan = read_plan(Path(__file__).parents[1] / "plans" / "la-gi-2023.yaml")
        row = Campaign(
            code="B",
            title="bench",
            owner_id=town,
            period_start=DUE,
            period_end=DUE,
            plan=plan.model_dump(mode="json"),
        )
        session.add(row)
        session.flush()
        campaign = row.id
        batch = [
            {
                "campaign_id": campaign,
                "kind": ObligationKind.hold_session,
                "unit_id": town,
                "window": "",
                "due": DUE,
                "state": "open",
                "escalation_level": 0,
            }
        ]
        for start in range(0, rows, 100_000):
            session.execute(
                insert(Obligation),
                [{**batch[0], "key": f"k{i}"} for i in range(start, min(rows, start + 100_000))],
            )
    return engine, town


def _timed(label: str, rows: int, work: object) -> float:
    started = time.perf_counter()
    work()  # type: ignore[operator]
    seconds = time.perf_counter() - started
    print(f"{label}: {rows:,} rows in {seconds:.2f} s = {rows / seconds:,.0f} rows/s")
    return rows / seconds


def _floor(engine: Engine, unit: int) -> None:
    with transaction(engine) as session:
        ids = list(session.scalars(select(Obligation.id).where(Obligation.state == "open")))
        session.execute(
            text(
                "UPDATE obligation SET state = 'reminded', since = :d "
                "WHERE state = 'open' AND due <= :w"
            ),
            {"d": CTX.as_of, "w": CTX.as_of + dt.timedelta(7)},
        )
        rows = [(i, 1, unit, None) for i in ids]
        moves = Moves(
            CTX.as_of,
            CTX.actor,
            "obligation",
            "remind",
            "open",
            "reminded",
            CTX.reason,
            canonical_payload(None),
            rows,
        )
        append_moves(session, moves)


def _per_entity(engine: Engine, sample: int) -> None:
    with transaction(engine) as session:
        ids = session.scalars(select(Obligation.id).limit(sample)).all()
        for entity in ids:
            fire(session, OBLIGATION, entity, "remind", ctx=CTX)


def main() -> None:
    """Build three identical databases and time each execution on one of them."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        floor_db, unit = _database(root, "floor.db", args.rows)
        set_db, _ = _database(root, "set.db", args.rows)
        one_db, _ = _database(root, "one.db", args.sample)
        floor = _timed(
            "floor (hand-written UPDATE + hashed audit INSERT)",
            args.rows,
            lambda: _floor(floor_db, unit),
        )
        engine = _timed("set-based fire_many with audit", args.rows, lambda: _run_set(set_db))
        single = _timed(
            "per-entity fire with audit", args.sample, lambda: _per_entity(one_db, args.sample)
        )
        print(f"engine/floor time ratio: {floor / engine:.2f}x (goal ≤ 2)")
        print(f"set-based / per-entity speed: {engine / single:.0f}x (goal ≥ 20)")


def _run_set(engine: Engine) -> None:
    with transaction(engine) as session:
        moved = fire_many(session, OBLIGATION, "remind", ctx=CTX)
        assert moved > 0


if __name__ == "__main__":
    main()
