"""A local Prefect server for a batch of runs: far quicker than the temporary server Prefect
starts per process when no PREFECT_API_URL is set (FACTS.md: ~2 s a run instead of ~8 s)."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from prefect.events.worker import EventsWorker
from prefect.logging.handlers import APILogWorker
from prefect.settings import PREFECT_API_URL, temporary_settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def local_prefect_server(
    home: Path, *, ready: bool = True, database_url: str | None = None
) -> Iterator[str]:
    """Start `prefect server start` with its state under `home`; yield its API URL, the
    PREFECT_API_URL of this process (its settings and its environment, for its children);
    stop the server afterwards. The server keeps its records in SQLite under `home`, or in
    the database of `database_url` (`postgresql+asyncpg://…`, as Prefect recommends for
    production).

    The server takes 10-25 s to start (its migrations, the first time): with `ready=False` the
    URL is yielded as soon as it is started, so other work can overlap its start; call
    `wait_healthy(url)` before the first flow."""
    home = home.resolve()
    port = _free_port()
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }
    if database_url is not None:
        env["PREFECT_API_DATABASE_CONNECTION_URL"] = database_url
    prefect = str(Path(sys.executable).parent / "prefect")
    server = subprocess.Popen(
        [prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/api"
    saved = {k: os.environ.get(k) for k in ("PREFECT_API_URL", "PREFECT_HOME")}
    try:
        if ready:
            wait_healthy(url)
        os.environ.update(PREFECT_API_URL=url, PREFECT_HOME=str(home))
        # Prefect reads its settings once, when it is imported: the environment alone would
        # leave this process on a temporary server of its own.
        _restart_prefect_workers()
        with temporary_settings(updates={PREFECT_API_URL: url}):
            try:
                yield url
            finally:
                _restart_prefect_workers()  # what they hold goes to this server, still up
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        server.terminate()
        server.wait(30)


def _restart_prefect_workers() -> None:
    """Prefect's event and log workers keep the API they started with: stop them, sending what
    they hold, so the next event or log line starts one on the API now configured."""
    EventsWorker.drain_all(at_exit=False)
    APILogWorker.drain_all(at_exit=False)


def wait_healthy(url: str, seconds: float = 120) -> None:
    """Wait until the Prefect API at `url` answers its health check."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"the Prefect server at {url} did not become healthy")
