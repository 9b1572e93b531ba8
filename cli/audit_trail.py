"""The audit trail's commands: a campaign's trail (`campaign audit CODE`), `audit verify` that
proves nobody altered it, `audit head` that prints the head a reviewer keeps."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from cli.connection import engine_for
from cli.parameters import Actor, DatabaseUrl, Format, chosen_format, optional_day
from cli.terminal import out
from models.db import transaction

if TYPE_CHECKING:
    from models.views import AuditHeadView


class _TrailByDefault(TyperGroup):
    """`campaign audit CODE …` is `campaign audit trail CODE …`: a first word that names no
    subcommand is a campaign's code, or one of its options (`audit trail head` shows a campaign
    coded `head`)."""

    # Typed loosely: Typer's own Context and Command classes differ between its versions.
    def parse_args(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["trail", *args]
        return super().parse_args(ctx, args)


audit_app = typer.Typer(
    cls=_TrailByDefault,
    help="The audit trail: `campaign audit CODE` shows a campaign's trail, `audit verify` "
    "proves nobody altered it, `audit head` prints the head a reviewer keeps.",
    no_args_is_help=True,
)
KeptHeads = Annotated[
    list[str] | None,
    typer.Option(
        "--expect",
        help="A head kept from `audit head`, as SEQ:HASH; the trail must still hold it "
        "(repeatable).",
        metavar="SEQ:HASH",
    ),
]
KeptHeadsFile = Annotated[
    Path | None,
    typer.Option(
        "--expect-file",
        help="A file of kept heads: one SEQ:HASH or `audit head --format json` line each "
        "(blank lines and # comments allowed).",
        exists=True,
        dir_okay=False,
    ),
]


@audit_app.command("trail")
def audit_command(
    target: Annotated[str, typer.Argument(help="A campaign's code.")],
    unit: Annotated[str | None, typer.Option(help="A unit: its subtree and members.")] = None,
    member: Annotated[str | None, typer.Option(help="One member's events.")] = None,
    since: Annotated[
        str | None, typer.Option(help="Events dated on or after.", metavar="<date>")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Events dated on or before.", metavar="<date>")
    ] = None,
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            help="Only the events of this actor (an account's login, `system`, or a name "
            "given with --actor). --actor is who runs this command, as on every command.",
            metavar="<actor>",
        ),
    ] = None,
    format_: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
    database_url: DatabaseUrl = None,
    actor: Actor = None,
) -> None:
    """The audit trail of a campaign (also `campaign audit CODE`)."""
    from campaign.status import AuditFilter, audit_trail
    from cli.printing import write_audit

    engine = engine_for(database_url)
    where = AuditFilter(unit, member, optional_day(since), optional_day(until), actor=by)
    fmt = chosen_format(format_, ("table", "json", "csv"))
    with transaction(engine) as session:
        write_audit(out, audit_trail(session, target, where), fmt)


@audit_app.command("verify")
def audit_verify(
    expect: KeptHeads = None,
    expect_file: KeptHeadsFile = None,
    database_url: DatabaseUrl = None,
    actor: Actor = None,
) -> None:
    """Prove nobody altered the audit trail: recompute every hash chain (the main one and each
    partition's), check the checkpoints that bind them, and that the trail still holds every
    head kept outside the database (a chain recomputed whole verifies by itself)."""
    from states.audit_chain import read_kept_heads, verify_chains

    kept = [_kept_head(text) for text in expect or []]
    if expect_file is not None:
        kept += read_kept_heads(expect_file)
    with transaction(engine_for(database_url)) as session:
        verified = verify_chains(session, kept=kept)
    held = f", holds the {len(kept):,} kept heads" if kept else ""
    if verified.chains == 1:
        out.print(f"audit trail verified: {verified.events:,} events, chain intact{held}")
        return
    out.print(
        f"audit trail verified: {verified.events:,} events in {verified.chains:,} chains, "
        f"every chain intact, {_checkpoints(verified.checkpoints)}{held}"
    )


@audit_app.command("head")
def audit_head(
    format_: Format = "table", database_url: DatabaseUrl = None, actor: Actor = None
) -> None:
    """The main chain's head (last event, its hash and time; through the checkpoints it binds
    every partition's chain): keep it outside the database, and check it later with
    `campaign audit verify --expect SEQ:HASH`."""
    from cli.printing import print_audit_head
    from states.audit_chain import chain_head

    fmt = chosen_format(format_, ("table", "json"))
    with transaction(engine_for(database_url)) as session:
        head = chain_head(session)
    if fmt == "json":
        print(head.model_dump_json())
    else:
        print_audit_head(out, head)


def _checkpoints(count: int) -> str:
    return "1 checkpoint holds" if count == 1 else f"{count:,} checkpoints hold"


def _kept_head(text: str) -> "AuditHeadView":
    from states.audit_chain import parse_kept_head

    try:
        return parse_kept_head(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--expect") from exc
