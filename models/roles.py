"""PostgreSQL roles: an owner role migrates the schema (`campaign db init`); an everyday role
runs, imports and serves the console, granted only what that needs.

On the audit the everyday role may only read and append (and move a chain's head row, or make a
new chain's, which appends do): it is not the owner of `audit_event`, so it can neither alter,
disable nor drop the triggers that refuse UPDATE, DELETE and TRUNCATE, and it holds none of those
privileges either.
Every other table it may read and write; sequences it may use."""

from sqlalchemy import text
from sqlalchemy.orm import Session

from models.errors import NotFound, OutOfScope

# What the everyday role may do on each table; any table not named here gets EVERYDAY.
LIMITED = {
    "audit_event": "SELECT, INSERT",
    "audit_head": "SELECT, INSERT, UPDATE",  # INSERT: a new chain's head row
    "alembic_version": "SELECT",
}
EVERYDAY = "SELECT, INSERT, UPDATE, DELETE"


def grant_everyday(session: Session, role: str) -> list[str]:
    """Grant `role` exactly the everyday privileges on this database's tables (revoking any
    other it held on them); returns the statements run. Run as the owner, after migrating."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        raise OutOfScope(
            "roles are PostgreSQL's: a SQLite file is guarded by who may write the file"
        )
    _check_everyday(session, role)
    quote = connection.dialect.identifier_preparer.quote
    schema = quote(str(session.scalar(text("SELECT current_schema()"))))
    database = quote(str(session.scalar(text("SELECT current_database()"))))
    tables = session.scalars(
        text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1")
    ).all()
    who = quote(role)
    statements = [
        f"GRANT CONNECT, TEMPORARY ON DATABASE {database} TO {who}",
        f"GRANT USAGE ON SCHEMA {schema} TO {who}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {who}",
        *(f"GRANT {LIMITED.get(t, EVERYDAY)} ON {schema}.{quote(t)} TO {who}" for t in tables),
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {who}",
    ]
    for statement in statements:
        connection.exec_driver_sql(statement)
    return statements


def _check_everyday(session: Session, role: str) -> None:
    """Refuse a role that does not exist, or one the audit's guards could not hold back."""
    found = session.execute(
        text(
            "SELECT r.rolsuper, pg_has_role(r.oid, t.tableowner, 'USAGE') AS owner "
            "FROM pg_roles r, pg_tables t WHERE r.rolname = :role "
            "AND t.schemaname = current_schema() AND t.tablename = 'audit_event'"
        ),
        {"role": role},
    ).one_or_none()
    if found is None:
        raise NotFound(f"role {role} does not exist (or the schema is not migrated here)")
    if found.rolsuper or found.owner:
        what = "a superuser" if found.rolsuper else "the owner of audit_event (or acts as it)"
        raise OutOfScope(
            f"role {role} is {what}: the everyday role must be another role, one that cannot "
            "disable the audit's triggers"
        )
