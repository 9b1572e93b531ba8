"""The database a command works on: its URL read, a connection tried, the schema migrated.

A URL that cannot be read, has no driver or leads nowhere is one `error: --database-url …` line,
its password hidden."""

from sqlalchemy import Engine

from models.db import get_engine, migrate
from models.errors import CampaignError
from models.settings import get_settings


def engine_for(database_url: str | None) -> Engine:
    """The engine of the chosen database, its schema brought up to date."""
    engine = connected_engine(database_url)
    migrate(engine)
    return engine


def connected_engine(database_url: str | None) -> Engine:
    """The engine of `database_url` once a connection to it works; a URL that cannot be read,
    has no driver or leads nowhere is one `error: --database-url …` line, its password
    hidden (the drivers' errors are as varied as the drivers, hence the broad except)."""
    from sqlalchemy.engine import make_url

    url = database_url_or_default(database_url)
    try:
        parsed = make_url(url)
    except Exception as exc:  # the raw text may hold a password: not shown
        message = "--database-url: not a database URL (dialect://user:password@host/name)"
        raise CampaignError(message) from exc
    shown = parsed.render_as_string(hide_password=True)
    try:
        engine = get_engine(database_url)
        with engine.connect():
            pass
    except Exception as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0:1] or ["failed"]
        password = parsed.password or ""
        text = reason[0].replace(password, "***") if len(password) > 3 else reason[0]
        raise CampaignError(f"--database-url {shown}: {type(exc).__name__}: {text}") from exc
    return engine


def shown_url(engine: Engine) -> str:
    """The engine's URL as an operator may see it: its password hidden."""
    return engine.url.render_as_string(hide_password=True)


def full_url(engine: Engine) -> str:
    """The engine's URL with its password, for code that connects again (never printed)."""
    return engine.url.render_as_string(hide_password=False)


def database_url_or_default(database_url: str | None) -> str:
    """`--database-url` as given, else the settings' (for commands that open the file
    themselves)."""
    return database_url or get_settings().database_url
