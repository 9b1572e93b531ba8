"""`docs`: every document a campaign issued, written to a folder, one folder per unit."""

from pathlib import Path
from typing import Annotated

import typer

from cli.connection import engine_for
from cli.parameters import Actor, CampaignCode, DatabaseUrl
from cli.terminal import out, progress_bar
from models.db import transaction


def docs_command(
    campaign: CampaignCode,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the documents into.")],
    database_url: DatabaseUrl = None,
    actor: Actor = None,
) -> None:
    """Write every document the campaign issued, one folder per unit, with index.html."""
    from campaign.docs import write_documents

    with transaction(engine_for(database_url)) as session, progress_bar() as bar:
        job = bar.add_task(f"writing {campaign}'s documents", total=None)

        def written_so_far(done: int, total: int) -> None:
            bar.update(job, completed=done, total=total)

        written = write_documents(session, campaign, out_dir, written_so_far)
    out.print(
        f"{len(written):,} documents written to {out_dir}, each as HTML and Markdown "
        f"(open {out_dir / 'index.html'} in a browser; index.md lists the Markdown)"
    )
