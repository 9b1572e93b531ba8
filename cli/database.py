"""The database's own commands: create or migrate its schema, back it up and restore it
(SQLite), grant PostgreSQL's everyday role what it needs."""

from pathlib import Path
from typing import Annotated

import typer

from cli.connection import connected_engine, database_url_or_default, engine_for, shown_url
from cli.parameters import Actor, DatabaseUrl, existing_file
from cli.terminal import out
from models.db import migrate, transaction

db_app = typer.Typer(help="The campaign database.", no_args_is_help=True)


@db_app.command("init")
def db_init(database_url: DatabaseUrl = None, actor: Actor = None) -> None:
    """Create the schema, or migrate it to the newest revision."""
    engine = connected_engine(database_url)
    revision = migrate(engine)
    out.print(f"database ready at {shown_url(engine)} (schema revision {revision})")


@db_app.command("backup")
def db_backup(
    file: Annotated[Path, typer.Argument(help="The backup file to write.", dir_okay=False)],
    force: Annotated[bool, typer.Option("--force", help="Overwrite FILE if it exists.")] = False,
    database_url: DatabaseUrl = None,
    actor: Actor = None,
) -> None:
    """Copy the database into FILE, consistent while runs go on writing (SQLite's online
    backup); prints the audit head it holds, to keep beside it.

    On PostgreSQL a backup is `pg_dump`'s (see the README)."""
    from campaign.backup import backup_database

    made = backup_database(database_url_or_default(database_url), file, force=force)
    out.print(
        f"backup written to {made.file} ({made.bytes:,} bytes); it holds the audit trail up to "
        f"event {made.seq:,}, hash {made.hash}",
        soft_wrap=True,
    )


@db_app.command("restore")
def db_restore(
    file: Annotated[Path, existing_file("A backup from `db backup`.")],
    database_url: DatabaseUrl = None,
    actor: Actor = None,
) -> None:
    """Replace the database with the backup in FILE, once its schema and its audit chain are
    verified; a backup that does not verify is refused and the database left as it was.

    On PostgreSQL a restore is `pg_restore`'s (see the README)."""
    from campaign.backup import restore_database

    done = restore_database(database_url_or_default(database_url), file)
    out.print(
        f"restored {file} into {done.file}: {done.events:,} audit events verified, chain intact, "
        f"head event {done.seq:,}, hash {done.hash}",
        soft_wrap=True,
    )


@db_app.command("grant")
def db_grant(
    role: Annotated[str, typer.Argument(help="The everyday PostgreSQL role; it must exist.")],
    database_url: DatabaseUrl = None,
    actor: Actor = None,
) -> None:
    """Grant the everyday role what runs, imports and the console need, and no more.

    On the audit only SELECT and INSERT (and SELECT, INSERT, UPDATE on the chains' head rows), so
    it cannot alter, disable or get past the triggers that keep the trail append-only. Run it with
    the owner's URL after every `db init`: a table (or sequence) a migration adds is not granted
    until then."""
    from models.roles import grant_everyday

    engine = engine_for(database_url)
    with transaction(engine) as session:
        statements = grant_everyday(session, role)
    out.print(
        f"granted {role} its everyday privileges on {shown_url(engine)} "
        f"({len(statements)} statements)"
    )
