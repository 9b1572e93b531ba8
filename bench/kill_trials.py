"""Kill-anywhere trials: a run killed at a random moment, then run again, ends exactly where an
uninterrupted run ends (issue 20).

    .venv/bin/python bench/kill_trials.py --backend sqlite --trials 50
    .venv/bin/python bench/kill_trials.py --backend postgresql --trials 20
    .venv/bin/python bench/kill_trials.py --backend sqlite --trials 10 --skip-ahead

Generates a town, loads it with every fact, and runs the 2023 timeline once through the real
CLI (`campaign run`, a subprocess against one local Prefect server): the reference, with a
snapshot of the database before and the fingerprint of it after each date. Each trial restores
the snapshot before a random date, starts `campaign run` at that date in its own process group,
sends SIGKILL to the whole group at a random moment of its work (a delay after its start is
recorded, within the reference run's work at that date), then runs the same date again (with
`--skip-ahead`, the next date instead, as the daily schedule would) and compares the database
with the reference: the audit trail's transitions as a multiset, the rows of every table the
runs write, every notice announced. It prints, per trial, what was lost and what was duplicated
(both must be 0) and whether `audit verify` passed after the kill and after the re-run."""

import argparse
import datetime as dt
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, inspect, select, text

from campaign.intake.fact_sheet import import_facts
from devtools.demo import TIMELINE
from devtools.generate import generate, load_organisation
from flows.prefect_server import local_prefect_server, wait_healthy
from models.audit import AuditEvent
from models.db import make_engine, migrate, transaction
from models.errors import AuditBroken
from models.obligations import Obligation
from models.runs import Run
from states.audit_chain import verify_chain

CODE = "KILL"
DATES = [day for day, _ in TIMELINE]  # the dates that matter, as the demo runs them
# Columns that differ between two equal outcomes: surrogate keys (PostgreSQL's sequences move
# on in a rolled-back insert), wall-clock times, and the random id of a notice's Prefect event.
VOLATILE = {
    "id",
    "seq",
    "recorded_at",
    "prev_hash",
    "hash",
    "started_at",
    "finished_at",
    "event_id",
}
# Tables compared row by row (the run table is bookkeeping: a killed run leaves its record).
SKIPPED = {"audit_event", "audit_head", "run", "alembic_version"}

Fingerprint = dict[str, Counter[tuple[Any, ...]]]


class Store:
    """The trials' databases on one backend: snapshots to restore and a working copy."""

    def url(self, name: str) -> str:
        raise NotImplementedError

    def copy(self, source: str, target: str) -> None:
        raise NotImplementedError


class SqliteStore(Store):
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def url(self, name: str) -> str:
        return f"sqlite:///{self.folder / name}.db"

    def copy(self, source: str, target: str) -> None:
        for suffix in ("-wal", "-shm"):
            (self.folder / f"{target}.db{suffix}").unlink(missing_ok=True)
        engine = make_engine(self.url(source))
        engine.dispose()  # the last connection checkpoints the WAL into the file
        shutil.copy(self.folder / f"{source}.db", self.folder / f"{target}.db")


class PostgresStore(Store):
    def __init__(self, admin_url: str) -> None:
        from sqlalchemy import make_url

        self.admin_url = make_url(admin_url)
        self.admin = make_engine(admin_url).execution_options(isolation_level="AUTOCOMMIT")

    def url(self, name: str) -> str:
        return self.admin_url.set(database=name).render_as_string(hide_password=False)

    def copy(self, source: str, target: str) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{target}" TEMPLATE "{source}"'))


@contextmanager
def open_store(backend: str, folder: Path) -> Iterator[Store]:
    """The store of the chosen backend (PostgreSQL: a throwaway cluster)."""
    if backend == "sqlite":
        yield SqliteStore(folder)
        return
    from devtools.postgres import throwaway_cluster

    with throwaway_cluster() as admin_url:
        store = PostgresStore(admin_url)
        with store.admin.connect() as connection:
            connection.execute(text('CREATE DATABASE "base"'))
        yield store


def load_base(store: Store, folder: Path, members: int, seed: int) -> None:
    """The town, its roster, the plan and every fact of the timeline, before any run."""
    files = generate(members, folder / "data", seed=seed, shape="town", plan_code=CODE)
    engine = make_engine(store.url("base"))
    migrate(engine)
    load_organisation(engine, files, on=dt.date(2023, 1, 30))
    with transaction(engine) as session:
        import_facts(CODE, files.facts, session=session, actor="bench", today=dt.date(2023, 12, 31))
    engine.dispose()


def campaign_run(url: str, day: str) -> subprocess.Popen[bytes]:
    """`campaign run` at `day` in a process group of its own (so a kill reaches Prefect's
    children too)."""
    command = [str(Path(sys.executable).parent / "campaign"), "run", CODE, "--as-of", day]
    env = {**os.environ, "CAMPAIGN_DATABASE_URL": url}
    return subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def runs_at(url: str, day: str) -> int:
    """How many runs at `day` are recorded, finished or not (read without taking SQLite's write
    lock, so the run watched is not slowed by the watching)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            as_of = dt.date.fromisoformat(day)
            query = select(func.count()).select_from(Run).where(Run.as_of == as_of)
            return int(connection.execute(query).scalar() or 0)
    finally:
        engine.dispose()


def watch(url: str, day: str) -> tuple[subprocess.Popen[bytes], float]:
    """Start a run at `day`; return it once its start is recorded (or it ended), with the
    moment (perf_counter) it was seen recorded."""
    before = runs_at(url, day)
    process = campaign_run(url, day)
    while process.poll() is None and runs_at(url, day) == before:
        time.sleep(0.05)
    return process, time.perf_counter()


def run_to_end(url: str, day: str) -> float:
    """Run the campaign at `day`; returns the seconds of its work (from its start recorded to
    its end); fails loudly if the run fails."""
    process, recorded_at = watch(url, day)
    _, err = process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"campaign run {day} failed ({process.returncode}): {err.decode()}")
    return time.perf_counter() - recorded_at


def kill_during(url: str, day: str, delay: float) -> bool:
    """Start a run at `day` and SIGKILL its whole process group `delay` s after its start is
    recorded; True if the run was still going when killed."""
    process, _ = watch(url, day)
    try:
        process.wait(timeout=delay)
        return False
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return True


def fingerprint(url: str) -> Fingerprint:
    """What two equal outcomes share: every table's rows without surrogate keys and clocks,
    the audit trail as a multiset of transitions, and whether each notice was announced."""
    engine = make_engine(url)
    try:
        with transaction(engine) as session:
            found: Fingerprint = {}
            schema = inspect(session.connection())
            for table in sorted(set(schema.get_table_names()) - SKIPPED):
                columns = [c["name"] for c in schema.get_columns(table)]
                kept = [c for c in columns if c not in VOLATILE]
                quoted = ", ".join(f'"{c}"' for c in kept)  # `window` is a keyword
                rows = session.execute(text(f'SELECT {quoted} FROM "{table}"'))
                found[table] = Counter(
                    tuple(_plain(c, v) for c, v in zip(kept, row, strict=True)) for row in rows
                )
            found["audit (transitions)"] = _transitions(session)
            return found
    finally:
        engine.dispose()


def _plain(column: str, value: Any) -> Any:
    """A value comparable across runs: when a notice was announced as whether it was, JSON as
    sorted text."""
    if column == "announced_at":
        return value is not None
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return value


def _transitions(session: Any) -> Counter[tuple[Any, ...]]:
    """The audit events as a multiset; an obligation named by its kind and window, not its id."""
    obligations = {
        row.id: (row.kind, row.window, str(row.due))
        for row in session.execute(
            select(Obligation.id, Obligation.kind, Obligation.window, Obligation.due)
        )
    }
    events = session.execute(
        select(
            AuditEvent.entity,
            AuditEvent.entity_id,
            AuditEvent.unit_id,
            AuditEvent.member_id,
            AuditEvent.trigger,
            AuditEvent.from_state,
            AuditEvent.to_state,
            AuditEvent.at,
            AuditEvent.actor,
        )
    )
    return Counter(
        (e.entity, obligations.get(e.entity_id) if e.entity == "obligation" else None, *e[2:])
        for e in events
    )


def compare(reference: Fingerprint, trial: Fingerprint) -> tuple[int, int, list[str]]:
    """(rows lost, rows duplicated or extra, what differs) of a trial against the reference."""
    lost = extra = 0
    where = []
    for table in sorted(set(reference) | set(trial)):
        missing = reference.get(table, Counter()) - trial.get(table, Counter())
        added = trial.get(table, Counter()) - reference.get(table, Counter())
        lost, extra = lost + sum(missing.values()), extra + sum(added.values())
        if missing or added:
            sample = next(iter(missing or added))
            where.append(f"{table}: -{sum(missing.values())} +{sum(added.values())} e.g. {sample}")
    return lost, extra, where


def chain_holds(url: str) -> bool:
    """`audit verify`: the whole chain recomputes and the head row agrees."""
    engine = make_engine(url)
    try:
        with transaction(engine) as session:
            verify_chain(session)
        return True
    except AuditBroken:
        return False
    finally:
        engine.dispose()


@dataclass
class Reference:
    """The uninterrupted timeline: each date's seconds of work (from its start recorded) and the
    fingerprint after it; and, made when a trial needs one, the fingerprint of a date skipped
    (the next date run straight from the snapshot before it): what a kill before the run was
    recorded amounts to."""

    seconds: list[float]
    after: list[Fingerprint]
    skipped: dict[int, Fingerprint] = field(default_factory=dict)

    def skipping(self, store: Store, index: int) -> Fingerprint:
        """The outcome of running date `index + 1` with date `index` never run."""
        if index not in self.skipped:
            store.copy(f"before-{index}", "skipped")
            run_to_end(store.url("skipped"), DATES[index + 1])
            self.skipped[index] = fingerprint(store.url("skipped"))
        return self.skipped[index]


def reference_timeline(store: Store) -> Reference:
    """Run every date once, keeping a snapshot before each (`before-<i>`)."""
    store.copy("base", "ref")
    seconds, after = [], []
    for index, day in enumerate(DATES):
        store.copy("ref", f"before-{index}")
        seconds.append(run_to_end(store.url("ref"), day))
        after.append(fingerprint(store.url("ref")))
        print(f"reference {day}: {seconds[-1]:5.2f} s", flush=True)
    return Reference(seconds, after)


def trial(store: Store, ref: Reference, rng: random.Random, skip_ahead: bool) -> dict[str, Any]:
    """One kill at a random moment of a random date, then the re-run; what it lost or doubled."""
    last = len(DATES) - 2 if skip_ahead else len(DATES) - 1
    index = rng.randint(0, last)
    delay = rng.uniform(0.0, ref.seconds[index])
    store.copy(f"before-{index}", "trial")
    url = store.url("trial")
    killed = kill_during(url, DATES[index], delay)
    verified_after_kill = chain_holds(url)
    # A run killed before its start was recorded never happened: skipping ahead then skips it.
    started = runs_at(url, DATES[index]) > 0  # recorded, finished or not
    follow = index + 1 if skip_ahead else index
    run_to_end(url, DATES[follow])
    expected = ref.after[follow] if started or not skip_ahead else ref.skipping(store, index)
    lost, extra, where = compare(expected, fingerprint(url))
    return {
        "date": DATES[index],
        "then": DATES[follow],
        "delay": delay,
        "killed": killed,
        "started": started,
        "verified": verified_after_kill and chain_holds(url),
        "lost": lost,
        "duplicated": extra,
        "where": where,
    }


def main() -> None:
    """Run the reference, then the trials, and print every trial and the totals."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--skip-ahead",
        action="store_true",
        help="after the kill, run the next date instead of the same one (the daily schedule)",
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as name, open_store(args.backend, Path(name)) as store:
        folder = Path(name)
        with local_prefect_server(folder / "prefect", ready=False) as api:
            load_base(store, folder, args.members, args.seed)
            wait_healthy(api)
            ref = reference_timeline(store)
            results = [
                _report(trial(store, ref, rng, args.skip_ahead), n) for n in range(args.trials)
            ]
    _totals(args, results, time.perf_counter() - started)


def _report(result: dict[str, Any], number: int) -> dict[str, Any]:
    print(
        f"trial {number + 1:3}: killed {result['date']} after {result['delay']:5.2f} s"
        f"{'' if result['killed'] else ' (had finished)'}"
        f"{'' if result['started'] else ' (before its run was recorded)'}, "
        f"then ran {result['then']}: "
        f"lost {result['lost']}, duplicated {result['duplicated']}, "
        f"audit verify {'passed' if result['verified'] else 'FAILED'}",
        flush=True,
    )
    for line in result["where"][:5]:
        print(f"           {line}")
    return result


def _totals(args: argparse.Namespace, results: list[dict[str, Any]], seconds: float) -> None:
    total: Callable[[str], int] = lambda key: sum(int(r[key]) for r in results)  # noqa: E731
    bad = sum(1 for r in results if r["lost"] or r["duplicated"] or not r["verified"])
    print(
        f"\n{args.backend}: {len(results)} trials ({total('killed')} killed mid-run, "
        f"{total('started')} after their run was recorded), "
        f"{'skip-ahead' if args.skip_ahead else 'same date'}; rows lost {total('lost')}, "
        f"duplicated {total('duplicated')}; audit verify failed in "
        f"{sum(not r['verified'] for r in results)}; trials differing from the reference: {bad}; "
        f"{seconds:.0f} s"
    )


if __name__ == "__main__":
    main()
