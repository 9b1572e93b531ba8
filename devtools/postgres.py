"""A throwaway PostgreSQL cluster for the test session, started from the installed binaries."""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _bindir() -> Path | None:
    if found := shutil.which("pg_ctl"):
        return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_as_owner(args: list[str]) -> None:
    # initdb and postgres refuse to run as root: run them as the `postgres` system user then.
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--", *args]
    subprocess.run(args, check=True, capture_output=True, text=True)


@contextmanager
def throwaway_cluster() -> Iterator[str]:
    """Start a cluster in a temporary folder; yield its admin URL; stop and remove it."""
    bindir = _bindir()
    if bindir is None:
        raise RuntimeError(
            "PostgreSQL binaries not found: install Debian's `postgresql` package "
            "(`.ci/run` does) or set CAMPAIGN_TEST_POSTGRES_URL"
        )
    folder = Path(tempfile.mkdtemp(prefix="campaign-pg-"))
    data = folder / "data"
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    port = _free_port()
    _run_as_owner(
        [
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-sync",
        ]
    )
    options = f"-p {port} -k {folder} -h 127.0.0.1 -F -c fsync=off -c max_connections=200"
    _run_as_owner(
        [
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-w",
            "-l",
            str(folder / "log"),
            "start",
        ]
    )
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        _run_as_owner([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"])
        shutil.rmtree(folder, ignore_errors=True)
