"""Time the import of a generated roster, with the importing process's peak RSS (issue 2's
figure; issue 23's bounded memory).

.venv/bin/python bench/import_members.py --members 200000
.venv/bin/python bench/import_members.py --members 200000 --backend postgresql

The files are generated and the units imported by a child process first, so the peak RSS
printed (ru_maxrss, the largest the process ever was) is the members imports' own. On
PostgreSQL the database is a throwaway cluster of its own (devtools.postgres).
"""

import argparse
import multiprocessing
import resource
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from campaign.intake.member_roster import import_members
from campaign.intake.unit_tree import import_units
from devtools.generate import generate
from models.db import make_engine, migrate, transaction


def _cpu() -> float:
    """This process's CPU seconds so far (user and system): steadier than the wall time on a
    machine shared with other work; the database server's own CPU is not in it."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_mib() -> float:
    """This process's peak resident set so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def _database(backend: str, root: Path) -> Iterator[str]:
    """The URL of an empty database: a SQLite file in `root`, or a throwaway PostgreSQL."""
    if backend == "sqlite":
        yield f"sqlite:///{root / 'bench.db'}"
        return
    from sqlalchemy import create_engine, make_url, text

    from devtools.postgres import throwaway_cluster

    with throwaway_cluster() as admin_url:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("CREATE DATABASE bench"))
        admin.dispose()
        yield make_url(admin_url).set(database="bench").render_as_string(hide_password=False)


def _prepare(members: int, data: Path, seed: int, url: str) -> None:
    """Generate the files, create the schema and import the units (in a child process)."""
    generate(members, data, seed=seed)
    engine = make_engine(url)
    migrate(engine)
    started = time.perf_counter()
    with transaction(engine) as session:
        units = import_units(data / "units.csv", session=session)
    print(f"import {units.created:,} units: {time.perf_counter() - started:.2f} s", flush=True)
    engine.dispose()


def main() -> None:
    """Generate and import the units in a child process, then import the members twice here,
    printing each step's seconds and this process's peak RSS."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        with _database(args.backend, root) as url:
            started = time.perf_counter()
            child = multiprocessing.get_context("spawn").Process(
                target=_prepare, args=(args.members, root / "data", args.seed, url)
            )
            child.start()
            child.join()
            print(
                f"generate {args.members:,} members (child process): "
                f"{time.perf_counter() - started:.2f} s"
            )
            print(f"peak RSS before the members: {_peak_mib():,.0f} MiB")
            _imports(url, root / "data", args.backend)


def _imports(url: str, data: Path, backend: str) -> None:
    engine = make_engine(url)
    units_done, cpu = time.perf_counter(), _cpu()
    with transaction(engine) as session:
        summary = import_members(data / "members.csv", session=session, on=date(2023, 1, 30))
    members_done, cpu_done = time.perf_counter(), _cpu()
    seconds = members_done - units_done
    print(
        f"import {summary.created:,} members ({backend}): {seconds:.2f} s "
        f"({summary.created / seconds:,.0f} rows/s), {cpu_done - cpu:.2f} s CPU; "
        f"peak RSS {_peak_mib():,.0f} MiB"
    )
    with transaction(engine) as session:
        again = import_members(data / "members.csv", session=session, on=date(2023, 1, 31))
    reimported = time.perf_counter()
    print(
        f"re-import unchanged ({again.unchanged:,} unchanged): "
        f"{reimported - members_done:.2f} s, {_cpu() - cpu_done:.2f} s CPU; "
        f"peak RSS {_peak_mib():,.0f} MiB"
    )
    engine.dispose()


if __name__ == "__main__":
    main()
