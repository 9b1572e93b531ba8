"""`campaign serve`: the console served by the real command, one process or several."""

import os
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.cli_process import CAMPAIGN


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_answers_with_one_process_or_several(tmp_path: Path, workers: int) -> None:
    url = f"sqlite:///{tmp_path / 'console.db'}"
    port = _free_port()
    env = {**os.environ, "CAMPAIGN_DATABASE_URL": url}
    command = [CAMPAIGN, "serve", "--port", str(port), "--workers", str(workers)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 90
        pages: list[int] = []
        while len(pages) < 4:
            assert server.poll() is None, server.communicate()
            assert time.monotonic() < deadline, "campaign serve did not answer"
            try:
                pages.append(httpx.get(f"http://127.0.0.1:{port}/login").status_code)
            except httpx.TransportError:
                time.sleep(0.2)
        assert pages == [200] * 4
        # An anonymous visitor gets nothing but the login page.
        response = httpx.get(f"http://127.0.0.1:{port}/campaigns/X")
        assert response.status_code == 303 and response.headers["location"] == "/login"
    finally:
        server.terminate()
        out, _err = server.communicate(timeout=30)
    assert b"console of sqlite:///" in out
