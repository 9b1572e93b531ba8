"""The administrator's commands for the console's accounts, and `serve`, which starts it.

A password is read from standard input (typed twice at a terminal, unseen; one line from a
pipe), never from the command line, where other users of the machine could read it."""

import getpass
import sys
from typing import Annotated, Any

import typer
from rich.table import Table

from cli.connection import engine_for, full_url, shown_url
from cli.parameters import DatabaseUrl
from cli.terminal import out
from models.accounts import Role
from models.db import transaction
from models.errors import CampaignError

users_app = typer.Typer(help="Accounts of the web console.", no_args_is_help=True)

Login = Annotated[str, typer.Argument(help="The account's login (the audit trail's actor).")]


def _password() -> str:
    """The new password, from standard input."""
    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise CampaignError("the two passwords differ; nothing changed")
        return first
    line = sys.stdin.readline()
    if not line:
        raise CampaignError("no password on standard input (pipe it, one line)")
    return line.rstrip("\r\n")


@users_app.command("add")
def users_add(
    login: Login,
    name: Annotated[str, typer.Option("--name", help="Full name, as pages show it.")],
    role: Annotated[Role, typer.Option("--role", help="What the account may do.")],
    unit: Annotated[str, typer.Option("--unit", help="Code of the unit it is bound to.")],
    database_url: DatabaseUrl = None,
) -> None:
    """Create an account bound to UNIT; it sees and acts on UNIT's subtree only.

    Roles: operator (a committee's office: reads, records facts, runs), secretary (a grassroots
    organisation or branch: reads its unit, records its facts), reviewer (reads and exports the
    audit trail; changes nothing). The password is read from standard input."""
    from campaign.access import add_account

    password = _password()
    with transaction(engine_for(database_url)) as session:
        add_account(session, login, full_name=name, role=role, unit=unit, password=password)
    out.print(f"account {login} ({role.value}, unit {unit}) created")


@users_app.command("list")
def users_list(database_url: DatabaseUrl = None) -> None:
    """Every account: login, name, role, unit, whether it is disabled or locked."""
    from campaign.access import list_accounts

    with transaction(engine_for(database_url)) as session:
        rows = list_accounts(session)
    table = Table("login", "name", "role", "unit", "state")
    for account, unit in rows:
        state = "disabled" if account.disabled else "locked" if account.locked_until else "active"
        table.add_row(account.login, account.full_name, account.role, unit.code, state)
    out.print(table)


@users_app.command("disable")
def users_disable(login: Login, database_url: DatabaseUrl = None) -> None:
    """Refuse every login of the account from now on and end its open sessions."""
    from campaign.access import disable_account

    with transaction(engine_for(database_url)) as session:
        disable_account(session, login)
    out.print(f"account {login} disabled")


@users_app.command("reset-password")
def users_reset_password(login: Login, database_url: DatabaseUrl = None) -> None:
    """Set a new password (from standard input); unlocks the account, ends its sessions."""
    from campaign.access import set_password

    password = _password()
    with transaction(engine_for(database_url)) as session:
        set_password(session, login, password)
    out.print(f"password of {login} changed; its other sessions are ended")


# Browsers keep a connection for a minute or more: a server that drops an idle one after
# uvicorn's default 5 s races a browser's next request on it ("server disconnected").
SERVER_OPTIONS: dict[str, Any] = {"log_level": "warning", "timeout_keep_alive": 75}


def serve_command(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            "--workers", min=1, help="Server processes (one per core serves the most pages)."
        ),
    ] = 1,
    database_url: DatabaseUrl = None,
) -> None:
    """Serve the web console (in Vietnamese) for the accounts of `users add`.

    Behind a reverse proxy that terminates HTTPS, sessions are sent over HTTPS only (set
    CAMPAIGN_CONSOLE_HTTPS=true)."""
    import os

    import uvicorn

    from campaign.access import console_key
    from web.console import create_app

    engine = engine_for(database_url)
    with transaction(engine) as session:
        console_key(session)  # made once, here, before any worker process reads it
    address = f"http://{host}:{port}/login"
    out.print(f"console of {shown_url(engine)} at {address} (Ctrl+C stops it)", soft_wrap=True)
    if workers == 1:
        uvicorn.run(create_app(engine), host=host, port=port, **SERVER_OPTIONS)
        return
    # Each worker process builds its own app from the settings' URL, passed in the environment
    # (never on a command line, where it would show its password).
    os.environ["CAMPAIGN_DATABASE_URL"] = full_url(engine)
    uvicorn.run(
        "web.console:app_of_settings",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        **SERVER_OPTIONS,
    )
