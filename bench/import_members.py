"""Time the import of a generated roster on a fresh SQLite file (issue 2's figure).

.venv/bin/python bench/import_members.py --members 200000
"""

import argparse
import tempfile
import time
from datetime import date
from pathlib import Path

from campaign.intake.member_roster import import_members
from campaign.intake.unit_tree import import_units
from devtools.generate import generate
from models.db import make_engine, migrate, transaction


def main() -> None:
    """Generate, then import units and members, printing each step's seconds."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        started = time.perf_counter()
        files = generate(args.members, root / "data", seed=args.seed)
        generated = time.perf_counter()
        engine = make_engine(f"sqlite:///{root / 'bench.db'}")
        migrate(engine)
        with transaction(engine) as session:
            import_units(files.units, session=session)
        units_done = time.perf_counter()
        with transaction(engine) as session:
            summary = import_members(files.members, session=session, on=date(2023, 1, 30))
        members_done = time.perf_counter()
        with transaction(engine) as session:
            again = import_members(files.members, session=session, on=date(2023, 1, 31))
        reimported = time.perf_counter()
        print(f"generate {args.members:,} members: {generated - started:.2f} s")
        print(f"import {files.counts.get('units', 0) or '?'} units: {units_done - generated:.2f} s")
        print(
            f"import {summary.created:,} members (SQLite): {members_done - units_done:.2f} s "
            f"({summary.created / (members_done - units_done):,.0f} rows/s)"
        )
        print(
            f"re-import unchanged ({again.unchanged:,} unchanged): "
            f"{reimported - members_done:.2f} s"
        )


if __name__ == "__main__":
    main()
