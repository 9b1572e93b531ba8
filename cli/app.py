"""The operator's command line, `campaign`: its commands and groups of commands, registered in
the order its help lists them, and `main`, where errors become exit codes.

Each command parses its options, calls one function of the campaign's logic and prints; the
commands live by topic (`inputs`, `running`, `issued_documents`, `audit_trail`, `database`),
their shared options in `parameters`, their tables in `printing`.

Errors become exit codes in one place, `main`: 1 for a refusal (with `error: …` lines), 2 for a
usage error, never a traceback."""

import sys
from typing import NoReturn

import typer
from sqlalchemy.exc import SQLAlchemyError

from cli import audit_trail, database, history, inputs, issued_documents, running, users
from models.errors import CampaignError

app = typer.Typer(
    help="Run political-activity campaigns down a party organisation.\n\n"
    "Typical order: db init → units import → members import → plan register → "
    "facts import → run → status / escalations / audit / docs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="markdown",
)
app.command("run")(running.run_command)
app.command("runs")(running.runs_command)
app.command("status")(running.status_command)
app.command("escalations")(running.escalations_command)
app.command("forecast")(running.forecast_command)
app.command("docs")(issued_documents.docs_command)
app.command("generate")(inputs.generate_command)
app.command("serve")(users.serve_command)
app.add_typer(database.db_app, name="db")
app.add_typer(inputs.units_app, name="units")
inputs.units_app.command("history")(history.units_history_command)
inputs.members_app.command("history")(history.members_history_command)
app.add_typer(inputs.members_app, name="members")
app.add_typer(inputs.plan_app, name="plan")
app.add_typer(inputs.facts_app, name="facts")
app.add_typer(audit_trail.audit_app, name="audit")
app.add_typer(inputs.calendar_app, name="calendar")
app.add_typer(users.users_app, name="users")


def main() -> None:
    """Entry point of `campaign`: run the command, map every failure to its exit code.

    Typer already exits 2 on a usage error; what it lets through is ours to report."""
    try:
        app()
    except CampaignError as exc:
        _fail(exc.lines())
    except SQLAlchemyError as exc:
        _fail([f"database: {str(exc).splitlines()[0]}"])
    except OSError as exc:
        _fail([f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")])
    except Exception as exc:  # a bug of ours: still one line, never a traceback
        _fail([f"internal error ({type(exc).__name__}: {exc}); please report it"])


def _fail(lines: list[str]) -> NoReturn:
    for line in lines:
        print(f"error: {line}", file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
    main()
