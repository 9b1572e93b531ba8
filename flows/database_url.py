"""The database a flow works on. A flow's parameters are published by Prefect, so the URL a
flow receives names the database without its password: the process reads the real URL from the
CLI that started the flow (`DATABASE`), from `CAMPAIGN_DATABASE_URL`, or from a Prefect Secret
block."""

from contextvars import ContextVar
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from models.db import get_engine
from models.errors import OutOfScope
from models.settings import get_settings

# The real URL of the database, handed by the CLI to the flow it starts in this process (a
# flow's parameters are published by Prefect; this never is). Prefect runs a flow and its tasks
# in copies of the caller's context, which carry it.
DATABASE: ContextVar[str | None] = ContextVar("campaign_database", default=None)
HIDDEN = "***"


def database_name(url: str | None) -> str | None:
    """The URL as a flow's parameter may carry it: its password, if any, hidden."""
    if url is None:
        return None
    return _parsed(url).render_as_string(hide_password=True)


def refuse_password(url: str | None) -> None:
    """Refuse a flow parameter that carries a database password (Prefect would publish it)."""
    if url is not None and _parsed(url).password not in (None, HIDDEN):
        raise OutOfScope(
            f"the database URL given to the flow ({database_name(url)}) holds a password, which "
            "Prefect would publish with the flow run: give the flow the URL without it and set "
            "the real one in CAMPAIGN_DATABASE_URL where the flow runs, or in the Prefect "
            f"Secret block '{get_settings().database_secret_block}'"
        )


def real_url(named: str | None) -> str:
    """The URL to connect with to the database `named` (default: the configured one): `named`
    itself unless its password is hidden; then the configured URL of that name, from the CLI
    that started this flow, `CAMPAIGN_DATABASE_URL`, or the Prefect Secret block."""
    if named is None:
        return DATABASE.get() or _configured() or get_settings().database_url
    if _parsed(named).password != HIDDEN:
        return named
    for candidate in (DATABASE.get(), _configured(), _secret_url()):
        if candidate and database_name(candidate) == named:
            return candidate
    raise OutOfScope(
        f"the password of database {named} is not known here: set CAMPAIGN_DATABASE_URL where "
        f"the flow runs, or the Prefect Secret block '{get_settings().database_secret_block}'"
    )


def database(named: str | None) -> Engine:
    """The process's engine for the database `named` (as `real_url` finds its URL)."""
    return get_engine(real_url(named))


def _parsed(url: str) -> Any:
    try:
        return make_url(url)
    except ArgumentError as exc:  # the message quotes the URL: never repeat it
        raise OutOfScope("the database URL is not a valid SQLAlchemy URL") from exc


def _configured() -> str | None:
    """`CAMPAIGN_DATABASE_URL` (or .env), when it is set."""
    settings = get_settings()
    return settings.database_url if "database_url" in settings.model_fields_set else None


@lru_cache
def _secret_url() -> str | None:
    """The URL in the Prefect Secret block, if there is one (read once per process)."""
    from prefect.blocks.system import Secret

    try:
        block: Any = Secret.load(get_settings().database_secret_block)  # sync: no event loop
        return str(block.get())
    except (ValueError, RuntimeError):  # no such block
        return None
