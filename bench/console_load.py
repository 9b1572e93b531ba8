"""The web console under load (issue 22's figures: the dashboard under 300 ms, a branch's page
under 100 ms, p95 under 1 s at 50 sessions, on this 2-core machine).

    .venv/bin/python bench/console_load.py --members 200000 [--repeat 30] [--sessions 50]
                                           [--rounds 5] [--workers 1] [--keep FILE]

Loads a generated province as bench/forecast_province.py does (units, members, plan, facts, runs
at 01/02 and 31/03/2023) and runs it on to 22/05 and 31/05/2023 (overdue and escalated units),
makes an operator account at the province, then starts the console as `campaign serve` does (the
real command, uvicorn in its own process) and, over HTTP: times the dashboard, a district's page
and a branch's page one request at a time (median, p95 of --repeat each, after one warm-up); then
the same pages under --sessions concurrent sessions (httpx async clients, each logged in),
--rounds of the three pages each. Prints the machine's speed before and after (bench/timeline.py's
probe)."""

import argparse
import asyncio
import datetime as dt
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from forecast_province import CODE, _load, _timed  # bench/, beside this script
from sqlalchemy import select
from timeline import _machine_speed

from campaign.access import add_account
from campaign.reconcile import reconcile
from models.accounts import Role
from models.db import make_engine, transaction
from models.units import Unit

ROOT = Path(__file__).resolve().parents[1]
LATER_RUNS = [dt.date(2023, 5, 22), dt.date(2023, 5, 31)]
LOGIN, PASSWORD = "bench.vp", "mat-khau-bench-console"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def _prepare(url: str, root: Path, members: int, *, load: bool) -> dict[str, str]:
    """The province loaded and run with the operator's account (if `load`); the addresses of
    the three pages."""
    if load:
        _load(url, root, members)
        engine = make_engine(url)
        for day in LATER_RUNS:
            _timed(f"reconcile as of {day}", lambda d=day: reconcile(engine, CODE, d, "bench"))
        with transaction(engine) as session:
            add_account(
                session,
                LOGIN,
                full_name="Văn phòng Tỉnh ủy",
                role=Role.operator,
                unit="TINH",
                password=PASSWORD,
            )
        engine.dispose()
    engine = make_engine(url)
    with transaction(engine) as session:
        district = session.scalar(
            select(Unit.code).where(Unit.kind == "district").order_by(Unit.code)
        )
        branch = session.scalar(
            select(Unit.code)
            .where(Unit.kind == "branch", Unit.code.startswith(f"{district}-"))
            .order_by(Unit.code)
        )
    engine.dispose()
    base = f"/campaigns/{CODE}"
    return {
        "dashboard": base,
        "district": f"{base}/units/{district}",
        "branch": f"{base}/units/{branch}",
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) of process `pid` and its children alive now (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat.parent.name) == pid or int(fields[1]) == pid:  # fields[1]: the parent
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


SERVER_PID: list[int] = []  # the served console's process, for its CPU seconds


@contextmanager
def _served_cpu() -> Iterator[None]:
    """Print the CPU seconds the console's processes spent in the block."""
    before = _cpu_seconds(SERVER_PID[-1])
    yield
    print(f"{'console CPU (server processes)':<40} {_cpu_seconds(SERVER_PID[-1]) - before:7.1f} s")


@contextmanager
def _served(url: str, workers: int) -> Iterator[str]:
    """`campaign serve` on `url` in its own process(es), until the block ends; its address."""
    port = _free_port()
    command = [str(Path(sys.executable).parent / "campaign"), "serve", "--port", str(port)]
    command += ["--workers", str(workers)]
    # The checkout first on the path: an editable install made before web/ existed lacks it.
    env = {**os.environ, "CAMPAIGN_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    SERVER_PID.append(server.pid)
    address = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, "campaign serve stopped"
            assert time.monotonic() < deadline, "campaign serve did not start"
            try:
                if httpx.get(f"{address}/login").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield address
    finally:
        server.terminate()
        server.wait(timeout=30)


async def _login(client: httpx.AsyncClient) -> None:
    token = _TOKEN.search((await client.get("/login")).text)
    assert token, "no CSRF token on /login"
    form = {"login": LOGIN, "password": PASSWORD, "csrf_token": token[1]}
    answer = await client.post("/login", data=form)
    assert answer.status_code == 303, f"login refused: {answer.status_code}"


async def _timed_get(client: httpx.AsyncClient, path: str) -> float:
    started = time.perf_counter()
    answer = await client.get(path)
    seconds = time.perf_counter() - started
    assert answer.status_code == 200, f"{path}: {answer.status_code}"
    return seconds


async def _one_at_a_time(
    address: str, pages: dict[str, str], repeat: int
) -> dict[str, list[float]]:
    """Each page `repeat` times, one request at a time, by one logged-in session."""
    seconds: dict[str, list[float]] = defaultdict(list)
    async with httpx.AsyncClient(base_url=address, timeout=600) as client:
        await _login(client)
        for name, path in pages.items():
            await _timed_get(client, path)  # warm-up: the first request fills caches
            for _ in range(repeat):
                seconds[name].append(await _timed_get(client, path))
    return seconds


async def _concurrent(
    address: str, pages: dict[str, str], sessions: int, rounds: int
) -> tuple[dict[str, list[float]], float]:
    """`sessions` logged-in sessions at once, each asking `rounds` times for the three pages;
    the seconds per page, and the wall time of the whole."""
    seconds: dict[str, list[float]] = defaultdict(list)
    limits = httpx.Limits(max_connections=sessions)
    clients = [
        httpx.AsyncClient(base_url=address, timeout=600, limits=limits) for _ in range(sessions)
    ]
    try:
        await asyncio.gather(*(_login(client) for client in clients))

        async def browse(client: httpx.AsyncClient) -> None:
            for _ in range(rounds):
                for name, path in pages.items():
                    seconds[name].append(await _timed_get(client, path))

        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(browse(client) for client in clients))
        wall = time.perf_counter() - started
        # The load is made on the same 2 cores: say how much of them the clients took.
        print(f"{'load generator CPU (the clients)':<40} {time.process_time() - cpu:7.1f} s")
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    return seconds, wall


def _p95(values: list[float]) -> float:
    return (
        statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]
    )


def _report(label: str, seconds: dict[str, list[float]]) -> None:
    for name, values in seconds.items():
        print(
            f"{label + ' ' + name:<40} {statistics.median(values) * 1000:7.0f} ms median, "
            f"{_p95(values) * 1000:6.0f} ms p95, {max(values) * 1000:6.0f} ms max"
            f"  (n={len(values)})"
        )


def main() -> None:
    """Load the province, serve it, time the pages."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=1, help="`campaign serve --workers`")
    parser.add_argument(
        "--keep",
        type=Path,
        help="a SQLite file for the province: loaded if missing, reused if present",
    )
    args = parser.parse_args()
    print(f"{'machine: 10M-iteration Python loop':<40} {_machine_speed():7.2f} s")
    with tempfile.TemporaryDirectory() as folder:
        database = args.keep or Path(folder) / "bench.db"
        url = f"sqlite:///{database.resolve()}"
        pages = _prepare(url, Path(folder), args.members, load=not database.exists())
        print("pages: " + ", ".join(f"{name} {path}" for name, path in pages.items()))
        with _served(url, args.workers) as address:
            _report("one at a time:", asyncio.run(_one_at_a_time(address, pages, args.repeat)))
            with _served_cpu():
                concurrent = _concurrent(address, pages, args.sessions, args.rounds)
                seconds, wall = asyncio.run(concurrent)
            _report(f"{args.sessions} sessions:", seconds)
            requests = sum(len(values) for values in seconds.values())
            print(
                f"{f'{args.sessions} sessions: all requests':<40} {requests:7,} in {wall:.1f} s"
                f"  ({requests / wall:.1f} per second)"
            )
    print(f"{'machine: the same loop, at the end':<40} {_machine_speed():7.2f} s")


if __name__ == "__main__":
    main()
