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


_START_ATTEMPTS = 5


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_as_owner(args: list[str]) -> None:
    # initdb and postgres refuse to run as root: run them as the `postgres` system user then.
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--", *args]
    subprocess.run(args, check=True, capture_output=True, text=True)


def _start(bindir: Path, data: Path, folder: Path) -> int:
    """Start the cluster of `data` on a free port; return the port. Another process (a second
    pytest-xdist worker starting its own cluster, a Prefect server) may take the port between
    `_free_port` and the server's bind: then start again on another one."""
    log = folder / "log"
    for _ in range(_START_ATTEMPTS):
        port = _free_port()
        log.unlink(missing_ok=True)
        options = f"-p {port} -k {folder} -h 127.0.0.1 -F -c fsync=off -c max_connections=200"
        command = [str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-l", str(log)]
        try:
            _run_as_owner([*command, "start"])
        except subprocess.CalledProcessError as exc:
            said = log.read_text(errors="replace") if log.exists() else ""
            if "already in use" in said:
                continue
            raise RuntimeError(f"PostgreSQL did not start: {exc.stderr}{said}") from exc
        return port
    raise RuntimeError(f"PostgreSQL found no free port in {_START_ATTEMPTS} attempts")


@contextmanager
def throwaway_cluster() -> Iterator[str]:
    """Start a cluster in a temporary folder of its own, on a free port; yield its admin URL;
    stop and remove it. Each caller (each pytest-xdist worker) gets a cluster of its own."""
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
    try:
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
        port = _start(bindir, data, folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        _run_as_owner([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"])
        shutil.rmtree(folder, ignore_errors=True)
