"""Fixtures of the console's tests: the test town served with its accounts."""

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from tests.web.console_server import Console, add_accounts, serving


@pytest.fixture
def console(town: Engine) -> Iterator[Console]:
    """The test town's console, its accounts made (tests/web/console_server.py ACCOUNTS)."""
    add_accounts(town)
    with serving(town) as running:
        yield running
