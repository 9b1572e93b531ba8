"""The console served for real: uvicorn on a free local port, in a thread of the test, over the
test's database; and browsers-without-a-browser (httpx clients) logged in as its accounts."""

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import uvicorn
from sqlalchemy import Engine

from campaign.access import add_account
from models.accounts import Role
from models.db import transaction
from web.console import create_app

PASSWORD = "mat-khau-thu-nghiem"
# The town's accounts (tests/town.py): its office, the secretaries of B1 and of G2 (a
# grassroots organisation that is its own branch), the inspection committee.
ACCOUNTS = {
    "vp.thiuy": ("Văn phòng Thị ủy", Role.operator, "TOWN"),
    "bt.b1": ("Nguyễn Văn An", Role.secretary, "B1"),
    "bt.g2": ("Võ Thị Hà", Role.secretary, "G2"),
    "ubkt": ("Ủy ban Kiểm tra Thị ủy", Role.reviewer, "TOWN"),
    "bt.g1": ("Bí thư Đảng ủy phường Tân An", Role.secretary, "G1"),
}
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Console:
    """A running console: its address."""

    url: str

    def client(self) -> httpx.Client:
        """A client that keeps cookies, like a browser; redirects are left to the test."""
        return httpx.Client(base_url=self.url, follow_redirects=False, timeout=60)

    def login(self, login: str, password: str = PASSWORD) -> httpx.Client:
        """A client logged in as `login` (asserting the login worked)."""
        client = self.client()
        response = post_form(client, "/login", {"login": login, "password": password})
        assert response.status_code == 303, response.text
        return client


def csrf_of(client: httpx.Client, page: str = "/login") -> str:
    """The CSRF token of the session, as `page`'s forms carry it."""
    found = _TOKEN.search(client.get(page).text)
    assert found, f"no CSRF token on {page}"
    return found[1]


def post_form(
    client: httpx.Client, path: str, data: dict[str, str], *, token_from: str = "/login"
) -> httpx.Response:
    """Post `data` to `path` with the session's CSRF token, as a form of the console would."""
    return client.post(path, data={**data, "csrf_token": csrf_of(client, token_from)})


def add_accounts(engine: Engine) -> None:
    """The town's accounts, all with PASSWORD."""
    with transaction(engine) as session:
        for login, (name, role, unit) in ACCOUNTS.items():
            add_account(session, login, full_name=name, role=role, unit=unit, password=PASSWORD)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(engine: Engine, *, https: bool = False) -> Iterator[Console]:
    """The console of `engine`, served until the block ends (`https`: as behind a proxy that
    terminates HTTPS, its cookie marked Secure)."""
    port = _free_port()
    config = uvicorn.Config(
        create_app(engine, https=https), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the console did not start"
        time.sleep(0.02)
    try:
        yield Console(f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
