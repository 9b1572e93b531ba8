"""Runs that cannot collide, and nothing a crash can lose (issue 20, findings 1, 2, 3, 9, 11).

Runs started together are real `campaign run` processes; a killed run is a real process killed
with SIGKILL (its whole process group) as a chosen task ends, told by the flow's own observer of
its progress; every outcome is compared with an uninterrupted reference run of the same town."""

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.events.filters import EventFilter, EventNameFilter, EventRelatedFilter
from prefect.settings import PREFECT_API_URL
from sqlalchemy import Engine, func, select, text

from campaign.lock import campaign_lock
from campaign.run_record import list_runs
from flows.campaign_flow import campaign_flow, run_campaign
from models.campaigns import get_campaign
from models.db import make_engine, migrate, transaction
from models.documents import Document
from models.errors import OutOfScope
from models.settings import get_settings
from states.conditions import FireContext
from states.engine import fire_many
from states.obligation import OBLIGATION
from tests.cli_process import CAMPAIGN
from tests.scenario import ON_TIME, RECORDED_LATE, REPORTS, end_state, record_facts, run_flow
from tests.town import load_town


def _env(database_url: str, **extra: str) -> dict[str, str]:
    """A child process's environment: this session's Prefect server, the test's database."""
    return {
        **os.environ,
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "CAMPAIGN_DATABASE_URL": database_url,
        "COLUMNS": "200",
        **extra,
    }


def _start(database_url: str, day: str, **extra: str) -> subprocess.Popen[str]:
    """`campaign run T23 --as-of DAY`, started and left running."""
    return subprocess.Popen(
        [CAMPAIGN, "run", "T23", "--as-of", day, "--actor", "tester"],
        env=_env(database_url, **extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _together(database_url: str, *days: str) -> list[tuple[int, str]]:
    """Runs at `days` started at once; each one's exit code and error output (the second
    waits as long as the first may take on a loaded machine)."""
    runs = [_start(database_url, day, CAMPAIGN_RUN_LOCK_WAIT_SECONDS="170") for day in days]
    errors = [run.communicate(timeout=180)[1] for run in runs]
    return [(run.returncode, err) for run, err in zip(runs, errors, strict=True)]


@pytest.fixture
def reference(tmp_path: Path) -> Iterator[Any]:
    """Uninterrupted runs of the same town at the given dates, in a SQLite file of their own:
    the end state (obligations, audit as a multiset) and the notices issued at each date."""
    engines: list[Engine] = []

    def outcome(*days: str) -> tuple[Any, dict[str, set[str]]]:
        folder = tmp_path / f"reference-{len(engines)}"
        folder.mkdir()
        engine = make_engine(f"sqlite:///{folder / 'c.db'}")
        engines.append(engine)
        migrate(engine)
        load_town(engine, folder)
        record_facts(engine, folder, "on-time.csv", ON_TIME)
        for day in days:
            run_flow(engine, day)
        return end_state(engine), _notices(engine)

    yield outcome
    for engine in engines:
        engine.dispose()


def _notices(engine: Engine) -> dict[str, set[str]]:
    """The notices stored, by date issued."""
    with transaction(engine) as session:
        rows = session.execute(select(Document.issued_on, Document.key)).all()
    found: dict[str, set[str]] = {}
    for day, key in rows:
        found.setdefault(day.isoformat(), set()).add(key)
    return found


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_two_runs_of_one_date_at_once_work_once(
    town: Engine, tmp_path: Path, reference: Any
) -> None:
    """Finding 1: the second waits for the first, then finds nothing left to do."""
    record_facts(town, tmp_path, "on-time.csv", ON_TIME)
    run_flow(town, "2023-02-01")
    ran = _together(_url(town), "2023-05-12", "2023-05-12")
    assert [code for code, _ in ran] == [0, 0], ran
    states, events = end_state(town)
    assert not [e for e, n in Counter(events).items() if n > 1], "a transition was taken twice"
    assert (states, events) == reference("2023-02-01", "2023-05-12")[0]
    with transaction(town) as session:
        runs = list_runs(session, "T23")
    assert [r.transitions for r in runs[1:]].count(0) == 1, "the second run had nothing to do"


def test_runs_at_two_dates_at_once_end_as_one_reference(
    town: Engine, tmp_path: Path, reference: Any
) -> None:
    """Finding 2: 20/05 and 27/05 together end as 20/05 then 27/05, or (the 27/05 run first)
    as 27/05 alone with the 20/05 run refused as going back in time; never interleaved."""
    record_facts(town, tmp_path, "on-time.csv", ON_TIME)
    run_flow(town, "2023-02-01")
    (early, early_err), (late, late_err) = _together(_url(town), "2023-05-20", "2023-05-27")
    assert late == 0, late_err
    if early == 0:
        expected = reference("2023-02-01", "2023-05-20", "2023-05-27")
    else:
        assert early == 1 and "would go back in time" in early_err, early_err
        expected = reference("2023-02-01", "2023-05-27")
    assert (end_state(town), _notices(town)) == expected
    with transaction(town) as session:
        assert get_campaign(session, "T23").last_run_on == dt.date(2023, 5, 27)


@contextmanager
def _held_elsewhere(town: Engine) -> Iterator[None]:
    """Campaign T23's run lock held, as of 20/05, by another holder (a thread of this process,
    as a run in another process would) for the block."""
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with campaign_lock(town, "T23", dt.date(2023, 5, 20), wait=0):
            held.set()
            release.wait(60)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(10)
        yield
    finally:
        release.set()
        holder.join()


def test_a_run_while_another_holds_the_campaign_is_refused_after_waiting(
    town: Engine, tmp_path: Path
) -> None:
    """The lock of a run in another process (here a thread of this one) holds off the CLI,
    which waits `run_lock_wait_seconds` and says who holds it; one `error:` line, exit 1."""
    with _held_elsewhere(town):
        started = time.monotonic()
        run = _start(_url(town), "2023-05-21", CAMPAIGN_RUN_LOCK_WAIT_SECONDS="1")
        _, err = run.communicate(timeout=120)
    assert run.returncode == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "error: campaign T23 is being run by another process since "
    ), err
    assert lines[0].endswith("(run as of 20/05/2023); try again when it ends")
    assert time.monotonic() - started >= 1
    with transaction(town) as session:
        assert list_runs(session, "T23") == [], "the refused run recorded nothing"


def test_the_flow_itself_takes_the_lock(town: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A deployment's run (the flow, not the CLI) is held off too."""
    monkeypatch.setenv("CAMPAIGN_RUN_LOCK_WAIT_SECONDS", "0.5")
    get_settings.cache_clear()
    try:
        with (
            _held_elsewhere(town),
            pytest.raises(OutOfScope, match="is being run by another process"),
        ):
            campaign_flow("T23", dt.date(2023, 5, 21), "tester", _url(town))
    finally:
        get_settings.cache_clear()
    run_flow(town, "2023-05-21")  # the lock is free again


def test_a_row_moved_meanwhile_is_not_moved_again(town: Engine) -> None:
    """Finding 1's root, with the lock bypassed: two transactions fire the same trigger on the
    same rows; the second, blocked until the first commits, moves nothing (on PostgreSQL's
    READ COMMITTED the old state in the subquery alone was not checked again)."""
    run_flow(town, "2023-02-01")
    with transaction(town) as session:
        campaign_id = get_campaign(session, "T23").id
    ctx = FireContext(actor="tester", as_of=dt.date(2023, 12, 31), campaign_id=campaign_id)
    where = OBLIGATION.table.c.campaign_id == campaign_id
    moved: list[int] = []

    def second() -> None:
        with transaction(town) as session:
            moved.append(fire_many(session, OBLIGATION, "lapse", ctx=ctx, where=where))

    with transaction(town) as session:
        moved.append(fire_many(session, OBLIGATION, "lapse", ctx=ctx, where=where))
        other = threading.Thread(target=second)
        other.start()
        time.sleep(1.5)  # the second is now waiting on the first's rows (or its write lock)
    other.join()
    assert moved[0] > 0 and moved[1] == 0


KILLER = """
import datetime as dt, os, signal, sys
from flows.campaign_flow import run_campaign

def kill_after(task: str, total: int) -> None:
    if task == sys.argv[3]:
        os.killpg(os.getpgid(0), signal.SIGKILL)

run_campaign("T23", dt.date.fromisoformat(sys.argv[2]), actor="tester",
             database_url=sys.argv[1], progress=kill_after)
"""


def _killed_after(database_url: str, day: str, task: str) -> None:
    """A run at `day` in a process of its own, killed with its process group (SIGKILL) as soon
    as its task `task` has ended."""
    run = subprocess.run(
        [sys.executable, "-c", KILLER, database_url, day, task],
        env=_env(database_url),
        capture_output=True,
        text=True,
        timeout=180,
        start_new_session=True,
        check=False,
    )
    assert run.returncode == -signal.SIGKILL, run.stderr


def _announced(flow_run: str, notices: int) -> Counter[str]:
    """How many times each notice's document is named by the events a flow run emitted."""
    found: Counter[str] = Counter()
    deadline = time.monotonic() + 60  # the server persists events in batches
    with get_client(sync_client=True) as client:
        while sum(found.values()) < notices and time.monotonic() < deadline:
            time.sleep(0.5)
            events = client.read_events(
                EventFilter(
                    event=EventNameFilter(prefix=["campaign.obligation."]),
                    related=EventRelatedFilter(id=[f"prefect.flow-run.{flow_run}"]),
                ),
                limit=50,
            ).events
            found = Counter(str(e.payload["document"]) for e in events)
    return found


def _flow_run_state(flow_run_id: str) -> str:
    with get_client(sync_client=True) as client:
        state = client.read_flow_run(uuid.UUID(flow_run_id)).state
    assert state is not None
    return str(state.type.value)


@pytest.mark.parametrize("then", ["2023-05-21", "2023-05-20"], ids=["next-day", "same-day"])
def test_notices_of_a_run_killed_before_issuing_them_come_with_the_next_run(
    town: Engine, tmp_path: Path, reference: Any, then: str
) -> None:
    """Finding 3, the skip-ahead trial: a run killed between the deadline sweep and the
    notices, then the next day's run (or the killed date's again): every notice of the killed
    date issued and announced exactly once, the end state the uninterrupted one; findings 11
    and `campaign runs`: the killed run is listed unfinished, its Prefect flow run then marked
    crashed."""
    record_facts(town, tmp_path, "on-time.csv", ON_TIME)
    run_flow(town, "2023-02-01")
    _killed_after(_url(town), "2023-05-20", "reconcile-owner")
    assert "2023-05-20" not in _notices(town), "killed before issuing"
    listed = subprocess.run(
        [CAMPAIGN, "runs", "T23", "--format", "json"],
        env=_env(_url(town)),
        capture_output=True,
        text=True,
        check=True,
    )
    killed = json.loads(listed.stdout)[-1]
    assert (killed["as_of"], killed["unfinished"]) == ("2023-05-20", True)
    assert _flow_run_state(killed["flow_run_id"]) == "RUNNING"

    seen: list[str] = []  # what `campaign run`'s progress bar is told: its own run's tasks
    result = run_campaign(
        "T23",
        dt.date.fromisoformat(then),
        actor="tester",
        database_url=_url(town),
        progress=lambda task, total: seen.append(task),
    )
    assert len(seen) == 6 and seen[0] == "start-run"  # the town: one partition
    assert result.flow_run
    end, notices = reference("2023-02-01", "2023-05-20", then)
    assert (end_state(town), _notices(town)) == (end, notices)
    assert notices["2023-05-20"], "the killed date has notices to issue"
    every = notices["2023-05-20"] | notices.get(then, set())
    assert _announced(result.flow_run, len(every)) == Counter(every)
    with transaction(town) as session:
        runs = list_runs(session, "T23")
        pending = session.scalar(
            select(func.count()).where(Document.announced_at.is_(None)).select_from(Document)
        )
    assert not [r for r in runs if r.unfinished] and pending == 0
    assert _flow_run_state(killed["flow_run_id"]) == "CRASHED"


def test_notices_stored_but_not_announced_are_announced_by_the_next_run(
    town: Engine, tmp_path: Path, reference: Any
) -> None:
    """Finding 3's second half: a run killed after its documents were stored and the run
    recorded, before announcing: a re-run of the same date issues nothing new and announces
    them, once each."""
    record_facts(town, tmp_path, "on-time.csv", ON_TIME)
    run_flow(town, "2023-02-01")
    _killed_after(_url(town), "2023-05-20", "finish-run")
    notices = _notices(town)["2023-05-20"]
    again = run_flow(town, "2023-05-20")
    assert again.notices == []
    assert _announced(again.flow_run, len(notices)) == Counter(notices)
    assert (end_state(town), _notices(town)) == reference("2023-02-01", "2023-05-20")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_failing_task_is_one_error_line(town: Engine, tmp_path: Path) -> None:
    """Finding 9: a task that fails inside a run (here a database error) prints one `error:`
    line and exits 1, without Prefect's log and its tracebacks."""
    # What the terminal shows does not depend on the database: SQLite's is enough.
    with town.begin() as connection:
        connection.execute(text("PRAGMA foreign_keys=OFF"))
        connection.execute(text("DROP TABLE document"))
    run = _start(_url(town), "2023-05-20")
    out, err = run.communicate(timeout=180)
    assert run.returncode == 1
    assert err.strip().splitlines() == [
        "error: database: (sqlite3.OperationalError) no such table: document"
    ]
    assert "Traceback" not in out + err


def test_a_run_killed_as_the_campaign_closes_is_finished_at_its_date(
    town: Engine, tmp_path: Path
) -> None:
    """Found by bench/kill_trials.py: a run killed after closing the campaign, before
    announcing, left its notices unannounced for good, since a closed campaign refused every
    run. Run again at the date it closed, it changes nothing and announces what was left; a
    later date is refused as closed."""
    for name, facts in (("a.csv", ON_TIME), ("b.csv", RECORDED_LATE), ("c.csv", REPORTS)):
        record_facts(town, tmp_path, name, facts)
    run_flow(town, "2023-06-24")
    _killed_after(_url(town), "2023-06-30", "finish-run")
    with transaction(town) as session:
        assert get_campaign(session, "T23").state == "closed"
    again = run_flow(town, "2023-06-30")
    assert (again.state, again.transitions, again.notices) == ("closed", 0, [])
    with transaction(town) as session:
        unannounced = select(func.count()).where(Document.announced_at.is_(None))
        assert session.scalar(unannounced.select_from(Document)) == 0
    with pytest.raises(OutOfScope, match="is closed; nothing more to run"):
        run_flow(town, "2023-07-01")


def test_a_deployments_actor_is_checked_before_any_work(town: Engine) -> None:
    """Finding 8: a deployment's `actor` parameter is free text (a 100-character one failed
    the run inside a task on PostgreSQL): the flow refuses it by the CLI's rule before any
    work, and records nothing."""
    with pytest.raises(OutOfScope, match="is 100 characters long, at most 64"):
        campaign_flow("T23", dt.date(2023, 5, 20), "x" * 100, _url(town))
    with transaction(town) as session:
        assert list_runs(session, "T23") == []
