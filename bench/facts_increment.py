"""Time a day's facts file on a campaign that already holds a province's facts.

    .venv/bin/python bench/facts_increment.py --members 200000

Generates the province, imports its units, members and every fact of the 2023 timeline, then
imports a small file of the kind a district sends on an ordinary day (activities of 1,000
branches, 200 screening cases opened) and the same file again (all of it already recorded).
What it measures is what the operator waits for daily: it must grow with the file, not with the
campaign's stored facts or the roster."""

import argparse
import csv
import datetime as dt
import tempfile
import time
from pathlib import Path

from campaign.exports import csv_rows
from campaign.intake.fact_sheet import import_facts
from devtools.generate import generate, load_organisation
from models.db import make_engine, migrate, transaction


def _day_file(files_dir: Path, units: Path, facts: Path, branches: int, opened: int) -> Path:
    """Activities of `branches` branches and screening cases of `opened` members who have none."""
    with units.open(encoding="utf-8-sig", newline="") as handle:
        branch_codes = [r["code"] for r in csv.DictReader(handle) if r["kind"] == "branch"]
    screened: set[str] = set()
    assessed: list[tuple[str, str]] = []
    with facts.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["kind"].startswith("screening"):
                screened.add(row["member"])
            elif row["kind"] == "self_assessment_accepted":
                assessed.append((row["unit"], row["member"]))
    members = [(u, m) for u, m in assessed if m not in screened][:opened]
    path = files_dir / "day.csv"
    rows = [
        ["2023-04-01", "activity_held", code, "", "Hội thảo chuyên đề"]
        for code in branch_codes[:branches]
    ]
    rows += [["2023-04-02", "screening_opened", unit, member, ""] for unit, member in members]
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv_rows(handle, ["date", "kind", "unit", "member", "note"], rows)
    return path


def main() -> None:
    """Load the province, then time the day's file twice."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        files = generate(args.members, root / "data", seed=1, plan_code="BENCH")
        engine = make_engine(f"sqlite:///{root / 'bench.db'}")
        migrate(engine)
        today = dt.date(2026, 1, 1)
        load_organisation(engine, files, on=dt.date(2023, 1, 30))
        started = time.perf_counter()
        with transaction(engine) as session:
            whole = import_facts("BENCH", files.facts, session=session, actor="bench", today=today)
        print(
            f"{'the timeline facts file':<34} {time.perf_counter() - started:7.2f} s  "
            f"{whole.recorded:,} recorded"
        )
        day = _day_file(root / "data", files.units, files.facts, branches=1_000, opened=200)
        for label in ("a day's file", "the same file again"):
            started = time.perf_counter()
            with transaction(engine) as session:
                summary = import_facts("BENCH", day, session=session, actor="bench", today=today)
            print(
                f"{label:<34} {time.perf_counter() - started:7.2f} s  {summary.rows:,} rows, "
                f"{summary.recorded:,} recorded, {summary.already_recorded:,} already recorded"
            )


if __name__ == "__main__":
    main()
