"""Time a province's roster re-imported with 2 % of its members moved, and the next run (issue
25's figure).

    .venv/bin/python bench/roster_churn.py --members 200000 [--moved 0.02]

Generates the province, imports its units, members and the 2023 timeline's facts, and runs the
campaign (the plain reconcile, `campaign.reconcile.reconcile`) on 01/02 and 12/05/2023. Then the
clerk re-imports the whole roster on 16/05 with a share of the active members moved to another
branch from 15/05 (the `since` column), and the campaign runs on 16/05: the run makes the moved
members' open obligations follow them (`campaign.roster_follow`). Prints the seconds of each
step, how many obligations moved, and the machine's speed before and after (bench/timeline.py's
probe)."""

import argparse
import csv
import datetime as dt
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, func, select
from timeline import _machine_speed  # bench/timeline.py, beside this script

from campaign.intake.fact_sheet import import_facts
from campaign.intake.member_roster import import_members
from campaign.reconcile import reconcile
from campaign.roster_follow import MOVE
from campaign.status import campaign_status
from devtools.generate import generate, load_organisation
from models.audit import AuditEvent
from models.db import make_engine, migrate, transaction
from models.views import RunResult

MOVED_FROM, IMPORTED_ON = "15/05/2023", dt.date(2023, 5, 16)


def _moved_roster(members: Path, out: Path, share: float, seed: int) -> tuple[Path, int]:
    """The roster with `share` of its active members moved to another unit that holds members,
    each moved row dated `MOVED_FROM`; the file and how many moved."""
    with members.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header, rows = next(reader), list(reader)
    holders = sorted({row[2] for row in rows})
    active = [i for i, row in enumerate(rows) if row[5] in ("", "active")]
    chosen = random.Random(seed).sample(active, int(len(active) * share))
    moving = set(chosen)
    lines = []
    for i, row in enumerate(rows):
        since = ""
        if i in moving:
            others = [u for u in random.Random(i).sample(holders, 2) if u != row[2]]
            row = [row[0], row[1], others[0], *row[3:]]
            since = MOVED_FROM
        lines.append([*row, since])
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*header, "since"])
        writer.writerows(lines)
    return out, len(chosen)


def _timed(label: str, work: Callable[[], object]) -> float:
    """Run `work`, print its seconds and what it returned under `label`; return the seconds."""
    started = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - started
    print(f"{label:<48} {seconds:7.2f} s  {result}")
    return seconds


def main() -> None:
    """Load and run the province, then time the moved roster's import and the next run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=200_000)
    parser.add_argument("--moved", type=float, default=0.02, help="share of members moved")
    args = parser.parse_args()
    print(f"{'machine: 10M-iteration Python loop':<48} {_machine_speed():7.2f} s")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        files = generate(args.members, root / "data", seed=1, plan_code="BENCH")
        engine = make_engine(f"sqlite:///{root / 'bench.db'}")
        migrate(engine)

        def load() -> str:
            load_organisation(engine, files, on=dt.date(2023, 1, 30))
            with transaction(engine) as session:
                today = dt.date(2026, 1, 1)
                done = import_facts(
                    "BENCH", files.facts, session=session, actor="bench", today=today
                )
            return f"{done.recorded:,} facts"

        def run(day: str) -> Callable[[], str]:
            return lambda: _ran(reconcile(engine, "BENCH", dt.date.fromisoformat(day), "bench")[0])

        _timed(f"load {args.members:,} members and the facts", load)
        _timed("run on 01/02/2023 (deploys the plan)", run("2023-02-01"))
        _timed("run on 12/05/2023", run("2023-05-12"))
        roster, moved = _moved_roster(files.members, root / "moved.csv", args.moved, seed=2)

        def reimport() -> str:
            with transaction(engine) as session:
                summary = import_members(roster, session=session, on=IMPORTED_ON, actor="bench")
            return f"{summary.updated:,} updated, {summary.unchanged:,} unchanged"

        _timed(f"re-import the roster, {moved:,} members moved", reimport)
        _timed("next run, on 16/05/2023 (obligations follow)", run("2023-05-16"))
        print(f"{'obligations moved':<48} {_moves(engine):>9,}")
        _timed("status on the roster of 16/05/2023", lambda: _status(engine))
    print(f"{'machine: the same loop, at the end':<48} {_machine_speed():7.2f} s")


def _ran(run: RunResult) -> str:
    return f"{run.transitions:,} transitions, {len(run.notices):,} notices"


def _moves(engine: Engine) -> int:
    with transaction(engine) as session:
        return session.scalar(select(func.count()).where(AuditEvent.trigger == MOVE)) or 0


def _status(engine: Engine) -> str:
    with transaction(engine) as session:
        status = campaign_status(session, "BENCH", branches=False)
    target = status.targets.members_self_assessed
    return f"{target.done:,}/{target.eligible:,} self-assessed"


if __name__ == "__main__":
    main()
